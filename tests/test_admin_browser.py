"""An editor's morning in a real browser: log in, correct a summary, publish the digest, and find
the correction on the public digest page and in the topic's feed."""

import pytest
from django.urls import reverse

from papers.models import Status, Summary
from tests.factories import make_digest, make_paper, make_summary, make_topic
from tests.test_admin import make_editor

pytestmark = pytest.mark.browser

PASSWORD = "a long editor password"
CORRECTION = "Editors checked this: the model animates a portrait from speech."


@pytest.fixture
def morning(live_site, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    editor = make_editor("morning-editor", PASSWORD)
    topic = make_topic("Talking heads")
    paper = make_paper(topic=topic, status=Status.DRAFT, title="Speech-driven portraits")
    summary = make_summary(paper, tldr="The machine wrote a vague sentence.")
    digest = make_digest(topic, [paper], status=Status.DRAFT)
    return {"editor": editor, "topic": topic, "paper": paper, "summary": summary, "digest": digest}


def test_an_editor_corrects_a_summary_and_publishes_the_digest(page, live_site, morning):
    base = live_site.url
    paper, digest, topic = morning["paper"], morning["digest"], morning["topic"]
    public_url = base + digest.get_absolute_url()
    assert page.goto(public_url).status == 404

    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", "morning-editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")
    assert page.locator("a[href='/admin/auth/user/']").count() == 0

    page.goto(base + reverse("admin:papers_paper_change", args=[paper.pk]))
    assert "The machine wrote a vague sentence." in page.input_value(
        "textarea[name='summaries-0-tldr']"
    )
    page.fill("textarea[name='summaries-0-tldr']", CORRECTION)
    page.click("input[name='_save']")
    page.wait_for_url(base + reverse("admin:papers_paper_changelist") + "*")
    assert page.locator(".messagelist .success").count() == 1

    page.goto(base + reverse("admin:papers_digest_preview", args=[digest.pk]))
    assert CORRECTION in page.content()

    page.goto(base + reverse("admin:papers_digest_changelist"))
    page.check(f"input[name='_selected_action'][value='{digest.pk}']")
    page.select_option("select[name='action']", "publish")
    page.click("button[name='index']")
    page.wait_for_selector(".messagelist .success")
    assert "Published 1 digest" in page.inner_text(".messagelist")

    response = page.goto(public_url)
    assert response.status == 200
    assert CORRECTION in page.inner_text("main")
    assert "Corrected by an editor" in page.inner_text("main")

    feed = page.request.get(base + reverse("papers:topic_feed", args=[topic.slug]))
    assert feed.status == 200
    assert CORRECTION in feed.text()

    summary = Summary.objects.get(pk=morning["summary"].pk)
    assert summary.locked and summary.locked_by == morning["editor"]
    assert summary.history.filter(history_user=morning["editor"], tldr=CORRECTION).exists()
