"""The letter quotes what names the person, never what it says about anyone else (UK GDPR
Article 15(4)): other people's names, addresses and phones become "[another person]", and
the administrator who sends it is told where, before sending."""

import re
from html import unescape

import pytest
from django.urls import reverse

from mycareer.audit.letter import OTHERS_WITHHELD, letter_for
from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import subject_from_ids
from mycareer.audit.redaction import OTHER_PERSON, Redactor, others_named

pytestmark = pytest.mark.django_db

JANE = "Jane Thistlewood"
JANE_EMAIL = "jane.thistlewood@fernhollow.example"
BOB = "Bob Marchetti"
BOB_EMAIL = "bob.marchetti@fernhollow.example"
BOB_PHONE = "+44 113 496 0555"


@pytest.fixture
def fernhollow(persona):
    """Jane (the person asking) and Bob, her colleague, both contacts of Fernhollow."""
    from mycareer.organisations import services

    tom = persona("operator")
    org = services.organisation_create(by=tom, name="Fernhollow Ltd", confirm_duplicates=True)
    jane = services.contact_create(
        organisation=org, by=tom, full_name=JANE, email=JANE_EMAIL, phone="0113 496 0111"
    )
    bob = services.contact_create(
        organisation=org, by=tom, full_name=BOB, email=BOB_EMAIL, phone=BOB_PHONE
    )
    return {"org": org, "jane": jane, "bob": bob, "tom": tom}


def _note(fernhollow, text: str):
    from mycareer.organisations import services

    return services.note_create(
        organisation=fernhollow["org"],
        by=fernhollow["tom"],
        contacts=[fernhollow["jane"]],
        text=text,
    )


def _quoted(letter) -> list[str]:
    return [entry.text for section in letter.held for entry in section.entries if entry.text]


def _records(fernhollow) -> dict:
    return {"contact": fernhollow["jane"].pk}


def test_another_persons_name_email_and_phone_are_replaced_and_the_persons_kept(fernhollow):
    _note(
        fernhollow,
        f"Met {JANE} ({JANE_EMAIL}) and {BOB} ({BOB_EMAIL}, 0113 496 0555). "
        f"BOB MARCHETTI is leaving in March; bob marchetti's manager agreed.",
    )
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    [text] = [t for t in _quoted(letter) if "Met " in t]
    assert text == (
        f"Met {JANE} ({JANE_EMAIL}) and {OTHER_PERSON} ({OTHER_PERSON}, {OTHER_PERSON}). "
        f"{OTHER_PERSON} is leaving in March; {OTHER_PERSON}'s manager agreed."
    )
    [redaction] = letter.redactions
    assert redaction.section == "Notes and records that mention you"
    assert redaction.count == 5
    assert redaction.described == "3 names, 1 email address and 1 phone number"
    assert letter.redacted_passages == 5


def test_another_persons_phone_alone_is_found_however_it_is_written(fernhollow):
    # Bob's is stored as +44 113 496 0555; Jane's own (0113 496 0111) stays.
    _note(fernhollow, f"{JANE}: ring 0113-496-0555 or +44 (0)113 4960555, not 0113 496 0111.")
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    [text] = [t for t in _quoted(letter) if "ring" in t]
    assert text == f"{JANE}: ring {OTHER_PERSON} or {OTHER_PERSON}, not 0113 496 0111."


def test_a_name_wrapped_onto_the_next_line_is_replaced_too(fernhollow):
    """A note pasted from an email wraps where it wraps: "Bob\r\nMarchetti" was quoted to
    Jane as it was, his name given away by a line break."""
    _note(
        fernhollow,
        f"{JANE} and Bob\r\nMarchetti came; Bob\nMarchetti\tleaves in March.\n\nBob",
    )
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    [text] = [t for t in _quoted(letter) if "came" in t]
    assert text == (f"{JANE} and {OTHER_PERSON} came; {OTHER_PERSON}\tleaves in March.\n\nBob")
    assert letter.redacted_passages == 2


