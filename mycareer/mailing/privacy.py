"""Erasing a person from the outbox: the message counts stay, the address goes."""

from django.db.models import Q

from mycareer.mailing.models import OutboxMessage


def erase_outbox(subject) -> int:
    emails = {p.email.lower() for p in [*subject.users, *subject.contacts] if p.email}
    rows = OutboxMessage.objects.filter(
        Q(contact_id__in=[c.pk for c in subject.contacts]) | Q(email__in=emails)
    )
    changed = 0
    for pk in rows.values_list("pk", flat=True):
        OutboxMessage.objects.filter(pk=pk).update(email=f"erased-{pk}@erased.invalid", error="")
        changed += 1
    return changed


def old_campaign_bodies_due():
    import datetime

    from django.utils import timezone

    from mycareer.mailing.models import Campaign

    cutoff = timezone.now() - datetime.timedelta(days=730)
    return Campaign.objects.filter(finished_at__lt=cutoff).exclude(body="")


def clear_campaign_bodies(rows) -> int:
    """Keep that a campaign went (subject, counts) but not what it said."""
    return rows.update(body="")
