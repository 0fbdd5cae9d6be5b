from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mycareer.operations.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database while the site runs (SQLite's online backup, or pg_dump for "
        "PostgreSQL) to a dated file, then keep only the newest BACKUP_KEEP."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help="Folder for the backups (BACKUP_DIR).")
        parser.add_argument("--keep", type=int, help="Dated backups to keep (BACKUP_KEEP).")

    def handle(self, *args, dir=None, keep=None, **options):  # noqa: A002 (the option's name)
        if keep is not None and keep < 1:
            raise CommandError("--keep must be 1 or more: the backup just taken is kept.")
        try:
            record = backup_create(directory=dir, keep=keep)
        except (BackupError, OSError) as error:
            raise CommandError(f"The backup failed: {error}") from error
        self.stdout.write(f"Backed up to {record.path} ({record.size_bytes:,} bytes).")
