"""Contacts erased before this release are marked as erased, at the time the audit trail
recorded their erasure (or now, when it holds none): they may no longer be changed.

An erased record is known by what the erasure left: the placeholder name and no address.
"""

from django.db import migrations
from django.utils import timezone

ERASED_CONTACT = "Erased contact"  # as the erasure writes it, copied: no app code here


def mark_erased(apps, schema_editor):
    Contact = apps.get_model("organisations", "Contact")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    kind = ContentType.objects.filter(app_label="organisations", model="contact").first()
    now = timezone.now()
    erased = Contact.objects.filter(full_name=ERASED_CONTACT, email="", erased_at__isnull=True)
    for contact in erased.iterator():
        entry = (
            AuditEntry.objects.filter(
                action="audit.personal_data.erased",
                content_type=kind,
                object_id=str(contact.pk),
            )
            .order_by("-at", "-pk")
            .first()
            if kind is not None
            else None
        )
        Contact.objects.filter(pk=contact.pk).update(erased_at=entry.at if entry else now)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("organisations", "0021_contact_erased_at"),
    ]

    operations = [migrations.RunPython(mark_erased, migrations.RunPython.noop)]
