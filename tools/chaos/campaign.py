"""The chaos campaign: its bookkeeping, the environment it runs in, its stages and the end.

The stages themselves live in tools.chaos.faults and tools.chaos.hostile; what is counted and
printed lives in tools.chaos.report.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tools.chaos import LONG_AGO
from tools.chaos.faults import Faults
from tools.chaos.hostile import BIDI, MARKERS, HostileInput
from tools.chaos.own_redis import OwnRedis
from tools.chaos.report import Outcome, Tally
from tools.chaos.workers import RealProcessFaults


class Campaign(Faults, RealProcessFaults, HostileInput):
    def __init__(self, *, quick: bool, folder: Path, out=sys.stdout) -> None:
        from django.test import Client

        from tests.arxiv_server import FakeArxiv
        from tests.llm_server import FakeLlm

        self.quick = quick
        self.folder = folder
        self.out = out
        self.tally = Tally()
        self.arxiv = FakeArxiv()
        self.llm = FakeLlm()
        self.client = Client(raise_request_exception=False)
        self.admin = Client(raise_request_exception=False)
        self.ids = iter(range(1, 100000))
        self.expected_papers: dict[str, str] = {}  # arXiv id -> abstract
        self.processed: set[int] = set()

    # ---------------------------------------------------------------- bookkeeping

    def fault(self, name: str, expected: str, check: Callable[[], tuple[bool, str]]) -> None:
        started = time.monotonic()
        try:
            survived, observed = check()
        except Exception as exc:  # noqa: BLE001 - a crash is an observation, not the end
            survived, observed = False, f"crashed: {type(exc).__name__}: {exc}"[:300]
        observed += f" ({time.monotonic() - started:.1f} s)"
        self.tally.outcomes.append(Outcome(name, expected, observed, survived))
        print(f"{'ok  ' if survived else 'FAIL'} {name}: {observed}", file=self.out, flush=True)

    def arxiv_id(self) -> str:
        return f"2410.{next(self.ids):05d}"

    def get(self, client, url: str, **kwargs):
        response = client.get(url, **kwargs)
        self.count(response, f"GET {url[:120]}")
        return response

    def post(self, client, url: str, data: dict):
        response = client.post(url, data)
        self.count(response, f"POST {url[:120]} {str(data)[:80]!r}")
        return response

    def count(self, response, what: str) -> None:
        self.tally.requests += 1
        if response.status_code >= 500 and response.status_code != 503:
            self.tally.errors.append(f"{response.status_code} {what}")
        location = response.get("Location", "")
        if location:
            self.tally.checks += 1
            if location.lower().startswith(("javascript:", "//", "http://evil", "https://evil")):
                self.tally.unescaped.append(f"redirect to {location[:80]} from {what}")

    def check_html(self, body: str, where: str) -> None:
        """No raw hostile markup, no clickable javascript: link, no bidi control."""
        lowered = body.lower()
        for marker in MARKERS:
            self.tally.checks += 1
            if marker in lowered:
                self.tally.unescaped.append(f"{marker!r} in {where}")
        self.tally.checks += 2
        if 'href="javascript:' in lowered or 'src="javascript:' in lowered:
            self.tally.unescaped.append(f"javascript: link in {where}")
        if any(c in body for c in BIDI):
            self.tally.unescaped.append(f"bidi control in {where}")

    # ---------------------------------------------------------------- setting up

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        from django.test import override_settings

        from digest_site.celery import app

        self.arxiv.__enter__()
        self.llm.start()
        overrides = override_settings(
            ALLOWED_HOSTS=["testserver", "localhost", "127.0.0.1"],
            SECURE_SSL_REDIRECT=False,
            DATA_DIR=self.folder / "data",
            MEDIA_ROOT=self.folder / "media",
            PRIVATE_MEDIA_ROOT=self.folder / "private",
            REDIS_URL="",
            CACHES={
                "default": {
                    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                    "LOCATION": "chaos",
                }
            },
            ARXIV_API_URL=self.arxiv.api_url,
            ARXIV_OAI_URL=self.arxiv.url + "/oai",
            ARXIV_DELAY_SECONDS=0,
            ARXIV_BACKOFF_SECONDS=0.05,
            ARXIV_TIMEOUT_SECONDS=1,
            ARXIV_RETRIES=2,
            ARXIV_PAGE_SIZE=100,
            LLM_BASE_URL=self.llm.url,
            LLM_API_KEY="chaos",
            LLM_MODEL="chaos-model",
            LLM_TIMEOUT=1,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "private": {"BACKEND": "papers.storage.PrivateStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        )
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        overrides.enable()
        try:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.create_superuser("chaos-editor", "", "chaos pass 1")
            self.admin.force_login(user)
            yield
        finally:
            overrides.disable()
            app.conf.task_always_eager = eager
            self.llm.stop()
            self.arxiv.__exit__(None, None, None)

    def topic(self, **fields):
        from papers.models import Topic

        n = next(self.ids)
        fields.setdefault("query", 'abs:"talking head"')
        fields.setdefault("auto_publish", True)
        return Topic.objects.create(name=fields.pop("name", f"Chaos topic {n}"), **fields)

    def stored_paper(
        self,
        arxiv_id: str,
        kind: str,
        *,
        abstract: str,
        pdf_url: str = "",
        topic=None,
        processed: bool = True,
    ):
        """A published paper as arXiv's metadata stores it, in `topic` if given; the campaign
        checks at the end that it is whole and, when `processed`, processed to an end."""
        from papers.models import Paper, TopicPaper

        paper = Paper.objects.create(
            arxiv_id=arxiv_id,
            title=f"{kind} {arxiv_id}",
            abstract=abstract,
            authors=[{"name": "Ada Lovelace"}],
            abs_url=f"https://arxiv.org/abs/{arxiv_id}v1",
            pdf_url=pdf_url,
            published=LONG_AGO,
            status="published",
        )
        if topic is not None:
            TopicPaper.objects.create(topic=topic, paper=paper)
        self.expected_papers[arxiv_id] = paper.abstract
        if processed:
            self.processed.add(paper.pk)
        return paper

    def fetch(self, answers: list, **settings):
        from django.test import override_settings

        from papers import pipeline

        self.arxiv.answers = list(answers)
        self.arxiv.requests.clear()
        self.arxiv.times.clear()
        with override_settings(**settings):
            return pipeline.fetch_topic(self.topic(), since=LONG_AGO)

    def entries(self, count: int, **fields) -> tuple[list[str], list[str]]:
        from tests.arxiv_server import entry

        ids = [self.arxiv_id() for _ in range(count)]
        abstract = fields.pop("abstract", "We study talking heads in great detail. " * 8)
        return ids, [entry(i, abstract=abstract, **fields) for i in ids]

    def expect_stored(self, ids: list[str]) -> tuple[bool, str]:
        from papers.models import Paper

        papers = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=ids)}
        for arxiv_id in ids:
            if arxiv_id in papers:
                self.expected_papers[arxiv_id] = papers[arxiv_id].abstract
        whole = all(
            p.abstract.endswith("detail.") and p.authors and p.title for p in papers.values()
        )
        return len(papers) == len(ids) and whole, f"{len(papers)}/{len(ids)} papers stored whole"

    def expect_none(self, ids: list[str]) -> int:
        from papers.models import Paper

        return Paper.objects.filter(arxiv_id__in=ids).count()

    # ---------------------------------------------------------------- the end

    def final_checks(self) -> None:
        from django.db.models import Count

        from papers.models import DigestEntry, MailSend, Paper, PipelineRun, Summary, TopicPaper

        papers = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=self.expected_papers)}
        for arxiv_id, abstract in self.expected_papers.items():
            paper = papers.get(arxiv_id)
            if paper is None:
                self.tally.lost.append(f"{arxiv_id} is gone")
            elif paper.abstract != abstract or not paper.title or not paper.authors:
                self.tally.lost.append(f"{arxiv_id} lost its metadata")
        for model, fields in (
            (DigestEntry, ("digest", "paper")),
            (Summary, ("paper", "language")),
            (TopicPaper, ("topic", "paper")),
        ):
            twice = model.objects.values(*fields).annotate(n=Count("pk")).filter(n__gt=1)
            self.tally.duplicated += [f"{model.__name__} {dict(row)}" for row in twice]
        for run in PipelineRun.objects.filter(status=PipelineRun.State.RUNNING):
            self.tally.stuck.append(f"run {run.pk} of {run.topic} still running")
        for send in MailSend.objects.filter(state=MailSend.State.SENDING):
            self.tally.stuck.append(f"mail {send.pk} still sending")
        for paper in Paper.objects.filter(pk__in=self.processed):
            waiting = (
                paper.state == Paper.State.FAILED and paper.last_error and paper.next_attempt_at
            )
            if paper.state != Paper.State.DONE and not waiting:
                self.tally.stuck.append(f"{paper.arxiv_id} is {paper.state}, nothing will retry it")

    def run(self) -> Tally:
        redis = OwnRedis(self.folder)
        with self.environment():
            for stage in (
                self.arxiv_faults,
                self.pdf_faults,
                self.llm_faults,
                self.mail_faults,
                self.worker_faults,
                self.hostile_data,
                self.check_pages,
                self.hostile_requests,
            ):
                self.stage(stage)
            if self.quick:
                print(
                    "Quick form: Redis, real-worker and PostgreSQL faults not run (see the tests)",
                    file=self.out,
                )
            elif shutil.which("redis-server"):
                try:
                    redis.start()

                    def with_redis() -> None:
                        self.redis_faults(redis)

                    def with_real_processes() -> None:
                        self.real_process_faults(redis)

                    self.stage(with_redis)
                    self.stage(with_real_processes)
                finally:
                    redis.stop()
            else:
                print(
                    "redis-server is not installed: Redis, real-worker and PostgreSQL faults not run",
                    file=self.out,
                )
            self.final_checks()
        return self.tally

    def stage(self, work: Callable[[], None]) -> None:
        """A stage that crashes is a fault not survived; the campaign goes on."""
        try:
            work()
        except Exception as exc:  # noqa: BLE001
            name = getattr(work, "__name__", "stage")
            self.tally.outcomes.append(
                Outcome(name, "runs to the end", f"crashed: {type(exc).__name__}: {exc}", False)
            )


def run_campaign(*, quick: bool = False, out=sys.stdout) -> Tally:
    """Run the campaign on the database Django is configured with (a test database)."""
    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        return Campaign(quick=quick, folder=Path(folder), out=out).run()
