"""The editors' admin: review and correct what the pipeline made, publish digests.

Every list and form loads its related rows up front (select_related, prefetches, annotations),
so a page costs the same number of queries with ten rows or a thousand.
"""

import hashlib
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from taggit.models import Tag as TaggitTag

from papers import pipeline, tagging, tasks
from papers.admin import views as admin_views
from papers.admin.markdown import export_digests_action, import_digest_view
from papers.models import (
    SUMMARY_FIELDS,
    SUMMARY_TEXT_FIELDS,
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
    split_arxiv_id,
)

admin.site.site_header = _("%(site)s: editors") % {"site": settings.SITE_NAME}
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = _("Editors' desk")

THUMBNAIL = '<img src="{}" alt="" loading="lazy" style="max-height:{}px;max-width:{}px">'


def thumbnail(figure: Figure, height: int = 80, width: int = 160) -> str:
    return format_html(THUMBNAIL, figure.thumbnail_url, height, width)


def lock_if_edited(form, summary: Summary, user) -> None:
    """An editor's change to any summary field locks the summary against the pipeline."""
    if summary.locked:
        return
    if any(name in form.changed_data for name in SUMMARY_FIELDS):
        summary.lock(user)


# Summaries: list fields edited as one item per line.


class LinesField(forms.Field):
    """A JSON list of strings, edited as one item per line."""

    def __init__(self, *args, rows: int = 4, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "cols": 80}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(self.item_text(item) for item in value)
        return value or ""

    def item_text(self, item) -> str:
        return str(item)

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [
            self.parse_line(line.strip()) for line in (value or "").splitlines() if line.strip()
        ]

    def parse_line(self, line: str):
        return line


class LinksField(LinesField):
    """Links as `label URL` lines (the URL is the last word)."""

    def item_text(self, item) -> str:
        if isinstance(item, dict):
            return f"{item.get('label', '')} {item.get('url', '')}".strip()
        return str(item)

    def parse_line(self, line: str) -> dict:
        label, _space, url = line.rpartition(" ")
        if not re.match(r"^https?://\S+$", url):
            raise ValidationError(
                _("Write each link as a label and then its http(s) URL: %(line)s"),
                params={"line": line},
            )
        return {"label": label.strip(), "url": url}


SUMMARY_EDIT_FIELDS = (
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
)


class SummaryForm(forms.ModelForm):
    key_takeaways = LinesField(label=_("Key takeaways"), help_text=_("One per line"), rows=5)
    affiliations = LinesField(label=_("Affiliations"), help_text=_("One per line"), rows=3)
    keywords = LinesField(label=_("Keywords"), help_text=_("One per line"), rows=3)
    method_steps = LinesField(label=_("Method steps"), help_text=_("One per line, in order"))
    links = LinksField(
        label=_("Links"),
        help_text=_("One per line: a label, then the URL (Code https://github.com/...)"),
        rows=3,
    )

    class Meta:
        model = Summary
        fields = ("paper", "language", *SUMMARY_EDIT_FIELDS, "stale", "locked")
        widgets = {
            name: forms.Textarea(attrs={"rows": 2 if name == "tldr" else 4, "cols": 80})
            for name in SUMMARY_TEXT_FIELDS
        }


def compare_link(summary: Summary) -> str:
    if not summary.pk:
        return "-"
    return format_html(
        '<a href="{}">{}</a> · <a href="{}">{}</a>',
        reverse("admin:papers_summary_compare", args=[summary.pk]),
        _("Machine text next to the current text"),
        reverse("admin:papers_summary_history", args=[summary.pk]),
        _("History"),
    )


def lock_state(summary: Summary) -> str:
    if not summary.locked:
        return _("Not locked: the pipeline may rewrite it")
    who = summary.locked_by.get_username() if summary.locked_by_id else _("an editor")
    when = summary.locked_at.strftime("%Y-%m-%d %H:%M") if summary.locked_at else ""
    return _("Locked by %(who)s %(when)s") % {"who": who, "when": when}


