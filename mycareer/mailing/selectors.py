from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from mycareer.mailing.models import OutboxMessage
from mycareer.organisations import optouts
from mycareer.organisations.models import Contact, EmailOptOut, KeptOptOut
from mycareer.organisations.timeline import TimelineEntry


def address_opt_outs(contact: Contact, purpose: str) -> QuerySet[EmailOptOut]:
    """The opt-outs of `purpose` or of all bulk email through this record or another
    record of its address (not those kept after a record went: `optouts.kept_opt_out`)."""
    kinds = [purpose, EmailOptOut.Purpose.ALL]
    if not contact.email:
        return EmailOptOut.objects.filter(contact=contact, purpose__in=kinds)
    return EmailOptOut.objects.annotate(address=Lower("contact__email")).filter(
        Q(contact=contact) | Q(address=contact.email.strip().lower()), purpose__in=kinds
    )


def standing_opt_out(contact: Contact, purpose: str) -> EmailOptOut | KeptOptOut | None:
    """The earliest choice that already keeps this kind of bulk email from the contact's
    address: an opt-out of `purpose` itself or of all bulk email, through this record,
    another record of the address, or kept after a record went (see `optouts`). (Unlike
    a campaign's recipients, an unsubscribe link for all bulk email is not done by an
    opt-out of one kind.)"""
    mine = address_opt_outs(contact, purpose)
    found: list[EmailOptOut | KeptOptOut] = []
    if first := mine.order_by("created_at").first():
        found.append(first)
    if contact.email and (
        kept := optouts.kept_opt_out(optouts.address_digest(contact.email), purpose)
    ):
        found.append(kept)
    return min(found, key=lambda choice: choice.created_at, default=None)


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
