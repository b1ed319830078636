"""The editors' word is final, driven through the admin as an editor would, with the local fake
arXiv and LLM: corrections survive fetches, new versions and regeneration; history reverts whole
states; no admin request calls arXiv or an LLM."""

import datetime as dt

import pytest
from django.urls import reverse

from papers import pipeline, processing, vocabulary
from papers.models import Digest, Job, Paper, Status, Summary
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_digest, make_paper, make_summary, make_topic
from tests.test_admin import form_fields, make_editor, run_queued_jobs

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor_client(client, db):
    client.force_login(make_editor())
    return client


def arxiv_answer(version: int, title: str) -> list:
    return [
        atom_feed(
            [
                entry(
                    "2410.00001",
                    version,
                    title=title,
                    abstract="We make heads talk. It works well. The code is public.",
                    categories=("cs.CV", "cs.GR"),
                )
            ]
        )
    ]


def test_every_correction_survives_a_new_version_a_re_fetch_and_regeneration(
    editor_client, fake_arxiv
):
    topic = make_topic("Talking heads", query='abs:"talking head"')
    fake_arxiv.answers = arxiv_answer(1, "Talking heds that talk")
    pipeline.fetch_topic(topic, since=LONG_AGO)
    paper = Paper.objects.get()
    processing.summarize_paper(paper)
    pipeline.tag_paper(paper)
    computer_vision, graphics = (vocabulary.category_name(c) for c in ("cs.CV", "cs.GR"))
    assert {"Talking heads", computer_vision, graphics} <= set(paper.tags.names())

    # The editor corrects the title, the tags and the summary in one save of the paper form.
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    data = form_fields(editor_client.get(url), "paper_form")
    data["title"] = "Talking heads that talk"
    tags = set(paper.tags.names()) - {graphics} | {"editors pick"}
    data["tags"] = ", ".join(f'"{name}"' for name in sorted(tags))
    data["summaries-0-tldr"] = "The editor's one-liner."
    data["_save"] = "Save"
    assert editor_client.post(url, data).status_code == 302
    paper.refresh_from_db()
    assert paper.edited_fields == ["title", "tags"] and paper.removed_tags == [graphics.lower()]
    assert Summary.objects.get().locked

    def assert_corrections_kept() -> None:
        paper.refresh_from_db()
        assert paper.title == "Talking heads that talk"
        assert set(paper.tags.names()) == tags
        assert Summary.objects.get().tldr == "The editor's one-liner."

    # A new version, with a new title, arrives and is processed.
    fake_arxiv.answers = arxiv_answer(2, "Talking heads that talk, revised")
    assert pipeline.fetch_topic(topic, since=LONG_AGO).run.updated == 1
    processing.summarize_paper(paper)
    pipeline.tag_paper(paper)
    assert_corrections_kept()
    assert paper.version == 2 and paper.arxiv_changes == ["title"]

    # The same version again, and a regeneration from the admin.
    fake_arxiv.answers = arxiv_answer(2, "Talking heads that talk, revised")
    assert pipeline.fetch_topic(topic, since=LONG_AGO).run.updated == 0
    editor_client.post(
        reverse("admin:papers_paper_changelist"),
        {"action": "regenerate_summaries", "_selected_action": [paper.pk]},
    )
    (job,) = run_queued_jobs()
    assert job.result["kept"] == [paper.arxiv_id]
    assert_corrections_kept()

    # The editor is told, on the Today page and on the paper's page, and takes arXiv's title.
    today = editor_client.get(reverse("admin:papers_today")).content.decode()
    assert "arXiv changed text an editor had corrected" in today and paper.arxiv_id in today
    page = editor_client.get(url).content.decode()
    assert "arXiv changed text you had corrected" in page
    assert "Talking heads that talk, revised" in page
    change_url = reverse("admin:papers_paper_arxiv_change", args=[paper.pk, "title"])
    assert change_url in page
    assert editor_client.get(change_url).status_code == 405
    assert editor_client.post(change_url, {"take": "1"}).status_code == 302
    paper.refresh_from_db()
    assert paper.title == "Talking heads that talk, revised" and paper.arxiv_changes == []
    assert "title" not in paper.edited_fields
    assert "arXiv changed text" not in editor_client.get(url).content.decode()


