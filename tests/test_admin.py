"""The editors' admin through the test client, as an editor: forms posted whole, as a browser would."""

import datetime as dt
import importlib
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone

from papers import processing
from papers.models import (
    DigestEntry,
    ErrorReport,
    Job,
    Paper,
    PipelineRun,
    Status,
    Summary,
    Topic,
)
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
MAX_QUERIES = 40


def editors_group() -> Group:
    """The group the data migration made; rebuilt from the migration's lists after a flush."""
    group, _ = Group.objects.get_or_create(name="Editors")
    if not group.permissions.exists():
        migration = importlib.import_module("papers.migrations.0002_editors_group")
        for app_label, models in migration.EDITABLE.items():
            for model in models:
                for action in ("add", "change", "delete", "view"):
                    group.permissions.add(
                        *Permission.objects.filter(
                            content_type__app_label=app_label, codename=f"{action}_{model}"
                        )
                    )
        for app_label, models in migration.VIEW_ONLY.items():
            for model in models:
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label=app_label, codename=f"view_{model}"
                    )
                )
    return group


def make_editor(username: str = "editor", password: str = "a long editor password") -> User:
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.groups.add(editors_group())
    return user


class FormReader(HTMLParser):
    """What a browser would submit for one <form>: inputs, checked boxes, selects, textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_value: str | None = None
        self.select_first: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self.select, self.select_value, self.select_first = name, None, None
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in attrs:
                self.select_value = value
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            value = self.select_value if self.select_value is not None else self.select_first
            self.fields.append((self.select, value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea:
            # Browsers drop the one newline that follows <textarea>.
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def form_fields(response, form_id: str) -> dict:
    reader = FormReader(form_id)
    reader.feed(response.content.decode())
    assert reader.fields, f"no form {form_id!r} on the page"
    return dict(reader.fields)


def run_queued_jobs() -> list[Job]:
    """What a worker does after the request: run the jobs the admin queued."""
    from papers import tasks

    queued = list(Job.objects.filter(state=Job.State.QUEUED).order_by("pk"))
    for job in queued:
        tasks.run_job(job.pk)
    return [Job.objects.get(pk=job.pk) for job in queued]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(db) -> User:
    return make_editor()


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


# Permissions


@pytest.mark.django_db
def test_the_migration_makes_an_editors_group_that_edits_content_not_people():
    group = Group.objects.get(name="Editors")
    codenames = set(group.permissions.values_list("codename", flat=True))
    for model in ("paper", "summary", "figure", "digest", "topic", "errorreport"):
        assert f"change_{model}" in codenames
    assert not codenames & {"change_user", "add_user", "view_user", "change_group", "view_group"}


def test_editors_cannot_reach_user_management(editor_client):
    for url in ("/admin/auth/user/", "/admin/auth/group/", "/admin/auth/user/add/"):
        assert editor_client.get(url).status_code == 403
    index = editor_client.get("/admin/").content.decode()
    assert "/admin/auth/user/" not in index
    assert "/admin/papers/paper/" in index


@pytest.mark.django_db
def test_the_admin_is_for_staff_only(client):
    reader = User.objects.create_user("reader", password="a long reader password")
    reader.groups.add(editors_group())
    client.force_login(reader)
    response = client.get("/admin/papers/paper/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_editors_see_every_topic(editor_client):
    for name in ("Talking heads", "Gaussian splatting", "Protein folding"):
        make_topic(name)
    page = editor_client.get("/admin/papers/topic/").content.decode()
    for name in ("Talking heads", "Gaussian splatting", "Protein folding"):
        assert name in page


# Constant query counts


def grow(world: dict, count: int) -> None:
    """Add `count` rows of everything, hanging off the same topic, digest, paper and summary."""
    for _ in range(count):
        topic = make_topic()
        PipelineRun.objects.create(topic=topic, status=PipelineRun.State.FAILED, errors=["x"])
        paper = make_paper(
            topic=world["topic"], tags=[f"tag-{topic.pk}", "cs.CV"], status=Status.REVIEW
        )
        make_summary(paper, locked=True)
        make_figure(paper)
        DigestEntry.objects.create(digest=world["digest"], paper=paper, position=paper.pk)
        make_figure(world["paper"])
        world["paper"].tags.add(f"extra-{topic.pk}")
        make_digest(topic, [paper], status=Status.DRAFT)
        ErrorReport.objects.create(
            paper=world["paper"], summary=world["summary"], message=f"Wrong {topic.pk}"
        )
        ErrorReport.objects.create(paper=paper, summary=paper.summaries.first(), message="Typo")


@pytest.fixture
def world(db) -> dict:
    topic = make_topic("Talking heads")
    paper = make_paper(topic=topic, license=CC_BY, status=Status.DRAFT)
    summary = make_summary(paper)
    digest = make_digest(topic, [paper], status=Status.DRAFT)
    return {"topic": topic, "paper": paper, "summary": summary, "digest": digest}


def admin_urls(world: dict) -> list[str]:
    urls = [
        reverse(f"admin:papers_{model}_changelist")
        for model in (
            "topic",
            "paper",
            "summary",
            "figure",
            "digest",
            "pipelinerun",
            "tag",
            "errorreport",
        )
    ]
    urls += [
        reverse("admin:papers_topic_change", args=[world["topic"].pk]),
        reverse("admin:papers_paper_change", args=[world["paper"].pk]),
        reverse("admin:papers_summary_change", args=[world["summary"].pk]),
        reverse("admin:papers_digest_change", args=[world["digest"].pk]),
        reverse("admin:papers_figure_change", args=[world["paper"].figures.first().pk]),
        reverse("admin:papers_errorreport_change", args=[ErrorReport.objects.first().pk]),
        reverse("admin:papers_paper_history", args=[world["paper"].pk]),
        reverse("admin:papers_summary_compare", args=[world["summary"].pk]),
        reverse("admin:papers_digest_preview", args=[world["digest"].pk]),
        reverse("admin:papers_today"),
        reverse("admin:index"),
    ]
    return urls


def count_queries(client, url: str, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_admin_pages_cost_the_same_queries_at_two_sizes(
    editor_client, world, django_assert_max_num_queries
):
    grow(world, 2)
    urls = admin_urls(world)
    for url in urls:  # Per-process caches (content types) fill on the first visit.
        editor_client.get(url)
    small = {url: count_queries(editor_client, url, django_assert_max_num_queries) for url in urls}
    grow(world, 6)
    large = {url: count_queries(editor_client, url, django_assert_max_num_queries) for url in urls}
    assert large == small
    # The large pages did show the larger data.
    page = editor_client.get(reverse("admin:papers_paper_change", args=[world["paper"].pk]))
    assert page.content.decode().count('name="figures-') >= 9


# Correcting a summary


def test_saving_the_paper_form_with_its_inlines_locks_the_summary_and_keeps_history(
    editor_client, editor, world
):
    paper, summary = world["paper"], world["summary"]
    make_figure(paper)
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    page = editor_client.get(url)
    assert paper.abstract in page.content.decode()
    data = form_fields(page, "paper_form")
    assert data["summaries-TOTAL_FORMS"] == "1"
    assert data["summaries-0-key_takeaways"] == "First point.\nSecond point.\nThird point."
    machine_tldr = summary.tldr
    data["summaries-0-tldr"] = "The editor's one-liner."
    data["summaries-0-key_takeaways"] = "Only this.\nAnd that."
    data["summaries-0-links"] = "Code https://github.com/example/talking"
    data["_save"] = "Save"

    response = editor_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    summary.refresh_from_db()
    assert summary.tldr == "The editor's one-liner."
    assert summary.key_takeaways == ["Only this.", "And that."]
    assert summary.links == [{"label": "Code", "url": "https://github.com/example/talking"}]
    assert summary.locked and summary.locked_by == editor and summary.locked_at
    latest, previous = summary.history.order_by("-history_date", "-history_id")[:2]
    assert latest.history_user == editor and latest.tldr == "The editor's one-liner."
    assert previous.tldr == machine_tldr and not previous.locked


def test_saving_the_paper_form_unchanged_does_not_lock(editor_client, world):
    url = reverse("admin:papers_paper_change", args=[world["paper"].pk])
    data = form_fields(editor_client.get(url), "paper_form")
    data["_save"] = "Save"
    assert editor_client.post(url, data).status_code == 302
    world["summary"].refresh_from_db()
    assert not world["summary"].locked


def test_a_bad_link_line_is_refused_with_the_form_kept(editor_client, world):
    url = reverse("admin:papers_summary_change", args=[world["summary"].pk])
    data = form_fields(editor_client.get(url), "summary_form")
    data["links"] = "no url here"
    data["tldr"] = "Changed"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "label and then its http(s) URL" in response.content.decode()
    world["summary"].refresh_from_db()
    assert world["summary"].tldr != "Changed" and not world["summary"].locked


def test_the_summary_page_shows_the_paper_and_the_machine_text_and_reverts(
    editor_client, editor, world
):
    paper, summary = world["paper"], world["summary"]
    figure = make_figure(paper, caption="Figure 1: The talking head pipeline.")
    ErrorReport.objects.create(paper=paper, summary=summary, message="The tldr is wrong.")
    url = reverse("admin:papers_summary_change", args=[summary.pk])
    page = editor_client.get(url)
    html = page.content.decode()
    assert paper.abstract in html
    assert figure.thumbnail_url in html
    assert "The tldr is wrong." in html
    machine_tldr = summary.tldr

    data = form_fields(page, "summary_form")
    data["tldr"] = "Corrected by hand."
    assert editor_client.post(url, data).status_code == 302
    summary.refresh_from_db()
    assert summary.locked and summary.locked_by == editor

    compare = editor_client.get(reverse("admin:papers_summary_compare", args=[summary.pk]))
    html = compare.content.decode()
    assert machine_tldr in html and "Corrected by hand." in html
    machine = summary.history.filter(locked=False).order_by("-history_date").first()
    revert_url = reverse("admin:papers_summary_simple_history", args=[summary.pk, machine.pk])
    assert revert_url in html

    revert_page = editor_client.get(revert_url)
    data = form_fields(revert_page, "historicalsummary_form")
    assert data["tldr"] == machine_tldr
    assert editor_client.post(revert_url, data).status_code == 302
    summary.refresh_from_db()
    assert summary.tldr == machine_tldr
    assert not summary.locked
    assert summary.history.count() == 3


def test_tags_are_edited_in_the_paper_form(editor_client, world):
    url = reverse("admin:papers_paper_change", args=[world["paper"].pk])
    data = form_fields(editor_client.get(url), "paper_form")
    data["tags"] = "lip sync, 说话人头像"
    data["_save"] = "Save"
    assert editor_client.post(url, data).status_code == 302
    assert sorted(t.name for t in world["paper"].tags.all()) == ["lip sync", "说话人头像"]


def test_tag_suggestions_list_the_tags_in_use_most_used_first(client, editor_client, world):
    make_paper(tags=["lip sync", "lip reading"])
    make_paper(tags=["lip sync"])
    url = reverse("admin:papers_tag_suggest")
    tags = editor_client.get(url, {"q": "LIP"}).json()["tags"]
    assert tags == [{"name": "lip sync", "papers": 2}, {"name": "lip reading", "papers": 1}]
    client.logout()
    assert client.get(url, {"q": "lip"}).status_code == 302  # to the login page


def test_saving_an_unchanged_paper_keeps_its_lists_as_they_were(editor_client, world):
    paper = world["paper"]
    Paper.objects.filter(pk=paper.pk).update(
        authors=[
            {"name": "Ada Lovelace", "affiliation": "Analytical Engines"},
            {"name": "Alan Turing"},
        ],
        categories=["cs.CV", "cs.LG"],
        affiliations=["University of Cambridge"],
    )
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    page = editor_client.get(url)
    html = page.content.decode()
    assert "Ada Lovelace; Analytical Engines\nAlan Turing" in html
    # One label per concept: the PDF's lines and the summary's affiliations are named apart.
    assert "Affiliation lines found on the PDF:" in html
    assert "affiliations (shown on the site):" in html
    assert ">Affiliations:<" not in html
    data = form_fields(page, "paper_form")
    data["_save"] = "Save"
    assert editor_client.post(url, data).status_code == 302
    paper.refresh_from_db()
    assert paper.authors == [
        {"name": "Ada Lovelace", "affiliation": "Analytical Engines"},
        {"name": "Alan Turing"},
    ]
    assert paper.categories == ["cs.CV", "cs.LG"]
    assert paper.affiliations == ["University of Cambridge"]


# Figures


def test_figures_swap_their_order_and_hide_through_the_paper_form(editor_client, world):
    paper = world["paper"]
    first, second, third = (make_figure(paper, order=n) for n in (1, 2, 3))
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    data = form_fields(editor_client.get(url), "paper_form")
    rows = {data[f"figures-{i}-id"]: i for i in range(3)}
    data[f"figures-{rows[str(first.pk)]}-order"] = "2"
    data[f"figures-{rows[str(second.pk)]}-order"] = "1"
    data[f"figures-{rows[str(third.pk)]}-hidden"] = "on"
    data["_save"] = "Save"

    response = editor_client.post(url, data)

    assert response.status_code == 302
    orders = dict(paper.figures.values_list("pk", "order"))
    assert orders == {first.pk: 2, second.pk: 1, third.pk: 3}
    third.refresh_from_db()
    assert third.hidden


def test_two_figures_with_one_order_are_refused(editor_client, world):
    paper = world["paper"]
    make_figure(paper, order=1)
    make_figure(paper, order=2)
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    data = form_fields(editor_client.get(url), "paper_form")
    data["figures-0-order"] = "5"
    data["figures-1-order"] = "5"
    data["_save"] = "Save"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "Please correct the duplicate data for order" in response.content.decode()
    assert sorted(paper.figures.values_list("order", flat=True)) == [1, 2]


# Digests


def test_the_cover_is_chosen_among_the_digests_own_figures(editor_client, world):
    digest, paper = world["digest"], world["paper"]
    mine = make_figure(paper)
    hidden = make_figure(paper, hidden=True)
    elsewhere = make_figure(make_paper())
    url = reverse("admin:papers_digest_change", args=[digest.pk])
    page = editor_client.get(url)
    data = form_fields(page, "digest_form")
    html = page.content.decode()
    assert f'name="cover" value="{mine.pk}"' in html
    assert f'name="cover" value="{hidden.pk}"' not in html
    assert f'name="cover" value="{elsewhere.pk}"' not in html

    data["cover"] = str(elsewhere.pk)
    assert editor_client.post(url, data).status_code == 200
    data["cover"] = str(mine.pk)
    assert editor_client.post(url, data).status_code == 302
    digest.refresh_from_db()
    assert digest.cover == mine


def test_digest_papers_are_added_reordered_and_removed_in_its_form(editor_client, world):
    digest, first = world["digest"], world["paper"]
    second = make_paper(topic=world["topic"], status=Status.DRAFT)
    third = make_paper(topic=world["topic"], status=Status.DRAFT)
    url = reverse("admin:papers_digest_change", args=[digest.pk])
    data = form_fields(editor_client.get(url), "digest_form")
    data["add_papers"] = f"{second.arxiv_id}v2, arXiv:{third.arxiv_id}"
    data["intro"] = "Two new papers today."
    assert editor_client.post(url, data).status_code == 302
    assert [e.paper for e in digest.entries.order_by("position")] == [first, second, third]

    data = form_fields(editor_client.get(url), "digest_form")
    rows = {data[f"entries-{i}-id"]: i for i in range(3)}
    entry = {e.paper_id: e for e in digest.entries.all()}
    data[f"entries-{rows[str(entry[third.pk].pk)]}-position"] = "0"
    data[f"entries-{rows[str(entry[first.pk].pk)]}-position"] = "5"
    data[f"entries-{rows[str(entry[second.pk].pk)]}-DELETE"] = "on"
    assert editor_client.post(url, data).status_code == 302
    assert [e.paper for e in digest.entries.order_by("position")] == [third, first]
    digest.refresh_from_db()
    assert digest.intro == "Two new papers today."


def test_unknown_papers_cannot_be_added(editor_client, world):
    url = reverse("admin:papers_digest_change", args=[world["digest"].pk])
    data = form_fields(editor_client.get(url), "digest_form")
    data["add_papers"] = "2501.99999 not-an-id"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "not-an-id" in response.content.decode()


def test_preview_shows_an_unpublished_digest_then_publishing_puts_it_on_the_site(
    editor_client, client, world
):
    digest, paper = world["digest"], world["paper"]
    hidden = make_paper(topic=world["topic"], status=Status.HIDDEN, title="A hidden paper")
    DigestEntry.objects.create(digest=digest, paper=hidden, position=9)
    public_url = digest.get_absolute_url()
    assert client.get(public_url).status_code == 404

    preview = editor_client.get(reverse("admin:papers_digest_preview", args=[digest.pk]))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert paper.title in html and world["summary"].tldr in html
    assert "A hidden paper" not in html
    assert "Preview" in html

    url = reverse("admin:papers_digest_change", args=[digest.pk])
    data = form_fields(editor_client.get(url), "digest_form")
    data["_publish"] = "publish"
    assert editor_client.post(url, data).status_code == 302
    digest.refresh_from_db()
    paper.refresh_from_db()
    hidden.refresh_from_db()
    assert digest.status == Status.PUBLISHED and paper.status == Status.PUBLISHED
    assert hidden.status == Status.HIDDEN
    editor_client.logout()
    assert paper.title in client.get(public_url).content.decode()

    # Back to review through the status field: off the site, papers too.
    editor_client.force_login(User.objects.get(username="editor"))
    data = form_fields(editor_client.get(url), "digest_form")
    data["status"] = Status.REVIEW
    assert editor_client.post(url, data).status_code == 302
    paper.refresh_from_db()
    assert paper.status == Status.REVIEW
    editor_client.logout()
    assert client.get(public_url).status_code == 404


def test_digest_actions_publish_unpublish_and_hide(editor_client, world):
    digest, paper = world["digest"], world["paper"]
    url = reverse("admin:papers_digest_changelist")
    for action, digest_status, paper_status in (
        ("publish", Status.PUBLISHED, Status.PUBLISHED),
        ("unpublish", Status.REVIEW, Status.REVIEW),
        ("hide", Status.HIDDEN, Status.REVIEW),
    ):
        response = editor_client.post(url, {"action": action, "_selected_action": [digest.pk]})
        assert response.status_code == 302
        digest.refresh_from_db()
        paper.refresh_from_db()
        assert (digest.status, paper.status) == (digest_status, paper_status), action
    assert digest.history.filter(history_user__username="editor").count() >= 3


# Bulk actions on papers


def test_paper_actions_publish_send_to_review_and_hide(editor_client, world):
    papers = [world["paper"], make_paper(status=Status.DRAFT)]
    url = reverse("admin:papers_paper_changelist")
    ids = [p.pk for p in papers]
    for action, status in (
        ("publish", Status.PUBLISHED),
        ("send_to_review", Status.REVIEW),
        ("hide", Status.HIDDEN),
    ):
        response = editor_client.post(url, {"action": action, "_selected_action": ids})
        assert response.status_code == 302
        assert set(Paper.objects.filter(pk__in=ids).values_list("status", flat=True)) == {status}


def test_regenerate_keeps_locked_summaries(editor_client, world):
    kept_paper = make_paper(status=Status.DRAFT, abstract="We propose a method. It is fast.")
    kept = make_summary(kept_paper, tldr="An editor wrote this.", locked=True)
    summary = world["summary"]
    Summary.objects.filter(pk=summary.pk).update(tldr="old machine text")
    response = editor_client.post(
        reverse("admin:papers_paper_changelist"),
        {"action": "regenerate_summaries", "_selected_action": [world["paper"].pk, kept_paper.pk]},
    )
    assert response.status_code == 302
    (job,) = run_queued_jobs()
    assert job.state == Job.State.DONE
    assert job.result["kept"] == [kept_paper.arxiv_id]
    assert job.result["written"] == [world["paper"].arxiv_id]
    kept.refresh_from_db()
    summary.refresh_from_db()
    assert kept.tldr == "An editor wrote this." and kept.locked
    assert summary.tldr != "old machine text" and not summary.stale


def test_discarding_locks_asks_first_then_regenerates(editor_client, world):
    paper = world["paper"]
    summary = world["summary"]
    Summary.objects.filter(pk=summary.pk).update(tldr="An editor wrote this.", locked=True)
    url = reverse("admin:papers_paper_changelist")
    ask = editor_client.post(
        url, {"action": "regenerate_discarding_locks", "_selected_action": [paper.pk]}
    )
    assert ask.status_code == 200
    assert "discard the corrections" in ask.content.decode()
    summary.refresh_from_db()
    assert summary.locked and summary.tldr == "An editor wrote this."

    data = form_fields(ask, "regenerate-form")
    response = editor_client.post(url, data)
    assert response.status_code == 302
    run_queued_jobs()
    summary.refresh_from_db()
    assert not summary.locked and summary.tldr != "An editor wrote this."
    assert summary.history.filter(tldr="An editor wrote this.").exists()


def test_retry_runs_the_selected_papers_in_a_job(editor_client, world):
    paper = world["paper"]
    Paper.objects.filter(pk=paper.pk).update(
        state=Paper.State.FAILED, attempts=6, last_error="PDF (encrypted): no", pdf_url=""
    )
    response = editor_client.post(
        reverse("admin:papers_paper_changelist"),
        {"action": "retry", "_selected_action": [paper.pk]},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.kind == Job.Kind.RETRY and list(job.papers.all()) == [paper]
    assert job.state == Job.State.QUEUED

    (job,) = run_queued_jobs()
    assert job.state == Job.State.DONE
    (failure,) = job.result["failed"]
    assert failure[0] == paper.arxiv_id
    paper.refresh_from_db()
    assert paper.attempts == 1  # counted again from zero
    page = editor_client.get(reverse("admin:papers_paper_change", args=[paper.pk]))
    assert "Retry papers" in page.content.decode() and "failed: 1" in page.content.decode()


def test_an_editor_sets_a_licence_arxiv_has_not_told(editor_client, world, fake_arxiv):
    paper = world["paper"]
    Paper.objects.filter(pk=paper.pk).update(license="", license_checked_at=None)
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    data = form_fields(editor_client.get(url), "paper_form")
    data["license"] = CC_BY
    assert editor_client.post(url, data).status_code == 302
    paper.refresh_from_db()
    assert paper.license == CC_BY and paper.license_checked_at and paper.content_allowed
    fake_arxiv.licences = {paper.arxiv_id: ""}
    assert processing.check_missing_licences(10) == 0  # the editor's licence stands
    assert fake_arxiv.hits("/oai") == 0


# Topics: the dry run


def test_a_changed_query_shows_a_dry_run_before_it_is_saved(editor_client, world, fake_arxiv):
    topic = world["topic"]
    now = timezone.now()
    recent = (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_arxiv.answers = [
        atom_feed(
            [
                entry("2501.00001", title="Talking faces in the wild", published=recent),
                entry(world["paper"].arxiv_id, title="Already here", published=recent),
            ]
        )
    ]
    url = reverse("admin:papers_topic_change", args=[topic.pk])
    data = form_fields(editor_client.get(url), "topic_form")
    data["query"] = 'abs:"talking face"'
    papers_before = Paper.objects.count()

    first = editor_client.post(url, data)

    assert first.status_code == 200
    assert "A dry run of this query is queued" in first.content.decode()
    assert fake_arxiv.queries() == []  # the request only queued it
    (job,) = run_queued_jobs()
    assert job.state == Job.State.DONE

    second = editor_client.post(url, form_fields(first, "topic_form"))

    assert second.status_code == 200
    html = second.content.decode()
    assert "Talking faces in the wild" in html and "already stored" in html
    assert "save again to keep it" in html
    topic.refresh_from_db()
    assert topic.query == 'abs:"talking head"'
    assert Paper.objects.count() == papers_before
    (asked,) = fake_arxiv.queries()
    assert 'abs:"talking face"' in asked["search_query"][0]

    third = editor_client.post(url, form_fields(second, "topic_form"))

    assert third.status_code == 302
    topic.refresh_from_db()
    assert topic.query == 'abs:"talking face"' and topic.query_checked
    assert len(fake_arxiv.queries()) == 1


def test_the_dry_run_lists_what_the_exclusions_leave_out_and_why(editor_client, world, fake_arxiv):
    recent = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_arxiv.answers = [
        atom_feed(
            [
                entry("2501.00001", title="Talking heads began early", published=recent),
                entry("2501.00002", title="A GAN for talking heads", published=recent),
                entry("2501.00003", title="Talking heads", categories=("cs.SD",), published=recent),
            ]
        )
    ]
    url = reverse("admin:papers_topic_change", args=[world["topic"].pk])
    data = form_fields(editor_client.get(url), "topic_form")
    data["exclude_terms"] = "GAN\ncat:cs.SD"

    first = editor_client.post(url, data)
    (job,) = run_queued_jobs()
    assert job.state == Job.State.DONE
    html = editor_client.post(url, form_fields(first, "topic_form")).content.decode()

    assert "1 paper matched" in html and "2 papers left out by the exclusions" in html
    kept, excluded = html.split("left out by the exclusions")
    assert "Talking heads began early" in kept
    assert '<td class="excluded-by">GAN</td>' in excluded
    assert '<td class="excluded-by">cat:cs.SD</td>' in excluded
    assert "A GAN for talking heads" in excluded


def test_other_topic_changes_save_without_a_dry_run(editor_client, world, fake_arxiv):
    topic = world["topic"]
    url = reverse("admin:papers_topic_change", args=[topic.pk])
    data = form_fields(editor_client.get(url), "topic_form")
    data["description"] = "Faces that talk."
    assert editor_client.post(url, data).status_code == 302
    assert fake_arxiv.queries() == [] and not Job.objects.exists()


def test_an_unreachable_arxiv_fails_the_dry_run_with_the_reason(editor_client, world, fake_arxiv):
    from tests.arxiv_server import Answer

    fake_arxiv.answers = [Answer(b"down", status=503)]
    url = reverse("admin:papers_topic_change", args=[world["topic"].pk])
    data = form_fields(editor_client.get(url), "topic_form")
    data["categories"] = "cs.CV"
    first = editor_client.post(url, data)
    assert first.status_code == 200
    (job,) = run_queued_jobs()
    assert job.state == Job.State.FAILED and "503" in job.error
    second = editor_client.post(url, form_fields(first, "topic_form"))
    assert second.status_code == 200
    assert "The query could not be tried" in second.content.decode()
    assert "503" in second.content.decode()
    # Saving again tries again; the query is kept only once a dry run worked.
    third = editor_client.post(url, form_fields(second, "topic_form"))
    assert third.status_code == 200 and Job.objects.count() == 2
    world["topic"].refresh_from_db()
    assert world["topic"].categories == ""


def test_a_new_topic_gets_a_dry_run_too(editor_client, fake_arxiv):
    url = reverse("admin:papers_topic_add")
    data = form_fields(editor_client.get(url), "topic_form")
    data.update({"name": "Splats", "slug": "splats", "query": 'abs:"gaussian splatting"'})
    first = editor_client.post(url, data)
    assert first.status_code == 200 and not Topic.objects.filter(slug="splats").exists()
    run_queued_jobs()
    second = editor_client.post(url, form_fields(first, "topic_form"))
    assert second.status_code == 200 and "0 papers matched" in second.content.decode()
    assert editor_client.post(url, form_fields(second, "topic_form")).status_code == 302
    assert Topic.objects.filter(slug="splats").exists()


# Readers' reports


def test_reports_queue_links_to_the_summary_and_resolves(editor_client, editor, world):
    report = ErrorReport.objects.create(
        paper=world["paper"], summary=world["summary"], message="The method is misdescribed."
    )
    page = editor_client.get(reverse("admin:papers_errorreport_changelist")).content.decode()
    assert "The method is misdescribed." in page
    assert reverse("admin:papers_summary_change", args=[world["summary"].pk]) in page

    url = reverse("admin:papers_errorreport_change", args=[report.pk])
    data = form_fields(editor_client.get(url), "errorreport_form")
    data["resolved"] = "on"
    assert editor_client.post(url, data).status_code == 302
    report.refresh_from_db()
    assert report.resolved and report.resolved_by == editor and report.resolved_at

    response = editor_client.post(
        reverse("admin:papers_errorreport_changelist"),
        {"action": "reopen", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert not report.resolved and report.resolved_by is None


# The "today" view


def test_today_shows_waiting_failed_papers_and_runs_with_problems_first(editor_client, world):
    quiet = make_topic("Quiet topic")
    PipelineRun.objects.create(topic=quiet, status=PipelineRun.State.SUCCEEDED, found=4)
    broken = make_topic("Broken topic")
    PipelineRun.objects.create(
        topic=broken, status=PipelineRun.State.FAILED, errors=["arXiv: HTTP 503"]
    )
    stuck = make_topic("Stuck topic")
    PipelineRun.objects.create(
        topic=stuck, started_at=timezone.now() - dt.timedelta(hours=5)
    )  # still "running"
    failed = make_paper(topic=quiet, status=Status.DRAFT, title="A paper whose PDF broke")
    Paper.objects.filter(pk=failed.pk).update(
        state=Paper.State.FAILED, last_error="PDF (encrypted): needs a password"
    )

    html = editor_client.get(reverse("admin:papers_today")).content.decode()

    assert "last run FAILED" in html and "arXiv: HTTP 503" in html
    assert "STALLED" in html
    assert "needs a password" in html
    assert world["paper"].title in html
    assert reverse("admin:papers_digest_preview", args=[world["digest"].pk]) in html
    assert html.index("Broken topic") < html.index("Quiet topic")
    assert html.index("Stuck topic") < html.index("Quiet topic")
    assert f'class="module topic-day attention" id="topic-{broken.pk}"' in html
    assert reverse("admin:papers_today") in editor_client.get("/admin/").content.decode()


def test_topic_list_marks_a_failed_last_run(editor_client):
    topic = make_topic("Broken topic")
    PipelineRun.objects.create(topic=topic, status=PipelineRun.State.FAILED)
    html = editor_client.get(reverse("admin:papers_topic_changelist")).content.decode()
    assert 'class="run-failed"' in html


# Markdown import and export, wired into the digest admin


def test_digest_list_links_to_the_markdown_import_and_exports(editor_client, world):
    changelist = editor_client.get(reverse("admin:papers_digest_changelist"))
    import_url = reverse("admin:papers_digest_import")
    assert import_url == "/admin/papers/digest/import/"
    assert import_url in changelist.content.decode()
    page = editor_client.get(import_url)
    assert page.status_code == 200 and 'type="file"' in page.content.decode()

    response = editor_client.post(
        reverse("admin:papers_digest_changelist"),
        {"action": "export_digests_action", "_selected_action": [world["digest"].pk]},
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert world["paper"].title in response.content.decode()
