"""Papers: the paper page with its summaries, figures and topics inline, the paper list, the
actions that publish, hide, retry and regenerate, and the figure admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models, transaction
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from taggit.managers import TaggableManager

from papers import indexing, pipeline, tasks
from papers.admin.common import (
    AuthorsField,
    LinesField,
    NoAdding,
    WordsField,
    change_each,
    figure_link,
    thumbnail,
)
from papers.admin.summaries import (
    SUMMARY_EDIT_FIELDS,
    SummaryForm,
    SummaryPanels,
    lock_if_edited,
)
from papers.admin.tags import TagsInput
from papers.models import Figure, Paper, Status, Summary, TopicPaper


class SummaryInline(SummaryPanels, admin.StackedInline):
    model = Summary
    form = SummaryForm
    extra = 0
    fields = ("language", "lock_info", "compare", "warning_list", *SUMMARY_EDIT_FIELDS)
    readonly_fields = ("lock_info", "compare", "warning_list")

    def get_queryset(self, request):
        # The inline shows str(summary), which names the paper.
        return super().get_queryset(request).select_related("paper", "locked_by")


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


class FigureInline(NoAdding, admin.TabularInline):
    """Figures come from the PDF; editors hide, reorder and caption them."""

    model = Figure
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}
    formset = FigureInlineFormSet
    extra = 0
    fields = ("preview", "order", "page", "caption", "hidden")
    readonly_fields = ("preview",)
    ordering = ("order", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("paper")

    @admin.display(description=_("figure"))
    def preview(self, figure: Figure) -> str:
        return figure_link(figure)


class TopicPaperInline(NoAdding, admin.TabularInline):
    model = TopicPaper
    extra = 0
    fields = ("topic", "matched", "first_seen")
    readonly_fields = ("topic", "matched", "first_seen")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("topic", "paper")

    @admin.display(description=_("matched terms"))
    def matched(self, link: TopicPaper) -> str:
        return ", ".join(str(term) for term in link.matched_terms or []) or "-"


class PaperForm(forms.ModelForm):
    """The paper's lists edited as lines; the PDF's affiliation lines named apart from the
    summary's affiliations (which the site shows)."""

    authors = AuthorsField(
        label=_("Authors"),
        help_text=_("One per line, in order: the name, then '; affiliation' where known"),
        rows=6,
    )
    categories = WordsField(label=_("arXiv categories"), help_text=_("Separated by spaces"))
    affiliations = LinesField(
        label=_("Affiliation lines found on the PDF"),
        help_text=_("Read from the PDF's first page by the pipeline; one per line"),
        rows=3,
    )

    class Meta:
        model = Paper
        fields = ("title", "abstract", "comment", "authors", "categories", "affiliations")
        widgets = {
            "title": forms.Textarea(attrs={"rows": 2}),
            "abstract": forms.Textarea(attrs={"rows": 8}),
            "comment": forms.Textarea(attrs={"rows": 2}),
            "journal_ref": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "doi": _("DOI"),
            "abs_url": _("arXiv page"),
            "pdf_url": _("PDF"),
            "license": _("Licence"),
        }


@admin.register(Paper)
class PaperAdmin(SimpleHistoryAdmin):
    form = PaperForm
    formfield_overrides = {
        TaggableManager: {
            "widget": TagsInput,
            "help_text": _("Type to find a tag in use; Enter or a comma adds what you typed."),
        }
    }
    list_display = (
        "paper_id",
        "short_title",
        "status",
        "state",
        "summary_flags",
        "published_on",
    )
    list_display_links = ("paper_id", "short_title")
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
        "versions",
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
                    "versions",
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

    @admin.display(description=_("versions seen"))
    def versions(self, paper: Paper) -> str:
        return ", ".join(f"v{v}" for v in paper.versions_seen or []) or "-"

    @admin.display(description=_("arXiv id"), ordering="arxiv_id")
    def paper_id(self, paper: Paper) -> str:
        return f"{paper.arxiv_id}v{paper.version}"

    @admin.display(description=_("title"), ordering="title")
    def short_title(self, paper: Paper) -> str:
        """The title, with the paper's topics below it in small print."""
        topics = ", ".join(topic.name for topic in paper.topics.all())
        if not topics:
            return paper.title[:90]
        return format_html('{}<span class="paper-topics">{}</span>', paper.title[:90], topics)

    @admin.display(description=_("published"), ordering="published")
    def published_on(self, paper: Paper) -> str:
        return paper.published.strftime("%Y-%m-%d") if paper.published else "-"

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

    def save_model(self, request, obj, form, change):
        if "license" in form.changed_data:
            obj.license_checked_at = timezone.now()  # the editor's licence stands
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is Summary:
            for inline_form in formset.forms:
                if inline_form.instance.pk and inline_form.has_changed():
                    lock_if_edited(inline_form, inline_form.instance, request.user)
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        indexing.refresh_indexes([form.instance.pk])

    def set_status(self, request, queryset, status: str, message: str) -> None:
        def change(paper: Paper) -> None:
            paper.status = status
            if status != Status.PUBLISHED:
                paper.published_at = None
            paper.save()

        change_each(self, request, queryset, change, message)

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish(self, request, queryset):
        self.set_status(request, queryset, Status.PUBLISHED, _("Published %d paper(s)."))

    @admin.action(description=_("Send back to review (off the site)"), permissions=["change"])
    def send_to_review(self, request, queryset):
        self.set_status(request, queryset, Status.REVIEW, _("%d paper(s) are in review."))

    @admin.action(description=_("Hide"), permissions=["change"])
    def hide(self, request, queryset):
        self.set_status(request, queryset, Status.HIDDEN, _("Hid %d paper(s)."))

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
        return figure_link(figure, 300, 600)

    @admin.display(description=_("figure"))
    def preview(self, figure: Figure) -> str:
        return thumbnail(figure, 60, 120)

    def set_hidden(self, queryset, hidden: bool) -> None:
        for figure in queryset:
            figure.hidden = hidden
            figure.save()

    @admin.action(description=_("Hide from the site"), permissions=["change"])
    def hide(self, request, queryset):
        self.set_hidden(queryset, True)

    @admin.action(description=_("Show on the site"), permissions=["change"])
    def show(self, request, queryset):
        self.set_hidden(queryset, False)
