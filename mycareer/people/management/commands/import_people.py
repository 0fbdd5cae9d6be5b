"""manage.py import_people FILE [--dry-run]: people from the student record system."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mycareer.people.feed import plan_feed
from mycareer.people.models import FeedImport
from mycareer.people.reports import summary_lines
from mycareer.people.services import feed_import


class Command(BaseCommand):
    help = (
        "Import students and staff from the student record system's file (CSV or .xlsx). "
        "Idempotent; with --dry-run nothing is written. Rows MyCareer cannot use are "
        "listed and skipped; the exit status is 1 when any were."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what the file would change; write nothing."
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        try:
            if dry_run:
                summary = plan_feed(data=data, filename=file.name).summary()
            else:
                summary = feed_import(
                    data=data, filename=file.name, by=None, source=FeedImport.Source.COMMAND
                ).counts
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        for line in summary_lines(summary, dry_run=dry_run):
            self.stdout.write(line)
        if summary["skipped"]:
            raise CommandError(
                f"{summary['skipped']} row(s) were skipped: correct them in the student record "
                "system or add the programmes and units it names, then import again."
            )
