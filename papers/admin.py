"""The editors' admin: review and correct what the pipeline made, publish digests."""

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag as TaggitTag

from papers import tasks
from papers.models import (
    SUMMARY_FIELDS,
    Digest,
    DigestEntry,
    ErrorReport,
    Figure,
    Paper,
    PipelineRun,
    Status,
    Summary,
    Tag,
    Topic,
    TopicPaper,
)


def lock_if_edited(form, summary: Summary, user) -> None:
    """An editor's change to any summary field locks the summary against the pipeline."""
    if summary.locked:
        return
    if any(name in form.changed_data for name in SUMMARY_FIELDS):
        summary.lock(user)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "language",
        "auto_publish",
        "active",
        "paper_count",
        "last_run",
    )
    list_filter = ("active", "language", "auto_publish")
    search_fields = ("name", "slug", "query")
    prepopulated_fields = {"slug": ("name",)}
    actions = ("run_now",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "language", "active", "auto_publish")}),
        (
            _("arXiv query"),
            {
                "fields": (
                    "query",
                    "categories",
                    "exclude_terms",
                    "exclude_categories",
                    "max_results",
                )
            },
        ),
        (_("Summaries"), {"fields": ("summarizer",)}),
    )

    def get_queryset(self, request):
        runs = PipelineRun.objects.filter(topic=OuterRef("pk")).order_by("-started_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                paper_count=Count("topic_papers", distinct=True),
                last_run_status=Subquery(runs.values("status")[:1]),
                last_run_at=Subquery(runs.values("started_at")[:1]),
            )
        )

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, topic: Topic) -> int:
        return topic.paper_count

    @admin.display(description=_("last run"), ordering="last_run_at")
    def last_run(self, topic: Topic) -> str:
        """Failed and stalled runs stand out: editors must see a topic that stopped working."""
        if topic.last_run_at is None:
            return "-"
        age = timezone.now() - topic.last_run_at
        when = topic.last_run_at.strftime("%Y-%m-%d %H:%M")
        if topic.last_run_status == PipelineRun.State.FAILED:
            return format_html('<strong style="color:#b00">failed</strong> {}', when)
        if topic.active and age.days >= 3:
            return format_html('<strong style="color:#b60">stalled</strong> {}', when)
        return f"{topic.last_run_status} {when}"

    @admin.action(description=_("Fetch now from arXiv"))
    def run_now(self, request, queryset):
        for topic in queryset:
            tasks.fetch_topic.delay(topic.pk)
        self.message_user(request, _("Queued %d topic(s).") % queryset.count(), messages.SUCCESS)


class SummaryInline(admin.StackedInline):
    model = Summary
    extra = 0
    fields = (
        "language",
        "locked",
        "stale",
        "tldr",
        "key_takeaways",
        "title_translation",
        "affiliations",
        "keywords",
        "links",
        "background",
        "prior_work",
        "method",
        "results",
        "method_steps",
        "significance",
        "assessment",
        "warnings",
        "backend",
        "model",
        "generated_at",
    )
    readonly_fields = ("stale", "warnings", "backend", "model", "generated_at")


class FigureInline(admin.TabularInline):
    model = Figure
    extra = 0
    fields = ("preview", "order", "page", "caption", "hidden")
    readonly_fields = ("preview",)

    @admin.display(description=_("figure"))
    def preview(self, figure: Figure) -> str:
        if not figure.pk:
            return "-"
        return format_html(
            '<a href="{}"><img src="{}" alt="" style="max-height:80px;max-width:160px"></a>',
            figure.url,
            figure.thumbnail_url,
        )


