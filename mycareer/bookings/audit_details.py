"""How this app's audit entries read in the trail: the event a place is for by its title,
not its id (read once for a page of entries)."""

from collections.abc import Sequence

from mycareer.audit.models import AuditEntry, details_in_words
from mycareer.audit.registry import Details, name_of
from mycareer.events.models import Event


def audit_details(entries: Sequence[AuditEntry]) -> list[Details]:
    """Entries' data in words: an event recorded by id alone reads as its title (one
    deleted since as its number); beside the title recorded with it, the id goes."""
    wanted = {
        entry.data["event"]
        for entry in entries
        if isinstance(entry.data, dict) and _untitled_event(entry.data)
    }
    titles = dict(Event.objects.filter(pk__in=wanted).values_list("pk", "title")) if wanted else {}
    return [_entry_details(entry, titles) for entry in entries]


def _untitled_event(data: dict) -> bool:
    event = data.get("event")
    return isinstance(event, int) and not isinstance(event, bool) and "title" not in data


def _entry_details(entry: AuditEntry, titles: dict[int, str]) -> Details:
    data = entry.data if isinstance(entry.data, dict) else {}
    untitled = _untitled_event(data)
    shown = {}
    for key, value in data.items():
        if key == "event" and untitled:
            shown[key] = name_of(titles, value)
        elif key == "event" and isinstance(value, int) and "title" in data:
            continue
        else:
            shown[key] = value
    return details_in_words(shown)
