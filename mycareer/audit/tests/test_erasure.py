"""Erasure removes exactly one person: reviewed mention by mention, nothing else touched."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from mycareer.audit.erasure import StaleReview, review_erasure
from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import subject_from_ids
from mycareer.audit.services import personal_data_erase

pytestmark = pytest.mark.django_db

NAME, EMAIL, PHONE = "Grace Engineering", "grace.engineering@northbridge-eng.co.uk", "0113 496 7788"


def _names() -> dict[str, list[str]]:
    """Every name of an organisation, unit, programme, event, venue and person."""
    from mycareer.accounts.models import DegreeProgramme, Unit, User
    from mycareer.events.models import Event
    from mycareer.organisations.models import Contact, Organisation, Sector

    return {
        "organisations": sorted(Organisation.objects.values_list("name", flat=True)),
        "units": sorted(Unit.objects.values_list("name", flat=True)),
        "programmes": sorted(DegreeProgramme.objects.values_list("name", flat=True)),
        "sectors": sorted(Sector.objects.values_list("name", flat=True)),
        "events": sorted(Event.objects.values_list("title", flat=True)),
        "venues": sorted(Event.objects.values_list("venue", flat=True)),
        "people": sorted(User.objects.values_list("full_name", flat=True)),
        "contacts": sorted(Contact.objects.values_list("full_name", flat=True)),
    }


def _text_columns():
    for model in apps.get_models():
        if not model._meta.managed:
            continue  # kept by the database from our tables (SQLite's text index)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def _everywhere(*words: str) -> list[str]:
    """Every text column (of every table) that still holds one of `words`."""
    found = []
    for model, field in _text_columns():
        for value in model._base_manager.values_list(field.attname, flat=True).iterator():
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            if any(word.lower() in (text or "").lower() for word in words):
                found.append(f"{model._meta.label}.{field.name}")
    return sorted(set(found))


@pytest.fixture
def grace(persona, northbridge):
    """A contact named like two common words, mentioned in notes and an event."""
    from mycareer.events.models import Event
    from mycareer.organisations import services

    tom = persona("operator")
    org = northbridge
    contact = services.contact_create(
        organisation=org,
        by=tom,
        full_name=NAME,
        job_title="Placement Lead",
        email=EMAIL,
        phone=PHONE,
    )
    notes = {
        "met": services.note_create(
            organisation=org,
            by=tom,
            contacts=[contact],
            text="Met Grace Engineering at the careers fair. Grace will send placement dates.",
        ),
        "others": services.note_create(
            organisation=org,
            by=tom,
            text=(
                "Grace Okafor from the Business School joined the call about Northbridge "
                "Engineering Ltd and the School of Mechanical Engineering."
            ),
        ),
        "false": services.note_create(
            organisation=org,
            by=tom,
            text=(
                "Engineering placements are popular this year; "
                f"call {EMAIL.upper()} or 01134967788."
            ),
        ),
    }
    event = Event.objects.filter(organisations=org).first()
    Event.objects.filter(pk=event.pk).update(
        description="Grace Engineering will talk about placements at Engineering firms."
    )
    return {"contact": contact, "org": org, "notes": notes, "event": event}


def _files_holding(paths: list[Path], secrets: list[str]) -> list[list[str]]:
    """Which of the files hold which of the words, read by another process.

    Never read here: closing a file of the database that this process opened drops every
    lock the process holds on it (POSIX locks belong to the process), so SQLite's worker
    processes would take the database for closed by everyone, clear its log, and go on
    without the writes of this one.
    """
    script = (
        "import json, pathlib, sys\n"
        "paths, secrets = json.loads(sys.argv[1])\n"
        "found = [[pathlib.Path(p).name, s] for p in paths if pathlib.Path(p).exists()\n"
        "         for s in secrets if s.encode() in pathlib.Path(p).read_bytes()]\n"
        "print(json.dumps(found))\n"
    )
    argument = json.dumps([[str(path) for path in paths], secrets])
    done = subprocess.run(  # noqa: S603 (this interpreter, our own script)
        [sys.executable, "-c", script, argument], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.django_db(transaction=True)
def test_an_erased_person_is_gone_from_the_database_files_too(grace, persona, run_worker, caplog):
    """Not only from the rows: SQLite kept the old bytes in freed space and in its log."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # On by default in some builds of SQLite only: the settings ask for it.
            assert cursor.execute("PRAGMA secure_delete").fetchone() == (1,)
            # The person in the file itself, as SQLite's own checkpoints put them.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    personal_data_erase(subject=subject_from_ids([], [grace["contact"].pk]), by=persona("admin"))
    with caplog.at_level("INFO", logger="mycareer.operations.wiping"):
        run_worker()
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        files = [database, database.with_name(f"{database.name}-wal")]
        assert _files_holding(files, [NAME, EMAIL, PHONE]) == []
    assert "database.wiped" in caplog.text


def _refresh(obj):
    obj.refresh_from_db()
    return obj


