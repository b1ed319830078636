"""Benchmarks (`make bench`): PDF extraction speed and papers per minute through the pipeline,
then content quality (tools/quality.py) beside the figure of the code before it was improved, then
the public pages at scale.

The pipeline runs on a throw-away SQLite database and files, against the local arXiv stand-in
serving generated PDFs, with the offline summarizer and no arXiv delay. The pages run on
PostgreSQL databases filled by `seed_bench` (see `pages_main`). Prints tables; nothing here is a
test.
"""

import datetime as dt
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

PAPERS = 50
SEED_MORE = Path(__file__).resolve().parent.parent.parent / "shared" / "seed" / "more"
# The Chinese repair before the word-level model, measured once on SEED_MORE: 23,205 of 24,595
# damaged characters right, 750 times 不 where the author wrote 与 or 中, no spot flagged.
REPAIR_BASELINE = (23205 / 24595, 750)


def setup_django(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["PRIVATE_MEDIA_ROOT"] = str(folder / "private")
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.getLogger().setLevel(logging.WARNING)


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def repair_rows() -> list[tuple[str, str]]:
    """Chinese repair on the seed's clean posts, damaged the seed's way (Windows-1254, bytes lost)."""
    from papers.markdown.mojibake import DROPPED_BYTES, damage, repair_text

    paths = sorted(SEED_MORE.glob("*.md"))
    if not paths:
        return [("Chinese repair accuracy", f"skipped: no posts in {SEED_MORE.name}/")]
    damaged = right = flips = uncertain = 0
    for path in paths:
        clean = path.read_text(encoding="utf-8")
        repaired, report = repair_text(damage(clean, "sloppy-windows-1254"))
        uncertain += len(report.uncertain)
        for want, got in zip(clean, repaired, strict=True):
            if set(want.encode("utf-8")) & set(DROPPED_BYTES):
                damaged += 1
                right += want == got
                flips += got == "不" and want in "与中"
    share, old_flips = REPAIR_BASELINE
    where = f"{len(paths)} seed posts in more/"
    return [
        (
            f"Chinese repair, damaged characters right ({where})",
            f"{right / damaged:.2%} of {damaged} (before: {share:.2%})",
        ),
        (f"Chinese repair, 与 or 中 read as 不 ({where})", f"{flips} (before: {old_flips})"),
        (f"Chinese repair, spots flagged uncertain ({where})", f"{uncertain} (before: 0)"),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        setup_django(folder)
        from django.conf import settings

        from papers import pipeline, processing
        from papers.models import Paper, Topic
        from papers.sources import pdf
        from tests.arxiv_server import Answer, FakeArxiv, atom_feed, entry
        from tools.pdfgen import make_paper_pdf

        long_pdf = folder / "long.pdf"
        make_paper_pdf(long_pdf, pages=50, figures=["bitmap", "vector", "multi", "wide"] * 3)
        pages = 50
        text_seconds = best_of(3, lambda: pdf.extract_pdf(long_pdf, max_figures=0))
        full_seconds = best_of(3, lambda: pdf.extract_pdf(long_pdf, max_figures=12))

        papers = []
        for n in range(PAPERS):
            path = folder / f"paper-{n}.pdf"
            make_paper_pdf(path, pages=4, seed=n, figures=["bitmap", "vector"])
            papers.append(path.read_bytes())

        with FakeArxiv() as server:
            settings.ARXIV_API_URL = server.api_url
            settings.ARXIV_OAI_URL = server.url + "/oai"
            settings.ARXIV_DELAY_SECONDS = 0
            entries = []
            for n, body in enumerate(papers):
                arxiv_id = f"2410.{n + 1:05d}"
                server.files[f"/pdf/{arxiv_id}v1"] = Answer(body, content_type="application/pdf")
                entries.append(entry(arxiv_id, pdf_url=f"{server.url}/pdf/{arxiv_id}v1"))
            server.answers = [atom_feed(entries)]
            topic = Topic.objects.create(name="Bench", query='abs:"talking head"')
            start = time.perf_counter()
            outcome = pipeline.fetch_topic(topic, since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            for paper_id in outcome.to_process:
                processing.process_paper(paper_id)
            end_to_end = time.perf_counter() - start
        done = Paper.objects.filter(state=Paper.State.DONE).count()
        # The seed posts are imported into the same throw-away database.
        quality, notes = quality_rows()

    rows = [
        ("PDF text extraction", f"{pages / text_seconds:.0f} pages/s"),
        ("PDF text + figures (12 figures, 150 dpi)", f"{pages / full_seconds:.0f} pages/s"),
        (
            f"end to end, {PAPERS} papers of 4 pages (offline summarizer, no arXiv delay)",
            f"{done / end_to_end * 60:.0f} papers/min",
        ),
        *repair_rows(),
    ]
    print_table(("benchmark", "result"), rows)
    if done != PAPERS:
        print(f"warning: only {done} of {PAPERS} papers finished", file=sys.stderr)
    print()
    print_table(("content quality", "now", "before"), quality)
    for note in notes:
        print(note)


def quality_rows() -> tuple[list[tuple[str, ...]], list[str]]:
    """Role precision of the offline summaries and, when the seed posts are here, tag quality;
    with notes to print under the table (the rejected tags)."""
    from tools import quality

    rows = quality.role_rows()
    if not quality.SEED.exists():
        return rows, ["(the seed posts are not here: no tag quality)"]
    score = quality.tag_quality(quality.seed_paper_tags())
    rows += quality.tag_rows(score)
    notes = ["tags an editor rejects: " + ("; ".join(score.rejected) or "none")]
    if score.unlabelled:
        notes.append(
            "tags without a verdict (add them to tests/fixtures/tags/): "
            + "; ".join(score.unlabelled)
        )
    return rows, notes


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["pages-child"]:
        from tools.bench_pages import child_main

        child_main()
    else:
        main()
        from tools.bench_pages import pages_main

        pages_main()
