"""The daily pipeline as plain, idempotent functions; Celery tasks (papers/tasks.py) call them.

fetch_topic -> per paper: process_paper (download + extract -> summarize -> tag) -> the topic's
digest for the announcement date. Running any step twice creates no duplicate rows or files.

Ingestion lives here: fetching a topic, storing papers, dead runs, tagging and digests. The work
done on each paper (PDF, licence, summaries, failures and retries, regeneration) lives in
papers/processing.py.
"""

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from papers import announcements, indexing, tagging
from papers.database import DATABASE_ERRORS, when_reachable
from papers.models import (
    Announcement,
    Digest,
    DigestEntry,
    Paper,
    PipelineRun,
    Status,
    Tag,
    Topic,
    TopicPaper,
)
from papers.sources import arxiv_api
from papers.text import clean_text

logger = logging.getLogger(__name__)

# How long after a scheduled announcement a run that saw none looks again (arXiv's API can lag
# the announcement by hours), and until when.
LOOK_AGAIN_AFTER = dt.timedelta(minutes=90)
LOOK_AGAIN_UNTIL = dt.timedelta(hours=6)
# A version the schedule dates this long before the run was found by a backfill (`--since`):
# it goes into the run's own digest rather than one far in the past.
BACKFILL_AGE = dt.timedelta(days=14)
# The next run asks arXiv again from a little before the newest submission this one saw.
FRONTIER_MARGIN = dt.timedelta(hours=1)


@dataclass
class FetchOutcome:
    run: PipelineRun
    to_process: list[int] = field(default_factory=list)
    digests: list[Digest] = field(default_factory=list)
    # arXiv showed nothing new soon after a scheduled announcement: ask again a little later.
    look_again: bool = False

    @property
    def digest(self) -> Digest | None:
        """The digest of the run's own announcement day if it got papers, else the latest one."""
        for digest in self.digests:
            if digest.date == self.run.announced_on:
                return digest
        return self.digests[-1] if self.digests else None


Progress = Callable[[str, str], None]


def previous_frontier(topic: Topic) -> dt.datetime | None:
    """The newest submission an earlier successful run of the topic saw on arXiv."""
    run = (
        topic.runs.filter(status=PipelineRun.State.SUCCEEDED, newest_seen__isnull=False)
        .order_by("-started_at", "-pk")
        .first()
    )
    return run.newest_seen if run else None


def default_since(topic: Topic, now: dt.datetime | None = None) -> dt.datetime:
    """Where a run starts asking: just before the newest submission an earlier run saw.

    Everything arXiv announces later was submitted after that (announcements go out in order),
    whenever it was announced and whenever the runs happened; what is asked twice is skipped.
    """
    frontier = previous_frontier(topic)
    if frontier is not None:
        return frontier - FRONTIER_MARGIN
    last = topic.last_successful_run()
    if last is not None:
        return last.since or last.started_at
    return (now or timezone.now()) - dt.timedelta(days=settings.FETCH_WINDOW_DAYS)


def quiet_days(start: dt.date, end: dt.date) -> set[dt.date]:
    """Listing dates on which runs saw no announcement and none saw one: holidays."""
    seen: dict[dt.date, set[str]] = {}
    rows = PipelineRun.objects.filter(announced_on__range=(start, end)).exclude(announcement="")
    for date, announcement in rows.values_list("announced_on", "announcement"):
        seen.setdefault(date, set()).add(announcement)
    return {date for date, kinds in seen.items() if kinds == {Announcement.NONE}}


def digest_date(submitted: dt.datetime, run: PipelineRun, quiet: set[dt.date]) -> dt.date:
    """The listing date on which arXiv announced a version submitted at `submitted`.

    arXiv's schedule gives the date; a day on which runs saw no announcement (a holiday) passes
    the version on to the next listing. Never later than the run's own day.
    """
    date = announcements.scheduled_listing_date(submitted)
    if date < run.announced_on - BACKFILL_AGE:
        return run.announced_on
    while date in quiet and date < run.announced_on:
        date = announcements.next_listing_date(date)
    return min(date, run.announced_on)


def entry_kind(topic: Topic, data: arxiv_api.PaperData) -> str:
    if data.version > 1:
        return DigestEntry.Kind.REPLACEMENT
    if topic.category_list and data.primary_category not in topic.category_list:
        return DigestEntry.Kind.CROSS
    return DigestEntry.Kind.NEW