def test_no_admin_request_calls_arxiv_or_an_llm(editor_client, fake_arxiv, fake_llm, settings):
    settings.SUMMARIZER = "openai"
    topic = make_topic("Talking heads")
    paper = make_paper(topic=topic, status=Status.DRAFT, pdf_url="")
    make_summary(paper)
    changelist = reverse("admin:papers_paper_changelist")

    topic_url = reverse("admin:papers_topic_change", args=[topic.pk])
    data = form_fields(editor_client.get(topic_url), "topic_form")
    data["query"] = 'abs:"talking face"'
    assert editor_client.post(topic_url, data).status_code == 200
    editor_client.post(
        reverse("admin:papers_topic_changelist"),
        {"action": "run_now", "_selected_action": [topic.pk]},
    )
    for action in ("retry", "regenerate_summaries"):
        editor_client.post(changelist, {"action": action, "_selected_action": [paper.pk]})
    editor_client.post(
        changelist,
        {"action": "regenerate_discarding_locks", "_selected_action": [paper.pk], "confirm": "yes"},
    )
    for url in (
        reverse("admin:papers_today"),
        reverse("admin:papers_paper_change", args=[paper.pk]),
        topic_url,
    ):
        assert editor_client.get(url).status_code == 200

    assert fake_arxiv.requests == [] and fake_llm.requests == []
    assert Job.objects.filter(state=Job.State.QUEUED).count() == 5
    today = editor_client.get(reverse("admin:papers_today")).content.decode()
    assert today.count('class="job job-queued"') == 5

    # The worker does the work; the admin shows how each job ended, and why one failed.
    for _ in range(8):
        fake_llm.error(500, "the model is down")
    jobs = run_queued_jobs()
    assert {job.kind for job in jobs} == set(Job.Kind.values)
    assert all(job.state in (Job.State.DONE, Job.State.FAILED) for job in jobs)
    assert fake_arxiv.requests and fake_llm.requests
    regeneration = next(job for job in jobs if job.kind == Job.Kind.REGENERATE)
    assert "HTTP 500" in regeneration.result["failed"][0][1]
    today = editor_client.get(reverse("admin:papers_today")).content.decode()
    assert "queued" not in today.lower().split('id="jobs"')[1].split("</ul>")[0]
    assert "the model is down" in today


def test_a_digest_revert_in_the_admin_round_trips_status_and_papers(editor_client):
    topic = make_topic()
    a, b, c = (make_paper(status=Status.DRAFT) for _ in range(3))
    digest = make_digest(topic, [a, b], status=Status.DRAFT)
    url = reverse("admin:papers_digest_change", args=[digest.pk])

    # Save once as it is: the record of the draft with its two papers.
    data = form_fields(editor_client.get(url), "digest_form")
    assert editor_client.post(url, data).status_code == 302
    draft = digest.history.order_by("-history_id").first()
    assert draft.status == Status.DRAFT and draft.paper_order == [a.arxiv_id, b.arxiv_id]

    # Add a paper, move it first, drop one, and publish.
    data = form_fields(editor_client.get(url), "digest_form")
    data["add_papers"] = c.arxiv_id
    assert editor_client.post(url, data).status_code == 302
    data = form_fields(editor_client.get(url), "digest_form")
    entries = {data[f"entries-{i}-id"]: i for i in range(3)}
    c_entry = digest.entries.get(paper=c)
    data[f"entries-{entries[str(c_entry.pk)]}-position"] = "0"
    data[f"entries-{entries[str(c_entry.pk)] - 2}-position"] = "5"
    a_entry = digest.entries.get(paper=a)
    data[f"entries-{entries[str(a_entry.pk)]}-DELETE"] = "on"
    data["_publish"] = "publish"
    assert editor_client.post(url, data).status_code == 302
    digest = Digest.objects.get()
    assert digest.status == Status.PUBLISHED
    assert digest.paper_ids_in_order() == [c.pk, b.pk]
    assert list(digest.entries.values_list("position", flat=True)) == [0, 1]
    assert set(Paper.objects.published().values_list("pk", flat=True)) == {b.pk, c.pk}
    published = digest.history.order_by("-history_id").first()
    assert published.paper_order == [c.arxiv_id, b.arxiv_id]
    history = editor_client.get(reverse("admin:papers_digest_history", args=[digest.pk]))
    assert history.status_code == 200 and c.arxiv_id in history.content.decode()

    # Revert to the draft through the history: status, papers and order come back, and the
    # papers leave the site with it.
    revert_url = reverse("admin:papers_digest_simple_history", args=[digest.pk, draft.pk])
    data = form_fields(editor_client.get(revert_url), "historicaldigest_form")
    assert editor_client.post(revert_url, data).status_code == 302
    digest = Digest.objects.get()
    assert digest.status == Status.DRAFT
    assert digest.paper_ids_in_order() == [a.pk, b.pk]
    assert not Paper.objects.published().exists()

    # And forward again.
    revert_url = reverse("admin:papers_digest_simple_history", args=[digest.pk, published.pk])
    data = form_fields(editor_client.get(revert_url), "historicaldigest_form")
    assert editor_client.post(revert_url, data).status_code == 302
    digest = Digest.objects.get()
    assert digest.status == Status.PUBLISHED
    assert digest.paper_ids_in_order() == [c.pk, b.pk]
    assert set(Paper.objects.published().values_list("pk", flat=True)) == {b.pk, c.pk}


