"""arXiv's weekly announcement schedule, in US Eastern time.

Submissions close at 14:00 Monday to Friday and are announced at 20:00 the same evening; Friday's
are announced on Sunday evening. A listing is dated by the UTC date of its announcement (Monday
evening in New York is Tuesday's listing), so listing dates fall on Monday to Friday.

The schedule knows no holidays: the pipeline learns them from what arXiv shows (see
pipeline.digest_date and PipelineRun.announcement).
"""

import datetime as dt
import zoneinfo

ARXIV_TZ = zoneinfo.ZoneInfo("America/New_York")
ANNOUNCEMENT_HOUR = 20
CUTOFF_HOUR = 14
# Python's weekdays: Monday is 0.
ANNOUNCEMENT_WEEKDAYS = {6, 0, 1, 2, 3}
CUTOFF_WEEKDAYS = {0, 1, 2, 3, 4}


def last_announcement(moment: dt.datetime) -> dt.datetime:
    """The latest scheduled announcement at or before `moment`."""
    local = moment.astimezone(ARXIV_TZ)
    day = local.date()
    for _ in range(8):
        at = dt.datetime.combine(day, dt.time(ANNOUNCEMENT_HOUR), tzinfo=ARXIV_TZ)
        if day.weekday() in ANNOUNCEMENT_WEEKDAYS and at <= local:
            return at
        day -= dt.timedelta(days=1)
    raise AssertionError("unreachable: there is an announcement every week")


def listing_date(announcement: dt.datetime) -> dt.date:
    return announcement.astimezone(dt.UTC).date()


def announcement_date(moment: dt.datetime) -> dt.date:
    """The listing date of the latest scheduled announcement at or before `moment`."""
    return listing_date(last_announcement(moment))


def scheduled_announcement(submitted: dt.datetime) -> dt.datetime:
    """When the schedule announces a version submitted at `submitted`: the evening of the first
    cut-off after it (Sunday evening for Friday's cut-off)."""
    local = submitted.astimezone(ARXIV_TZ)
    day = local.date()
    while not (
        day.weekday() in CUTOFF_WEEKDAYS
        and local < dt.datetime.combine(day, dt.time(CUTOFF_HOUR), tzinfo=ARXIV_TZ)
    ):
        day += dt.timedelta(days=1)
    if day.weekday() == 4:
        day += dt.timedelta(days=2)
    return dt.datetime.combine(day, dt.time(ANNOUNCEMENT_HOUR), tzinfo=ARXIV_TZ)


def scheduled_listing_date(submitted: dt.datetime) -> dt.date:
    return listing_date(scheduled_announcement(submitted))


def next_listing_date(date: dt.date) -> dt.date:
    """The next weekday: the listing that follows `date` when there is no holiday."""
    date += dt.timedelta(days=1)
    while date.weekday() > 4:
        date += dt.timedelta(days=1)
    return date
