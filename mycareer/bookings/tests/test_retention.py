"""Bookings are kept N years after the student's expected graduation, then removed."""

import datetime

from django.urls import reverse
from django.utils import timezone

from mycareer.audit.retention import retention_apply, retention_dry_run
from mycareer.bookings.models import Booking, WaitlistEntry
from mycareer.bookings.tests.factories import make_event, make_students


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


def test_the_retention_schedule_names_the_rule(client, cast, persona):
    client.force_login(persona("admin"))
    page = client.get(reverse("audit:retention")).content.decode()
    assert "6 years after the student&#x27;s expected graduation" in page