class TopicPaperInline(admin.TabularInline):
    model = TopicPaper
    extra = 0
    fields = ("topic", "matched_terms", "first_seen")
    readonly_fields = ("matched_terms", "first_seen")


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ("arxiv_id", "short_title", "status", "state", "version", "published")
    list_filter = ("status", "state", "topics", "primary_category")
    search_fields = ("arxiv_id", "title", "authors_text")
    date_hierarchy = "published"
    inlines = (SummaryInline, FigureInline, TopicPaperInline)
    actions = ("publish", "hide", "retry", "regenerate_summaries")
    readonly_fields = (
        "arxiv_id",
        "versions_seen",
        "title_raw",
        "state",
        "last_error",
        "attempts",
        "next_attempt_at",
        "page_count",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("arxiv_id", "version", "versions_seen", "title", "status", "tags")}),
        (
            _("Metadata"),
            {
                "fields": (
                    "authors",
                    "abstract",
                    "comment",
                    "journal_ref",
                    "doi",
                    "primary_category",
                    "categories",
                    "published",
                    "updated",
                    "abs_url",
                    "pdf_url",
                    "license",
                    "content_permission",
                )
            },
        ),
        (
            _("Pipeline"),
            {
                "fields": (
                    "state",
                    "last_error",
                    "attempts",
                    "next_attempt_at",
                    "page_count",
                    "affiliations",
                    "title_raw",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, paper: Paper) -> str:
        return paper.title[:90]

    def save_formset(self, request, form, formset, change):
        if formset.model is Summary:
            for inline_form in formset.forms:
                if inline_form.instance.pk and inline_form.has_changed():
                    lock_if_edited(inline_form, inline_form.instance, request.user)
        super().save_formset(request, form, formset, change)

    @admin.action(description=_("Publish"))
    def publish(self, request, queryset):
        for paper in queryset:
            paper.status = Status.PUBLISHED
            paper.save()
        self.message_user(request, _("Published %d paper(s).") % queryset.count())

    @admin.action(description=_("Hide"))
    def hide(self, request, queryset):
        for paper in queryset:
            paper.status = Status.HIDDEN
            paper.save()
        self.message_user(request, _("Hid %d paper(s).") % queryset.count())

    @admin.action(description=_("Retry the pipeline (download, extract, summarize)"))
    def retry(self, request, queryset):
        for paper in queryset:
            Paper.objects.filter(pk=paper.pk).update(
                state=Paper.State.FETCHED, attempts=0, next_attempt_at=None
            )
            tasks.process_paper.delay(paper.pk)
        self.message_user(request, _("Queued %d paper(s) for processing.") % queryset.count())

    @admin.action(description=_("Regenerate summaries (locked ones are kept)"))
    def regenerate_summaries(self, request, queryset):
        from papers import pipeline

        for paper in queryset:
            pipeline.summarize_paper(paper)
        self.message_user(request, _("Regenerated the unlocked summaries."))


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ("paper", "language", "locked", "stale", "backend", "generated_at")
    list_filter = ("language", "locked", "stale", "backend")
    search_fields = ("paper__arxiv_id", "paper__title", "tldr")
    list_select_related = ("paper",)
    raw_id_fields = ("paper",)
    readonly_fields = (
        "backend",
        "model",
        "prompt_version",
        "generated_at",
        "input_digest",
        "tokens",
        "duration_ms",
        "source",
        "warnings",
        "locked_by",
        "locked_at",
    )

    def save_model(self, request, obj, form, change):
        if change:
            lock_if_edited(form, obj, request.user)
        super().save_model(request, obj, form, change)


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    list_display = ("paper", "order", "page", "caption", "hidden", "preview")
    list_filter = ("hidden",)
    list_editable = ("hidden",)
    search_fields = ("paper__arxiv_id", "caption")
    list_select_related = ("paper",)
    raw_id_fields = ("paper",)

    @admin.display(description=_("figure"))
    def preview(self, figure: Figure) -> str:
        return format_html(
            '<img src="{}" alt="" style="max-height:60px;max-width:120px">',
            figure.thumbnail_url,
        )


class DigestEntryInline(admin.TabularInline):
    model = DigestEntry
    extra = 0
    fields = ("position", "paper")
    raw_id_fields = ("paper",)
    ordering = ("position",)


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ("date", "topic", "status", "paper_count", "published_at")
    list_filter = ("status", "topic")
    date_hierarchy = "date"
    search_fields = ("title", "topic__name")
    list_select_related = ("topic",)
    raw_id_fields = ("cover",)
    inlines = (DigestEntryInline,)
    actions = ("publish", "unpublish")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("entries"))

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, digest: Digest) -> int:
        return digest.paper_count

    @admin.action(description=_("Publish (with its papers)"))
    def publish(self, request, queryset):
        for digest in queryset:
            digest.publish()
        self.message_user(request, _("Published %d digest(s).") % queryset.count())

    @admin.action(description=_("Unpublish"))
    def unpublish(self, request, queryset):
        for digest in queryset:
            digest.unpublish()
        self.message_user(request, _("Unpublished %d digest(s).") % queryset.count())


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = (
        "topic",
        "started_at",
        "status",
        "found",
        "new",
        "updated",
        "failed",
        "note",
    )
    list_filter = ("status", "topic")
    list_select_related = ("topic",)
    date_hierarchy = "started_at"

    def has_add_permission(self, request) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in PipelineRun._meta.fields]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "paper_count")
    list_filter = ("kind",)
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("tagged_papers"))

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, tag: Tag) -> int:
        return tag.paper_count


@admin.register(ErrorReport)
class ErrorReportAdmin(admin.ModelAdmin):
    list_display = ("paper", "created_at", "short_message", "resolved")
    list_filter = ("resolved",)
    search_fields = ("paper__arxiv_id", "message")
    list_select_related = ("paper",)
    raw_id_fields = ("paper", "summary")
    readonly_fields = ("created_at", "resolved_by", "resolved_at")
    actions = ("resolve",)

    @admin.display(description=_("message"))
    def short_message(self, report: ErrorReport) -> str:
        return report.message[:100]

    @admin.action(description=_("Mark resolved"))
    def resolve(self, request, queryset):
        count = queryset.filter(resolved=False).update(
            resolved=True, resolved_by=request.user, resolved_at=timezone.now()
        )
        self.message_user(request, _("Resolved %d report(s).") % count)


# The site uses its own Tag model (papers.Tag); taggit's default one stays unused.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)
