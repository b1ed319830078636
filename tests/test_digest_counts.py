"""A digest says how many of its papers are new, cross-listed and new versions; a run says what
arXiv returned and what the exclusions left out."""

import datetime as dt

import pytest
from django.urls import reverse

from papers import pipeline
from papers.models import DigestEntry, Status
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_topic

pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def fetch(fake_arxiv, auto_publish: bool):
    topic = make_topic(
        "Talking heads",
        categories="cs.CV",
        exclude_terms='GAN\n"neural radiance field"',
        auto_publish=auto_publish,
    )
    fake_arxiv.answers = [
        atom_feed(
            [
                entry("2410.00001", title="Talking heads"),
                entry("2410.00002", title="Talking heads", categories=("cs.GR", "cs.CV")),
                entry("2410.00003", 3, title="Talking heads, third version"),
                entry("2410.00004", title="A GAN for talking heads"),
                entry("2410.00005", abstract="A Neural Radiance Field of talking heads."),
            ]
        )
    ]
    return pipeline.fetch_topic(topic, since=LONG_AGO)


def test_the_digest_page_counts_new_cross_listed_and_new_versions(fake_arxiv, client):
    digest = fetch(fake_arxiv, auto_publish=True).digest
    kinds = dict(digest.entries.values_list("paper__arxiv_id", "kind"))
    assert kinds == {
        "2410.00001": DigestEntry.Kind.NEW,
        "2410.00002": DigestEntry.Kind.CROSS,
        "2410.00003": DigestEntry.Kind.REPLACEMENT,
    }
    assert digest.kind_counts() == {"new": 1, "cross": 1, "replacement": 1}
    html = client.get(digest.get_absolute_url()).content.decode()
    assert "new: 1, cross-listed: 1, new versions: 1" in html
    assert "Cross-listed" in html and "New version" in html


def test_the_today_page_shows_digest_counts_and_the_run_report(fake_arxiv, admin_client):
    outcome = fetch(fake_arxiv, auto_publish=False)
    run = outcome.run
    assert (run.returned, run.found, len(run.excluded)) == (5, 3, 2)
    assert run.exclusion_counts == {"GAN": 1, '"neural radiance field"': 1}
    assert outcome.digest.status == Status.DRAFT

    html = admin_client.get(reverse("admin:papers_today")).content.decode()
    assert "new: 1, cross-listed: 1, new versions: 1" in html
    assert "arXiv returned 5: 3 kept" in html
    assert "GAN (1)" in html and "&quot;neural radiance field&quot; (1)" in html

    preview = admin_client.get(reverse("admin:papers_digest_preview", args=[outcome.digest.pk]))
    assert "new: 1, cross-listed: 1, new versions: 1" in preview.content.decode()
