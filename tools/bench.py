"""Benchmarks (`make bench`): PDF extraction speed and papers per minute through the pipeline,
then the public pages at scale.

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


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        setup_django(folder)
        from django.conf import settings

        from papers import pipeline
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
                pipeline.process_paper(paper_id)
            end_to_end = time.perf_counter() - start
        done = Paper.objects.filter(state=Paper.State.DONE).count()

    rows = [
        ("PDF text extraction", f"{pages / text_seconds:.0f} pages/s"),
        ("PDF text + figures (12 figures, 150 dpi)", f"{pages / full_seconds:.0f} pages/s"),
        (
            f"end to end, {PAPERS} papers of 4 pages (offline summarizer, no arXiv delay)",
            f"{done / end_to_end * 60:.0f} papers/min",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'benchmark':<{width}}  result")
    print(f"{'-' * width}  {'-' * 16}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if done != PAPERS:
        print(f"warning: only {done} of {PAPERS} papers finished", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["pages-child"]:
        from tools.bench_pages import child_main

        child_main()
    else:
        main()
        from tools.bench_pages import pages_main

        pages_main()
