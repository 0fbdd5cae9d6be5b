"""One structured line per background job, refusal or email: `event=... key=value ...`.

Values with spaces or quotes are quoted, so a line splits back into its fields with
`shlex.split`. Log lines carry ids and codes, never names or addresses: logs are kept
longer and read more widely than the records themselves.
"""

import logging


def _value(value) -> str:
    text = "" if value is None else str(value)
    if text == "" or any(c in text for c in ' "=\n\r\t'):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
        return f'"{escaped}"'
    return text


def line(event: str, /, **fields) -> str:
    """`event=<event>` followed by each field as key=value, in the order given.

    Name a field `event_id`, not `event`: `event` is the line's own name.
    """
    return " ".join([f"event={event}", *(f"{key}={_value(v)}" for key, v in fields.items())])


def log(logger: logging.Logger, event: str, /, *, level: int = logging.INFO, **fields) -> None:
    """Write one structured line to `logger`."""
    logger.log(level, line(event, **fields))