def test_names_are_matched_as_whole_words(fernhollow):
    from mycareer.organisations import services

    services.contact_create(
        organisation=fernhollow["org"], by=fernhollow["tom"], full_name="Ann Lee"
    )
    _note(
        fernhollow,
        f"Annual review with {JANE}: Ann Lee, Ann Leeds and Joanne Lee came, ann lee too.",
    )
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    [text] = [t for t in _quoted(letter) if "Annual" in t]
    assert text == (
        f"Annual review with {JANE}: {OTHER_PERSON}, Ann Leeds and Joanne Lee came, "
        f"{OTHER_PERSON} too."
    )


def test_the_persons_own_name_is_kept_even_when_someone_else_has_it(fernhollow, persona):
    from mycareer.organisations import services

    elsewhere = services.organisation_create(
        by=fernhollow["tom"], name="Other Place Ltd", confirm_duplicates=True
    )
    # A namesake elsewhere, and someone whose name holds hers.
    services.contact_create(organisation=elsewhere, by=fernhollow["tom"], full_name=JANE)
    services.contact_create(organisation=elsewhere, by=fernhollow["tom"], full_name=f"Mary {JANE}")
    _note(fernhollow, f"{JANE} called; so did Mary {JANE}, about {JANE}'s talk.")
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    [text] = [t for t in _quoted(letter) if "called" in t]
    assert text == f"{JANE} called; so did {OTHER_PERSON}, about {JANE}'s talk."


def test_staff_and_students_named_in_a_note_are_other_people_too(fernhollow, persona):
    student = persona("student")
    _note(fernhollow, f"{JANE} will mentor {student.full_name} ({student.email}).")
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    [text] = [t for t in _quoted(letter) if "mentor" in t]
    assert text == f"{JANE} will mentor {OTHER_PERSON} ({OTHER_PERSON})."


def test_the_json_is_redacted_too_and_lists_no_entry(client, persona, fernhollow):
    _note(fernhollow, f"{JANE} and {BOB} ({BOB_EMAIL}) asked for a stand.")
    client.force_login(persona("admin"))
    response = client.get(reverse("audit:letter_json"), _records(fernhollow))
    assert response.status_code == 200
    body = response.content.decode()
    assert BOB not in body and BOB_EMAIL not in body
    assert f"{JANE} and {OTHER_PERSON} ({OTHER_PERSON}) asked for a stand." in body
    document = response.json()
    assert document["other_people"] == OTHERS_WITHHELD
    assert "redact" not in body.casefold() and "entry-notes" not in body
    letter = letter_for(subject_from_ids([], [fernhollow["jane"].pk]))
    assert letter.redactions and set(letter.as_json()) == set(document)


def test_the_administrator_is_told_what_was_redacted_outside_the_letter(
    client, persona, fernhollow
):
    _note(fernhollow, f"{JANE} and {BOB} ({BOB_EMAIL}) asked for a stand.")
    client.force_login(persona("admin"))
    html = client.get(reverse("audit:letter"), _records(fernhollow)).content.decode()
    assert BOB not in html and BOB_EMAIL not in html
    review = html[html.index("data-redactions") : html.index('<article class="letter"')]
    assert "Check before sending: 2 passages redacted in 1 entry." in review
    assert "2 names" not in review and "1 name and 1 email address replaced" in review
    [anchor] = re.findall(r'href="#([\w-]+)"', review)
    letter = html[html.index('<article class="letter"') : html.index("</article>")]
    assert f'id="{anchor}"' in letter
    assert f"{JANE} and {OTHER_PERSON} ({OTHER_PERSON}) asked for a stand." in letter
    # The letter says that others' details were withheld, not where nor how many.
    assert OTHERS_WITHHELD in unescape(letter)
    assert "Check before sending" not in letter and "redacted" not in letter
    # The review is not printed with the letter.
    assert html.index('<div class="no-print">') < html.index("data-redactions")
    export = AuditEntry.objects.get(action="audit.personal_data.exported")
    assert export.data["redacted"] == 2


