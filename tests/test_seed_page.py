"""The seed post, imported, reads on the digest page the way the seed lays it out."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from papers.markdown.importer import import_post
from papers.models import Digest
from tests.conftest import require

SEED_POST = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "seed"
) / "talking-head-generation-2024-10-12.md"


@pytest.mark.django_db
def test_the_imported_seed_reads_like_the_seed(client):
    require(SEED_POST.exists(), f"the seed post {SEED_POST}")
    report = import_post(SEED_POST.read_bytes(), SEED_POST.name)
    assert not report.errors
    digest = Digest.objects.get()
    entries = list(digest.entries.select_related("paper").order_by("position"))
    assert len(entries) == 6

    url = reverse("papers:digest_detail", args=[digest.topic.slug, digest.date.isoformat()])
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2024-10-12" in page and digest.topic.name in page
    positions = [page.index(entry.paper.title) for entry in entries]
    assert positions == sorted(positions)  # the post's order
    for entry in entries:
        paper = entry.paper
        summary = paper.summaries.get()
        assert f"https://arxiv.org/pdf/{paper.arxiv_id}" in page or paper.pdf_url in page
        assert summary.tldr in page
        for takeaway in summary.key_takeaways:
            assert takeaway in page
    # The structured analysis is collapsible; the page is Chinese where the summaries are.
    assert page.count("<details") >= 6
    assert re.search(r"[\u4e00-\u9fff]{4}", page)
