"""Extra pages inside the editors' admin: the "today" dashboard, a digest's preview, and a
summary's machine text next to the current one.

The views are wired by the model admins in papers/admin.py (`get_urls`), wrapped in
`admin_site.admin_view`, so only logged-in staff reach them.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from papers import selectors
from papers.models import (
    SUMMARY_FIELDS,
    Digest,
    DigestEntry,
    ErrorReport,
    Job,
    Paper,
    PipelineRun,
    Status,
    Summary,
    Topic,
    TopicPaper,
)

WAITING = (Status.DRAFT, Status.REVIEW)
# A run still "running" after this long was killed or hangs.
STALLED_RUN = dt.timedelta(hours=2)
# An active topic whose pipeline has not started for this long has stopped being scheduled.
STALLED_TOPIC = dt.timedelta(hours=48)
PAPERS_PER_TOPIC = 10
RUNS_PER_TOPIC = 3
JOBS_SHOWN = 10
ARXIV_CHANGES_SHOWN = 20


def run_health(
    active: bool, status: str | None, started_at: dt.datetime | None, now: dt.datetime
) -> str:
    """ "failed", "stalled", "never" (an active topic with no run yet) or "ok" for a topic's last run."""
    if started_at is None:
        return "never" if active else "ok"
    if status == PipelineRun.State.FAILED:
        return "failed"
    if status == PipelineRun.State.RUNNING and now - started_at > STALLED_RUN:
        return "stalled"
    if active and now - started_at > STALLED_TOPIC:
        return "stalled"
    return "ok"


def topics_with_last_run():
    """Topics annotated with their last run's status and start (two subqueries, one query)."""
    runs = PipelineRun.objects.filter(topic=OuterRef("pk")).order_by("-started_at", "-pk")
    return Topic.objects.annotate(
        last_run_status=Subquery(runs.values("status")[:1]),
        last_run_at=Subquery(runs.values("started_at")[:1]),
    )


@dataclass
class TopicDay:
    topic: Topic
    health: str
    waiting: list[Paper] = field(default_factory=list)
    failed: list[Paper] = field(default_factory=list)
    runs: list[PipelineRun] = field(default_factory=list)
    digests: list[Digest] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return self.health in ("failed", "stalled")


def _first_rows_per_topic(queryset, order_by: list, limit: int):
    """At most `limit` rows per topic, in one query (a window function)."""
    return queryset.annotate(
        row=Window(RowNumber(), partition_by=F("topic_id"), order_by=order_by)
    ).filter(row__lte=limit)


def today(now: dt.datetime | None = None) -> dict:
    """Everything the dashboard shows, in a fixed number of queries whatever the data size."""
    now = now or timezone.now()
    topics = list(
        topics_with_last_run().annotate(
            waiting_count=Count(
                "topic_papers", filter=Q(topic_papers__paper__status__in=WAITING), distinct=True
            ),
            failed_count=Count(
                "topic_papers",
                filter=Q(topic_papers__paper__state=Paper.State.FAILED),
                distinct=True,
            ),
        )
    )
    days = {
        t.pk: TopicDay(t, run_health(t.active, t.last_run_status, t.last_run_at, now))
        for t in topics
    }
    waiting = _first_rows_per_topic(
        TopicPaper.objects.filter(paper__status__in=WAITING).select_related("paper"),
        [F("paper__published").desc(nulls_last=True), F("pk").desc()],
        PAPERS_PER_TOPIC,
    )
    for link in waiting:
        days[link.topic_id].waiting.append(link.paper)
    failed = _first_rows_per_topic(
        TopicPaper.objects.filter(paper__state=Paper.State.FAILED).select_related("paper"),
        [F("paper__updated_at").desc(), F("pk").desc()],
        PAPERS_PER_TOPIC,
    )
    for link in failed:
        days[link.topic_id].failed.append(link.paper)
    runs = _first_rows_per_topic(
        PipelineRun.objects.all(), [F("started_at").desc(), F("pk").desc()], RUNS_PER_TOPIC
    )
    for run in runs:
        days[run.topic_id].runs.append(run)
    digests = Digest.objects.filter(status__in=WAITING).annotate(paper_count=Count("entries"))
    for digest in digests.order_by("-date"):
        days[digest.topic_id].digests.append(digest)
    ordered = sorted(days.values(), key=lambda d: (not d.needs_attention, d.topic.name))
    return {
        "topic_days": ordered,
        "open_reports": ErrorReport.objects.filter(resolved=False).count(),
        "jobs": list(Job.objects.recent().select_related("topic", "created_by")[:JOBS_SHOWN]),
        "arxiv_changes": list(
            Paper.objects.with_arxiv_changes()
            .only("id", "arxiv_id", "title", "arxiv_changes")
            .order_by("-updated_at")[:ARXIV_CHANGES_SHOWN]
        ),
        "now": now,
    }


