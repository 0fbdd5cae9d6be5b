from mycareer.mailing.models import OutboxMessage
from mycareer.organisations.models import Contact, EmailOptOut
from mycareer.organisations.timeline import TimelineEntry


def standing_opt_out(contact: Contact, purpose: str) -> EmailOptOut | None:
    """The contact's earliest choice that already keeps this kind of bulk email from them:
    an opt-out of `purpose` itself or of all bulk email. (Unlike a campaign's recipients,
    an unsubscribe link for all bulk email is not done by an opt-out of one kind.)"""
    return (
        EmailOptOut.objects.filter(contact=contact, purpose__in=[purpose, EmailOptOut.Purpose.ALL])
        .order_by("created_at")
        .first()
    )


def email_timeline_source(organisation, *, viewer, limit: int) -> list[TimelineEntry]:
    """Each bulk email the organisation's contacts received, newest first."""
    messages = (
        OutboxMessage.objects.filter(
            organisation_id_at_send=organisation.pk, status=OutboxMessage.Status.SENT
        )
        .select_related("campaign__unit", "contact")
        .order_by("-sent_at")[:limit]
    )
    return [
        TimelineEntry(
            when=m.sent_at,
            kind="Email",
            title=f"Email “{m.campaign.subject}” from {m.campaign.unit}",
            details=[f"To {m.contact.full_name if m.contact else m.email}"],
        )
        for m in messages
        if m.sent_at is not None  # always, for a sent message
    ]
