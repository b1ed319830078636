"""arXiv's weekly schedule: which announcement a submission goes out with, and its listing date."""

import datetime as dt

import pytest

from papers import pipeline
from papers.announcements import (
    ARXIV_TZ,
    next_listing_date,
    scheduled_announcement,
    scheduled_listing_date,
)
from papers.models import Announcement, PipelineRun
from tests.factories import make_topic


def et(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """November 2025 in New York: the 13th is a Thursday."""
    return dt.datetime(2025, 11, day, hour, minute, tzinfo=ARXIV_TZ)


@pytest.mark.parametrize(
    ("submitted", "announced", "listing"),
    [
        (et(17, 13, 59), et(17, 20), dt.date(2025, 11, 18)),  # Monday before the cut-off
        (et(17, 14, 0), et(18, 20), dt.date(2025, 11, 19)),  # Monday at the cut-off: Tuesday
        (et(13, 16), et(16, 20), dt.date(2025, 11, 17)),  # Thursday after it: Sunday evening
        (et(14, 12), et(16, 20), dt.date(2025, 11, 17)),  # Friday morning: Sunday evening
        (et(14, 16), et(17, 20), dt.date(2025, 11, 18)),  # Friday afternoon: Monday
        (et(15, 12), et(17, 20), dt.date(2025, 11, 18)),  # Saturday: Monday
    ],
)
def test_a_submission_goes_out_with_the_first_announcement_after_its_cutoff(
    submitted, announced, listing
):
    assert scheduled_announcement(submitted) == announced
    assert scheduled_listing_date(submitted.astimezone(dt.UTC)) == listing


def test_listing_dates_skip_weekends():
    assert next_listing_date(dt.date(2025, 11, 21)) == dt.date(2025, 11, 24)
    assert next_listing_date(dt.date(2025, 11, 24)) == dt.date(2025, 11, 25)


@pytest.mark.django_db
def test_a_day_is_a_holiday_only_when_no_run_saw_an_announcement():
    topic = make_topic()
    holiday, lagging = dt.date(2025, 11, 27), dt.date(2025, 11, 26)
    for date, seen in [(holiday, "none"), (holiday, "none"), (lagging, "none"), (lagging, "seen")]:
        PipelineRun.objects.create(topic=topic, announced_on=date, announcement=seen)
    PipelineRun.objects.create(topic=topic, announced_on=dt.date(2025, 11, 25))  # not known
    assert pipeline.quiet_days(dt.date(2025, 11, 20), dt.date(2025, 11, 28)) == {holiday}
    run = PipelineRun(announced_on=dt.date(2025, 11, 28), announcement=Announcement.SEEN)
    # Submitted for the holiday's listing: announced the next day.
    assert pipeline.digest_date(et(25, 16), run, {holiday}) == dt.date(2025, 11, 28)
    # Never later than the run's own day, and a backfill goes into the run's day.
    assert pipeline.digest_date(et(27, 16), run, set()) == dt.date(2025, 11, 28)
    assert pipeline.digest_date(et(1, 9), run, set()) == dt.date(2025, 11, 28)
