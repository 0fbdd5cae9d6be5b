"""One structured line per background job, refusal and email: `event=… key=value …`.

Values with spaces, quotes or line breaks are quoted, so each record stays one line
that log tools split on spaces and equals signs.
"""

import logging


def _value(value) -> str:
    text = "" if value is None else str(value)
    if text and not any(c in text for c in ' ="\\\n\r\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def log_line(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields) -> None:
    """Write `event=<event> key=value …` as one record of `logger`."""
    parts = [f"event={event}", *(f"{key}={_value(value)}" for key, value in fields.items())]
    logger.log(level, " ".join(parts))


class DropForbiddenTracebacks(logging.Filter):
    """Django logs each 403 with its traceback; MyCareer writes its own one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 403
