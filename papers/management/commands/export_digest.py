"""`python manage.py export_digest TOPIC_SLUG YYYY-MM-DD [-o FILE]`: a digest as Markdown."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers.markdown.export import export_digest
from papers.models import Digest


class Command(BaseCommand):
    help = "Write one topic's digest of one date as Markdown in the legacy blog's layout"

    def add_arguments(self, parser):
        parser.add_argument("topic_slug")
        parser.add_argument("date", help="YYYY-MM-DD")
        parser.add_argument("-o", "--output", help="File to write (default: standard output)")

    def handle(self, *args, **options):
        try:
            date = dt.date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"Not a date (YYYY-MM-DD): {options['date']}") from exc
        digest = (
            Digest.objects.select_related("topic", "cover")
            .filter(topic__slug=options["topic_slug"], date=date)
            .first()
        )
        if digest is None:
            raise CommandError(f"No digest for topic {options['topic_slug']!r} on {date}")
        text = export_digest(digest)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}")
        else:
            self.stdout.write(text, ending="")
