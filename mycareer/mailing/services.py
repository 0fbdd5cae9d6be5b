"""Campaigns: write, choose who receives them, confirm, queue them in the outbox.

Who receives a campaign is a decision of its own, stored as the organisation search's
filters and changed only by `campaign_recipients_change`, which reports the number
before and after. Editing the words never touches it. Sending is confirmed with the
number of recipients, counted again under a lock at the moment of queueing.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import check_perm
from mycareer.core.locks import hold_lock
from mycareer.core.logs import log_event
from mycareer.core.mail import deliver
from mycareer.core.text import counted, joined
from mycareer.mailing import selectors
from mycareer.mailing.content import check_markdown, check_subject, render_for
from mycareer.mailing.crosspromotion import events_for
from mycareer.mailing.models import Campaign, LeftOut, OutboxMessage
from mycareer.mailing.recipients import (
    RecipientList,
    Why,
    campaign_contacts,
    campaign_query,
    filter_problems,
    gone_in_words,
    read_stored_search,
    recipient_list,
)
from mycareer.mailing.tasks import start_sending
from mycareer.mailing.unsubscribe import unsubscribe_url
from mycareer.organisations import merging, optouts
from mycareer.organisations import services as organisation_services
from mycareer.organisations.models import Contact, EmailOptOut, Organisation
from mycareer.organisations.search import (
    OrganisationQuery,
    describe_query,
    selects_every_organisation,
    unreadable_filters,
)

logger = logging.getLogger(__name__)

# Any fixed number: the key of PostgreSQL's advisory lock for queueing bulk email.
OUTBOX_LOCK = 7_021_115

# What `campaign_update` may change: the words and the events, never the recipients.
CONTENT_FIELDS = frozenset({"subject", "purpose", "unit", "body", "promoted_events"})


class CampaignSaved(NamedTuple):
    """What saving a draft's words did."""

    changed: list[str]  # the fields changed; empty when nothing was
    # The number of recipients before and after a change of kind (each opt-out is of a
    # kind), else None.
    counts: tuple[int, int] | None


class RecipientsSaved(NamedTuple):
    """What choosing a draft's recipients again did."""

    before: int  # the number included before
    after: int  # and after
    changed: bool  # False when the same choice was saved again: nothing written


class RecipientsChanged(ValidationError):
    """The recipients are not the ones the sender confirmed: another number, or as many
    other people."""

    def __init__(self, *, confirmed: int, now: int):
        self.confirmed, self.now = confirmed, now
        if now == confirmed:
            message = ngettext(
                "The recipients changed since you checked them: still %(now)d, but not the "
                "same person. Check who will receive it and confirm again.",
                "The recipients changed since you checked them: still %(now)d, but not the "
                "same people. Check who will receive it and confirm again.",
                now,
            )
        else:
            message = ngettext(
                "The number of recipients changed since you checked it: it is now %(now)d "
                "(you confirmed %(confirmed)d). Check who will receive it and confirm again.",
                "The number of recipients changed since you checked it: it is now %(now)d "
                "(you confirmed %(confirmed)d). Check who will receive it and confirm again.",
                now,
            )
        super().__init__(message % {"now": now, "confirmed": confirmed}, code="recipients_changed")


def require_own(campaign: Campaign, by: User, *, doing: str) -> None:
    """Only the person who wrote a campaign changes it (policy 2.5: designated senders)."""
    if campaign.sender_id != by.pk:
        log_event(
            logger, "access.refused", action=f"mailing.{doing}", campaign=campaign.pk, user=by.pk
        )
        raise PermissionDenied(
            f"Only {campaign.sender}, who wrote this campaign, can {doing.replace('_', ' ')} it."
        )


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError("Only a draft can be changed.")


def _check_purpose(purpose: str) -> None:
    if purpose not in dict(Campaign.PURPOSE_CHOICES):
        kinds = ", ".join(label.lower() for _, label in Campaign.PURPOSE_CHOICES)
        raise ValidationError(
            {"purpose": f"Choose the kind of email it is ({kinds}), so opt-outs are kept."},
            code="purpose",
        )


