"""Venue and version of record: arXiv's journal reference and DOI, which authors add weeks or months
after the preprint, looked up again for recent papers in batched API queries (weekly, by beat)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from papers import indexing
from papers.models import Paper, Status
from papers.sources import arxiv_api

RECENT = dt.timedelta(days=365)
BATCH = 100  # ids per API query


def papers_to_refresh(now: dt.datetime | None = None) -> list[str]:
    """Published papers of the last year, oldest check first: their arXiv ids."""
    since = (now or timezone.now()) - RECENT
    return list(
        Paper.objects.filter(status=Status.PUBLISHED, published__gte=since)
        .order_by("published")
        .values_list("arxiv_id", flat=True)
    )


def refresh_venues(arxiv_ids: list[str] | None = None) -> dict[str, int]:
    """Ask arXiv for these papers' journal references and DOIs; record what changed."""
    ids = papers_to_refresh() if arxiv_ids is None else arxiv_ids
    counts = {"asked": 0, "published": 0, "doi": 0}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        counts["asked"] += len(batch)
        for data in arxiv_api.fetch_by_ids(batch):
            with transaction.atomic():
                paper = Paper.objects.select_for_update().filter(arxiv_id=data.arxiv_id).first()
                if paper is None:
                    continue
                changed = []
                if data.journal_ref and data.journal_ref != paper.journal_ref:
                    if not paper.journal_ref:
                        paper.journal_ref_seen_at = timezone.now()
                        changed.append("journal_ref_seen_at")
                    paper.journal_ref = data.journal_ref
                    changed.append("journal_ref")
                    counts["published"] += 1
                if data.doi and data.doi != paper.doi:
                    paper.doi = data.doi
                    changed.append("doi")
                    counts["doi"] += 1
                if changed:
                    paper.save(update_fields=[*changed, "updated_at"])
                    indexing.refresh_indexes([paper.pk])
    return counts
