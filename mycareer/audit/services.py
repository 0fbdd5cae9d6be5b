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


def personal_data_export(*, users: list, contacts: list, by) -> dict:
    """Everything held about a person, as one machine-readable document; audited."""
    from django.db import transaction
    from django.utils import timezone

    from mycareer.audit.personal_data import Subject, collect

    with transaction.atomic():
        data = collect(Subject(users=users, contacts=contacts))
        for user in users:
            log(user, "audit.personal_data.exported", by=by, data={"sections": sorted(data)})
        for contact in contacts:
            log(contact, "audit.personal_data.exported", by=by, data={"sections": sorted(data)})
    return {
        "exported_at": timezone.now().isoformat(),
        "people": {"logins": [u.pk for u in users], "contact_records": [c.pk for c in contacts]},
        "records": data,
    }


def personal_data_erase(*, users: list, contacts: list, by) -> dict:
    """Erase a person everywhere; the audit entry records ids and counts, never the person."""
    from django.db import transaction

    from mycareer.audit.personal_data import Subject, erase

    with transaction.atomic():
        counts = erase(Subject(users=users, contacts=contacts))
        for obj in [*users, *contacts]:
            obj.refresh_from_db()
            log(obj, "audit.personal_data.erased", by=by, data={"counts": counts})
    return counts
