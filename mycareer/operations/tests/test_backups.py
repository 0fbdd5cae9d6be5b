"""Backups taken while people write, kept N deep, and restored only when they fit.

The backup runs against the real database of the run (SQLite here, PostgreSQL in
`make test-postgres`) while another thread commits a row at a time; the copy must hold
every row committed before the backup began, and be one consistent moment (no gaps).
"""

import datetime
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from mycareer.core.models import ScheduledRun
from mycareer.operations.backups import backups_on_disk
from mycareer.operations.jobs import daily_backup
from mycareer.operations.models import Backup

JOB = "backup-test-write"


@pytest.fixture
def backup_dir(tmp_path, settings):
    settings.MYCAREER = {**settings.MYCAREER, "BACKUP_DIR": str(tmp_path / "backups")}
    return tmp_path / "backups"


class Writer(threading.Thread):
    """Commits one numbered row after another until stopped; `committed` counts them."""

    def __init__(self):
        super().__init__(daemon=True)
        self.committed = 0
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        today = timezone.localdate()
        try:
            while not self.stopping.is_set():
                ScheduledRun.objects.create(job=f"{JOB}-{self.committed}", day=today)
                self.committed += 1  # after the commit returned
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            self.error = error
        finally:
            connection.close()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 120
        while self.committed < count and self.error is None:
            assert time.monotonic() < deadline, "the writer stopped writing"
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)
        assert self.error is None, self.error


def numbers(jobs) -> set[int]:
    return {int(job.rsplit("-", 1)[1]) for job in jobs}


def rows_in_backup(path: str) -> set[int]:
    """The numbered rows in a backup, read the way an operator would restore it."""
    if connection.vendor == "sqlite":
        with sqlite3.connect(path) as copy:
            jobs = [row[0] for row in copy.execute("SELECT job FROM core_scheduledrun")]
        return numbers(job for job in jobs if job.startswith(JOB))
    # PostgreSQL: pg_restore into a scratch database, then count there.
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"]}
    where = ["-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"]]
    scratch = f"{db['NAME']}_restored"
    subprocess.run(["dropdb", *where, "--if-exists", scratch], env=env, check=True)  # noqa: S603, S607
    subprocess.run(["createdb", *where, scratch], env=env, check=True)  # noqa: S603, S607
    try:
        subprocess.run(  # noqa: S603
            ["pg_restore", "--no-owner", "--exit-on-error", *where, "-d", scratch, path],  # noqa: S607
            env=env,
            check=True,
        )
        out = subprocess.run(  # noqa: S603
            ["psql", *where, "-d", scratch, "-AtX", "-c", "SELECT job FROM core_scheduledrun"],  # noqa: S607
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    finally:
        subprocess.run(["dropdb", *where, "--if-exists", scratch], env=env, check=True)  # noqa: S603, S607
    return numbers(job for job in out if job.startswith(JOB))


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_writes_go_on_holds_every_row_committed_before_it(backup_dir):
    writer = Writer()
    writer.start()
    writer.wait_for(30)
    before = writer.committed
    record = call_backup()
    after = writer.committed
    writer.wait_for(after + 20)  # writes went on after the backup too
    writer.stop()

    rows = rows_in_backup(record.path)
    assert set(range(before)) <= rows  # every row committed before the backup began
    assert rows == set(range(len(rows)))  # one consistent moment: no row missing between
    assert len(rows) <= after + 1  # (one commit may have been under way as it ended)
    assert record.status == Backup.Status.SUCCEEDED and record.size_bytes > 0

    if connection.vendor == "sqlite":
        call_command("restore", record.path, yes=True)
        restored = numbers(
            ScheduledRun.objects.filter(job__startswith=JOB).values_list("job", flat=True)
        )
        # Exactly the backup's rows: the ones written after it are gone.
        assert restored == rows
        assert writer.committed > len(rows)
        assert any(
            path.name.startswith("mycareer-before-restore-") for path in backup_dir.iterdir()
        )
    else:
        with pytest.raises(CommandError, match="restore"):
            call_command("restore", record.path, yes=True)


def call_backup() -> Backup:
    call_command("backup")
    return Backup.objects.order_by("-started_at").first()


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_keeps_the_newest_copies_only(backup_dir, settings, run_worker):
    settings.MYCAREER = {**settings.MYCAREER, "BACKUP_KEEP": 2}
    # All within one second, the hardest case for naming them in order.
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(4):
            daily_backup.enqueue()
            run_worker()
    kept = backups_on_disk(backup_dir)
    assert len(kept) == 2
    records = list(Backup.objects.order_by("started_at"))
    assert len(records) == 4 and {r.status for r in records} == {Backup.Status.SUCCEEDED}
    # The two kept are the last two taken.
    assert sorted(str(p) for p in kept) == sorted(r.path for r in records[2:])


@pytest.mark.django_db
def test_a_failed_backup_is_recorded_and_said(backup_dir, settings):
    backup_dir.parent.mkdir(exist_ok=True)
    backup_dir.write_text("a file where the folder should be")
    with pytest.raises(CommandError, match="The backup failed"):
        call_command("backup")
    failed = Backup.objects.get()
    assert failed.status == Backup.Status.FAILED and failed.error


def mycareer_like_file(path: Path, *, extra: str = "", drop: str = "") -> Path:
    """A small SQLite file whose migrations table says what a MyCareer backup's would."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    with sqlite3.connect(path) as copy:
        copy.execute("CREATE TABLE django_migrations (app TEXT, name TEXT, applied TEXT)")
        rows = [(app, name) for app, name in known if f"{app}.{name}" != drop]
        if extra:
            rows.append(tuple(extra.split(".", 1)))
        copy.executemany(
            "INSERT INTO django_migrations VALUES (?, ?, ?)",
            [(app, name, datetime.datetime.now(tz=datetime.UTC).isoformat()) for app, name in rows],
        )
    return path


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_database(tmp_path):
    bogus = tmp_path / "mycareer-20261201T020000Z.sqlite3"
    bogus.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CommandError, match="does not open as an SQLite database"):
        call_command("restore", bogus, yes=True)
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", tmp_path / "missing.sqlite3", yes=True)


@pytest.mark.django_db
def test_restore_refuses_a_backup_from_a_newer_version(tmp_path):
    newer = mycareer_like_file(tmp_path / "newer.sqlite3", extra="operations.9999_from_the_future")
    with pytest.raises(CommandError, match="newer version.*operations.9999_from_the_future"):
        call_command("restore", newer, yes=True)


@pytest.mark.django_db
def test_restore_refuses_an_older_backup_unless_asked_to_migrate_it(tmp_path):
    older = mycareer_like_file(
        tmp_path / "older.sqlite3", drop="operations.0001_heartbeats_backups_task_alerts"
    )
    with pytest.raises(CommandError, match="older version.*--migrate"):
        call_command("restore", older, yes=True)


@pytest.mark.django_db
def test_restore_asks_first_and_changes_nothing_without_yes(tmp_path, monkeypatch):
    same = mycareer_like_file(tmp_path / "same.sqlite3")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("restore", same)
