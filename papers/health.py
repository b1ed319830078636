"""How each topic's pipeline is doing, for the editors' Today page, the topic list and /healthz.

Judged from the runs and what they saw on arXiv (PipelineRun.announcement), and from the topic's
own schedule: a weekend or a holiday reads "no announcement", never red.
"""

import datetime as dt

from django.db.models import OuterRef, QuerySet, Subquery

from papers.models import Announcement, PipelineRun, Topic
from papers.schedules import topic_crontabs

# A run still "running" after this long was killed or hangs.
STALLED_RUN = dt.timedelta(hours=2)
# A scheduled run that has not started this long after its time: the scheduler stopped.
OVERDUE = dt.timedelta(hours=2)
# Without a known schedule: no run for this long (longer than a weekend with a holiday).
STALLED_TOPIC = dt.timedelta(days=4)

OK = "ok"
NO_ANNOUNCEMENT = "no announcement"
NOTHING_MATCHED = "nothing matched"
FAILED = "failed"
STALLED = "stalled"
NEVER = "never"
# The states an editor must act on.
ATTENTION = (FAILED, STALLED)


def run_health(
    active: bool,
    status: str | None,
    started_at: dt.datetime | None,
    now: dt.datetime,
    *,
    announcement: str = "",
    found: int = 0,
    next_due: dt.datetime | None = None,
) -> str:
    """The health of a topic from its last run; `next_due` is when its schedule wanted the next
    run after that one (None: schedule not known)."""
    if started_at is None:
        return NEVER if active else OK
    if status == PipelineRun.State.FAILED:
        return FAILED
    if status == PipelineRun.State.RUNNING:
        return STALLED if now - started_at > STALLED_RUN else OK
    if active:
        if next_due is not None and now > next_due + OVERDUE:
            return STALLED
        if next_due is None and now - started_at > STALLED_TOPIC:
            return STALLED
    if announcement == Announcement.NONE:
        return NO_ANNOUNCEMENT
    if found == 0:
        return NOTHING_MATCHED
    return OK


def topics_with_last_run() -> QuerySet:
    """Topics annotated with their last run's status, start, announcement and finds (one query)."""
    runs = PipelineRun.objects.filter(topic=OuterRef("pk")).order_by("-started_at", "-pk")
    return Topic.objects.annotate(
        last_run_status=Subquery(runs.values("status")[:1]),
        last_run_at=Subquery(runs.values("started_at")[:1]),
        last_run_announcement=Subquery(runs.values("announcement")[:1]),
        last_run_found=Subquery(runs.values("found")[:1]),
    )


def next_due(crontab, after: dt.datetime) -> dt.datetime:
    """When the topic's schedule runs it next after `after`."""
    start, delta, _now = crontab.schedule.remaining_delta(after)
    return start + delta


def topic_health(topic: Topic, now: dt.datetime, crontabs: dict) -> str:
    """For a topic from topics_with_last_run(); `crontabs` from schedules.topic_crontabs()."""
    crontab = crontabs.get(topic.pk)
    due = None
    if crontab is not None and topic.last_run_at is not None:
        due = next_due(crontab, topic.last_run_at)
    return run_health(
        topic.active,
        topic.last_run_status,
        topic.last_run_at,
        now,
        announcement=topic.last_run_announcement or "",
        found=topic.last_run_found or 0,
        next_due=due,
    )


def pipeline_health(now: dt.datetime) -> dict[str, str]:
    """Each topic's health by slug, in two queries."""
    crontabs = topic_crontabs()
    return {
        topic.slug: topic_health(topic, now, crontabs)
        for topic in topics_with_last_run().filter(active=True).order_by("slug")
    }
