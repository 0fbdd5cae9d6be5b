import pytest
from django.utils import timezone

MARKER = "Zqxmarker Quillbottom"
EMAIL = "zqxmarker@quillbottom.example.com"
PHONE = "0113 999 8765"


@pytest.fixture
def marked(persona, cast):
    """One person, as an employer login and a contact, named in every kind of record."""
    from mycareer.accounts.models import User
    from mycareer.mailing.models import Campaign, OutboxMessage
    from mycareer.organisations import keyaccounts, services
    from mycareer.organisations.models import Organisation
    from mycareer.organisations.registration import employer_register
    from mycareer.usergroup import services as group

    operator, tom = persona("operator"), persona("operator")
    registration = employer_register(
        full_name=MARKER,
        email=EMAIL,
        password="a-long-Password-9",
        phone=PHONE,
        organisation_name="Quillbottom Ltd",
        website="https://quillbottom.example.com",
        ip_address="203.0.113.9",
    )
    user = User.objects.get(email=EMAIL)
    org = registration.organisation
    Organisation.objects.filter(pk=org.pk).update(status="active")
    contact = org.contacts.get(user=user)
    services.note_create(
        organisation=org,
        by=operator,
        contacts=[contact],
        text=f"Met {MARKER} ({EMAIL}, {PHONE}) about placements.",
    )
    services.contact_opt_out(contact=contact, purpose="events", method="link", by=None)
    account = keyaccounts.key_account_create(
        organisation=org, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(
        account=account, contact=contact, guidance=f"Call {MARKER} first", by=tom
    )
    contact.refresh_from_db()
    keyaccounts.liaison_request_create(
        requester=persona("manager"),
        contact=contact,
        reason=f"To invite {MARKER}",
        proposed_engagement="Fair",
    )
    campaign = Campaign.objects.create(
        sender=persona("mailer"),
        unit=cast["units"]["lubs"],
        subject="Spring fair",
        body="x",
        status="sent",
    )
    OutboxMessage.objects.create(
        campaign=campaign,
        contact=contact,
        email=EMAIL,
        status="sent",
        sent_at=timezone.now(),
        organisation_id_at_send=org.pk,
    )
    group.feedback_log(
        by=operator, kind="fault", title="Contact page", description=f"{MARKER}'s page is slow"
    )
    return {"user": user, "contact": contact, "org": org, "campaign": campaign}
