from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from mycareer.audit.models import AuditEntry


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor", "person", "content_type")


def audit_for_object(obj: models.Model) -> QuerySet[AuditEntry]:
    """Every entry about one object, newest first."""
    ct = ContentType.objects.get_for_model(obj)
    return audit_entries().filter(content_type=ct, object_id=str(obj.pk))


def audit_for_person(user) -> QuerySet[AuditEntry]:
    """Everything a person did and everything done about them, newest first."""
    return audit_entries().filter(Q(actor=user) | Q(person=user))
