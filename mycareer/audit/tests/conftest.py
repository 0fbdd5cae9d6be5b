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


@pytest.fixture
def northbridge(persona):
    """An engineering employer, with an event it takes part in: names full of a word
    ("Engineering") that a person may also be called."""
    from mycareer.events.tests.factories import at, far_monday, make_event
    from mycareer.organisations import services

    org = services.organisation_create(
        by=persona("operator"), name="Northbridge Engineering Ltd", confirm_duplicates=True
    )
    make_event(
        by=persona("manager"),
        title="Engineering and technology careers fair",
        venue="Engineering Building, Main Hall",
        starts_at=at(far_monday(), 10),
        organisations=[org],
        publish=True,
    )
    return org


@pytest.fixture
def grace_bank(persona):
    """Grace Bank of Atlas Global Bank, named in a note beside Grace Okafor (a colleague)."""
    from mycareer.organisations import demo, services

    grace = persona("mailer")
    atlas = services.organisation_create(
        by=grace, name="Atlas Global Bank", confirm_duplicates=True
    )
    return demo.add_grace_bank(atlas, by=grace)


@pytest.fixture
def priti(persona):
    """Priti Raman of Ember Energy: one note names her in full, another by first name only."""
    from mycareer.organisations import demo, services

    tom = persona("operator")
    ember = services.organisation_create(by=tom, name="Ember Energy", confirm_duplicates=True)
    return demo.add_priti_raman(ember, by=tom)
