"""The operations app's schedule: the workers' heartbeat, stalled tasks and the daily backup."""

import datetime
import logging
import os
import socket

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from mycareer.core.logs import log_event
from mycareer.core.registry import DailyJob, PeriodicJob
from mycareer.operations.alerts import task_failure_alert
from mycareer.operations.backups import backup_create
from mycareer.operations.models import Heartbeat
from mycareer.operations.selectors import task_results
from mycareer.operations.wiping import wipe_removed_data

logger = logging.getLogger(__name__)

# A process not heard from for this long is no longer listed.
FORGET_WORKERS_AFTER = datetime.timedelta(days=1)


@task()
def heartbeat() -> None:
    """Every minute: the worker process that runs it says it is alive (status page)."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(
        worker=f"{socket.gethostname()}:{os.getpid()}", defaults={"beat_at": now}
    )
    Heartbeat.objects.filter(beat_at__lt=now - FORGET_WORKERS_AFTER).delete()


def fail_stalled_tasks(now: datetime.datetime | None = None) -> int:
    """Mark failed each task "running" for longer than TASK_RUNNING_LIMIT_MINUTES.

    A worker killed in the middle of a task (SIGKILL, out of memory, its machine lost)
    never records an outcome, and django-tasks-db has no way to notice: the task would
    show as running for ever. Past the limit its worker is taken to be gone. Each is
    logged, alerted to the administrators like any failed task, and listed on the
    status page with the worker that had it. Returns how many were marked.
    """
    results = task_results()
    if results is None:  # the queue is in Redis: RQ sees its own abandoned jobs
        return 0
    now = now or timezone.now()
    minutes = settings.MYCAREER["TASK_RUNNING_LIMIT_MINUTES"]
    stalled = results.filter(
        status="RUNNING", started_at__lt=now - datetime.timedelta(minutes=minutes)
    ).only("pk", "task_path", "worker_ids", "started_at")
    marked = 0
    for result in stalled:
        worker = result.worker_ids[-1] if result.worker_ids else "unknown"
        error = (
            f"WorkerLost: its worker stopped ({worker} started it at "
            f"{result.started_at:%Y-%m-%d %H:%M} UTC and gave no outcome in {minutes} minutes)"
        )
        # Only if it is still running: a slow worker that finished meanwhile keeps its outcome.
        if not results.filter(pk=result.pk, status="RUNNING").update(
            status="FAILED",
            finished_at=now,
            exception_class_path="mycareer.operations.jobs.WorkerLost",
            traceback=error + "\n",
        ):
            continue
        marked += 1
        log_event(
            logger,
            "task.stalled",
            level=logging.WARNING,
            task=result.task_path,
            id=str(result.pk),
            worker=worker,
            started=result.started_at.isoformat(),
            limit_minutes=minutes,
        )
        task_failure_alert(
            kind=result.task_path,
            description=f"{result.task_path} (its worker stopped)",
            error=error,
        )
    return marked


@task()
def stalled_tasks() -> int:
    """Every five minutes: tasks whose worker stopped in the middle are marked failed."""
    return fail_stalled_tasks()


@task()
def daily_backup() -> dict[str, int]:
    """Daily: back up the database and keep the newest BACKUP_KEEP copies."""
    record = backup_create()
    return {"bytes": record.size_bytes or 0}


@task()
def wipe_removed() -> dict:
    """After an erasure or a retention run: the database's leftover copies of what was
    removed are wiped (`operations.wiping`)."""
    return wipe_removed_data()


def wipe_removed_soon() -> None:
    """Wipe the leftovers once the transaction that removed something has committed."""
    transaction.on_commit(wipe_removed.enqueue)


JOBS: tuple = (
    PeriodicJob("heartbeat", heartbeat, every_minutes=1),
    PeriodicJob("stalled-tasks", stalled_tasks, every_minutes=5),
)
if settings.MYCAREER["BACKUP_DAILY"]:
    JOBS += (DailyJob("backup", daily_backup, hour=settings.MYCAREER["BACKUP_HOUR"]),)