def checked_recipients(*, filters: dict | None, everyone: bool, by: User) -> dict:
    """The filters as stored, after checking them; refuses an empty or unknown choice.

    Every employer contact is an explicit choice that only administrators may make;
    empty filters never mean "everyone".
    """
    if everyone:
        if filters:
            raise ValidationError(
                "Choose either every employer contact or a search, not both.", code="both"
            )
        check_perm(by, "mailing.email_every_contact")
        return {}
    if not filters:
        raise ValidationError(
            "Choose who receives it: a search with at least one filter.", code="no_recipients"
        )
    query = read_stored_search(filters, viewer=by)
    if not query.is_filtered:
        raise ValidationError(
            "Choose who receives it: a search with at least one filter.", code="no_recipients"
        )
    _check_narrows(query)
    return query.to_filters()


def _check_narrows(query: OrganisationQuery) -> None:
    """Refuse a search that leaves out no active organisation: every employer contact is
    chosen as itself, by an administrator, never reached through filters that narrow
    nothing."""
    organisation_services.check_values_narrow(query)
    if selects_every_organisation(query):
        raise ValidationError(
            "This search selects every active organisation, so it would email every employer "
            "contact. Add a filter that narrows it; only an administrator may email every "
            "employer contact, by choosing that on its own.",
            code="every_organisation",
        )


def recipients_in_words(campaign: Campaign) -> str:
    """The campaign's recipients choice as a person would say it."""
    if campaign.recipients_everyone:
        return "Every employer contact"
    if not campaign.recipient_filters:
        return "Nobody yet: choose the recipients"
    try:
        query = OrganisationQuery.from_filters(campaign.recipient_filters, viewer=campaign.sender)
    except ValidationError:
        problems = unreadable_filters(campaign.recipient_filters)
        if campaign.queued_at is not None:
            # Sent as it was then: nothing to mend, and its list says whom it reached.
            return f"{gone_in_words(problems)}; who it went to is listed below."
        return f"A search that no longer works: {filter_problems(problems, stored=True)}"
    return describe_query(query, viewer_name=str(campaign.sender))


@transaction.atomic
def campaign_create(
    *,
    sender: User,
    unit: Unit,
    purpose: str,
    subject: str,
    body: str,
    recipient_filters: dict | None = None,
    recipients_everyone: bool = False,
    promoted_events: list[int] | None = None,
) -> Campaign:
    """Start a draft campaign for the recipients chosen (only designated, trained senders)."""
    check_perm(sender, "mailing.send_campaign")
    _check_purpose(purpose)
    filters = checked_recipients(filters=recipient_filters, everyone=recipients_everyone, by=sender)
    check_subject(subject)
    check_markdown(body)
    campaign = Campaign.objects.create(
        sender=sender,
        unit=unit,
        purpose=purpose,
        subject=subject,
        body=body,
        recipient_filters=filters,
        recipients_everyone=recipients_everyone,
        promoted_events=list(promoted_events or []),
    )
    audit.log(
        campaign,
        "mailing.campaign.created",
        by=sender,
        data={"subject": subject, "recipients": recipients_in_words(campaign)},
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, by: User, **data) -> CampaignSaved:
    """Change a draft's words, kind or promoted events; its recipient search stays as it is.

    Returns the fields changed and, when the kind changed (which changes who is left out:
    each opt-out is of a kind), the number included before and after. Saved unchanged,
    nothing is written or recorded.
    """
    unknown = set(data) - CONTENT_FIELDS
    if unknown:
        raise TypeError(f"campaign_update changes content only, not {sorted(unknown)}")
    check_perm(by, "mailing.send_campaign")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_own(campaign, by, doing="change")
    _require_draft(campaign)
    if "purpose" in data:
        _check_purpose(data["purpose"])
    if "subject" in data:
        check_subject(data["subject"])
    if "body" in data:
        check_markdown(data["body"])
    if "promoted_events" in data:
        data["promoted_events"] = list(data["promoted_events"] or [])
    changed = sorted(name for name, value in data.items() if getattr(campaign, name) != value)
    if not changed:
        return CampaignSaved(changed=[], counts=None)
    before = _count_or_zero(campaign) if "purpose" in changed else None
    for name in changed:
        setattr(campaign, name, data[name])
    campaign.save(update_fields=changed)
    counts = None if before is None else (before, _count_or_zero(campaign))
    details: dict = {"fields": changed}
    if counts is not None:
        details["recipients"] = {"before": counts[0], "after": counts[1]}
    audit.log(campaign, "mailing.campaign.changed", by=by, data=details)
    return CampaignSaved(changed=changed, counts=counts)


