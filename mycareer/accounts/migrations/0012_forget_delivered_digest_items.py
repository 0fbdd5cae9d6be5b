"""Digest items already delivered are removed, as the digest now removes them once sent:
they name colleagues and employer contacts, and nothing reads them again."""

from django.db import migrations


def forget_delivered(apps, schema_editor):
    pending = apps.get_model("accounts", "PendingNotification")
    pending.objects.filter(sent_at__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0011_contact_addresses_of_erased_people")]

    operations = [migrations.RunPython(forget_delivered, migrations.RunPython.noop)]
