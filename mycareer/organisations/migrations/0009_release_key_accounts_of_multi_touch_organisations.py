"""Key accounts left on multi-touch organisations are released, not in force.

Before key accounts could be released, marking an organisation multi-touch deleted its
key contacts but left the key accounts, so a profile could say both "multi-touch" and
name a key account operator. Those key accounts are now released (kept, not in force),
as marking multi-touch does from now on.
"""

from django.db import migrations
from django.utils import timezone


def release(apps, schema_editor):
    KeyAccount = apps.get_model("organisations", "KeyAccount")
    KeyAccount.objects.filter(
        organisation__multi_touch=True, released_at__isnull=True
    ).update(released_at=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0008_note_started_by'),
    ]

    operations = [migrations.RunPython(release, migrations.RunPython.noop)]
