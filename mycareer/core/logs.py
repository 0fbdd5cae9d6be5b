"""One structured key=value line per background job, refusal and email.

`log_event(logger, "signin.slowed", account=..., wait_seconds=60)` writes
`event=signin.slowed account=ada@example.ac.uk wait_seconds=60`: easy to grep, and
read as fields by any log collector.
"""

import logging


def _value(value) -> str:
    text = str(value).replace("\n", " ").replace("\r", " ")
    if not text or any(c in text for c in ' ="'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def format_event(event: str, **fields) -> str:
    return " ".join([f"event={event}", *(f"{key}={_value(v)}" for key, v in fields.items())])


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields) -> None:
    logger.log(level, format_event(event, **fields))


class DropForbiddenTracebacks(logging.Filter):
    """Django logs each 403 with its traceback; MyCareer writes its own one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 403
