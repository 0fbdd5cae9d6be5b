"""What the administrators' status page reads: work queued and failed, jobs, workers,
the outbox, the database and the last backup. A fixed number of queries, however much
work the site has done (one per scheduled job at most)."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from mycareer.core.models import FailedTask, ScheduledRun
from mycareer.core.registry import daily_jobs, periodic_jobs
from mycareer.mailing.models import OutboxMessage
from mycareer.operations.models import Backup, Heartbeat

# A worker or scheduler not heard from for longer than this is shown as a problem.
SILENT_AFTER = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class JobRun:
    name: str
    schedule: str
    last_enqueued: datetime.datetime | None
    last_finished: datetime.datetime | None
    outcome: str  # "Successful", "Failed", "Running", "Waiting" or "" (not run yet)


def task_results():
    """django-tasks-db's results, when tasks are kept in the database (not with Redis)."""
    # Its table stays (the app is installed for its migrations) when TASKS_URL moves the
    # queue to Redis: counting that empty table would say nothing is queued.
    backend = str(settings.TASKS["default"]["BACKEND"])
    if not apps.is_installed("django_tasks_db") or not backend.startswith("django_tasks_db."):
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects


def task_counts() -> dict[str, Any] | None:
    """Tasks queued (ready now), waiting (to run later), running, and failed in the last day."""
    results = task_results()
    if results is None:
        return None
    from django_tasks_db.models import get_date_max

    now = timezone.now()
    # A task queued without a time to run after is stored with the latest date there is.
    ready_now = Q(status="READY") & (Q(run_after=get_date_max()) | Q(run_after__lte=now))
    later = Q(status="READY", run_after__gt=now) & ~Q(run_after=get_date_max())
    counts: dict[str, Any] = results.aggregate(
        queued=Count("pk", filter=ready_now),
        waiting=Count("pk", filter=later),
        running=Count("pk", filter=Q(status="RUNNING")),
        failed=Count(
            "pk", filter=Q(status="FAILED", finished_at__gte=now - datetime.timedelta(days=1))
        ),
        oldest_queued=Min("enqueued_at", filter=ready_now),
    )
    return counts


def recent_failed_tasks(limit: int = 10) -> list[dict[str, Any]]:
    """The last tasks that raised, with the last line of their error."""
    results = task_results()
    if results is None:
        return []
    failed = results.filter(status="FAILED").order_by("-finished_at")[:limit]
    return [
        {
            "task": result.task_path,
            "finished_at": result.finished_at,
            "error": _last_line(result.traceback) or result.exception_class_path,
        }
        for result in failed.only("task_path", "finished_at", "traceback", "exception_class_path")
    ]


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def failed_emails_count() -> int:
    return FailedTask.objects.filter(status=FailedTask.Status.FAILED).count()


def job_runs() -> list[JobRun]:
    """Each scheduled job: when the scheduler last queued it, when it last ended, and how."""
    results = task_results()
    runs = []
    jobs = [(job, f"daily from {job.hour:02d}:00") for job in daily_jobs()] + [
        (job, f"every {job.every_minutes} min") for job in periodic_jobs()
    ]
    for job, schedule in sorted(jobs, key=lambda pair: pair[0].name):
        last = None
        if results is not None:
            last = (
                results.filter(task_path=job.task.module_path)
                .order_by("-enqueued_at")
                .only("status", "enqueued_at", "finished_at")
                .first()
            )
        runs.append(
            JobRun(
                name=job.name,
                schedule=schedule,
                last_enqueued=last.enqueued_at if last else None,
                last_finished=last.finished_at if last else None,
                outcome=_OUTCOMES.get(last.status, last.status) if last else "",
            )
        )
    return runs


_OUTCOMES = {"SUCCESSFUL": "Succeeded", "FAILED": "Failed", "RUNNING": "Running", "READY": "Queued"}


def scheduler_last_check() -> datetime.datetime | None:
    """When a scheduler last queued anything (the heartbeat job makes that every minute)."""
    last: datetime.datetime | None = ScheduledRun.objects.aggregate(last=Max("enqueued_at"))["last"]
    return last


def workers_heard() -> list[Heartbeat]:
    """Worker processes heard from in the last day, latest first."""
    return list(Heartbeat.objects.all()[:50])


def outbox() -> dict[str, Any]:
    """Bulk email messages waiting or being sent, and how many went in the last hour."""
    now = timezone.now()
    counts = OutboxMessage.objects.aggregate(
        waiting=Count("pk", filter=Q(status=OutboxMessage.Status.PENDING)),
        sending=Count("pk", filter=Q(status=OutboxMessage.Status.SENDING)),
        last_hour=Count("pk", filter=Q(sent_at__gte=now - datetime.timedelta(hours=1))),
        last_ten_minutes=Count("pk", filter=Q(sent_at__gte=now - datetime.timedelta(minutes=10))),
    )
    counts["per_minute"] = round(counts["last_ten_minutes"] / 10, 1)
    counts["limit_per_second"] = settings.MYCAREER["BULK_EMAIL_RATE"]
    return counts


def database_size() -> int | None:
    """The database's size in bytes, as the database itself reports it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA page_size")
            return pages * int(cursor.fetchone()[0])
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    return None


def last_backups() -> dict[str, Backup | None]:
    """The last backup run, and the last that succeeded (the same one when all is well)."""
    latest = Backup.objects.first()
    succeeded = (
        latest
        if latest is not None and latest.status == Backup.Status.SUCCEEDED
        else Backup.objects.filter(status=Backup.Status.SUCCEEDED).first()
    )
    return {"latest": latest, "succeeded": succeeded}


def status() -> dict[str, Any]:
    """Everything the status page shows, with the problems first."""
    now = timezone.now()
    scheduler = scheduler_last_check()
    workers = workers_heard()
    backups = last_backups()
    problems = []
    if scheduler is None or scheduler < now - SILENT_AFTER:
        problems.append("No scheduler has queued any work in the last five minutes.")
    if not workers or workers[0].beat_at < now - SILENT_AFTER:
        problems.append("No task worker has run the heartbeat in the last five minutes.")
    latest = backups["latest"]
    if latest is not None and latest.status == Backup.Status.FAILED:
        problems.append("The last backup failed.")
    elif backups["succeeded"] is None or backups["succeeded"].started_at < now - datetime.timedelta(
        days=2
    ):
        problems.append("No backup has succeeded in the last two days.")
    return {
        "now": now,
        "problems": problems,
        "tasks": task_counts(),
        "failed_tasks": recent_failed_tasks(),
        "failed_emails": failed_emails_count(),
        "jobs": job_runs(),
        "scheduler": scheduler,
        "workers": workers,
        "silent_after": now - SILENT_AFTER,
        "outbox": outbox(),
        "database": {"vendor": connection.vendor, "size": database_size()},
        "backups": backups,
    }
