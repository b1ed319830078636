"""A real Celery worker consuming from the machine's Redis runs the pipeline's tasks."""

import datetime as dt
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from digest_site.celery import app
from papers import tasks
from papers.models import Paper, PipelineRun
from tests.arxiv_server import atom_feed, entry
from tests.factories import make_topic


@pytest.fixture
def redis_app(redis_url):
    """The project's Celery app sending to Redis, on a queue of this test's own."""
    saved = {
        key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")
    }
    app.conf.update(
        broker_url=redis_url,
        task_always_eager=False,
        task_default_queue=f"test-{uuid.uuid4().hex}",
    )
    drop_connections(app)
    app.amqp.queues = app.amqp.Queues(())
    yield app
    drop_connections(app)
    app.conf.update(saved)


def drop_connections(celery_app) -> None:
    """Forget pooled connections, so publishing follows the broker_url set for the test."""
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_fetches_and_processes_a_topic(redis_app, fake_arxiv):
    topic = make_topic()
    fake_arxiv.answers = [
        atom_feed(
            [
                entry("2410.00001", pdf_url=f"{fake_arxiv.url}/pdf/2410.00001v1"),
                entry("2410.00002", pdf_url=f"{fake_arxiv.url}/pdf/2410.00002v1"),
            ]
        )
    ]
    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).isoformat()
        tasks.fetch_topic.delay(topic.pk, since)
        # The run queues the two papers in turn; the same worker processes them.
        deadline = time.monotonic() + 60
        while Paper.objects.exclude(state=Paper.State.FETCHED).count() < 2:
            assert time.monotonic() < deadline, "the worker did not process the papers"
            time.sleep(0.1)
    run = PipelineRun.objects.get()
    assert (run.status, run.new) == (PipelineRun.State.SUCCEEDED, 2)
    assert set(Paper.objects.values_list("state", flat=True)) == {Paper.State.FAILED}
    assert all("PDF" in p.last_error for p in Paper.objects.all())
