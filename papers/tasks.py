"""Celery tasks: thin wrappers around papers.pipeline and papers.processing.

Tasks are acknowledged late and retried when their worker process dies (a PDF that crashes
PyMuPDF) or the database cannot be reached (a restart), a bounded number of times: never
`reject_on_worker_lost`, which would loop forever. A paper whose processing gives up for good is
recorded as failed (`processing_gave_up`), so it is retried later like any failure.
"""

import datetime as dt
import logging

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from papers import jobs, links, pipeline, processing, related, venues
from papers.database import DATABASE_ERRORS
from papers.models import Job, Paper, Topic

logger = logging.getLogger(__name__)

RELIABLE = {
    "acks_late": True,
    "retry_on_worker_lost": True,
    "max_retries": 3,
    # Also the wait before running a task again after its worker process died.
    "default_retry_delay": 10,
    # The database restarting: again after 10, 20 and 40 seconds.
    "autoretry_for": DATABASE_ERRORS,
    "retry_backoff": 10,
    "retry_jitter": False,
}


@shared_task(
    name="papers.fetch_topic",
    bind=True,
    **RELIABLE,
    time_limit=pipeline.FETCH_TIME_LIMIT,
    soft_time_limit=pipeline.FETCH_TIME_LIMIT - 5 * 60,
)
def fetch_topic(
    self, topic_id: int, since: str | None = None, max_results: int | None = None
) -> dict:
    """Run one topic: fetch, then queue each new or updated paper for processing."""
    topic = Topic.objects.get(pk=topic_id)
    outcome = pipeline.fetch_topic(
        topic,
        since=dt.datetime.fromisoformat(since) if since else None,
        max_results=max_results,
    )
    for paper_id in outcome.to_process:
        process_paper.delay(paper_id)
    if outcome.look_again and not self.request.is_eager:
        # arXiv's API can show an announcement hours late; in-process runs have no later.
        fetch_topic.apply_async((topic_id,), countdown=pipeline.LOOK_AGAIN_AFTER.total_seconds())
    run = outcome.run
    return {"run": run.pk, "found": run.found, "new": run.new, "updated": run.updated}


PROCESS_TIME_LIMIT = 10 * 60


@shared_task(
    name="papers.process_paper",
    bind=True,
    **RELIABLE,
    time_limit=PROCESS_TIME_LIMIT,
    soft_time_limit=PROCESS_TIME_LIMIT - 60,
)
def process_paper(self, paper_id: int) -> str:
    """Download, extract, summarize and tag one paper; failures are recorded on the paper.

    Two topics' runs may queue the same paper: one worker at a time works on it. A retry of this
    task after its worker died carries the same id and takes the claim over.
    """
    claim = f"papers:processing:{paper_id}"
    owner = self.request.id or "in-process"
    if not cache.add(claim, owner, timeout=PROCESS_TIME_LIMIT) and cache.get(claim) != owner:
        return "busy"
    try:
        paper = processing.process_paper(paper_id)
    except Paper.DoesNotExist:
        return "gone"
    finally:
        cache.delete(claim)
    paper_processed.delay(paper_id)
    return paper.state


def processing_gave_up(sender=None, task_id=None, exception=None, args=None, **kwargs) -> None:
    """task_failure receiver: a paper whose processing task failed for good (its worker died at
    every attempt, a time limit, an unexpected error) is recorded as failed, never left half-way."""
    if getattr(sender, "name", "") != process_paper.name or not args:
        return
    processing.record_gave_up(args[0], f"{type(exception).__name__}: {exception}")
    if not sender.request.is_eager:
        # The worker's main process reports dead pool processes: it keeps no connection open.
        connection.close()


@shared_task(name="papers.paper_processed", **RELIABLE)
def paper_processed(paper_id: int) -> None:
    """After processing: the paper's links to code and data, and its "see also" lists."""
    links.collect_links([paper_id])
    related.paper_arrived(paper_id)


@shared_task(name="papers.refresh_venues", **RELIABLE)
def refresh_venues() -> dict[str, int]:
    """Journal references and DOIs of recent papers, from arXiv (weekly, by beat)."""
    return venues.refresh_venues()


@shared_task(name="papers.check_links", **RELIABLE)
def check_links() -> dict[str, int]:
    """Check the links that are new or a week old (run daily by beat)."""
    return links.check_due_links()


@shared_task(name="papers.retry_failed_papers", **RELIABLE)
def retry_failed_papers() -> int:
    """Queue failed papers whose back-off has passed."""
    due = Paper.objects.failed().filter(
        next_attempt_at__lte=timezone.now(), attempts__lt=processing.MAX_ATTEMPTS
    )
    ids = list(due.values_list("pk", flat=True))
    for paper_id in ids:
        process_paper.delay(paper_id)
    return len(ids)


LICENCES_PER_RUN = 20


@shared_task(name="papers.check_licences", **RELIABLE)
def check_licences() -> int:
    """Read the licences arXiv has not told yet, a few at a time (one polite request each)."""
    return processing.check_missing_licences(LICENCES_PER_RUN)


def queue_job(kind: str, **fields) -> Job:
    """Make a job (see papers.jobs.create) and hand it to the workers once the transaction commits."""
    job = jobs.create(kind, **fields)
    run_job.delay_on_commit(job.pk)
    return job


def _process_now(paper_id: int) -> object:
    """Process a paper inside the running job, with the same one-worker-per-paper claim."""
    return process_paper.apply(args=[paper_id]).result


@shared_task(
    name="papers.run_job", bind=True, **RELIABLE, time_limit=60 * 60, soft_time_limit=55 * 60
)
def run_job(self, job_id: int) -> str:
    """An editor's slow work (dry run, fetch now, retries, regeneration); see papers.jobs."""
    try:
        return jobs.run(job_id, process=_process_now, queue=process_paper.delay).state
    except Job.DoesNotExist:
        return "gone"
