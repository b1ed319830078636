"""A worker process killed in the middle of a paper loses nothing (real worker, real Redis).

The worker runs as its own process on the test database, so this needs PostgreSQL.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from digest_site.celery import app
from papers import tasks
from papers.models import Paper, Summary
from tests.arxiv_server import Answer
from tests.factories import make_paper
from tools.chaos.own_worker import children
from tools.pdfgen import make_paper_pdf

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_process_is_replaced_and_the_paper_done_exactly_once_more(
    postgres, redis_url, fake_arxiv, tmp_path
):
    pdf = tmp_path / "paper.pdf"
    facts = make_paper_pdf(pdf, figures=["bitmap", "vector"], pages=2, table=False)
    paper = make_paper("2410.00042", pdf_url=f"{fake_arxiv.url}/pdf/2410.00042v1")
    Paper.objects.filter(pk=paper.pk).update(state=Paper.State.FETCHED)
    body = pdf.read_bytes()
    # The first download stalls long enough to kill the worker in the middle of it.
    fake_arxiv.files["/pdf/2410.00042v1"] = [
        Answer(body, content_type="application/pdf", delay=30),
        Answer(body, content_type="application/pdf"),
    ]

    queue = f"test-kill-{uuid.uuid4().hex}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "ARXIV_API_URL": fake_arxiv.api_url,
        "ARXIV_OAI_URL": fake_arxiv.url + "/oai",
        "ARXIV_DELAY_SECONDS": "0",
        "ARXIV_TIMEOUT_SECONDS": "60",
        "ARXIV_LOCK_TIMEOUT_SECONDS": "3",
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed with the worker
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "digest_site", "worker", "--pool=prefork"]
        + ["--concurrency=1", "-Q", queue, "--without-gossip", "--without-mingle", "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    try:
        app.conf.update(broker_url=redis_url, task_always_eager=False)
        tasks.process_paper.apply_async((paper.pk,), queue=queue)
        wait_for(lambda: fake_arxiv.hits("/pdf/2410.00042v1") == 1, 60, "the first download")
        (process,) = children(worker.pid)
        os.kill(process, signal.SIGKILL)

        def done() -> bool:
            return Paper.objects.get(pk=paper.pk).state == Paper.State.DONE

        wait_for(done, 90, "the paper to be processed again")
        time.sleep(1)  # nothing further may run
    finally:
        app.conf.update(saved)
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
        print((tmp_path / "worker.log").read_text()[-5000:])

    assert fake_arxiv.hits("/pdf/2410.00042v1") == 2
    paper = Paper.objects.get(pk=paper.pk)
    assert paper.figures.count() == len(facts["figures"])
    assert Summary.objects.filter(paper=paper).count() == 1
    stored = [p for p in (tmp_path / "private").rglob("*.pdf")]
    assert len(stored) == 1
