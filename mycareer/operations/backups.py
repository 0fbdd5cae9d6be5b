"""Backups of the database: taken while the site runs, kept N deep, restored with checks.

SQLite is copied with its online backup API, which reads one consistent snapshot while
others go on writing (WAL mode). PostgreSQL is dumped with `pg_dump` (custom format, for
`pg_restore`). Each backup is written under a temporary name and renamed when complete,
so a half-written file never looks like a backup; then the oldest are deleted beyond
BACKUP_KEEP. Every run is recorded (`Backup`) for the status page.
"""

import datetime
import logging
import os
import re
import socket
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from mycareer.core.logs import log_event
from mycareer.operations.models import Backup

logger = logging.getLogger(__name__)

PREFIX = "mycareer-"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead, with the reason for the operator."""


def backup_directory() -> Path:
    return Path(settings.MYCAREER["BACKUP_DIR"])


def backup_create(
    *, directory: Path | None = None, keep: int | None = None, using: str = "default"
) -> Backup:
    """Copy the database to a dated file in `directory`, then keep only the `keep` newest."""
    directory = Path(directory or backup_directory())
    keep = settings.MYCAREER["BACKUP_KEEP"] if keep is None else keep
    started = timezone.now()
    vendor = connections[using].vendor
    record = Backup(started_at=started, host=socket.gethostname())
    try:
        if vendor not in SUFFIXES:
            raise BackupError(f"MyCareer cannot back up a {vendor} database.")
        directory.mkdir(parents=True, exist_ok=True)
        target = _new_name(directory, started, SUFFIXES[vendor])
        partial = target.with_name(f".{target.name}.partial")
        if vendor == "sqlite":
            _copy_sqlite(connections[using].settings_dict["NAME"], partial)
        else:
            _dump_postgresql(connections[using].settings_dict, partial)
        os.replace(partial, target)
        record.path, record.size_bytes = str(target), target.stat().st_size
        record.status = Backup.Status.SUCCEEDED
    except Exception as error:
        record.status, record.error = Backup.Status.FAILED, f"{type(error).__name__}: {error}"
        record.finished_at = timezone.now()
        record.save(using=using)
        log_event(logger, "backup.failed", level=logging.ERROR, error=type(error).__name__)
        if "partial" in locals():
            partial.unlink(missing_ok=True)
        raise
    record.finished_at = timezone.now()
    record.save(using=using)
    removed = prune_backups(directory=directory, keep=keep)
    log_event(
        logger,
        "backup.taken",
        vendor=vendor,
        bytes=record.size_bytes,
        duration_ms=round((record.finished_at - started).total_seconds() * 1000),
        removed=len(removed),
    )
    return record


def _new_name(directory: Path, moment: datetime.datetime, suffix: str) -> Path:
    """`mycareer-<UTC time><suffix>`; a second one within the same second is numbered
    after the highest number there, so names keep the order the backups were taken in
    even after the oldest of that second were deleted."""
    stamp = moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    same_second = [
        number for taken, number in map(_taken_at, backups_on_disk(directory)) if taken == stamp
    ]
    if not same_second:
        return directory / f"{PREFIX}{stamp}{suffix}"
    return directory / f"{PREFIX}{stamp}-{max(same_second) + 1}{suffix}"


def _copy_sqlite(source_path: str, target: Path) -> None:
    source = sqlite3.connect(source_path, timeout=60)
    destination = sqlite3.connect(target)
    try:
        # One step: a single consistent snapshot; in WAL mode writers are not held up.
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        destination.close()
        source.close()
    problems = check_sqlite_file(target)
    if problems:
        raise BackupError(f"The copy failed its check: {problems[0]}")


def _dump_postgresql(db: dict, target: Path) -> None:
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command.append(f"{option}={db[key]}")
    command.append(str(db["NAME"]))
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[-500:]}")


def backups_on_disk(directory: Path | None = None) -> list[Path]:
    """The complete backups in `directory`, newest first (copies made before a restore too)."""
    directory = Path(directory or backup_directory())
    if not directory.is_dir():
        return []
    found = [
        path
        for path in directory.iterdir()
        if path.name.startswith(PREFIX) and path.suffix in SUFFIXES.values()
    ]
    return sorted(found, key=_taken_at, reverse=True)


def _taken_at(path: Path) -> tuple[str, int]:
    """A backup's time stamp and number within that second, from its name."""
    found = re.search(r"(\d{8}T\d{6}Z)(?:-(\d+))?\.", path.name)
    return (found[1], int(found[2] or 1)) if found else ("", 0)


