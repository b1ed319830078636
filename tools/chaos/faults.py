"""The faults of the chaos campaign, as stages of the Campaign.

A local arXiv (API, OAI-PMH, PDFs), a local LLM and local mail servers misbehave in every way
seen in the wild, workers die, and a Redis of the campaign's own (tools.chaos.own_redis) is
stopped and restarted while pages are served.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tools.chaos import LONG_AGO, ROOT
from tools.chaos.hostile import BIDI, IMG, SCRIPT, strings
from tools.chaos.own_redis import OwnRedis

# A good answer of the LLM, in the fields of a summary.
LLM_ANSWER = {
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

# What processing a paper whose picture is a decompression bomb may cost at most (drawing the
# picture would take minutes and gigabytes).
BOMB_SECONDS = 10
BOMB_MEGABYTES = 300

HOLD_THE_TURN = """
import django, time
django.setup()
from papers.sources.politeness import arxiv_turn
with arxiv_turn():
    print("held", flush=True)
    time.sleep(120)
"""


class Faults:
    """The campaign's fault stages (a part of tools.chaos.campaign.Campaign)."""

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
        from tools import badpdfs

        source = self.pdf_path()
        body = source.read_bytes()

        def paper_with(answer: Answer, **settings) -> Paper:
            arxiv_id = self.arxiv_id()
            path = f"/pdf/{arxiv_id}v1"
            self.arxiv.files[path] = answer
            paper = self.stored_paper(
                arxiv_id,
                "PDF fault",
                abstract="We study talking heads in great detail.",
                pdf_url=self.arxiv.url + path,
            )
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
        encrypted_path = badpdfs.make_encrypted_pdf(source, self.folder / "encrypted.pdf")
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

        def bomb():
            bombed = badpdfs.make_bomb_image_pdf(source, self.folder / "bomb.pdf")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.monotonic()
            paper = paper_with(Answer(bombed.read_bytes(), content_type="application/pdf"))
            took = time.monotonic() - started
            grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) // 1024
            figures = paper.figures.count()
            ok = (
                paper.state == Paper.State.DONE
                and figures == 0
                and len(paper.full_text) > 1000
                and took < BOMB_SECONDS
                and grew < BOMB_MEGABYTES
            )
            return ok, (
                f"7.5 GB of pixels in {bombed.stat().st_size // 1024} kB: "
                f"{paper.state}, {figures} figure(s), text kept: {bool(paper.full_text)}, "
                f"extraction {took:.1f} s, peak memory +{grew} MB"
            )

        self.fault(
            "PDF with a decompression-bomb picture",
            f"done without it, < {BOMB_SECONDS} s, < {BOMB_MEGABYTES} MB more",
            bomb,
        )

    # ---------------------------------------------------------------- LLM

    def llm_faults(self) -> None:
        from papers import processing
        from papers.models import Paper

        topic = self.topic(summarizer="openai")
        answer = LLM_ANSWER

        def paper() -> Paper:
            arxiv_id = self.arxiv_id()
            return self.stored_paper(
                arxiv_id,
                "LLM fault",
                abstract="We study talking heads in great detail. It works. The code is public.",
                pdf_url=self.serve_pdf(arxiv_id),
                topic=topic,
            )

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

    # ---------------------------------------------------------------- mail

    def mail_faults(self) -> None:
        from django.test import override_settings
        from django.utils import timezone

        from papers import pipeline
        from papers.models import Frequency, MailSend, Subscriber, Subscription
        from papers.subscriptions import tasks as mail_tasks
        from tests.smtp_server import SilentServer, SmtpServer

        def published_digest_with_readers(*locals_: str):
            """A digest published today, then readers of its topic (the publication itself
            mailed nobody, so each fault starts from queueing)."""
            topic = self.topic()
            arxiv_id = self.arxiv_id()
            paper = self.stored_paper(
                arxiv_id,
                "Mail fault",
                abstract="We study talking heads in great detail.",
                processed=False,
            )
            digest = pipeline.assemble_digest(topic, timezone.now().date(), [paper])
            now = timezone.now()
            addresses = [f"{local}-{arxiv_id}@example.org" for local in locals_]
            for address in addresses:
                reader = Subscriber.objects.create(email=address, confirmed_at=now)
                Subscription.objects.create(
                    subscriber=reader, topic=topic, frequency=Frequency.DAILY, confirmed_at=now
                )
            return digest, addresses

        def server_at(port: int, timeout: float = 5):
            return override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=port,
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
                EMAIL_USE_TLS=False,
                EMAIL_USE_SSL=False,
                EMAIL_TIMEOUT=timeout,
            )

        def received(smtp, addresses: list[str]) -> list[int]:
            counts = [len(smtp.to(address)) for address in addresses]
            self.tally.duplicated += [
                f"{n} mails to {a}" for a, n in zip(addresses, counts, strict=True) if n > 1
            ]
            return counts

        def refused():
            digest, addresses = published_digest_with_readers("reader", "bounce", "other")
            with SmtpServer() as smtp, server_at(smtp.port):
                mail_tasks.send_digest_mails(digest.pk)
                # The scheduler's next turns: nothing is sent again, the refusal not retried.
                mail_tasks.send_queued_mails()
                mail_tasks.send_queued_mails()
                counts = received(smtp, addresses)
            bounced = MailSend.objects.select_related("subscriber").get(
                digest=digest, subscriber__email=addresses[1]
            )
            sent = MailSend.objects.filter(digest=digest, state=MailSend.State.SENT).count()
            ok = (
                counts == [1, 0, 1]
                and sent == 2
                and bounced.state == MailSend.State.FAILED
                and bounced.error.startswith("550")
                and bounced.attempts == 1
                and bounced.subscriber.failures == 1
            )
            return ok, (
                f"mails received {counts}; the refused one {bounced.state} after "
                f"{bounced.attempts} attempt(s) ({bounced.error[:12]}...), "
                f"bounces counted {bounced.subscriber.failures}"
            )

        self.fault(
            "SMTP refuses one recipient (550 on RCPT)",
            "others get theirs, refusal recorded, not retried",
            refused,
        )

        def silent():
            digest, addresses = published_digest_with_readers("first", "second", "third")
            with SilentServer() as server, server_at(server.port, timeout=1):
                started = time.monotonic()
                mail_tasks.send_digest_mails(digest.pk)
                took = time.monotonic() - started
            sends = list(MailSend.objects.filter(digest=digest).order_by("pk"))
            tried = [send for send in sends if send.attempts]
            waiting = all(send.state == MailSend.State.QUEUED for send in sends)
            later = all(send.next_attempt_at > timezone.now() for send in tried)
            error = tried[0].error.rpartition(": ")[2] if tried else ""
            # The server answers again, and the time for another attempt has come.
            MailSend.objects.filter(digest=digest).update(next_attempt_at=timezone.now())
            with SmtpServer() as smtp, server_at(smtp.port):
                mail_tasks.send_queued_mails()
                mail_tasks.send_queued_mails()
                counts = received(smtp, addresses)
            ok = (
                took < 4
                and len(tried) == 1
                and waiting
                and later
                and "timed out" in error
                and counts == [1, 1, 1]
            )
            return ok, (
                f"gave up after {took:.1f} s ({error[:30]}), {len(tried)} tried, all queued: "
                f"{waiting}, retry later: {later}; once back, mails received {counts}"
            )

        self.fault(
            "SMTP accepts and never answers",
            "EMAIL_TIMEOUT bounds it, queued, sent once later",
            silent,
        )

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
                    "BACKEND": "digest_site.redis_cache.RedisCache",
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