@transaction.atomic
def campaign_recipients_change(
    *,
    campaign: Campaign,
    by: User,
    recipient_filters: dict | None,
    recipients_everyone: bool = False,
) -> RecipientsSaved:
    """Choose a draft's recipients again; returns the number included before and after.

    The choice is checked as a new one is, even when it is the same; the same choice
    saved again writes and records nothing.
    """
    check_perm(by, "mailing.send_campaign")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_own(campaign, by, doing="change")
    _require_draft(campaign)
    before = _count_or_zero(campaign)
    old_words = recipients_in_words(campaign)
    filters = checked_recipients(filters=recipient_filters, everyone=recipients_everyone, by=by)
    if (filters, recipients_everyone) == (
        campaign.recipient_filters,
        campaign.recipients_everyone,
    ):
        return RecipientsSaved(before=before, after=before, changed=False)
    campaign.recipient_filters = filters
    campaign.recipients_everyone = recipients_everyone
    campaign.save(update_fields=["recipient_filters", "recipients_everyone"])
    after = len(campaign_recipients(campaign).included)
    audit.log(
        campaign,
        "mailing.campaign.recipients_changed",
        by=by,
        data={
            "before": {"recipients": old_words, "count": before},
            "after": {"recipients": recipients_in_words(campaign), "count": after},
        },
    )
    return RecipientsSaved(before=before, after=after, changed=True)


def _count_or_zero(campaign: Campaign) -> int:
    try:
        return len(campaign_recipients(campaign).included)
    except ValidationError:
        return 0


@transaction.atomic
def campaign_leave_out(*, campaign: Campaign, contact: Contact, reason: str, by: User) -> LeftOut:
    """Leave one contact out of a draft, with the sender's reason (shown in the list)."""
    check_perm(by, "mailing.send_campaign")
    require_own(campaign, by, doing="change")
    _require_draft(campaign)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say why this person is left out."})
    if not campaign_contacts(campaign).filter(pk=contact.pk).exists():
        raise ValidationError(f"{contact.full_name} is not among this campaign's recipients.")
    left_out, _ = LeftOut.objects.update_or_create(
        campaign=campaign, contact=contact, defaults={"reason": reason[:200], "by": by}
    )
    audit.log(campaign, "mailing.campaign.left_out", by=by, data={"contact": contact.pk})
    return left_out


@transaction.atomic
def campaign_put_back(*, campaign: Campaign, contact: Contact, by: User) -> None:
    """Undo leaving a contact out of a draft."""
    check_perm(by, "mailing.send_campaign")
    require_own(campaign, by, doing="change")
    _require_draft(campaign)
    deleted, _ = LeftOut.objects.filter(campaign=campaign, contact=contact).delete()
    if deleted:
        audit.log(campaign, "mailing.campaign.put_back", by=by, data={"contact": contact.pk})


def campaign_recipients(campaign: Campaign) -> RecipientList:
    """Every contact the campaign reaches and every one it leaves out, with the reason.

    Raises ValidationError when the stored search is no longer valid.
    """
    saved = campaign.pk is not None  # an unsaved draft is counted before it is written
    return recipient_list(
        campaign_contacts(campaign),
        sender=campaign.sender,
        purpose=campaign.purpose,
        ignore_campaign=campaign if saved else None,
        left_out=dict(campaign.left_out.values_list("contact_id", "reason")) if saved else {},
    )


