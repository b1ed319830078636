"""What keeps pages fast as the archive grows: counts, capped feeds, the page cache's hit and
conditional paths, its behaviour when the cache fails, and the bench's seeding command."""

import datetime as dt

import feedparser
import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from digest_site.redis_cache import RedisCache
from papers.content import content_version
from papers.models import Digest, Figure, Paper, Status, Summary, Tag
from papers.public import caching, feeds
from tests.factories import make_digest, make_paper, make_summary, make_topic


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_tag_counts_follow_changes(client, db):
    first = make_paper(tags=["nerf"])
    make_paper(tags=["nerf"])
    assert '<span class="count">2</span>' in client.get("/tags/").content.decode()
    first.status = Status.HIDDEN
    first.save()
    body = client.get("/tags/").content.decode()
    assert '<span class="count">1</span>' in body and '<span class="count">2</span>' not in body
    tag_page = client.get("/tags/nerf/")
    assert tag_page.context["page_obj"].paginator.count == 1
    assert tag_page.content.decode().count('class="paper-item"') == 1


def test_tag_page_pages_from_the_kept_count(client, db):
    for _ in range(23):
        make_paper(tags=["nerf"])
    assert client.get("/tags/nerf/?page=2").content.decode().count('class="paper-item"') == 3
    assert client.get("/tags/nerf/?page=3").status_code == 404


def test_list_counts_are_kept_until_the_next_change(db):
    reader = Client()
    reader.cookies[settings.SESSION_COOKIE_NAME] = "signed-in"  # no page cache for this reader
    for _ in range(3):
        make_paper(tags=["nerf", "avatar"])
    make_paper(tags=["nerf"])
    url = "/papers/?tag=avatar&tag=nerf"
    assert reader.get(url).context["page_obj"].paginator.count == 3
    with CaptureQueriesContext(connection) as context:
        assert reader.get(url).context["page_obj"].paginator.count == 3
    assert not [q["sql"] for q in context.captured_queries if "COUNT(" in q["sql"].upper()]
    make_paper(tags=["nerf", "avatar"])
    assert reader.get(url).context["page_obj"].paginator.count == 4
    assert reader.get("/papers/?tag=avatar&tag=nobody").status_code == 404


def test_a_change_makes_pages_stale_again_when_it_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            make_paper()
            # A page rendered now reads the data before the commit, under this version.
            during = content_version()
    assert content_version() != during


def test_digest_counts_only_published_papers(client, db):
    topic = make_topic("Avatars")
    papers = [make_paper(topic=topic) for _ in range(3)]
    papers[0].status = Status.REVIEW
    papers[0].save()
    make_digest(topic, papers, date=dt.date(2024, 10, 12))
    make_digest(topic, [], date=dt.date(2024, 10, 11))
    for url in ["/", topic.get_absolute_url()]:
        digests = list(client.get(url).context["page_obj"])
        assert [d.paper_count for d in digests] == [2, 0], url


def test_topic_feed_holds_the_latest_papers_not_every_digest(client, db, monkeypatch):
    monkeypatch.setattr(feeds, "FEED_SIZE", 3)
    topic = make_topic("Avatars")
    for day in range(1, 6):
        papers = [make_paper(topic=topic, title=f"Paper {day}-{i}") for i in range(2)]
        make_digest(topic, papers, date=dt.date(2024, 10, day))
    feed = feedparser.parse(client.get(f"/topics/{topic.slug}/feed/").content)
    # Whole digests, newest first, until they hold at least FEED_SIZE papers.
    assert [entry.title for entry in feed.entries] == ["Avatars 2024-10-05", "Avatars 2024-10-04"]
    assert "Paper 4-1" in feed.entries[1].summary


def test_a_cache_hit_is_one_cache_read_and_no_query(client, db, monkeypatch):
    make_paper(title="Kept")
    client.get("/papers/")
    backend = caches["default"]
    reads, other_reads = [], []
    real_get, real_get_many = backend.get, backend.get_many

    def get_many(keys):
        reads.append(keys)
        monkeypatch.setattr(backend, "get", real_get)  # the file cache reads key by key
        try:
            return real_get_many(keys)
        finally:
            monkeypatch.setattr(backend, "get", lambda *a, **k: other_reads.append(a))

    monkeypatch.setattr(backend, "get_many", get_many)
    monkeypatch.setattr(backend, "get", lambda *a, **k: other_reads.append(a))
    with CaptureQueriesContext(connection) as context:
        response = client.get("/papers/")
    assert response.status_code == 200 and b"Kept" in response.content
    assert len(context.captured_queries) == 0
    assert len(reads) == 1 and not other_reads
    assert response["ETag"] and response["Last-Modified"]