def test_a_contact_named_like_common_words_is_erased_and_nothing_else(grace, persona):
    from mycareer.events.models import Event

    before = _names()
    subject = subject_from_ids([], [grace["contact"].pk])
    review = review_erasure(subject)
    # "Engineering" inside the organisation's and the school's names is never proposed.
    in_others = [
        m
        for m in review.matches
        if m.model == "organisations.Note" and m.pk == grace["notes"]["others"].pk
    ]
    assert in_others == []
    # A capitalised "Engineering" alone is proposed (in a note and in the event), and
    # the administrator unticks both: they are not the person.
    false = [m for m in review.matches if m.kind == "surname"]
    assert sorted((m.model, m.found, m.after[:11]) for m in false) == [
        ("events.Event", "Engineering", " firms."),
        ("organisations.Note", "Engineering", " placements"),
    ]
    assert all(m.ticked for m in false)

    report, entries = personal_data_erase(
        subject=subject,
        by=persona("admin"),
        selected=review.default_selection() - {m.id for m in false},
        digest=review.digest,
    )

    notes = {key: _refresh(note).text for key, note in grace["notes"].items()}
    assert (
        notes["met"]
        == "Met [name erased] at the careers fair. [name erased] will send placement dates."
    )
    assert notes["others"] == (
        "Grace Okafor from the Business School joined the call about Northbridge "
        "Engineering Ltd and the School of Mechanical Engineering."
    )
    assert notes["false"] == (
        "Engineering placements are popular this year; call [email erased] or [phone erased]."
    )
    event = Event.objects.get(pk=grace["event"].pk)
    assert event.description == "[name erased] will talk about placements at Engineering firms."
    contact = _refresh(grace["contact"])
    assert (contact.full_name, contact.email, contact.phone, contact.job_title) == (
        "Erased contact",
        "",
        "",
        "",
    )
    after = _names()
    before["contacts"].remove(NAME)
    after["contacts"].remove("Erased contact")
    assert after == before
    # The person is gone from every table: their full name, email and phone.
    assert _everywhere(NAME, EMAIL, PHONE, "01134967788") == []
    # The report says what changed, never the person.
    assert report["total"] == len(review.default_selection()) - 2 + sum(
        c.count for c in review.removals
    )
    assert {
        "record": f"Contact record at {grace['org']}",
        "field": "text",
        "kind": "surname",
    } not in report["removed"]
    assert any(line["kind"] == "surname" and line["reason"] for line in report["left"])
    stored = json.dumps([e.data for e in entries], ensure_ascii=False).lower()
    for word in (NAME, EMAIL, PHONE, "grace."):
        assert word.lower() not in stored
    assert all(e.action == "audit.personal_data.erased" for e in entries)


def test_a_contact_called_just_engineering_changes_no_other_name(persona, northbridge):
    """The case that used to turn "Northbridge Engineering Ltd" into "Northbridge [erased] Ltd"."""
    from mycareer.organisations import services

    before = _names()
    org = northbridge
    contact = services.contact_create(
        organisation=org,
        by=persona("operator"),
        full_name="Engineering",
        email="engineering@northbridge-eng.co.uk",
    )
    note = services.note_create(
        organisation=org,
        by=persona("operator"),
        text="Engineering sent the dates to the School of Mechanical Engineering; "
        "engineering students replied.",
    )

    personal_data_erase(subject=subject_from_ids([], [contact.pk]), by=persona("admin"))

    after = _names()
    before["contacts"].append("Erased contact")
    assert {k: sorted(v) for k, v in after.items()} == {k: sorted(v) for k, v in before.items()}
    assert _refresh(note).text == (
        "[name erased] sent the dates to the School of Mechanical Engineering; "
        "engineering students replied."
    )


def test_a_surname_that_is_a_common_word_leaves_organisations_and_colleagues_alone(
    persona, grace_bank
):
    """Grace Bank, of Atlas Global Bank, named in a note beside Grace Okafor."""
    before = _names()
    contact = grace_bank
    note = contact.notes.get()
    subject = subject_from_ids([], [contact.pk])
    review = review_erasure(subject)
    in_note = [(m.kind, m.found) for m in review.matches if m.model == "organisations.Note"]
    assert in_note == [("first name", "Grace")]

    personal_data_erase(subject=subject, by=persona("admin"))

    note.refresh_from_db()
    assert note.text == (
        "Call with [name erased] from Atlas Global Bank about the spring insight day; "
        "Grace Okafor will send the Business School's dates."
    )
    after = _names()
    before["contacts"].remove("Grace Bank")
    before["contacts"].append("Erased contact")
    assert {k: sorted(v) for k, v in after.items()} == {k: sorted(v) for k, v in before.items()}
    assert persona("mailer").full_name == "Grace Okafor"


def test_a_full_name_in_a_note_about_another_organisation_is_found_and_only_that(
    persona, grace_bank, northbridge
):
    """A note at an organisation Grace Bank is not linked to names her in full, beside a
    "Grace" and a "Bank" that are not her: her name and address go, the rest stays."""
    from mycareer.organisations import services

    elsewhere = services.note_create(
        organisation=northbridge,
        by=persona("operator"),
        text="Grace Bank of Atlas recommended them (grace.bank@atlasglobalbank.com). "
        "Grace said the Bank holiday is busy.",
    )
    subject = subject_from_ids([], [grace_bank.pk])
    review = review_erasure(subject)
    found = [
        (m.kind, m.found, m.ticked)
        for m in review.matches
        if m.model == "organisations.Note" and m.pk == elsewhere.pk
    ]
    assert found == [
        ("full name", "Grace Bank", True),
        ("email", "grace.bank@atlasglobalbank.com", True),
    ]

    personal_data_erase(subject=subject, by=persona("admin"))

    assert _refresh(elsewhere).text == (
        "[name erased] of Atlas recommended them ([email erased]). "
        "Grace said the Bank holiday is busy."
    )
    assert _everywhere("Grace Bank", "grace.bank@") == []


