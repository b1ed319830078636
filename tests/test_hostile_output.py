"""Hostile text already stored reaches no page, feed or admin page unneutralised; a cache that is
down costs no page; every answer carries the Content-Security-Policy."""

import socket
import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.core.cache import caches

from papers.models import Paper
from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic

pytestmark = pytest.mark.django_db
SCRIPT = "<script>alert(1)</script>"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def stored_hostile_paper():
    """Rows as an older version of the site (or a direct database write) could have left them."""
    topic = make_topic(f"Topic {SCRIPT}")
    paper = make_paper(
        topic=topic,
        title=f"Title \u202e{SCRIPT}",
        abstract=f"Abstract \u2066{SCRIPT}",
        authors=[{"name": f"Eve \u202e{SCRIPT}"}],
        pdf_url="javascript:alert(1)",
        abs_url="javascript:alert(2)",
        tags=[f"{SCRIPT}tag"],
    )
    make_summary(
        paper,
        tldr=f"Summary \u202e{SCRIPT}",
        links=[{"label": "Code", "url": "javascript:alert(3)"}],
    )
    make_figure(paper, source_url="javascript:alert(4)", caption=f"Figure 1: \u202e{SCRIPT}")
    make_digest(topic, [paper], intro=f"Intro \u202e{SCRIPT}")
    return topic, paper


def pages(topic, paper) -> list[str]:
    tag = paper.tags.get()
    digest = topic.digests.get()
    return [
        "/",
        "/papers/",
        paper.get_absolute_url(),
        "/tags/",
        tag.get_absolute_url(),
        topic.get_absolute_url(),
        digest.get_absolute_url(),
    ]


def assert_neutral(body: str, where: str) -> None:
    assert SCRIPT not in body, where
    assert "javascript:" not in body.lower(), where
    assert not any(c in body for c in BIDI), where


def test_pages_escape_and_strip_stored_hostile_text(client):
    topic, paper = stored_hostile_paper()
    for url in pages(topic, paper):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_neutral(response.content.decode(), url)


def test_admin_pages_escape_and_strip_stored_hostile_text(admin_client):
    topic, paper = stored_hostile_paper()
    summary = paper.summaries.get()
    for url in [
        "/admin/papers/paper/",
        f"/admin/papers/paper/{paper.pk}/change/",
        f"/admin/papers/summary/{summary.pk}/change/",
        f"/admin/papers/topic/{topic.pk}/change/",
        f"/admin/papers/digest/{topic.digests.get().pk}/change/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert SCRIPT not in body and not any(c in body for c in BIDI), url
        assert 'href="javascript:' not in body.lower(), url


def test_feed_channel_titles_are_escaped_like_item_titles(client):
    topic, paper = stored_hostile_paper()
    tag = paper.tags.get()
    for url in [tag.get_absolute_url() + "feed/", topic.get_absolute_url() + "feed/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        channel = ET.fromstring(response.content).find("channel")
        # RSS readers read titles as HTML: the markup must arrive as text.
        assert "<script" not in channel.findtext("title"), url
        assert "&lt;script&gt;" in channel.findtext("title"), url
        for item in channel.findall("item"):
            assert "<script" not in item.findtext("title"), url
        feed = feedparser.parse(response.content)
        assert not feed.bozo and "<script" not in feed.feed.title, url
        assert not any(c in response.content.decode() for c in BIDI), url
    atom = ET.fromstring(client.get(tag.get_absolute_url() + "feed/atom/").content)
    title = atom.findtext("{http://www.w3.org/2005/Atom}title")
    assert title.endswith(f"{SCRIPT}tag")  # Atom titles are plain text (type="text")


def closed_port() -> int:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return free.getsockname()[1]


def test_pages_are_served_uncached_and_saves_work_while_redis_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "digest_site.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    caches.close_all()
    topic, paper = stored_hostile_paper()  # saving bumps the cache version: it must not fail
    Paper.objects.filter(pk=paper.pk).update(title="Changed")
    for url in pages(topic, paper):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Changed" in client.get(paper.get_absolute_url()).content.decode()


def test_every_answer_carries_the_content_security_policy(client, admin_client):
    topic, paper = stored_hostile_paper()
    for url in [*pages(topic, paper), "/feed/", "/no-such-page/"]:
        policy = client.get(url).headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, url
    assert "Content-Security-Policy" in admin_client.get("/admin/").headers
