"""`python manage.py import_digest PATH...`: import Markdown digests (files or folders)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from papers.markdown.importer import import_files, markdown_files


class Command(BaseCommand):
    help = "Import Markdown digest posts (the legacy blog's format); folders are searched for .md"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Markdown files or folders")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar")

    def handle(self, *args, **options):
        paths = options["paths"]
        absent = [p for p in paths if not Path(p).exists()]
        if absent:
            raise CommandError(f"No such file or folder: {', '.join(absent)}")
        files = markdown_files(paths)
        if not files:
            raise CommandError("No Markdown files found in the paths given")

        def progress(items):
            return tqdm(
                items,
                desc="Importing",
                unit="post",
                disable=options["no_progress"],
                file=self.stderr,
            )

        reports = import_files(paths, progress=progress)
        failed = 0
        for report in reports:
            if report.errors:
                failed += 1
                for error in report.errors:
                    self.stderr.write(self.style.ERROR(error))
            else:
                self.stdout.write(report.line())
        self.stdout.write(f"{len(reports) - failed} of {len(reports)} posts imported")
        if failed:
            raise CommandError(f"{failed} post(s) could not be imported")