def _recount(campaign: Campaign, confirmed: int, fingerprint: str | None) -> RecipientList:
    """The recipients now, under the outbox lock, refusing if they are not the ones
    confirmed: their number, and their `fingerprint` when the sender's page gave one."""
    hold_lock(OUTBOX_LOCK)
    if not campaign.recipients_everyone and (query := campaign_query(campaign)) is not None:
        _check_narrows(query)  # a tag everyone now has, say
    recipients = campaign_recipients(campaign)
    if not recipients.included:
        raise ValidationError(
            "Nobody would receive this campaign: check who receives it.", code="nobody"
        )
    now = len(recipients.included)
    if now != confirmed or fingerprint not in (None, recipients.fingerprint):
        raise RecipientsChanged(confirmed=confirmed, now=now)
    return recipients


def _queue(campaign: Campaign, recipients: RecipientList) -> int:

    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                campaign=campaign,
                contact=contact,
                email=contact.email.lower(),
                organisation_id_at_send=contact.organisation_id,
            )
            for contact in recipients.included
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    campaign.status = Campaign.Status.QUEUED
    campaign.queued_at = timezone.now()
    campaign.save(update_fields=["status", "queued_at"])
    transaction.on_commit(lambda: start_sending(campaign.pk))
    log_event(
        logger, "mailing.campaign.queued", campaign=campaign.pk, recipients=len(recipients.included)
    )
    return len(recipients.included)


@transaction.atomic
def campaign_send(
    *, campaign: Campaign, by: User, confirmed: int, fingerprint: str | None = None
) -> Campaign:
    """Queue a draft for the `confirmed` number of recipients (or for a second sender's
    approval, where the site asks); refuses if the recipients are no longer those
    confirmed: their number, and the people themselves when `fingerprint` (the
    `RecipientList.fingerprint` the sender's page showed) is given."""
    check_perm(by, "mailing.send_campaign")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError("This campaign has already been sent or queued.")
    require_own(campaign, by, doing="send")
    # A draft saved before a rule was added must meet it too.
    check_subject(campaign.subject)
    check_markdown(campaign.body)
    recipients = _recount(campaign, confirmed, fingerprint)
    left_out = dict(recipients.reasons)
    if settings.MYCAREER["BULK_EMAIL_NEEDS_APPROVAL"]:
        campaign.status = Campaign.Status.AWAITING_APPROVAL
        campaign.save(update_fields=["status"])
        action, count = "mailing.campaign.submitted", confirmed
    else:
        action, count = "mailing.campaign.queued", _queue(campaign, recipients)
    audit.log(campaign, action, by=by, data={"recipients": count, "left_out": left_out})
    return campaign


def check_approver(campaign: Campaign, by: User) -> None:
    """A second pair of eyes: the sender never approves their own campaign."""
    if campaign.sender_id == by.pk:
        raise ValidationError("Another designated sender must approve your campaign.")


def _check_content_to_approve(campaign: Campaign) -> None:
    """Refuse, in the words the sender would read, a subject or body that would not reach
    readers as meant, and say who can correct it."""
    errors: dict[str, list[str]] = {}
    for check, text in ((check_subject, campaign.subject), (check_markdown, campaign.body)):
        try:
            check(text)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        errors[NON_FIELD_ERRORS] = [
            f"Ask {campaign.sender} to take the campaign back to draft and correct it: "
            "only they can change it."
        ]
        raise ValidationError(errors)


@transaction.atomic
def campaign_approve(
    *, campaign: Campaign, by: User, confirmed: int, fingerprint: str | None = None
) -> Campaign:
    """A second designated sender approves a campaign for `confirmed` recipients (and the
    `fingerprint` of the people shown), checked as `campaign_send` checks them."""
    check_perm(by, "mailing.send_campaign")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.AWAITING_APPROVAL:
        raise ValidationError("This campaign is not waiting for approval.")
    check_approver(campaign, by)
    # Submitted before a rule was added: it must meet it too, and only its sender can
    # mend it.
    _check_content_to_approve(campaign)
    recipients = _recount(campaign, confirmed, fingerprint)
    campaign.approved_by = by
    campaign.save(update_fields=["approved_by"])
    queued = _queue(campaign, recipients)
    audit.log(campaign, "mailing.campaign.approved", by=by, data={"recipients": queued})
    return campaign


