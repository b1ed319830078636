"""RSS and Atom feeds: valid for feedparser, escaped, sanitized, conditional, constant queries."""

import datetime as dt
import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.models import Status
from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_ONLY = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FEEDS = ["/feed/", "/feed/atom/"]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return response, feed


def tag_and_topic_feeds(topic, tag) -> list[str]:
    return [
        f"/tags/{tag.slug}/feed/",
        f"/tags/{tag.slug}/feed/atom/",
        f"/topics/{topic.slug}/feed/",
        f"/topics/{topic.slug}/feed/atom/",
    ]


def test_site_feeds_list_published_papers_with_summaries(client, db):
    paper = make_paper(title="A published paper", tags=["nerf", "avatar"], license=CC_BY)
    make_summary(paper, tldr="One sentence.", key_takeaways=["Point one.", "Point two."])
    make_figure(paper)
    make_figure(paper)
    make_paper(title="A draft paper", status=Status.DRAFT)
    for url in FEEDS:
        _response, feed = parse(client, url)
        assert [e.title for e in feed.entries] == ["A published paper"]
        entry = feed.entries[0]
        assert entry.link == f"http://testserver/papers/{paper.arxiv_id}/"
        assert "One sentence." in entry.summary and "<li>Point two.</li>" in entry.summary
        assert {t.term for t in entry.tags} == {"nerf", "avatar"}
        enclosures = [link for link in entry.links if link.rel == "enclosure"]
        assert len(enclosures) == 1
        assert enclosures[0].href.startswith("http://testserver/figures/")
        assert enclosures[0].type == "image/png"


def test_no_enclosure_without_licence(client, db):
    paper = make_paper(license=ARXIV_ONLY)
    make_figure(paper)
    hidden_only = make_paper(license=CC_BY)
    make_figure(hidden_only, hidden=True)
    for url in FEEDS:
        _response, feed = parse(client, url)
        for entry in feed.entries:
            assert not [link for link in entry.links if link.rel == "enclosure"]


def test_control_characters_and_hostile_markup(client, db):
    topic = make_topic("T\x0cT")
    paper = make_paper(
        topic=topic,
        title=f"Title\x0c {HOSTILE}",
        abstract=f"Abstract\x01\x1b {HOSTILE}",
        authors=[{"name": "Ada\x08 Lovelace"}],
        tags=["bad\x0btag"],
    )
    make_summary(paper, tldr=f"Summary\x0c {HOSTILE}", key_takeaways=[HOSTILE, 3, None])
    make_digest(topic, [paper], intro=HOSTILE)
    tag = paper.tags.first()
    for url in FEEDS + tag_and_topic_feeds(topic, tag):
        response, feed = parse(client, url)
        body = response.content.decode()
        assert "<script" not in body and "\x0c" not in body, url
        for entry in feed.entries:
            assert "<script" not in entry.summary, url
            assert "<img" not in entry.summary, url
    rss = ET.fromstring(client.get("/feed/").content)
    assert rss.find("channel/item/title").text.startswith("Title &lt;script&gt;")
    atom = ET.fromstring(client.get("/feed/atom/").content)
    title = atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title")
    assert title.text.startswith("Title <script>")  # plain text, type="text"


def test_tag_and_topic_feeds(client, db):
    topic = make_topic("Talking Head Generation", language="zh")
    tagged = make_paper(topic=topic, title="Tagged paper", tags=["数字人"], license=CC_BY)
    make_summary(tagged, language="zh", tldr="中文总结。")
    make_figure(tagged)
    make_paper(title="Untagged paper")
    make_digest(topic, [tagged], date=dt.date(2024, 10, 12))
    make_digest(topic, [tagged], date=dt.date(2024, 10, 13), status=Status.REVIEW)
    tag = tagged.tags.get()
    for url in [f"/tags/{tag.slug}/feed/", f"/tags/{tag.slug}/feed/atom/"]:
        _response, feed = parse(client, url)
        assert [e.title for e in feed.entries] == ["Tagged paper"]
    for url in [f"/topics/{topic.slug}/feed/", f"/topics/{topic.slug}/feed/atom/"]:
        _response, feed = parse(client, url)
        assert len(feed.entries) == 1
        entry = feed.entries[0]
        assert entry.link.endswith("/topics/talking-head-generation/2024-10-12/")
        assert "Tagged paper" in entry.summary and "中文总结。" in entry.summary
        assert "http://testserver/papers/" in entry.summary
        assert len([link for link in entry.links if link.rel == "enclosure"]) == 1
    assert client.get("/tags/no-such-tag/feed/").status_code == 404
    assert client.get("/topics/no-such-topic/feed/").status_code == 404


def test_pages_announce_their_feeds(client, db, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    topic = make_topic()
    paper = make_paper(topic=topic, tags=["nerf"])
    digest = make_digest(topic, [paper])
    for url in ["/", "/papers/", paper.get_absolute_url(), "/tags/"]:
        body = client.get(url).content.decode()
        assert 'type="application/rss+xml"' in body and 'href="/feed/"' in body, url
        assert 'type="application/atom+xml"' in body and 'href="/feed/atom/"' in body, url
    assert 'href="/tags/nerf/feed/"' in client.get("/tags/nerf/").content.decode()
    assert (
        f'href="/topics/{topic.slug}/feed/"'
        in client.get(digest.get_absolute_url()).content.decode()
    )


def test_feeds_answer_conditional_requests(client, db):
    topic = make_topic()
    paper = make_paper(topic=topic, tags=["nerf"])
    make_digest(topic, [paper])
    for url in FEEDS + tag_and_topic_feeds(topic, paper.tags.get()):
        first = client.get(url)
        etag, modified = first["ETag"], first["Last-Modified"]
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304, url
        assert client.get(url, headers={"if-modified-since": modified}).status_code == 304, url
    etag = client.get("/feed/")["ETag"]
    make_summary(paper, tldr="An edit readers must see.")
    response = client.get("/feed/", headers={"if-none-match": etag})
    assert response.status_code == 200
    assert "An edit readers must see." in response.content.decode()


def test_feed_queries_do_not_grow(client, db, django_assert_max_num_queries):
    topic = make_topic()

    def add(count: int, date: dt.date) -> None:
        papers = []
        for i in range(count):
            paper = make_paper(topic=topic, tags=["nerf", f"k{i}"], license=CC_BY)
            make_summary(paper)
            make_figure(paper)
            make_figure(paper)
            papers.append(paper)
        make_digest(topic, papers, date=date)

    def counts() -> dict[str, int]:
        result = {}
        for url in FEEDS + ["/tags/nerf/feed/", f"/topics/{topic.slug}/feed/"]:
            cache.clear()
            with CaptureQueriesContext(connection) as context:
                assert client.get(url).status_code == 200
            result[url] = len(context.captured_queries)
        return result

    add(1, dt.date(2024, 10, 12))
    small = counts()
    add(15, dt.date(2024, 10, 13))
    add(3, dt.date(2024, 10, 14))
    for url, count in counts().items():
        assert count <= small[url] <= 8, url
