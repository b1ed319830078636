"""The editors' Today page: per topic, the digests to publish, the papers waiting for review, the
failed ones and the last runs, with topics whose pipeline failed or stalled first.

Served by the topic admin (`admin:papers_today`); health is judged in papers/health.py.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from papers import health
from papers.health import topics_with_last_run
from papers.models import (
    Digest,
    DigestEntry,
    ErrorReport,
    Paper,
    PipelineRun,
    Status,
    Topic,
    TopicPaper,
)
from papers.schedules import topic_crontabs

WAITING = (Status.DRAFT, Status.REVIEW)
PAPERS_PER_TOPIC = 10
RUNS_PER_TOPIC = 3


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
        return self.health in health.ATTENTION


def _first_rows_per_topic(queryset, order_by: list, limit: int):
    """At most `limit` rows per topic, in one query (a window function)."""
    return queryset.annotate(
        row=Window(RowNumber(), partition_by=F("topic_id"), order_by=order_by)
    ).filter(row__lte=limit)


def kind_counts(prefix: str = "entries") -> dict:
    """Annotations: how many of a digest's entries are new, cross-listed and new versions."""
    return {
        f"{kind}_count": Count(prefix, filter=Q(**{f"{prefix}__kind": kind}))
        for kind in DigestEntry.Kind.values
    }


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
    crontabs = topic_crontabs()
    days = {t.pk: TopicDay(t, health.topic_health(t, now, crontabs)) for t in topics}
    papers_by_list = (
        ("waiting", Q(paper__status__in=WAITING), F("paper__published").desc(nulls_last=True)),
        ("failed", Q(paper__state=Paper.State.FAILED), F("paper__updated_at").desc()),
    )
    for name, condition, newest_first in papers_by_list:
        links = _first_rows_per_topic(
            TopicPaper.objects.filter(condition).select_related("paper"),
            [newest_first, F("pk").desc()],
            PAPERS_PER_TOPIC,
        )
        for link in links:
            getattr(days[link.topic_id], name).append(link.paper)
    runs = _first_rows_per_topic(
        PipelineRun.objects.all(), [F("started_at").desc(), F("pk").desc()], RUNS_PER_TOPIC
    )
    for run in runs:
        days[run.topic_id].runs.append(run)
    digests = Digest.objects.filter(status__in=WAITING).annotate(
        paper_count=Count("entries"), **kind_counts()
    )
    for digest in digests.order_by("-date"):
        days[digest.topic_id].digests.append(digest)
    ordered = sorted(days.values(), key=lambda d: (not d.needs_attention, d.topic.name))
    return {
        "topic_days": ordered,
        "open_reports": ErrorReport.objects.filter(resolved=False).count(),
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
