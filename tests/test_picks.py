"""Editors' picks: a starred paper with a one-line reason opens its digest, has its own feed per
topic, and a weekly "best of" page lists the week's picks."""

import datetime as dt

import feedparser
import pytest

from papers.models import DigestEntry, Status
from tests.factories import make_digest, make_paper, make_summary, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def week():
    topic = make_topic("Talking Heads", slug="heads")
    monday = dt.date(2024, 10, 7)  # ISO week 2024-W41
    digests = []
    for day in range(3):
        papers = [make_paper(title=f"Day {day} paper {n}") for n in range(3)]
        for paper in papers:
            make_summary(paper, tldr=f"{paper.title} in one line.")
        digests.append(make_digest(topic, papers, date=monday + dt.timedelta(days=day)))
    pick = DigestEntry.objects.get(digest=digests[1], position=2)
    pick.pick_reason = "The first real-time method that keeps identity."
    pick.save()
    return topic, digests, pick


def test_a_pick_opens_its_digest_with_the_reason(client, week):
    topic, digests, pick = week
    body = client.get(digests[1].get_absolute_url()).content.decode()
    picks_at = body.index("Editors' picks")
    assert picks_at < body.index('id="paper-1"')
    assert 'href="#paper-3">Day 1 paper 2</a> — The first real-time method' in body
    assert body.count("Editors' pick: The first real-time method") == 1
    assert "Editors' picks" not in client.get(digests[0].get_absolute_url()).content.decode()


def test_picks_have_a_feed_per_topic(client, week):
    topic, digests, pick = week
    parsed = feedparser.parse(client.get(f"/topics/{topic.slug}/picks/feed/").content)
    assert not parsed.bozo
    assert [entry.title for entry in parsed.entries] == ["Day 1 paper 2"]
    assert "The first real-time method" in parsed.entries[0].summary


def test_a_weekly_best_of_page_lists_the_weeks_picks(client, week):
    topic, digests, pick = week
    topic_page = client.get(topic.get_absolute_url()).content.decode()
    assert f'href="/topics/{topic.slug}/best/2024-W41/"' in topic_page
    body = client.get(f"/topics/{topic.slug}/best/2024-W41/").content.decode()
    assert "Day 1 paper 2" in body and "The first real-time method" in body
    assert "Day 0 paper" not in body
    assert 'href="/topics/heads/best/2024-W40/"' in body
    empty = client.get(f"/topics/{topic.slug}/best/2024-W40/").content.decode()
    assert "picked no paper this week" in empty


@pytest.mark.parametrize(
    "url",
    ["/topics/heads/best/2024-W54/", "/topics/heads/best/2024-W00/", "/topics/nope/best/2024-W41/"],
)
def test_no_such_week_or_topic_is_404(client, week, url):
    assert client.get(url).status_code == 404


def test_unpublished_papers_and_digests_are_never_picks(client, week):
    topic, digests, pick = week
    pick.paper.status = Status.HIDDEN
    pick.paper.save()
    parsed = feedparser.parse(client.get(f"/topics/{topic.slug}/picks/feed/").content)
    assert parsed.entries == []


def test_editors_pick_in_the_digest_admin(admin_client, week):
    topic, digests, pick = week
    page = admin_client.get(f"/admin/papers/digest/{digests[0].pk}/change/").content.decode()
    assert 'name="entries-0-pick_reason"' in page


def test_picks_pages_keep_a_constant_query_count(client, week, django_assert_max_num_queries):
    topic, digests, pick = week
    urls = [
        f"/topics/{topic.slug}/best/2024-W41/",
        f"/topics/{topic.slug}/picks/feed/",
        digests[1].get_absolute_url(),
        topic.get_absolute_url(),
    ]
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(100) as captured:
            client.get(url)
        counts[url] = len(captured)
    for entry in DigestEntry.objects.filter(digest__in=digests).exclude(pk=pick.pk):
        entry.pick_reason = f"Picked for reason {entry.pk}."
        entry.save()
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url, {"again": 1}).status_code == 200


def test_picks_are_in_the_digest_history_and_a_revert_restores_them(week):
    topic, digests, pick = week
    digest = digests[1]
    digest.save()  # a record with today's pick
    with_pick = digest.history.first()
    assert with_pick.picks == {
        pick.paper.arxiv_id: "The first real-time method that keeps identity."
    }

    DigestEntry.objects.filter(pk=pick.pk).update(pick_reason="")
    other = DigestEntry.objects.get(digest=digest, position=0)
    other.pick_reason = "A cleaner benchmark."
    other.save()
    digest.save()
    assert digest.history.first().picks == {other.paper.arxiv_id: "A cleaner benchmark."}

    digest.restore(with_pick)
    reasons = dict(digest.entries.values_list("paper__arxiv_id", "pick_reason"))
    assert reasons[pick.paper.arxiv_id] == "The first real-time method that keeps identity."
    assert reasons[other.paper.arxiv_id] == ""
    assert digest.history.first().picks == with_pick.picks  # the revert is itself recorded
