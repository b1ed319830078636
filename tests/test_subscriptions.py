"""E-mail subscriptions end to end, against a real SMTP server on 127.0.0.1 (tests/smtp_server.py)."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.mail import get_connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

import papers.admin.subscriptions  # noqa: F401 - registers the admin pages before the URLs load
from papers.models import (
    Frequency,
    MailSend,
    MailSettings,
    Status,
    Subscriber,
    Subscription,
    Tag,
)
from papers.subscriptions import delivery, mails
from papers.subscriptions import tasks as mail_tasks
from tests.factories import make_digest, make_paper, make_summary, make_topic
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


@pytest.fixture(autouse=True)
def _receivers(settings):
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield server


def follower(email: str, frequency: str = Frequency.DAILY, **target) -> Subscriber:
    """A confirmed subscriber following one topic or tag."""
    now = timezone.now()
    subscriber, _ = Subscriber.objects.get_or_create(email=email, defaults={"confirmed_at": now})
    Subscription.objects.create(
        subscriber=subscriber, frequency=frequency, confirmed_at=now, **target
    )
    return subscriber


def parts(received) -> tuple[str, str]:
    message = received.message
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def link(text: str, name: str) -> str:
    """The path of the first site link in `text` whose path starts with /<name>/."""
    match = re.search(rf"http://testserver(/{name}/\S+?/)(?=\s|$)", text)
    assert match, f"no /{name}/ link in {text!r}"
    return match.group(1)


def published_digest(topic, papers, days_ago: int = 0):
    return make_digest(topic, papers, date=TODAY - dt.timedelta(days=days_ago))


# The whole flow.


def test_subscribe_confirm_receive_and_unsubscribe_end_to_end(
    client, smtp, django_capture_on_commit_callbacks
):
    topic = make_topic("Talking Heads")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("subscriptions:subscribe"),
            {"email": " Reader@Example.org ", "frequency": "daily", "topic": topic.slug},
        )
    assert response.status_code == 302
    assert response.url == reverse("subscriptions:subscribe_sent")
    assert Subscriber.objects.get().email == "reader@example.org"

    # The first mail is the confirmation, with both parts and the unsubscribe headers.
    assert len(smtp.messages) == 1
    first = smtp.messages[0]
    assert first.rcpt_tos == ["reader@example.org"]
    text, html = parts(first)
    confirm_path = link(text, "subscriptions/confirm")
    assert confirm_path in html
    assert first.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in first.message["List-Unsubscribe"]

    # Nothing is sent before the link is followed.
    paper = make_paper(topic=topic)
    make_summary(paper)
    first_digest = make_digest(topic, [paper], date=TODAY, status=Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        first_digest.publish()
    assert len(smtp.messages) == 1

    # Opening the link (as a link scanner would) confirms nothing; the button does.
    assert client.get(confirm_path).status_code == 200
    assert not Subscription.objects.get().is_confirmed
    response = client.post(confirm_path)
    assert response.status_code == 302
    assert Subscription.objects.get().is_confirmed

    # The next published digest arrives, once, with summaries, takeaways and links to the site.
    paper = make_paper(topic=topic, title="Lips & <voices>: a study")
    make_summary(
        paper,
        tldr="Talking faces follow the voice closely.",
        key_takeaways=["Lip sync improves.", "Runs in real time.", "Needs one photo."],
    )
    digest = make_digest(topic, [paper], date=TODAY - dt.timedelta(days=1), status=Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        digest.publish()
    assert len(smtp.messages) == 2
    mail = smtp.messages[1]
    assert mail.rcpt_tos == ["reader@example.org"]
    assert "Talking Heads" in mail.message["Subject"]
    text, html = parts(mail)
    assert "Lips & <voices>: a study" in text
    assert "Lips &amp; &lt;voices&gt;: a study" in html
    for words in (
        "Talking faces follow the voice closely.",
        "Lip sync improves.",
        "Needs one photo.",
    ):
        assert words in text and words in html
    paper_url = f"http://testserver/papers/{paper.arxiv_id}/"
    assert paper_url in text and paper_url in html
    unsubscribe_path = link(text, "unsubscribe")
    # A long header is folded before the URL, never inside it.
    assert mail.message["List-Unsubscribe"].strip() == f"<http://testserver{unsubscribe_path}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The page linked from every mail lists the subscriptions and never shows the address.
    manage_path = link(text, "subscriptions")
    page = client.get(manage_path)
    assert page.status_code == 200
    assert "Talking Heads" in page.text
    assert "reader@example.org" not in page.text.lower()

    # A mail program's one-click unsubscribe: a POST without a CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(
        unsubscribe_path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    client.handler.enforce_csrf_checks = False

    later = make_paper(topic=topic)
    third = make_digest(topic, [later], date=TODAY - dt.timedelta(days=2), status=Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        third.publish()
    assert len(smtp.messages) == 2

    # The owner deletes the address itself.
    response = client.post(manage_path, {"action": "delete"})
    assert response.status_code == 200
    assert not Subscriber.objects.exists()
    assert client.get(manage_path).status_code == 404


def test_topic_and_tag_pages_carry_the_form_and_stay_cacheable(client):
    topic = make_topic("Talking Heads")
    paper = make_paper(topic=topic, tags=["diffusion"])
    published_digest(topic, [paper])
    tag = Tag.objects.get(name="diffusion")
    for url, field, slug in (
        (topic.get_absolute_url(), "topic", topic.slug),
        (tag.get_absolute_url(), "tag", tag.slug),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert f'action="{reverse("subscriptions:subscribe")}"' in response.text
        assert f'name="{field}" value="{slug}"' in response.text
        assert 'name="website"' in response.text
        assert "csrftoken" not in response.cookies

    # The form's own page, for a tag, from the same fields.
    response = client.get(reverse("subscriptions:subscribe") + f"?tag={tag.slug}")
    assert response.status_code == 200
    assert 'name="email"' in response.text
    assert client.get(reverse("subscriptions:subscribe")).status_code == 404


def test_the_manage_page_changes_frequency_and_removes_one_subscription(client):
    heads, avatars = make_topic("Talking Heads"), make_topic("Avatars")
    reader = follower("reader@example.org", topic=heads)
    follower("reader@example.org", topic=avatars)
    url = reverse("subscriptions:manage", args=[reader.token])
    first, second = reader.subscriptions.order_by("id")

    response = client.post(
        url, {"action": "frequency", "subscription": first.pk, "frequency": "weekly"}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.frequency == Frequency.WEEKLY
    assert client.post(url, {"action": "remove", "subscription": second.pk}).status_code == 302
    assert list(reader.subscriptions.all()) == [first]

    # Another reader's subscription cannot be reached through this token.
    stranger = follower("stranger@example.org", topic=avatars)
    other = stranger.subscriptions.get()
    assert client.post(url, {"action": "remove", "subscription": other.pk}).status_code == 404
    assert Subscription.objects.filter(pk=other.pk).exists()

    page = client.get(url)
    assert "Talking Heads" in page.text and "Avatars" not in page.text.split("<main", 1)[1]
    assert page["Referrer-Policy"] == "no-referrer"
    unsubscribe = client.get(reverse("subscriptions:unsubscribe", args=[reader.token]))
    assert unsubscribe.status_code == 200
    assert reader.subscriptions.exists()  # a GET (a link scanner) changes nothing
    assert client.get(reverse("subscriptions:manage", args=["not-a-token"])).status_code == 404


# Delivery.


def test_one_failing_recipient_neither_stops_the_rest_nor_loses_the_send(smtp, settings):
    settings.MAIL_MAX_FAILURES = 2
    topic = make_topic()
    refused = follower("bounce@example.org", topic=topic)
    busy = follower("later@example.org", topic=topic)
    fine = follower("fine@example.org", topic=topic)

    digest = published_digest(topic, [make_paper(topic=topic)])
    mail_tasks.send_digest_mails(digest.pk)

    assert [m.rcpt_tos for m in smtp.messages] == [["fine@example.org"]]
    sends = {s.subscriber_id: s for s in MailSend.objects.all()}
    assert sends[fine.pk].state == MailSend.State.SENT
    assert sends[refused.pk].state == MailSend.State.FAILED
    assert sends[refused.pk].error.startswith("550")
    assert sends[busy.pk].state == MailSend.State.QUEUED
    assert sends[busy.pk].error.startswith("451")
    assert sends[busy.pk].attempts == 1
    assert sends[busy.pk].next_attempt_at > timezone.now()
    refused.refresh_from_db()
    assert refused.failures == 1 and refused.disabled_at is None

    # The temporary failure waits for its time, then is tried again.
    mail_tasks.send_queued_mails()
    assert MailSend.objects.get(pk=sends[busy.pk].pk).attempts == 1
    MailSend.objects.filter(pk=sends[busy.pk].pk).update(next_attempt_at=timezone.now())
    mail_tasks.send_queued_mails()
    retried = MailSend.objects.get(pk=sends[busy.pk].pk)
    assert retried.attempts == 2 and retried.state == MailSend.State.QUEUED

    # A second refusal in a row disables the address: nothing more is queued for it.
    second = published_digest(topic, [make_paper(topic=topic)], days_ago=1)
    mail_tasks.send_digest_mails(second.pk)
    refused.refresh_from_db()
    assert refused.failures == 2 and refused.disabled_at is not None
    assert "550" in refused.last_error
    third = published_digest(topic, [make_paper(topic=topic)], days_ago=2)
    mail_tasks.send_digest_mails(third.pk)
    assert not MailSend.objects.filter(subscriber=refused, digest=third).exists()
    assert len(smtp.to("fine@example.org")) == 3


def test_a_retried_task_or_a_second_worker_never_sends_twice(smtp):
    topic = make_topic()
    reader = follower("reader@example.org", topic=topic)
    digest = published_digest(topic, [make_paper(topic=topic)])

    mail_tasks.send_digest_mails(digest.pk)
    mail_tasks.send_digest_mails(digest.pk)  # the task retried, or run by a second worker
    assert len(smtp.to("reader@example.org")) == 1
    send = MailSend.objects.get()
    assert send.state == MailSend.State.SENT and send.attempts == 1

    # A worker handed the same batch after another one sent it.
    assert mail_tasks.deliver_mail_batch([send.pk]) == {delivery.TAKEN: 1}

    # Two workers holding the same queued mail: only the first claim sends.
    second = published_digest(topic, [make_paper(topic=topic)], days_ago=1)
    assert mails.queue_digest_mails(second) == 1
    assert mails.queue_digest_mails(second) == 0
    queued = MailSend.objects.get(digest=second)
    connection = get_connection()
    assert delivery.send_one(queued.pk, connection) == MailSend.State.SENT
    assert delivery.send_one(queued.pk, connection) == delivery.TAKEN
    connection.close()
    assert len(smtp.to("reader@example.org")) == 2

    # A paper that comes again in another digest is not mailed again.
    again = published_digest(topic, list(second.papers.all()), days_ago=2)
    mail_tasks.send_digest_mails(again.pk)
    assert len(smtp.to("reader@example.org")) == 2
    assert MailSend.objects.filter(subscriber=reader).count() == 2


def test_a_send_left_by_a_dead_worker_goes_out_later_with_the_same_message_id(smtp):
    topic = make_topic()
    follower("reader@example.org", topic=topic)
    digest = published_digest(topic, [make_paper(topic=topic)])
    mails.queue_digest_mails(digest)
    send = MailSend.objects.get()
    an_hour_and_more = timezone.now() - delivery.STALE_SENDING - dt.timedelta(minutes=1)
    MailSend.objects.filter(pk=send.pk).update(
        state=MailSend.State.SENDING, claimed_at=an_hour_and_more, attempts=1
    )

    mail_tasks.send_queued_mails()
    send.refresh_from_db()
    assert send.state == MailSend.State.SENT and send.attempts == 2
    (received,) = smtp.to("reader@example.org")
    assert received.message["Message-ID"] == f"<digest-mail-{send.pk}@testserver>"


def test_sending_is_rate_limited_by_the_setting(smtp, settings, monkeypatch):
    settings.MAIL_RATE_PER_MINUTE = 2
    topic = make_topic()
    for n in range(5):
        follower(f"reader{n}@example.org", topic=topic)

    class Clock:
        now = 600.0
        sleeps: list[float] = []

        def time(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(delivery, "time", clock)
    digest = published_digest(topic, [make_paper(topic=topic)])
    mail_tasks.send_digest_mails(digest.pk)

    # Five mails at two a minute: two, wait, two, wait, one.
    assert len(smtp.messages) == 5
    assert clock.sleeps == [60.0, 60.0]


def test_editors_pause_sending_and_resuming_sends_what_waited(
    smtp, admin_client, django_capture_on_commit_callbacks
):
    topic = make_topic()
    follower("reader@example.org", topic=topic)
    settings_row = MailSettings.load()
    settings_row.paused = True
    settings_row.save()

    digest = published_digest(topic, [make_paper(topic=topic)])
    mail_tasks.send_digest_mails(digest.pk)
    assert smtp.messages == []
    assert MailSend.objects.get().state == MailSend.State.QUEUED

    url = reverse("admin:papers_mailsettings_change", args=[settings_row.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"note": ""})
    assert response.status_code == 302
    assert not MailSettings.load().paused
    assert len(smtp.to("reader@example.org")) == 1
    assert MailSend.objects.get().state == MailSend.State.SENT


def test_weekly_subscribers_get_one_mail_for_the_week(smtp):
    topic = make_topic("Talking Heads")
    other = make_topic("Avatars")
    follower("weekly@example.org", Frequency.WEEKLY, topic=topic)
    follower("weekly@example.org", Frequency.WEEKLY, topic=other)
    follower("daily@example.org", topic=topic)
    week_start = dt.datetime(2025, 1, 13, 9, tzinfo=dt.UTC)  # Monday of 2025-W03
    digests = [
        published_digest(topic, [make_paper(topic=topic)], days_ago=1),
        published_digest(topic, [make_paper(topic=topic)], days_ago=2),
        published_digest(other, [make_paper(topic=other)], days_ago=1),
    ]
    for day, digest in enumerate(digests):
        digest.published_at = week_start + dt.timedelta(days=day)
        digest.save()
    outside = published_digest(topic, [make_paper(topic=topic)], days_ago=3)
    outside.published_at = week_start + dt.timedelta(days=7)
    outside.save()

    assert mail_tasks.send_weekly_mails("2025-W03") == 1
    assert mail_tasks.send_weekly_mails("2025-W03") == 0
    (received,) = smtp.messages
    assert received.rcpt_tos == ["weekly@example.org"]
    assert "2025-W03" in received.message["Subject"]
    text, _html = parts(received)
    for digest in digests:
        assert digest.papers.get().title in text
    assert outside.papers.get().title not in text
    assert "== Talking Heads ==" in text and "== Avatars ==" in text


def test_tag_followers_get_each_paper_once(smtp):
    heads, avatars = make_topic("Talking Heads"), make_topic("Avatars")
    tag = Tag.objects.create(name="diffusion")
    follower("reader@example.org", topic=heads)
    follower("reader@example.org", tag=tag)
    in_both = make_paper(topic=heads, tags=["diffusion"])
    tagged = make_paper(topic=avatars, tags=["diffusion"])
    untagged = make_paper(topic=avatars)

    mail_tasks.send_digest_mails(published_digest(heads, [in_both]).pk)
    mail_tasks.send_digest_mails(published_digest(avatars, [tagged, untagged, in_both]).pk)

    first, second = smtp.to("reader@example.org")
    text, _html = parts(first)
    assert text.count(in_both.title) == 1
    text, _html = parts(second)
    assert "== diffusion ==" in text
    assert tagged.title in text
    assert in_both.title not in text and untagged.title not in text


def test_an_old_digest_published_late_mails_nobody(smtp):
    topic = make_topic()
    follower("reader@example.org", topic=topic)
    old = published_digest(topic, [make_paper(topic=topic)], days_ago=30)
    mail_tasks.send_digest_mails(old.pk)
    assert smtp.messages == [] and not MailSend.objects.exists()


# Abuse.


def test_honeypot_throttles_and_cross_site_posts(client, settings, mailoutbox):
    settings.SUBSCRIBE_THROTTLE_PER_HOUR = 2
    topic = make_topic()
    url = reverse("subscriptions:subscribe")
    form = {"frequency": "daily", "topic": topic.slug}

    response = client.post(url, {**form, "email": "bot@example.org", "website": "http://spam"})
    assert response.status_code == 302  # told "done", like a person
    assert not Subscriber.objects.exists()

    response = Client(enforce_csrf_checks=True).post(
        url, {**form, "email": "x@example.org"}, HTTP_SEC_FETCH_SITE="cross-site"
    )
    assert response.status_code == 403

    # Per address, whatever the client.
    for n, expected in ((1, 302), (2, 302), (3, 429)):
        response = client.post(
            url, {**form, "email": "same@example.org"}, REMOTE_ADDR=f"10.0.0.{n}"
        )
        assert response.status_code == expected
    # Per client, whatever the address.
    for n, expected in ((1, 302), (2, 302), (3, 429)):
        response = client.post(url, {**form, "email": f"r{n}@example.org"}, REMOTE_ADDR="10.0.1.1")
        assert response.status_code == expected

    assert client.post(url, {**form, "email": "not an address"}).status_code == 400
    assert client.post(url, {"email": "a@example.org", "frequency": "daily"}).status_code == 400


def test_confirmation_links_are_signed_and_expire(
    client, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    topic = make_topic()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("subscriptions:subscribe"),
            {"email": "reader@example.org", "frequency": "weekly", "topic": topic.slug},
        )
    path = link(mailoutbox[0].body, "subscriptions/confirm")

    value = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(value, value[:-1] + ("A" if value[-1] != "A" else "B"))
    response = client.post(forged)
    assert response.status_code == 400
    assert "not valid" in response.text

    eight_days_ago = int(timezone.now().timestamp()) - 8 * 24 * 3600
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(eight_days_ago)
    )
    expired = mails.confirm_url(Subscription.objects.get(), Frequency.WEEKLY)
    monkeypatch.undo()
    response = client.post(urlsplit(expired).path)
    assert response.status_code == 400
    assert "expired" in response.text
    assert not Subscription.objects.get().is_confirmed

    assert client.post(path).status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.is_confirmed and subscription.frequency == Frequency.WEEKLY

    subscription.delete()
    assert client.post(path).status_code == 400


# Admin and schedules.


def test_admin_shows_masked_addresses_and_sends(admin_client):
    topic = make_topic()
    reader = follower("reader@example.org", topic=topic)
    digest = published_digest(topic, [make_paper(topic=topic)])
    MailSend.objects.create(
        subscriber=reader,
        key=f"digest:{digest.pk}",
        frequency=Frequency.DAILY,
        digest=digest,
        state=MailSend.State.FAILED,
        attempts=3,
        error="550 5.1.1 No such mailbox here",
    )
    pages = [
        reverse("admin:papers_subscriber_changelist"),
        reverse("admin:papers_subscriber_changelist") + "?q=reader@example.org",
        reverse("admin:papers_subscriber_change", args=[reader.pk]),
        reverse("admin:papers_subscription_changelist"),
        reverse("admin:papers_mailsend_changelist"),
        reverse("admin:papers_mailsend_change", args=[MailSend.objects.get().pk]),
        reverse("admin:papers_mailsettings_changelist"),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        # The search box repeats what the editor typed; nothing else may show the address.
        shown = response.text.replace('value="reader@example.org"', "")
        assert "reader@example.org" not in shown.replace("q=reader@example.org", "")
        assert "r*****@example.org" in response.text or "mailsettings" in url
    mails = admin_client.get(reverse("admin:papers_mailsend_changelist")).text
    assert "Failed" in mails and "550 5.1.1" in mails


def test_periodic_tasks_for_weekly_and_queued_mails_exist():
    from digest_site.celery import app

    names = dict(PeriodicTask.objects.values_list("task", "name"))
    for task in ("papers.send_weekly_mails", "papers.send_queued_mails"):
        assert task in names
        assert task in app.tasks
