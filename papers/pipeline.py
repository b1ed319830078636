"""The daily pipeline as plain, idempotent functions; Celery tasks (papers/tasks.py) call them.

fetch_topic -> per paper: process_paper (download + extract -> summarize -> tag) -> the topic's
digest for the announcement date. Running any step twice creates no duplicate rows or files.
"""

import datetime as dt
import logging
import tempfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from papers import tagging
from papers.models import (
    Digest,
    DigestEntry,
    Paper,
    PipelineRun,
    Status,
    Summary,
    Tag,
    Topic,
    TopicPaper,
)
from papers.sources import arxiv_api

logger = logging.getLogger(__name__)

ARXIV_TZ = zoneinfo.ZoneInfo("America/New_York")
# arXiv announces new papers at 20:00 US Eastern, Sunday to Thursday (Python: Monday is 0).
ANNOUNCEMENT_HOUR = 20
ANNOUNCEMENT_WEEKDAYS = {6, 0, 1, 2, 3}


def last_announcement(moment: dt.datetime) -> dt.datetime:
    """The latest arXiv announcement at or before `moment` (holidays are not known here)."""
    local = moment.astimezone(ARXIV_TZ)
    day = local.date()
    for _ in range(8):
        at = dt.datetime.combine(day, dt.time(ANNOUNCEMENT_HOUR), tzinfo=ARXIV_TZ)
        if day.weekday() in ANNOUNCEMENT_WEEKDAYS and at <= local:
            return at
        day -= dt.timedelta(days=1)
    raise AssertionError("unreachable: there is an announcement every week")


def announcement_date(moment: dt.datetime) -> dt.date:
    """The date arXiv's listing carries for the latest announcement: the UTC date of 20:00 ET.

    An announcement on Monday evening in New York is Tuesday's listing.
    """
    return last_announcement(moment).astimezone(dt.UTC).date()


@dataclass
class FetchOutcome:
    run: PipelineRun
    to_process: list[int] = field(default_factory=list)
    digest: Digest | None = None


Progress = Callable[[str, str], None]


def default_since(topic: Topic) -> dt.datetime:
    last = topic.last_successful_run()
    if last is not None:
        return last.started_at
    return timezone.now() - dt.timedelta(days=settings.FETCH_WINDOW_DAYS)


def fetch_topic(
    topic: Topic,
    *,
    since: dt.datetime | None = None,
    max_results: int | None = None,
    progress: Progress | None = None,
) -> FetchOutcome:
    """Ask arXiv for the topic's new papers, store them, and build the day's digest."""
    since = since or default_since(topic)
    run = PipelineRun.objects.create(topic=topic, since=since)
    run.announced_on = announcement_date(run.started_at)
    outcome = FetchOutcome(run=run)
    new_papers: list[Paper] = []
    try:
        for data in arxiv_api.search_topic(topic, since, max_results or topic.max_results):
            run.found += 1
            run.paper_ids.append(data.arxiv_id)
            try:
                paper, change = store_paper(topic, data)
            except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the batch
                logger.exception("Could not store %s", data.arxiv_id)
                run.failed += 1
                run.errors.append(f"{data.arxiv_id}: {exc}")
                continue
            if change == "new":
                run.new += 1
            elif change == "updated":
                run.updated += 1
            if change in ("new", "updated") or paper.state != Paper.State.DONE:
                outcome.to_process.append(paper.pk)
            if change == "new" or change == "joined":
                new_papers.append(paper)
            if progress:
                progress(data.arxiv_id, change)
    except arxiv_api.ArxivUnavailable as exc:
        run.status = PipelineRun.State.FAILED
        run.errors.append(f"arXiv: {exc}")
    else:
        run.status = PipelineRun.State.SUCCEEDED
        run.note = explain_run(run)
    # Also after a failure part-way: the next run would see these papers as already stored.
    if new_papers:
        outcome.digest = assemble_digest(topic, run.announced_on, new_papers)
    run.finished_at = timezone.now()
    run.save()
    return outcome


