from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

from mycareer.audit.models import AuditEntry


def log(
    obj: models.Model | None,
    action: str,
    *,
    by: Any = None,
    data: dict | None = None,
    person: Any = None,
) -> AuditEntry:
    """Record that `by` did `action` to `obj`; call inside the changing transaction."""
    entry = build_entry(obj, action, by=by, data=data, person=person)
    entry.save()
    return entry


def build_entry(
    obj: models.Model | None,
    action: str,
    *,
    by: Any = None,
    data: dict | None = None,
    person: Any = None,
) -> AuditEntry:
    """An unsaved entry, for `log_many` to write a large change's entries in one go."""
    user_model = get_user_model()
    if person is None and isinstance(obj, user_model):
        person = obj
    actor = by if by is not None and getattr(by, "is_authenticated", False) else None
    return AuditEntry(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        person=person,
        data=data or {},
    )


def log_many(entries: list[AuditEntry]) -> None:
    """Write entries made by `build_entry`, in the changing transaction."""
    AuditEntry.objects.bulk_create(entries, batch_size=500)


def personal_data_letter(*, subject, by, machine: bool = False):
    """The subject access letter for `subject`; the export is audited on each record."""
    from django.db import transaction

    from mycareer.audit.letter import letter_for

    with transaction.atomic():
        letter = letter_for(subject)
        data = {
            "format": "JSON" if machine else "letter",
            "sections": [section.heading for section in letter.held],
            "entries": letter.entry_count,
            # How many of other people's details were replaced (never which, nor whose).
            "redacted": letter.redacted_passages,
        }
        for record in subject.people:
            log(record, "audit.personal_data.exported", by=by, data=data)
    return letter


def personal_data_erase(*, subject, by, selected=None, digest: str | None = None):
    """Erase the person: the mentions ticked in the review, then their own rows.

    Returns the report and its audit entries; raises `StaleReview` (and changes nothing)
    when the records changed after the review the administrator confirmed.
    """
    from mycareer.audit.erasure import erase

    return erase(subject, by=by, selected=selected, digest=digest)
