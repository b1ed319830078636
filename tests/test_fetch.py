"""fetch_topic against a local arXiv server, with the real `arxiv` client."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from papers import announcements, pipeline
from papers.models import Digest, Paper, PipelineRun, Status, Summary, Tag
from tests.arxiv_server import Answer, atom_feed, entry, recorded
from tests.factories import make_summary, make_topic

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def test_recorded_pages_are_stored_once_with_tags_and_a_digest(fake_arxiv, settings):
    settings.ARXIV_PAGE_SIZE = 10
    fake_arxiv.answers = [
        recorded("q_testing_s0_m10"),
        recorded("q_testing_s10_m10"),
        recorded("q_testing_s20_m10"),
    ]
    topic = make_topic("Software Testing", query="all:testing")

    outcome = pipeline.fetch_topic(topic, since=LONG_AGO, max_results=25)

    run = outcome.run
    assert (run.status, run.found, run.new, run.updated, run.failed) == ("succeeded", 25, 25, 0, 0)
    assert Paper.objects.count() == 25
    assert [q["start"] for q in fake_arxiv.queries()] == [["0"], ["10"], ["20"], ["0"]]
    # The last request asks for the newest submission: did arXiv announce anything?
    assert fake_arxiv.queries()[-1]["sortBy"] == ["submittedDate"]
    query = fake_arxiv.queries()[0]
    assert query["search_query"] == ["(all:testing)"]
    assert query["sortBy"] == ["lastUpdatedDate"]
    assert "digest-site" in fake_arxiv.requests[0]["user_agent"]

    paper = Paper.objects.get(arxiv_id="2202.12139")
    assert paper.version == 1
    assert paper.title.startswith("Testing Deep Learning Models")
    assert paper.doi == "10.1109/ICSTW55395.2022.00035"
    assert paper.author_names[0] == "Mohit Kumar Ahuja"
    # arXiv categories are tagged under their human names, with the code's slug.
    assert set(paper.tags.names()) >= {
        "Software Testing",
        "Software Engineering (cs.SE)",
        "Machine Learning (cs.LG)",
    }
    category = Tag.objects.get(name="Software Engineering (cs.SE)")
    assert category.kind == Tag.Kind.CATEGORY and category.slug == "csse"
    assert list(paper.topics.all()) == [topic]

    digest = outcome.digest
    assert digest.topic == topic and digest.date == run.announced_on
    assert digest.entries.count() == 25
    assert digest.status == Status.DRAFT  # waits for an editor

    # The same answers again change nothing.
    fake_arxiv.answers = [
        recorded("q_testing_s0_m10"),
        recorded("q_testing_s10_m10"),
        recorded("q_testing_s20_m10"),
    ]
    again = pipeline.fetch_topic(topic, since=LONG_AGO, max_results=25).run
    assert (again.found, again.new, again.updated) == (25, 0, 0)
    assert Paper.objects.count() == 25
    assert Digest.objects.get().entries.count() == 25
    assert "No new arXiv announcement" in again.note


def test_arxiv_double_encoded_names_are_repaired(fake_arxiv):
    fake_arxiv.answers = [recorded("q_testing_s0_m100")]
    topic = make_topic(query="all:testing")
    pipeline.fetch_topic(topic, since=LONG_AGO, max_results=100)
    names = [n for p in Paper.objects.all() for n in p.author_names]
    assert not [n for n in names if "Ã" in n]
    assert any("Ramírez" in n for n in names)


def test_old_style_ids_and_affiliations(fake_arxiv):
    fake_arxiv.answers = [recorded("id_astro-ph_0601001")]
    pipeline.fetch_topic(make_topic(query="all:stars"), since=LONG_AGO)
    paper = Paper.objects.get()
    assert paper.arxiv_id == "astro-ph/0601001"
    assert paper.get_absolute_url() == "/papers/astro-ph/0601001/"
    assert any(a.get("affiliation") for a in paper.authors)


def test_a_new_version_updates_in_place_and_marks_summaries_stale(fake_arxiv):
    topic = make_topic(query='abs:"talking head"')
    fake_arxiv.answers = [atom_feed([entry("2410.07757", 1, title="First title")])]
    pipeline.fetch_topic(topic, since=LONG_AGO)
    paper = Paper.objects.get()
    make_summary(paper, "en")
    make_summary(paper, "zh", locked=True, tldr="An editor wrote this.")

    fake_arxiv.answers = [
        atom_feed(
            [
                entry(
                    "2410.07757",
                    2,
                    title="Second title",
                    updated="2024-10-15T10:00:00Z",
                )
            ]
        )
    ]
    run = pipeline.fetch_topic(topic, since=LONG_AGO).run
    assert (run.new, run.updated) == (0, 1)
    paper.refresh_from_db()
    assert (paper.version, paper.versions_seen, paper.title) == (2, [1, 2], "Second title")
    assert Paper.objects.count() == 1
    assert all(s.stale for s in Summary.objects.all())
    assert Summary.objects.get(language="zh").tldr == "An editor wrote this."


def test_papers_older_than_since_and_excluded_ones_are_left_out(fake_arxiv):
    topic = make_topic(
        query='abs:"talking head"', exclude_terms="survey", exclude_categories="cs.SD"
    )
    fake_arxiv.answers = [
        atom_feed(
            [
                entry("2410.00003", title="Talking head survey", published="2024-10-11T00:00:00Z"),
                entry("2410.00002", categories=("cs.SD",), published="2024-10-11T00:00:00Z"),
                entry("2410.00001", title="Talking head", published="2024-10-11T00:00:00Z"),
                entry("2409.00001", published="2024-09-01T00:00:00Z"),
            ]
        )
    ]
    run = pipeline.fetch_topic(topic, since=dt.datetime(2024, 10, 1, tzinfo=dt.UTC)).run
    assert list(Paper.objects.values_list("arxiv_id", flat=True)) == ["2410.00001"]
    assert run.found == 1
    # Exclusions are applied to the results, so that the run can say what it left out and why.
    assert (run.returned, run.excluded) == (
        3,
        [
            {"arxiv_id": "2410.00003", "rule": "survey"},
            {"arxiv_id": "2410.00002", "rule": "cat:cs.SD"},
        ],
    )
    assert run.exclusion_counts == {"survey": 1, "cat:cs.SD": 1}
    assert "ANDNOT" not in fake_arxiv.queries()[0]["search_query"][0]
    assert Paper.objects.get().topic_papers.get().matched_terms == ["talking head"]


def test_5xx_answers_are_retried_with_back_off(fake_arxiv):
    fake_arxiv.answers = [
        Answer(b"busy", status=503),
        Answer(b"busy", status=502),
        atom_feed([entry("2410.00001")]),
    ]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == "succeeded" and run.new == 1
    assert len(fake_arxiv.requests) == 3 + 1  # and the newest submission


def test_a_stalled_arxiv_fails_the_run_without_hanging(fake_arxiv, settings):
    settings.ARXIV_TIMEOUT_SECONDS = 0.3
    settings.ARXIV_RETRIES = 2
    fake_arxiv.answers = [Answer(atom_feed([]).body, delay=1.0)]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.FAILED
    assert "arXiv" in run.errors[0]
    assert len(fake_arxiv.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [
        Answer(b"<html><body>Oops</body></html>", content_type="text/html"),
        Answer(b"<?xml version='1.0'?><feed><entry>", status=200),
        recorded("id_abc"),
    ],
    ids=["html", "malformed-xml", "error-entry-400"],
)
def test_broken_answers_fail_the_run_with_an_error(fake_arxiv, answer):
    fake_arxiv.answers = [answer]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.FAILED
    assert run.errors
    assert Paper.objects.count() == 0


def test_an_empty_answer_says_why(fake_arxiv):
    fake_arxiv.answers = [recorded("id_0000.0000")]
    run = pipeline.fetch_topic(make_topic(), since=dt.datetime.now(dt.UTC)).run
    assert run.status == "succeeded" and run.found == 0
    assert run.note


def test_auto_publish_topics_publish_papers_and_digest(fake_arxiv):
    topic = make_topic(auto_publish=True)
    fake_arxiv.answers = [atom_feed([entry("2410.00001"), entry("2410.00002")])]
    outcome = pipeline.fetch_topic(topic, since=LONG_AGO)
    assert outcome.digest.status == Status.PUBLISHED
    assert set(Paper.objects.values_list("status", flat=True)) == {Status.PUBLISHED}


def test_announcement_dates_follow_arxiv_schedule():
    new_york = announcements.ARXIV_TZ
    # Monday 20:30 in New York is Tuesday's listing.
    monday_evening = dt.datetime(2024, 10, 7, 20, 30, tzinfo=new_york)
    assert announcements.announcement_date(monday_evening) == dt.date(2024, 10, 8)
    # Saturday: the last announcement was Thursday evening, Friday's listing.
    saturday = dt.datetime(2024, 10, 12, 12, 0, tzinfo=new_york)
    assert announcements.announcement_date(saturday) == dt.date(2024, 10, 11)
    # Monday morning: Sunday evening's announcement, Monday's listing.
    monday_morning = dt.datetime(2024, 10, 7, 9, 0, tzinfo=new_york)
    assert announcements.announcement_date(monday_morning) == dt.date(2024, 10, 7)


def test_fetch_topic_command_prints_a_table(fake_arxiv):
    topic = make_topic("Talking Head Generation")
    pdf_base = fake_arxiv.url + "/pdf/"
    fake_arxiv.answers = [atom_feed([entry("2410.00001", pdf_url=pdf_base + "2410.00001v1")])]
    out = StringIO()
    call_command("fetch_topic", topic.slug, "--since", "2000-01-01", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "found" in text and "new" in text and "failed" in text
    paper = Paper.objects.get()
    # The PDF answer was not a PDF: the paper keeps its metadata and shows the error.
    assert paper.state == Paper.State.FAILED
    assert "PDF" in paper.last_error
    assert paper.title == "A paper"


def test_fetch_topic_command_rejects_bad_input(db):
    with pytest.raises(CommandError, match="No topic"):
        call_command("fetch_topic", "nope")
    topic = make_topic()
    with pytest.raises(CommandError, match="--since"):
        call_command("fetch_topic", topic.slug, "--since", "yesterday")


def test_an_empty_later_page_is_asked_again(fake_arxiv, settings):
    settings.ARXIV_PAGE_SIZE = 2
    fake_arxiv.answers = [
        atom_feed([entry("2410.00003"), entry("2410.00002")], total=3),
        atom_feed([], total=3, start=2),
        atom_feed([entry("2410.00001")], total=3, start=2),
    ]
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert (run.status, run.found, run.new) == ("succeeded", 3, 3)
    assert [q["start"] for q in fake_arxiv.queries()] == [["0"], ["2"], ["2"], ["0"]]


def test_papers_stored_before_arxiv_failed_still_reach_the_digest(fake_arxiv, settings):
    settings.ARXIV_PAGE_SIZE = 2
    settings.ARXIV_RETRIES = 1
    fake_arxiv.answers = [
        atom_feed([entry("2410.00003"), entry("2410.00002")], total=4),
        Answer(b"down", status=503),
    ]
    outcome = pipeline.fetch_topic(make_topic(), since=LONG_AGO)
    assert outcome.run.status == PipelineRun.State.FAILED and outcome.run.new == 2
    assert outcome.digest.entries.count() == 2
