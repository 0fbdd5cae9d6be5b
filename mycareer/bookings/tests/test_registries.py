"""What bookings add to other apps' pages and jobs: feeds, cancellation notices, timelines,
the scheduler, and the demo story."""

import datetime

import icalendar
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mycareer.bookings import demo, services, tickets
from mycareer.bookings.models import HOLDING, QUEUED, Booking, BookingSettings, WaitlistEntry
from mycareer.bookings.tests.factories import make_event, make_students
from mycareer.events import selectors as event_selectors
from mycareer.events import services as event_services
from mycareer.events.registry import cancellation_figures
from mycareer.organisations.timeline import organisation_timeline


@pytest.mark.django_db
def test_a_persons_feed_includes_events_they_were_booked_into(persona, cast):
    tom, student = persona("operator"), persona("student2")  # Computer Science
    event = make_event(organiser=tom, capacity=5, open_to_all=False)
    event.audience.units.add(cast["units"]["history"])
    assert event not in event_selectors.personal_feed_events(student)
    services.staff_book_student(event=event, student=student, by=tom)
    assert event in event_selectors.personal_feed_events(student)


@pytest.mark.django_db
def test_cancelling_ends_every_place_and_tells_each_person_once(persona, cast):
    from mycareer.events.models import CancellationNotice

    tom = persona("operator")
    event = make_event(organiser=tom, capacity=1)
    booked, waiting, cancelled = make_students(3)
    services.booking_create(event=event, student=booked, by=booked)
    services.booking_create(event=event, student=waiting, by=waiting)
    gone = services.booking_create(event=make_event(capacity=5), student=cancelled, by=cancelled)
    services.booking_cancel(booking=gone, by=cancelled)
    assert cancellation_figures(event) == [
        (1, "1 person has a place"),
        (1, "1 person is on the waiting list"),
    ]
    event_services.event_cancel(event=event, by=tom, reason="Speaker ill")
    notices = CancellationNotice.objects.filter(event=event).order_by("person__email")
    assert [(n.person, n.detail) for n in notices] == sorted(
        [(booked, "your place"), (waiting, "your place on the waiting list")],
        key=lambda pair: pair[0].email,
    )
    assert not Booking.objects.filter(event=event, status__in=HOLDING).exists()
    assert not WaitlistEntry.objects.filter(event=event, status__in=QUEUED).exists()
    assert WaitlistEntry.objects.get(event=event, student=waiting).status == "cancelled"
    assert cancellation_figures(event) == []


@pytest.mark.django_db
def test_the_cancelled_events_calendar_file_follows_the_one_the_confirmation_carried(persona, cast):
    """A calendar takes a file over the one it holds only if its SEQUENCE is higher: the
    file in the cancellation email must be above the confirmation's, or the event stays."""
    from mycareer.events.tasks import calendar_file

    tom = persona("operator")
    event = make_event(organiser=tom, capacity=5)
    student = make_students(1)[0]
    first = services.booking_create(event=event, student=student, by=student)
    services.booking_cancel(booking=first, by=student)
    again = services.booking_create(event=event, student=student, by=student)
    confirmed = tickets.calendar_sequence(again)  # the file the second confirmation carried
    event_services.event_cancel(event=event, by=tom, reason="Speaker ill")
    event.refresh_from_db()
    (vevent,) = icalendar.Calendar.from_ical(calendar_file(event, student)).walk("VEVENT")
    assert vevent["STATUS"] == "CANCELLED" and vevent["UID"] == event.ical_uid
    assert vevent["SEQUENCE"] > confirmed


@pytest.mark.django_db
def test_cancelling_before_the_start_ends_places_already_checked_in_and_tells_them(persona):
    """Check-in opens before the start: cancelling then left people who had arrived
    holding a place at a cancelled event, uncounted on the confirmation and not told."""
    from mycareer.events.models import CancellationNotice

    tom = persona("operator")
    event = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(minutes=30))
    early, booked = make_students(2)
    arrived = services.booking_create(event=event, student=early, by=early)
    services.booking_create(event=event, student=booked, by=booked)
    services.check_in(booking=arrived, by=tom)
    assert cancellation_figures(event) == [(2, "2 people have a place (1 already checked in)")]
    # A change of room while people arrive reaches the one already there too.
    assert {person for person, _ in event_selectors.people_to_tell_of_changes(event)} == {
        early,
        booked,
    }
    event_services.event_cancel(event=event, by=tom, reason="Room flooded")
    told = CancellationNotice.objects.filter(event=event)
    assert {(n.person, n.detail) for n in told} == {(early, "your place"), (booked, "your place")}
    assert not Booking.objects.filter(event=event, status__in=HOLDING).exists()


