"""Follows: any combination of tags (all, any, none), topic, author, category and "has code", as a
listing and as feeds with one canonical URL; authors with pages, feeds and editors' merges."""

import datetime as dt

import feedparser
import pytest
from django.core.management import call_command
from django.urls import reverse

from papers.indexing import refresh_indexes
from papers.links import collect_links
from papers.models import AuthorAlias, Paper, author_key
from tests.factories import make_paper, make_summary, make_topic

pytestmark = pytest.mark.django_db


def listed(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [paper.title for paper in response.context["page_obj"]]


@pytest.fixture
def library():
    heads = make_topic("Talking Heads", slug="heads")
    papers = {
        "a": make_paper(title="A: 3DGS avatars", tags=["3DGS", "avatars"], topic=heads),
        "b": make_paper(title="B: 3DGS avatars with NeRF", tags=["3DGS", "avatars", "NeRF"]),
        "c": make_paper(title="C: NeRF only", tags=["NeRF"], categories=["cs.GR"]),
        "d": make_paper(
            title="D: avatars by Ramírez",
            tags=["avatars"],
            authors=[{"name": "José Ramírez"}, {"name": "Ada Lovelace"}],
        ),
    }
    make_summary(papers["a"], links=[{"label": "Code", "url": "https://github.com/x/y"}])
    make_summary(papers["c"], links=[{"label": "Project", "url": "https://example.org"}])
    refresh_indexes(Paper.objects.values_list("pk", flat=True))
    collect_links(Paper.objects.values_list("pk", flat=True))
    return papers


def test_tags_combine_with_and_or_not(client, library):
    assert listed(client, "/papers/?tag=3dgs&tag=avatars&not=nerf") == ["A: 3DGS avatars"]
    assert sorted(listed(client, "/papers/?any=3dgs&any=nerf&not=avatars")) == ["C: NeRF only"]
    assert sorted(listed(client, "/papers/?tag=avatars&any=3dgs&any=nerf")) == [
        "A: 3DGS avatars",
        "B: 3DGS avatars with NeRF",
    ]


def test_topic_author_category_and_code_narrow_the_list(client, library):
    assert listed(client, "/papers/?topic=heads&tag=avatars") == ["A: 3DGS avatars"]
    assert listed(client, "/papers/?author=ramirez-j") == ["D: avatars by Ramírez"]
    assert listed(client, "/papers/?category=cs.GR") == ["C: NeRF only"]
    assert listed(client, "/papers/?code=1") == ["A: 3DGS avatars"]


def test_a_follow_has_a_human_title_and_a_follow_box(client, library):
    body = client.get("/papers/?tag=3dgs&tag=avatars&not=nerf").content.decode()
    assert "<h1>Papers tagged 3DGS and avatars, not NeRF</h1>" in body
    assert 'href="/feed/?tag=3dgs&amp;tag=avatars&amp;not=nerf"' in body
    assert 'href="/feed/atom/?tag=3dgs&amp;tag=avatars&amp;not=nerf"' in body
    assert "use the feed for this combination" in body
    single = client.get("/papers/?tag=avatars").content.decode()
    assert 'name="tag" value="avatars"' in single  # one tag: an e-mail subscription too


def test_parameter_order_does_not_matter(client, library):
    response = client.get("/papers/?not=nerf&tag=avatars&tag=3dgs&page=1")
    assert response.status_code == 301
    assert response["Location"] == "/papers/?tag=3dgs&tag=avatars&not=nerf&page=1"
    feed = client.get("/feed/?not=NeRF&tag=avatars&tag=3DGS")
    assert feed.status_code == 301
    assert feed["Location"] == "/feed/?tag=3dgs&tag=avatars&not=nerf"


def test_the_feed_of_a_follow_lists_the_same_papers(client, library):
    response = client.get("/feed/?tag=3dgs&tag=avatars&not=nerf")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert "Papers tagged 3DGS and avatars, not NeRF" in parsed.feed.title
    assert [entry.title for entry in parsed.entries] == ["A: 3DGS avatars"]
    atom = feedparser.parse(client.get("/feed/atom/?author=ramirez-j").content)
    assert [entry.title for entry in atom.entries] == ["D: avatars by Ramírez"]
    again = client.get("/feed/?tag=3dgs&tag=avatars&not=nerf", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize(
    "query",
    [
        "tag=nope",
        "any=nope",
        "not=nope",
        "topic=nope",
        "author=nobody-x",
        "category=../etc",
        "topic=heads&topic=other",
    ],
)
def test_unknown_filters_are_404(client, library, query):
    assert client.get(f"/papers/?{query}").status_code == 404
    assert client.get(f"/feed/?{query}").status_code == 404


def test_spellings_of_one_name_share_an_author_page(client):
    spellings = ["José Ramírez", "J. Ramírez", "Ramírez, José", "Jose Ramirez"]
    assert {author_key(name) for name in spellings} == {"ramirez-j"}
    for n, name in enumerate(spellings):
        paper = make_paper(title=f"Paper {n}", authors=[{"name": name}])
        refresh_indexes([paper.pk])
    page = client.get("/authors/ramirez-j/")
    assert page.status_code == 200
    assert len(page.context["page_obj"]) == 4
    paper_page = client.get(paper.get_absolute_url()).content.decode()
    assert f'href="{reverse("papers:author_detail", args=["ramirez-j"])}"' in paper_page
    assert client.get("/authors/nobody-x/").status_code == 404


def test_an_editors_merge_joins_two_keys(client):
    first = make_paper(title="By Wang Wei", authors=[{"name": "Wang Wei"}])
    second = make_paper(title="By Wei Wang", authors=[{"name": "Wei Wang"}])
    refresh_indexes([first.pk, second.pk])
    assert listed(client, "/authors/wang-w/") == ["By Wei Wang"]
    AuthorAlias.objects.create(key="wei-w", canonical="wang-w")
    assert sorted(listed(client, "/authors/wang-w/")) == ["By Wang Wei", "By Wei Wang"]
    moved = client.get("/authors/wei-w/")
    assert moved.status_code == 301 and moved["Location"] == "/authors/wang-w/"
    titles = [e.title for e in feedparser.parse(client.get("/feed/?author=wang-w").content).entries]
    assert sorted(titles) == ["By Wang Wei", "By Wei Wang"]


def test_merges_are_made_in_the_admin(admin_client):
    make_paper(authors=[{"name": "Wei Wang"}])
    response = admin_client.post(
        "/admin/papers/authoralias/add/", {"key": "wei-w", "canonical": "wei-w", "note": ""}
    )
    assert (
        response.status_code == 200 and "cannot be an alias of itself" in response.content.decode()
    )
    response = admin_client.post(
        "/admin/papers/authoralias/add/", {"key": "wei-w", "canonical": "wang-w", "note": "same"}
    )
    assert response.status_code == 302
    assert AuthorAlias.objects.get().canonical == "wang-w"


def test_the_pipeline_and_the_demo_fill_author_rows(client):
    call_command("load_demo")
    paper = Paper.objects.first()
    key = author_key(paper.author_names[0])
    assert client.get(f"/authors/{key}/").status_code == 200


def test_follow_pages_keep_a_constant_query_count(client, django_assert_max_num_queries):
    topic = make_topic("Heads", slug="heads")

    def add(n: int) -> None:
        for i in range(n):
            paper = make_paper(
                tags=["avatars", "3DGS"],
                topic=topic,
                authors=[{"name": "Ada Lovelace"}],
                published=dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
            )
            make_summary(paper, links=[{"label": "Code", "url": "https://github.com/a/b"}])
            refresh_indexes([paper.pk])
            collect_links([paper.pk])

    add(1)
    urls = [
        "/papers/?topic=heads&author=lovelace-a&tag=3dgs&tag=avatars&code=1",
        "/feed/?topic=heads&author=lovelace-a&tag=3dgs&tag=avatars&code=1",
        "/authors/lovelace-a/",
    ]
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(100) as captured:
            client.get(url)
        counts[url] = len(captured)
    add(15)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200


@pytest.mark.browser
def test_a_reader_follows_a_combination_by_rss_and_a_tag_by_e_mail(live_site, page, library):
    from papers.models import Subscription

    page.goto(live_site.url + "/papers/?not=nerf&tag=avatars&tag=3dgs")
    assert page.url.endswith("/papers/?tag=3dgs&tag=avatars&not=nerf")  # the canonical URL
    box = page.locator("section.follow")
    rss = box.get_by_role("link", name="RSS").get_attribute("href")
    feed = feedparser.parse(page.request.get(live_site.url + rss).body())
    assert [entry.title for entry in feed.entries] == ["A: 3DGS avatars"]

    page.goto(live_site.url + "/papers/?tag=avatars")
    box = page.locator("section.follow")
    box.get_by_label("E-mail address").fill("reader@example.org")
    box.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your mailbox").wait_for()
    assert Subscription.objects.filter(tag__slug="avatars").exists()
