"""Periodic runs through django-celery-beat: one per topic, editable in the admin."""

import json

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from papers.models import Topic

# Shortly after arXiv's announcement: 20:00 US Eastern, Sunday to Thursday.
DAILY_RUN = {
    "minute": "30",
    "hour": "20",
    "day_of_week": "0-4",
    "day_of_month": "*",
    "month_of_year": "*",
    "timezone": "America/New_York",
}
RETRY_TASK_NAME = "Retry failed papers"
LICENCE_TASK_NAME = "Read missing licences"


def task_name(topic: Topic) -> str:
    return f"Fetch topic: {topic.slug}"


def ensure_topic_schedule(topic: Topic) -> PeriodicTask | None:
    """Create the topic's periodic run when it is first active; keep it enabled only while the
    topic is. A topic that was never active (an imported one) has no schedule.

    An editor's changes to the schedule itself (time, days) are left as they are.
    """
    task = PeriodicTask.objects.filter(
        task="papers.fetch_topic", args=json.dumps([topic.pk])
    ).first()
    if task is None and topic.active:
        crontab, _ = CrontabSchedule.objects.get_or_create(**DAILY_RUN)
        task = PeriodicTask.objects.create(
            name=task_name(topic),
            task="papers.fetch_topic",
            args=json.dumps([topic.pk]),
            crontab=crontab,
            enabled=topic.active,
            description=f"Daily arXiv run for {topic.name}",
        )
    elif task is not None and task.enabled != topic.active:
        task.enabled = topic.active
        task.save(update_fields=["enabled"])
    ensure_retry_schedule()
    ensure_licence_schedule()
    return task


def topic_crontabs() -> dict[int, CrontabSchedule]:
    """The crontab of each topic whose periodic run is enabled, by topic pk (one query)."""
    crontabs = {}
    tasks = PeriodicTask.objects.filter(
        task="papers.fetch_topic", enabled=True, crontab__isnull=False
    ).select_related("crontab")
    for task in tasks:
        try:
            (topic_id,) = json.loads(task.args)
        except (TypeError, ValueError):
            continue
        crontabs[topic_id] = task.crontab
    return crontabs


def _hourly(name: str, task: str) -> PeriodicTask:
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    periodic, _ = PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "interval": every_hour}
    )
    return periodic


def ensure_retry_schedule() -> PeriodicTask:
    return _hourly(RETRY_TASK_NAME, "papers.retry_failed_papers")


def ensure_licence_schedule() -> PeriodicTask:
    return _hourly(LICENCE_TASK_NAME, "papers.check_licences")


def remove_topic_schedule(topic: Topic) -> None:
    """A deleted topic's periodic run goes with it."""
    PeriodicTask.objects.filter(task="papers.fetch_topic", args=json.dumps([topic.pk])).delete()
