from django.conf import settings
from django.db import models
from django.utils import timezone


class ScheduledRun(models.Model):
    """A daily job's run on one day; the unique key keeps several schedulers from doubling it."""

    job = models.CharField(max_length=100)
    day = models.DateField()
    enqueued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="unique_job_day")]

    def __str__(self) -> str:
        return f"{self.job} on {self.day}"


class FailedTask(models.Model):
    """A background task (an email) that failed for good, for administrators to try again."""

    class Status(models.TextChoices):
        FAILED = "failed", "Failed"
        RETRIED = "retried", "Tried again"

    task_path = models.CharField(max_length=300)
    description = models.CharField(max_length=300)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    # Messages the task had already sent: trying again does not send them twice.
    sent = models.JSONField(default=list)
    recipients = models.CharField(max_length=1000, blank=True)
    attempts = models.PositiveIntegerField()
    error = models.TextField()
    traceback = models.TextField(blank=True)
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FAILED)
    retried_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.description} ({self.failed_at:%Y-%m-%d %H:%M})"

    def retry(self, *, by) -> None:
        """Queue the task again from its first try; messages it already sent stay sent."""
        from django.utils.module_loading import import_string

        import_string(self.task_path).enqueue(*self.args, _sent=self.sent, **self.kwargs)
        self.status = self.Status.RETRIED
        self.retried_at = timezone.now()
        self.retried_by = by
        self.save(update_fields=["status", "retried_at", "retried_by"])
