"""The editors' write rules: tags, digest order, slugs, publication, corrections, history, import."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from papers import pipeline, processing, tagging
from papers.markdown.importer import import_post
from papers.models import Digest, Paper, Status, Summary, Tag, Topic
from papers.schedules import ensure_topic_schedule
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
POSTS = Path(__file__).parent / "fixtures" / "posts"


# Tags


def test_tags_are_found_case_insensitively_made_once_and_never_too_long():
    existing = Tag.objects.create(name="Talking Head", kind=Tag.Kind.TOPIC)
    long_name = "x" * (tagging.MAX_TAG_LENGTH + 1)

    tags = tagging.tags_for(
        ["talking  head", " diffusion ", "Diffusion", "", long_name], Tag.Kind.KEYWORD
    )

    assert [t.name for t in tags] == ["Talking Head", "diffusion"]
    assert tags[0] == existing and tags[0].kind == Tag.Kind.TOPIC
    assert Tag.objects.count() == 2


def test_a_tag_an_editor_removed_is_never_added_back_and_one_re_added_is_kept():
    paper = make_paper(tags=["gaze", "lip sync"])
    paper.record_tag_edits(["gaze", "lip sync"], ["lip sync", "editors pick"])
    paper.save()
    paper.tags.set(["lip sync", "editors pick"])

    paper.add_tags(tagging.tags_for(["Gaze", "head pose"], Tag.Kind.KEYWORD))
    assert set(paper.tags.names()) == {"lip sync", "editors pick", "head pose"}
    assert paper.removed_tags == ["gaze"] and "tags" in paper.edited_fields

    paper.record_tag_edits(["lip sync"], ["lip sync", "gaze"])
    assert paper.removed_tags == []


# Digest order, slugs, publication


def test_digest_positions_are_always_0_to_n_in_reading_order():
    topic = make_topic()
    a, b, c, d = (make_paper() for _ in range(4))
    digest = make_digest(topic, [a, b], status=Status.DRAFT)

    assert digest.add_papers([c, a, d]) == [c, d]
    assert digest.paper_ids_in_order() == [a.pk, b.pk, c.pk, d.pk]

    for paper, typed in ((d, 0), (a, 5), (b, 7), (c, 9)):  # positions as an editor typed them
        digest.entries.filter(paper=paper).update(position=typed)
    digest.renumber()
    assert list(digest.entries.values_list("paper_id", "position")) == [
        (d.pk, 0),
        (a.pk, 1),
        (b.pk, 2),
        (c.pk, 3),
    ]

    result = digest.arrange([c.pk, b.pk])
    assert digest.paper_ids_in_order() == [c.pk, b.pk, d.pk, a.pk]
    assert result.moved == {a.pk, b.pk, c.pk, d.pk} and not result.added


def test_topic_slugs_are_unique_and_never_empty():
    first = Topic.objects.create(name="Talking Head", query="x")
    second = Topic(name="Talking-Head", query="x")
    second.save()
    odd = Topic.objects.create(name="+++", query="x")
    assert (first.slug, second.slug) == ("talking-head", "talking-head-2")
    assert odd.slug and "+" not in odd.slug


def test_a_paper_status_change_keeps_published_at_in_step():
    paper = make_paper(status=Status.DRAFT)
    paper.set_status(Status.PUBLISHED)
    assert paper.published_at is not None
    paper.set_status(Status.REVIEW)
    assert Paper.objects.get(pk=paper.pk).published_at is None


# Corrections that stick


def test_corrected_fields_survive_a_new_version_and_arxiv_changes_wait_for_the_editor(
    fake_arxiv,
):
    topic = make_topic("Heads", query='abs:"head"')
    fake_arxiv.answers = [
        atom_feed([entry("2410.00001", 1, title="A tiitle with a typo", abstract="Old.")])
    ]
    pipeline.fetch_topic(topic, since=LONG_AGO)
    paper = Paper.objects.get()
    paper.record_edits({"title": paper.title})
    paper.title = "A title without a typo"
    paper.save()

    fake_arxiv.answers = [
        atom_feed([entry("2410.00001", 2, title="A title, fixed by the authors", abstract="New.")])
    ]
    pipeline.fetch_topic(topic, since=LONG_AGO)

    paper = Paper.objects.get()
    assert paper.version == 2 and paper.abstract == "New."  # uncorrected fields follow arXiv
    assert paper.title == "A title without a typo"
    assert paper.arxiv_changes == ["title"]
    assert paper.arxiv_values["title"] == "A title, fixed by the authors"
    assert list(Paper.objects.with_arxiv_changes()) == [paper]

    paper.settle_arxiv_change("title", take=False)
    assert paper.title == "A title without a typo" and paper.arxiv_changes == []
    assert "title" in paper.edited_fields

    paper.arxiv_changes = ["title"]
    paper.settle_arxiv_change("title", take=True)
    assert paper.title == "A title, fixed by the authors"
    assert paper.edited_fields == [] and paper.arxiv_values == {}


def test_a_correction_arxiv_does_not_change_raises_no_notice(fake_arxiv):
    topic = make_topic("Heads", query='abs:"head"')
    fake_arxiv.answers = [atom_feed([entry("2410.00001", 1, title="Same", abstract="Old.")])]
    pipeline.fetch_topic(topic, since=LONG_AGO)
    paper = Paper.objects.get()
    paper.record_edits({"title": paper.title})
    paper.title = "Mine"
    paper.save()
    fake_arxiv.answers = [atom_feed([entry("2410.00001", 2, title="Same", abstract="New.")])]
    pipeline.fetch_topic(topic, since=LONG_AGO)
    paper = Paper.objects.get()
    assert paper.title == "Mine" and paper.arxiv_changes == []


# History


def test_a_digest_revert_round_trips_status_membership_order_and_cover():
    topic = make_topic()
    a, b, c = (make_paper(status=Status.DRAFT) for _ in range(3))
    cover = make_figure(a)
    digest = make_digest(topic, [], status=Status.DRAFT)
    digest.add_papers([a, b])
    digest.cover = cover
    digest.save()
    draft_state = digest.history.order_by("-history_id").first()
    assert draft_state.paper_order == [a.arxiv_id, b.arxiv_id]

    digest.arrange([c.pk, b.pk], drop_others=True)
    digest.cover = None
    digest.publish()
    assert set(Paper.objects.published().values_list("pk", flat=True)) == {b.pk, c.pk}
    published_state = digest.history.order_by("-history_id").first()
    assert published_state.paper_order == [c.arxiv_id, b.arxiv_id]

    digest.restore(draft_state)
    digest = Digest.objects.get()
    assert digest.status == Status.DRAFT and digest.cover == cover
    assert digest.paper_ids_in_order() == [a.pk, b.pk]
    # Withdrawn through the same rule: its papers left the site with it.
    assert not Paper.objects.published().exists()

    digest.restore(published_state)
    digest = Digest.objects.get()
    assert digest.status == Status.PUBLISHED and digest.cover is None
    assert digest.paper_ids_in_order() == [c.pk, b.pk]
    assert set(Paper.objects.published().values_list("pk", flat=True)) == {b.pk, c.pk}


def test_a_summary_restored_on_a_newer_paper_version_stays_stale():
    paper = make_paper()
    summary = make_summary(paper)
    summary.mark_current()
    summary.save()
    old = summary.history.order_by("-history_id").first()
    Paper.objects.filter(pk=paper.pk).update(version=2)
    Summary.objects.filter(pk=summary.pk).update(stale=True)

    restored = old.instance
    restored.paper = Paper.objects.get(pk=paper.pk)
    assert not restored.stale
    restored.settle_staleness()
    assert restored.stale


# Import


def test_an_imported_topic_starts_paused_without_a_schedule():
    report = import_post((POSTS / "zh-sample.md").read_bytes(), "zh-sample.md")
    assert report.ok, report.errors
    topic = Topic.objects.get()
    assert not topic.active and not topic.query_checked
    assert not PeriodicTask.objects.filter(task="papers.fetch_topic").exists()
    digest = Digest.objects.get()
    assert digest.status == Status.PUBLISHED
    # Published through Digest.publish, like any digest's papers.
    assert set(Paper.objects.values_list("status", flat=True)) == {Status.PUBLISHED}

    topic.active = True
    topic.query_checked = True
    topic.save()
    ensure_topic_schedule(topic)  # as the topic admin does on saving
    assert PeriodicTask.objects.get(task="papers.fetch_topic").enabled


# Regeneration and provenance


def test_regeneration_reports_what_really_happened(fake_llm, settings):
    settings.SUMMARIZER = "openai"
    topic = make_topic()
    failing = make_paper(topic=topic)
    locked = make_paper(topic=topic)
    make_summary(failing)
    summary = make_summary(locked, tldr="An editor wrote this.")
    summary.lock()
    summary.save()
    fake_llm.error(500, "down")
    fake_llm.error(500, "down")
    fake_llm.error(500, "down")

    report = processing.regenerate_summaries(Paper.objects.order_by("pk"), discard_locks=False)

    assert report.written == []
    assert report.kept == [locked.arxiv_id]
    assert [arxiv_id for arxiv_id, _ in report.failed] == [failing.arxiv_id]
    assert "HTTP 500" in report.failed[0][1]
    assert "Summaries written: 0 paper(s)." in report.lines()


def test_a_machine_summary_keeps_the_exact_request_sent_to_the_llm(fake_llm, settings):
    from tests.test_summary_pipeline import CHINESE

    settings.SUMMARIZER = "openai"
    paper = make_paper(topic=make_topic(language="zh"), abstract="We study talking heads.")
    fake_llm.reply_json(CHINESE)

    assert processing.summarize_paper(paper)

    summary = Summary.objects.get()
    (received,) = fake_llm.requests
    assert summary.request["messages"] == received.body["messages"]
    assert summary.request["model"] == received.body["model"] == "test-model"
    assert summary.request.get("response_format") == received.body.get("response_format")
    assert summary.paper_version == paper.version and not summary.stale


# Jobs: slow work done by a worker, with its outcome kept


def test_a_queued_job_waits_for_the_commit_then_a_worker_runs_it(
    fake_arxiv, django_capture_on_commit_callbacks
):
    from papers import jobs, tasks
    from papers.models import Job

    make_paper("2410.00001")
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_arxiv.answers = [
        atom_feed(
            [
                entry("2410.00001", 1, title="Known", published=now),
                entry("2410.00002", 1, title="New", published=now),
            ]
        )
    ]
    params = {"query": 'abs:"talking head"', "categories": "", "exclude_terms": ""}
    params["fingerprint"] = jobs.query_fingerprint(params)

    with django_capture_on_commit_callbacks() as callbacks:
        job = tasks.queue_job(Job.Kind.DRY_RUN, params=params)
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED
    assert fake_arxiv.requests == []  # nothing runs before the commit
    for callback in callbacks:
        callback()

    job = Job.objects.get(pk=job.pk)
    assert job.state == Job.State.DONE and job.started_at and job.finished_at
    assert job.done == 2
    assert [(p["arxiv_id"], p["known"]) for p in job.result["papers"]] == [
        ("2410.00001", True),
        ("2410.00002", False),
    ]
    assert jobs.dry_run_of(params) == job
    assert not Paper.objects.filter(arxiv_id="2410.00002").exists()  # a dry run stores nothing


def test_a_job_that_fails_keeps_the_reason(fake_arxiv, settings):
    from papers import jobs, tasks
    from papers.models import Job
    from tests.arxiv_server import Answer

    settings.ARXIV_RETRIES = 1
    fake_arxiv.answers = [Answer(b"down", status=503)]
    job = jobs.create(Job.Kind.DRY_RUN, params={"query": "abs:x"})
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "503" in job.error


def test_regeneration_and_retry_jobs_report_each_paper(fake_llm, settings):
    from papers import jobs, tasks
    from papers.models import Job

    settings.SUMMARIZER = "openai"
    paper = make_paper(topic=make_topic())
    make_summary(paper)
    for _ in range(3):
        fake_llm.error(500, "down")
    job = jobs.create(Job.Kind.REGENERATE, papers=[paper], params={"discard_locks": False})
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.DONE and (job.done, job.total) == (1, 1)
    assert job.result["written"] == [] and job.result["failed"][0][0] == paper.arxiv_id

    settings.SUMMARIZER = "extractive"
    Paper.objects.filter(pk=paper.pk).update(state=Paper.State.FAILED, pdf_url="")
    job = jobs.create(Job.Kind.RETRY, papers=[paper])
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert [arxiv_id for arxiv_id, _ in job.result["failed"]] == [paper.arxiv_id]


def test_a_paper_added_to_a_published_digest_is_published_with_it():
    topic = make_topic()
    shown = make_paper(status=Status.PUBLISHED)
    digest = make_digest(topic, [shown], status=Status.PUBLISHED)
    added, hidden = make_paper(status=Status.DRAFT), make_paper(status=Status.HIDDEN)
    digest.add_papers([added, hidden])
    statuses = dict(Paper.objects.values_list("pk", "status"))
    assert statuses[added.pk] == Status.PUBLISHED and statuses[hidden.pk] == Status.HIDDEN


def test_an_offline_summary_keeps_its_input():
    paper = make_paper(topic=make_topic(), abstract="We study talking heads. It works.")
    processing.summarize_paper(paper)
    given = Summary.objects.get().request["input"]
    assert given["title"] == paper.title and given["abstract"] == paper.abstract
    assert given["full_text_chars"] == 0 and len(given["full_text_sha256"]) == 64


def test_a_figure_an_editor_hid_or_captioned_keeps_it_after_a_new_extraction(tmp_path):
    from types import SimpleNamespace

    from tests.factories import png_bytes

    paper = make_paper()
    figure = make_figure(paper, order=1)
    other = make_figure(paper, order=2)
    figure.hidden = True
    figure.save()
    other.caption = "Figure 2: As the editor wrote it."
    other.caption_edited = True
    other.save()
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    found = [
        SimpleNamespace(
            order=order,
            page=2,
            caption=f"Figure {order}: Redrawn.",
            width=40,
            height=30,
            image_format="png",
            image=png_bytes(),
            thumbnail=png_bytes(),
        )
        for order in (1, 2)
    ]
    extraction = SimpleNamespace(
        page_count=3, text="Text.", first_page_text="Title", affiliations=[], figures=found
    )

    processing.store_extraction(paper, pdf, extraction)

    figure.refresh_from_db()
    other.refresh_from_db()
    assert figure.caption == "Figure 1: Redrawn." and figure.hidden
    assert other.caption == "Figure 2: As the editor wrote it." and not other.hidden


def test_the_regenerate_command_says_what_really_happened(fake_llm, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.SUMMARIZER = "openai"
    paper = make_paper(topic=make_topic())
    make_summary(paper)
    for _ in range(3):
        fake_llm.error(500, "the model is down")
    out = StringIO()
    with pytest.raises(CommandError, match="1 paper"):
        call_command("regenerate_summaries", paper.arxiv_id, stdout=out)
    printed = out.getvalue()
    assert "Summaries written: 0 paper(s)." in printed
    assert f"{paper.arxiv_id}: Summary (openai)" in printed and "HTTP 500" in printed
    assert "Regenerated" not in printed
