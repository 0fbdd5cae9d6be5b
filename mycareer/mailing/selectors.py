from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.sending import ERASED_ADDRESS
from mycareer.organisations import optouts
from mycareer.organisations.models import Contact, EmailOptOut, KeptOptOut
from mycareer.organisations.timeline import TimelineEntry


def campaign_list(limit: int = 100) -> QuerySet[Campaign]:
    """The newest campaigns, each with how many messages it queued and how many of them
    were sent, counted in the one query. (Ordered here: a query that counts is grouped,
    and a grouped query leaves the model's own order out.)

    Queued: the rows not dropped by a cancel, and `not_sent` for those it dropped, which
    counts them whether their rows were kept (as cancelled) or, before that, deleted."""
    from django.db.models import Count
    from django.db.models.functions import Coalesce

    return (
        Campaign.objects.select_related("sender", "unit")
        .annotate(
            queued_count=Count(
                "messages", filter=~Q(messages__status=OutboxMessage.Status.CANCELLED)
            )
            + Coalesce("not_sent", 0),
            sent_count=Count("messages", filter=Q(messages__status=OutboxMessage.Status.SENT)),
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def campaigns_to_approve(user) -> QuerySet[Campaign]:
    """Campaigns waiting for a second designated sender's approval that `user` did not
    write, the longest waiting first."""
    return (
        Campaign.objects.filter(status=Campaign.Status.AWAITING_APPROVAL)
        .exclude(sender=user)
        .select_related("sender", "unit")
        .order_by("created_at", "pk")
    )


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
            # A contact deleted since: not their address, which the employer sees too.
            details=[f"To {m.contact.full_name if m.contact else 'a contact since removed'}"],
        )
        for m in messages
        if m.sent_at is not None  # always, for a sent message
    ]


# What happened to each message, as the campaign's list of recipients narrows by it.
OUTCOMES = {
    "sent": ("Sent", [OutboxMessage.Status.SENT]),
    "failed": ("Failed", [OutboxMessage.Status.FAILED]),
    "stopped": ("Stopped", [OutboxMessage.Status.STOPPED]),
    "cancelled": ("Not sent: cancelled", [OutboxMessage.Status.CANCELLED]),
    "waiting": ("Not sent yet", [OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]),
}


def campaign_sent_to(campaign: Campaign, *, outcome: str = "") -> QuerySet[OutboxMessage]:
    """Who a queued campaign went to, one message each, in the order they were queued;
    only those of one `outcome` (a key of OUTCOMES) when given."""
    messages = campaign.messages.select_related("contact__organisation").order_by("pk")
    if outcome in OUTCOMES:
        messages = messages.filter(status__in=OUTCOMES[outcome][1])
    return messages


def outcome_counts(campaign: Campaign) -> dict[str, int]:
    """How many of the campaign's messages each outcome holds, in one query."""
    from django.db.models import Count

    by_status = dict(campaign.messages.order_by().values_list("status").annotate(n=Count("pk")))
    return {
        key: sum(by_status.get(status, 0) for status in statuses)
        for key, (_label, statuses) in OUTCOMES.items()
    }


def dropped_unlisted(campaign: Campaign, counts: dict[str, int]) -> int:
    """How many a cancel dropped that the list cannot name: before cancelled rows were
    kept, cancelling deleted them, and only `not_sent` counts them. (`counts` as
    `outcome_counts` gives them.)"""
    if campaign.status != Campaign.Status.CANCELLED:
        return 0
    return max(0, (campaign.not_sent or 0) - counts["cancelled"])


ERASED_NAME = "Erased at their request"
# Removed by the retention schedule or by an erasure that found it by the address alone:
# the row does not say which, so neither is guessed.
ADDRESS_REMOVED = "address removed"
DELETED_NAME = "Record deleted"


def unknown_outcome(value: str) -> str:
    """What a page says of an outcome it does not narrow by (typed into a link, say)."""
    return f"“{value[:50]}” is not an outcome: choose one from the list."


def recipient_row(message: OutboxMessage) -> dict:
    """One recipient as the page and the download show them: an erased person keeps
    neither name nor address."""
    contact = message.contact
    removed = message.email.endswith(ERASED_ADDRESS)
    # The retention schedule removes the addresses of old bulk email too: the contact is
    # still there and asked for nothing, so only an erased contact (or, with the record
    # gone, a removed address) is said to be erased.
    erased = contact.erased_at is not None if contact is not None else removed
    label = OutboxMessage.Status(message.status).label
    if message.status in (OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING):
        label = "Not sent yet"
    name = "" if erased else (contact.full_name if contact else "")
    return {
        "message": message,
        "erased": erased,
        # Its address removed, and with it the mail server's answer: nothing to explain.
        "removed": removed and not erased,
        "name": name,
        # Named one way on the page and in the download.
        "shown_name": ERASED_NAME if erased else name or DELETED_NAME,
        "organisation": contact.organisation if contact else None,
        "email": "" if erased else ADDRESS_REMOVED if removed else message.email,
        "outcome": label,
        "why": message.error if message.status != OutboxMessage.Status.SENT else "",
    }


def failure_row(message: OutboxMessage) -> dict:
    """A failed message as the campaign's page explains it: `refused` when the mail
    server refused the address itself (a 5xx for the recipient, which marked the contact
    as bounced, so later bulk email leaves it out); otherwise it failed for another
    reason (the network, a temporary error tried three times, a message that could not
    be built, a 5xx for the message such as "554 rejected as spam") and the address is
    tried again by a later campaign."""
    row = recipient_row(message)
    # The page puts its own full stop after the server's words.
    row["why"] = row["why"].rstrip().rstrip(".")
    contact = message.contact
    row["refused"] = bool(
        contact is not None and contact.email_bounced_at and message.error[:1] == "5"
    )
    return row