def test_a_first_name_in_a_note_is_found_and_only_ticked_mentions_go(persona, priti):
    """Priti Raman: "Met Priti at the fair" is found; an unticked mention stays."""
    from mycareer.organisations import services

    ember = priti.organisation
    fair = ember.notes.get(text__startswith="Met Priti")
    call = services.note_create(
        organisation=ember,
        by=persona("operator"),
        text="Priti from the Leeds office will call back.",
    )
    subject = subject_from_ids([], [priti.pk])
    review = review_erasure(subject)
    found = {m.pk: m for m in review.matches if m.model == "organisations.Note"}
    assert fair.pk in found and call.pk in found
    assert (found[fair.pk].before, found[fair.pk].found, found[fair.pk].after) == (
        "Met ",
        "Priti",
        " at the autumn careers fair: she wants two summer interns for the…",
    )
    assert all(m.ticked for m in found.values())

    report, _ = personal_data_erase(
        subject=subject,
        by=persona("admin"),
        selected=review.default_selection() - {found[call.pk].id},
        digest=review.digest,
    )

    assert _refresh(fair).text.startswith("Met [name erased] at the autumn careers fair")
    assert _refresh(call).text == "Priti from the Leeds office will call back."
    assert [line["reason"] for line in report["left"]] == ["Unticked by the administrator"]
    assert _everywhere("Priti Raman", "priti.raman@") == []