def fetch_topic(
    topic: Topic,
    *,
    since: dt.datetime | None = None,
    max_results: int | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> FetchOutcome:
    """Ask arXiv for the topic's new papers, store them, and put each into the digest of the day
    arXiv announced it (once per topic). `now` is for replaying past days."""
    started = now or timezone.now()
    close_dead_runs(topic)
    frontier = previous_frontier(topic)
    since = since or default_since(topic, started)
    run = PipelineRun.objects.create(
        topic=topic, since=since, started_at=started, worker=this_worker()
    )
    _RUNNING.add(run.pk)
    try:
        run.announced_on = announcements.announcement_date(started)
        outcome = FetchOutcome(run=run)
        newest: dt.datetime | None = None
        placed: dict[dt.date, list[tuple[Paper, str, list[str]]]] = {}
        quiet = quiet_days(run.announced_on - BACKFILL_AGE, run.announced_on)
        database_lost: Exception | None = None
        try:
            for data in arxiv_api.search_results(topic, since, max_results or topic.max_results):
                run.returned += 1
                newest = max(newest or data.updated, data.updated)
                if data.excluded_by:
                    run.excluded.append({"arxiv_id": data.arxiv_id, "rule": data.excluded_by})
                    continue
                run.found += 1
                run.paper_ids.append(data.arxiv_id)
                try:
                    paper, change, joined = store_paper(topic, data)
                except DATABASE_ERRORS:
                    raise  # not this entry's fault: the whole run stops
                except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the batch
                    logger.exception("Could not store %s", data.arxiv_id)
                    run.failed += 1
                    run.errors.append(f"{data.arxiv_id}: {exc}")
                    continue
                if change == "new":
                    run.new += 1
                elif change == "updated":
                    run.updated += 1
                if (
                    change in ("new", "updated")
                    or paper.state != Paper.State.DONE
                    or (joined and not paper.summaries.filter(language=topic.language).exists())
                ):
                    outcome.to_process.append(paper.pk)
                if joined:
                    date = digest_date(data.updated, run, quiet)
                    placed.setdefault(date, []).append(
                        (paper, entry_kind(topic, data), data.matched_terms)
                    )
                if progress:
                    progress(data.arxiv_id, change)
            # The newest paper in the topic's categories tells "no announcement" from "no match".
            try:
                probe = arxiv_api.newest_submission(topic)
            except arxiv_api.ArxivUnavailable as exc:
                logger.warning("Could not ask arXiv what it announced: %s", exc)
            else:
                newest = max(filter(None, [newest, probe]), default=None)
        except arxiv_api.ArxivUnavailable as exc:
            run.status = PipelineRun.State.FAILED
            run.errors.append(f"arXiv: {exc}")
        except DATABASE_ERRORS as exc:
            database_lost = exc
        except Exception as exc:  # noqa: BLE001 - e.g. Redis down: the run must not stay "running"
            logger.exception("The run of %s failed", topic.slug)
            run.status = PipelineRun.State.FAILED
            run.errors.append(f"{type(exc).__name__}: {clean_text(str(exc))}")
        else:
            run.status = PipelineRun.State.SUCCEEDED
        if newest is not None:
            run.announcement = (
                Announcement.SEEN if frontier is None or newest > frontier else Announcement.NONE
            )
        run.newest_seen = max(filter(None, [newest, frontier]), default=None)
        if database_lost is None:
            try:
                if run.status == PipelineRun.State.SUCCEEDED:
                    run.note = explain_run(run)
                    outcome.look_again = run.announcement == Announcement.NONE and started < (
                        announcements.last_announcement(started) + LOOK_AGAIN_UNTIL
                    )
                # Also after a failure part-way: the next run would see these papers as known.
                for date in sorted(placed):
                    outcome.digests.append(join_topic(topic, date, placed[date]))
            except DATABASE_ERRORS as exc:
                database_lost = exc
        if database_lost is not None:
            # Papers not placed stay new to the topic: the next run places them.
            run.status = PipelineRun.State.FAILED
            run.errors.append(
                f"The database could not be reached: {clean_text(str(database_lost))}"
            )
        run.finished_at = now or timezone.now()
        # Recorded once the database is back; then the error is raised, so the task runs again.
        when_reachable(run.save)
        if database_lost is not None:
            raise database_lost
        return outcome
    finally:
        _RUNNING.discard(run.pk)


# Celery stops a fetch after this long; a run "running" for longer lost its worker.
FETCH_TIME_LIMIT = 30 * 60
# The runs this process is running now (by pk).
_RUNNING: set[int] = set()


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped by its parent
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def dead_run_reason(run: PipelineRun, now: dt.datetime) -> str:
    """Why a "running" run's worker is known to be gone ("" when it may still be working)."""
    host, _, pid = run.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid() and run.pk not in _RUNNING:
            return f"its worker ({run.worker}) stopped it without recording how it ended"
        if int(pid) != os.getpid() and not _process_alive(int(pid)):
            return f"its worker ({run.worker}) died before the run ended"
    if now - run.started_at > dt.timedelta(seconds=FETCH_TIME_LIMIT):
        return "it ran longer than a fetch may; its worker was killed or lost"
    return ""


def close_dead_runs(topic: Topic) -> int:
    """Mark failed the topic's runs left "running" by a worker that died; returns how many."""
    now = timezone.now()
    closed = 0
    for run in PipelineRun.objects.filter(topic=topic, status=PipelineRun.State.RUNNING):
        reason = dead_run_reason(run, now)
        if reason:
            run.status = PipelineRun.State.FAILED
            run.finished_at = now
            run.errors.append(f"Closed by a later run: {reason}.")
            run.save(update_fields=["status", "finished_at", "errors"])
            closed += 1
    return closed


def explain_run(run: PipelineRun) -> str:
    """Why a run found nothing: no announcement, all excluded, no match, or the same batch."""
    if run.announcement == Announcement.NONE and run.new == 0 and run.updated == 0:
        return (
            "No new arXiv announcement since the last run (a weekend, a holiday, or arXiv is late)."
        )
    if run.found == 0:
        if run.excluded:
            return f"arXiv returned {run.returned} results; the exclusions left out every one."
        if run.announcement == Announcement.SEEN:
            return "arXiv announced papers, but none matched this topic's query."
        return "arXiv returned nothing for this query (whether it announced anything is unknown)."
    if run.new == 0 and run.updated == 0:
        previous = (
            PipelineRun.objects.filter(topic=run.topic, status=PipelineRun.State.SUCCEEDED)
            .exclude(pk=run.pk)
            .order_by("-started_at")
            .first()
        )
        if previous and previous.paper_ids[:20] == run.paper_ids[:20]:
            return "arXiv served the same batch as the previous run (a stale listing?)."
        return "Every paper found was already stored."
    return ""


@transaction.atomic
def store_paper(topic: Topic, data: arxiv_api.PaperData) -> tuple[Paper, str, bool]:
    """Insert or update one paper by arXiv id without version.

    Returns the paper, what happened ("new", "updated" (a new version), "joined" (known paper,
    new to this topic) or "unchanged"), and whether the paper is new to this topic. Editors'
    changes to a stored version are kept. The paper joins the topic later, with its digest
    (`join_topic`).
    """
    paper = Paper.objects.select_for_update().filter(arxiv_id=data.arxiv_id).first()
    if paper is None:
        paper = Paper(arxiv_id=data.arxiv_id, versions_seen=[data.version])
        for name, value in data.paper_fields().items():
            setattr(paper, name, value)
        paper.status = Status.PUBLISHED if topic.auto_publish else Status.DRAFT
        try:
            with transaction.atomic():
                paper.save()
            change = "new"
        except IntegrityError:
            # Another topic's run stored it a moment ago.
            paper = Paper.objects.select_for_update().get(arxiv_id=data.arxiv_id)
            change = "unchanged"
    elif data.version > paper.version:
        paper.take_arxiv_values(data.paper_fields())
        paper.versions_seen = sorted(set(paper.versions_seen) | {data.version})
        # A new version may come under another licence: it is read again.
        paper.license_checked_at = None
        paper.state = Paper.State.FETCHED
        paper.attempts = 0
        paper.last_error = ""
        paper.save()
        paper.summaries.update(stale=True)
        change = "updated"
    else:
        change = "unchanged"
    if change in ("new", "updated"):
        indexing.refresh_indexes([paper.pk])
    joined = not TopicPaper.objects.filter(topic=topic, paper=paper).exists()
    if joined and change == "unchanged":
        change = "joined"
    tag_paper(paper, topics=[topic])
    return paper, change, joined


@transaction.atomic
def tag_paper(paper: Paper, topics: list[Topic] | None = None) -> None:
    """Tag a paper with its topics' names, its arXiv categories and its summary's keywords."""
    topics = topics if topics is not None else list(paper.topics.all())
    names = [(t.name, Tag.Kind.TOPIC) for t in topics]
    names += [(code, Tag.Kind.CATEGORY) for code in paper.categories]
    for summary in paper.summaries.all():
        names += [(k, Tag.Kind.KEYWORD) for k in tagging.keyword_names(summary.keywords)]
    paper.add_tags(tagging.tags_for_names(names))


@transaction.atomic
def join_topic(topic: Topic, date: dt.date, found: list[tuple[Paper, str, list[str]]]) -> Digest:
    """Papers new to the topic join it and its digest for `date` in one transaction: a worker that
    dies before leaves them new to the topic, so the next run places them; never in the topic
    but missing from its digest. `found` holds (paper, DigestEntry.Kind, matched terms)."""
    for paper, _kind, terms in found:
        TopicPaper.objects.get_or_create(
            topic=topic, paper=paper, defaults={"matched_terms": terms}
        )
    papers = [paper for paper, _kind, _terms in found]
    kinds = {paper.pk: kind for paper, kind, _terms in found}
    return assemble_digest(topic, date, papers, kinds)


@transaction.atomic
def assemble_digest(
    topic: Topic, date: dt.date, papers: list[Paper], kinds: dict[int, str] | None = None
) -> Digest:
    """The topic's digest for `date`, with these papers appended in order (once each); `kinds`
    maps a paper's pk to its DigestEntry.Kind (default new)."""
    digest, _ = Digest.objects.select_for_update().get_or_create(topic=topic, date=date)
    digest.add_papers(papers, kinds=kinds)
    if topic.auto_publish and digest.status != Status.HIDDEN:
        digest.publish()
    return digest