def backups_taken_before(moment: datetime.datetime, directory: Path | None = None) -> list[Path]:
    """The backups on disk taken before `moment`: they hold what was erased at it."""
    stamp = moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return [path for path in backups_on_disk(directory) if _taken_at(path)[0] < stamp]


def is_before_restore(path: Path) -> bool:
    """A copy made before a restore, which no pruning deletes."""
    return path.name.startswith(_BEFORE)


def prune_backups(*, directory: Path, keep: int) -> list[Path]:
    """Delete the dated backups beyond the `keep` newest; return what was deleted."""
    dated = [path for path in backups_on_disk(directory) if not is_before_restore(path)]
    removed = dated[max(keep, 1) :]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


# Restoring (SQLite) --------------------------------------------------------------------

_BEFORE = f"{PREFIX}before-restore-"


@dataclass
class RestoreCheck:
    """What a backup file holds, compared with this version of MyCareer."""

    path: Path
    problems: list[str] = field(default_factory=list)
    # Migrations this version has that the backup lacks (an older backup), and the reverse.
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def opens(self) -> bool:
        return not self.problems

    @property
    def migrations_match(self) -> bool:
        return not self.missing and not self.unknown


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def check_sqlite_file(path: Path) -> list[str]:
    """Why the file is not a sound SQLite database (an empty list when it is)."""
    try:
        with closing(_read_only(path)) as copy:
            result = copy.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                return [f"the database check says: {result}"]
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
            if "django_migrations" not in tables:
                return ["it has no migrations table: it is not a MyCareer database"]
    except sqlite3.DatabaseError as error:
        return [f"it does not open as an SQLite database ({error})"]
    return []


def restore_check(path: Path) -> RestoreCheck:
    """Whether `path` opens as a sound database, and whether its migrations match the code's."""
    path = Path(path)
    check = RestoreCheck(path=path)
    if not path.is_file():
        check.problems.append("there is no such file")
        return check
    check.problems = check_sqlite_file(path)
    if check.problems:
        return check
    with closing(_read_only(path)) as copy:
        rows = copy.execute("SELECT app, name FROM django_migrations").fetchall()
    applied = {(app, name) for app, name in rows}
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    check.missing = sorted(f"{app}.{name}" for app, name in known - applied)
    check.unknown = sorted(f"{app}.{name}" for app, name in applied - known)
    return check


def backup_restore(*, path: Path, using: str = "default") -> Path:
    """Replace the SQLite database with the backup at `path`; return the copy taken first.

    The current database is first copied beside the backups (`mycareer-before-restore-…`),
    so a restore can itself be undone. Stop the web, worker and scheduler processes first.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        raise BackupError(
            "manage.py restore restores SQLite databases; for PostgreSQL use pg_restore "
            "(see docs/deployment.md)."
        )
    check = restore_check(path)
    if not check.opens:
        raise BackupError(f"{path} cannot be restored: {check.problems[0]}.")
    live = connection.settings_dict["NAME"]
    directory = backup_directory()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    before = directory / f"{_BEFORE}{stamp}.sqlite3"
    _copy_sqlite(live, before)
    connection.close()
    source = _read_only(path)
    destination = sqlite3.connect(live, timeout=60)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    log_event(logger, "backup.restored", missing_migrations=len(check.missing))
    return before
