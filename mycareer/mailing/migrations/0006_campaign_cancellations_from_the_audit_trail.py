"""Campaigns cancelled before this release say who cancelled them and how many messages
were dropped, as the audit trail recorded it when they were cancelled.

The recorded figure counted the messages a worker still held as dropped; a worker may
have sent one of them before it stopped. Without an audit entry the figures stay empty,
and the campaign's page says they were not kept.
"""

from django.db import migrations


def from_audit_trail(apps, schema_editor):
    Campaign = apps.get_model("mailing", "Campaign")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    cancelled = Campaign.objects.filter(status="cancelled", not_sent__isnull=True)
    for campaign in cancelled.iterator():
        entry = (
            AuditEntry.objects.filter(
                action="mailing.campaign.cancelled", object_id=str(campaign.pk)
            )
            .order_by("-at", "-pk")
            .first()
        )
        dropped = entry.data.get("dropped") if entry else None
        if not isinstance(dropped, int):
            continue
        campaign.not_sent = dropped
        campaign.cancelled_by_id = entry.actor_id
        campaign.save(update_fields=["not_sent", "cancelled_by"])


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("mailing", "0005_campaign_cancelled_by_and_not_sent"),
    ]

    operations = [migrations.RunPython(from_audit_trail, migrations.RunPython.noop)]
