from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last time a task worker process ran the heartbeat task (one row per process)."""

    worker = models.CharField(max_length=200, unique=True)  # "host:pid"
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Backup(models.Model):
    """One run of `manage.py backup` (or the daily backup job), kept for the status page."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    host = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Backup {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class TaskAlert(models.Model):
    """When administrators were last emailed about a kind of failed task.

    One row per kind (the task's dotted path): a kind is emailed at most once an hour,
    however many processes see it fail; failures in between are counted, not emailed.
    """

    kind = models.CharField(max_length=300, unique=True)
    last_sent_at = models.DateTimeField()
    # Failures of this kind since the last email, not emailed on their own.
    held_back = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind} (last emailed {self.last_sent_at:%Y-%m-%d %H:%M})"
