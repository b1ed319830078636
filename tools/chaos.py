"""The fault and hostile-input campaign (`make chaos`), on loopback only.

A local arXiv (API, OAI-PMH, PDFs) and a local LLM misbehave in every way seen in the wild, a Redis
of the campaign's own is stopped and restarted while pages are served, workers die, and generated
hostile input goes to every public URL and form while hostile titles, authors, abstracts, captions
and LLM text travel through the pipeline to the pages, the feeds and the admin. The campaign prints
a table (fault, expected, observed) and one line:

    faults survived N/N, 500s 0/M, unescaped 0/K, lost 0, duplicated 0, stuck 0

It runs on a throw-away test database (PostgreSQL when DATABASE_URL names one, else SQLite) with
tasks in-process. `run_campaign(quick=True)` is the short form the test suite runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# Raw forms that must never reach a page or feed unescaped.
MARKERS = ("<script>alert(", "<img src=x onerror")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FRAGMENTS = [
    SCRIPT,
    IMG,
    "javascript:alert(1)",
    "\x00",
    "\x01\x07\x0b\x0c\x1b\x7f",
    "\u202e",
    "\u2066x\u2069",
    "../../etc/passwd",
    "%00",
    "%",
    "%zz",
    "'",
    '"',
    "\\",
    " ",
    "\r\n",
    "中文标签",
    "😀",
    "9" * 40,
    "-1",
    "0",
    "2024-13-45",
    "a" * 3000,
    "$\\href{javascript:alert(1)}{x}$",
    "{{ 7|add:7 }}",
    "${7*7}",
    "?x=1&y=2#z",
    "//evil.example/",
]


def hostile_values(count: int, seed: int) -> list[str]:
    """`count` generated hostile strings: random mixes of the fragments above and random text."""
    rng = random.Random(seed)
    values = list(FRAGMENTS) if count >= len(FRAGMENTS) else rng.sample(FRAGMENTS, count)
    while len(values) < count:
        parts = rng.sample(FRAGMENTS, rng.randint(1, 4))
        parts.append("".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 12))))
        rng.shuffle(parts)
        values.append("".join(parts))
    return values


@dataclass
class Outcome:
    fault: str
    expected: str
    observed: str
    survived: bool


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # requests answered 500
    checks: int = 0
    unescaped: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)

    def summary(self) -> str:
        survived = sum(o.survived for o in self.outcomes)
        return (
            f"faults survived {survived}/{len(self.outcomes)}, "
            f"500s {len(self.errors)}/{self.requests}, "
            f"unescaped {len(self.unescaped)}/{self.checks}, "
            f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, stuck {len(self.stuck)}"
        )

    @property
    def clean(self) -> bool:
        return all(o.survived for o in self.outcomes) and not (
            self.errors or self.unescaped or self.lost or self.duplicated or self.stuck
        )

    def table(self) -> str:
        widths = [
            max(len(getattr(o, name)) for o in self.outcomes) if self.outcomes else 5
            for name in ("fault", "expected")
        ]
        widths = [min(max(w, 5), 48) for w in widths]
        lines = [f"{'fault':<{widths[0]}}  {'expected':<{widths[1]}}  observed"]
        for o in self.outcomes:
            mark = "ok  " if o.survived else "FAIL"
            lines.append(f"{o.fault:<{widths[0]}}  {o.expected:<{widths[1]}}  {mark} {o.observed}")
        for name in ("errors", "unescaped", "lost", "duplicated", "stuck"):
            for item in getattr(self, name)[:20]:
                lines.append(f"  {name}: {item}")
        return "\n".join(lines)


def strings(value) -> list[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server of the campaign's own, on a free loopback port, never persisted."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Campaign:
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

    # ---------------------------------------------------------------- arXiv

    def arxiv_faults(self) -> None:
        from papers.models import PipelineRun
        from tests.arxiv_server import Answer, atom_feed

        def busy():
            ids, entries = self.entries(2)
            run = self.fetch([Answer(b"busy", status=503)] * 2 + [atom_feed(entries)]).run
            ok, stored = self.expect_stored(ids)
            return ok and run.status == "succeeded", f"run {run.status}, {stored}"

        self.fault("arXiv 503 twice", "retried with back-off, run succeeds", busy)

        def rate_limited():
            ids, entries = self.entries(1)
            limited = Answer(b"slow down", status=429, headers={"Retry-After": "2"})
            run = self.fetch([limited, atom_feed(entries)]).run
            gap = self.arxiv.times[1] - self.arxiv.times[0] if len(self.arxiv.times) > 1 else 0
            ok, stored = self.expect_stored(ids)
            return (
                ok and run.status == "succeeded" and gap >= 1.9,
                f"asked again after {gap:.1f} s, run {run.status}, {stored}",
            )

        self.fault("arXiv 429, Retry-After: 2", "next request >= 2 s later, succeeds", rate_limited)

        def hang():
            started = time.monotonic()
            run = self.fetch([Answer(atom_feed([]).body, delay=4)]).run
            took = time.monotonic() - started
            return (
                run.status == PipelineRun.State.FAILED and took < 10,
                f"run {run.status} after {took:.1f} s: {(run.errors or [''])[0][:60]}",
            )

        self.fault("arXiv hangs", "time-out, run failed, not stuck", hang)

        def refused(answer: Answer, name: str):
            def check():
                ids, entries = self.entries(2)
                body = answer.body or atom_feed(entries).body
                if name == "cut":
                    body = body[: body.index(b"<summary>", body.index(b"<summary>") + 1) + 40]
                run = self.fetch([Answer(body, content_type=answer.content_type)]).run
                stored = self.expect_none(ids)
                return (
                    run.status == PipelineRun.State.FAILED and stored == 0,
                    f"run {run.status}, {stored} papers stored",
                )

            return check

        self.fault(
            "arXiv malformed XML",
            "run failed, nothing stored",
            refused(Answer(b"<?xml version='1.0'?><feed><entry><title>x"), "malformed"),
        )
        self.fault(
            "arXiv answer cut inside an entry",
            "asked again, run failed, nothing stored",
            refused(Answer(b""), "cut"),
        )
        self.fault(
            "arXiv HTML with 200",
            "run failed, nothing stored",
            refused(
                Answer(
                    b"<html><body><h1>Rate exceeded</h1></body></html>", content_type="text/html"
                ),
                "html",
            ),
        )

        def cut_then_whole():
            ids, entries = self.entries(2)
            whole = atom_feed(entries).body
            cut = whole[: whole.index(b"<summary>", whole.index(b"<summary>") + 1) + 40]
            run = self.fetch([Answer(cut), Answer(whole)]).run
            ok, stored = self.expect_stored(ids)
            return ok and run.status == "succeeded", f"run {run.status}, {stored}"

        self.fault("arXiv cut answer, then whole", "asked again, abstracts whole", cut_then_whole)

        def empty_mid_pagination():
            ids, entries = self.entries(3)
            answers = [
                atom_feed(entries[:2], total=3),
                atom_feed([], total=3, start=2),
                atom_feed(entries[2:], total=3, start=2),
            ]
            run = self.fetch(answers, ARXIV_PAGE_SIZE=2).run
            ok, stored = self.expect_stored(ids)
            return ok and run.status == "succeeded", f"run {run.status}, {stored}"

        self.fault(
            "arXiv empty page mid-pagination", "page asked again, all stored", empty_mid_pagination
        )

        def twice():
            from papers import pipeline

            ids, entries = self.entries(2)
            topic = self.topic()
            self.arxiv.answers = [atom_feed(entries)]
            first = pipeline.fetch_topic(topic, since=LONG_AGO).run
            second = pipeline.fetch_topic(topic, since=LONG_AGO).run
            ok, stored = self.expect_stored(ids)
            return (
                ok and first.new == 2 and second.new == 0 and second.updated == 0,
                f"first run new {first.new}, second new {second.new}; {stored}",
            )

        self.fault("the same fetch twice", "second run changes nothing", twice)

    # ---------------------------------------------------------------- PDFs

    def pdf_path(self) -> Path:
        """A generated paper whose figure caption is hostile."""
        from tools import pdfgen

        path = self.folder / "paper.pdf"
        if not path.exists():
            pdfgen.make_paper_pdf(
                path,
                figures=[{"kind": "bitmap", "caption": f"Figure 1: Overview {SCRIPT} {IMG}"}],
                pages=2,
                table=False,
            )
        return path

    def serve_pdf(self, arxiv_id: str) -> str:
        from tests.arxiv_server import Answer

        path = f"/pdf/{arxiv_id}v1"
        self.arxiv.files[path] = Answer(
            self.pdf_path().read_bytes(), content_type="application/pdf"
        )
        return self.arxiv.url + path

    def pdf_faults(self) -> None:
        from django.test import override_settings

        from papers import processing
        from papers.models import Paper
        from tests.arxiv_server import Answer
        from tools import pdfgen

        source = self.pdf_path()
        body = source.read_bytes()

        def paper_with(answer: Answer, **settings) -> Paper:
            arxiv_id = self.arxiv_id()
            path = f"/pdf/{arxiv_id}v1"
            self.arxiv.files[path] = answer
            paper = Paper.objects.create(
                arxiv_id=arxiv_id,
                title=f"PDF fault {arxiv_id}",
                abstract="We study talking heads in great detail.",
                authors=[{"name": "Ada Lovelace"}],
                pdf_url=self.arxiv.url + path,
                abs_url=f"https://arxiv.org/abs/{arxiv_id}v1",
                published=LONG_AGO,
                status="published",
            )
            self.expected_papers[arxiv_id] = paper.abstract
            self.processed.add(paper.pk)
            with override_settings(**settings):
                processing.process_paper(paper.pk)
            paper.refresh_from_db()
            return paper

        def failed(answer: Answer, word: str, **settings):
            def check():
                paper = paper_with(answer, **settings)
                kept = paper.abstract.endswith("detail.") and paper.summaries.exists()
                ok = (
                    paper.state == Paper.State.FAILED
                    and word in paper.last_error
                    and paper.next_attempt_at is not None
                    and kept
                )
                return ok, f"{paper.state}: {paper.last_error[:60]}; summary kept {kept}"

            return check

        truncated = body[: len(body) // 10]
        encrypted_path = pdfgen.make_encrypted_pdf(source, self.folder / "encrypted.pdf")
        self.fault(
            "PDF truncated to 10%",
            "paper failed with error, retried later",
            failed(Answer(truncated, content_type="application/pdf"), "PDF"),
        )
        self.fault(
            "PDF encrypted",
            "paper failed with error, retried later",
            failed(Answer(encrypted_path.read_bytes(), content_type="application/pdf"), "PDF"),
        )
        self.fault(
            "HTML served as PDF",
            "paper failed (not a PDF)",
            failed(Answer(b"<html><body>" + b"x" * 200 + b"</body></html>"), "not_pdf"),
        )
        self.fault(
            "PDF over the size limit",
            "paper failed (too large)",
            failed(
                Answer(body, content_type="application/pdf"),
                "too_large",
                PDF_MAX_BYTES=len(body) // 2,
            ),
        )
        self.fault(
            "PDF download hangs",
            "time-out, paper failed, retried later",
            failed(Answer(body, content_type="application/pdf", delay=4), "download"),
        )

        def good():
            paper = paper_with(Answer(body, content_type="application/pdf"))
            return (
                paper.state == Paper.State.DONE and paper.figures.exists(),
                f"{paper.state}, {paper.figures.count()} figure(s)",
            )

        self.fault("a good PDF with a hostile caption", "done, caption escaped on pages", good)

    # ---------------------------------------------------------------- LLM

    def llm_faults(self) -> None:
        from papers import processing
        from papers.models import Paper, TopicPaper

        topic = self.topic(summarizer="openai")
        answer = {
            "tldr": "A memory keeps identity stable.",
            "key_takeaways": ["One point.", "Two points.", "Three points."],
            "title_translation": "Memory",
            "affiliations": [],
            "keywords": ["talking head"],
            "links": [],
            "background": "b",
            "prior_work": "p",
            "method": "m",
            "results": "r",
            "method_steps": ["s"],
            "significance": "s",
            "assessment": "a",
        }

        def paper() -> Paper:
            arxiv_id = self.arxiv_id()
            made = Paper.objects.create(
                arxiv_id=arxiv_id,
                title=f"LLM fault {arxiv_id}",
                abstract="We study talking heads in great detail. It works. The code is public.",
                authors=[{"name": "Ada Lovelace"}],
                abs_url=f"https://arxiv.org/abs/{arxiv_id}v1",
                pdf_url=self.serve_pdf(arxiv_id),
                published=LONG_AGO,
                status="published",
            )
            TopicPaper.objects.create(topic=topic, paper=made)
            self.expected_papers[arxiv_id] = made.abstract
            self.processed.add(made.pk)
            return made

        def fails(script: Callable[[], None], word: str):
            def check():
                self.llm.script.clear()
                script()
                made = paper()
                processing.process_paper(made.pk)
                made.refresh_from_db()
                kept = made.summaries.filter(backend="extractive").exists()
                good = (
                    made.state == Paper.State.FAILED
                    and word in made.last_error
                    and made.next_attempt_at is not None
                    and kept
                )
                return good, f"{made.state}: {made.last_error[:70]}; offline summary {kept}"

            return check

        import json

        broken = json.dumps(answer)[:-20]
        wrong = {**answer, "key_takeaways": "not a list", "tldr": 3}
        self.fault(
            "LLM broken JSON",
            "paper failed, offline summary, retried",
            fails(lambda: [self.llm.reply(broken) for _ in range(2)], "JSON"),
        )
        self.fault(
            "LLM wrong types",
            "paper failed, offline summary, retried",
            fails(lambda: [self.llm.reply_json(wrong) for _ in range(2)], "must be"),
        )
        self.fault(
            "LLM 429",
            "paper failed (rate limited), retried",
            fails(
                lambda: [self.llm.error(429, "slow", {"Retry-After": "0"}) for _ in range(3)],
                "429",
            ),
        )
        self.fault(
            "LLM hangs",
            "time-out, paper failed, retried",
            fails(lambda: [self.llm.stall(4) for _ in range(3)], "did not answer"),
        )
        self.fault(
            "LLM 500",
            "paper failed, retried",
            fails(lambda: [self.llm.error(500, "boom") for _ in range(3)], "500"),
        )

        def nul():
            self.llm.script.clear()
            hostile = {
                **answer,
                "tldr": f"A memory\x00 keeps \u202eidentity\x07 stable {SCRIPT}",
                "key_takeaways": ["One\x00.", f"Two \u2066{IMG}.", "Three\x1b[31m."],
                "keywords": [f"{SCRIPT}", "memory\u202e"],
                "method": f"Method\x0c{IMG}",
            }
            self.llm.reply_json(hostile)
            made = processing.process_paper(paper().pk)
            ok = made.state == Paper.State.DONE
            summary = made.summaries.get(language="en")
            text = "".join(strings([getattr(summary, name) for name in answer]))
            dirty = [c for c in text if ord(c) < 32 or c in BIDI]
            return ok and not dirty, f"stored: {ok}, control or bidi characters left: {len(dirty)}"

        self.fault("LLM text with NUL, controls, bidi", "stored clean, shown escaped", nul)

    # ---------------------------------------------------------------- workers

    def worker_faults(self) -> None:
        from papers import pipeline
        from papers.models import PipelineRun
        from tests.arxiv_server import atom_feed

        def dead_run():
            process = subprocess.Popen(["sleep", "60"])
            process.kill()
            process.wait()
            topic = self.topic()
            left = PipelineRun.objects.create(
                topic=topic, worker=f"{socket.gethostname()}:{process.pid}"
            )
            self.arxiv.answers = [atom_feed([])]
            pipeline.fetch_topic(topic, since=LONG_AGO)
            left.refresh_from_db()
            return left.status == "failed", f"the dead worker's run is {left.status}"

        self.fault("worker died mid-fetch", "its run closed by the next run", dead_run)

    def redis_faults(self, redis: OwnRedis) -> None:
        from django.test import override_settings

        from papers.content import content_version
        from papers.sources import politeness

        def dead_turn():
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "digest_site.settings",
                "REDIS_URL": redis.url,
                "ARXIV_LOCK_TIMEOUT_SECONDS": "2",
                "ARXIV_DELAY_SECONDS": "0",
            }
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD_THE_TURN],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                held = holder.stdout.readline().strip() == "held"
                holder.send_signal(signal.SIGKILL)
                holder.wait()
                started = time.monotonic()
                with (
                    override_settings(REDIS_URL=redis.url, ARXIV_LOCK_TIMEOUT_SECONDS=2),
                    politeness.arxiv_turn(),
                ):
                    waited = time.monotonic() - started
            finally:
                if holder.poll() is None:
                    holder.kill()
                    holder.wait()
            return held and waited < 4, f"the next turn came after {waited:.1f} s"

        self.fault("worker SIGKILLed holding the arXiv turn", "turn free within seconds", dead_turn)

        def stopped():
            cache = {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": redis.url,
                    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
                }
            }
            from django.core.cache import caches

            from papers.models import Paper

            urls = self.public_urls()
            with override_settings(CACHES=cache, REDIS_URL=redis.url):
                caches.close_all()
                before = [self.get(self.client, u).status_code for u in urls]
                redis.stop()
                during = [self.get(self.client, u).status_code for u in urls]
                health = self.get(self.client, "/healthz").status_code
                paper = Paper.objects.order_by("pk").first()
                paper.save()  # marking cached pages stale must not fail
                redis.start()
                caches.close_all()
                after = [self.get(self.client, u).status_code for u in urls]
                version = content_version()
            codes = set(before + during + after)
            return (
                codes == {200} and health == 503 and version is not None,
                f"pages {sorted(codes)}, /healthz {health} while down, cache back: "
                f"{version is not None}",
            )

        self.fault("Redis stopped and restarted", "pages 200 uncached, healthz 503", stopped)

    # ---------------------------------------------------------------- hostile data to pages

    def hostile_data(self) -> None:
        """Hostile text through the real entry points: arXiv metadata and LLM text."""
        from papers import pipeline, processing
        from papers.models import Figure, Paper
        from tests.arxiv_server import atom_feed, entry

        self.hostile_topic = self.topic(name=f"Hostile {SCRIPT}", summarizer="openai")
        arxiv_id = self.arxiv_id()
        self.arxiv.answers = [
            atom_feed(
                [
                    entry(
                        arxiv_id,
                        title=f"Title \u202e{SCRIPT} $\\href{{javascript:alert(1)}}{{x}}$",
                        abstract=f"Abstract {IMG} \u2066in detail\x7f.",
                        authors=(f"Eve {SCRIPT}", f"Mallory \u202e{IMG}"),
                        comment=f"Code: javascript:alert(1) {SCRIPT}",
                        pdf_url="javascript:alert(1)",
                    )
                ]
            )
        ]
        self.llm.script.clear()
        self.llm.reply_json(
            {
                "tldr": f"TLDR {SCRIPT}\u202e",
                "key_takeaways": [f"One {IMG}", f"Two {SCRIPT}", "Three \u2067x"],
                "title_translation": f"Translation {SCRIPT}",
                "affiliations": [],
                "keywords": [f"{SCRIPT}", f"kw {IMG}"],
                "links": [],
                "background": f"Background {IMG}",
                "prior_work": "p",
                "method": "m",
                "results": "r",
                "method_steps": [f"Step {SCRIPT}"],
                "significance": "s",
                "assessment": "a",
            }
        )
        run = pipeline.fetch_topic(self.hostile_topic, since=LONG_AGO).run
        paper = Paper.objects.get(arxiv_id=arxiv_id)
        # Summarized and tagged without its PDF: its PDF link points at the real arXiv.
        processing.summarize_paper(paper)
        pipeline.tag_paper(paper)
        self.hostile_paper = paper
        # A row as an older version could have stored it, and a figure kept by a hostile URL.
        Figure.objects.create(
            paper=paper,
            order=99,
            source_url="javascript:alert(4)",
            caption=f"Figure 9: \u202e{SCRIPT}",
        )
        Paper.objects.filter(pk=paper.pk).update(comment=f"Legacy \u202e{SCRIPT}")
        self.fault(
            "hostile arXiv metadata and LLM text",
            "stored clean, pipeline goes on",
            lambda: (
                run.status == "succeeded" and "\u202e" not in paper.title,
                f"run {run.status}, paper {paper.state}",
            ),
        )

    def public_urls(self) -> list[str]:
        from papers.models import Digest, Paper, Tag, Topic

        urls = ["/", "/papers/", "/tags/", "/feed/", "/feed/atom/", "/sitemap.xml", "/source/"]
        for paper in Paper.objects.filter(status="published").order_by("-pk")[:6]:
            urls.append(paper.get_absolute_url())
        for tag in Tag.objects.order_by("-pk")[:4]:
            urls += [tag.get_absolute_url(), tag.get_absolute_url() + "feed/"]
        for topic in Topic.objects.order_by("-pk")[:3]:
            urls += [topic.get_absolute_url(), topic.get_absolute_url() + "feed/"]
        for digest in Digest.objects.order_by("-pk")[:3]:
            urls.append(digest.get_absolute_url())
        return urls

    def check_pages(self) -> None:
        from django.urls import reverse

        from papers.models import Digest, Figure, Summary, Tag

        paper = self.hostile_paper
        tags = list(paper.tags.all())
        digest = Digest.objects.filter(entries__paper=paper).first()
        urls = [
            "/",
            "/papers/",
            "/tags/",
            paper.get_absolute_url(),
            self.hostile_topic.get_absolute_url(),
        ]
        urls += [tag.get_absolute_url() for tag in tags]
        if digest:
            urls.append(digest.get_absolute_url())
        feeds = ["/feed/", "/feed/atom/", self.hostile_topic.get_absolute_url() + "feed/"]
        feeds += [tag.get_absolute_url() + "feed/" for tag in tags]
        feeds += [tag.get_absolute_url() + "feed/atom/" for tag in tags]
        admin = [
            "/admin/",
            "/admin/papers/paper/",
            f"/admin/papers/paper/{paper.pk}/change/",
            "/admin/papers/summary/",
            "/admin/papers/figure/",
            "/admin/papers/tag/",
            "/admin/papers/topic/",
            f"/admin/papers/topic/{self.hostile_topic.pk}/change/",
            "/admin/papers/pipelinerun/",
            "/admin/papers/errorreport/",
            reverse("admin:papers_today"),
        ]
        admin += [
            f"/admin/papers/summary/{s.pk}/change/" for s in Summary.objects.filter(paper=paper)
        ]
        admin += [
            f"/admin/papers/figure/{f.pk}/change/" for f in Figure.objects.filter(paper=paper)
        ]
        admin += [
            f"/admin/papers/tag/{t.pk}/change/"
            for t in Tag.objects.filter(pk__in=[t.pk for t in tags])
        ]
        if digest:
            admin += [
                f"/admin/papers/digest/{digest.pk}/change/",
                f"/admin/papers/digest/{digest.pk}/preview/",
            ]

        def pages():
            bad = []
            for url in urls:
                response = self.get(self.client, url)
                if response.status_code != 200:
                    bad.append(f"{url} {response.status_code}")
                    continue
                self.check_html(response.content.decode(), url)
            return not bad, f"{len(urls)} pages, not 200: {bad or 'none'}"

        self.fault("hostile text on public pages", "escaped, no bidi, no javascript:", pages)

        def feeds_check():
            import feedparser

            bad = []
            for url in feeds:
                response = self.get(self.client, url)
                if response.status_code != 200:
                    bad.append(f"{url} {response.status_code}")
                    continue
                try:
                    root = ET.fromstring(response.content)
                except ET.ParseError as exc:
                    bad.append(f"{url} not XML: {exc}")
                    continue
                if feedparser.parse(response.content).bozo:
                    bad.append(f"{url} feedparser bozo")
                self.check_feed(root, url)
            return not bad, f"{len(feeds)} feeds, problems: {bad or 'none'}"

        self.fault("hostile text in feeds", "strict XML, feedparser, escaped", feeds_check)

        def admin_pages():
            bad = []
            for url in admin:
                response = self.get(self.admin, url)
                if response.status_code != 200:
                    bad.append(f"{url} {response.status_code}")
                    continue
                self.check_html(response.content.decode(), "admin " + url)
            return not bad, f"{len(admin)} admin pages, not 200: {bad or 'none'}"

        self.fault("hostile text in the admin", "escaped, no clickable javascript:", admin_pages)

    def check_feed(self, root: ET.Element, url: str) -> None:
        """RSS titles and descriptions are HTML to readers; Atom titles are text, content HTML."""
        atom = "{http://www.w3.org/2005/Atom}"
        html_texts = []
        if root.tag == "rss":
            for element in root.iter():
                if element.tag in ("title", "description"):
                    html_texts.append(element.text or "")
        else:
            for element in root.iter():
                if element.tag in (f"{atom}summary", f"{atom}content", f"{atom}subtitle"):
                    if element.get("type") == "html":
                        html_texts.append(element.text or "")
        body = ET.tostring(root, encoding="unicode")
        for text in html_texts:
            for marker in MARKERS:
                self.tally.checks += 1
                if marker in text.lower():
                    self.tally.unescaped.append(f"{marker!r} in {url}")
        self.tally.checks += 1
        if any(c in body for c in BIDI):
            self.tally.unescaped.append(f"bidi control in {url}")

    # ---------------------------------------------------------------- hostile requests

    def hostile_requests(self) -> None:
        from papers.models import Paper, Tag, Topic

        count = 6 if self.quick else len(FRAGMENTS) + 12
        values = hostile_values(count, seed=15)
        topic = Topic.objects.order_by("pk").first()
        tag = Tag.objects.order_by("pk").first()
        paper = Paper.objects.filter(status="published").order_by("pk").first()

        def one(value: str) -> None:
            q = quote(value, safe="")
            gets = [
                "/papers/?" + urlencode({"q": value}),
                "/papers/?" + urlencode({"tag": value}),
                "/papers/?" + urlencode({"page": value}),
                "/papers/?" + urlencode([("tag", tag.slug), ("tag", value), ("q", value)]),
                f"/papers/{q}/",
                f"/papers/{q}/report/",
                f"/tags/{q}/",
                f"/tags/{q}/feed/",
                f"/topics/{q}/",
                f"/topics/{q}/feed/",
                f"/topics/{topic.slug}/{q}/",
                f"/topics/{topic.slug}/2024-10-{q}/",
                "/subscribe/?" + urlencode({"tag": value, "topic": value}),
                f"/subscriptions/{q}/",
                f"/subscriptions/confirm/{q}/",
                f"/unsubscribe/{q}/",
                f"/language/{q}/?" + urlencode({"next": value}),
                "/language/en/?" + urlencode({"next": value}),
                "/feed/?" + urlencode({"page": value}),
                "/sitemap.xml?" + urlencode({"p": value}),
                f"/figures/{q}/",
            ]
            for url in gets:
                response = self.get(self.client, url)
                if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                    self.check_html(response.content.decode(errors="replace"), url)
            posts = [
                ("/subscribe/", {"email": value, "frequency": "daily", "tag": tag.slug}),
                ("/subscribe/", {"email": "a@example.org", "frequency": value, "topic": value}),
                (f"/papers/{paper.arxiv_id}/report/", {"message": value * 3, "contact": value}),
                (f"/subscriptions/{q}/", {"frequency": value}),
                (f"/unsubscribe/{q}/", {}),
            ]
            for url, data in posts:
                response = self.post(self.client, url, data)
                if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                    self.check_html(response.content.decode(errors="replace"), "POST " + url)

        def check():
            before = len(self.tally.errors)
            asked = self.tally.requests
            for value in values:
                one(value)
            errors = len(self.tally.errors) - before
            return errors == 0, f"{self.tally.requests - asked} requests, {errors} answered 500"

        self.fault("generated hostile input to every URL and form", "no 500, escaped", check)

    # ---------------------------------------------------------------- the end

    def final_checks(self) -> None:
        from django.db.models import Count

        from papers.models import DigestEntry, Paper, PipelineRun, Summary, TopicPaper

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
                self.worker_faults,
                self.hostile_data,
                self.check_pages,
                self.hostile_requests,
            ):
                self.stage(stage)
            if self.quick:
                print("Quick form: Redis faults not run (see the tests)", file=self.out)
            elif shutil.which("redis-server"):
                try:
                    redis.start()
                    self.stage(lambda: self.redis_faults(redis))
                finally:
                    redis.stop()
            else:
                print("redis-server is not installed: Redis faults not run", file=self.out)
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


HOLD_THE_TURN = """
import django, time
django.setup()
from papers.sources.politeness import arxiv_turn
with arxiv_turn():
    print("held", flush=True)
    time.sleep(120)
"""


def run_campaign(*, quick: bool = False, out=sys.stdout) -> Tally:
    """Run the campaign on the database Django is configured with (a test database)."""
    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        return Campaign(quick=quick, folder=Path(folder), out=out).run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short form the tests run")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest_site.settings")
    import logging
    import warnings

    import django

    django.setup()
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="No directory at")
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    started = time.monotonic()
    try:
        tally = run_campaign(quick=args.quick)
    finally:
        teardown_databases(databases, verbosity=0)
    print()
    print(tally.table())
    print()
    print(tally.summary())
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if tally.clean else 1


if __name__ == "__main__":
    sys.exit(main())