def explain_run(run: PipelineRun) -> str:
    """Why a run found nothing: no announcement, the same batch as before, or no match."""
    if run.found == 0:
        if run.since and last_announcement(run.started_at) < run.since:
            return "No arXiv announcement since the last run (weekend or holiday)."
        return "arXiv announced papers, but none matched this topic's query."
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
def store_paper(topic: Topic, data: arxiv_api.PaperData) -> tuple[Paper, str]:
    """Insert or update one paper by arXiv id without version.

    Returns the paper and what happened: "new", "updated" (a new version), "joined" (known paper,
    new to this topic) or "unchanged". Editors' changes to a stored version are kept.
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
        for name, value in data.paper_fields().items():
            setattr(paper, name, value)
        paper.versions_seen = sorted(set(paper.versions_seen) | {data.version})
        paper.state = Paper.State.FETCHED
        paper.attempts = 0
        paper.last_error = ""
        paper.save()
        paper.summaries.update(stale=True)
        change = "updated"
    else:
        change = "unchanged"
    _, joined = TopicPaper.objects.get_or_create(
        topic=topic, paper=paper, defaults={"matched_terms": data.matched_terms}
    )
    if joined and change == "unchanged":
        change = "joined"
    tag_paper(paper, topics=[topic])
    return paper, change


def tag_paper(paper: Paper, topics: list[Topic] | None = None) -> None:
    """Tag a paper with its topics' names, its arXiv categories and its summary's keywords."""
    topics = topics if topics is not None else list(paper.topics.all())
    tags = tagging.tags_for([t.name for t in topics], Tag.Kind.TOPIC)
    tags += tagging.tags_for(paper.categories, Tag.Kind.CATEGORY)
    for summary in paper.summaries.all():
        tags += tagging.tags_for(tagging.keyword_names(summary.keywords), Tag.Kind.KEYWORD)
    paper.tags.add(*tags)


@transaction.atomic
def assemble_digest(topic: Topic, date: dt.date, papers: list[Paper]) -> Digest:
    """The topic's digest for `date`, with these papers appended in order (once each)."""
    digest, _ = Digest.objects.select_for_update().get_or_create(topic=topic, date=date)
    have = set(digest.entries.values_list("paper_id", flat=True))
    position = digest.entries.count()
    for paper in papers:
        if paper.pk in have:
            continue
        DigestEntry.objects.create(digest=digest, paper=paper, position=position)
        have.add(paper.pk)
        position += 1
    if topic.auto_publish and digest.status != Status.HIDDEN:
        digest.publish()
    elif not digest.title:
        digest.save()
    return digest


# Per paper: download + extract, summarize.


def process_paper(paper_id: int) -> Paper:
    """Download and extract the PDF, then summarize and tag. Safe to run again at any point.

    A bad PDF is recorded on the paper (state failed, error, next attempt) and the paper is still
    summarized from its abstract, so it never blocks its digest.
    """
    paper = Paper.objects.get(pk=paper_id)
    if paper.license_checked_at is None:
        check_licence(paper)
    needs_pdf = paper.state == Paper.State.FETCHED or not paper.pdf_file
    failed_before = paper.state == Paper.State.FAILED
    if needs_pdf:
        extract_paper(paper)
    pdf_ok = not needs_pdf or paper.state != Paper.State.FAILED
    summary_ok = summarize_paper(paper)
    tag_paper(paper)
    if pdf_ok and summary_ok:
        paper.state = Paper.State.DONE
        if failed_before:
            paper.last_error = ""
            paper.next_attempt_at = None
        paper.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
    return paper


# A paper whose PDF failed this many times waits for an editor's retry.
MAX_ATTEMPTS = 6


def check_licence(paper: Paper) -> None:
    """Read the paper's licence; when OAI-PMH fails, figures stay private until a later try."""
    from papers.sources.licences import LicenceUnavailable, fetch_licence

    try:
        paper.license = fetch_licence(paper.arxiv_id)
    except LicenceUnavailable as exc:
        logger.warning("No licence for %s: %s", paper.arxiv_id, exc)
        return
    paper.license_checked_at = timezone.now()
    paper.save(update_fields=["license", "license_checked_at", "updated_at"])


def retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=10 * 2 ** min(attempts, 8))


def record_failure(paper: Paper, error: str) -> None:
    paper.state = Paper.State.FAILED
    paper.last_error = error[:2000]
    paper.attempts += 1
    paper.next_attempt_at = timezone.now() + retry_delay(paper.attempts)
    paper.save(update_fields=["state", "last_error", "attempts", "next_attempt_at", "updated_at"])


def extract_paper(paper: Paper) -> None:
    """Download the PDF (one at a time, politely) and store its text and figures."""
    import requests

    from papers.sources import pdf
    from papers.sources.politeness import arxiv_turn, user_agent

    with tempfile.TemporaryDirectory() as folder, requests.Session() as session:
        path = Path(folder) / "paper.pdf"
        session.headers["User-Agent"] = user_agent()
        try:
            # The turn is held for the whole body, so no other arXiv request runs meanwhile.
            with arxiv_turn():
                pdf.download_pdf(
                    paper.pdf_url,
                    session,
                    path,
                    max_bytes=settings.PDF_MAX_BYTES,
                    timeout=settings.ARXIV_TIMEOUT_SECONDS,
                )
            extraction = pdf.extract_pdf(path, max_figures=settings.MAX_FIGURES_PER_PAPER)
        except pdf.PdfError as exc:
            if exc.page_count:  # a scanned or encrypted PDF still tells its length
                paper.page_count = exc.page_count
                paper.save(update_fields=["page_count", "updated_at"])
            record_failure(paper, f"PDF ({exc.kind}): {exc}")
            return
        store_extraction(paper, path, extraction)


