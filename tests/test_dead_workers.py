"""A worker that dies mid-fetch: its run is closed by the next run, its arXiv turn freed at once,
and papers it stored but never put in a digest are placed by the next run. The same when the
database goes away in the middle of a run, and when a paper's task gives up half-way."""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from django.db import OperationalError
from django.utils import timezone

from papers import pipeline, tasks
from papers.models import Digest, Paper, PipelineRun, TopicPaper
from papers.sources import politeness
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_paper, make_topic

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


def two_new_papers(fake_arxiv) -> list[str]:
    ids = ["2410.00071", "2410.00072"]
    fake_arxiv.answers = [atom_feed([entry(arxiv_id) for arxiv_id in ids])]
    return ids


def placed_once(topic, ids: list[str]) -> bool:
    (digest,) = Digest.objects.filter(topic=topic)
    placed = list(digest.entries.values_list("paper__arxiv_id", flat=True))
    joined = TopicPaper.objects.filter(topic=topic, paper__arxiv_id__in=ids).count()
    return placed == ids and joined == len(ids)


@pytest.mark.django_db
def test_papers_a_run_stored_but_never_placed_are_placed_by_the_next_run(fake_arxiv, monkeypatch):
    topic = make_topic(auto_publish=True)
    ids = two_new_papers(fake_arxiv)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt  # how the end of a process looks from inside, for the test

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "join_topic", dies)
        with pytest.raises(KeyboardInterrupt):
            pipeline.fetch_topic(topic, since=LONG_AGO)
    assert Paper.objects.filter(arxiv_id__in=ids).count() == 2
    assert not TopicPaper.objects.filter(topic=topic).exists()  # stored, not yet in the topic
    (left,) = PipelineRun.objects.filter(topic=topic)

    run = pipeline.fetch_topic(topic, since=LONG_AGO).run

    left.refresh_from_db()
    assert left.status == PipelineRun.State.FAILED and "Closed by a later run" in left.errors[0]
    assert run.status == PipelineRun.State.SUCCEEDED
    assert placed_once(topic, ids)


@pytest.mark.django_db
def test_a_run_that_loses_the_database_is_recorded_failed_and_the_next_places_its_papers(
    fake_arxiv, monkeypatch
):
    topic = make_topic(auto_publish=True)
    ids = two_new_papers(fake_arxiv)
    store = pipeline.store_paper
    stored = []

    def store_then_lose_the_database(topic, data):
        if stored:
            raise OperationalError("server closed the connection unexpectedly")
        stored.append(data.arxiv_id)
        return store(topic, data)

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "store_paper", store_then_lose_the_database)
        with pytest.raises(OperationalError):
            pipeline.fetch_topic(topic, since=LONG_AGO)
    (lost,) = PipelineRun.objects.filter(topic=topic)
    assert lost.status == PipelineRun.State.FAILED and lost.finished_at
    assert "database could not be reached" in lost.errors[0]
    assert not Digest.objects.filter(topic=topic).exists()

    run = pipeline.fetch_topic(topic, since=LONG_AGO).run
    assert run.status == PipelineRun.State.SUCCEEDED and run.new == 1
    assert placed_once(topic, ids)


@pytest.mark.django_db
def test_a_paper_whose_processing_stops_half_way_is_recorded_failed(monkeypatch):
    paper = make_paper("2410.00073", topic=make_topic())
    Paper.objects.filter(pk=paper.pk).update(
        state=Paper.State.FETCHED, license_checked_at=timezone.now()
    )

    def breaks(*args, **kwargs):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(tasks.processing, "extract_paper", breaks)
    assert tasks.process_paper.delay(paper.pk).get() == Paper.State.FAILED
    paper.refresh_from_db()
    assert paper.state == Paper.State.FAILED and paper.attempts == 1
    assert paper.next_attempt_at is not None
    assert "RuntimeError: something unforeseen" in paper.last_error

    # Its worker process died at every attempt: the worker reports the task failed for good.
    Paper.objects.filter(pk=paper.pk).update(state=Paper.State.EXTRACTED)
    lost = WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL) Job: 4.")
    tasks.process_paper.push_request(is_eager=True)  # keep the test's database connection
    try:
        task_failure.send(sender=tasks.process_paper, args=[paper.pk], exception=lost)
    finally:
        tasks.process_paper.pop_request()
    paper.refresh_from_db()
    assert paper.state == Paper.State.FAILED and paper.attempts == 2
    assert "WorkerLostError: Worker exited prematurely" in paper.last_error


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
