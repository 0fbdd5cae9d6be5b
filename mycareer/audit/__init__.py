"""Audit trail: `from mycareer.audit import log` is the one way to record an action."""


def log(*args, **kwargs):
    from mycareer.audit.services import log as _log

    return _log(*args, **kwargs)


def build_entry(*args, **kwargs):
    from mycareer.audit.services import build_entry as _build_entry

    return _build_entry(*args, **kwargs)


def log_many(entries) -> None:
    from mycareer.audit.services import log_many as _log_many

    _log_many(entries)
