from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from mycareer.operations.backups import BackupError, backup_restore, restore_check


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


class Command(BaseCommand):
    help = (
        "Replace the SQLite database with a backup, after checking that the copy opens and "
        "that its migrations match this version. Stop web, workers and scheduler first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The backup (a mycareer-*.sqlite3 file).")
        parser.add_argument(
            "--yes", action="store_true", help="Do it without asking (the check still runs)."
        )
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="Accept a backup older than this version and migrate it forward afterwards.",
        )

    def handle(self, *args, file: Path, yes=False, migrate=False, **options):
        check = restore_check(file)
        if not check.opens:
            raise CommandError(f"{file} cannot be restored: {check.problems[0]}.")
        if check.unknown:
            raise CommandError(
                f"{file} was taken by a newer version of MyCareer: it has "
                f"{len(check.unknown)} migration(s) this version does not know "
                f"({_listed(check.unknown)}). Restore it with the version that took it."
            )
        if check.missing and not migrate:
            raise CommandError(
                f"{file} was taken by an older version of MyCareer: it lacks "
                f"{len(check.missing)} migration(s) ({_listed(check.missing)}). Run again "
                "with --migrate to restore it and bring it up to date."
            )
        self.stdout.write(f"{file} opens and its migrations match this version.")
        if not yes:
            answer = input(
                "This replaces the whole database with the backup (a copy of the current one "
                "is kept first). Type 'restore' to go ahead: "
            )
            if answer.strip() != "restore":
                raise CommandError("Nothing was changed.")
        try:
            before = backup_restore(path=file)
        except (BackupError, OSError) as error:
            raise CommandError(f"The restore failed: {error}") from error
        self.stdout.write(f"Restored {file}. The database as it was is kept at {before}.")
        if check.missing:
            call_command("migrate", interactive=False, verbosity=1)
