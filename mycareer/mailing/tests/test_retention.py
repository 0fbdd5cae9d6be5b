"""Bulk email's records are kept 2 years after sending: the bodies, then the recipients'
addresses; the rows stay for the figures per organisation. A contact removed before then
is not shown by their address on the organisation's timeline."""

import datetime

import pytest
from django.utils import timezone

from mycareer.audit.retention import retention_apply, retention_dry_run, retention_rules
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.selectors import email_timeline_source
from mycareer.organisations import services as org_services

pytestmark = pytest.mark.django_db


def _campaign(persona, cast, *, finished_days_ago: int) -> Campaign:
    finished = timezone.now() - datetime.timedelta(days=finished_days_ago)
    return Campaign.objects.create(
        sender=persona("mailer"),
        unit=cast["units"]["lubs"],
        subject=f"Fair {finished_days_ago}",
        body="Come to the fair.",
        status=Campaign.Status.SENT,
        finished_at=finished,
    )


def _message(campaign, contact, **extra) -> OutboxMessage:
    return OutboxMessage.objects.create(
        campaign=campaign,
        contact=contact,
        email=contact.email,
        status="sent",
        sent_at=campaign.finished_at,
        organisation_id_at_send=contact.organisation_id,
        **extra,
    )


def test_recipients_addresses_go_two_years_after_sending_and_the_rows_stay(persona, cast, tagged):
    """Bodies went after 2 years, addresses never: each row named whom it reached."""
    old = _campaign(persona, cast, finished_days_ago=800)
    recent = _campaign(persona, cast, finished_days_ago=300)
    ana, ben = tagged[0].contacts.order_by("pk")[:2]
    gone = [
        _message(old, ana, error="550 p0@aurora.example.com: no such mailbox"),
        _message(old, ben),
    ]
    kept = _message(recent, ana)

    assert {rule.name: count for rule, count in retention_dry_run()}[
        "Bulk email recipients' addresses"
    ] == 2
    done = retention_apply(by=None)

    assert done["Bulk email recipients' addresses"] == 2
    for message in gone:
        message.refresh_from_db()
        assert message.email == f"erased-{message.pk}@erased.invalid"
        assert (message.error, message.status) == ("", "sent")
        assert message.contact_id and message.organisation_id_at_send  # the figures stay
    kept.refresh_from_db()
    assert kept.email == ana.email
    # Nothing more the next day: the placeholders are not due again.
    assert retention_apply(by=None)["Bulk email recipients' addresses"] == 0
    # Listed with the same period as the bodies.
    periods = {rule.name: rule.keep_for for rule in retention_rules()}
    assert periods["Bulk email recipients' addresses"] == "2 years after sending"
    assert periods["Bulk email message bodies"] == "2 years after sending"


def test_the_timeline_does_not_show_a_removed_contacts_address(persona, cast, tagged):
    """The organisation's timeline is the employer's to read too: a contact deleted since
    is not named by the address their record held."""
    org = tagged[0]
    campaign = _campaign(persona, cast, finished_days_ago=3)
    contact = org.contacts.order_by("pk").first()
    _message(campaign, contact)
    org_services.contact_delete(contact=contact, by=persona("operator"))

    [entry] = email_timeline_source(org, viewer=persona("viewer"), limit=10)

    assert entry.details == ["To a contact since removed"]
    assert contact.email not in str(entry.details)
