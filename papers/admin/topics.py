"""Topics: the form that saves a changed arXiv query only after its dry run, the topic list with
each topic's run health, and the "fetch now" action. The topic admin also serves the Today page."""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from papers import health, schedules, tasks
from papers.admin.common import ExtraPagesMixin, change_each
from papers.admin.today import today_view
from papers.health import topics_with_last_run
from papers.models import Paper, Topic
from papers.sources import arxiv_api

QUERY_FIELDS = ("query", "categories", "exclude_terms", "exclude_categories")
DRY_RUN_DAYS = 7
DRY_RUN_MAX = 100


@dataclass
class DryRun:
    """What a topic's query matched over the last days, and what its exclusions left out;
    nothing is stored."""

    since: dt.datetime
    papers: list[arxiv_api.PaperData] = field(default_factory=list)
    excluded: list[arxiv_api.PaperData] = field(default_factory=list)
    known_ids: set[str] = field(default_factory=set)
    error: str = ""
    capped: bool = False


def dry_run(topic: Topic, days: int = DRY_RUN_DAYS, limit: int = DRY_RUN_MAX) -> DryRun:
    """Ask arXiv (politely, through search_results) what `topic`'s query matches, storing nothing."""
    result = DryRun(since=timezone.now() - dt.timedelta(days=days))
    returned = 0
    try:
        for data in arxiv_api.search_results(topic, result.since, limit):
            returned += 1
            (result.excluded if data.excluded_by else result.papers).append(data)
    except arxiv_api.ArxivUnavailable as exc:
        result.error = str(exc) or exc.__class__.__name__
    result.capped = returned >= limit
    ids = [p.arxiv_id for p in result.papers]
    if ids:
        result.known_ids = set(
            Paper.objects.filter(arxiv_id__in=ids).values_list("arxiv_id", flat=True)
        )
    return result


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

    dry_run: DryRun | None = None

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
        self.dry_run = dry_run(trial)
        self.data = self.data.copy()
        self.data[self.add_prefix("dry_run_of")] = fingerprint
        raise ValidationError(
            _(
                "Check what this query matched over the last %(days)d days (below), "
                "then save again to keep it."
            ),
            params={"days": DRY_RUN_DAYS},
        )


@admin.register(Topic)
class TopicAdmin(ExtraPagesMixin, admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        schedules.ensure_topic_schedule(obj)

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
                "fields": (*QUERY_FIELDS, "max_results", "dry_run_of"),
            },
        ),
        (_("Summaries"), {"fields": ("summarizer",)}),
    )
    extra_pages = (("today/", today_view, "papers_today"),)

    def get_queryset(self, request):
        return topics_with_last_run().annotate(paper_count=Count("topic_papers", distinct=True))

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
        # Without the schedule here, a topic is stalled after STALLED_TOPIC without a run.
        state = health.run_health(
            topic.active, topic.last_run_status, topic.last_run_at, timezone.now()
        )
        if topic.last_run_at is None:
            return format_html('<strong class="run-{}">{}</strong>', state, _("never run"))
        when = topic.last_run_at.strftime("%Y-%m-%d %H:%M")
        if state in health.ATTENTION:
            label = _("failed") if state == health.FAILED else _("stalled")
            return format_html(
                '<strong class="run-{}" style="color:#b00">{}</strong> {}', state, label, when
            )
        return f"{topic.last_run_status} {when}"

    @admin.action(description=_("Fetch now from arXiv"))
    def run_now(self, request, queryset):
        change_each(
            self,
            request,
            queryset,
            lambda topic: tasks.fetch_topic.delay(topic.pk),
            _("Queued %d topic(s)."),
        )
