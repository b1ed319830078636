"""The public forms and URLs against faults and hostile input: Redis down, forged POSTs, NULs."""

import logging
import socket

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from papers.models import ErrorReport, Subscriber, Subscription, Tag
from tests.factories import make_digest, make_paper, make_summary, make_topic

pytestmark = pytest.mark.django_db

# Every control character a URL or a form may carry is refused, not only NUL.
CONTROLS = ["%00", "%01", "%1F", "%7F"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def site():
    """A topic with a published digest, a tag, and a subscriber with a token."""
    topic = make_topic("Talking Heads")
    paper = make_paper(topic=topic, tags=["diffusion"])
    make_summary(paper)
    make_digest(topic, [paper])
    subscriber = Subscriber.objects.create(email="reader@example.org")
    Subscription.objects.create(subscriber=subscriber, topic=topic)
    return topic, Tag.objects.get(name="diffusion"), subscriber


@pytest.fixture
def redis_down(settings, site):
    """After `site` is made, the cache is a Redis where nothing listens: every call fails."""
    settings.CACHES = {
        "default": {
            "BACKEND": "digest_site.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/3",
        }
    }
    with pytest.raises(Exception, match="onnect"):
        cache.add("probe", 1)


# Redis down: the forms' limits let requests through and say so in the log.


def test_the_report_form_works_with_redis_down(client, site, redis_down, caplog):
    paper = site[0].papers.get()
    url = reverse("papers:paper_report", args=[paper.arxiv_id])
    with caplog.at_level(logging.WARNING, logger="papers.throttling"):
        for _ in range(7):  # over the hourly limit of 5: nothing can be counted
            response = client.post(url, {"message": "The second takeaway is wrong."})
            assert response.status_code == 302
    assert ErrorReport.objects.count() == 7
    assert "cache is unreachable" in caplog.text


def test_the_subscribe_form_works_with_redis_down(
    client, site, redis_down, caplog, mailoutbox, django_capture_on_commit_callbacks
):
    topic = site[0]
    with (
        caplog.at_level(logging.WARNING, logger="papers.throttling"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("subscriptions:subscribe"),
            {"email": "new@example.org", "frequency": "daily", "topic": topic.slug},
        )
    assert response.status_code == 302
    assert response.url == reverse("subscriptions:subscribe_sent")
    assert Subscription.objects.get(subscriber__email="new@example.org").topic == topic
    assert len(mailoutbox) == 1
    assert "subscribe:client limit is not applied" in caplog.text


@pytest.fixture
def broker_down():
    """Celery publishes to a Redis where nothing listens, as the workers would with Redis down."""
    from digest_site.celery import app

    saved = app.conf.broker_url
    app.conf.task_always_eager = False  # restored by conftest
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/3"
    app._pool = app.amqp._producer_pool = None  # connect anew, to the new address
    yield
    app.conf.broker_url = saved
    app._pool = app.amqp._producer_pool = None


def test_with_the_broker_down_the_confirmation_mail_is_sent_in_process(
    client, site, redis_down, broker_down, caplog, mailoutbox, django_capture_on_commit_callbacks
):
    topic = site[0]
    with (
        caplog.at_level(logging.WARNING, logger="papers.subscriptions.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("subscriptions:subscribe"),
            {"email": "new@example.org", "frequency": "daily", "topic": topic.slug},
        )
    assert response.status_code == 302
    assert Subscription.objects.filter(subscriber__email="new@example.org").exists()
    assert [mail.to for mail in mailoutbox] == [["new@example.org"]]
    assert "broker is unreachable" in caplog.text


# Forged subscriptions: Django's CSRF check, with the token fetched by the cached pages.


def test_a_post_from_another_site_makes_no_subscriber():
    topic = make_topic()
    browser = Client(enforce_csrf_checks=True)
    form = {"email": "victim@example.org", "frequency": "daily", "topic": topic.slug}
    url = reverse("subscriptions:subscribe")

    assert browser.post(url, form, HTTP_ORIGIN="http://evil.example").status_code == 403
    assert browser.post(url, form, HTTP_SEC_FETCH_SITE="cross-site").status_code == 403
    assert browser.post(url, form).status_code == 403
    # Even with a token of its own, another origin is refused.
    token = browser.get(reverse("subscriptions:subscribe_token")).json()["token"]
    response = browser.post(
        url, {**form, "csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://evil.example"
    )
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_the_cached_pages_form_subscribes_with_a_fetched_token(site):
    topic, tag, _subscriber = site
    browser = Client(enforce_csrf_checks=True)
    for page, field, slug in (
        (topic.get_absolute_url(), "topic", topic.slug),
        (tag.get_absolute_url(), "tag", tag.slug),
    ):
        response = browser.get(page)
        assert "csrftoken" not in response.cookies  # the page stays cacheable
        token_url = reverse("subscriptions:subscribe_token")
        assert f'data-token-url="{token_url}"' in response.text
        assert 'name="csrfmiddlewaretoken" value=""' in response.text
        # Readers without scripts are linked to the form's own page.
        assert f'<noscript><p><a href="/subscribe/?{field}={slug}">' in response.text

        answer = browser.get(token_url)
        assert answer["Cache-Control"].startswith("max-age=0")
        assert "csrftoken" in browser.cookies
        response = browser.post(
            reverse("subscriptions:subscribe"),
            {
                "csrfmiddlewaretoken": answer.json()["token"],
                "email": f"{field}@example.org",
                "frequency": "weekly",
                field: slug,
            },
            HTTP_ORIGIN="http://testserver",
        )
        assert response.status_code == 302
        assert Subscriber.objects.get(email=f"{field}@example.org")


def test_the_form_page_carries_its_token(site):
    topic, _tag, _subscriber = site
    browser = Client(enforce_csrf_checks=True)
    response = browser.get(reverse("subscriptions:subscribe") + f"?topic={topic.slug}")
    token = response.context["csrf_token"]
    assert f'name="csrfmiddlewaretoken" value="{token}"' in response.text
    response = browser.post(
        reverse("subscriptions:subscribe"),
        {
            "csrfmiddlewaretoken": token,
            "email": "page@example.org",
            "frequency": "daily",
            "topic": topic.slug,
        },
    )
    assert response.status_code == 302
    assert Subscriber.objects.filter(email="page@example.org").exists()


# Control characters in URLs and forms: 404 or a form error, never a 500.


def hostile_urls(site, char: str) -> list[str]:
    topic, tag, subscriber = site
    return [
        f"/papers/?tag={char}",
        f"/papers/?tag={tag.slug}&tag=x{char}",
        f"/papers/?page={char}",
        f"/tags/{char}/",
        f"/tags/{tag.slug}{char}/",
        f"/tags/{char}/feed/",
        f"/tags/{char}/feed/atom/",
        f"/topics/{char}/",
        f"/topics/{char}/feed/",
        f"/topics/{char}/feed/atom/",
        f"/topics/{char}/2024-10-12/",
        f"/topics/{topic.slug}{char}/",
        f"/subscribe/?tag={char}",
        f"/subscribe/?topic={char}",
        f"/subscribe/?topic={topic.slug}{char}",
        f"/subscriptions/{char}/",
        f"/subscriptions/{subscriber.token}{char}/",
        f"/subscriptions/confirm/{char}/",
        f"/unsubscribe/{char}/",
        f"/unsubscribe/{subscriber.token}{char}/",
        f"/language/{char}/",
        f"/language/en/?next=/{char}",
    ]


def check_hostile_urls(client, site, char: str) -> None:
    for url in hostile_urls(site, char):
        assert client.get(url).status_code == 404, url
    for url in (f"/unsubscribe/{char}/", f"/subscriptions/{char}/"):
        assert client.post(url).status_code == 404, url
    # A search is cleaned instead: the listing sends it on to the cleaned, canonical address.
    searched = client.get(f"/papers/?q=talking{char}heads")
    assert searched.status_code == 301 and searched["Location"] == "/papers/?q=talking+heads"
    assert Subscription.objects.count() == 1


def check_hostile_forms(client, site, char: str) -> None:
    topic, tag, _subscriber = site
    control = {"%00": "\x00", "%01": "\x01", "%1F": "\x1f", "%7F": "\x7f"}[char]
    url = reverse("subscriptions:subscribe")
    good = {"email": "new@example.org", "frequency": "daily", "topic": topic.slug}
    for field, value in (
        ("email", f"new{control}@example.org"),
        ("email", control),
        ("frequency", control),
        ("topic", control),
        ("topic", topic.slug[:3] + control + topic.slug[3:]),
    ):
        response = client.post(url, {**good, field: value})
        assert response.status_code == 400, (field, value)
    response = client.post(url, {"email": "new@example.org", "frequency": "daily", "tag": control})
    assert response.status_code == 400
    assert not Subscriber.objects.filter(email="new@example.org").exists()

    paper = topic.papers.get()
    url = reverse("papers:paper_report", args=[paper.arxiv_id])
    for form in (
        {"message": f"The method{control} is wrong."},
        {"message": "The method is wrong.", "contact": f"me{control}me"},
    ):
        response = client.post(url, form)
        assert response.status_code == 400, form
        assert "Enter a valid value" in response.text or "Null characters" in response.text
    assert not ErrorReport.objects.exists()
    # Lines and tabs are text, not control characters.
    response = client.post(url, {"message": "The method\r\nis\twrong."})
    assert response.status_code == 302


@pytest.mark.parametrize("char", CONTROLS)
def test_control_characters_in_urls_answer_404(client, site, char):
    check_hostile_urls(client, site, char)


@pytest.mark.parametrize("char", CONTROLS)
def test_control_characters_in_forms_are_form_errors(client, site, char):
    check_hostile_forms(client, site, char)


@pytest.mark.parametrize("char", CONTROLS)
def test_control_characters_on_postgresql(client, postgres, site, char):
    """PostgreSQL refuses a NUL in any text it is asked about: none may reach a query."""
    check_hostile_urls(client, site, char)
    check_hostile_forms(client, site, char)
