"""Enqueue each registered daily job once per day, however many schedulers run."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from mycareer.core.logs import logged_job
from mycareer.core.models import ScheduledRun
from mycareer.core.registry import daily_jobs, periodic_jobs

logger = logging.getLogger(__name__)


def enqueue_due_jobs(*, now=None) -> list[str]:
    """Enqueue the daily jobs that are due and not yet run today; return their names.

    Each check leaves one line: when it started, its outcome, how long it took and what
    it enqueued.
    """
    with logged_job(logger, "scheduler.check") as outcome:
        enqueued = _enqueue_due_jobs(now=now)
        outcome["enqueued"] = ",".join(enqueued) or "-"
    return enqueued


def _enqueue_due_jobs(*, now=None) -> list[str]:
    now = timezone.localtime(now or timezone.now())
    enqueued = []
    for job in daily_jobs():
        if now.hour < job.hour:
            continue
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(job=job.name, day=now.date(), enqueued_at=now)
                transaction.on_commit(job.task.enqueue)
        except IntegrityError:
            continue
        enqueued.append(job.name)
    minute = now.hour * 60 + now.minute
    for periodic in periodic_jobs():
        bucket = minute - minute % max(1, periodic.every_minutes)
        try:
            with transaction.atomic():
                # One row per job and time slot keeps several schedulers from doubling it.
                ScheduledRun.objects.create(
                    job=f"{periodic.name}@{bucket:04d}", day=now.date(), enqueued_at=now
                )
                transaction.on_commit(periodic.task.enqueue)
        except IntegrityError:
            continue
        enqueued.append(periodic.name)
    return enqueued
