from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from mycareer.audit.models import AuditEntry
from mycareer.audit.registry import DetailsWriter, details_writer

ERASED = "audit.personal_data.erased"


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor", "person", "content_type")


def with_details(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """The entries of a page, each with its details worked out; an app's registered
    writer is given all of its entries at once, so it reads the names of what they record
    in one go, not once for each entry."""
    entries = list(entries)
    groups: dict[DetailsWriter, list[AuditEntry]] = {}
    for entry in entries:
        if (writer := details_writer(entry.action)) is not None:
            groups.setdefault(writer, []).append(entry)
    for writer, group in groups.items():
        for entry, pairs in zip(group, writer(group), strict=True):
            entry.shown_details = pairs
    return entries


def audit_for_object(obj: models.Model) -> QuerySet[AuditEntry]:
    """Every entry about one object, newest first."""
    ct = ContentType.objects.get_for_model(obj)
    return audit_entries().filter(content_type=ct, object_id=str(obj.pk))


def was_recorded(obj: models.Model, action: str, **data) -> bool:
    """Whether `action` was recorded about `obj` with these values in its data: how a page
    pressed twice knows the first press did it (the row it acted on may be gone)."""
    lookups = {f"data__{name}": value for name, value in data.items()}
    return audit_for_object(obj).filter(action=action, **lookups).exists()


def audit_for_person(user) -> QuerySet[AuditEntry]:
    """Everything a person did and everything done about them, newest first."""
    return audit_entries().filter(Q(actor=user) | Q(person=user))


def erasure_of(subject) -> AuditEntry | None:
    """The latest erasure of the person when every record chosen has been erased (the
    same erasure confirmed again in a second tab, say); None while one has not."""
    latest = None
    for person in subject.people:
        entry = audit_for_object(person).filter(action=ERASED).order_by("-at").first()
        if entry is None:
            return None
        latest = entry if latest is None or entry.at > latest.at else latest
    return latest
