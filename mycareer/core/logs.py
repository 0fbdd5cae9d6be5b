"""MyCareer's one way to log: a structured line per background job, refusal and email.

Every module logs through its own `logger = logging.getLogger(__name__)` and
`log_event(logger, "signin.slowed", account=..., wait_seconds=60)`, which writes
`event=signin.slowed account=7 wait_seconds=60`: easy to grep, and read as fields by any
log collector. Background work is wrapped in `logged_job(...)` (or logged by the task worker's
signals, see `log_task_started`), which adds when it started, its outcome and how long
it took. Lines carry ids and codes, never names or addresses: logs are kept longer and
read more widely than the records themselves.

`settings.LOGGING` picks the output from the environment: `LOG_FORMAT=keyvalue` (the
default) prints `time level logger event=... key=value`, `LOG_FORMAT=json` one JSON
object per line with the same fields.
"""

import datetime
import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError

# The LogRecord attribute that carries a line's fields, for the JSON formatter.
FIELDS = "mycareer_fields"


def _value(value: object) -> str:
    text = "" if value is None else str(value)
    if text == "" or any(c in text for c in ' "=\n\r\t'):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return f'"{escaped}"'
    return text


def format_fields(fields: Mapping[str, object]) -> str:
    """`key=value` pairs in the order given; values with spaces or quotes are quoted.

    A line splits back into its fields with `shlex.split`.
    """
    return " ".join(f"{key}={_value(value)}" for key, value in fields.items())


def format_event(event: str, /, **fields: object) -> str:
    """`event=<event>` followed by each field as key=value, in the order given."""
    return format_fields({"event": event, **fields})


def log_event(
    logger: logging.Logger, event: str, /, *, level: int = logging.INFO, **fields: object
) -> None:
    """Write one structured line to `logger`.

    Name a field `event_id`, not `event`: `event` is the line's own name.
    """
    _emit(logger, level, event, fields, stacklevel=3)


def _emit(
    logger: logging.Logger,
    level: int,
    event: str,
    fields: Mapping[str, object],
    *,
    stacklevel: int = 2,
) -> None:
    if logger.isEnabledFor(level):
        logger.log(
            level,
            format_event(event, **fields),
            extra={FIELDS: {"event": event, **fields}},
            stacklevel=stacklevel,  # the file and line that asked for the line
        )


def summary(value: object) -> dict[str, object]:
    """The parts of a job's result that are safe and short enough for a log line.

    Counts and flags only: a number, a flag, a list (its length) or a dict of those.
    Text is left out, as it could name a person.
    """
    if isinstance(value, bool | int | float):
        return {"result": value}
    if isinstance(value, list | tuple | set):
        return {"result_count": len(value)}
    if isinstance(value, Mapping):
        fields: dict[str, object] = {}
        for key, item in value.items():
            name = "_".join(str(key).split())
            if isinstance(item, bool | int | float):
                fields[name] = item
            elif isinstance(item, list | tuple | set):
                fields[f"{name}_count"] = len(item)
        return fields
    return {}


@contextmanager
def logged_job(
    logger: logging.Logger, name: str, /, **fields: object
) -> Iterator[dict[str, object]]:
    """Log one line when a piece of background work ends: its start, outcome and duration.

        with logged_job(logger, "scheduler.check") as outcome:
            outcome["enqueued"] = 2

    writes `event=scheduler.check started=... outcome=succeeded duration_ms=3 enqueued=2`.
    Fields put in the yielded dict are added to the line. An exception is logged with
    `outcome=failed` and its class (level ERROR), or `outcome=refused` (WARNING) for a
    ValidationError, which tells a person why; then it is raised again.
    """
    started = datetime.datetime.now(tz=datetime.UTC)
    began = time.monotonic()
    extra: dict[str, object] = {}
    try:
        yield extra
    except ValidationError as error:
        # Refused with a message for the person (a file that changed, say): not a fault.
        refused = {"outcome": "refused", "error": type(error).__name__}
        _emit(logger, logging.WARNING, name, {**fields, **_ended(started, began, refused), **extra})
        raise
    except Exception as error:
        failed = {"outcome": "failed", "error": type(error).__name__}
        _emit(logger, logging.ERROR, name, {**fields, **_ended(started, began, failed), **extra})
        raise
    succeeded = {"outcome": "succeeded"}
    _emit(logger, logging.INFO, name, {**fields, **_ended(started, began, succeeded), **extra})


def _ended(started: datetime.datetime, began: float, outcome: dict[str, str]) -> dict[str, object]:
    """When the job started, how it ended and how long it took, in that order."""
    return {"started": _iso(started), **outcome, "duration_ms": _ms_since(began)}


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds")


def _ms_since(began: float) -> int:
    return round((time.monotonic() - began) * 1000)


# Background tasks: the worker's signals give every task its start and end lines.


def _task_logger(task_result: Any) -> logging.Logger:
    """The logger of the module that defines the task."""
    return logging.getLogger(task_result.task.module_path.rpartition(".")[0])


def log_task_started(sender: object, task_result: Any, **kwargs: object) -> None:
    log_event(
        _task_logger(task_result),
        "task.started",
        task=task_result.task.module_path,
        id=task_result.id,
        attempt=len(task_result.errors) + 1,
    )


def log_task_finished(sender: object, task_result: Any, **kwargs: object) -> None:
    """One line per finished task: outcome, start, duration, and any counts it returned."""
    from django_tasks import TaskResultStatus

    failed = task_result.status == TaskResultStatus.FAILED
    started, finished = task_result.started_at, task_result.finished_at
    fields: dict[str, object] = {
        "task": task_result.task.module_path,
        "id": task_result.id,
        "started": _iso(started) if started else "",
        "outcome": "failed" if failed else "succeeded",
        "duration_ms": round((finished - started).total_seconds() * 1000)
        if started and finished
        else "",
    }
    if failed and task_result.errors:
        fields["error"] = task_result.errors[-1].exception_class_path
    elif task_result.status == TaskResultStatus.SUCCESSFUL:
        fields.update(summary(task_result.return_value))
    log_event(
        _task_logger(task_result),
        "task.finished",
        level=logging.ERROR if failed else logging.INFO,
        **fields,
    )


# Formatters, named by LOG_FORMAT in settings.LOGGING.


def _when(record: logging.LogRecord) -> str:
    return _iso(datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC))


class KeyValueFormatter(logging.Formatter):
    """`time level logger event=... key=value`; other libraries' lines as `message="..."`."""

    def format(self, record: logging.LogRecord) -> str:
        head = f"{_when(record)} level={record.levelname} logger={record.name}"
        if hasattr(record, FIELDS):
            line = f"{head} {record.getMessage()}"
        else:
            line = f"{head} {format_fields({'message': record.getMessage()})}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, then the event and its fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": _when(record),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, FIELDS, None)
        if fields is not None:
            data.update(fields)
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class DropForbiddenTracebacks(logging.Filter):
    """Django logs each 403 with its traceback; MyCareer writes its own one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 403
