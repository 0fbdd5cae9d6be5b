"""Subject access gives a letter a person can read (and JSON for machines), with no secrets."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from mycareer.audit.letter import letter_for
from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import in_words, subject_from_ids
from mycareer.audit.tests.conftest import EMAIL, MARKER

pytestmark = pytest.mark.django_db

SECTIONS = [
    "Who we are",
    "What we hold about you",
    "Your profile and account",
    "Messages we sent you",
    "Notes and records that mention you",
    "Your consent and email choices",
    "Other records about you",
    "Who changed or exported your data",
    "Why we hold it, and on what lawful basis",
    "Where it came from",
    "Who it is shared with",
    "How long we keep it",
    "Your rights",
]


def _records(marked) -> dict:
    return {"user": marked["user"].pk, "contact": marked["contact"].pk}


@pytest.fixture
def secrets(marked):
    """Every secret the person has: second factors, sessions, tokens, password hash."""
    from allauth.mfa.models import Authenticator
    from django.contrib.sessions.backends.db import SessionStore

    from mycareer.mailing.unsubscribe import make_token
    from mycareer.organisations.models import EmployerInvitation

    user = marked["user"]
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXPQRSTUVWX"}
    )
    Authenticator.objects.create(
        user=user,
        type=Authenticator.Type.RECOVERY_CODES,
        data={"seed": "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60", "used_mask": 0},
    )
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()
    invitation = EmployerInvitation.objects.create(
        organisation=marked["org"],
        email=EMAIL,
        token="invitation-token-9a8b7c6d5e4f3a2b1c0d",
        invited_by=user,
    )
    message = marked["campaign"].messages.get()
    return [
        "JBSWY3DPEHPK3PXPQRSTUVWX",
        "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60",
        session.session_key,
        user.feed_token,
        user.password,
        user.password.split("$")[-1],
        invitation.token,
        make_token(marked["contact"].pk, "events"),
        message.message_id.strip("<>"),
    ]


@pytest.fixture
def marked_after_many(request, db):
    """The marked person, made after a hundred other contacts: an id like 1 is found in
    any letter ("1 December"), so looking for the contact's id in it proves nothing."""
    from mycareer.organisations.models import Contact
    from mycareer.organisations.tests.factories import OrganisationFactory

    others = OrganisationFactory(name="Many Contacts Ltd")
    Contact.objects.bulk_create(
        [Contact(organisation=others, full_name=f"Other {n}") for n in range(100)]
    )
    return request.getfixturevalue("marked")


def test_the_letter_is_grouped_as_the_regulator_expects_and_reads_as_a_letter(
    client, persona, marked_after_many, settings
):
    marked = marked_after_many
    settings.MYCAREER = {
        **settings.MYCAREER,
        "DATA_PROTECTION": {
            "CONTROLLER": "University of Demotown",
            "ADDRESS": "Registry, University of Demotown, DM1 1AA",
            "DPO_EMAIL": "privacy@demotown.ac.uk",
            "ICO_REGISTRATION": "Z1234567",
        },
    }
    client.force_login(persona("admin"))
    response = client.get(reverse("audit:letter"), _records(marked))
    assert response.status_code == 200
    html = response.content.decode()
    headings = re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", html)
    positions = [headings.index(section) for section in SECTIONS]
    assert positions == sorted(positions), headings
    assert f"Dear {MARKER}," in html
    for words in (
        "University of Demotown",
        "privacy@demotown.ac.uk",
        "Z1234567",
        "Legitimate interests",  # why, for a contact and an employer
        "Declined employer registrations",  # how long: from the retention schedule
        "Information Commissioner",
        "Spring fair",  # the bulk email sent to them
        f"Met {MARKER}",  # the note that names them
        "Event promotion",  # their opt-out
        "You are a key contact",
        "From you, when you registered",  # where it came from
        "Students see your email address and phone only if you allowed it",
    ):
        assert words in html, words
    # Dates in words, no timestamps, no internal ids.
    letter = html[html.index('<article class="letter"') : html.index("</article>")]
    today = in_words(timezone.now())
    assert today in letter
    assert not re.search(r"\d{4}-\d{2}-\d{2}", letter)
    text = re.sub(r"<[^>]+>", " ", letter)
    assert marked["contact"].pk > 100  # so its id is not in the date
    for internal in (
        "_id",
        "pk=",
        "id:",
        "organisation_id_at_send",
        str(marked["contact"].pk) + " ",
    ):
        assert internal not in text


def test_the_letter_prints_without_the_site_around_it(client, persona, marked):
    client.force_login(persona("admin"))
    html = client.get(reverse("audit:letter"), _records(marked)).content.decode()
    assert "audit/privacy.css" in html and "audit/print.js" in html
    assert "<style" not in html and " style=" not in html and "<script>" not in html
    with open(finders.find("audit/privacy.css")) as css:
        print_rules = css.read().split("@media print", 1)[1]
    for hidden in (".site-header", ".site-footer", ".no-print"):
        assert hidden in print_rules