def test_a_summary_revert_in_the_admin_stays_stale_on_a_newer_version(editor_client):
    paper = make_paper()
    summary = make_summary(paper, paper_version=1)
    old = summary.history.order_by("-history_id").first()
    Paper.objects.filter(pk=paper.pk).update(version=2)
    Summary.objects.filter(pk=summary.pk).update(stale=True, tldr="Written for version 2?")

    revert_url = reverse("admin:papers_summary_simple_history", args=[summary.pk, old.pk])
    data = form_fields(editor_client.get(revert_url), "historicalsummary_form")
    assert editor_client.post(revert_url, data).status_code == 302
    summary.refresh_from_db()
    assert summary.tldr == old.tldr and summary.stale


def test_the_summary_page_shows_the_request_sent_and_warnings_as_a_list(editor_client):
    paper = make_paper()
    summary = make_summary(
        paper,
        warnings=["link 'https://x.example' not found in the paper's text"],
        request={
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You summarize <papers>."},
                {"role": "user", "content": "Title: Heads"},
            ],
        },
    )
    page = editor_client.get(reverse("admin:papers_summary_change", args=[summary.pk]))
    html = page.content.decode()
    assert "<li>link &#x27;https://x.example&#x27; not found in the paper&#x27;s text</li>" in html
    assert "You summarize &lt;papers&gt;." in html and "Title: Heads" in html
    assert "test-model" in html


def test_a_paused_imported_topic_is_made_active_only_after_a_dry_run(editor_client, fake_arxiv):
    from django_celery_beat.models import PeriodicTask

    topic = make_topic("元宇宙/虚拟人", active=False, query_checked=False)
    assert not PeriodicTask.objects.filter(task="papers.fetch_topic").exists()
    url = reverse("admin:papers_topic_change", args=[topic.pk])
    data = form_fields(editor_client.get(url), "topic_form")
    data["description"] = "Described, still paused."
    assert editor_client.post(url, data).status_code == 302  # no dry run needed to stay paused

    data = form_fields(editor_client.get(url), "topic_form")
    data["active"] = "on"
    first = editor_client.post(url, data)
    assert (
        first.status_code == 200 and "A dry run of this query is queued" in first.content.decode()
    )
    run_queued_jobs()
    second = editor_client.post(url, form_fields(first, "topic_form"))
    assert second.status_code == 200 and "papers matched" in second.content.decode()
    assert editor_client.post(url, form_fields(second, "topic_form")).status_code == 302
    topic.refresh_from_db()
    assert topic.active and topic.query_checked
    assert PeriodicTask.objects.get(task="papers.fetch_topic").enabled


def test_a_caption_an_editor_corrects_is_marked_so_extractions_keep_it(editor_client):
    from tests.factories import make_figure

    figure = make_figure(make_paper(), order=1)
    url = reverse("admin:papers_figure_change", args=[figure.pk])
    data = form_fields(editor_client.get(url), "figure_form")
    data["caption"] = "Figure 1: The editor's caption."
    assert editor_client.post(url, data).status_code == 302
    figure.refresh_from_db()
    assert figure.caption_edited
