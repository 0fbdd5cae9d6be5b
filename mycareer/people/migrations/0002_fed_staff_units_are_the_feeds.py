"""Units of staff the feed already keeps were all the feed's until now (it replaced them
at each import): mark them so, so the next import goes on removing those it drops."""

from django.db import migrations


def mark_fed_units(apps, schema_editor):
    StaffMembership = apps.get_model("accounts", "StaffMembership")
    FeedRecord = apps.get_model("people", "FeedRecord")
    fed_staff = FeedRecord.objects.filter(kind="staff").values("user_id")
    StaffMembership.objects.filter(user_id__in=fed_staff).update(source="feed")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_staff_membership_source"),
        ("people", "0001_feed_records_and_imports"),
    ]

    operations = [migrations.RunPython(mark_fed_units, migrations.RunPython.noop)]
