"""Per paper: download + extract, summarize. Safe to run again at any point.

process_paper downloads and extracts a paper's PDF, reads its licence, writes its summaries and
tags it. Failures are recorded on the paper (state failed, error, next attempt with back-off) and
retried later; regenerate_summaries rewrites summaries on an editor's request. The ingestion that
feeds it (fetching a topic, storing papers, digests) lives in papers/pipeline.py.
"""

import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from papers import indexing
from papers.database import DATABASE_ERRORS
from papers.models import Paper, Summary
from papers.pipeline import tag_paper
from papers.text import clean_data, clean_text, safe_links

logger = logging.getLogger(__name__)


def process_paper(paper_id: int) -> Paper:
    """Download and extract the PDF, then summarize and tag. Safe to run again at any point.

    A bad PDF is recorded on the paper (state failed, error, next attempt) and the paper is still
    summarized from its abstract, so it never blocks its digest. So is anything unforeseen, so a
    paper never stays half-way; only the database being out of reach is raised, to try again.
    """
    paper = Paper.objects.get(pk=paper_id)
    try:
        if paper.license_checked_at is None:
            check_licence(paper)
        needs_pdf = paper.state == Paper.State.FETCHED or not paper.pdf_file
        failed_before = paper.state == Paper.State.FAILED
        if needs_pdf:
            extract_paper(paper)
        pdf_ok = not needs_pdf or paper.state != Paper.State.FAILED
        summary_ok = summarize_paper(paper)
        with transaction.atomic():  # the tags and the paper's new state in one commit
            tag_paper(paper)
            if pdf_ok and summary_ok:
                paper.state = Paper.State.DONE
                if failed_before:
                    paper.last_error = ""
                    paper.next_attempt_at = None
                paper.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
    except DATABASE_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded on the paper, retried like any failure
        logger.exception("Processing %s stopped", paper.arxiv_id)
        record_gave_up(paper.pk, f"{type(exc).__name__}: {exc}")
        paper.refresh_from_db()
    return paper


# A paper whose PDF failed this many times waits for an editor's retry.
MAX_ATTEMPTS = 6


def check_licence(paper: Paper) -> bool:
    """Read the paper's licence; when OAI-PMH fails, figures stay private until a later try."""
    from papers.sources.licences import LicenceUnavailable, fetch_licence

    try:
        paper.license = fetch_licence(paper.arxiv_id)
    except LicenceUnavailable as exc:
        logger.warning("No licence for %s: %s", paper.arxiv_id, exc)
        return False
    paper.license_checked_at = timezone.now()
    with transaction.atomic():  # with its history row
        paper.save(update_fields=["license", "license_checked_at", "updated_at"])
    return True


def check_missing_licences(limit: int) -> int:
    """Read the licence of up to `limit` papers that have none yet (imported papers, new
    versions), newest first; after a few failures in a row OAI-PMH is left alone until the next
    time. Returns how many were read."""
    waiting = Paper.objects.filter(license_checked_at__isnull=True).order_by("-created_at", "-pk")
    done = failures = 0
    for paper in waiting[:limit]:
        if check_licence(paper):
            done += 1
            failures = 0
        else:
            failures += 1
            if failures >= 3:
                break
    return done


def retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=10 * 2 ** min(attempts, 8))


def record_failure(paper: Paper, error: str) -> None:
    paper.state = Paper.State.FAILED
    paper.last_error = clean_text(error)[:2000]
    paper.attempts += 1
    paper.next_attempt_at = timezone.now() + retry_delay(paper.attempts)
    paper.save(update_fields=["state", "last_error", "attempts", "next_attempt_at", "updated_at"])


def record_gave_up(paper_id: int, error: str) -> None:
    """A paper whose processing stopped half-way (an unforeseen error, or its task gave up: the
    worker died at every attempt) is recorded failed, unless it got to the end meanwhile."""
    paper = Paper.objects.filter(pk=paper_id).first()
    if paper is None or paper.state == Paper.State.DONE:
        return
    record_failure(paper, f"Processing stopped before the end ({error})")


def extract_paper(paper: Paper) -> None:
    """Download the PDF (one at a time, politely) and store its text and figures."""
    import requests

    from papers.sources import pdf
    from papers.sources.politeness import arxiv_turn, hold_off, retry_after_seconds, user_agent

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
            wait = retry_after_seconds(exc.retry_after)
            if wait is not None:
                hold_off(wait)
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
    indexing.refresh_indexes([paper.pk])
    kept = {}
    for figure in paper.figures.all():
        kept[figure.order] = figure
    for found in extraction.figures:
        figure = kept.pop(found.order, None) or paper.figures.model(paper=paper, order=found.order)
        for field_file in (figure.image, figure.thumbnail):
            if field_file:
                field_file.delete(save=False)
        figure.page = found.page
        if not figure.caption_edited:
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


