"""A worker that dies mid-fetch: its run is closed by the next run, its arXiv turn freed at once."""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from papers import pipeline
from papers.models import PipelineRun
from papers.sources import politeness
from tests.arxiv_server import atom_feed
from tests.factories import make_topic

ROOT = Path(__file__).resolve().parent.parent
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def dead_pid() -> int:
    process = subprocess.Popen(["sleep", "60"])
    process.kill()
    process.wait()
    return process.pid


@pytest.mark.django_db
def test_the_next_run_closes_runs_whose_worker_died(fake_arxiv):
    topic = make_topic()
    host = socket.gethostname()
    dead = PipelineRun.objects.create(topic=topic, worker=f"{host}:{dead_pid()}")
    alive = PipelineRun.objects.create(topic=topic, worker=f"{host}:{os.getppid()}")
    elsewhere = PipelineRun.objects.create(topic=topic, worker="another-host:1")
    lost = PipelineRun.objects.create(
        topic=topic,
        worker="another-host:2",
        started_at=timezone.now() - dt.timedelta(seconds=pipeline.FETCH_TIME_LIMIT + 60),
    )
    other_topic = PipelineRun.objects.create(topic=make_topic(), worker=f"{host}:{dead_pid()}")
    fake_arxiv.answers = [atom_feed([])]

    run = pipeline.fetch_topic(topic, since=LONG_AGO).run

    assert run.status == PipelineRun.State.SUCCEEDED
    assert run.worker == f"{host}:{os.getpid()}"
    for closed in (dead, lost):
        closed.refresh_from_db()
        assert closed.status == PipelineRun.State.FAILED and closed.finished_at
        assert "Closed by a later run" in closed.errors[0]
    for kept in (alive, elsewhere, other_topic):
        kept.refresh_from_db()
        assert kept.status == PipelineRun.State.RUNNING


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_run_instead_of_leaving_it_running(settings, fake_arxiv):
    # Redis is named for the arXiv turn but nothing listens there.
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    run = pipeline.fetch_topic(make_topic(), since=LONG_AGO).run
    assert run.status == PipelineRun.State.FAILED and run.finished_at
    assert "ConnectionError" in run.errors[0]


HOLD_THE_TURN = """
import django, time
django.setup()
from papers.sources.politeness import arxiv_turn
with arxiv_turn():
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_killed_holder_frees_the_arxiv_turn_within_seconds(redis_url, settings):
    import redis

    settings.REDIS_URL = redis_url
    settings.ARXIV_LOCK_TIMEOUT_SECONDS = 2
    client = redis.Redis.from_url(redis_url)
    client.delete(politeness.LOCK_KEY, politeness.LAST_KEY)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "digest_site.settings",
        "REDIS_URL": redis_url,
        "ARXIV_LOCK_TIMEOUT_SECONDS": "2",
        "ARXIV_DELAY_SECONDS": "0",
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_TURN], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        # Alive, the holder keeps its turn past the lock's time-out.
        time.sleep(5)
        assert client.exists(politeness.LOCK_KEY)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        started = time.monotonic()
        with politeness.arxiv_turn():
            waited = time.monotonic() - started
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        client.delete(politeness.LOCK_KEY, politeness.LAST_KEY)
    assert waited < 3.5
