"""Email tasks that survive an unreachable mail server.

`@email_task()` in place of `@task()`: when the task fails because the mail server could
not be reached or refused (any OSError, which smtplib's errors are), the task is queued
again to run later, waiting longer each time (EMAIL_RETRY_FIRST_SECONDS, times four per
try). Messages already sent by an earlier try are not sent again (core.mail). After the
last try, or at once for an error that trying again cannot mend, the task is recorded as
a FailedTask, which administrators see, with a button to try it again.
"""

import datetime
import functools
import logging
import traceback

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from mycareer.core import mail
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)


def retry_delay(attempt: int) -> datetime.timedelta:
    """How long to wait after try number `attempt` (from 1) failed."""
    first = settings.MYCAREER.get("EMAIL_RETRY_FIRST_SECONDS", 60)
    return datetime.timedelta(seconds=first * 4 ** min(attempt - 1, 10))


def max_attempts() -> int:
    return settings.MYCAREER.get("EMAIL_RETRY_ATTEMPTS", 5)


def _describe(func) -> str:
    return (func.__doc__ or func.__name__).strip().splitlines()[0]


def email_task(**task_options):
    """A task that sends email: retried with growing waits, then listed as failed."""

    def decorator(func):
        @functools.wraps(func)
        def run(*args, _attempt: int = 1, _sent: list[str] | None = None, **kwargs):
            sent = set(_sent or ())
            sent_token = mail._sent.set(sent)
            recipients_token = mail._recipients.set(())
            try:
                return func(*args, **kwargs)
            except Exception as error:
                retryable = isinstance(error, OSError)
                _after_failure(
                    wrapped,
                    args=args,
                    kwargs=kwargs,
                    attempt=_attempt,
                    sent=sent,
                    error=error,
                    retryable=retryable,
                )
                if retryable:
                    # Handled: the next try is queued. The worker records this run as done.
                    return {"retry": _attempt + 1}
                raise
            finally:
                mail._sent.reset(sent_token)
                mail._recipients.reset(recipients_token)

        wrapped = task(**task_options)(run)
        return wrapped

    return decorator


def _after_failure(wrapped, *, args, kwargs, attempt, sent, error, retryable) -> None:
    from mycareer.core.models import FailedTask

    name = f"{wrapped.func.__module__}.{wrapped.func.__qualname__}"
    if retryable and attempt < max_attempts():
        delay = retry_delay(attempt)
        wrapped.using(run_after=timezone.now() + delay).enqueue(
            *args, _attempt=attempt + 1, _sent=sorted(sent), **kwargs
        )
        log_event(
            logger,
            "task.retry",
            level=logging.WARNING,
            task=name,
            attempt=attempt,
            next_in_seconds=int(delay.total_seconds()),
            error=f"{type(error).__name__}: {error}",
        )
        return
    FailedTask.objects.create(
        task_path=name,
        description=_describe(wrapped.func),
        args=list(args),
        kwargs=kwargs,
        sent=sorted(sent),
        recipients=", ".join(mail._recipients.get())[:1000],
        attempts=attempt,
        error=f"{type(error).__name__}: {error}"[:2000],
        traceback="".join(traceback.format_exception(error))[-8000:],
    )
    log_event(
        logger,
        "task.failed",
        level=logging.ERROR,
        task=name,
        attempts=attempt,
        error=f"{type(error).__name__}: {error}",
    )
