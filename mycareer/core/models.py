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
