"""Campaigns: write, check who receives them, queue them in the outbox, unsubscribe."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import Action, access_for
from mycareer.mailing.content import clean_html, render_for
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.recipients import RecipientList, contacts_for_query, recipient_list
from mycareer.organisations import services as organisation_services
from mycareer.organisations.models import Contact, EmailOptOut


def _require_sender(user: User) -> None:
    access = access_for(user)
    if not access.can(Action.BULK_EMAIL):
        raise PermissionDenied(access.why_not(Action.BULK_EMAIL) or "You may not send bulk email.")


def _check_query(query: str) -> None:
    from mycareer.organisations.search import OrganisationQuery

    try:
        OrganisationQuery.from_querystring(query)
    except ValidationError as error:
        raise ValidationError({"recipient_query": "This search is not valid."}) from error


@transaction.atomic
def campaign_create(
    *,
    sender: User,
    unit: Unit,
    purpose: str,
    subject: str,
    body: str,
    recipient_query: str = "",
    promoted_events: list[int] | None = None,
) -> Campaign:
    """Start a draft campaign (only designated, trained senders)."""
    _require_sender(sender)
    _check_query(recipient_query)
    campaign = Campaign.objects.create(
        sender=sender,
        unit=unit,
        purpose=purpose,
        subject=subject,
        body=clean_html(body),
        recipient_query=recipient_query,
        promoted_events=list(promoted_events or []),
    )
    audit.log(campaign, "mailing.campaign.created", by=sender, data={"subject": subject})
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, by: User, **data) -> Campaign:
    """Change a draft; once queued a campaign no longer changes."""
    _require_sender(by)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError("Only a draft can be changed.")
    if "body" in data:
        data["body"] = clean_html(data["body"])
    if "recipient_query" in data:
        _check_query(data["recipient_query"])
    if "promoted_events" in data:
        data["promoted_events"] = list(data["promoted_events"] or [])
    changed = [name for name, value in data.items() if getattr(campaign, name) != value]
    for name, value in data.items():
        setattr(campaign, name, value)
    campaign.save()
    if changed:
        audit.log(campaign, "mailing.campaign.changed", by=by, data={"fields": sorted(changed)})
    return campaign


def campaign_recipients(campaign: Campaign) -> RecipientList:
    """Every contact the campaign reaches and every one it leaves out, with the reason."""
    return recipient_list(
        contacts_for_query(campaign.recipient_query),
        sender=campaign.sender,
        purpose=campaign.purpose,
        ignore_campaign=campaign,
    )


def _queue(campaign: Campaign) -> int:
    from mycareer.mailing.tasks import send_campaign

    recipients = campaign_recipients(campaign)
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
    transaction.on_commit(lambda: send_campaign.enqueue(campaign.pk))
    return len(recipients.included)


@transaction.atomic
def campaign_send(*, campaign: Campaign, by: User) -> Campaign:
    """Queue a draft for sending (or for a second sender's approval, where the site asks)."""
    _require_sender(by)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError("This campaign has already been sent or queued.")
    if by != campaign.sender:
        raise ValidationError("Only the person who wrote the campaign can send it.")
    recipients = campaign_recipients(campaign)
    if not recipients.included:
        raise ValidationError("Nobody would receive this campaign: check the recipient search.")
    if settings.MYCAREER["BULK_EMAIL_NEEDS_APPROVAL"]:
        campaign.status = Campaign.Status.AWAITING_APPROVAL
        campaign.save(update_fields=["status"])
        audit.log(campaign, "mailing.campaign.submitted", by=by)
        return campaign
    queued = _queue(campaign)
    audit.log(
        campaign,
        "mailing.campaign.queued",
        by=by,
        data={"recipients": queued, "left_out": dict(recipients.reasons)},
    )
    return campaign


@transaction.atomic
def campaign_approve(*, campaign: Campaign, by: User) -> Campaign:
    """A second designated sender approves a campaign, which then goes."""
    _require_sender(by)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.AWAITING_APPROVAL:
        raise ValidationError("This campaign is not waiting for approval.")
    if by == campaign.sender:
        raise ValidationError("Another designated sender must approve your campaign.")
    campaign.approved_by = by
    campaign.save(update_fields=["approved_by"])
    queued = _queue(campaign)
    audit.log(campaign, "mailing.campaign.approved", by=by, data={"recipients": queued})
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: User) -> int:
    """Stop a campaign; messages not yet sent are dropped. Returns how many were dropped."""
    _require_sender(by)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status in (Campaign.Status.SENT, Campaign.Status.CANCELLED):
        raise ValidationError("This campaign has finished.")
    dropped, _ = campaign.messages.filter(status=OutboxMessage.Status.PENDING).delete()
    campaign.status = Campaign.Status.CANCELLED
    campaign.finished_at = timezone.now()
    campaign.save(update_fields=["status", "finished_at"])
    audit.log(campaign, "mailing.campaign.cancelled", by=by, data={"dropped": dropped})
    return dropped


def campaign_send_test(*, campaign: Campaign, by: User, contact: Contact | None = None) -> None:
    """Send the campaign to oneself, as `contact` would see it, marked as a test."""
    from mycareer.mailing.crosspromotion import events_for
    from mycareer.mailing.unsubscribe import unsubscribe_url

    _require_sender(by)
    if contact is None:
        included = campaign_recipients(campaign).included
        if not included:
            raise ValidationError(
                "Nobody would receive this campaign, so there is nothing to test."
            )
        contact = included[0]
    content = render_for(
        campaign,
        contact,
        events=events_for(campaign),
        unsubscribe_url=unsubscribe_url(contact.pk, campaign.purpose),
    )
    message = EmailMultiAlternatives(
        subject=f"[TEST] {content['subject']}", body=content["text"], to=[by.email]
    )
    message.attach_alternative(content["html"], "text/html")
    message.send()
    audit.log(campaign, "mailing.campaign.tested", by=by, data={"as": contact.pk})


@transaction.atomic
def unsubscribe(*, contact: Contact, purpose: str) -> EmailOptOut:
    """The one-click unsubscribe: the contact leaves this kind of bulk email at once."""
    return organisation_services.contact_opt_out(
        contact=contact, purpose=purpose, method=EmailOptOut.Method.LINK, by=None
    )
