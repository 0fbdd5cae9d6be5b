"""Email tasks that survive an unreachable mail server.

`@email_task()` in place of `@task()`: when the task fails because the mail server could
not be reached or refused (any OSError, which smtplib's errors are), the task is queued
again to run later, waiting longer each time (EMAIL_RETRY_FIRST_SECONDS, times four per
try). After the last try, or at once for an error that trying again cannot mend, the
task is recorded as a FailedTask, which administrators see, with a button to try it
again. When the worker is stopped in the middle of a task (SIGTERM twice, Ctrl+C), the
task is queued again at once for the next worker. A task that emails several people
names its list (`send_email(once=...)`), so whichever run comes next skips the people
the earlier one reached (core.mail).
"""

import datetime
import functools
import logging
import traceback
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from mycareer.core import mail
from mycareer.core.logs import log_event
from mycareer.core.models import FailedTask

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
        def run(*args, _attempt: int = 1, **kwargs):
            recipients_token = mail.current_recipients.set(())
            try:
                return func(*args, **kwargs)
            except Exception as error:
                retryable = isinstance(error, OSError)
                _after_failure(
                    wrapped,
                    args=args,
                    kwargs=kwargs,
                    attempt=_attempt,
                    error=error,
                    retryable=retryable,
                )
                if retryable:
                    # Handled: the next try is queued. The worker records this run as done.
                    return {"retry": _attempt + 1}
                raise
            except BaseException:
                # The worker is being stopped (SystemExit, KeyboardInterrupt) half-way:
                # the next worker carries on where this one got to.
                wrapped.enqueue(*args, _attempt=_attempt, **kwargs)
                log_event(
                    logger,
                    "task.interrupted",
                    level=logging.WARNING,
                    task=f"{func.__module__}.{func.__qualname__}",
                    attempt=_attempt,
                )
                raise
            finally:
                mail.current_recipients.reset(recipients_token)

        # Its failures are reported as FailedTask rows (after the retries), not by the
        # worker's own "failed" outcome, which an interrupted run also has.
        run.records_its_failures = True
        wrapped = task(**task_options)(run)
        return wrapped

    return decorator


def _after_failure(wrapped, *, args, kwargs, attempt, error, retryable) -> None:
    name = f"{wrapped.func.__module__}.{wrapped.func.__qualname__}"
    if retryable and attempt < max_attempts():
        delay = retry_delay(attempt)
        wrapped.using(run_after=timezone.now() + delay).enqueue(
            *args, _attempt=attempt + 1, **kwargs
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
    failed = FailedTask.objects.create(
        task_path=name,
        description=_describe(wrapped.func),
        args=list(args),
        kwargs=kwargs,
        recipients=", ".join(mail.current_recipients.get())[:1000],
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
    for hook in _given_up_hooks:
        hook(failed)


_given_up_hooks: list[Callable[[FailedTask], None]] = []


def on_given_up(hook: Callable[[FailedTask], None]) -> None:
    """Call `hook(failed_task)` whenever an email task is given up (operations alerts)."""
    if hook not in _given_up_hooks:
        _given_up_hooks.append(hook)
