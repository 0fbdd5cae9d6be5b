"""Audit trail: `from mycareer.audit import log` is the one way to record an action."""


def log(*args, **kwargs):
    from mycareer.audit.services import log as _log

    return _log(*args, **kwargs)
