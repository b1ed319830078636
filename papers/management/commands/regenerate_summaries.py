from django.core.management.base import BaseCommand, CommandError

from papers import processing
from papers.models import Paper, split_arxiv_id


class Command(BaseCommand):
    help = (
        "Write the summaries of some papers again. Summaries an editor corrected (locked) are "
        "kept unless --discard-locks is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("arxiv_ids", nargs="*", help="papers to regenerate (arXiv ids)")
        parser.add_argument("--topic", help="every paper of this topic (its slug)")
        parser.add_argument("--stale", action="store_true", help="every paper with a stale summary")
        parser.add_argument(
            "--discard-locks",
            action="store_true",
            help="also rewrite summaries editors corrected (their text stays in the history)",
        )

    def handle(self, arxiv_ids, topic=None, stale=False, discard_locks=False, **options):
        papers = Paper.objects.none()
        if arxiv_ids:
            try:
                ids = [split_arxiv_id(value)[0] for value in arxiv_ids]
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            papers = papers | Paper.objects.filter(arxiv_id__in=ids)
            missing = set(ids) - set(
                Paper.objects.filter(arxiv_id__in=ids).values_list("arxiv_id", flat=True)
            )
            if missing:
                raise CommandError(f"Unknown papers: {', '.join(sorted(missing))}")
        if topic:
            papers = papers | Paper.objects.filter(topics__slug=topic)
        if stale:
            papers = papers | Paper.objects.filter(summaries__stale=True)
        if not (arxiv_ids or topic or stale):
            raise CommandError("Name papers by arXiv id, or use --topic or --stale.")
        report = processing.regenerate_summaries(papers.distinct(), discard_locks=discard_locks)
        for line in report.lines():
            self.stdout.write(line)
        if report.failed:
            raise CommandError(f"{len(report.failed)} paper(s) failed.")
