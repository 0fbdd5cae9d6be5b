"""Restrictions in force before their email was recorded count as emailed.

Their email was sent when they started (by the task worker, moments later), so a
student restricted before this release is told when the restriction is lifted, as one
restricted after it is. Restrictions already lifted are left alone: nothing more is
sent about them.
"""

from django.db import migrations
from django.db.models import F


def mark_notified(apps, schema_editor):
    BookingBan = apps.get_model("bookings", "BookingBan")
    BookingBan.objects.filter(lifted_at__isnull=True, notified_at__isnull=True).update(
        notified_at=F("starts_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0004_booking_restriction_notified_at'),
    ]

    operations = [migrations.RunPython(mark_notified, migrations.RunPython.noop)]
