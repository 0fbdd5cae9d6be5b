import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.organisations.models import Contact, EmailOptOut


def new_message_id() -> str:
    return f"<{secrets.token_hex(16)}@mycareer>"


class Campaign(models.Model):
    """A bulk email to employer contacts, sent through the outbox by the task worker."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_APPROVAL = "awaiting", "Waiting for a second sender's approval"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    Purpose = EmailOptOut.Purpose
    # A campaign names its one kind, so a contact's opt-out of that kind is kept; "all
    # bulk email" is a kind people leave, not one a sender may choose.
    PURPOSE_CHOICES = [
        (value, label)
        for value, label in EmailOptOut.Purpose.choices
        if value != EmailOptOut.Purpose.ALL
    ]

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="campaigns")
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.EVENTS)
    subject = SingleLineCharField(max_length=200)
    body = MultiLineTextField(help_text="Markdown: paragraphs, **bold**, *italics*, lists, links.")
    # Who receives it: the organisation search's filters (OrganisationQuery.to_filters()),
    # read strictly each time. Empty filters select nobody; every employer contact is the
    # explicit `recipients_everyone`, which only administrators may choose.
    recipient_filters = models.JSONField(default=dict, blank=True)
    recipients_everyone = models.BooleanField(default=False)
    promoted_events = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    # Touched by the sending task as it works, so a watchdog can tell a stalled campaign.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The task result of the latest link of the sending chain: the watchdog starts another
    # chain only when that one is neither waiting to run nor running with a heartbeat.
    sending_task_id = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Cancelling drops the messages not yet sent (kept as "not sent: cancelled"): who
    # cancelled, and how many were dropped, so the campaign still says what happened.
    # Empty until cancelled.
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    not_sent = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages dropped, not sent, when it was cancelled."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("mailing:campaign", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def has_recipients_chosen(self) -> bool:
        return self.recipients_everyone or bool(self.recipient_filters)


class LeftOut(models.Model):
    """A contact the sender chose to leave out of one campaign, and why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="left_out")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="left_out_once")
        ]

    def __str__(self) -> str:
        return f"{self.contact} left out of {self.campaign}"


class OutboxMessage(models.Model):
    """One recipient of one campaign. Marked sent only after the SMTP server accepted it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Not sent after all: since it was queued, the person opted out, their record
        # went, their address bounced or their organisation stopped (`error` says which).
        STOPPED = "stopped", "Stopped"
        # Not sent because the campaign was cancelled first. The row stays (it used to
        # be deleted) so the campaign's page can say who never received it.
        CANCELLED = "cancelled", "Not sent: cancelled"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="outbox_messages"
    )
    # Kept so figures per organisation stay right after a contact is erased or moves.
    organisation_id_at_send = models.BigIntegerField(null=True, db_index=True)
    email = models.EmailField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    message_id = models.CharField(max_length=100, unique=True, default=new_message_id)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker holds a row while `claim_token` is its own and `claim_expires_at` is ahead;
    # it renews the expiry before each message and marks "sent" only while it holds it.
    claim_token = models.CharField(max_length=32, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="one_message_per_contact"),
            models.UniqueConstraint(fields=["campaign", "email"], name="one_message_per_address"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["email", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} to {self.email}"