def test_a_student_is_erased_their_places_pass_on_and_other_students_stay(
    persona, cast, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from mycareer.accounts.models import StudentProfile
    from mycareer.bookings import services as bookings
    from mycareer.bookings.models import Booking, BookingBan, WaitlistEntry
    from mycareer.bookings.tests.factories import make_event, make_students
    from mycareer.events.models import Event

    student, waiting = make_students(2)
    student.full_name, student.phone = "Priti Sharma", "07700 900123"
    student.university_id = "psharma7"
    student.save()
    full = make_event(capacity=1, title="Interview skills with Priti")
    past = make_event(title="Careers fair")
    bookings.booking_create(event=full, student=student, by=student)
    entry = bookings.booking_create(event=full, student=waiting, by=waiting)
    bookings.booking_create(event=past, student=student, by=student)
    Event.objects.filter(pk=past.pk).update(
        description="Priti Sharma and Aisha Khan will give the vote of thanks.",
        starts_at=past.starts_at - datetime.timedelta(days=60),
        ends_at=past.ends_at - datetime.timedelta(days=60),
    )
    ban = BookingBan.objects.create(
        student=student,
        reason="Priti missed three events this term.",
        ends_at=full.starts_at,
    )
    subject = subject_from_ids([student.pk], [])
    review = review_erasure(subject)
    assert any(c.what == "Places at events still to come" for c in review.removals)
    assert any(c.kept and "attendance figures" in c.how for c in review.changes)

    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        personal_data_erase(subject=subject, by=persona("admin"))
    # The person waiting is told of their place; the erased person is sent nothing.
    queued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued == [
        "mycareer.bookings.tasks.send_promotion",
        "mycareer.operations.jobs.wipe_removed",  # the database's leftover copies
    ]

    student.refresh_from_db()
    assert (student.full_name, student.phone, student.is_active) == ("Erased person", "", False)
    assert student.university_id is None
    assert student.email.endswith("@erased.invalid")
    assert not student.has_usable_password()
    profile = StudentProfile.objects.get(user=student)
    assert profile.student_number == f"erased-{student.pk}"
    # The place at the event still to come went to the person waiting for it.
    assert Booking.objects.get(event=full, student=student).status == "cancelled"
    assert Booking.objects.filter(event=full, student=waiting, status="confirmed").exists()
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "accepted"
    # The past booking stays for the figures.
    assert Booking.objects.filter(event=past, student=student).exists()
    ban.refresh_from_db()
    assert ban.reason == "[name erased] missed three events this term."
    past.refresh_from_db()
    assert past.description == "[name erased] and Aisha Khan will give the vote of thanks."
    # The event's title is a name: never changed, though it holds the first name.
    assert Event.objects.get(pk=full.pk).title == "Interview skills with Priti"
    assert persona("student").full_name == "Aisha Khan"
    assert _everywhere("Priti Sharma", "07700 900123") == []


def test_a_login_with_a_second_factor_loses_its_secrets(persona, cast):
    from allauth.mfa.models import Authenticator

    user = persona("employer")
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    token = user.feed_token
    personal_data_erase(subject=subject_from_ids([user.pk], []), by=persona("admin"))
    user.refresh_from_db()
    assert not Authenticator.objects.filter(user=user).exists()
    assert user.feed_token != token
    # The employer's contact record went with the login.
    assert not user.employer_memberships.exists()
    assert _everywhere("Laura Chen", "employer@demo-employer.com") == []


def test_a_review_that_is_out_of_date_changes_nothing(grace, persona):
    subject = subject_from_ids([], [grace["contact"].pk])
    review = review_erasure(subject)
    note = grace["notes"]["met"]
    type(note).objects.filter(pk=note.pk).update(text=note.text + " Grace called again.")
    with pytest.raises(StaleReview):
        personal_data_erase(
            subject=subject,
            by=persona("admin"),
            selected=review.default_selection(),
            digest=review.digest,
        )
    assert _refresh(grace["contact"]).full_name == NAME
    assert not AuditEntry.objects.filter(
        action="audit.personal_data.erased", object_id=str(grace["contact"].pk)
    ).exists()


def test_the_names_and_addresses_a_record_held_before_are_erased_from_its_audit_trail(
    persona, northbridge
):
    """A contact who married and moved address: the audit trail of their record kept
    the name and address they were created and changed under, and erasure searched for
    their present ones only."""
    from mycareer.organisations import services

    tom, admin = persona("operator"), persona("admin")
    earlier = ("Orla Pennington", "orla.pennington@old-mail.example", "0113 496 0101")
    contact = services.contact_create(
        organisation=northbridge, by=tom, full_name=earlier[0], email=earlier[1], phone=earlier[2]
    )
    services.contact_update(
        contact=contact,
        by=tom,
        full_name="Orla Quinlan",
        email="orla.quinlan@northbridge-eng.co.uk",
        phone="0113 496 0202",
    )
    note = services.note_create(
        organisation=northbridge,
        by=tom,
        text=f"Orla Pennington ({earlier[1]}) asked about placements.",
    )
    review = review_erasure(subject_from_ids([], [contact.pk]))
    # Their earlier name in a note is proposed, and said to be an earlier one: a record
    # may have passed from one person to their successor.
    proposed = [m for m in review.matches if m.model == "organisations.Note"]
    assert sorted((m.found, m.ticked, m.earlier) for m in proposed) == [
        ("Orla Pennington", True, True),
        (earlier[1], True, True),
    ]
    assert "Details recorded in audit entries about their records" in [
        c.what for c in review.removals
    ]
    personal_data_erase(
        subject=subject_from_ids([], [contact.pk]),
        by=admin,
        selected=review.default_selection(),
        digest=review.digest,
    )
    assert _everywhere(*earlier, "Orla Quinlan", "orla.quinlan@") == []
    assert _refresh(note).text == "[name erased] ([email erased]) asked about placements."
    # The entries stay, saying what happened, without the details.
    changed = AuditEntry.objects.get(
        action="organisations.contact.changed", object_id=str(contact.pk)
    )
    assert changed.data["changed"]["email"] == ["[email erased]", "[email erased]"]


def test_a_person_is_found_by_the_name_or_address_they_had_before(client, persona, northbridge):
    """A subject access request signed with a maiden name, or sent from an old address,
    finds the record that held it, and the page says why it was found."""
    from mycareer.organisations import services

    tom = persona("operator")
    contact = services.contact_create(
        organisation=northbridge, by=tom, full_name="Zoë Pennington", email="zoe@old-mail.example"
    )
    services.contact_update(
        contact=contact, by=tom, full_name="Zoë Quinlan", email="zoe.quinlan@northbridge.example"
    )
    # Someone else whose note mentions the name is not found by it: only a record's own
    # name and address count.
    services.note_create(organisation=northbridge, by=tom, text="Ask Zoë Pennington's successor.")
    client.force_login(persona("admin"))
    for asked in ("Pennington", "zoë pennington", "old-mail"):
        page = client.post(reverse("audit:privacy"), {"q": asked})
        assert [c.pk for c in page.context["contacts"]] == [contact.pk], asked
        html = page.content.decode()
        assert "found by what it held before" in html, asked
    # Found by the name they have now, the page gives no reason.
    page = client.post(reverse("audit:privacy"), {"q": "Quinlan"})
    assert [c.pk for c in page.context["contacts"]] == [contact.pk]
    assert "found by what it held before" not in page.content.decode()
    # The review names what it looks for besides the present name and address.
    review_page = client.get(reverse("audit:erase"), _records(contact)).content.decode()
    assert "held before (name Zoë Pennington; email zoe@old-mail.example)" in review_page
    # Once erased, the earlier name finds nobody.
    review = review_erasure(subject_from_ids([], [contact.pk]))
    personal_data_erase(
        subject=subject_from_ids([], [contact.pk]),
        by=persona("admin"),
        selected=review.default_selection(),
        digest=review.digest,
    )
    page = client.post(reverse("audit:privacy"), {"q": "Pennington"})
    assert page.context["contacts"] == []


# The pages --------------------------------------------------------------------------


def _records(contact) -> dict:
    return {"contact": [contact.pk]}


def test_the_administrator_reviews_unticks_confirms_and_reads_the_report(client, grace, persona):
    client.force_login(persona("admin"))
    url = reverse("audit:erase")
    page = client.get(url, _records(grace["contact"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Met <mark>Grace Engineering</mark> at the careers fair." in html
    review = page.context["review"]
    false = {m.id for m in review.matches if m.kind == "surname"}
    ticked = sorted(review.default_selection() - false)
    data = {**_records(grace["contact"]), "digest": review.digest, "match": ticked}

    confirm = client.post(url, {**data, "step": "confirm"})
    total = review.total(ticked)
    assert confirm.status_code == 200
    assert f"Erase: make {total} changes" in confirm.content.decode()
    assert _refresh(grace["contact"]).full_name == NAME  # nothing yet

    refused = client.post(url, {**data, "step": "erase", "confirm": "yes"})
    assert refused.status_code == 400
    assert "Type ERASE to confirm" in refused.content.decode()
    assert _refresh(grace["contact"]).full_name == NAME

    done = client.post(url, {**data, "step": "erase", "confirm": "erase"})
    assert done.status_code == 302
    report = client.get(done["Location"])
    text = report.content.decode()
    assert report.status_code == 200
    assert f"{total} changes" in text
    assert "Unticked by the administrator" in text
    assert NAME not in text and EMAIL not in text
    assert _refresh(grace["notes"]["false"]).text.startswith("Engineering placements")
    # The same confirmation from a second tab, or the review opened again: it is done.
    for again in (
        client.post(url, {**data, "step": "erase", "confirm": "erase"}, follow=True),
        client.get(url, _records(grace["contact"]), follow=True),
    ):
        assert again.redirect_chain[-1][0] == done["Location"]
        assert "This person was erased on" in again.content.decode()
    assert AuditEntry.objects.filter(action="audit.personal_data.erased").count() == 1


def test_the_confirmation_does_not_say_the_administrator_unticked_what_the_review_left(
    client, grace, persona
):
    """Another contact has her name: the review leaves those mentions unticked with its
    reason, and the administrator, who changed nothing, was told they had unticked them."""
    from mycareer.organisations.tests.factories import ContactFactory

    ContactFactory(full_name=NAME)
    client.force_login(persona("admin"))
    url = reverse("audit:erase")
    review = client.get(url, _records(grace["contact"])).context["review"]
    cautioned = [m for m in review.matches if m.caution]
    assert cautioned
    data = {
        **_records(grace["contact"]),
        "digest": review.digest,
        "match": sorted(review.default_selection()),
    }

    html = " ".join(client.post(url, {**data, "step": "confirm"}).content.decode().split())

    assert "you unticked them" not in html
    assert (
        "<strong>Mentions left as they are</strong> (not ticked, for the reason the review "
        f"gave): {len(cautioned)}."
    ) in html


def test_erase_pressed_twice_shows_the_report_not_a_failed_review(
    client, grace, persona, monkeypatch
):
    """The second press arrives while the first is erasing: it finds the records changed
    under it, because the first press erased them. That is done, not a failure."""
    from mycareer.audit import views

    client.force_login(persona("admin"))
    url = reverse("audit:erase")
    review = client.get(url, _records(grace["contact"])).context["review"]
    data = {
        **_records(grace["contact"]),
        "digest": review.digest,
        "match": sorted(review.default_selection()),
        "step": "erase",
        "confirm": "ERASE",
    }
    real = views.personal_data_erase

    def first_press_wins(*, subject, **kwargs):
        real(subject=subject_from_ids([], subject.contact_ids), by=persona("admin"))
        raise StaleReview("The records changed after the review.")

    monkeypatch.setattr(views, "personal_data_erase", first_press_wins)
    second = client.post(url, data, follow=True)
    entry = AuditEntry.objects.get(action="audit.personal_data.erased")
    assert second.redirect_chain[-1][0] == reverse("audit:erasure_report", args=[entry.pk])
    assert "This person was erased on" in second.content.decode()
    assert "Something changed" not in second.content.decode()


def test_the_report_says_which_backups_still_hold_the_erased_details(
    client, grace, persona, settings, tmp_path
):
    """ "Not kept, here or anywhere" overstated it while backups taken before age out."""
    settings.MYCAREER = {**settings.MYCAREER, "BACKUP_DIR": str(tmp_path), "BACKUP_KEEP": 14}
    for name in (
        "mycareer-20260101T020000Z.sqlite3",
        "mycareer-20260102T020000Z.sqlite3",
        "mycareer-before-restore-20260103T100000Z.sqlite3",
        "mycareer-29990101T020000Z.sqlite3",  # after the erasure
    ):
        (tmp_path / name).write_bytes(b"")
    personal_data_erase(subject=subject_from_ids([], [grace["contact"].pk]), by=persona("admin"))
    entry = AuditEntry.objects.get(action="audit.personal_data.erased")
    client.force_login(persona("admin"))
    text = client.get(reverse("audit:erasure_report", args=[entry.pk])).content.decode()
    assert "here or anywhere" not in text
    assert "2 backups taken before the erasure still hold them" in text
    assert "(the 14 newest are kept)" in text
    assert "1 copy made before a restore also holds them and is never deleted" in text
    for path in tmp_path.iterdir():
        path.unlink()
    text = client.get(reverse("audit:erasure_report", args=[entry.pk])).content.decode()
    assert "No backup taken before the erasure remains." in text
    assert "made before a restore" not in text


def test_a_page_left_open_while_the_records_change_asks_for_a_new_review(client, grace, persona):
    client.force_login(persona("admin"))
    url = reverse("audit:erase")
    review = client.get(url, _records(grace["contact"])).context["review"]
    note = grace["notes"]["met"]
    type(note).objects.filter(pk=note.pk).update(text="Grace Engineering phoned.")
    response = client.post(
        url,
        {
            **_records(grace["contact"]),
            "digest": review.digest,
            "match": sorted(review.default_selection()),
            "step": "erase",
            "confirm": "ERASE",
        },
    )
    assert response.status_code == 409
    assert "check the mentions again" in response.content.decode()
    assert _refresh(grace["contact"]).full_name == NAME


@pytest.mark.parametrize(
    "records",
    [
        {},
        {"contact": ["x"]},
        {"contact": ["99999999999999999999999"]},
        {"user": [str(n) for n in range(30)]},
    ],
)
def test_bad_choices_of_records_get_a_message_not_an_error(client, persona, records):
    client.force_login(persona("admin"))
    for url in (reverse("audit:erase"), reverse("audit:letter"), reverse("audit:letter_json")):
        response = client.get(url, records, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == reverse("audit:privacy")


def test_only_administrators_review_or_erase(client, persona, grace):
    url = reverse("audit:erase")
    for name in ("operator", "manager", "mailer", "viewer", "student", "employer"):
        client.force_login(persona(name))
        assert client.get(url, _records(grace["contact"])).status_code == 403
        response = client.post(
            url, {**_records(grace["contact"]), "step": "erase", "confirm": "ERASE"}
        )
        assert response.status_code == 403
    assert _refresh(grace["contact"]).full_name == NAME


def test_an_administrator_cannot_erase_their_own_login(client, persona):
    admin = persona("admin")
    client.force_login(admin)
    response = client.get(reverse("audit:erase"), {"user": [admin.pk]}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("audit:privacy")
    assert "You cannot erase your own login" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and admin.full_name == "Priya Shah"


def test_a_member_of_staff_with_key_accounts_is_reviewed_with_a_warning(persona, cast):
    from mycareer.organisations.tests.factories import key_account_with_contact

    tom = persona("operator")
    for guidance in ("Ask Tom before you call.", "Tom looks after this relationship."):
        key_account_with_contact(
            operator=tom, unit=cast["units"]["mech"], by=persona("admin"), guidance=guidance
        )
    review = review_erasure(subject_from_ids([persona("operator").pk], []))
    kept = {c.what: c for c in review.kept}
    assert kept["Key accounts they look after"].count == 2
    assert "reassign them" in kept["Key accounts they look after"].how
    # Their first name is looked for in the guidance of the key contacts they own.
    assert any(m.kind == "first name" and m.found == "Tom" for m in review.matches)


def test_finding_a_person_costs_a_few_queries_however_many_match(
    client, persona, priti, django_assert_max_num_queries
):
    from mycareer.organisations.models import Contact

    ember = priti.organisation
    Contact.objects.bulk_create(
        [Contact(organisation=ember, full_name=f"Priti Test {n}") for n in range(40)]
    )
    client.force_login(persona("admin"))
    with django_assert_max_num_queries(8):
        response = client.post(reverse("audit:privacy"), {"q": "Priti"})
    assert response.content.decode().count('name="contact"') == 41


def test_a_mention_in_the_audit_trail_names_its_field_in_words(persona, cast):
    """The review said "(object repr)" and "(data)", the code's names for the columns."""
    from mycareer.bookings import services as bookings
    from mycareer.bookings.tests.factories import make_event, make_students

    [student] = make_students(1)
    student.full_name = "Priti Sharma"
    student.save()
    booking = bookings.booking_create(event=make_event(), student=student, by=student)
    AuditEntry.objects.filter(object_id=str(booking.pk)).update(
        data={"note": "Priti Sharma asked for a seat near the door."}
    )
    review = review_erasure(subject_from_ids([student.pk], []))
    labels = {m.field_label for m in review.matches if m.model == "audit.AuditEntry"}
    assert labels == {"what it was about", "details"}


def test_a_name_part_joined_by_a_hyphen_to_another_word_is_not_proposed(persona, grace_bank):
    """ "Grace-period" and "Smith-Bank" are other words; "Grace - Bank" and "Grace-2"
    still name her, and her full name and address are found as before."""
    from mycareer.audit.erasure import terms_for
    from mycareer.organisations import services

    note = services.note_create(
        organisation=grace_bank.organisation,
        by=persona("operator"),
        text="Bank will send a Grace-period agreement; ask Smith-Bank or the Bank-led team. "
        "Grace - Bank's recruiter - wrote; see Grace-2.",
    )
    subject = subject_from_ids([], [grace_bank.pk])
    terms = {t.kind: t.pattern for t in terms_for(subject)}
    assert [m.group() for m in terms["first name"].finditer(note.text)] == ["Grace", "Grace"]
    assert [m.start() for m in terms["surname"].finditer(note.text)] == [
        0,
        note.text.index("Bank's"),
    ]
    # Full names keep the plain word boundary.
    assert terms["full name"].search("Grace Bank-Smith")

    review = review_erasure(subject)
    found = [m.found for m in review.matches if m.model == "organisations.Note" and m.pk == note.pk]
    assert sorted(found) == ["Bank", "Bank", "Grace", "Grace"]

    personal_data_erase(subject=subject, by=persona("admin"))
    note.refresh_from_db()
    assert "Grace-period" in note.text and "Smith-Bank" in note.text and "Bank-led" in note.text
    assert "[name erased]-period" not in note.text


def test_the_records_of_emails_sent_to_an_erased_contact_keep_no_address(grace, persona):
    """A contact sent the attendance figures is marked as reached (so a retry skips them),
    and an email that failed for good lists its recipient and the server's refusal on the
    failed emails page: erased, neither keeps their address; other people's stay."""
    from mycareer.core.mail import mark_sent
    from mycareer.core.models import FailedTask, SentEmail

    other = "kim.other@northbridge-eng.co.uk"
    mark_sent("bookings.employer_report:7", [EMAIL])
    mark_sent("bookings.employer_report:7", [other])
    refusal = f"SMTPRecipientsRefused: {{'{EMAIL.upper()}': (550, b'5.1.1 No such mailbox')}}"
    failed = FailedTask.objects.create(
        task_path="mycareer.bookings.tasks.send_employer_report",
        description="Send the attendance figures",
        args=[7],
        recipients=f"{EMAIL}, {other}",
        attempts=5,
        error=refusal,
        traceback=f"Traceback (most recent call last):\n{refusal}\n",
    )
    # Someone else's address that holds hers.
    lookalike = FailedTask.objects.create(
        task_path="mycareer.bookings.tasks.send_employer_report",
        description="Send the attendance figures",
        args=[8],
        recipients=f"old.{EMAIL}",
        attempts=5,
        error="SMTPServerDisconnected",
    )
    subject = subject_from_ids([], [grace["contact"].pk])

    report, _ = personal_data_erase(subject=subject, by=persona("admin"))

    assert _everywhere(EMAIL) == ["core.FailedTask.recipients"]
    lookalike.refresh_from_db()
    assert lookalike.recipients == f"old.{EMAIL}"
    assert list(SentEmail.objects.values_list("recipient", flat=True)) == [other]
    failed.refresh_from_db()
    assert failed.recipients == f"[email erased], {other}"
    assert failed.error == (
        "SMTPRecipientsRefused: {'[email erased]': (550, b'5.1.1 No such mailbox')}"
    )
    [sent] = [c for c in report["changes"] if c["what"] == "Records of emails sent to them"]
    assert sent["count"] == 2  # her mark and her failed email, not the lookalike


def test_searches_for_an_erased_contact_by_name_or_address_lose_the_words_not_the_search(
    grace, persona, cast
):
    """A saved search holds its text URL-encoded ("text=Grace+Engineering") and a bulk
    email the search that chose its recipients: neither was read. The words go; the rest
    of each search stays, and a sent email still says how its recipients were chosen."""
    from mycareer.mailing.models import Campaign
    from mycareer.organisations.models import SavedSearch

    tom = persona("operator")
    searches = {
        query: SavedSearch.objects.create(owner=tom, name=f"Search {n}", query=query)
        for n, query in enumerate(
            [
                "text=Grace+Engineering&tags_all=Placements",
                "text=grace.engineering%40northbridge-eng.co.uk",
                # Another person, and a surname alone (not tied to her): left.
                "text=Grace+Okafor",
                "text=Engineering&sizes=large",
            ]
        )
    }
    sent, other = (
        Campaign.objects.create(
            sender=persona("mailer"),
            unit=cast["units"]["mech"],
            subject=subject,
            body="Come to the fair.",
            status=Campaign.Status.SENT,
            recipient_filters={"text": text, "tags_any": ["Placements"]},
        )
        for subject, text in (("Fair", "Grace Engineering"), ("Talk", "Grace Okafor"))
    )
    subject = subject_from_ids([], [grace["contact"].pk])
    review = review_erasure(subject)
    counts = {c.what: c.count for c in review.removals}
    assert counts["Saved searches for them by name or address"] == 2
    assert counts["Bulk emails whose recipients were chosen by their name or address"] == 1

    personal_data_erase(subject=subject, by=persona("admin"), digest=review.digest)

    assert [_refresh(s).query for s in searches.values()] == [
        "text=%5Bname+erased%5D&tags_all=Placements",
        "text=%5Bemail+erased%5D",
        "text=Grace+Okafor",
        "text=Engineering&sizes=large",
    ]
    assert _refresh(sent).recipient_filters == {
        "text": "[name erased]",
        "tags_any": ["Placements"],
    }
    assert _refresh(other).recipient_filters["text"] == "Grace Okafor"


def test_a_colleagues_saved_search_named_after_an_erased_contact_loses_the_name(grace, persona):
    """The search's words were erased, but its name ("Grace Engineering at Northbridge")
    still named her on the search page and in the campaign's recipient picker."""
    from mycareer.organisations.models import SavedSearch

    search = SavedSearch.objects.create(
        owner=persona("operator"),
        name="Grace Engineering at Northbridge",
        query="text=Grace+Engineering",
    )
    unrelated = SavedSearch.objects.create(
        owner=persona("operator"), name="Grace period renewals", query="text=renewal"
    )
    subject = subject_from_ids([], [grace["contact"].pk])
    review = review_erasure(subject)
    [match] = [m for m in review.matches if m.model == "organisations.SavedSearch"]
    assert (match.kind, match.ticked) == ("full name", True)

    personal_data_erase(subject=subject, by=persona("admin"), digest=review.digest)

    assert _refresh(search).name == "[name erased] at Northbridge"
    assert _refresh(unrelated).name == "Grace period renewals"


def test_a_draft_chosen_by_an_erased_contacts_name_is_said_to_need_its_recipients_again(
    grace, persona, cast
):
    """A sent email keeps whom it went to; a draft's search still chooses its recipients,
    so the review must not say they are unchanged."""
    from mycareer.mailing.models import Campaign

    for subject, status in (("Fair", Campaign.Status.SENT), ("Talk", Campaign.Status.DRAFT)):
        Campaign.objects.create(
            sender=persona("mailer"),
            unit=cast["units"]["mech"],
            subject=subject,
            body="Come.",
            status=status,
            recipient_filters={"text": "Grace Engineering"},
        )
    subject = subject_from_ids([], [grace["contact"].pk])

    lines = {c.what: (c.count, c.how) for c in review_erasure(subject).removals}

    sent = lines["Bulk emails whose recipients were chosen by their name or address"]
    assert sent[0] == 1
    assert sent[1].endswith("whom each went to is unchanged")
    draft = lines["Bulk emails not yet sent whose recipients are chosen by their name or address"]
    assert draft[0] == 1
    assert "choose the recipients again before sending" in draft[1]


def test_a_search_by_a_name_another_person_also_has_is_kept(grace, persona, cast):
    """The review left a note's "Grace Engineering" unticked when another contact had the
    same name, but rewrote every search by that name, so a colleague's saved search for
    the other one, and a draft's recipients, changed under them."""
    from mycareer.mailing.models import Campaign
    from mycareer.organisations import services
    from mycareer.organisations.models import SavedSearch
    from mycareer.organisations.tests.factories import make_organisation

    tom = persona("operator")
    elsewhere = make_organisation("Chapel Allerton Studios", by=tom)
    services.contact_create(organisation=elsewhere, by=tom, full_name=NAME)
    search = SavedSearch.objects.create(owner=tom, name="Her", query="text=Grace+Engineering")
    by_address = SavedSearch.objects.create(
        owner=tom, name="Address", query="text=grace.engineering%40northbridge-eng.co.uk"
    )
    draft = Campaign.objects.create(
        sender=persona("mailer"),
        unit=cast["units"]["mech"],
        subject="Fair",
        body="Come to the fair.",
        recipient_filters={"text": "Grace Engineering"},
    )
    subject = subject_from_ids([], [grace["contact"].pk])
    review = review_erasure(subject)
    counts = {c.what: c.count for c in review.removals}
    assert counts["Saved searches for them by name or address"] == 1  # the address only
    personal_data_erase(subject=subject, by=persona("admin"), digest=review.digest)
    assert _refresh(search).query == "text=Grace+Engineering"
    assert _refresh(draft).recipient_filters == {"text": "Grace Engineering"}
    # Her address is hers alone: it goes.
    assert _refresh(by_address).query == "text=%5Bemail+erased%5D"


def test_a_contact_combined_by_a_merge_takes_the_folded_contacts_history_with_it(persona):
    """The same email at two records: the merge keeps one contact and deletes the other,
    whose audit trail (its name, job title and phones then) is the kept person's history.
    Their letter gives it, searching by the folded name finds them, and erasing them
    leaves none of it."""
    from mycareer.audit.letter import letter_for
    from mycareer.audit.personal_data import find_subjects
    from mycareer.organisations import services
    from mycareer.organisations.models import Contact, MergedContact

    tom, admin = persona("operator"), persona("admin")
    survivor = services.organisation_create(
        by=tom, name="Halden Lockworks Ltd", confirm_duplicates=True
    )
    other = services.organisation_create(
        by=tom, name="Halden Lockworks Limited", confirm_duplicates=True
    )
    kept = services.contact_create(
        organisation=survivor, by=tom, full_name="Jo Quarrington", email="jo.q@halden.example"
    )
    folded = services.contact_create(
        organisation=other,
        by=tom,
        full_name="Jo Quarrington-Smythe",
        email="JO.Q@halden.example",
        job_title="Lockwright Outreach Lead",
        phone="07700 900111",
    )
    services.contact_update(contact=folded, by=tom, phone="07700 900222")
    about_contacts = AuditEntry.objects.filter(
        content_type__app_label="organisations", content_type__model="contact"
    )
    folded_entries = about_contacts.filter(object_id=str(folded.pk)).count()
    assert folded_entries == 2  # added, then its phone changed
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=admin)
    assert not Contact.objects.filter(pk=folded.pk).exists()
    assert MergedContact.objects.get(pk=folded.pk).merged_into_id == kept.pk

    # Before erasure: the letter gives the folded contact's history and earlier details.
    subject = subject_from_ids([], [kept.pk])
    letter = letter_for(subject)
    audit = next(s for s in letter.held if s.key == "audit")
    own = about_contacts.filter(object_id__in=[str(kept.pk), str(folded.pk)])
    assert len(audit.entries) == own.count() > folded_entries
    earlier = dict(
        next(
            e.facts
            for s in letter.held
            for e in s.entries
            if e.title.startswith("Names and contact details your records held before")
        )
    )
    assert earlier["Names"] == "Jo Quarrington-Smythe"
    assert "07700 900111" in earlier["Phone numbers"]
    # A request signed with the folded name finds the person it became.
    _, contacts = find_subjects("Quarrington-Smythe")
    assert [c.pk for c in contacts] == [kept.pk]
    assert contacts[0].once_held == "Jo Quarrington-Smythe"

    review = review_erasure(subject)
    personal_data_erase(
        subject=subject, by=admin, selected=review.default_selection(), digest=review.digest
    )
    assert _everywhere("Quarrington", "900111", "900222", "Lockwright Outreach") == []
    # The folded contact's entries stay, saying what happened, about an erased contact.
    left = about_contacts.filter(object_id=str(folded.pk))
    assert left.count() == folded_entries
    assert set(left.values_list("object_repr", flat=True)) == {"Erased contact"}
    assert find_subjects("Quarrington-Smythe") == ([], [])
