"""The operations app's schedule: the workers' heartbeat and the daily backup."""

import datetime
import os
import socket

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from mycareer.core.registry import DailyJob, PeriodicJob
from mycareer.operations.backups import backup_create
from mycareer.operations.models import Heartbeat

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


@task()
def daily_backup() -> dict[str, int]:
    """Daily: back up the database and keep the newest BACKUP_KEEP copies."""
    record = backup_create()
    return {"bytes": record.size_bytes or 0}


JOBS: tuple = (PeriodicJob("heartbeat", heartbeat, every_minutes=1),)
if settings.MYCAREER["BACKUP_DAILY"]:
    JOBS += (DailyJob("backup", daily_backup, hour=settings.MYCAREER["BACKUP_HOUR"]),)
