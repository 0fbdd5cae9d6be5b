"""How this app's audit entries read in the trail: choices by their labels, years and
clashes in words, and no ids beside the names recorded with them."""

from collections.abc import Sequence

from mycareer.audit.models import AuditEntry, details_in_words, readable
from mycareer.audit.registry import Details
from mycareer.events.models import Event

LABELS = {"type": Event.Type, "status": Event.Status}


def audit_details(entries: Sequence[AuditEntry]) -> list[Details]:
    return [_entry_details(entry) for entry in entries]


def _entry_details(entry: AuditEntry) -> Details:
    data = entry.data if isinstance(entry.data, dict) else {}
    details: Details = []
    for key, value in data.items():
        if key == "request" or (key == "event" and "title" in data):
            continue  # an id recorded beside the unit or title it names
        if key == "changed" and isinstance(value, dict) and all(map(_is_pair, value.values())):
            for name, pair in value.items():
                details += _change_in_words(name, pair)
        else:
            details += details_in_words({key: _in_words(key, value)})
    return details


def _change_in_words(name: str, pair: list) -> Details:
    """One field's change; a list of names (units, programmes, topics) as what it gained
    and lost, which a long list's "before → after" cut short at the row's end hid."""
    before, after = pair
    if name != "audience_years" and all(isinstance(side, list) for side in pair):
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        parts = [
            f"{verb} {readable(items)}"
            for verb, items in (("added", added), ("removed", removed))
            if items
        ]
        return [(name.replace("_", " "), "; ".join(parts) or "unchanged")]
    return details_in_words({"changed": {name: [_in_words(name, side) for side in pair]}})


def _in_words(key: str, value):
    if key in LABELS and value in LABELS[key].values:
        return str(LABELS[key](value).label)
    if key == "audience_years" and isinstance(value, list):
        return [f"Year {year}" for year in value] or "every year"
    if key == "clashes" and isinstance(value, list):
        return [c.get("title", "") if isinstance(c, dict) else c for c in value]
    return value


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2
