"""Who receives a bulk email and who is left out, with the reason for each."""

import datetime

import pytest
from django.utils import timezone

from mycareer.mailing import services
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.recipients import contacts_for_query, recipient_list
from mycareer.organisations import keyaccounts
from mycareer.organisations import services as org_services
from mycareer.organisations.models import Contact

pytestmark = pytest.mark.django_db


def reasons(result):
    return {e.contact.email: e.reason for e in result.excluded}


def test_the_search_selects_the_contacts_of_its_organisations(tagged, query):
    emails = sorted(c.email for c in contacts_for_query(query))
    assert len(emails) == 6
    assert all(e.endswith(".example.com") for e in emails)


def test_every_exclusion_reason(persona, cast, tagged, query, pending):
    mailer = persona("mailer")
    aurora, birchwood, _ = tagged
    a0, a1 = aurora.contacts.order_by("email")
    b0, b1 = birchwood.contacts.order_by("email")
    org_services.contact_opt_out(contact=a0, purpose="events", method="staff", by=mailer)
    Contact.objects.filter(pk=a1.pk).update(email_bounced_at=timezone.now())
    org_services.contact_update(contact=b0, by=mailer, email="")
    result = recipient_list(contacts_for_query(query), sender=mailer, purpose="events")
    got = reasons(result)
    assert got["p0@aurora.example.com"] == "opted out: event promotion"
    assert got["p1@aurora.example.com"].startswith("bounced before: on ")
    assert got[""] == "no email address"
    assert got["p0@cobalt.example.com"] == "not a contact of an active organisation"
    assert [c.email for c in result.included] == ["p1@birchwood.example.com"]
    # Opting out of one purpose leaves the others.
    newsletter = recipient_list(contacts_for_query(query), sender=mailer, purpose="newsletters")
    assert "p0@aurora.example.com" not in reasons(newsletter)


def test_opting_out_of_all_bulk_email_excludes_every_purpose(persona, tagged, query):
    contact = tagged[0].contacts.first()
    org_services.contact_opt_out(contact=contact, purpose="all", method="link", by=None)
    for purpose in ("events", "newsletters", "vacancies", "other"):
        result = recipient_list(
            contacts_for_query(query), sender=persona("mailer"), purpose=purpose
        )
        assert reasons(result)[contact.email] == "opted out: all bulk email"


def test_frequency_limit_counts_email_from_every_unit(persona, cast, tagged, query):
    mailer, admin = persona("mailer"), persona("admin")
    contact = tagged[0].contacts.first()
    now = timezone.now()
    for unit, days in (("careers", 3), ("mech", 10)):
        campaign = Campaign.objects.create(
            sender=admin, unit=cast["units"][unit], subject="Earlier", body="x", status="sent"
        )
        OutboxMessage.objects.create(
            campaign=campaign,
            contact=contact,
            email=contact.email,
            status="sent",
            sent_at=now - datetime.timedelta(days=days),
        )
    result = recipient_list(contacts_for_query(query), sender=mailer, purpose="events")
    assert reasons(result)[contact.email] == "emailed too often: 2 bulk emails in the last 14 days"
    later = recipient_list(
        contacts_for_query(query),
        sender=mailer,
        purpose="events",
        now=now + datetime.timedelta(days=5),
    )
    assert contact.email not in reasons(later)  # the older one has dropped out of the window


def test_key_contacts_are_left_out_without_liaison(persona, cast, tagged, query):
    tom, mailer = persona("operator"), persona("mailer")
    org = tagged[1]
    contact = org.contacts.order_by("email").first()
    account = keyaccounts.key_account_create(
        organisation=org, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(account=account, contact=contact, guidance="", by=tom)
    result = recipient_list(contacts_for_query(query), sender=mailer, purpose="events")
    assert (
        reasons(result)[contact.email]
        == "excluded: key contact of Tom Bennett, no liaison agreement"
    )
    [request] = keyaccounts.liaison_request_create(
        requester=mailer, contact=contact, reason="Fair", proposed_engagement="Bulk email"
    )
    keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)
    result = recipient_list(contacts_for_query(query), sender=mailer, purpose="events")
    assert contact.email not in reasons(result)


def test_a_shared_address_is_sent_once(persona, tagged, query):
    org = tagged[0]
    twin = tagged[1]
    org_services.contact_create(
        organisation=twin,
        by=persona("operator"),
        full_name="Same Person",
        email="p0@aurora.example.com",
    )
    result = recipient_list(contacts_for_query(query), sender=persona("mailer"), purpose="events")
    assert [c.email for c in result.included].count("p0@aurora.example.com") == 1
    assert any(r.startswith("duplicate address: sent once") for r in reasons(result).values())
    assert org  # the first of the two keeps the message


@pytest.mark.parametrize("name", ["untrained", "viewer", "operator", "manager", "student"])
def test_only_designated_trained_senders_may_create_campaigns(persona, cast, name):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.campaign_create(
            sender=persona(name),
            unit=cast["units"]["careers"],
            purpose="events",
            subject="Hello",
            body="Hi",
        )
