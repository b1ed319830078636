"""Venue and version of record: journal references and DOIs refreshed from arXiv in batches, shown
as "Published in ..." on the paper page and in the feeds."""

import datetime as dt

import feedparser
import pytest
from django.utils import timezone

from papers import tasks, venues
from papers.models import Paper
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_paper

pytestmark = pytest.mark.django_db


def recent(arxiv_id: str, **fields) -> Paper:
    return make_paper(arxiv_id, published=timezone.now() - dt.timedelta(days=30), **fields)


def test_journal_references_and_dois_are_refreshed_in_one_batched_query(client, fake_arxiv):
    first, second = recent("2410.00001"), recent("2410.00002")
    old = make_paper("2301.00001", published=timezone.now() - dt.timedelta(days=500))
    fake_arxiv.answers.append(
        atom_feed(
            [
                entry("2410.00001", journal_ref="CVPR 2025, pp. 1-10", doi="10.1109/cvpr.2025.1"),
                entry("2410.00002"),
            ]
        )
    )
    counts = tasks.refresh_venues()
    assert counts == {"asked": 2, "published": 1, "doi": 1}
    (query,) = fake_arxiv.queries()
    assert query["id_list"] == ["2410.00001,2410.00002"]  # one request; the old paper is not asked
    first.refresh_from_db()
    assert first.journal_ref == "CVPR 2025, pp. 1-10" and first.doi == "10.1109/cvpr.2025.1"
    assert first.journal_ref_seen_at is not None
    page = client.get(first.get_absolute_url()).content.decode()
    assert "Published in CVPR 2025, pp. 1-10" in page and "first seen" in page
    feed = feedparser.parse(client.get("/feed/").content)
    (item,) = [e for e in feed.entries if e.link.endswith(first.get_absolute_url())]
    assert "Published in CVPR 2025" in item.summary
    second.refresh_from_db()
    assert second.journal_ref == "" and old.journal_ref == ""


def test_the_first_sighting_date_stays_when_the_reference_is_corrected(fake_arxiv):
    paper = recent("2410.00001")
    fake_arxiv.answers.append(atom_feed([entry("2410.00001", journal_ref="CVPR 2025")]))
    venues.refresh_venues(["2410.00001"])
    seen = Paper.objects.get(pk=paper.pk).journal_ref_seen_at
    fake_arxiv.answers[:] = [atom_feed([entry("2410.00001", journal_ref="CVPR 2025, pp. 5-9")])]
    venues.refresh_venues(["2410.00001"])
    paper.refresh_from_db()
    assert paper.journal_ref == "CVPR 2025, pp. 5-9" and paper.journal_ref_seen_at == seen


def test_many_papers_are_asked_a_hundred_at_a_time(fake_arxiv):
    ids = [f"2410.{n:05d}" for n in range(1, 151)]
    for arxiv_id in ids:
        recent(arxiv_id)
    fake_arxiv.answers.append(atom_feed([]))
    assert venues.refresh_venues()["asked"] == 150
    assert [len(q["id_list"][0].split(",")) for q in fake_arxiv.queries()] == [100, 50]