@transaction.atomic
def campaign_return_to_draft(*, campaign: Campaign, by: User) -> Campaign:
    """Take back a campaign waiting for approval, to change it."""
    check_perm(by, "mailing.send_campaign")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_own(campaign, by, doing="change")
    if campaign.status != Campaign.Status.AWAITING_APPROVAL:
        raise ValidationError("This campaign is not waiting for approval.")
    campaign.status = Campaign.Status.DRAFT
    campaign.save(update_fields=["status"])
    audit.log(campaign, "mailing.campaign.returned_to_draft", by=by)
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: User) -> int:
    """Stop a campaign; messages not yet sent are dropped. Returns how many were dropped.

    The sender cancels their own campaign; an administrator may cancel anyone's, and
    that is recorded as such.
    """
    check_perm(by, "mailing.send_campaign")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    as_administrator = campaign.sender_id != by.pk
    if not by.has_perm("mailing.cancel_campaign", campaign):
        require_own(campaign, by, doing="cancel")
    if campaign.status == Campaign.Status.DRAFT:
        raise ValidationError("This campaign is a draft: nothing is being sent to cancel.")
    if campaign.status == Campaign.Status.CANCELLED:
        raise ValidationError("This campaign is already cancelled.")
    if campaign.status == Campaign.Status.SENT:
        raise ValidationError("This campaign has been sent: nothing is left to cancel.")
    sending = OutboxMessage.Status.SENDING
    # Waiting, or claimed by a worker that died (its claim ran out): dropped now, kept as
    # "not sent: cancelled" so the campaign's page still says who they were.
    deleted = campaign.messages.filter(
        Q(status=OutboxMessage.Status.PENDING)
        | Q(status=sending, claim_expires_at__lt=timezone.now())
    ).update(
        status=OutboxMessage.Status.CANCELLED,
        claim_token="",
        claim_expires_at=None,
        next_attempt_at=None,
    )
    # Claimed by a living worker: it drops them before its next message, and adds them
    # to `not_sent` (sending.py). One it has already handed to the mail server still goes.
    dropped = deleted + campaign.messages.filter(status=sending).count()
    campaign.status = Campaign.Status.CANCELLED
    campaign.finished_at = timezone.now()
    campaign.cancelled_by = by
    campaign.not_sent = deleted
    campaign.save(update_fields=["status", "finished_at", "cancelled_by", "not_sent"])
    audit.log(
        campaign,
        "mailing.campaign.cancelled",
        by=by,
        data={"dropped": dropped, "as_administrator": as_administrator},
    )
    return dropped


@dataclass(frozen=True)
class PreviewContacts:
    """Whom a draft is previewed (or tested) as, and, when nobody would receive it now,
    why: the sender still checks their words before the reason goes away."""

    contacts: list[Contact]
    nobody_why: str = ""


SAMPLE_NAME = "Sample Recipient"
SAMPLE_ORGANISATION = "Sample Organisation"


def preview_contacts(campaign: Campaign) -> PreviewContacts:
    """Its recipients; when there are none, the contacts its search finds (none of them
    is emailed by a preview or a test); when it finds none, one of placeholder values.

    Raises ValidationError when the stored search is no longer valid.
    """
    recipients = campaign_recipients(campaign)
    if recipients.included:
        return PreviewContacts(recipients.included)
    # Not an erased person's record: their name is gone, and so is their part in this.
    found = [e.contact for e in recipients.excluded if e.kind != Why.ERASED]
    if recipients.excluded:
        left_out = joined([f"{n} {label}" for label, n in recipients.reason_counts])
        why = (
            "Nobody would receive this campaign yet: of the "
            f"{counted(len(recipients.excluded), 'contact', 'contacts')} it finds, {left_out}."
        )
    else:
        why = "Nobody would receive this campaign yet: its search finds no contacts."
    if not found:
        why += (
            f" The merge fields are filled with placeholder values: “{SAMPLE_NAME}” of "
            f"“{SAMPLE_ORGANISATION}”."
        )
    return PreviewContacts(found or [_sample_contact()], why)


