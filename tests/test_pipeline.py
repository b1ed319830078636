"""The whole pipeline on generated PDFs served by the local arXiv stand-in."""

import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from papers import pipeline, processing, tagging, tasks
from papers.models import SUMMARY_FIELDS, Digest, Figure, Paper, Summary
from papers.storage import private_storage
from tests.arxiv_server import Answer, atom_feed, entry
from tests.factories import make_topic
from tools.badpdfs import make_encrypted_pdf, make_scanned_pdf
from tools.pdfgen import make_paper_pdf

pytestmark = pytest.mark.django_db
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory) -> tuple[bytes, dict]:
    path = tmp_path_factory.mktemp("pdf") / "paper.pdf"
    facts = make_paper_pdf(
        path,
        figures=["bitmap", "vector"],
        pages=3,
        table=False,
        links=["https://github.com/example/talking-heads"],
    )
    return path.read_bytes(), facts


def serve(fake_arxiv, arxiv_id: str, body: bytes, version: int = 1, **entry_fields) -> str:
    path = f"/pdf/{arxiv_id}v{version}"
    fake_arxiv.files[path] = Answer(body, content_type="application/pdf")
    return entry(arxiv_id, version, pdf_url=fake_arxiv.url + path, **entry_fields)


def private_files() -> set[str]:
    found = set()
    root = Path(private_storage().location)
    for path in root.rglob("*"):
        if path.is_file():
            found.add(str(path.relative_to(root)))
    return found


def test_fetch_topic_runs_every_step_and_is_idempotent(fake_arxiv, paper_pdf):
    body, facts = paper_pdf
    topic = make_topic("Talking Head Generation", auto_publish=True)
    fake_arxiv.licences = {"2410.00001": CC_BY}
    fake_arxiv.answers = [
        atom_feed(
            [
                serve(fake_arxiv, "2410.00001", body, title="Talking heads"),
                serve(fake_arxiv, "2410.00002", b"<html>not a pdf</html>"),
            ]
        )
    ]
    out = StringIO()
    call_command("fetch_topic", topic.slug, "--since", "2000-01-01", stdout=out, stderr=StringIO())
    assert re.search(r"^failed\s+1$", out.getvalue(), re.MULTILINE)

    good = Paper.objects.get(arxiv_id="2410.00001")
    assert good.state == Paper.State.DONE and good.page_count == facts["pages"]
    assert good.license == CC_BY and good.content_allowed
    assert "Introduction" in good.full_text
    assert good.pdf_file and good.figures.count() == len(facts["figures"])
    figure = good.figures.first()
    assert figure.image and figure.thumbnail and figure.caption.startswith("Figure 1")
    summary = good.summaries.get()
    # Every field is written, or stays empty with a warning when no sentence of the paper fits it.
    for name in SUMMARY_FIELDS:
        assert getattr(summary, name) or any(f"'{name}'" in w for w in summary.warnings), name
    assert summary.tldr and summary.key_takeaways and summary.method
    assert 3 <= len(summary.key_takeaways) <= 7
    source = " ".join(f"{good.abstract} {good.full_text}".split())
    assert all(" ".join(t.split()) in source for t in summary.key_takeaways)
    assert summary.links == [{"label": "Code", "url": "https://github.com/example/talking-heads"}]
    assert summary.affiliations == good.affiliations and good.affiliations

    bad = Paper.objects.get(arxiv_id="2410.00002")
    assert bad.state == Paper.State.FAILED and bad.title == "A paper"
    assert "not_pdf" in bad.last_error and bad.next_attempt_at > timezone.now()
    assert bad.summaries.exists()  # summarized from the abstract meanwhile

    digest = Digest.objects.get()
    assert [e.paper.arxiv_id for e in digest.entries.order_by("position")] == [
        "2410.00001",
        "2410.00002",
    ]

    files = private_files()
    rows = (Paper.objects.count(), Figure.objects.count(), Summary.objects.count())
    for paper in Paper.objects.all():
        paper.state = Paper.State.FETCHED
        paper.save()
        processing.process_paper(paper.pk)
    assert (Paper.objects.count(), Figure.objects.count(), Summary.objects.count()) == rows
    assert private_files() == files  # old files replaced, none left behind