def test_the_json_is_the_same_letter_for_machines(client, persona, marked):
    client.force_login(persona("admin"))
    response = client.get(reverse("audit:letter_json"), _records(marked))
    document = response.json()
    assert document["about"] == [MARKER]
    sections = [s["section"] for s in document["held"]]
    assert sections[:2] == ["Your profile and account", "Messages we sent you"]
    assert document["controller"]["data_protection_officer"] == "dpo@demo.ac.uk"
    assert {r["records"] for r in document["how_long_we_keep_it"]} >= {
        "Declined employer registrations",
        "Bulk email message bodies",
    }
    assert any(r["right"] == "Erasure" for r in document["your_rights"])

    def keys(value):
        if isinstance(value, dict):
            for key, item in value.items():
                yield key
                yield from keys(item)
        elif isinstance(value, list):
            for item in value:
                yield from keys(item)

    assert not [k for k in keys(document) if k in ("id", "pk") or k.endswith("_id")]


def test_no_secret_reaches_the_letter_or_the_json(client, persona, marked, secrets):
    client.force_login(persona("admin"))
    html = client.get(reverse("audit:letter"), _records(marked)).content.decode()
    machine = client.get(reverse("audit:letter_json"), _records(marked)).content.decode()
    assert "Two-step sign-in" in html and "On" in html
    leaked = [s for s in secrets if s and (s in html or s in machine)]
    assert leaked == []
    assert json.loads(machine)["about"] == [MARKER]


def test_reading_the_letter_is_audited_on_each_record(client, persona, marked):
    client.force_login(persona("admin"))
    client.get(reverse("audit:letter"), _records(marked))
    entries = AuditEntry.objects.filter(action="audit.personal_data.exported")
    assert {(e.content_type.model, e.data["format"]) for e in entries} == {
        ("user", "letter"),
        ("contact", "letter"),
    }
    assert all(e.actor == persona("admin") for e in entries)


def test_a_student_letter_lists_bookings_and_attendance(client, persona, cast):
    import datetime

    from django.utils import timezone

    from mycareer.bookings.models import BookingBan
    from mycareer.bookings.services import booking_create
    from mycareer.bookings.tests.factories import make_event, make_students

    student = persona("student")
    booking_create(event=make_event(capacity=5), student=student, by=student)
    full = make_event(capacity=1)
    for person in (*make_students(1), student):
        booking_create(event=full, student=person, by=person)
    emailed = timezone.now()
    BookingBan.objects.create(
        student=student,
        ends_at=emailed + datetime.timedelta(days=30),
        reason="Three missed events",
        no_shows=3,
        notified_at=emailed,
    )
    letter = letter_for(subject_from_ids([student.pk], []))
    held = {section.heading: section.entries for section in letter.held}
    bookings = held["Bookings and attendance"]
    assert len(bookings) == 3
    assert all(
        e.title.startswith(("Your place", "Waiting list", "A restriction")) for e in bookings
    )
    # The letter says when the student was told of a restriction, as the record holds it.
    restriction = next(e for e in bookings if e.title == "A restriction on booking")
    assert dict(restriction.facts)["Emailed to you"]
    assert [who for who, _, _ in letter.purposes] == ["As a student"]
    student_record = next(
        e for e in held["Your profile and account"] if e.title == "Your student record"
    )
    assert ("Student number", "201912345") in student_record.facts


def test_the_letter_gives_the_names_and_addresses_their_record_held_before(persona, northbridge):
    from mycareer.organisations import services

    tom = persona("operator")
    contact = services.contact_create(
        organisation=northbridge, by=tom, full_name="Orla Pennington", email="orla@old.example"
    )
    services.contact_update(
        contact=contact, by=tom, full_name="Orla Quinlan", email="orla@new.example"
    )
    services.note_create(organisation=northbridge, by=tom, text="Orla Pennington rang.")
    letter = letter_for(subject_from_ids([], [contact.pk]))
    held = {section.heading: section.entries for section in letter.held}
    [before] = [e for e in held["Your profile and account"] if "held before" in e.title]
    assert before.facts == [("Names", "Orla Pennington"), ("Email addresses", "orla@old.example")]
    # A note naming them by their earlier name is theirs too.
    assert any(
        "Orla Pennington rang." in e.text for e in held["Notes and records that mention you"]
    )


def test_the_letter_costs_a_bounded_number_of_queries_however_much_is_held(
    marked, persona, django_assert_max_num_queries
):
    from mycareer.mailing.models import Campaign, OutboxMessage

    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                sender=persona("mailer"),
                unit=marked["campaign"].unit,
                subject=f"C{n}",
                body="x",
                status="sent",
            )
            for n in range(1500)
        ]
    )
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(campaign=c, contact=marked["contact"], email=EMAIL, status="sent")
            for c in campaigns
        ]
    )
    subject = subject_from_ids([marked["user"].pk], [marked["contact"].pk])
    with django_assert_max_num_queries(150):
        letter = letter_for(subject)
    assert sum(len(s.entries) for s in letter.held) > 1500


def test_where_a_mention_was_found_is_said_to_the_person_the_letter_is_for(persona):
    """The letter, written to "you", said a note was found in "Notes they recorded"."""
    from mycareer.organisations import services
    from mycareer.organisations.tests.factories import make_organisation

    tom = persona("operator")
    services.note_create(
        organisation=make_organisation(name="Quarry Hill Press"),
        by=tom,
        text=f"{tom.full_name} will send the dates.",
    )
    letter = letter_for(subject_from_ids([tom.pk], []))
    held = {section.heading: section.entries for section in letter.held}
    found = {dict(e.facts)["Found in"] for e in held["Notes and records that mention you"]}
    assert found == {"Notes you recorded"}
