"""A fortnight of arXiv announcements replayed against the scripted fake arXiv, with a fake clock.

The script has a weekend, a holiday, a skipped run, a run a day late, an API that shows a batch
hours after the run, a replacement and a cross-list. Every matching paper must end up in exactly
one digest of each of its topics, dated by the announcement that carried it.
"""

import datetime as dt
import heapq
import itertools

import pytest

from papers import pipeline
from papers.admin import today as admin_today
from papers.announcements import ARXIV_TZ
from papers.health import pipeline_health
from papers.models import Announcement, DigestEntry, PipelineRun
from papers.schedules import ensure_topic_schedule
from tests.arxiv_server import Catalogue, Listed
from tests.factories import make_topic

pytestmark = pytest.mark.django_db


def et(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in November 2025 (December for day > 30), US Eastern time."""
    month, day = (12, day - 30) if day > 30 else (11, day)
    return dt.datetime(2025, month, day, hour, minute, tzinfo=ARXIV_TZ)


# Actual announcements (20:00 ET) and the listing date each carries. Wednesday 26 is a holiday:
# what was submitted for it is announced on Thursday 27 with Thursday's own batch.
ANNOUNCEMENTS = {
    16: dt.date(2025, 11, 17),
    17: dt.date(2025, 11, 18),
    18: dt.date(2025, 11, 19),
    19: dt.date(2025, 11, 20),
    20: dt.date(2025, 11, 21),
    23: dt.date(2025, 11, 24),
    24: dt.date(2025, 11, 25),
    25: dt.date(2025, 11, 26),
    27: dt.date(2025, 11, 28),
    30: dt.date(2025, 12, 1),
}
# The API shows Tuesday 25's batch only at 22:30, two hours after the scheduled run.
LAG = {25: dt.timedelta(hours=2, minutes=30)}

# When runs start (both topics). Wednesday 19's run is skipped; Sunday 23's runs a day late, on
# Monday 24 after Monday's announcement (and Monday's own run does not happen); Saturday 29 has
# an editor's run. Runs that see no announcement look again on their own (pipeline.look_again).
RUNS = [
    et(16, 20, 30),
    et(17, 20, 30),
    et(18, 20, 30),
    et(20, 20, 30),
    et(24, 20, 45),
    et(25, 20, 30),
    et(26, 20, 30),
    et(27, 20, 30),
    et(29, 12, 0),
    et(30, 20, 30),
]

TALKING = "We present a talking head model."
LIPS = "We study lip sync for dubbing."
BOTH = "A talking head system with accurate lip sync."
OTHER = "Graph neural networks for molecules."


def script() -> tuple[Catalogue, dict[str, dict[str, dt.date]], dict[str, str]]:
    """The catalogue; for each topic the listing date each of its papers must be in; and the
    ids of the cross-list and the replacement."""
    catalogue = Catalogue()
    expected: dict[str, dict[str, dt.date]] = {"talking": {}, "lips": {}}
    numbers = itertools.count(1)

    def submit(
        submitted: dt.datetime,
        announced_day: int,
        abstract: str,
        *,
        categories=("cs.CV",),
        title="A paper",
        version=1,
        arxiv_id=None,
        first_submitted=None,
    ) -> Listed:
        arxiv_id = arxiv_id or f"2511.{next(numbers):05d}"
        visible = et(announced_day, 20) + LAG.get(announced_day, dt.timedelta())
        item = Listed(
            arxiv_id,
            version,
            title,
            abstract,
            tuple(categories),
            submitted,
            first_submitted or submitted,
            visible,
        )
        return catalogue.add(item)

    def expect(item: Listed, announced_day: int, *topics: str) -> None:
        for topic in topics:
            expected[topic].setdefault(item.arxiv_id, ANNOUNCEMENTS[announced_day])

    # Announced before the fortnight: never expected (the first run looks back three days).
    submit(et(12, 10), 12, TALKING)
    # Sunday 16 (Thursday 14:00 to Friday 14:00), Friday morning submissions.
    early = submit(et(14, 10), 16, TALKING, title="Head motion")
    expect(early, 16, "talking")
    expect(submit(et(14, 11), 16, BOTH), 16, "talking", "lips")
    submit(et(14, 12), 16, OTHER)
    # Monday 17: submitted Friday 16:00 and Saturday 12:00 (the papers the old runs lost).
    expect(submit(et(14, 16), 17, TALKING), 17, "talking")
    expect(submit(et(15, 12), 17, LIPS, categories=("cs.SD",)), 17, "lips")
    # A cross-list: primary cs.GR, also in cs.CV.
    cross = submit(et(17, 9), 17, TALKING, categories=("cs.GR", "cs.CV"))
    expect(cross, 17, "talking")
    # Excluded from "talking" by the word "GAN"; "began" does not exclude.
    submit(et(17, 10), 17, TALKING + " A GAN does it.")
    expect(submit(et(17, 11), 17, TALKING + " It began early in the world."), 17, "talking")
    # Tuesday 18.
    expect(submit(et(18, 9), 18, BOTH), 18, "talking", "lips")
    submit(et(18, 10), 18, OTHER)
    # Wednesday 19 (nobody runs that evening).
    expect(submit(et(19, 9), 19, TALKING), 19, "talking")
    expect(submit(et(19, 13), 19, LIPS), 19, "lips")
    # Thursday 20: a new version of Sunday's paper (already shown: no new entry) and a paper
    # that matches only from its second version on (a replacement).
    submit(
        et(20, 9), 20, TALKING, title="Head motion, v2", version=2,
        arxiv_id=early.arxiv_id, first_submitted=early.first_submitted,
    )  # fmt: skip
    old = submit(et(10, 9), 12, OTHER)
    replaced = submit(
        et(20, 10), 20, TALKING, version=2, arxiv_id=old.arxiv_id,
        first_submitted=old.first_submitted,
    )  # fmt: skip
    expect(replaced, 20, "talking")
    expect(submit(et(20, 11), 20, LIPS), 20, "lips")
    # Sunday 23: submitted Thursday 16:00 (after Thursday's cut-off) and Friday.
    expect(submit(et(20, 16), 23, TALKING), 23, "talking")
    expect(submit(et(21, 9), 23, BOTH), 23, "talking", "lips")
    # Monday 24 (seen by the late run together with Sunday's).
    expect(submit(et(22, 15), 24, TALKING), 24, "talking")
    expect(submit(et(24, 12), 24, LIPS), 24, "lips")
    submit(et(24, 13), 24, OTHER)
    # Tuesday 25: shown by the API two and a half hours late.
    expect(submit(et(25, 9), 25, BOTH), 25, "talking", "lips")
    submit(et(25, 10), 25, OTHER)
    # Wednesday 26 is a holiday: its submissions come out on Thursday 27.
    expect(submit(et(25, 16), 27, TALKING), 27, "talking")
    expect(submit(et(26, 12), 27, LIPS), 27, "lips")
    expect(submit(et(27, 9), 27, TALKING), 27, "talking")
    submit(et(27, 10), 27, OTHER)
    # Sunday 30.
    expect(submit(et(27, 16), 30, BOTH), 30, "talking", "lips")
    submit(et(28, 9), 30, OTHER)
    return catalogue, expected, {"cross": cross.arxiv_id, "replaced": replaced.arxiv_id}


def replay(fake_arxiv, topics: dict, moments: list[dt.datetime]) -> list[PipelineRun]:
    """Run both topics at these times and whenever a run asks to look again."""
    catalogue = fake_arxiv.catalogue
    order = itertools.count()
    queue = [(moment, next(order), key) for moment in moments for key in topics]
    heapq.heapify(queue)
    runs = []
    while queue:
        moment, _n, key = heapq.heappop(queue)
        catalogue.clock = moment
        outcome = pipeline.fetch_topic(topics[key], now=moment)
        runs.append(outcome.run)
        if outcome.look_again:
            heapq.heappush(queue, (moment + pipeline.LOOK_AGAIN_AFTER, next(order), key))
    return runs


def test_a_fortnight_of_announcements_lands_each_paper_once_on_its_day(fake_arxiv, settings):
    settings.FETCH_WINDOW_DAYS = 3
    settings.ARXIV_PAGE_SIZE = 5  # several pages per run
    catalogue, expected, notable = script()
    fake_arxiv.catalogue = catalogue
    topics = {
        "talking": make_topic(
            "Talking heads", query='abs:"talking head"', categories="cs.CV", exclude_terms="GAN"
        ),
        "lips": make_topic("Lip sync", query='abs:"lip sync"'),
    }
    for topic in topics.values():
        ensure_topic_schedule(topic)  # as the admin does when an editor saves a topic

    saturday = et(29, 18)
    runs = replay(fake_arxiv, topics, [moment for moment in RUNS if moment < saturday])
    # A normal Saturday is not red, and neither was the holiday.
    health = {day.topic.pk: day.health for day in admin_today.today(saturday)["topic_days"]}
    assert set(health.values()) == {"no announcement"}
    assert set(pipeline_health(saturday).values()) == {"no announcement"}
    runs += replay(fake_arxiv, topics, [moment for moment in RUNS if moment > saturday])

    for key, topic in topics.items():
        entries = DigestEntry.objects.filter(digest__topic=topic).select_related("paper", "digest")
        placed = {}
        for entry in entries:
            assert entry.paper.arxiv_id not in placed, f"{entry.paper.arxiv_id} twice in {key}"
            placed[entry.paper.arxiv_id] = entry.digest.date
        assert placed == expected[key], key
    # No digest for a day without an announcement (the holiday, the weekend).
    dates = set(DigestEntry.objects.values_list("digest__date", flat=True))
    assert dates <= set(ANNOUNCEMENTS.values())
    assert dt.date(2025, 11, 27) not in dates

    talking = topics["talking"]
    kinds = dict(
        DigestEntry.objects.filter(digest__topic=talking).values_list("paper__arxiv_id", "kind")
    )
    assert kinds[notable["cross"]] == DigestEntry.Kind.CROSS
    assert kinds[notable["replaced"]] == DigestEntry.Kind.REPLACEMENT
    assert sum(k == DigestEntry.Kind.NEW for k in kinds.values()) == len(kinds) - 2
    # The excluded paper is reported with its rule, once per run that saw it.
    excluded = [item for run in runs if run.topic == talking for item in run.excluded]
    assert {item["rule"] for item in excluded} == {"GAN"}

    # What the runs saw: the holiday evening and the lagging API looked again on their own.
    holiday = [r for r in runs if r.topic == talking and r.announced_on == dt.date(2025, 11, 27)]
    assert len(holiday) >= 3
    assert {r.announcement for r in holiday} == {Announcement.NONE}
    assert all("No new arXiv announcement" in r.note for r in holiday)
    lagging = [r for r in runs if r.topic == talking and r.announced_on == dt.date(2025, 11, 26)]
    assert [r.announcement for r in lagging] == [Announcement.NONE, Announcement.NONE, "seen"]
    assert all(r.status == PipelineRun.State.SUCCEEDED for r in runs)

    # Had Sunday's scheduled run not happened, Monday morning would be red.
    assert set(pipeline_health(et(31, 9)).values()) == {"ok"}
    PipelineRun.objects.filter(started_at__gte=et(30, 0)).delete()
    assert set(pipeline_health(et(31, 9)).values()) == {"stalled"}