def today_view(request: HttpRequest, model_admin) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        **today(),
        "title": _("Today"),
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/papers/today.html", context)


def digest_preview_entries(digest: Digest) -> list[dict]:
    """The digest's papers as the public page will show them once published (hidden ones left out)."""
    entries = selectors.entries_for_page(
        DigestEntry.objects.filter(digest=digest).exclude(paper__status=Status.HIDDEN)
    )
    language = digest.topic.language
    result = []
    for entry in entries:
        paper = entry.paper
        figures = list(paper.figures.all()) if paper.content_allowed else []
        result.append({"paper": paper, "summary": paper.summary_for(language), "figures": figures})
    return result


def digest_preview_view(request: HttpRequest, object_id: str, model_admin) -> HttpResponse:
    """The public digest page for a digest in any state, with a banner saying it is a preview."""
    digest = get_object_or_404(
        Digest.objects.select_related("topic", "cover", "cover__paper"), pk=object_id
    )
    if not model_admin.has_view_permission(request, digest):
        raise PermissionDenied
    entries = digest_preview_entries(digest)
    cover = digest.cover
    if not (cover and not cover.hidden and cover.paper.content_allowed):
        cover = next((figure for e in entries for figure in e["figures"]), None)
    keywords: list[str] = [digest.topic.name]
    for entry in entries:
        for word in entry["summary"].keywords if entry["summary"] else []:
            if isinstance(word, str) and word not in keywords:
                keywords.append(word)
    context = {
        "digest": digest,
        "topic": digest.topic,
        "entries": entries,
        "cover": cover,
        "keywords": keywords[:20],
        "change_url": reverse("admin:papers_digest_change", args=[digest.pk]),
    }
    return TemplateResponse(request, "admin/papers/digest/preview.html", context)


def machine_record(summary: Summary):
    """The summary as the pipeline last wrote it: its newest historical record while unlocked."""
    return summary.history.filter(locked=False).order_by("-history_date", "-history_id").first()


def as_text(value) -> str:
    """A summary field as an editor reads it: lists one item per line, links as `label URL`."""
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict):
                lines.append(f"{item.get('label', '')} {item.get('url', '')}".strip())
            else:
                lines.append(str(item))
        return "\n".join(lines)
    return str(value or "")


def summary_compare_view(request: HttpRequest, object_id: str, model_admin) -> HttpResponse:
    """The machine's text next to the current one, field by field, with a way to revert."""
    summary = get_object_or_404(Summary.objects.select_related("paper", "locked_by"), pk=object_id)
    if not model_admin.has_view_permission(request, summary):
        raise PermissionDenied
    machine = machine_record(summary)
    rows = []
    for name in SUMMARY_FIELDS:
        current = getattr(summary, name)
        original = getattr(machine, name) if machine else None
        rows.append(
            {
                "name": Summary._meta.get_field(name).verbose_name,
                "machine": None if machine is None else as_text(original),
                "current": as_text(current),
                "changed": machine is not None and original != current,
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Machine text and current text: %s") % summary,
        "opts": Summary._meta,
        "summary": summary,
        "machine": machine,
        "rows": rows,
        "can_revert": machine is not None and model_admin.has_change_permission(request, summary),
    }
    return TemplateResponse(request, "admin/papers/summary/compare.html", context)
