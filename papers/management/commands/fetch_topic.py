import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from papers import pipeline, processing, tasks
from papers.database import DATABASE_ERRORS
from papers.models import Paper, Topic


def parse_date(value: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    except ValueError as exc:
        raise CommandError(f"--since must be a date like 2024-10-12, not {value!r}") from exc


def unreachable(exc: Exception) -> CommandError:
    return CommandError(f"The database could not be reached; run it again: {exc}")


class Command(BaseCommand):
    help = "Run one topic's pipeline now: fetch from arXiv, process each paper, build the digest."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the topic's slug")
        parser.add_argument("--since", help="fetch papers updated since this date (YYYY-MM-DD)")
        parser.add_argument("--max", type=int, dest="max_results", help="at most this many papers")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="hand the run to the Celery workers instead of running it here",
        )

    def handle(self, slug, since=None, max_results=None, queue=False, **options):
        topic = Topic.objects.filter(slug=slug).first()
        if topic is None:
            known = ", ".join(Topic.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No topic with slug {slug!r} (known: {known}).")
        if max_results is not None and max_results < 1:
            raise CommandError("--max must be at least 1")
        since_dt = parse_date(since) if since else None

        if queue:
            result = tasks.fetch_topic.delay(
                topic.pk, since_dt.isoformat() if since_dt else None, max_results
            )
            self.stdout.write(f"Queued {topic.name} as task {result.id}.")
            return

        self.stdout.write(f"Asking arXiv for {topic.name} ...")
        try:
            with tqdm(desc="fetch", unit=" papers", file=self.stderr, disable=None) as bar:
                outcome = pipeline.fetch_topic(
                    topic,
                    since=since_dt,
                    max_results=max_results,
                    progress=lambda arxiv_id, change: bar.update(1),
                )
        except DATABASE_ERRORS as exc:
            raise unreachable(exc) from exc
        run = outcome.run
        failed = run.failed
        for paper_id in tqdm(
            outcome.to_process, desc="process", unit=" papers", file=self.stderr, disable=None
        ):
            try:
                paper = processing.process_paper(paper_id)
            except DATABASE_ERRORS as exc:
                raise unreachable(exc) from exc
            if paper.state == Paper.State.FAILED:
                failed += 1
                self.stderr.write(f"  {paper.arxiv_id}: {paper.last_error}")
        if failed != run.failed:
            run.failed = failed
            run.save(update_fields=["failed"])

        rows = [
            ("returned", run.returned),
            ("excluded", len(run.excluded)),
            ("found", run.found),
            ("new", run.new),
            ("updated", run.updated),
            ("failed", failed),
        ]
        width = max(len(name) for name, _ in rows)
        self.stdout.write("")
        for name, value in rows:
            self.stdout.write(f"{name:<{width}}  {value:>5}")
        for rule, count in run.exclusion_counts.items():
            self.stdout.write(f"  excluded by {rule}: {count}")
        for digest in outcome.digests:
            self.stdout.write(f"digest   {digest.get_absolute_url()}")
        if run.note:
            self.stdout.write(run.note)
        for error in run.errors:
            self.stderr.write(self.style.ERROR(error))
        if run.status == run.State.FAILED:
            raise CommandError("The run failed; see the errors above.")