def test_a_conditional_request_is_answered_before_the_page_is_read(client, db):
    paper = make_paper(title="Cached")
    url = paper.get_absolute_url()
    etag = client.get(url)["ETag"]
    # Without the stored page, the answer still comes from the version alone: no rendering.
    cache.delete(caching.page_key(f"http://testserver{url}", "en"))
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304 and response["ETag"] == etag
    assert len(context.captured_queries) == 0
    modified = client.get(url)["Last-Modified"]
    cache.delete(caching.page_key(f"http://testserver{url}", "en"))
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, headers={"if-modified-since": modified})
    assert response.status_code == 304 and len(context.captured_queries) == 0
    # A stale validator gets the full page.
    make_summary(paper, tldr="Changed.")
    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


def test_the_redis_cache_keeps_one_client(redis_url):
    kept = RedisCache(redis_url, {})
    kept.set("papers:test:one-client", "kept", 5)
    assert kept.get("papers:test:one-client") == "kept"
    # Django's own backend makes a new client, with its 170 reply handlers, for every call.
    assert kept._cache.get_client() is kept._cache.get_client(write=True)
    kept.delete("papers:test:one-client")


def test_pages_are_served_uncached_when_the_cache_fails(client, db, monkeypatch):
    topic = make_topic("Avatars")
    paper = make_paper(topic=topic, tags=["nerf"])
    make_digest(topic, [paper], date=dt.date(2024, 10, 12))

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "get_many", "set", "add"):
        monkeypatch.setattr(caches["default"], name, broken)
    for url in ["/", "/papers/", "/tags/", "/tags/nerf/", "/feed/", f"/topics/{topic.slug}/"]:
        assert client.get(url).status_code == 200, url
        assert client.get(url, headers={"if-none-match": '"x"'}).status_code == 200, url


def test_seed_bench_fills_postgres(postgres):
    call_command("seed_bench", papers=60, stdout=None)
    assert Paper.objects.count() == 60
    assert Tag.objects.count() == 50
    assert Summary.objects.exists() and Figure.objects.exists()
    assert Digest.objects.filter(entries__isnull=False).exists()
    assert not Paper.objects.filter(Q(search_vector=None) | Q(head_vector=None)).exists()
    # Every address the page bench asks for is answered, not redirected.
    from tools.bench_pages import page_urls

    for name, urls in page_urls().items():
        assert Client().get(urls[0]).status_code == 200, (name, urls[0])
    with pytest.raises(Exception, match="--reset"):
        call_command("seed_bench", papers=10)
    call_command("seed_bench", papers=10, reset=True)
    assert Paper.objects.count() == 10
    # New rows after the seed get fresh ids.
    assert make_paper().pk > 10


def test_the_bench_urlconf_serves_the_site_and_a_bare_view(
    client, db, settings, tmp_path, monkeypatch
):
    settings.ROOT_URLCONF = "tools.bench_urls"
    (tmp_path / "bare.bin").write_bytes(b"same bytes")
    (tmp_path / "bare.type").write_text("text/plain")
    monkeypatch.setenv("BENCH_BARE_FOLDER", str(tmp_path))
    assert client.get("/bench/bare/").content == b"same bytes"
    assert client.get("/").status_code == 200


def test_pages_past_the_middle_mirror_the_order_exactly(client, db):
    day = dt.datetime(2024, 10, 12, tzinfo=dt.UTC)
    for i in range(45):  # many papers of the same instant: only the id tells them apart
        make_paper(title=f"Paper {i:02d}", published=day + dt.timedelta(days=i % 3))
    expected = [p.title for p in Paper.objects.published().newest_first()]
    shown = []
    for number in (1, 2, 3):
        shown += [p.title for p in client.get(f"/papers/?page={number}").context["page_obj"]]
    assert shown == expected
    assert client.get("/papers/?page=4").status_code == 404


def test_pages_found_by_id_keep_their_order(client, db):
    papers = [make_paper(title=f"Numbered paper {i:02d}", tags=["nerf"]) for i in range(25)]
    newest_first = [p.title for p in sorted(papers, key=lambda p: p.published, reverse=True)]
    for url in ["/papers/?page=2", "/tags/nerf/?page=2", "/papers/?tag=nerf&page=2"]:
        shown = [paper.title for paper in client.get(url).context["page_obj"]]
        assert shown == newest_first[20:], url
