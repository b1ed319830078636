"""The chaos campaign's faults with real processes (`make chaos` only, not the short form).

A real Celery prefork worker (tools.chaos.own_worker) is SIGKILLed in the middle of a paper's
summary, at every attempt on one paper, and in the middle of building a digest; a decompression
bomb goes through it; and the campaign's own PostgreSQL (tools.chaos.own_postgres) is restarted in
the middle of a run while gunicorn (tools.chaos.own_site) serves pages. All of it runs on that
cluster and on the campaign's own Redis, never on the machine's servers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from tools.chaos import LONG_AGO
from tools.chaos.faults import BOMB_SECONDS, LLM_ANSWER
from tools.chaos.own_postgres import OwnPostgres, unavailable_reason
from tools.chaos.own_redis import OwnRedis
from tools.chaos.own_site import OwnSite
from tools.chaos.own_worker import OwnWorker, wait_for

# How long the campaign's PostgreSQL stays down in the middle of a run.
DOWN_SECONDS = 6


class RealProcessFaults:
    """The faults that need real worker and server processes (a part of the Campaign)."""

    # ---------------------------------------------------------------- the environment

    def real_process_faults(self, redis: OwnRedis) -> None:
        reason = unavailable_reason()
        if reason:
            print(f"{reason}: real-worker and PostgreSQL faults not run", file=self.out)
            return
        postgres = OwnPostgres()
        # This stage's papers live in another database: they are checked at its end.
        saved = self.expected_papers, self.processed
        self.expected_papers, self.processed = {}, set()
        try:
            postgres.start()
            with self.own_database(postgres), self.broker(redis.url):
                env = self.process_env(postgres, redis)
                self.worker = OwnWorker(env, self.folder / "worker.log")
                self.site = OwnSite(env, self.folder / "site.log")
                self.postgres = postgres
                failures = sum(not o.survived for o in self.tally.outcomes)
                try:
                    self.worker.start()
                    self.stage(self.worker_kills)
                    self.site.start()
                    self.stage(self.database_restart)
                finally:
                    self.worker.stop()
                    self.site.stop()
                if sum(not o.survived for o in self.tally.outcomes) > failures:
                    self.show_logs()
                self.final_checks()
        finally:
            self.expected_papers, self.processed = saved
            postgres.stop()

    @contextlib.contextmanager
    def own_database(self, postgres: OwnPostgres) -> Iterator[None]:
        """This process's default database is the campaign's cluster, migrated, meanwhile."""
        from django.core.management import call_command
        from django.db import connections
        from django.db.utils import load_backend

        previous = connections["default"]
        settings = {
            **previous.settings_dict,
            "ENGINE": "django.db.backends.postgresql",
            "OPTIONS": {},
            "PASSWORD": "",
            "CONN_MAX_AGE": 0,
            **postgres.settings,
        }
        connections["default"] = load_backend(settings["ENGINE"]).DatabaseWrapper(settings)
        try:
            call_command("migrate", verbosity=0, interactive=False)
            yield
        finally:
            connections["default"].close()
            connections["default"] = previous

    @contextlib.contextmanager
    def broker(self, url: str) -> Iterator[None]:
        """Tasks this process queues go to the real workers meanwhile."""
        from digest_site.celery import app

        saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
        app.conf.update(broker_url=url, task_always_eager=False)
        # Connections made to the broker named before are dropped, as in a forked process.
        app._after_fork()
        try:
            yield
        finally:
            app.conf.update(saved)
            app._after_fork()

    def process_env(self, postgres: OwnPostgres, redis: OwnRedis) -> dict[str, str]:
        return {
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "ARXIV_API_URL": self.arxiv.api_url,
            "ARXIV_OAI_URL": self.arxiv.url + "/oai",
            "ARXIV_DELAY_SECONDS": "0",
            "ARXIV_TIMEOUT_SECONDS": "20",
            "ARXIV_LOCK_TIMEOUT_SECONDS": "3",
            "LLM_BASE_URL": self.llm.url,
            "LLM_API_KEY": "chaos",
            "LLM_MODEL": "chaos-model",
            "LLM_TIMEOUT": "60",
            "MEDIA_ROOT": str(self.folder / "served-media"),
            "PRIVATE_MEDIA_ROOT": str(self.folder / "served-private"),
        }

    def show_logs(self) -> None:
        for name in ("worker.log", "site.log"):
            path = self.folder / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-40:]
                print(f"--- the last lines of {name}", *tail, sep="\n", file=self.out)

    # ---------------------------------------------------------------- helpers

    def state_of(self, paper_id: int) -> str:
        from papers.models import Paper

        return Paper.objects.filter(pk=paper_id).values_list("state", flat=True).first() or ""

    def settled(self, paper_id: int) -> bool:
        from papers.models import Paper

        return self.state_of(paper_id) in (Paper.State.DONE, Paper.State.FAILED)

    def stored_pdfs(self, arxiv_id: str) -> int:
        folder = self.folder / "served-private"
        return len(list(folder.rglob(f"{arxiv_id.replace('/', '_')}*.pdf")))

    def waiting_paper(self, topic, pdf: Path | None = None):
        """A paper of `topic` whose metadata is stored and whose PDF is served."""
        from tests.arxiv_server import Answer

        arxiv_id = self.arxiv_id()
        pdf_url = self.serve_pdf(arxiv_id)
        if pdf is not None:
            self.arxiv.files[f"/pdf/{arxiv_id}v1"] = Answer(
                pdf.read_bytes(), content_type="application/pdf"
            )
        return self.stored_paper(
            arxiv_id,
            "Worker fault",
            abstract="We study talking heads in great detail. It works. The code is public.",
            pdf_url=pdf_url,
            topic=topic,
        )

    def served_entries(self, count: int) -> tuple[list[str], list[str]]:
        """Atom entries of new papers whose PDFs are served."""
        from tests.arxiv_server import entry

        ids = [self.arxiv_id() for _ in range(count)]
        abstract = "We study talking heads in great detail. " * 8
        return ids, [entry(i, abstract=abstract, pdf_url=self.serve_pdf(i)) for i in ids]

    def expect_processed(self, ids: list[str]) -> None:
        from papers.models import Paper

        self.processed.update(Paper.objects.filter(arxiv_id__in=ids).values_list("pk", flat=True))

    # ---------------------------------------------------------------- a worker dies

    def worker_kills(self) -> None:
        from papers import tasks
        from papers.models import Digest, Paper, PipelineRun

        worker = self.worker

        def mid_summary():
            paper = self.waiting_paper(self.topic(summarizer="openai"))
            self.llm.script.clear()
            self.llm.stall(30)
            self.llm.reply_json(LLM_ANSWER)
            asked = len(self.llm.requests)
            tasks.process_paper.delay(paper.pk)
            wait_for(lambda: len(self.llm.requests) > asked, 60, "the summary to be asked for")
            killed = worker.kill_pool_process()
            waited = wait_for(lambda: self.settled(paper.pk), 90, "the paper to be processed")
            paper.refresh_from_db()
            backends = list(paper.summaries.values_list("backend", flat=True))
            figures, files = paper.figures.count(), self.stored_pdfs(paper.arxiv_id)
            replaced = worker.pool_process() != killed
            ok = (
                paper.state == Paper.State.DONE
                and backends == ["openai"]
                and figures == 1
                and files == 1
                and replaced
            )
            return ok, (
                f"killed while the LLM wrote; {waited:.0f} s later {paper.state}, summaries "
                f"{backends}, {figures} figure, {files} PDF file, pool process replaced: {replaced}"
            )

        self.fault(
            "worker SIGKILLed mid-paper (summarizing)",
            "paper done once, by the retried task",
            mid_summary,
        )

        def every_attempt():
            paper = self.waiting_paper(self.topic(summarizer="openai"))
            self.llm.script.clear()
            attempts = 1 + tasks.RELIABLE["max_retries"]
            for _ in range(attempts):
                self.llm.stall(30)
            seen = len(self.llm.requests)
            tasks.process_paper.delay(paper.pk)
            for attempt in range(attempts):
                wait_for(
                    lambda seen=seen: len(self.llm.requests) > seen, 60, f"attempt {attempt + 1}"
                )
                seen = len(self.llm.requests)
                worker.kill_pool_process()
            try:
                wait_for(lambda: self.settled(paper.pk), 30, "the paper to be recorded")
            except TimeoutError:
                pass
            paper.refresh_from_db()
            ok = (
                paper.state == Paper.State.FAILED
                and paper.last_error
                and paper.next_attempt_at is not None
            )
            return ok, f"killed {attempts} times: {paper.state}: {paper.last_error[:70]}"

        self.fault(
            "worker SIGKILLed at every attempt on a paper",
            "paper failed with error, retried later",
            every_attempt,
        )

        def mid_digest():
            import psycopg

            from tests.arxiv_server import atom_feed

            topic = self.topic()
            ids, entries = self.served_entries(2)
            self.arxiv.answers = [atom_feed(entries)]
            # An editor's long transaction holds the digests' papers: the worker building the
            # digest waits inside it, and dies there.
            with psycopg.connect(self.postgres.url) as editor:
                editor.execute("LOCK TABLE papers_digestentry IN EXCLUSIVE MODE")
                tasks.fetch_topic.delay(topic.pk, since=LONG_AGO.isoformat())
                wait_for(self.building_a_digest, 60, "the digest to be built")
                worker.kill_pool_process()
                editor.rollback()

            def finished() -> bool:
                done = Paper.objects.filter(arxiv_id__in=ids, state=Paper.State.DONE).count()
                return topic.runs.filter(status="succeeded").exists() and done == len(ids)

            waited = wait_for(finished, 90, "the run to be done again", every=0.3)
            ok, stored = self.expect_stored(ids)
            self.expect_processed(ids)
            runs = [(run.status, run.errors) for run in topic.runs.order_by("started_at", "pk")]
            closed = runs[0][0] == PipelineRun.State.FAILED and "later run" in str(runs[0][1])
            digests = list(Digest.objects.filter(topic=topic))
            entries = [list(d.entries.values_list("paper__arxiv_id", flat=True)) for d in digests]
            ok = ok and closed and entries == [ids] and digests[0].is_published
            return ok, (
                f"{waited:.0f} s later: runs {[status for status, _ in runs]}, killed one "
                f"closed: {closed}; {len(digests)} digest(s) with {[len(e) for e in entries]} "
                f"papers; {stored}"
            )

        self.fault(
            "worker SIGKILLed mid-digest",
            "run closed by the next, digest built once",
            mid_digest,
        )

        def bomb():
            from tools import badpdfs

            bombed = badpdfs.make_bomb_image_pdf(self.pdf_path(), self.folder / "bomb-2.pdf")
            paper = self.waiting_paper(self.topic(), pdf=bombed)
            before = worker.pool_process()
            tasks.process_paper.delay(paper.pk)
            took = wait_for(lambda: self.settled(paper.pk), 120, "the paper to be processed")
            paper.refresh_from_db()
            same = worker.pool_process() == before
            figures = paper.figures.count()
            ok = paper.state == Paper.State.DONE and figures == 0 and same
            ok = ok and took < BOMB_SECONDS + 5
            return ok, (
                f"{paper.state} after {took:.1f} s, {figures} figure(s), "
                f"the same pool process: {same}"
            )

        self.fault(
            "a decompression-bomb picture in a real worker",
            "done without it, the worker unharmed",
            bomb,
        )

    def building_a_digest(self) -> bool:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND relation = 'papers_digestentry'::regclass"
            )
            return cursor.fetchone()[0] > 0

    # ---------------------------------------------------------------- the database restarts

    def database_restart(self) -> None:
        from django.db import connection

        from papers.models import Digest, Paper, PipelineRun
        from tests.arxiv_server import Answer, atom_feed

        postgres = self.postgres

        def restarted():
            from papers import tasks

            topic = self.topic()
            ids, entries = self.served_entries(3)
            feed = atom_feed(entries)
            # arXiv is slow to answer: the database restarts while the run waits for it.
            self.arxiv.answers = [Answer(feed.body, delay=3), feed]
            pages = [*self.public_urls(), topic.get_absolute_url(), "/papers/?q=restart"]
            before = [self.fetch_page(url) for url in pages]
            asked = len(self.arxiv.queries())
            tasks.fetch_topic.delay(topic.pk, since=LONG_AGO.isoformat())
            wait_for(lambda: len(self.arxiv.queries()) > asked, 60, "the run to ask arXiv")
            connection.close()
            postgres.pause()
            during = []
            down_until = time.monotonic() + DOWN_SECONDS
            try:
                while time.monotonic() < down_until:
                    # The pages served before may come from the cache; a new search cannot.
                    fresh = f"/papers/?q=restart{len(during)}"
                    during += [self.fetch_page(url) for url in [*pages, fresh]]
            finally:
                postgres.resume()

            def finished() -> bool:
                done = Paper.objects.filter(arxiv_id__in=ids, state=Paper.State.DONE).count()
                return topic.runs.filter(status="succeeded").exists() and done == len(ids)

            try:
                waited = wait_for(finished, 150, "the run to be done", every=0.5)
            except TimeoutError:
                waited = -1
            after = [self.fetch_page(url) for url in pages]
            ok, stored = self.expect_stored(ids)
            self.expect_processed(ids)
            runs = [run.status for run in topic.runs.order_by("started_at", "pk")]
            digests = [
                list(d.entries.values_list("paper__arxiv_id", flat=True))
                for d in Digest.objects.filter(topic=topic)
            ]
            open_runs = topic.runs.filter(status=PipelineRun.State.RUNNING).count()
            ok = (
                ok
                and waited >= 0
                and set(before) == {200}
                and set(during) <= {200, 503}
                and 503 in during
                and set(after) == {200}
                and not open_runs
                and digests == [ids]
            )
            return ok, (
                f"pages while down {sorted(set(during))} ({len(during)} requests), after "
                f"{sorted(set(after))}; runs {runs}, done {waited:.0f} s after; "
                f"digests {[len(d) for d in digests]}; {stored}"
            )

        self.fault(
            "PostgreSQL restarted mid-run",
            "pages 503 or cached, run retried, all done once",
            restarted,
        )

    def fetch_page(self, url: str) -> int:
        """GET a page from the site's own server process; counted like the in-process ones."""
        import requests

        self.tally.requests += 1
        try:
            status = self.site.get(url).status_code
        except requests.RequestException as exc:
            self.tally.errors.append(f"no answer to GET {url[:100]}: {type(exc).__name__}")
            return 0
        if status >= 500 and status != 503:
            self.tally.errors.append(f"{status} GET {url[:120]} (gunicorn)")
        return status