@pytest.mark.django_db
def test_organisation_timelines_show_figures_without_names_to_staff_and_others(
    persona, kirkstall_talk
):
    organisation = kirkstall_talk.organisations.get()
    for viewer, staff in ((persona("operator"), True), (persona("student"), False)):
        entries, _ = organisation_timeline(organisation, viewer=viewer, staff=staff)
        titles = [e.title for e in entries if e.kind == "Bookings"]
        assert "Kirkstall Robotics: automation in practice: 17 booked, 13 attended" in titles
    assert all(
        "Aisha" not in " ".join([e.title, e.text, *e.details])
        for e in organisation_timeline(organisation, viewer=persona("student"), staff=False)[0]
    )


@pytest.mark.django_db
def test_the_scheduler_expires_offers_every_five_minutes(cast, django_capture_on_commit_callbacks):
    from mycareer.core.scheduler import enqueue_due_jobs

    DBTaskResult.objects.all().delete()
    day = timezone.localdate() + datetime.timedelta(days=1)
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        assert "expire-offers" in enqueue_due_jobs(now=at)
        assert "expire-offers" not in enqueue_due_jobs(now=at + datetime.timedelta(minutes=3))
        assert "expire-offers" in enqueue_due_jobs(now=at + datetime.timedelta(minutes=5))
    assert DBTaskResult.objects.filter(task_path__endswith="expire_offers").count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # about the demo data itself: its bookings tell a story
def test_the_demo_story_has_bookings_waiting_lists_and_attendance(persona, cast):
    aisha = persona("student")
    events = {e.title: e for e in cast["events"].values()}
    past = events[demo.PAST_CLOSED]
    assert BookingSettings.objects.get(event=past).attendance_closed
    statuses = set(Booking.objects.filter(event=past).values_list("status", flat=True))
    assert statuses == {"attended", "no_show"}
    assert Booking.objects.get(event=past, student=aisha).status == "attended"
    full = events[demo.FULL]
    assert Booking.objects.filter(event=full, status="confirmed").count() == 12
    assert WaitlistEntry.objects.filter(event=full, status="waiting").count() == 4
    assert WaitlistEntry.objects.get(event=full, student=aisha).status == "waiting"
    assert Booking.objects.get(event=events[demo.FAIR], student=aisha).status == "confirmed"
    assert WaitlistEntry.objects.filter(event=events[demo.OFFERS], status="offered").count() == 1
    cancelled = events[demo.CANCELLED]
    cancelled.refresh_from_db()
    assert cancelled.is_cancelled
    assert WaitlistEntry.objects.get(event=cancelled, student=aisha).status == "cancelled"
    assert not Booking.objects.filter(event=cancelled, status="confirmed").exists()
    # Idempotent: seeding again adds nothing.
    before = Booking.objects.count()
    demo.seed_bookings(cast)
    assert Booking.objects.count() == before


@pytest.mark.django_db
def test_my_events_feed_holds_the_places_and_their_cancellations_not_waiting_lists(persona, cast):
    tom = persona("operator")
    student = make_students(1)[0]
    booked, waiting, open_only = (make_event(organiser=tom, capacity=1) for _ in range(3))
    services.booking_create(event=booked, student=student, by=student)
    other = make_students(1)[0]
    services.booking_create(event=waiting, student=other, by=other)
    services.booking_create(event=waiting, student=student, by=student)
    feed = event_selectors.personal_feed_events(student)
    assert booked in feed
    assert waiting not in feed and open_only not in feed
    # Events open to them are the other feed.
    assert open_only in event_selectors.visible_events(student)
    event_services.event_cancel(event=booked, by=tom, reason="Speaker ill")
    [cancelled] = event_selectors.personal_feed_events(student)
    assert cancelled == booked and cancelled.is_cancelled  # STATUS:CANCELLED in the feed


@pytest.mark.django_db
def test_cancelling_counts_as_emailed_only_people_who_can_still_sign_in(persona):
    """The confirmation's number is checked against whom cancelling emails: a leaver's
    place ends unsaid, so confirming the places (2) is stale and the emails (1) is not."""
    from django.core.exceptions import ValidationError

    from mycareer.events.registry import cancellation_reach

    tom = persona("operator")
    event = make_event(organiser=tom, capacity=5)
    staying, leaver = make_students(2)
    services.booking_create(event=event, student=staying, by=staying)
    services.booking_create(event=event, student=leaver, by=leaver)
    leaver.is_active = False
    leaver.save(update_fields=["is_active"])
    reach = cancellation_reach(event)
    assert (reach.emailed, reach.places_unemailed) == (1, 1)
    with pytest.raises(ValidationError, match="cancelling now emails 1 person, not 2"):
        event_services.event_cancel(event=event, by=tom, reason="Speaker ill", expected_people=2)
    event_services.event_cancel(event=event, by=tom, reason="Speaker ill", expected_people=1)
    event.refresh_from_db()
    assert event.is_cancelled
