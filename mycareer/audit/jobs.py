"""The audit app's schedule: the daily retention run."""

from django_tasks import task

from mycareer.audit.retention import retention_apply
from mycareer.core.registry import DailyJob


@task()
def apply_retention() -> dict:
    """The daily retention run."""
    return retention_apply()


JOBS = (DailyJob("retention", apply_retention, hour=2),)
