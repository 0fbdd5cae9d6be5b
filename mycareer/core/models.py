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
        """Queue the task again from its first try; who was already emailed is not again
        (core.mail's SentEmail markers)."""
        from django.utils.module_loading import import_string

        import_string(self.task_path).enqueue(*self.args, **self.kwargs)
        self.status = self.Status.RETRIED
        self.retried_at = timezone.now()
        self.retried_by = by
        self.save(update_fields=["status", "retried_at", "retried_by"])


class SentEmail(models.Model):
    """One recipient reached by one list of emails (`core.mail.send_email(once=...)`).

    Written as soon as the mail server accepted the message, so a task that runs again
    after failing or being stopped half-way skips the people already reached.
    """

    # What the list is: "usergroup.announcement:12", "bookings.employer_report:3".
    batch = models.CharField(max_length=200)
    # The message's recipients, lower-case and sorted (one address for most).
    recipient = models.CharField(max_length=500)
    # The person it was for, when it was for one person: a later list that must reach
    # exactly the people this one reached finds them by who they are, not by an
    # address that may since have changed. Empty on older markers and for addresses.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "recipient"], name="sent_once_per_batch")
        ]

    def __str__(self) -> str:
        return f"{self.batch} to {self.recipient}"