# Topics


QUERY_FIELDS = ("query", "categories", "exclude_terms", "exclude_categories")


class TopicForm(forms.ModelForm):
    """A changed query is saved only after the editor has seen its dry run.

    The first save runs the dry run and refuses with the results on the page; the hidden field then
    carries a fingerprint of the query that was tried, so saving the same query again goes through.
    """

    dry_run_of = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Topic
        fields = (
            "name",
            "slug",
            "description",
            "language",
            "active",
            "auto_publish",
            *QUERY_FIELDS,
            "max_results",
            "summarizer",
        )

    dry_run: admin_views.DryRun | None = None

    def query_fingerprint(self) -> str:
        values = [str(self.cleaned_data.get(name, "")) for name in QUERY_FIELDS]
        return hashlib.sha256("\x00".join(values).encode()).hexdigest()[:32]

    def clean(self):
        cleaned = super().clean()
        query_changed = self.instance.pk is None or any(
            name in self.changed_data for name in QUERY_FIELDS
        )
        if self.errors or not query_changed:
            return cleaned
        fingerprint = self.query_fingerprint()
        if cleaned.get("dry_run_of") == fingerprint:
            return cleaned
        trial = Topic(**{name: cleaned.get(name, "") for name in QUERY_FIELDS})
        self.dry_run = admin_views.dry_run(trial)
        self.data = self.data.copy()
        self.data[self.add_prefix("dry_run_of")] = fingerprint
        raise ValidationError(
            _(
                "Check what this query matched over the last %(days)d days (below), "
                "then save again to keep it."
            ),
            params={"days": admin_views.DRY_RUN_DAYS},
        )


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicForm
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
                "description": _(
                    "A changed query is saved only after a dry run: what it matched on arXiv "
                    "over the last week. Nothing is stored by the dry run."
                ),
                "fields": (
                    "query",
                    "categories",
                    "exclude_terms",
                    "exclude_categories",
                    "max_results",
                    "dry_run_of",
                ),
            },
        ),
        (_("Summaries"), {"fields": ("summarizer",)}),
    )

    def get_urls(self):
        info = self.opts.app_label
        extra = [
            path(
                "today/",
                self.admin_site.admin_view(self.today_view),
                name=f"{info}_today",
            )
        ]
        return extra + super().get_urls()

    def today_view(self, request):
        return admin_views.today_view(request, self)

    def get_queryset(self, request):
        return admin_views.topics_with_last_run().annotate(
            paper_count=Count("topic_papers", distinct=True)
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        adminform = context.get("adminform")
        context["dry_run"] = getattr(adminform.form, "dry_run", None) if adminform else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, topic: Topic) -> int:
        return topic.paper_count

    @admin.display(description=_("last run"), ordering="last_run_at")
    def last_run(self, topic: Topic) -> str:
        """Failed and stalled runs stand out: editors must see a topic that stopped working."""
        health = admin_views.run_health(
            topic.active, topic.last_run_status, topic.last_run_at, timezone.now()
        )
        if topic.last_run_at is None:
            return format_html('<strong class="run-{}">{}</strong>', health, _("never run"))
        when = topic.last_run_at.strftime("%Y-%m-%d %H:%M")
        if health in ("failed", "stalled"):
            label = _("failed") if health == "failed" else _("stalled")
            return format_html(
                '<strong class="run-{}" style="color:#b00">{}</strong> {}', health, label, when
            )
        return f"{topic.last_run_status} {when}"

    @admin.action(description=_("Fetch now from arXiv"))
    def run_now(self, request, queryset):
        count = 0
        for topic in queryset:
            tasks.fetch_topic.delay(topic.pk)
            count += 1
        self.message_user(request, _("Queued %d topic(s).") % count, messages.SUCCESS)


# Papers


