"""Human labels for dotted audit action codes, and how an action's data reads in the
trail; each app registers its own (from its AppConfig.ready)."""

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mycareer.audit.models import AuditEntry

# An entry's data as short (label, text) pairs, as the trail's Details column shows them.
Details = list[tuple[str, str]]
# Given entries of the actions it was registered for, their details in the same order.
# It is given a whole page's entries at once, so what they name is read in one go.
DetailsWriter = Callable[[Sequence["AuditEntry"]], list[Details]]

_LABELS: dict[str, str] = {}
_DETAILS: dict[str, DetailsWriter] = {}


def register_actions(labels: dict[str, str]) -> None:
    """Register labels for action codes (called from an AppConfig.ready)."""
    _LABELS.update(labels)


def label_for(action: str) -> str:
    return _LABELS.get(action, action)


def registered_actions() -> dict[str, str]:
    """Every registered action code with its label."""
    return dict(_LABELS)


def register_details(actions: Iterable[str], writer: DetailsWriter) -> None:
    """Show the data of entries of `actions` with `writer` rather than field by field
    (called from an AppConfig.ready): an app knows what the ids it records name."""
    for action in actions:
        _DETAILS[action] = writer


def details_writer(action: str) -> DetailsWriter | None:
    return _DETAILS.get(action)


def name_of(names: dict, pk) -> str:
    """The name a recorded id stands for, looked up for the page, or that it is gone."""
    return names.get(pk, f"(removed, number {pk})")