@transaction.atomic
def store_extraction(paper: Paper, path: Path, extraction) -> None:
    """Replace the paper's PDF, text and figures with a new extraction."""
    from django.core.files import File
    from django.core.files.base import ContentFile

    name = f"{paper.arxiv_id.replace('/', '_')}.pdf"
    if paper.pdf_file:
        paper.pdf_file.delete(save=False)
    with open(path, "rb") as handle:
        paper.pdf_file.save(name, File(handle), save=False)
    paper.page_count = extraction.page_count
    paper.full_text = extraction.text
    paper.first_page_text = extraction.first_page_text
    paper.affiliations = extraction.affiliations
    paper.state = Paper.State.EXTRACTED
    paper.last_error = ""
    paper.next_attempt_at = None
    paper.save()
    kept = {}
    for figure in paper.figures.all():
        kept[figure.order] = figure
    for found in extraction.figures:
        figure = kept.pop(found.order, None) or paper.figures.model(paper=paper, order=found.order)
        for field_file in (figure.image, figure.thumbnail):
            if field_file:
                field_file.delete(save=False)
        figure.page = found.page
        figure.caption = found.caption
        figure.width = found.width
        figure.height = found.height
        figure.image.save(
            f"figure-{found.order}.{found.image_format}", ContentFile(found.image), save=False
        )
        figure.thumbnail.save(
            f"figure-{found.order}-thumb.{found.image_format}",
            ContentFile(found.thumbnail),
            save=False,
        )
        figure.save()
    for figure in kept.values():
        if figure.image:
            figure.image.delete(save=False)
        if figure.thumbnail:
            figure.thumbnail.delete(save=False)
        figure.delete()


def summarize_paper(paper: Paper, *, backend: str | None = None) -> bool:
    """Write the paper's summary in its topics' language; never touches a locked summary.

    An LLM failure is recorded on the paper (failed, retried later with back-off) and the paper
    gets an offline summary meanwhile if it has none. Returns whether the summary was written.
    """
    from papers import summarizers

    topic = paper.topics.order_by("pk").first()
    language = topic.language if topic else settings.SUMMARY_LANGUAGE
    backend = backend or (topic.summarizer if topic and topic.summarizer else settings.SUMMARIZER)
    inputs = summarizers.SummaryInput(
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        abstract=paper.abstract,
        comment=paper.comment,
        authors=paper.author_names,
        full_text=paper.full_text,
        first_page_text=paper.first_page_text,
        affiliations=list(paper.affiliations or []),
        language=language,
    )
    try:
        result = summarizers.summarize(inputs, backend)
    except summarizers.SummarizerError as exc:
        if backend == "extractive":
            raise
        record_failure(paper, f"Summary ({backend}): {exc}")
        if not paper.summaries.exists():
            summarize_paper(paper, backend="extractive")
        return False
    store_summary(paper, result)
    return True


def regenerate_summaries(papers, *, discard_locks: bool) -> tuple[int, list[str]]:
    """Rewrite the papers' summaries; locked ones are kept unless `discard_locks`."""
    done, errors = 0, []
    for paper in papers:
        try:
            with transaction.atomic():
                if discard_locks:
                    for summary in paper.summaries.filter(locked=True):
                        summary.locked = False
                        summary.locked_by = None
                        summary.locked_at = None
                        summary.stale = True
                        summary._change_reason = "Lock discarded by an editor to regenerate"
                        summary.save()
                paper.summaries.filter(locked=False).update(stale=True)
            summarize_paper(paper)
            done += 1
        except Exception as exc:  # noqa: BLE001 - one failing paper must not stop the others
            errors.append(f"{paper.arxiv_id}: {exc}")
    return done, errors


def store_summary(paper: Paper, result) -> Summary | None:
    """Save a summarizer's result unless an editor locked that summary (or it is unchanged)."""
    summary = Summary.objects.filter(paper=paper, language=result.language).first()
    if summary is None:
        summary = Summary(paper=paper, language=result.language)
    elif summary.locked:
        return None
    elif summary.input_digest == result.input_digest and not summary.stale:
        return summary
    for name, value in result.fields.items():
        setattr(summary, name, value)
    summary.backend = result.backend
    summary.model = result.model
    summary.prompt_version = result.prompt_version
    summary.input_digest = result.input_digest
    summary.tokens = result.tokens
    summary.duration_ms = result.duration_ms
    summary.warnings = result.warnings
    summary.generated_at = timezone.now()
    summary.stale = False
    summary.save()
    return summary
