"""Failed background tasks email the administrators: once per kind of task per hour.

A kind is the task's dotted path. Two sources count as a failure: a task that raised
(the worker's `task_finished` signal with the FAILED outcome) and an email task given
up after its retries (core.retry's `on_given_up`; such tasks report only that way).
However many processes see failures at once, the `TaskAlert` row for the kind lets one
of them email and makes the others count what they held back, which the next email
states.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.notifications import notify
from mycareer.accounts.selectors import administrators
from mycareer.core.logs import log_event
from mycareer.core.retry import email_task
from mycareer.operations.models import TaskAlert

logger = logging.getLogger(__name__)

TASK_FAILED = "operations.task_failed"
ALERT_EVERY = datetime.timedelta(hours=1)


def task_failure_alert(
    *, kind: str, description: str, error: str, now: datetime.datetime | None = None
) -> bool:
    """Queue an email to the administrators about a failed task, at most once an hour per kind.

    Returns whether an email was queued (False: this kind was emailed within the hour).
    """
    if kind == _ALERT_TASK_PATH:
        # The alert itself could not be sent: the failed emails page lists it.
        log_event(logger, "task.alert.skipped", level=logging.WARNING, task=kind)
        return False
    now = now or timezone.now()
    sent, held_back = _claim(kind, now)
    if not sent:
        log_event(logger, "task.alert.held_back", level=logging.WARNING, task=kind)
        return False
    stamp = now.isoformat(timespec="seconds")
    transaction.on_commit(
        lambda: send_task_failure_alert.enqueue(
            kind=kind,
            description=description[:300],
            error=error[:1000],
            held_back=held_back,
            stamp=stamp,
        )
    )
    log_event(logger, "task.alert.queued", level=logging.WARNING, task=kind, held_back=held_back)
    return True


def _claim(kind: str, now: datetime.datetime) -> tuple[bool, int]:
    """(whether this process emails about `kind` now, failures held back since the last)."""
    with transaction.atomic():
        alert = TaskAlert.objects.select_for_update().filter(kind=kind).first()
        if alert is None:
            try:
                with transaction.atomic():
                    TaskAlert.objects.create(kind=kind, last_sent_at=now)
                return True, 0
            except IntegrityError:  # another process made it first: it emails
                alert = TaskAlert.objects.select_for_update().get(kind=kind)
        if alert.last_sent_at > now - ALERT_EVERY:
            alert.held_back += 1
            alert.save(update_fields=["held_back"])
            return False, 0
        held_back = alert.held_back
        alert.last_sent_at, alert.held_back = now, 0
        alert.save(update_fields=["last_sent_at", "held_back"])
        return True, held_back


@email_task()
def send_task_failure_alert(
    *, kind: str, description: str, error: str, held_back: int, stamp: str
) -> int:
    """Tell the administrators that a background task failed."""
    sent = 0
    for admin in administrators():
        sent += notify(
            user=admin,
            kind=TASK_FAILED,
            subject=f"A background task failed: {description}",
            template="operations/email/task_failed.txt",
            context={
                "admin": admin,
                "kind": kind,
                "description": description,
                "error": error,
                "held_back": held_back,
                "status_url": settings.SITE_URL + reverse("operations:status"),
                "failed_emails_url": settings.SITE_URL + reverse("accounts:failed_tasks"),
            },
            once=f"{TASK_FAILED}:{kind}:{stamp}",
        )
    return sent


_ALERT_TASK_PATH = send_task_failure_alert.module_path


def on_task_finished(sender, task_result, **kwargs) -> None:
    """The worker's signal: a task that raised is a failure (email tasks report their own)."""
    from django_tasks import TaskResultStatus

    if task_result.status != TaskResultStatus.FAILED:
        return
    func = task_result.task.func
    if getattr(func, "records_its_failures", False):
        return
    last = task_result.errors[-1] if task_result.errors else None
    error = ""
    if last is not None:
        lines = [line for line in last.traceback.strip().splitlines() if line.strip()]
        error = lines[-1] if lines else last.exception_class_path
    task_failure_alert(
        kind=task_result.task.module_path,
        description=(func.__doc__ or func.__name__).strip().splitlines()[0],
        error=error,
    )


def on_email_task_given_up(failed) -> None:
    """An email task given up after its retries (a new FailedTask, see core.retry)."""
    task_failure_alert(kind=failed.task_path, description=failed.description, error=failed.error)
