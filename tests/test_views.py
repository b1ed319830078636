"""The public pages, against a real database: content, 404s, escaping, caching and query counts."""

import contextlib
import datetime as dt
import json
import socket

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from papers.indexing import refresh_indexes
from papers.models import ErrorReport, Paper, Status, Tag
from tests.factories import make_digest, make_figure, make_paper, make_summary, make_topic

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_ONLY = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def _plain_static_and_empty_cache(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    yield
    cache.clear()


def populate(topic, count: int, date=dt.date(2024, 10, 12)):
    """`count` published papers with tags, a summary and two figures each, in one digest."""
    papers = []
    for i in range(count):
        paper = make_paper(topic=topic, tags=["talking head", f"kw-{i}", "cs.CV"], license=CC_BY)
        make_summary(paper, keywords=["lip sync", f"kw {i}"])
        make_figure(paper)
        make_figure(paper)
        papers.append(paper)
    return make_digest(topic, papers, date=date)


def queries_for(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


# Content of each page


def test_home_lists_published_digests_only(client, db):
    topic = make_topic("Talking Head Generation")
    paper = make_paper(topic=topic, title="Visible paper title")
    make_digest(topic, [paper], date=dt.date(2024, 10, 12))
    make_digest(topic, [paper], date=dt.date(2024, 10, 13), status=Status.DRAFT)
    body = client.get("/").content.decode()
    assert "Talking Head Generation" in body
    assert "/topics/talking-head-generation/2024-10-12/" in body
    assert "2024-10-13" not in body
    assert "Visible paper title" in body


def test_paper_list_filters_by_all_tags_and_searches(client, db):
    both = make_paper(
        title="Gaussian avatars", tags=["nerf", "avatar"], authors=[{"name": "Grace Hopper"}]
    )
    make_paper(title="Only nerf", tags=["nerf"])
    make_paper(title="Hidden both", tags=["nerf", "avatar"], status=Status.HIDDEN)
    body = client.get("/papers/?tag=nerf&tag=avatar", follow=True).content.decode()
    assert "Gaussian avatars" in body
    assert "Only nerf" not in body and "Hidden both" not in body
    # The chips remove one tag each.
    assert 'href="?tag=avatar"' in body and 'href="?tag=nerf"' in body
    # A paper's tags narrow the list further.
    assert 'href="/papers/?tag=avatar&amp;tag=nerf"' in body
    make_summary(both, tldr="A zebra-striped summary sentence.")
    refresh_indexes(Paper.objects.values_list("pk", flat=True))
    for query in ["zebra-striped", "gaussian", "hopper", both.arxiv_id]:
        body = client.get("/papers/", {"q": query}, follow=True).content.decode()
        assert "Gaussian avatars" in body, query
        assert "Only nerf" not in body, query


def test_paper_list_pages(client, db):
    for i in range(25):
        make_paper(title=f"Numbered paper {i:02d}")
    first = client.get("/papers/").content.decode()
    second = client.get("/papers/?page=2").content.decode()
    assert first.count('class="paper-item"') == 20
    assert second.count('class="paper-item"') == 5
    assert 'rel="next" href="?page=2"' in first


@pytest.mark.parametrize(
    "url",
    [
        "/papers/?page=abc",
        "/papers/?page=999",
        "/papers/?page=-1",
        "/papers/?tag=no-such-tag",
        "/papers/2410.99999/",
        "/papers/not-an-id/",
        "/papers/hep-th/123/",
        "/tags/no-such-tag/",
        "/tags/?page=9",
        "/topics/no-such-topic/",
        "/topics/no-such-topic/2024-10-12/",
        "/topics/t/2024-13-45/",
        "/topics/t/2024-02-30/",
        "/topics/t/2024-10-11/",
        "/figures/999999/",
    ],
)
def test_unknown_things_answer_404(client, db, url):
    topic = make_topic("T", slug="t")
    make_digest(topic, [make_paper(topic=topic)], date=dt.date(2024, 10, 12))
    assert client.get(url).status_code == 404


def test_malformed_parameters_never_fail(client, db):
    make_paper(title="Anything")
    for params in [{"q": "x" * 100_000}, {"q": "\x00\x01"}, {"q": "% _ ' \" ;"}, {"tag": ""}]:
        response = client.get("/papers/", params, follow=True)  # to the canonical URL
        assert response.status_code == 200, params


def test_paper_pages_for_new_and_old_ids(client, db):
    make_paper("2410.07757", title="New style")
    make_paper("hep-th/9901001", title="Old style")
    assert "New style" in client.get("/papers/2410.07757/").content.decode()
    assert "Old style" in client.get("/papers/hep-th/9901001/").content.decode()
    assert reverse("papers:paper_detail", args=["hep-th/9901001"]) == "/papers/hep-th/9901001/"
    response = client.get("/papers/2410.07757v2/")
    assert response.status_code == 301 and response["Location"] == "/papers/2410.07757/"


def test_unpublished_paper_and_digest_are_not_public(client, db):
    topic = make_topic("T", slug="t")
    for status in (Status.DRAFT, Status.REVIEW, Status.HIDDEN):
        paper = make_paper(status=status)
        assert client.get(paper.get_absolute_url()).status_code == 404
    digest = make_digest(topic, [], status=Status.REVIEW)
    assert client.get(digest.get_absolute_url()).status_code == 404


def test_paper_page_shows_version_and_editor_correction(client, db):
    paper = make_paper(
        title="Versioned", version=3, updated=timezone.make_aware(dt.datetime(2024, 11, 2))
    )
    make_summary(paper, tldr="Corrected sentence.", locked=True)
    body = client.get(paper.get_absolute_url()).content.decode()
    assert "updated to v3 on 2024-11-02" in body
    assert "Corrected by an editor" in body
    assert "Corrected sentence." in body
    assert reverse("papers:paper_report", args=[paper.arxiv_id]) in body


def test_tag_pages_with_counts_and_unicode_slugs(client, db):
    make_paper(tags=["数字人", "nerf"])
    make_paper(tags=["数字人"])
    make_paper(tags=["数字人"], status=Status.DRAFT)
    body = client.get("/tags/").content.decode()
    assert "数字人" in body and '<span class="count">2</span>' in body
    tag = Tag.objects.get(name="数字人")
    assert tag.slug == "数字人"
    response = client.get(tag.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('class="paper-item"') == 2


def test_topic_archive_and_digest_page(client, db):
    topic = make_topic("Talking Head Generation", description="Faces that talk.")
    digest = populate(topic, 2)
    make_digest(topic, [], date=dt.date(2024, 9, 30))
    body = client.get(topic.get_absolute_url()).content.decode()
    assert "October 2024" in body and "September 2024" in body
    assert digest.get_absolute_url() in body
    page = client.get(digest.get_absolute_url()).content.decode()
    paper = digest.entries.first().paper
    assert paper.title in page
    assert "Key takeaways" in page and "Structured analysis" in page
    assert 'property="og:image"' in page and 'name="keywords"' in page
    assert 'loading="lazy"' in page
    assert reverse("papers:topic_feed", args=[topic.slug]) in page


def test_figures_only_when_the_licence_allows(client, db):
    topic = make_topic()
    free = make_paper(topic=topic, license=CC_BY, title="Free paper")
    closed = make_paper(topic=topic, license=ARXIV_ONLY, title="Closed paper")
    shown = make_figure(free)
    hidden = make_figure(free, hidden=True)
    not_allowed = make_figure(closed)
    digest = make_digest(topic, [free, closed])
    page = client.get(digest.get_absolute_url()).content.decode()
    assert shown.url in page
    assert hidden.url not in page and not_allowed.url not in page
    response = client.get(shown.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert "max-age=2592000" in response["Cache-Control"]
    assert client.get(hidden.url).status_code == 404
    assert client.get(not_allowed.url).status_code == 404
    assert client.get(shown.thumbnail_url).status_code == 200
    closed.content_permission = True
    closed.save()
    assert client.get(not_allowed.url).status_code == 200


def test_staff_see_figures_of_unpublished_papers(client, db):
    draft = make_paper(status=Status.DRAFT, license=CC_BY)
    figure = make_figure(draft)
    assert client.get(figure.url).status_code == 404
    staff = User.objects.create_user("editor", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get(figure.url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_sitemap_robots_and_source(client, db):
    topic = make_topic("T", slug="t")
    paper = make_paper("2410.07757", topic=topic, tags=["nerf"])
    draft = make_paper("2410.00001", status=Status.DRAFT)
    make_digest(topic, [paper])
    index = client.get("/sitemap.xml").content.decode()
    assert "sitemap-papers.xml" in index
    papers = client.get("/sitemap-papers.xml").content.decode()
    assert "/papers/2410.07757/" in papers and draft.arxiv_id not in papers
    assert "/topics/t/2024-10-12/" in client.get("/sitemap-digests.xml").content.decode()
    robots = client.get("/robots.txt")
    assert robots["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()
    assert "AGPL" in client.get("/source/").content.decode()


def test_footer_links_the_source(client, db, settings):
    assert 'href="/source/"' in client.get("/").content.decode()
    settings.SOURCE_CODE_URL = "https://example.org/digest-site"
    cache.clear()
    assert 'href="https://example.org/digest-site"' in client.get("/").content.decode()


def test_healthz(client, db, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok"},
        "pipeline": {"status": "ok", "topics": {}},
    }
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["redis"].startswith("error")


def test_healthz_with_a_real_redis(client, db, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content)["checks"]["redis"] == "ok"


# Escaping


def test_hostile_text_is_escaped_everywhere(client, db):
    topic = make_topic("T", slug="t")
    paper = make_paper(
        topic=topic,
        title=f"Title {HOSTILE}",
        abstract=f"Abstract {HOSTILE}",
        comment=HOSTILE,
        authors=[{"name": HOSTILE}],
        tags=[HOSTILE],
        license=CC_BY,
    )
    make_summary(
        paper,
        tldr=HOSTILE,
        key_takeaways=[HOSTILE],
        method=HOSTILE,
        links=[
            {"label": "x", "url": "javascript:alert(1)"},
            {"label": HOSTILE, "url": "https://ok.example/"},
        ],
    )
    make_figure(paper, caption=f'Figure 1: "{HOSTILE}"')
    digest = make_digest(topic, [paper], intro=HOSTILE)
    tag = paper.tags.first()
    for url in [
        "/",
        "/papers/",
        paper.get_absolute_url(),
        digest.get_absolute_url(),
        "/tags/",
        tag.get_absolute_url(),
        f"/papers/?q={HOSTILE[:20]}",
    ]:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert "javascript:alert" not in body, url
    assert "&lt;script&gt;" in client.get(paper.get_absolute_url()).content.decode()


# Caching and conditional requests


def test_pages_are_cached_and_invalidated_on_change(client, db):
    paper = make_paper(title="First title")
    assert "First title" in client.get("/papers/").content.decode()
    with CaptureQueriesContext(connection) as context:
        assert "First title" in client.get("/papers/").content.decode()
    assert len(context.captured_queries) == 0
    paper.title = "Second title"
    paper.save()
    assert "Second title" in client.get("/papers/").content.decode()
    make_summary(paper, tldr="A fresh summary line.")
    assert "A fresh summary line." in client.get("/papers/").content.decode()


def test_conditional_requests_answer_304(client, db):
    paper = make_paper(title="Cached")
    first = client.get(paper.get_absolute_url())
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(paper.get_absolute_url(), headers={"if-none-match": etag}).status_code == 304
    response = client.get(paper.get_absolute_url(), headers={"if-modified-since": modified})
    assert response.status_code == 304
    make_summary(paper)
    assert client.get(paper.get_absolute_url(), headers={"if-none-match": etag}).status_code == 200


# Query counts: constant in the number of papers, tags and figures


def test_query_counts_do_not_grow(client, db, django_assert_max_num_queries):
    topic = make_topic("Talking Head Generation")
    small = populate(topic, 1, date=dt.date(2024, 10, 12))
    first = make_paper(topic=topic, tags=["talking head"])
    urls = lambda: [  # noqa: E731
        "/",
        "/papers/",
        "/papers/?tag=cscv&tag=talking-head",
        "/papers/?q=talking",
        first.get_absolute_url(),
        "/tags/",
        "/tags/talking-head/",
        topic.get_absolute_url(),
        small.get_absolute_url(),
    ]
    before = {url: queries_for(client, url) for url in urls()}
    big = populate(topic, 12, date=dt.date(2024, 10, 13))
    for paper in list(big.papers.all())[:3]:
        make_figure(paper)
        make_summary(paper, language="zh")
    small.entries.all().delete()
    for position, entry in enumerate(big.entries.all()):
        small.entries.create(paper=entry.paper, position=position)
    for url in urls():
        with django_assert_max_num_queries(before[url]):
            queries_for(client, url)
        assert before[url] <= 8, url


# Error reports


def test_a_reader_reports_an_error(client, db):
    paper = make_paper()
    summary = make_summary(paper)
    url = reverse("papers:paper_report", args=[paper.arxiv_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"message": "The second takeaway is wrong.", "contact": ""})
    assert response.status_code == 302
    report = ErrorReport.objects.get()
    assert report.paper == paper and report.summary == summary and not report.resolved
    assert report.client_hash and "127.0.0.1" not in report.client_hash
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_report_form_traps_robots_and_limits_floods(client, db):
    paper = make_paper()
    url = reverse("papers:paper_report", args=[paper.arxiv_id])
    response = client.post(url, {"message": "Buy cheap things now!!", "website": "spam.example"})
    assert response.status_code == 302 and ErrorReport.objects.count() == 0
    assert client.post(url, {"message": "short"}).status_code == 400
    for _ in range(5):
        assert client.post(url, {"message": "This summary is wrong."}).status_code == 302
    assert client.post(url, {"message": "This summary is wrong."}).status_code == 429
    assert ErrorReport.objects.count() == 5
    assert client.post(url, {"message": "x" * 20}, REMOTE_ADDR="10.0.0.2").status_code == 302


def test_report_needs_a_published_paper(client, db):
    draft = make_paper(status=Status.DRAFT)
    url = reverse("papers:paper_report", args=[draft.arxiv_id])
    assert client.post(url, {"message": "This summary is wrong."}).status_code == 404


# Languages


def test_chinese_interface(client, db):
    make_paper()
    response = client.get("/language/zh-hans/?next=/papers/%3Fq%3Dheads")
    assert response.status_code == 302 and response["Location"] == "/zh-hans/papers/?q=heads"
    body = client.get("/zh-hans/papers/").content.decode()
    assert '<html lang="zh-hans">' in body
    assert "论文" in body
    assert '<link rel="alternate" hreflang="en" href="http://testserver/papers/">' in body
    assert (
        '<link rel="alternate" hreflang="zh-Hans" href="http://testserver/zh-hans/papers/">' in body
    )
    # The language is the URL's: the same address is English for everyone, whatever the cookie.
    assert '<html lang="en">' in client.get("/papers/").content.decode()
    back = client.get("/zh-hans/language/en/?next=/zh-hans/tags/")
    assert back["Location"] == "/tags/"
    assert client.get("/language/xx/").status_code == 404
    response = client.get("/language/en/?next=https://evil.example/")
    assert response["Location"] == "/"


def test_the_source_can_be_downloaded(client, db):
    import io
    import tarfile

    assert "/source/digest-site.tar.gz" in client.get("/source/").content.decode()
    response = client.get("/source/digest-site.tar.gz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    body = b"".join(response.streaming_content)
    names = tarfile.open(fileobj=io.BytesIO(body)).getnames()
    assert "digest-site/manage.py" in names and "digest-site/LICENSE" in names
    assert "digest-site/papers/pipeline.py" in names
    assert not [n for n in names if "/.venv/" in n or "/data/" in n or n.endswith(".pyc")]


def test_figures_show_their_licence_or_link_to_arxiv(client, db):
    topic = make_topic()
    free = make_paper(license="http://creativecommons.org/licenses/by/4.0/", topic=topic)
    closed = make_paper(license="http://arxiv.org/licenses/nonexclusive-distrib/1.0/", topic=topic)
    make_figure(free)
    make_figure(closed)
    make_digest(topic, [free, closed])

    page = client.get(free.get_absolute_url()).content.decode()
    assert "under CC BY 4.0" in page and "Ada Lovelace" in page
    page = client.get(closed.get_absolute_url()).content.decode()
    assert "does not let this site show its figures" in page
    assert "/figures/" not in page
    digest = client.get(reverse("papers:digest_detail", args=[topic.slug, "2024-10-12"]))
    body = digest.content.decode()
    assert body.count("under CC BY 4.0") == 1
    assert body.count("does not let this site show its figures") == 1


def test_tag_filters_accept_names_as_typed(client, db):
    make_paper(tags=["cs.CV", "Diffusion"])
    make_paper(tags=["cs.CV"])
    listed = client.get("/papers/?tag=cs.CV&tag=Diffusion", follow=True)
    assert listed.redirect_chain == [("/papers/?tag=cscv&tag=diffusion", 301)]
    assert len(listed.context["page_obj"]) == 1
    assert len(client.get("/papers/?tag=cscv").context["page_obj"]) == 2
    assert client.get("/papers/?tag=cs.XX").status_code == 404


def test_subscribe_form_and_licence_notes_in_chinese(client, db):
    topic = make_topic()
    free = make_paper(topic=topic, license=CC_BY)
    closed = make_paper(topic=topic, license=ARXIV_ONLY)
    make_figure(free)
    make_figure(closed)
    make_digest(topic, [free, closed])
    in_chinese = client.get("/language/zh-hans/?next=" + topic.get_absolute_url())
    page = client.get(in_chinese["Location"]).content.decode()
    assert "通过邮件接收这些论文" in page and "邮箱地址" in page and "每周" in page
    assert "Get these papers by e-mail" not in page
    with override("zh-hans"):  # the Chinese pages' own addresses
        free_url, closed_url = free.get_absolute_url(), closed.get_absolute_url()
        source_url = reverse("papers:source")
    assert free_url.startswith("/zh-hans/papers/")
    page = client.get(free_url).content.decode()
    assert "采用 CC BY 4.0 许可" in page and "under CC BY 4.0" not in page
    page = client.get(closed_url).content.decode()
    assert "许可证不允许本站展示其中的图片" in page
    assert "下载本站运行的源代码" in client.get(source_url).content.decode()


def test_the_admin_follows_the_editors_language_choice(client, db):
    client.get("/language/zh-hans/")  # sets the language cookie
    assert "用户名" in client.get("/admin/login/").content.decode()
    assert '<html lang="en">' in client.get("/papers/").content.decode()  # the URL's language


@contextlib.contextmanager
def unreachable_database():
    """The default database is a server that is not there (a restart, for this request)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    previous = connections["default"]
    gone = {
        **previous.settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "NAME": "gone",
        "USER": "gone",
        "PASSWORD": "",
        "OPTIONS": {"connect_timeout": 2},
    }
    connections["default"] = load_backend(gone["ENGINE"]).DatabaseWrapper(gone)
    try:
        yield
    finally:
        connections["default"] = previous


def test_pages_answer_503_while_the_database_cannot_be_reached(client, db):
    topic = make_topic(auto_publish=True)
    populate(topic, 1)
    client.raise_request_exception = False
    assert client.get("/papers/").status_code == 200
    cache.clear()
    with unreachable_database():
        down = [client.get(url) for url in ("/papers/", "/tags/", topic.get_absolute_url())]
        in_chinese = client.get("/zh-hans/papers/")
    assert [r.status_code for r in down] == [503, 503, 503]
    assert all(r["Retry-After"] == "30" and b"database" in r.content for r in down)
    assert in_chinese.status_code == 503 and "数据库" in in_chinese.content.decode()
    assert client.get("/papers/").status_code == 200
