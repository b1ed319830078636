"""Slow work an editor starts in the admin, done by a worker: a dry run of a topic's query, a
fetch now, retries and regenerating summaries. Nothing here runs inside a request.

The admin makes a Job with `papers.tasks.queue_job`; the worker runs it with `run`, which keeps
the job's state, progress and outcome (or the reason it failed) for the admin to show.
"""

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from django.db.models import F
from django.utils import timezone

from papers import pipeline, processing
from papers.models import Job, Paper, Topic
from papers.sources import arxiv_api

logger = logging.getLogger(__name__)

QUERY_FIELDS = ("query", "categories", "exclude_terms", "exclude_categories")
DRY_RUN_DAYS = 7
DRY_RUN_MAX = 100

# Called by the runners with a paper id: process it now (retry) or queue it (fetch).
PaperStep = Callable[[int], object]


def query_fingerprint(values: dict) -> str:
    """Names one version of a topic's query fields (what a dry run tried)."""
    parts = [str(values.get(name) or "") for name in QUERY_FIELDS]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def create(
    kind: str,
    *,
    topic: Topic | None = None,
    papers=(),
    params: dict | None = None,
    user=None,
) -> Job:
    job = Job.objects.create(
        kind=kind,
        topic=topic,
        params=params or {},
        created_by=user if user is not None and user.is_authenticated else None,
    )
    if papers:
        job.papers.set(papers)
    return job


def dry_run_of(values: dict) -> Job | None:
    """The latest dry run of exactly these query fields."""
    return (
        Job.objects.filter(kind=Job.Kind.DRY_RUN, params__fingerprint=query_fingerprint(values))
        .recent()
        .first()
    )


def run(job_id: int, *, process: PaperStep, queue: PaperStep) -> Job:
    """Run a queued job once; a finished one is left as it is (a task delivered twice)."""
    job = Job.objects.select_related("topic").get(pk=job_id)
    if job.finished:
        return job
    job.state = Job.State.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["state", "started_at"])
    runner = RUNNERS[job.kind]
    try:
        job.result = runner(job, process=process, queue=queue)
        job.state = Job.State.DONE
    except Exception as exc:  # noqa: BLE001 - the editor sees why, on the job
        logger.exception("Job %s failed", job.pk)
        job.state = Job.State.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "result", "error", "finished_at"])
    return job


def _set_total(job: Job, total: int) -> None:
    job.total = total
    Job.objects.filter(pk=job.pk).update(total=total)


def _step(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(done=F("done") + 1)


def dry_run(job: Job, **_) -> dict:
    """What the query matched over the last days, and what its exclusions left out (with the rule
    that left each out); nothing is stored. arXiv down fails the job."""
    trial = Topic(**{name: job.params.get(name, "") for name in QUERY_FIELDS})
    since = timezone.now() - dt.timedelta(days=job.params.get("days", DRY_RUN_DAYS))
    limit = job.params.get("limit", DRY_RUN_MAX)
    _set_total(job, limit)
    found, excluded = [], []
    for data in arxiv_api.search_results(trial, since, limit):
        (excluded if data.excluded_by else found).append(data)
        _step(job)
    known = set(
        Paper.objects.filter(arxiv_id__in=[p.arxiv_id for p in found]).values_list(
            "arxiv_id", flat=True
        )
    )

    def row(p: arxiv_api.PaperData) -> dict:
        return {
            "arxiv_id": p.arxiv_id,
            "version": p.version,
            "title": p.title,
            "published": p.published.isoformat() if p.published else "",
            "categories": list(p.categories),
            "matched_terms": list(p.matched_terms),
            "known": p.arxiv_id in known,
            "excluded_by": p.excluded_by,
        }

    return {
        "since": since.isoformat(),
        "capped": len(found) + len(excluded) >= limit,
        "papers": [row(p) for p in found],
        "excluded": [row(p) for p in excluded],
    }


def fetch(job: Job, *, queue: PaperStep, **_) -> dict:
    """The topic's pipeline now; its papers are queued for processing."""
    outcome = pipeline.fetch_topic(job.topic, progress=lambda *args: _step(job))
    for paper_id in outcome.to_process:
        queue(paper_id)
    run = outcome.run
    return {
        "run": run.pk,
        "status": run.status,
        "found": run.found,
        "new": run.new,
        "updated": run.updated,
        "failed": run.failed,
        "errors": run.errors,
    }


def retry(job: Job, *, process: PaperStep, **_) -> dict:
    """Download, extract and summarize the papers again, one after the other."""
    papers = list(job.papers.order_by("pk"))
    _set_total(job, len(papers))
    Paper.objects.filter(pk__in=[p.pk for p in papers]).update(
        state=Paper.State.FETCHED, attempts=0, next_attempt_at=None
    )
    result: dict = {"done": [], "failed": []}
    for paper in papers:
        process(paper.pk)
        paper.refresh_from_db(fields=["state", "last_error"])
        if paper.state == Paper.State.DONE:
            result["done"].append(paper.arxiv_id)
        else:
            result["failed"].append([paper.arxiv_id, paper.last_error or paper.state])
        _step(job)
    return result


def regenerate(job: Job, **_) -> dict:
    papers = job.papers.order_by("pk").prefetch_related("summaries")
    _set_total(job, papers.count())
    report = processing.regenerate_summaries(
        papers, discard_locks=job.params.get("discard_locks", False), progress=lambda: _step(job)
    )
    return dataclasses.asdict(report)


RUNNERS = {
    Job.Kind.DRY_RUN: dry_run,
    Job.Kind.FETCH: fetch,
    Job.Kind.RETRY: retry,
    Job.Kind.REGENERATE: regenerate,
}
