from django_tasks import task

from mycareer.audit.retention import retention_apply


@task()
def apply_retention() -> dict:
    """The daily retention run."""
    return retention_apply()
