"""A paper in two topics gets a summary in each topic's language, with each topic's summarizer;
each topic's digest page, feed and mail show its own, or say plainly which one they show."""

import datetime as dt

import pytest
from django.utils import timezone

from papers import pipeline, processing
from papers.models import Paper, Subscriber, Subscription, Summary
from papers.subscriptions import tasks as mail_tasks
from tests.arxiv_server import Answer, atom_feed, entry
from tests.factories import make_topic
from tests.samples import ABSTRACT, CHINESE
from tools.pdfgen import make_paper_pdf

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
NOTE = "Summary in English; Chinese not yet written."


@pytest.fixture
def served_paper(fake_arxiv, tmp_path):
    """One talking-head paper on the fake arXiv, with a real PDF."""
    path = tmp_path / "paper.pdf"
    make_paper_pdf(path, figures=[], pages=1, table=False)
    fake_arxiv.files["/pdf/2410.00001v1"] = Answer(
        path.read_bytes(), content_type="application/pdf"
    )
    fake_arxiv.answers = [
        atom_feed(
            [
                entry(
                    "2410.00001",
                    title="Identity memory for long talking heads",
                    abstract=ABSTRACT,
                    pdf_url=fake_arxiv.url + "/pdf/2410.00001v1",
                )
            ]
        )
    ]
    return fake_arxiv


def run(topic) -> pipeline.FetchOutcome:
    outcome = pipeline.fetch_topic(topic, since=LONG_AGO)
    for paper_id in outcome.to_process:
        processing.process_paper(paper_id)
    return outcome


def topics():
    english = make_topic(
        "Talking heads", slug="heads", language="en", summarizer="extractive", auto_publish=True
    )
    chinese = make_topic(
        "说话人头像", slug="heads-zh", language="zh", summarizer="openai", auto_publish=True
    )
    return english, chinese


def follow(email: str, topic) -> None:
    now = timezone.now()
    subscriber = Subscriber.objects.create(email=email, confirmed_at=now)
    Subscription.objects.create(subscriber=subscriber, topic=topic, confirmed_at=now)


def test_each_topic_has_its_summary_and_shows_it_on_page_feed_and_mail(
    served_paper, fake_llm, client, mailoutbox, settings
):
    settings.SITE_URL = "http://testserver"

    english, chinese = topics()

    en_digest = run(english).digest
    assert list(Summary.objects.values_list("language", "backend")) == [("en", "extractive")]
    assert fake_llm.requests == []

    # The paper joins the Chinese topic: what is missing is queued and written by its LLM.
    fake_llm.reply_json(CHINESE)
    outcome = run(chinese)
    paper = Paper.objects.get()
    assert outcome.to_process == [paper.pk]
    zh_digest = outcome.digest
    assert len(fake_llm.requests) == 1
    assert set(Summary.objects.values_list("language", "backend")) == {
        ("en", "extractive"),
        ("zh", "openai"),
    }

    # Processing again writes nothing new: the LLM is not asked twice.
    processing.process_paper(paper.pk)
    assert len(fake_llm.requests) == 1

    en_page = client.get(en_digest.get_absolute_url()).content.decode()
    zh_page = client.get(zh_digest.get_absolute_url()).content.decode()
    english_summary, chinese_summary = (
        'class="summary math" lang="en"',
        'class="summary math" lang="zh-Hans"',
    )
    assert english_summary in en_page and chinese_summary not in en_page
    assert CHINESE["tldr"] not in en_page
    assert chinese_summary in zh_page and english_summary not in zh_page
    assert CHINESE["tldr"] in zh_page and NOTE not in zh_page

    en_feed = client.get(f"/topics/{english.slug}/feed/").content.decode()
    zh_feed = client.get(f"/topics/{chinese.slug}/feed/").content.decode()
    assert CHINESE["tldr"] not in en_feed
    assert CHINESE["tldr"] in zh_feed

    follow("english@example.org", english)
    follow("chinese@example.org", chinese)
    mail_tasks.send_digest_mails(en_digest.pk)
    mail_tasks.send_digest_mails(zh_digest.pk)
    mails = {mail.to[0]: mail.body for mail in mailoutbox}
    assert CHINESE["tldr"] not in mails["english@example.org"]
    assert CHINESE["tldr"] in mails["chinese@example.org"]


def test_a_missing_summary_falls_back_visibly_everywhere(
    served_paper, fake_llm, client, mailoutbox, settings
):
    settings.SITE_URL = "http://testserver"

    english, chinese = topics()
    run(english)
    fake_llm.reply("this is not JSON")
    fake_llm.reply("still not JSON")
    zh_digest = run(chinese).digest

    paper = Paper.objects.get()
    assert list(paper.summaries.values_list("language", flat=True)) == ["en"]
    assert paper.state == Paper.State.FAILED and "Summary (openai) in zh" in paper.last_error

    page = client.get(zh_digest.get_absolute_url()).content.decode()
    assert NOTE in page and 'class="summary math" lang="en"' in page
    feed = client.get(f"/topics/{chinese.slug}/feed/").content.decode()
    assert NOTE in feed
    follow("chinese@example.org", chinese)
    mail_tasks.send_digest_mails(zh_digest.pk)
    (mail,) = mailoutbox
    assert NOTE in mail.body