def _sample_contact() -> Contact:
    """A contact that is nobody, never saved: it only fills the merge fields."""
    return Contact(
        pk=0, full_name=SAMPLE_NAME, email="", organisation=Organisation(name=SAMPLE_ORGANISATION)
    )


def campaign_send_test(*, campaign: Campaign, by: User, contact: Contact | None = None) -> None:
    """Send the campaign to oneself, as `contact` would see it, marked as a test.

    Also when nobody would receive it yet: the sender checks their words first."""

    check_perm(by, "mailing.send_campaign")
    require_own(campaign, by, doing="send_a_test_of")
    if contact is None:
        contact = preview_contacts(campaign).contacts[0]
    content = render_for(
        campaign,
        contact,
        events=events_for(campaign),
        unsubscribe_url=unsubscribe_url(contact.pk, campaign.purpose, sample=True),
    )
    message = EmailMultiAlternatives(
        subject=f"[TEST] {content['subject']}", body=content["text"], to=[by.email]
    )
    message.attach_alternative(content["html"], "text/html")
    deliver(message, kind="mailing.campaign_test")
    audit.log(campaign, "mailing.campaign.tested", by=by, data={"as": contact.pk})
    log_event(logger, "mailing.campaign.test_sent", campaign=campaign.pk, to=by.pk)


RECIPIENTS_HEADER = ["Name", "Organisation", "Email", "What happened", "Why", "Sent at"]


@transaction.atomic
def campaign_recipients_export(
    *, campaign: Campaign, by: User, outcome: str = ""
) -> Iterator[list]:
    """Record one download of who a campaign went to; returns the rows to send.

    The rows name people and their addresses, so each download is audited as the
    other exports are: who, which campaign, which outcome and how many rows.
    """
    check_perm(by, "mailing.send_campaign")
    if campaign.queued_at is None:
        raise ValidationError("This campaign has not been sent: nobody has received it yet.")
    messages = selectors.campaign_sent_to(campaign, outcome=outcome)
    data: dict = {"rows": messages.count()}
    if outcome in selectors.OUTCOMES:
        data["outcome"] = outcome
    audit.log(campaign, "mailing.recipients.exported", by=by, data=data)
    return _recipient_rows(messages)


def _recipient_rows(messages) -> Iterator[list]:
    yield RECIPIENTS_HEADER
    for message in messages.iterator(chunk_size=500):
        row = selectors.recipient_row(message)
        sent_at = timezone.localtime(message.sent_at).isoformat() if message.sent_at else ""
        yield [
            row["shown_name"],
            row["organisation"] or "",
            row["email"],
            row["outcome"],
            row["why"],
            sent_at,
        ]


@transaction.atomic
def unsubscribe(*, contact: Contact, purpose: str) -> EmailOptOut:
    """The one-click unsubscribe: the contact leaves this kind of bulk email at once."""
    return organisation_services.contact_opt_out(
        contact=contact, purpose=purpose, method=EmailOptOut.Method.LINK, by=None
    )


def _link_opt_out(contact: Contact, purpose: str, address: str) -> EmailOptOut | None:
    """The opt-out a link may take back: of this kind, on this record, made by its
    unsubscribe link, for the address the email went to (`address`, its digest), and the
    only choice keeping that address out of this kind of email. None otherwise.

    Not an erased person's; not when any other choice keeps them out (all bulk email, an
    opt-out staff recorded, another record's, one kept after a record went): whoever
    holds a forwarded email may press the link, and must not undo what the person said
    another way. Not from a link made before links named their address, nor when the
    record holds another address now (a successor in the role).
    """
    if (
        contact.erased_at is not None
        or purpose == EmailOptOut.Purpose.ALL
        or not address
        or not contact.email
        or optouts.address_digest(contact.email) != address
    ):
        return None
    own = EmailOptOut.objects.filter(
        contact=contact, purpose=purpose, method=EmailOptOut.Method.LINK
    ).first()
    if own is None:
        return None
    others = selectors.address_opt_outs(contact, purpose).exclude(pk=own.pk)
    if others.exists() or optouts.kept_opt_out(address, purpose) is not None:
        return None
    return own


