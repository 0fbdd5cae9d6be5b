"""Human labels for dotted audit action codes; each app registers its own."""

_LABELS: dict[str, str] = {}


def register_actions(labels: dict[str, str]) -> None:
    """Register labels for action codes (called from an AppConfig.ready)."""
    _LABELS.update(labels)


def label_for(action: str) -> str:
    return _LABELS.get(action, action)


def registered_actions() -> dict[str, str]:
    """Every registered action code with its label."""
    return dict(_LABELS)
