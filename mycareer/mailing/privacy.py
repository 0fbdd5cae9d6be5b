"""Bulk email in subject access and erasure: the message counts stay, the address goes."""

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from mycareer.audit.erasure import typed_words_erased
from mycareer.audit.personal_data import (
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
    in_words,
)
from mycareer.core.mail import EMAIL_RECORDS_KEPT
from mycareer.mailing.models import Campaign, LeftOut, OutboxMessage
from mycareer.mailing.selectors import ADDRESS_REMOVED
from mycareer.mailing.sending import ERASED_ADDRESS


def _messages(subject):
    return OutboxMessage.objects.filter(
        Q(contact_id__in=subject.contact_ids) | Q(email__in=subject.emails)
    )


def _anonymise_outbox(subject, *, apply: bool, by=None) -> list[Change]:
    pks = list(_messages(subject).values_list("pk", flat=True))
    # Counted before the addresses go: a row found by its address alone is not found after.
    sent = OutboxMessage.objects.filter(pk__in=pks, status=OutboxMessage.Status.SENT).count()
    if apply:
        for pk in pks:
            OutboxMessage.objects.filter(pk=pk).update(
                email=f"erased-{pk}@erased.invalid", error=""
            )
    changes = _recipients_chosen_by_name(subject, apply=apply)
    # A campaign's page keeps who it was meant for (cancelled, failed, stopped): their
    # addresses go too, but they were not sent to them.
    counted = []
    if sent:
        counted.append(Change("Bulk emails sent to them", "address removed; the count stays", sent))
    if len(pks) > sent:
        counted.append(
            Change(
                "Bulk emails meant for them but not sent",
                "address removed; the campaign still lists them as not sent",
                len(pks) - sent,
            )
        )
    return [*counted, *changes]


def _recipients_chosen_by_name(subject, *, apply: bool) -> list[Change]:
    """Bulk emails whose recipients were chosen by searching for the person ("text":
    "Jane Doe"): the words are replaced by the marker, not the filter removed, so a sent
    one still says how its recipients were chosen (its messages say whom it reached)."""
    erased = typed_words_erased(subject)
    # A campaign not yet queued has no messages: its search still chooses whom it goes
    # to, so the erased words change that and the sender must choose again.
    unsent = (Campaign.Status.DRAFT, Campaign.Status.AWAITING_APPROVAL)
    changed = {True: 0, False: 0}
    campaigns = Campaign.objects.filter(recipient_filters__has_key="text")
    for pk, status, filters in campaigns.values_list("pk", "status", "recipient_filters"):
        text = filters.get("text")
        if isinstance(text, str) and erased(text) != text:
            changed[status in unsent] += 1
            if apply:
                Campaign.objects.filter(pk=pk).update(
                    recipient_filters={**filters, "text": erased(text)}
                )
    words = "the words replaced by “[name erased]” (or the address by “[email erased]”)"
    changes = []
    if changed[False]:
        changes.append(
            Change(
                "Bulk emails whose recipients were chosen by their name or address",
                f"{words}; whom each went to is unchanged",
                changed[False],
            )
        )
    if changed[True]:
        changes.append(
            Change(
                "Bulk emails not yet sent whose recipients are chosen by their name or address",
                f"{words}; their search no longer finds the same people: choose the "
                "recipients again before sending",
                changed[True],
            )
        )
    return changes


def _campaigns_received(subject):
    yield TextPlace(
        "Bulk emails sent or meant for them",
        Campaign.objects.filter(pk__in=_messages(subject).values("campaign_id")).select_related(
            "unit"
        ),
        ("subject", "body"),
        lambda c: f"Bulk email from the {c.unit}, {in_words(c.queued_at or c.created_at)}",
    )
    # A sender's reason for leaving them out of a campaign may name them.
    yield TextPlace(
        "Reasons they were left out of a bulk email",
        LeftOut.objects.filter(contact_id__in=subject.contact_ids).select_related("campaign"),
        ("reason",),
        lambda left: f"Left out of the bulk email “{left.campaign.subject}”",
    )


def _letter(subject):
    messages = _messages(subject).select_related("campaign__unit").order_by("sent_at", "pk")
    for message in messages:
        sent = message.status == OutboxMessage.Status.SENT
        # Under "Messages we sent you" only those that went; the others (cancelled,
        # failed, stopped) are still held, with the address, so they are listed too.
        yield LetterEntry(
            "messages" if sent else "other",
            f"Bulk email: {message.campaign.subject}"
            if sent
            else f"Bulk email not sent to you: {message.campaign.subject}",
            [
                ("From", str(message.campaign.unit)),
                (
                    "To",
                    ADDRESS_REMOVED if message.email.endswith(ERASED_ADDRESS) else message.email,
                ),
                ("Sent", message.sent_at),
                ("Status", message.get_status_display()),
            ],
            when=message.sent_at,
        )
    sent = Campaign.objects.filter(sender_id__in=subject.user_ids).count()
    if sent:
        yield LetterEntry("activity", "Bulk emails you sent", [("Emails", sent)])


erase_outbox = PersonalDataHandler(
    anonymise=_anonymise_outbox,
    places=_campaigns_received,
    letter=_letter,
    covers=(
        "mailing.OutboxMessage.contact",
        "mailing.Campaign.sender",
        # The sender who left a contact out; the contact's own link is the reason's place.
        "mailing.LeftOut.by",
        "mailing.LeftOut.contact",
    ),
)


def _email_records_cutoff():
    from django.utils import timezone

    return timezone.now() - EMAIL_RECORDS_KEPT


def old_campaign_bodies_due():
    return Campaign.objects.filter(finished_at__lt=_email_records_cutoff()).exclude(body="")


def old_outbox_addresses_due():
    """The recipients' addresses of bulk emails that finished sending long ago (the rows
    stay: the figures per organisation count them)."""
    return OutboxMessage.objects.filter(campaign__finished_at__lt=_email_records_cutoff()).exclude(
        email__endswith="@erased.invalid"
    )


def forget_outbox_addresses(rows) -> int:
    """As erasure does: a placeholder unique to the row (one address per campaign), and
    the error, which may quote the address, cleared."""
    return rows.update(
        email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@erased.invalid")),
        error="",
    )


def clear_campaign_bodies(rows) -> int:
    """Keep that a campaign went (subject, counts) but not what it said."""
    return rows.update(body="")