def may_resubscribe(contact: Contact, purpose: str, address: str) -> bool:
    """Whether the unsubscribe page offers to take the press back (`_link_opt_out`)."""
    return _link_opt_out(contact, purpose, address) is not None


@transaction.atomic
def resubscribe(*, contact: Contact, purpose: str, address: str) -> bool:
    """The person changed their mind on their unsubscribe page: the opt-out their link made
    is taken back, and they receive this kind of bulk email again. False, and nothing
    done, where only that opt-out may not be taken back (`_link_opt_out`)."""
    own = _link_opt_out(contact, purpose, address)
    if own is None:
        log_event(logger, "mailing.resubscribe.refused", contact=contact.pk, purpose=purpose)
        return False
    own.delete()
    audit.log(
        contact,
        "organisations.contact.opted_in",
        by=None,
        data={"purpose": purpose, "method": EmailOptOut.Method.LINK},
    )
    log_event(logger, "mailing.resubscribed", contact=contact.pk, purpose=purpose)
    return True


@transaction.atomic
def unsubscribe_address(*, digest: str, purpose: str) -> None:
    """The one-click unsubscribe of an address whose record went or now holds another
    address: the address it was sent to leaves this kind of bulk email."""
    optouts.keep_opt_out_of_address(digest, purpose)
    log_event(logger, "mailing.unsubscribed", purpose=purpose, by="address", record="gone")


# Merging organisations (see organisations.merging) --------------------------------


def _merge_email_history(*, survivor, other, outcome) -> None:
    """Emails sent to the other record's contacts count for the survivor (timeline, chart)."""
    rows = OutboxMessage.objects.filter(organisation_id_at_send=other.pk)
    # Counted as the preview counts them: those sent, not those a cancel or a failure kept.
    sent = rows.filter(status=OutboxMessage.Status.SENT).count()
    rows.update(organisation_id_at_send=survivor.pk)
    outcome.moved("email", "emails", sent)


def _fold_into_one(rows, *, keep: Contact, first_key, kind: str, outcome) -> None:
    """Each of `rows` (a folded contact's, one campaign each) moves to `keep`; where `keep`
    has one for the same campaign, the row that comes first by `first_key` stays."""
    for row in list(rows):
        twin = type(row).objects.filter(campaign_id=row.campaign_id, contact=keep).first()
        if twin is not None:
            first, later = sorted([twin, row], key=first_key)
            outcome.conflict(kind, kept=first.pk, dropped=later.pk, campaign=row.campaign_id)
            later.delete()
            row = first
        if row.contact_id != keep.pk:
            row.contact = keep
            row.save(update_fields=["contact"])


def _fold_mailing_contact(*, keep: Contact, fold: Contact, outcome) -> None:
    """One person, one message and one "left out" per campaign: the sent (or the earlier)
    message stays, and the earlier decision to leave them out."""
    _fold_into_one(
        OutboxMessage.objects.filter(contact=fold),
        keep=keep,
        first_key=lambda m: (m.status != OutboxMessage.Status.SENT, m.sent_at is None, m.pk),
        kind="mailing.outbox_message",
        outcome=outcome,
    )
    _fold_into_one(
        LeftOut.objects.filter(contact=fold),
        keep=keep,
        first_key=lambda left: (left.created_at, left.pk),
        kind="mailing.left_out",
        outcome=outcome,
    )


MERGE_HANDLER = merging.MergeHandler(
    name="mailing",
    relations=("mailing.OutboxMessage.contact", "mailing.LeftOut.contact"),
    organisation=_merge_email_history,
    contact=_fold_mailing_contact,
    preview=lambda other: {
        "emails": OutboxMessage.objects.filter(
            organisation_id_at_send=other.pk, status=OutboxMessage.Status.SENT
        ).count()
    },
    nouns=(("email", "emails"),),
)
