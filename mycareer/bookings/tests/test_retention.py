"""Bookings are kept N years after the student's expected graduation, then removed."""

import datetime

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mycareer.audit import retention
from mycareer.audit.models import AuditEntry
from mycareer.audit.retention import RetentionRule, retention_apply, retention_dry_run
from mycareer.bookings.models import Booking, BookingBan, EmployerReport, WaitlistEntry
from mycareer.bookings.privacy import remove_rows
from mycareer.bookings.tests.factories import make_event, make_students
from mycareer.organisations.tests.factories import ContactFactory


def test_bookings_go_n_years_after_graduation_and_no_sooner(cast, settings):
    settings.MYCAREER["BOOKINGS_KEPT_YEARS_AFTER_GRADUATION"] = 6
    long_gone, recent, unknown = make_students(3)
    today = timezone.localdate()
    long_gone.student_profile.expected_graduation = today - datetime.timedelta(days=7 * 366)
    long_gone.student_profile.save()
    recent.student_profile.expected_graduation = today - datetime.timedelta(days=5 * 365)
    recent.student_profile.save()
    past = make_event(starts_in=-datetime.timedelta(days=8 * 365), title="Old fair")
    for student in (long_gone, recent, unknown):
        Booking.objects.create(event=past, student=student, status="attended")
    WaitlistEntry.objects.create(event=past, student=long_gone, status="expired")

    dry = {rule.name: count for rule, count in retention_dry_run()}
    assert (dry["Bookings"], dry["Waiting-list places"]) == (1, 1)
    assert Booking.objects.filter(student=long_gone).exists()

    done = retention_apply(by=None)
    assert (done["Bookings"], done["Waiting-list places"]) == (1, 1)
    assert not Booking.objects.filter(student=long_gone).exists()
    assert Booking.objects.filter(student__in=[recent, unknown]).count() == 2
    # The student's login stays: the rule is about their bookings only.
    long_gone.refresh_from_db()
    assert long_gone.is_active


def test_the_audit_trail_of_removed_bookings_no_longer_says_whose_they_were(cast, persona):
    """What was done stays in the audit trail (a check-in, by whom, when), but not who
    it was about: their name was in each entry's description, and the entry was theirs."""
    from mycareer.audit import services as audit

    gone, kept = make_students(2)
    gone.student_profile.expected_graduation = timezone.localdate() - datetime.timedelta(
        days=7 * 366
    )
    gone.student_profile.save()
    past = make_event(starts_in=-datetime.timedelta(days=8 * 365), title="Old fair")
    booking = Booking.objects.create(event=past, student=gone, status="attended")
    entry = WaitlistEntry.objects.create(event=past, student=gone, status="expired")
    other = Booking.objects.create(event=past, student=kept, status="attended")
    operator = persona("operator")
    for row, action in (
        (booking, "bookings.booking.checked_in"),
        (entry, "bookings.waitlist.expired"),
        (other, "bookings.booking.checked_in"),
    ):
        audit.log(row, action, by=operator, person=row.student, data={"event": past.pk})

    retention_apply(by=None)

    assert not AuditEntry.objects.filter(person=gone).exists()
    assert not AuditEntry.objects.filter(object_repr__contains=gone.full_name).exists()
    removed = AuditEntry.objects.filter(actor=operator).exclude(person=kept)
    assert sorted(removed.values_list("action", "actor", "object_repr")) == [
        ("bookings.booking.checked_in", operator.pk, "A booking removed by the retention schedule"),
        (
            "bookings.waitlist.expired",
            operator.pk,
            "A waiting-list place removed by the retention schedule",
        ),
    ]
    # Another student's entries are untouched.
    assert AuditEntry.objects.get(person=kept).object_repr == f"{kept} at {past}"


def test_booking_restrictions_go_with_the_bookings_and_their_audit_entries_name_nobody(
    cast, persona
):
    """A restriction's reason names the events missed, and its audit entries the student:
    kept for ever, they outlived the bookings they were counted from."""
    from mycareer.audit import services as audit

    gone, recent = make_students(2)
    today = timezone.localdate()
    gone.student_profile.expected_graduation = today - datetime.timedelta(days=7 * 366)
    gone.student_profile.save()
    now = timezone.now()
    ended, running = (
        BookingBan.objects.create(
            student=gone,
            starts_at=now - datetime.timedelta(days=8 * 365),
            ends_at=now - datetime.timedelta(days=8 * 365 - 30),
            reason="Missed Old fair and Old talk",
        ),
        # Still running (a restriction started after graduation): not yet.
        BookingBan.objects.create(
            student=gone, ends_at=now + datetime.timedelta(days=5), reason="Missed two"
        ),
    )
    kept = BookingBan.objects.create(
        student=recent, ends_at=now - datetime.timedelta(days=1), reason="Missed two"
    )
    operator = persona("operator")
    for ban in (ended, kept):
        audit.log(ban, "bookings.ban.started", by=operator, person=ban.student)

    dry = {rule.name: count for rule, count in retention_dry_run()}
    assert dry["Booking restrictions"] == 1
    done = retention_apply(by=None)

    assert done["Booking restrictions"] == 1
    assert list(BookingBan.objects.order_by("pk")) == [running, kept]
    entry = AuditEntry.objects.get(action="bookings.ban.started", object_id=str(ended.pk))
    assert (entry.person, entry.actor, entry.object_repr) == (
        None,
        operator,
        "A booking restriction removed by the retention schedule",
    )
    assert AuditEntry.objects.get(action="bookings.ban.started", person=recent).object_id == str(
        kept.pk
    )


def test_the_retention_schedule_names_the_rule(client, cast, persona):
    client.force_login(persona("admin"))
    page = client.get(reverse("audit:retention")).content.decode()
    assert "6 years after the student&#x27;s expected graduation" in page
    assert "Booking restrictions" in page


def test_the_numbers_after_applying_count_the_rows_shown_not_those_removed_with_them(
    client, cast, persona, monkeypatch
):
    """An attendance report takes its list of contacts with it: the schedule said two
    reports, so the message after says two, not two and their four contacts."""
    rule = RetentionRule(
        "Old attendance reports",
        "1 year",
        lambda: EmployerReport.objects.filter(message="old"),
        remove_rows,
    )
    monkeypatch.setattr(retention, "_rules", {rule.name: rule})
    event = make_event(starts_in=-datetime.timedelta(days=400), title="Old fair")
    for message in ("old", "old", "recent"):
        report = EmployerReport.objects.create(event=event, message=message)
        report.contacts.add(*ContactFactory.create_batch(2))
    assert [(r.name, count) for r, count in retention_dry_run()] == [(rule.name, 2)]

    client.force_login(persona("admin"))
    page = client.get(reverse("audit:retention")).content.decode()
    assert "removes or anonymises <strong>2 records</strong>" in page
    response = client.post(reverse("audit:retention"), {"confirmed": "2"})
    [message] = get_messages(response.wsgi_request)
    assert str(message) == (
        "Applied the schedule: 2 records removed or anonymised (Old attendance reports: 2)."
    )
    assert list(EmployerReport.objects.values_list("message", flat=True)) == ["recent"]
    assert EmployerReport.contacts.through.objects.count() == 2
    # The audit trail keeps both: the reports, and every row that went with them.
    entry = AuditEntry.objects.get(action="audit.retention.applied")
    assert entry.data == {"rule": rule.name, "rows": 2, "rows_in_all": 6}
    # Run again (the daily task): nothing left of what was shown, and it says nought.
    assert retention_apply(by=None) == {rule.name: 0}
