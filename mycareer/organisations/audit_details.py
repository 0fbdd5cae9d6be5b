"""How this app's audit entries read in the trail: the organisations and contacts they
record by id, by name (read once for a page of entries)."""

from collections.abc import Sequence

from django.db import models

from mycareer.audit.models import AuditEntry, details_in_words
from mycareer.audit.registry import Details, name_of
from mycareer.organisations.models import Contact, Note, Organisation, RegistrationRequest

# The keys under which entries record an organisation's id, and a contact's id or ids.
ORGANISATION_KEYS = {"organisation", "merged", "into"}
CONTACT_KEYS = {"contact", "contacts", "inbound_key_contacts"}
# Entries whose keys of those names hold a number of records, not ids: an import's
# "contacts: 2" read as the name of contact number 2, and "contacts: 0" as a removed one.
COUNTED: dict[str, set[str]] = {
    "organisations.organisation.imported": {"contacts"},
    "organisations.organisation.deleted": {"contacts"},
}
# Choices recorded by value, by the kind of entry that records them.
CHOICES: dict[str, dict[str, type[models.TextChoices]]] = {
    "organisations.registration.": {"kind": RegistrationRequest.Kind},
    "organisations.note.": {"kind": Note.Kind, "started_by": Note.StartedBy},
}


def audit_details(entries: Sequence[AuditEntry]) -> list[Details]:
    """Entries' data in words, organisations and contacts by name: an erased person's
    record reads as its erasure left it, one deleted since as its number."""
    organisation_ids: set[int] = set()
    contact_ids: set[int] = set()
    for entry in entries:
        for key, value in _recorded(entry).items():
            if key in COUNTED.get(entry.action, ()):
                continue
            if key in ORGANISATION_KEYS:
                organisation_ids.update(_ids(value))
            elif key in CONTACT_KEYS:
                contact_ids.update(_ids(value))
    organisations = _names(Organisation, organisation_ids)
    contacts = _names(Contact, contact_ids, field="full_name")
    return [_entry_details(entry, organisations, contacts) for entry in entries]


def _recorded(entry: AuditEntry) -> dict:
    """The entry's data, a note's changed contacts included as a top-level key."""
    data = entry.data if isinstance(entry.data, dict) else {}
    changed = data.get("changed")
    if isinstance(changed, dict) and _is_pair(changed.get("contacts")):
        return {**data, "contacts": [*changed["contacts"][0], *changed["contacts"][1]]}
    return data


def _entry_details(entry: AuditEntry, organisations: dict, contacts: dict) -> Details:
    if not isinstance(entry.data, dict):
        return []
    details: Details = []
    counted = COUNTED.get(entry.action, set())
    for key, value in entry.data.items():
        if key in counted:
            details += details_in_words({key: value})
        elif key in ORGANISATION_KEYS and _ids(value):
            details.append((key, _named(value, organisations)))
        elif key in CONTACT_KEYS and _ids(value):
            details.append((key.replace("_", " "), _named(value, contacts)))
        elif key == "changed" and isinstance(value, dict) and _is_pair(value.get("contacts")):
            before, after = value["contacts"]
            others = {k: v for k, v in value.items() if k != "contacts"}
            details += details_in_words({"changed": others})
            details.append(
                (
                    "contacts",
                    f"{_named(before, contacts) or 'none'} → {_named(after, contacts) or 'none'}",
                )
            )
        else:
            details += details_in_words({key: _choice(entry.action, key, value)})
    return details


def _choice(action: str, key: str, value):
    """A recorded choice by its label ("New organisation", not "new")."""
    for prefix, choices in CHOICES.items():
        if action.startswith(prefix) and key in choices and value in choices[key].values:
            return str(choices[key](value).label)
    return value


def _named(value, names: dict[int, str]) -> str:
    return ", ".join(name_of(names, pk) for pk in _ids(value))


def _names(model, ids: set[int], field: str = "name") -> dict[int, str]:
    if not ids:
        return {}
    return dict(model._default_manager.filter(pk__in=ids).values_list("pk", field))


def _ids(value) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [pk for pk in values if isinstance(pk, int) and not isinstance(pk, bool)]


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, list) for v in value)
