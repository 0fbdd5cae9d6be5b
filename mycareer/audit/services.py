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
    user_model = get_user_model()
    if person is None and isinstance(obj, user_model):
        person = obj
    actor = by if by is not None and getattr(by, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        person=person,
        data=data or {},
    )