def summary_plan(paper: Paper) -> dict[str, str]:
    """Language -> summarizer: each language the paper's topics want, written with the
    summarizer of the first topic (by id) in that language; an LLM topic wins over an offline
    one, as a language has one summary."""
    plan: dict[str, str] = {}
    for topic in paper.topics.order_by("pk"):
        backend = topic.summarizer or settings.SUMMARIZER
        if plan.get(topic.language) in (None, "extractive"):
            plan[topic.language] = backend
    return plan or {settings.SUMMARY_LANGUAGE: settings.SUMMARIZER}


def summarize_paper(paper: Paper, *, backend: str | None = None) -> bool:
    """Write the paper's summary in each of its topics' languages; never touches a locked one.

    Returns whether every summary was written (or was already current).
    """
    written = True
    for language, wanted in summary_plan(paper).items():
        written = summarize_in(paper, language, backend or wanted) and written
    return written


def summarize_in(paper: Paper, language: str, backend: str) -> bool:
    """Write the paper's summary in `language` with `backend` unless it is current or locked.

    An LLM failure is recorded on the paper (failed, retried later with back-off) and the paper
    gets an offline summary meanwhile if it has none. The offline summarizer writes in the
    paper's own language: its summary never replaces one another topic wants in that language.
    """
    from papers import summarizers

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
    current = paper.summaries.filter(language=language).first()
    if current is not None and (
        current.locked
        or (
            not current.stale
            and current.input_digest == summarizers.expected_input_digest(inputs, backend)
        )
    ):
        return True
    try:
        result = summarizers.summarize(inputs, backend)
    except summarizers.SummarizerError as exc:
        if backend == "extractive":
            raise
        record_failure(paper, f"Summary ({backend}) in {language}: {exc}")
        if not paper.summaries.exists():
            summarize_in(paper, language, "extractive")
        return False
    if result.language != language and paper.summaries.filter(language=result.language).exists():
        return True
    try:
        with transaction.atomic():
            store_summary(paper, result)
    except Exception as exc:  # noqa: BLE001 - recorded on the paper, retried like an LLM failure
        logger.exception("Could not store the summary of %s", paper.arxiv_id)
        record_failure(paper, f"Summary ({backend}) could not be stored: {exc}")
        return False
    return True


@dataclass
class Regeneration:
    """What regenerating summaries really did, paper by paper (arXiv ids)."""

    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # locked by an editor
    failed: list[tuple[str, str]] = field(default_factory=list)  # (arXiv id, error)

    def lines(self) -> list[str]:
        lines = [f"Summaries written: {len(self.written)} paper(s)."]
        if self.kept:
            lines.append(
                f"Kept because an editor locked them: {len(self.kept)} paper(s) "
                f"({', '.join(self.kept)})."
            )
        if self.failed:
            lines.append(f"Failed: {len(self.failed)} paper(s).")
            lines += [f"{arxiv_id}: {error}" for arxiv_id, error in self.failed]
        return lines


def regenerate_summaries(
    papers, *, discard_locks: bool, progress: Callable[[], None] | None = None
) -> Regeneration:
    """Rewrite the papers' summaries; locked ones are kept unless `discard_locks`."""
    report = Regeneration()
    for paper in papers:
        summaries = paper.summaries.all()
        if not discard_locks and summaries and all(s.locked for s in summaries):
            report.kept.append(paper.arxiv_id)  # nothing to write: no call to a summarizer
            if progress:
                progress()
            continue
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
            started = timezone.now()
            if not summarize_paper(paper):
                report.failed.append((paper.arxiv_id, paper.last_error))
            elif paper.summaries.filter(generated_at__gte=started, locked=False).exists():
                report.written.append(paper.arxiv_id)
            else:
                report.kept.append(paper.arxiv_id)
        except Exception as exc:  # noqa: BLE001 - one failing paper must not stop the others
            report.failed.append((paper.arxiv_id, str(exc)))
        if progress:
            progress()
    return report


def store_summary(paper: Paper, result) -> Summary | None:
    """Save a summarizer's result unless an editor locked that summary (or it is unchanged)."""
    summary = Summary.objects.filter(paper=paper, language=result.language).first()
    if summary is None:
        summary = Summary(paper=paper, language=result.language)
    elif summary.locked:
        return None
    elif summary.input_digest == result.input_digest and not summary.stale:
        return summary
    fields = clean_data(result.fields)
    if "links" in fields:
        fields["links"] = safe_links(fields["links"])
    for name, value in fields.items():
        setattr(summary, name, value)
    summary.backend = result.backend
    summary.model = clean_text(result.model)
    summary.prompt_version = result.prompt_version
    summary.input_digest = result.input_digest
    summary.tokens = result.tokens
    summary.duration_ms = result.duration_ms
    summary.warnings = clean_data(result.warnings)
    summary.request = result.request
    summary.generated_at = timezone.now()
    summary.mark_current()
    summary.save()
    indexing.refresh_indexes([paper.pk])
    return summary