class SummaryInline(admin.StackedInline):
    model = Summary
    form = SummaryForm
    extra = 0
    fields = ("language", "lock_info", "compare", "warnings", *SUMMARY_EDIT_FIELDS)
    readonly_fields = ("lock_info", "compare", "warnings")

    def get_queryset(self, request):
        # The inline shows str(summary), which names the paper.
        return super().get_queryset(request).select_related("paper", "locked_by")

    @admin.display(description=_("lock"))
    def lock_info(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        stale = _(" · written for an earlier version") if summary.stale else ""
        return f"{lock_state(summary)}{stale}"

    @admin.display(description=_("compare"))
    def compare(self, summary: Summary) -> str:
        return compare_link(summary)


class FigureInlineFormSet(forms.BaseInlineFormSet):
    """Orders stay unique per paper (the formset refuses duplicates); a swap is saved in two
    passes so it never trips the database constraint."""

    def save(self, commit=True):
        if commit:
            self.park_moved_figures()
        return super().save(commit)

    def park_moved_figures(self) -> None:
        """First pass: move figures whose order changes (or that go) out of the way."""
        moving = [
            form.instance.pk
            for form in self.initial_forms
            if form.instance.pk and ("order" in form.changed_data or self._should_delete_form(form))
        ]
        for pk in moving:
            Figure.objects.filter(pk=pk).update(order=1_000_000 + pk)


class FigureInline(admin.TabularInline):
    model = Figure
    formset = FigureInlineFormSet
    extra = 0
    fields = ("preview", "order", "page", "caption", "hidden")
    readonly_fields = ("preview",)
    ordering = ("order", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("paper")

    def has_add_permission(self, request, obj=None) -> bool:
        # Figures come from the PDF; editors hide, reorder and caption them.
        return False

    @admin.display(description=_("figure"))
    def preview(self, figure: Figure) -> str:
        if not figure.pk:
            return "-"
        return format_html('<a href="{}">{}</a>', figure.url, thumbnail(figure))


class TopicPaperInline(admin.TabularInline):
    model = TopicPaper
    extra = 0
    fields = ("topic", "matched_terms", "first_seen")
    readonly_fields = ("topic", "matched_terms", "first_seen")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("topic", "paper")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Paper)
class PaperAdmin(SimpleHistoryAdmin):
    list_display = (
        "arxiv_id",
        "short_title",
        "status",
        "state",
        "topic_names",
        "summary_flags",
        "version",
        "published",
    )
    list_display_links = ("arxiv_id", "short_title")
    list_editable = ("status",)
    list_filter = ("status", "state", "topics", "primary_category")
    search_fields = ("arxiv_id", "title", "authors_text")
    date_hierarchy = "published"
    inlines = (SummaryInline, FigureInline, TopicPaperInline)
    actions = (
        "publish",
        "send_to_review",
        "hide",
        "retry",
        "regenerate_summaries",
        "regenerate_discarding_locks",
    )
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
        "links",
    )
    fieldsets = (
        (
            None,
            {"fields": ("arxiv_id", "links", "title", "status", "tags", "abstract", "comment")},
        ),
        (
            _("Metadata"),
            {
                "classes": ("collapse",),
                "fields": (
                    "version",
                    "versions_seen",
                    "authors",
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
                ),
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

    def get_queryset(self, request):
        summaries = Summary.objects.only("id", "paper_id", "language", "locked", "stale")
        return (
            super()
            .get_queryset(request)
            .prefetch_related("topics", Prefetch("summaries", queryset=summaries))
        )

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, paper: Paper) -> str:
        return paper.title[:90]

    @admin.display(description=_("topics"))
    def topic_names(self, paper: Paper) -> str:
        return ", ".join(topic.name for topic in paper.topics.all())

    @admin.display(description=_("summary"))
    def summary_flags(self, paper: Paper) -> str:
        parts = []
        for summary in paper.summaries.all():
            flags = [summary.language]
            if summary.locked:
                flags.append(str(_("locked")))
            if summary.stale:
                flags.append(str(_("stale")))
            parts.append(" ".join(flags))
        return "; ".join(parts) or "-"

    @admin.display(description=_("links"))
    def links(self, paper: Paper) -> str:
        public = ""
        if paper.pk and paper.is_published:
            public = format_html(
                ' · <a href="{}">{}</a>', paper.get_absolute_url(), _("public page")
            )
        return format_html(
            '<a href="{}" rel="noopener">arXiv</a> · <a href="{}" rel="noopener">PDF</a>{}',
            paper.abs_url,
            paper.pdf_url,
            public,
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is Summary:
            for inline_form in formset.forms:
                if inline_form.instance.pk and inline_form.has_changed():
                    lock_if_edited(inline_form, inline_form.instance, request.user)
        super().save_formset(request, form, formset, change)

    def set_status(self, request, queryset, status: str) -> int:
        count = 0
        for paper in queryset:
            paper.status = status
            if status != Status.PUBLISHED:
                paper.published_at = None
            paper.save()
            count += 1
        return count

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish(self, request, queryset):
        count = self.set_status(request, queryset, Status.PUBLISHED)
        self.message_user(request, _("Published %d paper(s).") % count, messages.SUCCESS)

    @admin.action(description=_("Send back to review (off the site)"), permissions=["change"])
    def send_to_review(self, request, queryset):
        count = self.set_status(request, queryset, Status.REVIEW)
        self.message_user(request, _("%d paper(s) are in review.") % count, messages.SUCCESS)

    @admin.action(description=_("Hide"), permissions=["change"])
    def hide(self, request, queryset):
        count = self.set_status(request, queryset, Status.HIDDEN)
        self.message_user(request, _("Hid %d paper(s).") % count, messages.SUCCESS)

    @admin.action(
        description=_("Retry the pipeline (download, extract, summarize)"), permissions=["change"]
    )
    def retry(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        Paper.objects.filter(pk__in=ids).update(
            state=Paper.State.FETCHED, attempts=0, next_attempt_at=None
        )
        for paper_id in ids:
            transaction.on_commit(lambda pk=paper_id: tasks.process_paper.delay(pk))
        self.message_user(
            request, _("Queued %d paper(s) for processing.") % len(ids), messages.SUCCESS
        )

    def report_regenerated(self, request, done: int, errors: list[str]) -> None:
        self.message_user(request, _("Regenerated the summaries of %d paper(s).") % done)
        for error in errors:
            self.message_user(request, _("Failed: %s") % error, messages.ERROR)

    @admin.action(
        description=_("Regenerate summaries (editors' corrections are kept)"),
        permissions=["change"],
    )
    def regenerate_summaries(self, request, queryset):
        done, errors = pipeline.regenerate_summaries(queryset, discard_locks=False)
        self.report_regenerated(request, done, errors)

    @admin.action(
        description=_("Regenerate summaries, DISCARDING editors' corrections (asks first)"),
        permissions=["change"],
    )
    def regenerate_discarding_locks(self, request, queryset):
        if request.POST.get("confirm") == "yes":
            done, errors = pipeline.regenerate_summaries(queryset, discard_locks=True)
            self.report_regenerated(request, done, errors)
            return None
        papers = list(
            queryset.prefetch_related(
                Prefetch(
                    "summaries",
                    queryset=Summary.objects.filter(locked=True).select_related("locked_by"),
                    to_attr="locked_summaries",
                )
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Discard the editors' corrections?"),
            "opts": self.opts,
            "papers": papers,
            "locked_count": sum(len(p.locked_summaries) for p in papers),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "regenerate_discarding_locks",
        }
        return TemplateResponse(request, "admin/papers/paper/regenerate_confirmation.html", context)


# Summaries


@admin.register(Summary)
class SummaryAdmin(SimpleHistoryAdmin):
    form = SummaryForm
    list_display = (
        "paper",
        "language",
        "locked",
        "stale",
        "open_reports",
        "backend",
        "generated_at",
    )
    list_filter = ("language", "locked", "stale", "backend")
    search_fields = ("paper__arxiv_id", "paper__title", "tldr")
    list_select_related = ("paper",)
    raw_id_fields = ("paper",)
    readonly_fields = (
        "paper_abstract",
        "paper_figures",
        "reports",
        "lock_info",
        "compare",
        "backend",
        "model",
        "prompt_version",
        "generated_at",
        "input_digest",
        "tokens",
        "duration_ms",
        "source",
        "warnings",
    )
    fieldsets = (
        (None, {"fields": ("paper", "language", "lock_info", "compare", "reports")}),
        (_("The paper"), {"fields": ("paper_abstract", "paper_figures")}),
        (_("Summary"), {"fields": SUMMARY_EDIT_FIELDS}),
        (
            _("Provenance"),
            {
                "classes": ("collapse",),
                "fields": (
                    "stale",
                    "locked",
                    "warnings",
                    "backend",
                    "model",
                    "prompt_version",
                    "generated_at",
                    "input_digest",
                    "tokens",
                    "duration_ms",
                    "source",
                ),
            },
        ),
    )

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="papers_summary_compare",
            )
        ]
        return extra + super().get_urls()

    def compare_view(self, request, object_id):
        return admin_views.summary_compare_view(request, object_id, self)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("paper", "locked_by")
            .annotate(
                open_report_count=Count(
                    "error_reports", filter=Q(error_reports__resolved=False), distinct=True
                )
            )
        )

    def get_object(self, request, object_id, from_field=None):
        summary = super().get_object(request, object_id, from_field)
        if summary is not None:
            prefetch_related_objects(
                [summary],
                Prefetch("paper__figures", queryset=Figure.objects.order_by("order", "id")),
                Prefetch(
                    "error_reports",
                    queryset=ErrorReport.objects.filter(resolved=False).order_by("-created_at"),
                    to_attr="open_error_reports",
                ),
            )
        return summary

    @admin.display(description=_("open reports"), ordering="open_report_count")
    def open_reports(self, summary: Summary) -> int:
        return getattr(summary, "open_report_count", 0)

    @admin.display(description=_("abstract"))
    def paper_abstract(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        return format_html(
            '<p><a href="{}"><strong>{}</strong></a></p><p style="white-space:pre-line">{}</p>',
            reverse("admin:papers_paper_change", args=[summary.paper_id]),
            summary.paper.title,
            summary.paper.abstract,
        )

    @admin.display(description=_("figures"))
    def paper_figures(self, summary: Summary) -> str:
        if not summary.pk:
            return "-"
        figures = summary.paper.figures.all()
        return format_html_join(
            "",
            '<figure style="display:inline-block;margin:0 8px 8px 0;max-width:180px">'
            '<a href="{}">{}</a><figcaption>{}</figcaption></figure>',
            ((f.url, thumbnail(f), f.caption[:120]) for f in figures),
        ) or _("No figures")

    @admin.display(description=_("readers' reports"))
    def reports(self, summary: Summary) -> str:
        open_reports = getattr(summary, "open_error_reports", [])
        if not open_reports:
            return _("No open reports")
        return format_html_join(
            "",
            '<p><a href="{}">{}</a>: {}</p>',
            (
                (
                    reverse("admin:papers_errorreport_change", args=[r.pk]),
                    r.created_at.strftime("%Y-%m-%d"),
                    r.message[:300],
                )
                for r in open_reports
            ),
        )

    @admin.display(description=_("lock"))
    def lock_info(self, summary: Summary) -> str:
        return lock_state(summary) if summary.pk else "-"

    @admin.display(description=_("compare"))
    def compare(self, summary: Summary) -> str:
        return compare_link(summary)

    def save_model(self, request, obj, form, change):
        if change:
            lock_if_edited(form, obj, request.user)
        super().save_model(request, obj, form, change)


# Figures


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    list_display = ("paper", "order", "page", "caption", "hidden", "preview")
    list_filter = ("hidden",)
    list_editable = ("hidden",)
    search_fields = ("paper__arxiv_id", "caption")
    list_select_related = ("paper",)
    raw_id_fields = ("paper",)
    actions = ("hide", "show")
    # Crops live in private storage (no plain URL); they are shown through the figure views.
    fields = ("paper", "large_preview", "order", "page", "caption", "hidden", "source_url")
    readonly_fields = ("large_preview",)

    @admin.display(description=_("image"))
    def large_preview(self, figure: Figure) -> str:
        if not figure.pk:
            return "-"
        return format_html('<a href="{}">{}</a>', figure.url, thumbnail(figure, 300, 600))

    @admin.display(description=_("figure"))
    def preview(self, figure: Figure) -> str:
        return thumbnail(figure, 60, 120)

    @admin.action(description=_("Hide from the site"), permissions=["change"])
    def hide(self, request, queryset):
        for figure in queryset:
            figure.hidden = True
            figure.save()

    @admin.action(description=_("Show on the site"), permissions=["change"])
    def show(self, request, queryset):
        for figure in queryset:
            figure.hidden = False
            figure.save()


# Digests


class CoverChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, figure: Figure) -> str:
        return format_html(
            "{} <span>{} · {}</span>",
            thumbnail(figure, 90, 180),
            figure.paper.arxiv_id,
            figure.caption[:80] or _("figure %d") % figure.order,
        )


def parse_arxiv_ids(text: str) -> list[str]:
    ids, bad = [], []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        try:
            ids.append(split_arxiv_id(word)[0])
        except ValueError:
            bad.append(word)
    if bad:
        raise ValidationError(_("Not arXiv ids: %(ids)s"), params={"ids": ", ".join(bad)})
    return list(dict.fromkeys(ids))


class DigestForm(forms.ModelForm):
    add_papers = forms.CharField(
        required=False,
        label=_("Add papers"),
        help_text=_("arXiv ids, separated by spaces or commas; they go to the end of the digest"),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Digest
        fields = ("topic", "date", "title", "status", "intro", "cover")

    def clean_add_papers(self) -> list[Paper]:
        ids = parse_arxiv_ids(self.cleaned_data.get("add_papers") or "")
        if not ids:
            return []
        found = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationError(
                _("No stored paper has the id(s): %(ids)s"), params={"ids": ", ".join(missing)}
            )
        return [found[i] for i in ids]


class DigestEntryInline(admin.TabularInline):
    """The digest's papers: reorder by position, remove with the delete box; add via "Add papers"."""

    model = DigestEntry
    extra = 0
    fields = ("position", "paper_link", "paper_status")
    readonly_fields = ("paper_link", "paper_status")
    ordering = ("position", "id")
    verbose_name = _("paper")
    verbose_name_plural = _("papers (edit the positions to reorder)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("paper", "digest__topic")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("paper"))
    def paper_link(self, entry: DigestEntry) -> str:
        return format_html(
            '<a href="{}">{}</a> {}',
            reverse("admin:papers_paper_change", args=[entry.paper_id]),
            entry.paper.arxiv_id,
            entry.paper.title[:120],
        )

    @admin.display(description=_("status"))
    def paper_status(self, entry: DigestEntry) -> str:
        return entry.paper.get_status_display()


@admin.register(Digest)
class DigestAdmin(SimpleHistoryAdmin):
    form = DigestForm
    list_display = ("date", "topic", "title", "status", "paper_count", "published_at", "preview")
    list_display_links = ("date", "topic")
    list_filter = ("status", "topic")
    date_hierarchy = "date"
    search_fields = ("title", "topic__name")
    list_select_related = ("topic",)
    inlines = (DigestEntryInline,)
    actions = ("publish", "unpublish", "hide", export_digests_action)
    fields = ("topic", "date", "title", "status", "intro", "add_papers", "cover")

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="papers_digest_preview",
            ),
            path(
                "import/",
                self.admin_site.admin_view(import_digest_view),
                name="papers_digest_import",
            ),
        ]
        return extra + super().get_urls()

    def preview_view(self, request, object_id):
        return admin_views.digest_preview_view(request, object_id, self)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("topic")
            .annotate(paper_count=Count("entries"))
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._digest_being_edited = obj
        form = super().get_form(request, obj, change=change, **kwargs)
        cover = form.base_fields.get("cover")
        if cover is not None and hasattr(cover.widget, "widget"):
            # Plain radio buttons: the add/change/delete figure links make no sense here.
            cover.widget = cover.widget.widget
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cover":
            digest = getattr(request, "_digest_being_edited", None)
            figures = Figure.objects.none()
            if digest is not None:
                figures = (
                    Figure.objects.filter(
                        Q(paper__in=digest.papers.all(), hidden=False) | Q(pk=digest.cover_id)
                    )
                    .select_related("paper")
                    .order_by("paper__arxiv_id", "order", "id")
                )
            return CoverChoiceField(
                queryset=figures,
                required=False,
                blank=True,
                widget=forms.RadioSelect,
                empty_label=_("The first figure of the first paper"),
                label=_("Cover"),
                help_text=_("Figures of this digest's papers (save after adding papers)"),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, digest: Digest) -> int:
        return digest.paper_count

    @admin.display(description=_("preview"))
    def preview(self, digest: Digest) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:papers_digest_preview", args=[digest.pk]),
            _("preview"),
        )

    def save_model(self, request, obj, form, change):
        obj._status_before = form.initial.get("status") if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        digest = form.instance
        new_papers = form.cleaned_data.get("add_papers") or []
        if new_papers:
            have = set(digest.entries.values_list("paper_id", flat=True))
            position = max(digest.entries.values_list("position", flat=True), default=-1) + 1
            for paper in new_papers:
                if paper.pk not in have:
                    DigestEntry.objects.create(digest=digest, paper=paper, position=position)
                    position += 1
        before = getattr(digest, "_status_before", None)
        if "_publish" in request.POST or (
            digest.status == Status.PUBLISHED and before != Status.PUBLISHED
        ):
            digest.publish()
        elif before == Status.PUBLISHED and digest.status != Status.PUBLISHED:
            digest.unpublish(digest.status)

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Published the digest and its papers."),
                    obj.get_absolute_url(),
                    _("View it on the site"),
                ),
                messages.SUCCESS,
            )
            return self.response_post_save_change(request, obj)
        return super().response_change(request, obj)

    @admin.action(description=_("Publish (with its papers)"), permissions=["change"])
    def publish(self, request, queryset):
        count = 0
        for digest in queryset:
            digest.publish()
            count += 1
        self.message_user(request, _("Published %d digest(s).") % count, messages.SUCCESS)

    @admin.action(description=_("Unpublish (back to review)"), permissions=["change"])
    def unpublish(self, request, queryset):
        count = 0
        for digest in queryset:
            digest.unpublish()
            count += 1
        self.message_user(request, _("Unpublished %d digest(s).") % count, messages.SUCCESS)

    @admin.action(description=_("Hide"), permissions=["change"])
    def hide(self, request, queryset):
        count = 0
        for digest in queryset:
            digest.unpublish(Status.HIDDEN)
            count += 1
        self.message_user(request, _("Hid %d digest(s).") % count, messages.SUCCESS)