def test_a_letter_with_nothing_to_redact_says_so(client, persona, fernhollow):
    _note(fernhollow, f"{JANE} asked for a stand.")
    client.force_login(persona("admin"))
    html = client.get(reverse("audit:letter"), _records(fernhollow)).content.decode()
    assert "Nothing redacted." in html and OTHERS_WITHHELD not in html
    assert (
        "other_people" not in client.get(reverse("audit:letter_json"), _records(fernhollow)).json()
    )


@pytest.mark.parametrize("who", ["student", "employer", "operator"])
def test_only_administrators_see_the_letter_and_its_review(client, persona, fernhollow, who):
    _note(fernhollow, f"{JANE} and {BOB} asked for a stand.")
    client.force_login(persona(who))
    for name in ("audit:letter", "audit:letter_json"):
        response = client.get(reverse(name), _records(fernhollow))
        assert response.status_code in (403, 404)
        body = response.content.decode()
        assert "Check before sending" not in body and BOB not in body and JANE not in body


def test_who_is_named_is_found_in_two_queries_however_many_people_there_are(
    fernhollow, django_assert_max_num_queries
):
    from mycareer.organisations.models import Contact

    Contact.objects.bulk_create(
        [
            Contact(organisation=fernhollow["org"], full_name=f"Person Number{n}")
            for n in range(3000)
        ]
    )
    texts = [f"{JANE} met {BOB} and Person Number{n} on day {n}." for n in range(0, 300, 7)]
    subject = subject_from_ids([], [fernhollow["jane"].pk])
    with django_assert_max_num_queries(2):
        others = others_named(subject, texts)
    assert {o.name for o in others} == {BOB, *(f"Person Number{n}" for n in range(0, 300, 7))}
    redactor = Redactor.for_texts(subject, texts)
    assert redactor.redact(texts[1]) == (
        f"{JANE} met {OTHER_PERSON} and {OTHER_PERSON} on day 7.",
        ["name", "name"],
    )


def test_the_letter_with_many_notes_naming_others_costs_a_bounded_number_of_queries(
    fernhollow, django_assert_max_num_queries
):
    from mycareer.organisations.models import Contact

    Contact.objects.bulk_create(
        [Contact(organisation=fernhollow["org"], full_name=f"Guest Visitor{n}") for n in range(400)]
    )
    for n in range(40):
        _note(fernhollow, f"{JANE} brought Guest Visitor{n} and {BOB} ({BOB_EMAIL}).")
    subject = subject_from_ids([], [fernhollow["jane"].pk])
    with django_assert_max_num_queries(80) as queries:
        letter = letter_for(subject)
    # Who the notes name: one query for logins and one for contact records.
    lookups = [
        q for q in queries.captured_queries if 'LOWER("' in q["sql"] and "full_name" in q["sql"]
    ]
    assert len(lookups) == 2
    assert len(letter.redactions) == 40
    assert not any("Guest Visitor" in t or BOB in t for t in _quoted(letter))


def test_free_text_facts_are_redacted_and_who_acted_is_kept(fernhollow):
    """A reason someone typed (a registration's "Reason given") quoted another person
    as it was; the facts that say who acted stay, as the letter's record of changes does."""
    from mycareer.audit.erasure import earlier_details
    from mycareer.audit.letter import LetterSection, _redact
    from mycareer.audit.personal_data import LetterEntry

    subject = subject_from_ids([], [fernhollow["jane"].pk])
    entry = LetterEntry(
        "other",
        "Your registration",
        [("Decided by", BOB), ("Reason given", f"{BOB} vouched for {JANE}.")],
        quoted=("Reason given",),
    )
    section = LetterSection("other", "Other")
    section.entries.append(entry)
    [redaction] = _redact(subject, [section], earlier_details(subject))
    assert entry.facts == [
        ("Decided by", BOB),
        ("Reason given", f"{OTHER_PERSON} vouched for {JANE}."),
    ]
    assert redaction.count == 1