@pytest.mark.parametrize("kind", ["encrypted", "truncated", "empty", "scanned"])
def test_bad_pdfs_keep_the_paper_and_its_metadata(fake_arxiv, paper_pdf, tmp_path, kind):
    body, _ = paper_pdf
    source = tmp_path / "source.pdf"
    source.write_bytes(body)
    if kind == "encrypted":
        bad = make_encrypted_pdf(source, tmp_path / "bad.pdf").read_bytes()
    elif kind == "truncated":
        bad = body[: len(body) // 10]
    elif kind == "scanned":
        bad = make_scanned_pdf(source, tmp_path / "scan.pdf", pages=2).read_bytes()
    else:
        bad = b""
    topic = make_topic()
    fake_arxiv.answers = [
        atom_feed([serve(fake_arxiv, "2410.00003", bad), serve(fake_arxiv, "2410.00004", body)])
    ]
    outcome = pipeline.fetch_topic(topic, since=LONG_AGO)
    for paper_id in outcome.to_process:
        processing.process_paper(paper_id)
    broken = Paper.objects.get(arxiv_id="2410.00003")
    assert broken.state == Paper.State.FAILED and broken.last_error and broken.abstract
    if kind == "scanned":
        assert "no_text" in broken.last_error and broken.page_count == 2
    assert Paper.objects.get(arxiv_id="2410.00004").state == Paper.State.DONE


def test_failed_papers_are_retried_after_their_back_off(fake_arxiv, paper_pdf):
    body, _ = paper_pdf
    topic = make_topic()
    fake_arxiv.answers = [atom_feed([serve(fake_arxiv, "2410.00005", b"", version=1)])]
    outcome = pipeline.fetch_topic(topic, since=LONG_AGO)
    processing.process_paper(outcome.to_process[0])
    paper = Paper.objects.get()
    assert paper.state == Paper.State.FAILED and paper.attempts == 1

    assert tasks.retry_failed_papers() == 0  # not due yet
    Paper.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    fake_arxiv.files["/pdf/2410.00005v1"] = Answer(body, content_type="application/pdf")
    assert tasks.retry_failed_papers() == 1
    assert Paper.objects.get().state == Paper.State.DONE


def test_a_new_version_refreshes_pdf_and_figures_but_not_a_locked_summary(
    fake_arxiv, paper_pdf, tmp_path
):
    body, _ = paper_pdf
    topic = make_topic()
    fake_arxiv.answers = [atom_feed([serve(fake_arxiv, "2410.00006", body)])]
    for paper_id in pipeline.fetch_topic(topic, since=LONG_AGO).to_process:
        processing.process_paper(paper_id)
    summary = Summary.objects.get()
    summary.tldr = "An editor's sentence."
    summary.lock()
    summary.save()

    fewer = tmp_path / "v2.pdf"
    make_paper_pdf(fewer, figures=["bitmap"], pages=2, table=False, seed=3)
    fake_arxiv.answers = [
        atom_feed(
            [
                serve(
                    fake_arxiv,
                    "2410.00006",
                    fewer.read_bytes(),
                    version=2,
                    updated="2024-10-20T00:00:00Z",
                )
            ]
        )
    ]
    outcome = pipeline.fetch_topic(topic, since=LONG_AGO)
    assert outcome.run.updated == 1
    for paper_id in outcome.to_process:
        processing.process_paper(paper_id)
    paper = Paper.objects.get()
    assert paper.version == 2 and paper.figures.count() == 1 and paper.page_count == 2
    summary = Summary.objects.get()
    assert summary.tldr == "An editor's sentence." and summary.locked and summary.stale


def test_only_a_few_short_keywords_become_tags():
    keywords = [
        "talking head",
        "a very long phrase of words",
        "diffusion",
        "lip",  # too broad to browse by
        "gaze",
        "x",
        "eyes",
        "Talking Heads",  # the same tag as the first
        "audio",
        "phoneme",
    ]
    assert tagging.keyword_names(keywords) == ["talking head", "diffusion", "gaze", "eyes", "audio"]


def test_a_paper_already_being_processed_is_left_to_its_worker(fake_arxiv):
    from django.core.cache import cache

    paper = make_paper_for_processing(fake_arxiv)
    cache.add(f"papers:processing:{paper.pk}", "another-task", 60)
    assert tasks.process_paper.delay(paper.pk).get() == "busy"
    assert Paper.objects.get().state == Paper.State.FETCHED
    cache.delete(f"papers:processing:{paper.pk}")
    assert tasks.process_paper.delay(paper.pk).get() == Paper.State.FAILED  # its PDF is a 404


def make_paper_for_processing(fake_arxiv) -> Paper:
    fake_arxiv.answers = [atom_feed([entry("2410.00009", pdf_url=fake_arxiv.url + "/pdf/x")])]
    outcome = pipeline.fetch_topic(make_topic(), since=LONG_AGO)
    return Paper.objects.get(pk=outcome.to_process[0])