# Runs, tags and readers' reports


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


class TagActionForm(helpers.ActionForm):
    target = forms.CharField(
        label=_("Merge into"),
        required=False,
        help_text=_("the name or slug of the tag to merge into"),
    )


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Editors rename, merge and block tags; the pipeline follows (papers/tagging.py)."""

    list_display = ("name", "slug", "kind", "paper_count", "blocked", "merged_into")
    list_filter = ("kind", "blocked", ("merged_into", admin.EmptyFieldListFilter))
    list_select_related = ("merged_into",)
    search_fields = ("name", "slug")
    fields = ("name", "slug", "kind", "blocked", "merged_into")
    action_form = TagActionForm
    actions = ("merge_tags", "block_tags", "unblock_tags")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("tagged_papers"))

    @admin.display(description=_("papers"), ordering="paper_count")
    def paper_count(self, tag: Tag) -> int:
        return tag.paper_count

    def get_readonly_fields(self, request, obj=None):
        # A tag's address changes with its name, through a rename that keeps the old one.
        return ("slug", "merged_into") if obj else ("merged_into",)

    def save_model(self, request, obj, form, change):
        new_name = obj.name
        renaming = change and "name" in form.changed_data
        if renaming:
            obj.name = form.initial["name"]
        super().save_model(request, obj, form, change)
        if renaming:
            renamed = tagging.rename_tag(obj, new_name)
            if renamed.pk != obj.pk:
                self.message_user(
                    request, _("Merged into the existing tag %s.") % renamed, messages.INFO
                )
        if "blocked" in form.changed_data and obj.blocked:
            tagging.block_tags([obj])

    @admin.action(description=_("Merge the selected tags into the tag named below"))
    def merge_tags(self, request, queryset):
        name = request.POST.get("target", "").strip()
        target = Tag.objects.filter(Q(slug=name) | Q(name__iexact=name)).first() if name else None
        if target is None:
            self.message_user(
                request, _("Name the tag to merge into (its name or slug)."), messages.ERROR
            )
            return
        count = tagging.merge_tags(queryset, target)
        self.message_user(
            request, _("Merged %(count)d tag(s) into %(tag)s.") % {"count": count, "tag": target}
        )

    @admin.action(description=_("Block: take off every paper, never give again"))
    def block_tags(self, request, queryset):
        count = tagging.block_tags(queryset)
        self.message_user(request, _("Blocked %d tag(s).") % count, messages.SUCCESS)

    @admin.action(description=_("Unblock"))
    def unblock_tags(self, request, queryset):
        count = tagging.unblock_tags(queryset)
        self.message_user(request, _("Unblocked %d tag(s).") % count, messages.SUCCESS)


@admin.register(ErrorReport)
class ErrorReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "paper", "summary_link", "short_message", "resolved")
    list_display_links = ("created_at",)
    list_filter = ("resolved",)
    search_fields = ("paper__arxiv_id", "message")
    list_select_related = ("paper", "summary", "resolved_by")
    fields = (
        "paper_link",
        "summary_link",
        "message",
        "contact",
        "created_at",
        "resolved",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = (
        "paper_link",
        "summary_link",
        "message",
        "contact",
        "created_at",
        "resolved_by",
        "resolved_at",
    )
    actions = ("resolve", "reopen")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("message"))
    def short_message(self, report: ErrorReport) -> str:
        return report.message[:100]

    @admin.display(description=_("paper"))
    def paper_link(self, report: ErrorReport) -> str:
        return format_html(
            '<a href="{}">{}</a> ({}: <a href="{}">{}</a>)',
            reverse("admin:papers_paper_change", args=[report.paper_id]),
            report.paper,
            _("public page"),
            report.paper.get_absolute_url(),
            report.paper.arxiv_id,
        )

    @admin.display(description=_("summary"))
    def summary_link(self, report: ErrorReport) -> str:
        if not report.summary_id:
            return "-"
        return format_html(
            '<a href="{}">{} [{}]</a>',
            reverse("admin:papers_summary_change", args=[report.summary_id]),
            _("edit the summary"),
            report.summary.language,
        )

    def save_model(self, request, obj, form, change):
        if "resolved" in form.changed_data:
            obj.resolved_by = request.user if obj.resolved else None
            obj.resolved_at = timezone.now() if obj.resolved else None
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Mark resolved"), permissions=["change"])
    def resolve(self, request, queryset):
        count = queryset.filter(resolved=False).update(
            resolved=True, resolved_by=request.user, resolved_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext("Resolved %d report.", "Resolved %d reports.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Reopen"), permissions=["change"])
    def reopen(self, request, queryset):
        count = queryset.filter(resolved=True).update(
            resolved=False, resolved_by=None, resolved_at=None
        )
        self.message_user(request, _("Reopened %d report(s).") % count, messages.SUCCESS)


# The site uses its own Tag model (papers.Tag); taggit's default one stays unused.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)

# Subscribers, subscriptions, mail sends and the pause switch.
