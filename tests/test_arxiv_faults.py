"""arXiv misbehaving: 429 with Retry-After, cut and inconsistent answers, hostile metadata."""

import datetime as dt
import time

import pytest

from papers import pipeline, processing
from papers.models import Paper, PipelineRun
from papers.sources.arxiv_api import feed_problem
from papers.sources.politeness import MAX_RETRY_AFTER_SECONDS, retry_after_seconds
from tests.arxiv_server import Answer, atom_feed, entry
from tests.factories import make_paper, make_topic

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LONG_ABSTRACT = "We study talking heads in great detail. " * 20


def test_retry_after_is_read_and_bounded():
    assert retry_after_seconds("4") == 4.0
    assert retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("100000") == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("nan") is None
    assert retry_after_seconds(None) is None


def test_a_429_with_retry_after_is_asked_again_only_after_the_wait(fake_arxiv):
    fake_arxiv.answers = [
        Answer(b"slow down", status=429, headers={"Retry-After": "1"}),
        atom_feed([entry("2410.00001")]),
    ]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.SUCCEEDED and run.new == 1
    api = [  # the topic's search (a run also asks once for the newest submission)
        t
        for t, r in zip(fake_arxiv.times, fake_arxiv.requests, strict=True)
        if "api" in r["path"] and r["query"].get("sortBy") == ["lastUpdatedDate"]
    ]
    assert len(api) == 2 and api[1] - api[0] >= 0.95


def test_a_pdf_429_holds_off_every_later_arxiv_request(fake_arxiv):
    paper = make_paper(pdf_url=fake_arxiv.url + "/pdf/2410.00001v1", state=Paper.State.FETCHED)
    fake_arxiv.files["/pdf/2410.00001v1"] = Answer(
        b"slow down", status=429, headers={"Retry-After": "1"}
    )
    asked = time.monotonic()
    processing.extract_paper(paper)
    paper.refresh_from_db()
    assert paper.state == Paper.State.FAILED and "429" in paper.last_error
    fake_arxiv.answers = [atom_feed([])]
    pipeline.fetch_topic(make_topic(), since=LONG_AGO)
    assert fake_arxiv.times[-1] - asked >= 1.0


def cut(answer: Answer, marker: bytes, occurrence: int = 2) -> Answer:
    """The answer cut short inside its `occurrence`-th `marker`, still with status 200."""
    at = -1
    for _ in range(occurrence):
        at = answer.body.index(marker, at + 1)
    return Answer(answer.body[: at + len(marker) + 40])


def two_papers() -> Answer:
    return atom_feed(
        [entry("2410.00002", abstract=LONG_ABSTRACT), entry("2410.00001", abstract=LONG_ABSTRACT)]
    )


def test_an_answer_cut_inside_an_entry_is_asked_again_and_never_stored(fake_arxiv):
    fake_arxiv.answers = [cut(two_papers(), b"<summary>"), two_papers()]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.SUCCEEDED and run.new == 2
    searches = [q for q in fake_arxiv.queries() if q.get("sortBy") == ["lastUpdatedDate"]]
    assert len(searches) == 2
    assert all(p.abstract.startswith("We study") and p.authors for p in Paper.objects.all())
    assert {len(p.abstract) for p in Paper.objects.all()} == {len(LONG_ABSTRACT.strip())}


def test_an_answer_that_stays_cut_fails_the_run_and_stores_nothing(fake_arxiv):
    fake_arxiv.answers = [cut(two_papers(), b"<summary>")]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.FAILED
    assert "bad page" in run.errors[0]
    assert Paper.objects.count() == 0


def page(entries: list[str], *, total: int, start: int = 0, per_page: int = 2) -> bytes:
    body = atom_feed(entries, total=total, start=start).body
    return body.replace(
        f"<opensearch:itemsPerPage>{max(len(entries), 1)}<".encode(),
        f"<opensearch:itemsPerPage>{per_page}<".encode(),
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html><body>busy</body></html>", "not an Atom feed"),
        (b"<html><body><p>busy</body></html>", "not well-formed"),
        (two_papers().body[:-30], "not well-formed"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>", "no opensearch"),
        (b"<?xml version='1.0'?><root/>", "not an Atom feed"),
        (page([entry("2410.00001")], total=5), "short page"),
        (page([entry("2410.00001")], total=5, per_page=0), "do not fit"),
        (page([entry("2410.00001"), entry("2410.00002")], total=1), "do not fit"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "not an Atom feed"),
        (b'<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><x>&a;</x>', "not an Atom"),
    ],
)
def test_feed_problems_are_named(body, problem):
    assert problem in feed_problem(body, body.count(b"<entry>"))


def test_whole_pages_have_no_problem():
    assert feed_problem(page([entry("2410.00001"), entry("2410.00002")], total=3), 2) == ""
    assert feed_problem(page([entry("2410.00001")], total=3, start=2), 1) == ""
    assert feed_problem(page([], total=0), 0) == ""


def test_an_html_page_with_status_200_fails_the_run(fake_arxiv):
    fake_arxiv.answers = [Answer(b"<html><body>Oops</body></html>", content_type="text/html")]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.FAILED and Paper.objects.count() == 0


def test_hostile_metadata_is_stored_clean(fake_arxiv):
    fake_arxiv.answers = [
        atom_feed(
            [
                entry(
                    "2410.00001",
                    title="Talking \u202eheads\u2066 <script>alert(1)</script>",
                    abstract="An abstract\u202e with \u2067bidi.",
                    authors=("Eve \u202eEvil",),
                    pdf_url="javascript:alert(1)",
                )
            ]
        )
    ]
    pipeline.fetch_topic(make_topic(), since=LONG_AGO)
    paper = Paper.objects.get()
    assert paper.title == "Talking heads <script>alert(1)</script>"
    assert paper.title_raw == paper.title
    assert paper.abstract == "An abstract with bidi."
    assert paper.authors == [{"name": "Eve Evil"}]
    assert paper.pdf_url == "https://arxiv.org/pdf/2410.00001v1"
