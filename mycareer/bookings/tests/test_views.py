"""Pages: the booking panel, My events, running an event, the door, after the event."""

import datetime
import html
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from mycareer.bookings import selectors, services
from mycareer.bookings.models import Booking, BookingBan, BookingSettings, WaitlistEntry
from mycareer.bookings.tests.factories import held_event, make_event, make_students
from mycareer.bookings.tickets import calendar_sequence, check_in_token
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.core.tests.queries import assert_no_more_queries, steady_queries
from mycareer.events.models import Event
from mycareer.organisations import services as organisation_services


def url(name, *args):
    return reverse(f"bookings:{name}", args=args)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def tom(persona):
    return persona("operator")


@pytest.fixture
def mech_event(tom, cast):
    """Tom's event for mechanical engineering students, starting within the hour."""
    event = make_event(
        organiser=tom, capacity=2, open_to_all=False, starts_in=datetime.timedelta(minutes=30)
    )
    event.audience.units.add(cast["units"]["mech"])
    return event


# Booking through the panel -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status", "booked"),
    [
        ("student", 302, True),  # MEng Mechanical Engineering: in the audience
        ("student2", 403, False),  # Computer Science: the event is for other students
        ("employer@demo-employer.com", 403, False),  # not open to employers
        ("operator", 302, False),  # staff see the event but do not book
    ],
)
def test_who_may_book(client, persona, mech_event, name, status, booked):
    person = persona(name)
    client.force_login(person)
    response = client.post(url("book", mech_event.pk))
    assert response.status_code == status
    assert Booking.objects.filter(event=mech_event, student=person).exists() is booked


@pytest.mark.django_db
def test_booking_a_draft_is_not_found_and_books_nothing(client, persona, tom):
    """The page asks whether the person may see the event only after the service refused."""
    event = make_event(organiser=tom, capacity=5)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    student = persona("student")
    client.force_login(student)
    assert client.post(url("book", event.pk)).status_code == 404
    assert not Booking.objects.filter(event=event).exists()


@pytest.mark.django_db
def test_a_refusal_is_explained(client, persona, mech_event):
    client.force_login(persona("operator"))
    response = client.post(url("book", mech_event.pk), follow=True)
    assert "Only students book places at events." in text(response)


@pytest.mark.django_db
def test_a_draft_does_not_say_that_booking_is_open(client, tom):
    """The organiser's draft said "Booking is open until the event starts"."""
    event = make_event(organiser=tom, capacity=5)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    client.force_login(tom)
    page = text(client.get(reverse("events:detail", args=[event.pk])))
    assert "Booking is open" not in page
    assert "Booking opens when the event is published and stays open until it starts." in page
    # Its bookings page does not offer to book a student in, only to be refused.
    manage = text(client.get(url("manage", event.pk)))
    assert "Book them in" not in manage
    publish = reverse("events:publish", args=[event.pk])
    assert f'This event is a draft: it takes bookings once it is <a href="{publish}">' in manage


@pytest.mark.django_db
def test_the_panel_shows_places_the_window_and_the_waiting_list_rule(client, persona, tom):
    event = make_event(organiser=tom, capacity=1)
    taker = make_students(1)[0]
    services.booking_create(event=event, student=taker, by=taker)
    student = persona("student")
    client.force_login(student)
    page = text(client.get(url("event", event.pk)))
    assert "Fully booked" in page
    assert "Booking is open until the event starts." in page
    assert "the next person is booked automatically and told by email" in page
    assert "Join the waiting list" in page
    response = client.post(url("book", event.pk), {"next": url("event", event.pk)}, follow=True)
    page = text(response)
    assert "is full: you are number 1 on the waiting list" in page
    assert (
        "You are number 1 on the waiting list; places are given in the order people joined." in page
    )
    assert "Leave the waiting list" in page


@pytest.mark.django_db
def test_the_panel_explains_offers_and_a_window_not_yet_open(client, persona, tom):
    opens = timezone.now() + datetime.timedelta(days=2)
    event = make_event(
        organiser=tom, capacity=30, promotion="offer", offer_hours=12, opens_at=opens
    )
    client.force_login(persona("student"))
    page = text(client.get(url("event", event.pk)))
    assert "30 of 30 places left." in page
    assert "Booking opens on" in page
    assert "it is offered by email to the next person in the order people joined" in page
    assert "have 12 hours to accept" in page
    assert "Book a place" not in page


@pytest.mark.django_db
def test_the_include_renders_on_any_page_with_one_line(rf, persona, tom):
    event = make_event(organiser=tom, capacity=5)
    request = RequestFactory().get("/events/1/")
    request.user = persona("student")
    html = Template("{% load bookings %}{% event_booking event %}").render(
        RequestContext(request, {"event": event})
    )
    assert "5 of 5 places left." in html and "Book a place" in html
    assert "<script" not in html and "style=" not in html
    # Without a request (an email, say) it still renders, for nobody in particular.
    assert "Booking" in Template("{% load bookings %}{% event_booking event %}").render(
        Context({"event": event})
    )


@pytest.mark.django_db
def test_my_events_offers_no_cancelling_once_the_event_is_under_way(client, persona, tom):
    """A place can be cancelled until the event starts: after that, no link that only
    leads to a refusal."""
    student = persona("student")
    event = make_event(organiser=tom, starts_in=datetime.timedelta(hours=1), minutes=120)
    booking = services.booking_create(event=event, student=student, by=student)
    client.force_login(student)
    assert f'href="{url("cancel", booking.pk)}"' in text(client.get(url("my_events")))
    with time_machine.travel(event.starts_at + datetime.timedelta(minutes=5)):
        page = text(client.get(url("my_events")))
        assert event.title in page and "Under way" in page
        assert f'href="{url("cancel", booking.pk)}"' not in page


@pytest.mark.django_db
def test_students_cancel_and_leave_from_my_events(client, persona, tom):
    student = persona("student")
    first = make_event(organiser=tom, capacity=1)
    second = make_event(organiser=tom, capacity=0)
    booking = services.booking_create(event=first, student=student, by=student)
    entry = services.booking_create(event=second, student=student, by=student)
    client.force_login(student)
    page = text(client.get(url("my_events")))
    assert first.title in page and second.title in page
    assert "You are number 1 on the waiting list" in page
    # Cancelling asks first: the link opens the question, and nothing changes until "yes".
    assert f'href="{url("cancel", booking.pk)}"' in page
    assert "Cancel your place?" in text(client.get(url("cancel", booking.pk)))
    client.post(url("cancel", booking.pk))
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    done = client.post(url("cancel", booking.pk), {"confirm": "yes"}, follow=True)
    assert f"Your place at {first.title} is cancelled." in text(done)
    # Leaving the queue asks first too: a place in it once left is gone.
    assert f'href="{url("leave", entry.pk)}"' in page
    question = text(client.get(url("leave", entry.pk)))
    assert "Leave the waiting list?" in question
    assert "You are number 1 on the waiting list." in question
    assert "join again, at the back of the list" in question
    client.post(url("leave", entry.pk))
    entry.refresh_from_db()
    assert entry.status == "waiting"
    left = client.post(url("leave", entry.pk), {"confirm": "yes"}, follow=True)
    assert "You have left the waiting list of" in text(left)
    booking.refresh_from_db()
    entry.refresh_from_db()
    assert (booking.status, entry.status) == ("cancelled", "left")
    stale = text(client.get(url("leave", entry.pk)))
    assert f"You left this waiting list on {selectors.when_text(entry.ended_at)}." in stale
    assert "Leave the waiting list?" not in stale and "Yes, leave" not in stale


@pytest.mark.django_db
def test_staff_remove_someone_from_the_waiting_list_only_after_confirming(client, persona, tom):
    event = make_event(organiser=tom, capacity=0)
    student, other = persona("student"), persona("student2")
    services.booking_create(event=event, student=other, by=other)
    entry = services.booking_create(event=event, student=student, by=student)
    client.force_login(other)
    refused = client.get(url("leave", entry.pk))
    assert refused.status_code == 403
    assert "This place on a waiting list is someone else&#x27;s." in text(refused)
    assert event.title not in text(refused)
    assert client.post(url("leave", entry.pk), {"confirm": "yes"}).status_code == 403
    client.force_login(tom)
    manage = text(client.get(url("manage", event.pk)))
    assert f'href="{url("leave", entry.pk)}"' in manage
    question = text(client.get(url("leave", entry.pk)))
    assert "Remove Aisha Khan from the waiting list?" in question
    assert "Aisha Khan is number 2 on the waiting list." in question
    entry.refresh_from_db()
    assert entry.status == "waiting"
    done = client.post(url("leave", entry.pk), {"confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == url("manage", event.pk)
    assert "Aisha Khan is no longer on the waiting list of" in text(done)
    entry.refresh_from_db()
    assert entry.status == "left" and entry.ended_by == tom


@pytest.mark.django_db
def test_nobody_cancels_someone_elses_booking_unless_they_run_the_event(client, persona, tom):
    event = make_event(organiser=tom, capacity=5)
    owner = persona("student")
    booking = services.booking_create(event=event, student=owner, by=owner)
    for name in ("mailer", "viewer"):
        client.force_login(persona(name))
        assert client.get(url("cancel", booking.pk)).status_code == 403
        assert client.post(url("cancel", booking.pk), {"confirm": "yes"}).status_code == 403
    # Another student: someone else's (not "for staff only"), with whose login this is,
    # naming neither the event nor the student.
    other = persona("student2")
    client.force_login(other)
    response = client.get(url("cancel", booking.pk))
    assert response.status_code == 403
    page = text(response)
    assert "This place was booked by someone else. If it is yours, you are logged in" in page
    assert f"You are logged in as {other.full_name}" in page
    assert "Log out and open the link again" in page
    assert event.title not in page and owner.full_name not in page
    assert client.post(url("cancel", booking.pk), {"confirm": "yes"}).status_code == 403
    assert client.get(url("cancel", booking.pk + 1000)).status_code == 404
    client.force_login(tom)
    assert "Cancel Aisha Khan's place?" in text(client.get(url("cancel", booking.pk)))
    done = client.post(url("cancel", booking.pk), {"confirm": "yes"}, follow=True)
    assert f"Aisha Khan&#x27;s place at {event.title} is cancelled." in text(done)
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.cancelled_by == tom


@pytest.mark.django_db
def test_an_offer_is_accepted_from_its_page(client, persona, tom):
    event = make_event(organiser=tom, capacity=1, promotion="offer")
    holder, student = make_students(1)[0], persona("student")
    first = services.booking_create(event=event, student=holder, by=holder)
    entry = services.booking_create(event=event, student=student, by=student)
    services.booking_cancel(booking=first, by=holder)
    client.force_login(persona("student2"))
    stranger = client.get(url("offer", entry.pk))
    assert stranger.status_code == 403
    page = text(stranger)
    assert (
        "This offer of a place was made to someone else. If it is yours, you are logged in "
        "as someone else." in page
    )
    assert "Log out and open the link again" in page
    assert event.title not in page and student.full_name not in page
    assert client.post(url("offer", entry.pk), {"do": "accept"}).status_code == 403
    assert client.get(url("offer", entry.pk + 1000)).status_code == 404
    client.force_login(student)
    page = text(client.get(url("offer", entry.pk)))
    assert "it is yours if you accept it by" in page
    assert "Places offered to you" in text(client.get(url("my_events")))
    client.post(url("offer", entry.pk), {"do": "accept"})
    assert Booking.objects.get(event=event, student=student).status == "confirmed"


@pytest.mark.django_db
def test_an_offer_opened_again_after_accepting_it_says_when_it_was_accepted(client, persona, tom):
    event = make_event(organiser=tom, capacity=1, promotion="offer")
    holder, student = make_students(1)[0], persona("student")
    first = services.booking_create(event=event, student=holder, by=holder)
    entry = services.booking_create(event=event, student=student, by=student)
    services.booking_cancel(booking=first, by=holder)
    client.force_login(student)
    client.post(url("offer", entry.pk), {"do": "accept"})
    entry.refresh_from_db()
    accepted = f"You accepted this place on {selectors.when_text(entry.ended_at)}."
    response = client.get(url("offer", entry.pk))
    page = text(response)
    assert accepted in page and "There is no open offer" not in page
    assert f'href="{url("my_events")}">Your events</a>' in page
    assert "Accept the place" not in page
    again = text(client.post(url("offer", entry.pk), {"do": "accept"}, follow=True))
    assert accepted in again


@pytest.mark.django_db
def test_declining_an_offer_asks_first_and_happens_once(client, persona, tom):
    """One press on "Decline" gave the place away, with no word of what that does and no
    way back."""
    event = make_event(organiser=tom, capacity=1, promotion="offer")
    (holder, last), student = make_students(2), persona("student")
    first = services.booking_create(event=event, student=holder, by=holder)
    entry = services.booking_create(event=event, student=student, by=student)
    services.booking_create(event=event, student=last, by=last)
    services.booking_cancel(booking=first, by=holder)
    client.force_login(student)
    asking = f"{url('offer', entry.pk)}?do=decline"
    assert f'href="{asking}"' in text(client.get(url("offer", entry.pk)))

    def status() -> str:
        entry.refresh_from_db()
        return entry.status

    # Asking, and the one-press form of a page opened before, decline nothing.
    for response in (client.get(asking), client.post(url("offer", entry.pk), {"do": "decline"})):
        page = text(response)
        assert response.status_code == 200
        assert "Decline the place you were offered?" in page
        assert "the next person on it will be offered the place by email" in page
        assert "You cannot take it back once you have declined it." in page
        assert 'name="confirm" value="yes"' in page and "Yes, decline the place" in page
        assert status() == "offered"
    response = client.post(asking, {"confirm": "yes"})
    assert response.url == url("my_events") and status() == "left"
    assert WaitlistEntry.objects.get(event=event, student=last).status == "offered"
    # Pressed again (Back, or a second click): one outcome, and the page says which.
    again = text(client.post(asking, {"confirm": "yes"}, follow=True))
    assert f"You declined this place on {selectors.when_text(entry.ended_at)}." in again
    assert "Yes, decline the place" not in again and "Accept the place" not in again
    assert status() == "left"
    assert WaitlistEntry.objects.get(event=event, student=last).status == "offered"
    assert "Yes, decline the place" not in text(client.get(asking))


@pytest.mark.django_db
def test_an_offer_opened_after_its_deadline_is_not_offered_and_says_what_became_of_it(
    client, persona, tom
):
    """Opened before the periodic job closed it: the page closes it and says so."""
    event = make_event(organiser=tom, capacity=1, promotion="offer", offer_hours=1)
    holder, student = make_students(1)[0], persona("student")
    first = services.booking_create(event=event, student=holder, by=holder)
    entry = services.booking_create(event=event, student=student, by=student)
    services.booking_cancel(booking=first, by=holder)
    client.force_login(student)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert "What became of the place" in text(client.get(url("event", event.pk)))
        page = text(client.get(url("offer", entry.pk)))
        assert "Accept the place" not in page and "passed to the next person" not in page
        assert "Nobody else was waiting, so the place is free again" in page
        entry.refresh_from_db()
        assert entry.status == "expired"
        assert "Places offered to you" not in text(client.get(url("my_events")))
        response = client.post(url("offer", entry.pk), {"do": "accept"}, follow=True)
        assert "Nobody else was waiting, so the place is free again" in text(response)
    assert not Booking.objects.filter(event=event, student=student).exists()


@pytest.mark.django_db
def test_my_events_leaves_out_an_offer_whose_deadline_passed(client, persona, tom):
    event = make_event(organiser=tom, capacity=1, promotion="offer", offer_hours=1)
    holder, student = make_students(1)[0], persona("student")
    first = services.booking_create(event=event, student=holder, by=holder)
    services.booking_create(event=event, student=student, by=student)
    services.booking_cancel(booking=first, by=holder)
    client.force_login(student)
    assert "Places offered to you" in text(client.get(url("my_events")))
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert "Places offered to you" not in text(client.get(url("my_events")))


@pytest.mark.django_db
@pytest.mark.usefixtures("aishas_events")
def test_my_events_shows_the_students_places_and_past_attendance(client, persona):
    client.force_login(persona("student"))
    page = text(client.get(url("my_events")))
    assert "Engineering and technology careers fair" in page  # booked
    assert "Interview skills" in page and "You are number 2 on the waiting list" in page
    assert "Kirkstall Robotics: automation in practice" in page and "Attended" in page


@pytest.mark.django_db
def test_the_organiser_sees_which_booked_and_waiting_students_have_left(
    client, persona, aishas_events
):
    """A student the record system says has left can no longer sign in and is passed over
    for places: the organiser saw them booked and second in line, like anyone else."""
    aisha = persona("student")
    aisha.is_active = False
    aisha.save(update_fields=["is_active"])
    client.force_login(persona("admin"))

    waiting = text(client.get(url("manage", aishas_events["full"].pk)))
    booked = text(client.get(url("manage", aishas_events["fair"].pk)))

    assert "Account closed: passed over when a place is offered" in waiting
    assert "Account closed: they cannot sign in" in booked


@pytest.mark.django_db
def test_a_place_offered_before_the_account_closed_is_not_said_to_be_passed_over(client, persona):
    tom = persona("operator")
    event = make_event(
        organiser=tom, capacity=1, promotion=BookingSettings.Promotion.OFFER, offer_hours=24
    )
    first, waiting = make_students(2)
    booked = services.booking_create(event=event, student=first, by=first)
    services.booking_create(event=event, student=waiting, by=waiting)
    services.booking_cancel(booking=booked, by=first)
    assert WaitlistEntry.objects.get(event=event, student=waiting).is_offered
    waiting.is_active = False
    waiting.save(update_fields=["is_active"])
    client.force_login(tom)
    page = text(client.get(url("manage", event.pk)))
    assert "Account closed: they cannot sign in to accept" in page
    assert "passed over when a place is offered" not in page


@pytest.mark.django_db
def test_my_events_takes_a_bounded_number_of_queries(
    client, persona, tom, django_assert_max_num_queries
):
    from mycareer.events import services as event_services

    student = persona("student")
    for capacity in (5, 5, 0, 0, 0, 5, 5, 0, 0):
        event = make_event(organiser=tom, capacity=capacity)
        services.booking_create(event=event, student=student, by=student)
    # Four of them cancelled: two places and two waiting-list places ended with them.
    for event in Event.objects.filter(organiser=tom).order_by("-pk")[:4]:
        event_services.event_cancel(event=event, by=tom, reason="Room flooded")
    client.force_login(student)
    with django_assert_max_num_queries(14):
        response = client.get(url("my_events"))
    assert text(response).count("Room flooded") == 4


@pytest.mark.django_db
def test_a_restricted_student_is_told_why_and_until_when(client, persona, tom):
    student = persona("student")
    ends = timezone.now() + datetime.timedelta(weeks=2)
    BookingBan.objects.create(
        student=student, ends_at=ends, reason="You booked 3 events and did not come or cancel."
    )
    event = make_event(organiser=tom, capacity=5)
    client.force_login(student)
    page = text(client.post(url("book", event.pk), follow=True))
    assert "You cannot book events until" in page and "did not come or cancel" in page
    assert "You cannot book events until" in text(client.get(url("my_events")))


# Running an event: who may ----------------------------------------------------------------------

RUNNERS = [
    ("organiser", 200),  # organises a Careers Centre event, not in that unit
    ("unit_operator", 200),  # operator of the event's unit
    ("other_operator", 403),  # operator of another unit
    ("viewer", 403),
    ("student", 403),
    ("admin", 200),
]


@pytest.fixture
def careers_event(persona, cast):
    """A Careers Centre event organised by Tom (of mechanical engineering)."""
    return make_event(organiser=persona("operator"), unit="careers", capacity=10)


def _person(persona, role):
    return persona(
        {
            "organiser": "operator",
            "unit_operator": "admin",
            "other_operator": "mailer",
            "viewer": "viewer",
            "student": "student",
            "admin": "admin",
        }[role]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), RUNNERS)
@pytest.mark.parametrize("view", ["check_in", "manage", "attendance", "report", "counts"])
def test_who_runs_an_events_bookings(client, persona, careers_event, role, status, view):
    client.force_login(_person(persona, role))
    assert client.get(url(view, careers_event.pk)).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [("operator", 200), ("manager", 200), ("mailer", 403), ("viewer", 403), ("student", 403)],
)
def test_operators_of_the_unit_run_its_events(client, persona, name, status, cast):
    """An event of mechanical engineering, organised by an administrator."""
    event = make_event(organiser=persona("admin"), unit="mech", capacity=10)
    client.force_login(persona(name))
    assert client.get(url("check_in", event.pk)).status_code == status
    # Those who run the event reach the question (which says it is too early to close);
    # everyone else is refused before it.
    closing = client.post(url("attendance", event.pk), {"do": "close"})
    assert closing.status_code == (302 if status == 200 else 403)
    assert client.get(url("attendance_close", event.pk)).status_code == status
    closing = client.post(url("attendance_close", event.pk), {"confirm": "yes"})
    assert closing.status_code == (302 if status == 200 else 403)


@pytest.mark.django_db
def test_closing_attendance_and_the_report_are_refused_to_others(client, persona, careers_event):
    client.force_login(persona("mailer"))
    assert client.post(url("attendance", careers_event.pk), {"do": "close"}).status_code == 403
    closing = client.post(url("attendance_close", careers_event.pk), {"confirm": "yes"})
    assert closing.status_code == 403
    assert client.get(url("report_csv", careers_event.pk)).status_code == 403
    assert client.post(url("report", careers_event.pk), {"contacts": ["1"]}).status_code == 403
    assert not BookingSettings.objects.filter(
        event=careers_event, attendance_closed_at__isnull=False
    ).exists()


@pytest.mark.django_db
def test_the_refusal_says_who_runs_the_event(client, persona, careers_event):
    client.force_login(persona("mailer"))
    page = text(client.get(url("check_in", careers_event.pk)))
    assert "are run by its organiser, operators of Careers Centre and administrators" in page


# Running an event: the pages ----------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_book_a_student_in_and_a_mistyped_number_is_kept(client, tom, persona, mech_event):
    client.force_login(tom)
    response = client.post(url("manage", mech_event.pk), {"student": "000NOPE"})
    assert response.status_code == 200
    page = text(response)
    assert "No student with the student number or email address “000NOPE”" in page
    assert 'value="000NOPE"' in page
    response = client.post(url("manage", mech_event.pk), {"student": "202054321"}, follow=True)
    assert "Oliver Price now has a place" in text(response)
    assert Booking.objects.get(event=mech_event, student=persona("student2")).source == "staff"


@pytest.mark.django_db
def test_raising_the_capacity_on_the_settings_page_books_people_waiting(client, tom, mech_event):
    people = make_students(3)
    for student in people:
        services.booking_create(event=mech_event, student=student, by=student)
    client.force_login(tom)
    form = {"capacity": "3", "waiting_list": "on", "promotion": "automatic", "offer_hours": "24"}
    bad = client.post(url("settings", mech_event.pk), {**form, "offer_hours": "0"})
    assert bad.status_code == 200 and 'value="3"' in text(bad)
    asked = client.post(url("settings", mech_event.pk), form)
    assert asked.status_code == 200
    page = text(asked)
    # What saving would do is said first, with what was typed kept, and nothing saved.
    assert (
        '<label for="id_confirm_moves">Confirm: 1 person on the waiting list will be given a '
        "place and emailed</label>" in page
    )
    assert "Tick the box to go ahead, or change the settings." in page
    assert 'type="checkbox" name="confirm_moves"' in page and 'value="1"' in page
    assert 'name="capacity" value="3"' in page
    assert BookingSettings.objects.get(event=mech_event).capacity == 2
    assert Booking.objects.filter(event=mech_event, status="confirmed").count() == 2
    response = client.post(
        url("settings", mech_event.pk), {**form, "confirm_moves": "1"}, follow=True
    )
    assert (
        "The booking settings are saved. 1 person from the waiting list was booked and emailed."
        in text(response)
    )
    assert Booking.objects.filter(event=mech_event, status="confirmed").count() == 3


@pytest.mark.django_db
def test_a_confirmation_for_another_number_of_people_is_asked_again(client, tom, mech_event):
    people = make_students(5)
    for student in people:
        services.booking_create(event=mech_event, student=student, by=student)
    client.force_login(tom)
    form = {"capacity": "5", "waiting_list": "on", "promotion": "offer", "offer_hours": "24"}
    # The page asked about all 3 waiting; one left the list meanwhile, so now 2 would.
    services.waitlist_leave(entry=WaitlistEntry.objects.filter(event=mech_event).first(), by=tom)
    asked = text(client.post(url("settings", mech_event.pk), {**form, "confirm_moves": "3"}))
    assert "Confirm: 2 people on the waiting list will be offered places and emailed" in asked
    assert "checked" not in asked.split('name="confirm_moves"')[1].split(">")[0]
    assert not WaitlistEntry.objects.filter(event=mech_event, status="offered").exists()
    response = client.post(
        url("settings", mech_event.pk), {**form, "confirm_moves": "2"}, follow=True
    )
    assert "2 people from the waiting list were offered places by email." in text(response)
    assert WaitlistEntry.objects.filter(event=mech_event, status="offered").count() == 2


@pytest.mark.django_db
def test_lowering_the_capacity_below_the_places_held_asks_nothing_and_says_nobody_lost_one(
    client, tom, mech_event
):
    for student in make_students(2):
        services.booking_create(event=mech_event, student=student, by=student)
    client.force_login(tom)
    form = {"capacity": "1", "waiting_list": "on", "promotion": "automatic", "offer_hours": "24"}
    response = client.post(url("settings", mech_event.pk), form, follow=True)
    assert (
        "2 people already have places, more than the 1 place now set: nobody loses theirs, "
        "and no new place is given until enough cancel." in text(response)
    )
    assert Booking.objects.filter(event=mech_event, status="confirmed").count() == 2


@pytest.mark.django_db
def test_the_event_form_asks_before_its_places_part_gives_people_places(tom, mech_event):
    from django.http import QueryDict

    from mycareer.bookings.event_form import places_part

    for student in make_students(4):
        services.booking_create(event=mech_event, student=student, by=student)
    data = QueryDict(mutable=True)
    data.update({"places-capacity": "4", "places-waiting_list": "on"})
    data.update({"places-promotion": "automatic", "places-offer_hours": "24"})
    form = places_part.form(data, event=mech_event, user=tom)
    assert form.is_valid()
    with pytest.raises(ValidationError):
        places_part.save(form, event=mech_event, by=tom)
    field = form["confirm_moves"]
    assert field.label == "Confirm: 2 people on the waiting list will be given places and emailed"
    assert 'type="checkbox" name="places-confirm_moves"' in str(field)
    assert BookingSettings.objects.get(event=mech_event).capacity == 2
    data["places-confirm_moves"] = "2"
    form = places_part.form(data, event=mech_event, user=tom)
    assert form.is_valid()
    sentence = places_part.save(form, event=mech_event, by=tom)
    assert sentence == "2 people from the waiting list were booked and emailed."
    assert Booking.objects.filter(event=mech_event, status="confirmed").count() == 4


@pytest.mark.django_db
def test_a_free_slot_before_booking_opens_is_refused_and_the_slots_stay(client, tom):
    """Pressing a slot before the draft's booking opens was refused on a bare page: the
    week and length typed, and the slots found, were gone and had to be found again."""
    opens = timezone.now() + datetime.timedelta(days=10)
    event = make_event(organiser=tom, opens_at=opens, starts_in=datetime.timedelta(days=20))
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    client.force_login(tom)
    week = timezone.localdate() + datetime.timedelta(days=3)
    search = f"{reverse('events:free_slots', args=[event.pk])}?week={week:%Y-%m-%d}&duration=60"
    slot = timezone.now() + datetime.timedelta(days=4)
    response = client.post(
        search,
        {
            "starts_at": slot.isoformat(),
            "ends_at": (slot + datetime.timedelta(hours=1)).isoformat(),
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == search
    body = text(response)
    assert "Booking opens on " in body
    assert "Least-clashing slots" in body
    assert f'value="{week:%Y-%m-%d}"' in body
    event.refresh_from_db()
    assert event.starts_at > opens  # not moved


@pytest.mark.django_db
def test_an_edit_page_sent_without_its_places_still_keeps_the_start_after_booking_opens(
    client, tom
):
    """The form left the check to its places part, which a page without those fields (a
    script, an older page) does not bind: the event moved before its booking opened."""
    opens = timezone.now() + datetime.timedelta(days=10)
    event = make_event(organiser=tom, opens_at=opens, starts_in=datetime.timedelta(days=20))
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    client.force_login(tom)
    edit = reverse("events:edit", args=[event.pk])
    data = {
        name: value
        for name, value in as_post(form_fields(text(client.get(edit)), containing="title")).items()
        if not name.startswith("places-")
    }
    start = timezone.localtime(timezone.now() + datetime.timedelta(days=5))
    data.update(
        starts_at=[f"{start:%Y-%m-%dT%H:%M}"],
        ends_at=[f"{start + datetime.timedelta(hours=1):%Y-%m-%dT%H:%M}"],
    )
    page = text(client.post(edit, data))
    assert "Booking opens on " in page
    event.refresh_from_db()
    assert event.starts_at > opens


@pytest.mark.django_db
def test_the_free_slots_offered_start_after_booking_opens(tom):
    """The page offered slots it then refused: those at or before the draft's opening."""
    from mycareer.events.clashes import suggest_slots

    today = timezone.localdate()
    monday = today + datetime.timedelta(days=14 - today.weekday())
    opens = timezone.make_aware(
        datetime.datetime.combine(monday + datetime.timedelta(days=2), datetime.time(12))
    )
    event = make_event(organiser=tom, opens_at=opens, starts_in=datetime.timedelta(days=30))
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    slots = suggest_slots(event, week_start=monday, limit=10, per_day=None)
    assert slots and all(slot.starts_at > opens for slot in slots)
    assert min(slot.starts_at for slot in slots) == opens + datetime.timedelta(minutes=30)


@pytest.mark.django_db
def test_staff_move_someone_to_another_event(client, tom, mech_event):
    other = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=3))
    student = make_students(1)[0]
    booking = services.staff_book_student(event=mech_event, student=student, by=tom)
    # An event of another faculty, whose bookings Tom does not run, is not offered.
    elsewhere = make_event(
        capacity=5, starts_in=datetime.timedelta(days=4), unit="history", title="History panel"
    )
    client.force_login(tom)
    offered = text(client.get(url("move", booking.pk)))
    assert other.title in offered and elsewhere.title not in offered
    client.post(url("move", booking.pk), {"to_event": elsewhere.pk})
    assert Booking.objects.get(student=student, status="confirmed").event == mech_event
    client.post(url("move", booking.pk), {"to_event": other.pk})
    assert Booking.objects.get(student=student, status="confirmed").event == other


@pytest.mark.django_db
def test_a_status_the_list_of_bookings_does_not_know_is_refused_not_read_as_everyone(
    client, tom, mech_event
):
    """`?status=atended` listed everyone booked, which was taken for those who attended."""
    student, other = make_students(2)
    services.staff_book_student(event=mech_event, student=student, by=tom)
    cancelled = services.staff_book_student(event=mech_event, student=other, by=tom)
    services.booking_cancel(booking=cancelled, by=tom)
    client.force_login(tom)
    for query, says in (
        ({"status": "atended"}, "“atended” is not a status a booking has"),
        ({"staus": "cancelled"}, "The list of bookings has a filter it does not know: “staus”."),
    ):
        refused = text(client.get(url("manage", mech_event.pk), query))
        assert says in refused, query
        assert "Nobody is listed until the filter is corrected." in refused
        assert str(student) not in refused and str(other) not in refused
    shown = text(client.get(url("manage", mech_event.pk), {"status": "cancelled", "page": "1"}))
    assert "does not know" not in shown and "is not a status" not in shown
    assert str(other) in shown and str(student) not in shown
    assert '<option value="cancelled" selected>' in shown
    everyone = text(client.get(url("manage", mech_event.pk), {"status": ""}))
    assert str(other) in everyone and str(student) in everyone


@pytest.mark.django_db
def test_staff_are_asked_before_a_move_loses_someone_their_place(client, tom, mech_event):
    full = make_event(organiser=tom, capacity=0, title="Mock interviews")
    student = make_students(1)[0]
    booking = services.staff_book_student(event=mech_event, student=student, by=tom)
    client.force_login(tom)
    asked = text(client.post(url("move", booking.pk), {"to_event": full.pk}))
    there, here = selectors.event_text(full), selectors.event_text(mech_event)
    assert (
        f"{there} is full: moved there, {student} goes on its waiting list at number 1 and "
        f"loses their place at {here}."
    ) in asked
    assert 'class="notice notice--warning error-summary" role="alert" tabindex="-1"' in asked
    assert f'<option value="{full.pk}" selected>' in asked  # the choice as made
    assert (
        f'name="confirm_position" value="1">Put {student} at number 1 on the waiting list of '
        f"{there} (ends their place here)</button>"
    ) in asked
    # Beside it, and first (what Enter presses), a plain Move checks a choice again.
    assert asked.index(">Move</button>") < asked.index("(ends their place here)</button>")
    assert "Their place here passes to the next person waiting." in asked
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    # The confirmation is for the event it named: another full one is asked about again.
    fields = {"to_event": full.pk, "confirm_to": full.pk}
    other_full = make_event(organiser=tom, capacity=0, title="Alumni panel")
    again = text(
        client.post(
            url("move", booking.pk), {**fields, "confirm_position": "1", "to_event": other_full.pk}
        )
    )
    assert f"{selectors.event_text(other_full)} is full: moved there" in again
    # Move, not the confirmation, pressed for the same event: it asks again.
    assert "(ends their place here)</button>" in text(client.post(url("move", booking.pk), fields))
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    done = client.post(url("move", booking.pk), {**fields, "confirm_position": "1"}, follow=True)
    assert done.redirect_chain[-1][0] == url("manage", mech_event.pk)
    assert f"{there} is full: {student} is number 1 on the waiting list." in text(done)
    assert WaitlistEntry.objects.get(event=full, student=student).status == "waiting"


def _restrict(student) -> BookingBan:
    return BookingBan.objects.create(
        student=student,
        ends_at=timezone.now() + datetime.timedelta(weeks=2),
        reason="You booked 3 events and did not come or cancel.",
    )


@pytest.mark.django_db
def test_staff_are_shown_a_restriction_and_book_the_student_only_on_a_second_press(
    client, tom, persona, mech_event
):
    """Staff booking a student in gave a restricted student a place without a word."""
    student = persona("student")
    ban = _restrict(student)
    client.force_login(tom)
    asked = text(client.post(url("manage", mech_event.pk), {"student": "201912345"}))
    assert "Nothing is changed yet." in asked
    assert f"restricted from booking until {selectors.when_text(ban.ends_at)}" in asked
    assert f"The email that told them said: “{ban.reason}”" in asked
    assert 'value="201912345"' in asked  # the student as typed
    assert f'name="override_restriction" value="{student.pk}">Book them anyway' in asked
    # First (what Enter presses), a plain "Book them in" asks again.
    assert asked.index(">Book them in</button>") < asked.index(">Book them anyway")
    assert not Booking.objects.filter(event=mech_event).exists()
    # The press is for the student it was shown for: another typed since is asked about.
    other = make_students(1)[0]
    _restrict(other)
    number = other.student_profile.student_number
    again = text(
        client.post(
            url("manage", mech_event.pk), {"student": number, "override_restriction": student.pk}
        )
    )
    assert "Nothing is changed yet." in again and str(other) in again
    assert not Booking.objects.filter(event=mech_event).exists()

    done = client.post(
        url("manage", mech_event.pk),
        {
            **as_post(form_fields(asked, containing="student")),
            "override_restriction": [str(student.pk)],
        },
        follow=True,
    )
    assert done.redirect_chain[-1][0] == url("manage", mech_event.pk)
    page = text(done)
    assert f"{student} now has a place at {mech_event.title}." in page
    assert "the place was given despite it, and the audit trail says so" in page
    assert Booking.objects.get(event=mech_event, student=student).source == "staff"


@pytest.mark.django_db
def test_staff_are_shown_a_restriction_before_moving_someone_to_a_place(client, tom, mech_event):
    other = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=3))
    student = make_students(1)[0]
    booking = services.staff_book_student(event=mech_event, student=student, by=tom)
    _restrict(student)
    client.force_login(tom)
    asked = text(client.post(url("move", booking.pk), {"to_event": other.pk}))
    assert "Nothing is changed yet." in asked and "restricted from booking until" in asked
    assert f'<option value="{other.pk}" selected>' in asked
    assert f'name="override_restriction" value="{other.pk}">Move them anyway' in asked
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    done = client.post(
        url("move", booking.pk), {"to_event": other.pk, "override_restriction": other.pk}
    )
    assert done.status_code == 302
    assert Booking.objects.get(student=student, status="confirmed").event == other


@pytest.mark.django_db
def test_a_restricted_walk_in_is_let_in_and_the_page_says_a_restriction_held(
    client, tom, persona, mech_event
):
    _restrict(persona("student"))
    client.force_login(tom)
    response = client.post(
        url("walk_in", mech_event.pk), {"walk_in-student": "201912345"}, follow=True
    )
    page = text(response)
    assert "is checked in as a walk-in. They are restricted from booking until" in page
    assert Booking.objects.get(event=mech_event, student=persona("student")).is_walk_in


@pytest.mark.django_db
def test_moving_a_waiting_list_place_does_not_speak_of_a_place_passing_on(client, tom, mech_event):
    services.capacity_change(event=mech_event, capacity=0, by=tom)
    student = make_students(1)[0]
    entry = services.booking_create(event=mech_event, student=student, by=student)
    assert isinstance(entry, WaitlistEntry)
    client.force_login(tom)
    page = text(client.get(url("move_entry", entry.pk)))
    assert "Move " in page and "passes to the next person waiting" not in page


@pytest.mark.django_db
def test_the_list_pages_take_a_bounded_number_of_queries(
    client, tom, mech_event, django_assert_max_num_queries
):
    services.capacity_change(event=mech_event, capacity=60, by=tom)
    for student in make_students(80):
        services.booking_create(event=mech_event, student=student, by=student)
    for booking in Booking.objects.filter(event=mech_event)[:20]:
        services.check_in(booking=booking, by=tom)
    client.force_login(tom)
    # With 80 people booked, an N+1 would add dozens of queries; these bounds leave room
    # only for the menu and dashboard panels every page carries.
    for page in ("manage", "check_in", "attendance", "report"):
        with django_assert_max_num_queries(40):
            assert client.get(url(page, mech_event.pk)).status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get(url("overview")).status_code == 200
    with django_assert_max_num_queries(45):
        assert client.get("/").status_code == 200


# At the door ---------------------------------------------------------------------------------


@pytest.fixture
def booked(mech_event):
    student = make_students(1)[0]
    return services.booking_create(event=mech_event, student=student, by=student)


@pytest.mark.django_db
def test_the_check_in_page_finds_people_and_checks_them_in_once(client, tom, booked):
    client.force_login(tom)
    event_id = booked.event_id
    number = booked.student.student_profile.student_number
    page = text(client.get(url("check_in", event_id), {"q": number}))
    assert str(booked.student) in page and "Check in" in page
    assert 'src="/static/bookings/check_in.js"' in page
    assert "<script>" not in page and "style=" not in page
    assert text(client.get(url("check_in", event_id), {"q": "Nobody Here"})).count(
        "Nobody booked matches"
    )
    client.post(url("check_in", event_id), {"booking": booked.pk})
    first = Booking.objects.get(pk=booked.pk).checked_in_at
    response = client.post(url("check_in", event_id), {"booking": booked.pk}, follow=True)
    assert "was already checked in" in text(response)
    assert Booking.objects.get(pk=booked.pk).checked_in_at == first
    counts = client.get(url("counts", event_id)).json()
    assert counts["attended"] == 1 and counts["booked"] == 1 and counts["remaining"] == 1


@pytest.mark.django_db
def test_a_check_in_is_undone_from_the_check_in_page(client, tom, booked):
    client.force_login(tom)
    event_id = booked.event_id
    client.post(url("check_in", event_id), {"booking": booked.pk})
    page = text(client.get(url("check_in", event_id)))
    assert f'Undo check-in<span class="visually-hidden"> {booked.student}' in page
    response = client.post(
        url("check_in", event_id), {"booking": booked.pk, "do": "undo"}, follow=True
    )
    assert "check-in is undone: they are booked and not checked in." in text(response)
    assert Booking.objects.get(pk=booked.pk).status == "confirmed"


@pytest.mark.django_db
def test_removing_a_walk_in_says_first_and_after_who_gets_the_place(client, tom):
    """Before the start a walk-in's place passes to the waiting list, who are emailed: the
    page says so beside the button, and the message names who got the place."""
    event = make_event(organiser=tom, capacity=1, starts_in=datetime.timedelta(hours=1))
    walker, second = make_students(2)
    walk_in = services.walk_in(event=event, student=walker, by=tom)
    services.booking_create(event=event, student=second, by=second)  # full: waits
    client.force_login(tom)
    page = text(client.get(url("check_in", event.pk)))
    assert f'Remove walk-in<span class="visually-hidden"> {walk_in.student}' in page
    assert "the next person waiting is booked into it and emailed" in page
    response = client.post(
        url("check_in", event.pk), {"booking": walk_in.pk, "do": "undo"}, follow=True
    )
    assert (
        f"{walk_in.student} is removed as a walk-in: they are no longer on the event. "
        f"The place went to {second} from the waiting list, who is emailed."
    ) in text(response)


@pytest.mark.django_db
def test_scanning_the_qr_code_checks_the_person_in_and_twice_changes_nothing(client, tom, booked):
    client.force_login(tom)
    scan = url("scan", check_in_token(booked))
    response = client.get(scan)
    assert response.status_code == 200
    assert f"<strong>{booked.student}</strong> is checked in to" in text(response)
    booked.refresh_from_db()
    assert booked.status == "attended" and booked.checked_in_by == tom
    again = client.get(scan)
    assert again.status_code == 200 and "Already checked in" in text(again)


@pytest.mark.django_db
def test_a_code_for_another_event_is_refused_at_this_door(client, tom, booked, mech_event):
    other = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(minutes=45))
    student = make_students(1)[0]
    elsewhere = services.booking_create(event=other, student=student, by=student)
    client.force_login(tom)
    client.get(url("check_in", mech_event.pk))  # staff are at this event's door
    response = client.get(url("scan", check_in_token(elsewhere)))
    assert response.status_code == 400
    assert f"Not for this event: the code is for {other.title}" in text(response)
    response = client.post(url("check_in_code", mech_event.pk), {"code": check_in_token(elsewhere)})
    assert response.status_code == 400 and "Not for this event" in text(response)
    elsewhere.refresh_from_db()
    assert elsewhere.status == "confirmed"
    # The right code typed by a scanner, as the whole address, works.
    address = "https://mycareer.example.ac.uk" + url("scan", check_in_token(booked))
    client.post(url("check_in_code", mech_event.pk), {"code": address})
    booked.refresh_from_db()
    assert booked.status == "attended"


@pytest.mark.django_db
def test_a_forged_or_altered_code_is_refused(client, tom, booked):
    client.force_login(tom)
    token = check_in_token(booked)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "not-a-code", f"{booked.pk}:{booked.event_id}"):
        response = client.get(url("scan", bad))
        assert response.status_code == 400
        assert "not a MyCareer check-in code" in text(response)
    booked.refresh_from_db()
    assert booked.status == "confirmed"


@pytest.mark.django_db
def test_a_code_does_not_let_others_check_people_in(client, persona, booked):
    for name in ("mailer", "viewer"):
        client.force_login(persona(name))
        assert client.get(url("scan", check_in_token(booked))).status_code == 403
    # The student opening their own code is told what it is for, and checks nobody in.
    client.force_login(booked.student)
    own = client.get(url("scan", check_in_token(booked)))
    assert own.status_code == 200
    assert "to the staff at the door" in text(own)
    assert booked.event.title in text(own)
    # Another student's code is someone else's (not "for staff only"), naming nobody.
    other = make_students(1)[0]
    client.force_login(other)
    refused = client.get(url("scan", check_in_token(booked)))
    assert refused.status_code == 403
    page = text(refused)
    assert "This check-in code is someone else&#x27;s. If it is yours, you are logged in" in page
    assert "Log out and open the link again" in page
    assert booked.event.title not in page and booked.student.full_name not in page
    booked.refresh_from_db()
    assert booked.status == "confirmed"


@pytest.mark.django_db
def test_a_walk_in_is_added_while_places_last(client, tom, persona, mech_event):
    client.force_login(tom)
    response = client.post(url("walk_in", mech_event.pk), {"walk_in-student": "201912345"})
    assert response.status_code == 302
    assert Booking.objects.get(event=mech_event, student=persona("student")).is_walk_in
    client.post(url("walk_in", mech_event.pk), {"walk_in-student": "202054321"})
    response = client.post(url("walk_in", mech_event.pk), {"walk_in-student": "201967890"})
    assert response.status_code == 400
    page = text(response)
    assert "No places left: all 2 are taken" in page and 'value="201967890"' in page


@pytest.mark.django_db
def test_a_walk_in_for_someone_booked_says_they_were_checked_in_on_their_booking(
    client, tom, persona, mech_event
):
    """Entered as a walk-in, someone booked (restricted since) or checked in already was
    said to be "checked in as a walk-in", and a restriction went unmentioned."""
    student = persona("student")
    services.booking_create(event=mech_event, student=student, by=student)
    _restrict(student)
    client.force_login(tom)
    walk_in = {"walk_in-student": "201912345"}
    page = text(client.post(url("walk_in", mech_event.pk), walk_in, follow=True))
    assert f"{student} was booked: checked in on their booking." in page
    assert "checked in as a walk-in" not in page and "restricted from booking" not in page
    booking = Booking.objects.get(event=mech_event, student=student)
    assert booking.status == "attended" and not booking.is_walk_in
    again = text(client.post(url("walk_in", mech_event.pk), walk_in, follow=True))
    assert f"{student} was already checked in." in again
    assert "checked in as a walk-in" not in again and "on their booking" not in again
    walker = make_students(1)[0]
    services.walk_in(event=mech_event, student=walker, by=tom)
    number = walker.student_profile.student_number
    twice = client.post(url("walk_in", mech_event.pk), {"walk_in-student": number}, follow=True)
    assert f"{walker} was already checked in." in text(twice)
    assert "is checked in as a walk-in" not in text(twice)


@pytest.mark.django_db
def test_every_form_on_a_refused_walk_in_page_goes_to_the_door(client, tom, booked):
    """Drawn at the walk-in's address after a refusal, "Check in" posted back to it (a
    student number was required) and "Find" got a 405: door staff thought people were in."""
    client.force_login(tom)
    event_id = booked.event_id
    refused = client.post(url("walk_in", event_id), {"walk_in-student": "no such person"})
    assert refused.status_code == 400
    page = text(refused)
    door = url("check_in", event_id)
    actions = re.findall(r'<form method="(?:get|post)"(?: action="([^"]*)")?', page)
    assert actions and all(action for action in actions), actions
    assert set(actions) <= {
        door,
        url("walk_in", event_id),
        url("check_in_code", event_id),
        reverse("account_logout"),
    }
    assert f'<form method="post" action="{door}" class="inline-form">' in page
    checked = client.post(door, as_post(form_fields(page, containing="booking")))
    assert checked.status_code == 302 and checked["Location"] == door
    booked.refresh_from_db()
    assert booked.status == "attended"


# After the event -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_close_attendance_email_no_shows_and_send_the_report(client, tom, mech_event):
    people = make_students(2)
    for student in people:
        services.booking_create(event=mech_event, student=student, by=student)
    organisation = organisation_services.organisation_create(by=tom, name="Door Test Engines Ltd")
    mech_event.organisations.add(organisation)
    contact = organisation_services.contact_create(
        organisation=organisation, by=tom, full_name="Erin Engine", email="erin@door.example.com"
    )
    client.force_login(tom)
    with time_machine.travel(mech_event.starts_at + datetime.timedelta(hours=2)):
        services.check_in(booking=Booking.objects.filter(event=mech_event).first(), by=tom)
        closing = {"confirm": "yes", "no_shows": "1", "restrictions": "0"}
        page = text(client.post(url("attendance_close", mech_event.pk), closing, follow=True))
    assert "Attendance is closed: 1 person did not attend." in page
    assert "We missed you at {{ event_title }}" in page  # the editable template
    bad = client.post(
        url("attendance", mech_event.pk),
        {"do": "follow_up", "subject": "Hello {{ nickname }}", "body": "Kept text"},
    )
    assert "Unknown merge field {{ nickname }}" in text(bad) and "Kept text" in text(bad)
    unfinished = client.post(
        url("attendance", mech_event.pk),
        {"do": "follow_up", "subject": "Sorry we missed you", "body": "Hi {{ first_name, kept"},
    )
    assert "is not a whole merge field" in text(unfinished)
    assert "Hi {{ first_name, kept" in text(unfinished)
    follow_up = {"do": "follow_up", "subject": "Sorry we missed you", "body": "Hi {{ first_name }}"}
    # A page from when two had not come (one checked in since): refused, the text kept.
    stale = text(client.post(url("attendance", mech_event.pk), {**follow_up, "recipients": "2"}))
    assert "sending now emails 1 person, not 2" in stale
    assert "Hi {{ first_name }}" in stale and "Send to 1 person" in stale
    sent = client.post(
        url("attendance", mech_event.pk), {**follow_up, "recipients": "1"}, follow=True
    )
    assert "Your message is on its way to 1 person." in text(sent)
    assert "“Sorry we missed you” sent to 1 person on" in text(sent)
    report = text(client.get(url("report", mech_event.pk)))
    assert "Faculty of Engineering and Physical Sciences" in report
    assert all(s.full_name not in report for s in people)
    csv = client.get(url("report_csv", mech_event.pk))
    assert csv["Content-Type"].startswith("text/csv")
    assert "Attended,1" in csv.content.decode()
    with time_machine.travel(mech_event.starts_at + datetime.timedelta(hours=3)):
        response = client.post(url("report", mech_event.pk), {"contacts": [str(contact.pk)]})
        assert response.status_code == 302
        # Pressed again (or sent from a second tab): the contact is not sent it twice.
        again = client.post(url("report", mech_event.pk), {"contacts": [str(contact.pk)]})
    assert again.status_code == 200
    assert "Erin Engine already has these figures: they were sent on" in text(again)
    assert mech_event.employer_reports.get().contacts.get() == contact


def _no_show_policy(persona, *, no_shows: int) -> None:
    services.noshow_policy_update(
        by=persona("admin"), enabled=True, no_shows=no_shows, window_weeks=12, ban_weeks=4
    )


def _ban_notices() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="send_ban_notice").count()


@pytest.mark.django_db
def test_closing_attendance_asks_first_with_the_figures_and_a_second_press_is_refused(
    client, tom, persona, mech_event, django_capture_on_commit_callbacks
):
    _no_show_policy(persona, no_shows=1)
    came, missed = make_students(2)
    for student in (came, missed):
        services.booking_create(event=mech_event, student=student, by=student)
    client.force_login(tom)
    notices = _ban_notices()
    with time_machine.travel(mech_event.ends_at + datetime.timedelta(minutes=30)):
        services.check_in(booking=Booking.objects.get(event=mech_event, student=came), by=tom)
        page = text(client.get(url("attendance", mech_event.pk)))
        assert f'href="{url("attendance_close", mech_event.pk)}"' in page
        assert "<button" not in page.split('id="close"')[1].split("</section>")[0]
        asked = text(client.get(url("attendance_close", mech_event.pk)))
        assert (
            "1 booked student not checked in will be marked no-show; 1 of them will reach the "
            "no-show limit, be restricted from booking and be emailed." in asked
        )
        assert missed.full_name in asked and came.full_name not in asked
        assert "Yes, close attendance and mark 1 no-show</button>" in asked
        assert not BookingSettings.objects.get(event=mech_event).attendance_closed
        # Posting without saying yes only asks again.
        assert client.post(url("attendance_close", mech_event.pk)).status_code == 302
        assert not BookingSettings.objects.get(event=mech_event).attendance_closed
        closing = {"confirm": "yes", "no_shows": "1", "restrictions": "1"}
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(url("attendance_close", mech_event.pk), closing, follow=True)
        assert done.redirect_chain[-1][0] == url("attendance", mech_event.pk)
        assert (
            "Attendance is closed: 1 person did not attend. 1 student reached the no-show "
            "limit: they are restricted from booking and are being emailed." in text(done)
        )
        assert BookingBan.objects.filter(student=missed).count() == 1
        assert _ban_notices() == notices + 1
        with django_capture_on_commit_callbacks(execute=True):
            again = client.post(url("attendance_close", mech_event.pk), closing, follow=True)
        assert again.status_code == 200
        assert again.redirect_chain[-1][0] == url("attendance", mech_event.pk)
        assert "Attendance was already closed on" in text(again)
        assert BookingBan.objects.filter(student=missed).count() == 1
        assert _ban_notices() == notices + 1
        shown_again = text(client.get(url("attendance_close", mech_event.pk)))
        assert "Attendance was already closed on" in shown_again
        assert "Yes, close attendance" not in shown_again


@pytest.mark.django_db
def test_closing_attendance_asks_again_when_the_figures_changed(client, tom, mech_event):
    people = make_students(2)
    for student in people:
        services.booking_create(event=mech_event, student=student, by=student)
    client.force_login(tom)
    with time_machine.travel(mech_event.ends_at + datetime.timedelta(minutes=30)):
        asked = text(client.get(url("attendance_close", mech_event.pk)))
        assert (
            "2 booked students not checked in will be marked no-show; the no-show policy is "
            "off, so nobody will be restricted." in asked
        )
        shown = {"confirm": "yes", "no_shows": "2", "restrictions": "0"}
        services.check_in(booking=Booking.objects.get(event=mech_event, student=people[0]), by=tom)
        response = client.post(url("attendance_close", mech_event.pk), shown, follow=True)
    assert response.redirect_chain[-1][0] == url("attendance_close", mech_event.pk)
    page = text(response)
    assert "The figures changed since you looked: now 1 booked student" in page
    assert 'name="no_shows" value="1"' in page
    assert not BookingSettings.objects.get(event=mech_event).attendance_closed


@pytest.mark.django_db
def test_checking_in_a_no_show_after_closing_lifts_the_restriction_it_started(
    client, tom, persona, mech_event
):
    _no_show_policy(persona, no_shows=1)
    student = make_students(1)[0]
    booking = services.booking_create(event=mech_event, student=student, by=student)
    client.force_login(tom)
    with time_machine.travel(mech_event.ends_at + datetime.timedelta(minutes=30)):
        services.attendance_close(event=mech_event, by=tom)
        ban = BookingBan.objects.get(student=student)
        BookingBan.objects.filter(pk=ban.pk).update(notified_at=timezone.now())  # told of it
        door = text(client.get(url("check_in", mech_event.pk)))
        assert "Checking in a no-show now corrects the record; if that leaves them under" in door
        # A walk-in would be refused: the page does not offer one.
        assert "Walk-in (not booked)" not in door
        assert "Nobody can be added as a walk-in: attendance is closed." in door
        search = text(client.get(url("check_in", mech_event.pk), {"q": "Nobody Such"}))
        assert "add them as a walk-in" not in search
        response = client.post(url("check_in", mech_event.pk), {"booking": booking.pk}, follow=True)
    assert (
        f"{student} is checked in. With this no-show corrected they are under the no-show "
        "limit, so their restriction on booking is lifted. They are emailed to say so."
        in text(response)
    )
    ban.refresh_from_db()
    assert ban.lifted_by == tom and ban.lifted_by_correction
    assert not BookingBan.objects.filter(student=student, lifted_at__isnull=True).exists()


# The no-show policy --------------------------------------------------------------------------


@pytest.mark.django_db
def test_administrators_set_the_policy_and_operators_lift_restrictions(client, persona):
    student = persona("student2")
    ban = BookingBan.objects.create(
        student=student, ends_at=timezone.now() + datetime.timedelta(weeks=3), reason="Missed 3."
    )
    client.force_login(persona("operator"))
    page = text(client.get(url("policy")))
    assert "Oliver Price" in page and "Lift the restriction" in page
    form = {"enabled": "on", "no_shows": "3", "window_weeks": "12", "ban_weeks": "4"}
    assert client.post(url("policy"), form).status_code == 403
    client.post(url("lift_ban", ban.pk), {"reason": "Illness, with a note"})
    ban.refresh_from_db()
    assert ban.lifted_by == persona("operator") and ban.lift_reason == "Illness, with a note"
    client.force_login(persona("admin"))
    bad = client.post(url("policy"), {**form, "no_shows": "0"})
    assert bad.status_code == 200
    client.post(url("policy"), form)
    assert "3 no-shows within 12 weeks stop a student booking for 4 weeks" in text(
        client.get(url("policy"))
    )
    client.post(url("policy"), {**form, "no_shows": "1", "window_weeks": "1", "ban_weeks": "1"})
    assert "1 no-show within 1 week stops a student booking for 1 week" in text(
        client.get(url("policy"))
    )
    client.force_login(persona("student"))
    assert client.get(url("policy")).status_code == 403


@pytest.mark.django_db
def test_the_policy_saved_unchanged_says_nothing_was_changed(client, persona):
    from mycareer.audit.models import AuditEntry

    _no_show_policy(persona, no_shows=3)
    changes = AuditEntry.objects.filter(action="bookings.policy.changed")
    client.force_login(persona("admin"))
    page = client.get(url("policy")).content.decode()
    form = as_post(form_fields(page, containing="no_shows", pressing_enter=True))

    response = client.post(url("policy"), form, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    assert changes.count() == 1  # the one that set it up

    response = client.post(url("policy"), {**form, "ban_weeks": ["6"]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["The no-show policy is saved."]
    assert changes.count() == 2


# Home page and navigation --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("aishas_events")
def test_students_see_my_events_and_their_bookings_on_the_home_page(client, persona):
    client.force_login(persona("student"))
    page = text(client.get("/"))
    assert 'href="/bookings/my-events/"' in page
    assert "Your bookings" in page and "Engineering and technology careers fair" in page


@pytest.mark.django_db
def test_staff_see_this_weeks_events_with_figures_and_a_check_in_link(client, tom):
    """On a Wednesday morning: in the last half hour of a Sunday, an event starting in
    half an hour is next week's, which the panel rightly leaves out."""
    wednesday = timezone.localdate() + datetime.timedelta(
        days=(2 - timezone.localdate().weekday()) % 7
    )
    with time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(wednesday, datetime.time(10))), tick=False
    ):
        event = make_event(organiser=tom, capacity=2, starts_in=datetime.timedelta(minutes=30))
        client.force_login(tom)
        page = text(client.get("/"))
        assert "Your events this week" in page
        assert event.title in page and url("check_in", event.pk) in page
        assert "Bookings" in text(client.get(url("overview")))


@pytest.mark.django_db
def test_the_event_page_works_for_everyone_who_may_see_the_event(client, persona, mech_event):
    for name, status in (("student", 200), ("operator", 200), ("student2", 403)):
        client.force_login(persona(name))
        assert client.get(url("event", mech_event.pk)).status_code == status
    client.logout()
    assert client.get(url("event", mech_event.pk)).status_code == 302


def test_waitlist_model_names_read_well():
    assert str(WaitlistEntry.Status.OFFERED.label) == "Offered a place"


# Asking before cancelling a place ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"capacity": 1}, "the next person on it will be given the place and told by email"),
        (
            {"capacity": 1, "promotion": "offer"},
            "the next person on it will be offered the place by email, with 24 hours",
        ),
        ({}, "The place will be free for someone else to book."),
    ],
)
def test_cancelling_a_place_says_who_gets_it_without_naming_them(
    client, persona, tom, rules, expected
):
    event = make_event(organiser=tom, **rules)
    student, other = persona("student"), make_students(1)[0]
    booking = services.booking_create(event=event, student=student, by=student)
    services.booking_create(event=event, student=other, by=other)
    client.force_login(student)
    page = text(client.get(url("cancel", booking.pk)))
    assert expected in page
    assert other.full_name not in page
    assert "Yes, cancel my place" in page and "Keep my place" in page
    if not rules:
        assert "waiting list" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("promotion", ["automatic", "offer"])
def test_cancelling_a_place_over_a_lowered_capacity_promises_nobody_a_place(
    client, persona, tom, promotion
):
    event = make_event(organiser=tom, capacity=2, promotion=promotion)
    student = persona("student")
    other, waiting = make_students(2)
    booking = services.booking_create(event=event, student=student, by=student)
    for person in (other, waiting):
        services.booking_create(event=event, student=person, by=person)
    services.booking_settings_update(event=event, by=tom, capacity=1)
    client.force_login(student)
    page = text(client.get(url("cancel", booking.pk)))
    assert (
        "More places are taken than the event now has (2 for 1), so this one does not pass "
        "to anyone: nobody on the waiting list moves up." in page
    )
    assert "the next person on it will be" not in page
    client.post(url("cancel", booking.pk), {"confirm": "yes"})
    assert WaitlistEntry.objects.get(event=event, student=waiting).status == "waiting"
    # One more cancellation leaves a place free, and the page says who it goes to.
    other_booking = Booking.objects.get(event=event, student=other)
    client.force_login(other)
    page = text(client.get(url("cancel", other_booking.pk)))
    assert "There is a waiting list: the next person on it will be" in page


@pytest.mark.django_db
@pytest.mark.parametrize("promotion", ["automatic", "offer"])
def test_giving_up_a_place_promises_no_move_when_only_the_passed_over_wait(
    client, tom, cast, promotion
):
    """The cancel and decline pages said the next person waiting would get the place when
    everyone waiting was passed over (restricted from booking): it became free instead."""
    from mycareer.bookings.tests.test_services import _restrict

    event = make_event(organiser=tom, capacity=2, promotion=promotion, offer_hours=24)
    holder, other, offered, restricted = make_students(4)
    booking = services.booking_create(event=event, student=holder, by=holder)
    if promotion == "offer":
        # `offered` holds an offer of the second place, `restricted` waits behind them.
        given_up = services.booking_create(event=event, student=other, by=other)
        entry = services.booking_create(event=event, student=offered, by=offered)
        services.booking_create(event=event, student=restricted, by=restricted)
        services.booking_cancel(booking=given_up, by=other)
        entry.refresh_from_db()
    else:
        services.booking_create(event=event, student=other, by=other)
        services.booking_create(event=event, student=restricted, by=restricted)
    _restrict(restricted)
    assert not selectors.place_passes_on(event, timezone.now())
    pages = [url("cancel", booking.pk)]
    client.force_login(holder)
    said = [text(client.get(page)) for page in pages]
    if promotion == "offer":
        assert entry.status == "offered"
        client.force_login(offered)
        said.append(text(client.get(f"{url('offer', entry.pk)}?do=decline")))
        said.append(text(client.get(url("leave", entry.pk))))
    for page in said:
        assert "the next person on it will be" not in page
        assert "Nobody waiting can be given it now, so the place will be free" in page
    # Lifted, they are next in line again, and the pages say the place goes to them.
    BookingBan.objects.filter(student=restricted).update(lifted_at=timezone.now())
    assert selectors.place_passes_on(event, timezone.now())
    client.force_login(holder)
    assert "the next person on it will be" in text(client.get(url("cancel", booking.pk)))


@pytest.mark.django_db
def test_a_stale_cancel_link_says_when_the_place_was_cancelled_and_offers_the_new_one(
    client, persona, tom
):
    """Cancel, book again, then Back to the old confirmation and submit it."""
    event = make_event(organiser=tom, capacity=5)
    student = persona("student")
    old = services.booking_create(event=event, student=student, by=student)
    client.force_login(student)
    client.post(url("cancel", old.pk), {"confirm": "yes"})
    new = services.booking_create(event=event, student=student, by=student)
    old.refresh_from_db()
    cancelled = f"You cancelled this place on {selectors.when_text(old.cancelled_at)}."
    response = client.post(url("cancel", old.pk), {"confirm": "yes"}, follow=True)
    page = text(response)
    assert cancelled in page and "event has started" not in page
    assert f'href="{url("cancel", new.pk)}?next=' in page and "Cancel your new place" in page
    assert "Yes, cancel my place" not in page
    new.refresh_from_db()
    assert new.status == "confirmed"
    # The link asks before cancelling the new place.
    assert "Yes, cancel my place" in text(client.get(url("cancel", new.pk)))


@pytest.mark.django_db
def test_an_old_cancel_link_says_the_place_is_cancelled_and_asks_nothing(
    client, persona, tom, django_capture_on_commit_callbacks
):
    """From an old email or Back, the page still asked "Cancel your place?"."""
    event = make_event(organiser=tom, capacity=5)
    student = persona("student")
    booking = services.booking_create(event=event, student=student, by=student)
    client.force_login(student)
    client.post(url("cancel", booking.pk), {"confirm": "yes"})
    booking.refresh_from_db()
    with django_capture_on_commit_callbacks() as emails:
        pressed = client.post(url("cancel", booking.pk), {"confirm": "yes"}, follow=True)
    assert emails == []  # no second cancellation email
    for response in (client.get(url("cancel", booking.pk)), pressed):
        assert response.status_code == 200
        page = text(response)
        assert f"You cancelled this place on {selectors.when_text(booking.cancelled_at)}." in page
        assert "<h1>This place is cancelled</h1>" in page
        assert f"<title>This place is cancelled: {event.title}" in page
        assert 'role="alert" tabindex="-1" data-focus' in page  # where the keyboard lands
        assert "Cancel your place" not in page and "Yes, cancel" not in page
        assert "Keep my place" not in page


@pytest.mark.django_db
def test_an_old_leave_link_says_what_became_of_the_place_and_offers_the_one_joined_since(
    client, persona, tom, django_capture_on_commit_callbacks
):
    """An old link to leave the waiting list asked the question again, and, joined again
    since, did not say so nor offer the place in the queue held now."""
    event = make_event(organiser=tom, capacity=0)
    student = persona("student")
    old = services.booking_create(event=event, student=student, by=student)
    client.force_login(student)
    client.post(url("leave", old.pk), {"confirm": "yes"})
    old.refresh_from_db()
    left = f"You left this waiting list on {selectors.when_text(old.ended_at)}."
    page = text(client.get(url("leave", old.pk)))
    assert left in page and "<h1>This place on the waiting list has ended</h1>" in page
    assert "Leave the waiting list?" not in page and "Yes, leave" not in page
    assert "joined this waiting list again" not in page
    new = services.booking_create(event=event, student=student, by=student)
    with django_capture_on_commit_callbacks() as emails:
        response = client.post(url("leave", old.pk), {"confirm": "yes"}, follow=True)
    assert emails == []
    assert response.status_code == 200
    page = text(response)
    assert left in page and "Yes, leave" not in page
    assert "You joined this waiting list again on" in page
    assert f'href="{url("leave", new.pk)}?next=' in page
    new.refresh_from_db()
    assert new.status == "waiting"
    # Staff reading it are told whose, and that it was the student who left.
    client.force_login(tom)
    page = text(client.get(url("leave", old.pk)))
    assert f"{student} left this waiting list on {selectors.when_text(old.ended_at)}." in page


@pytest.mark.django_db
def test_cancelling_over_a_lowered_capacity_with_nobody_waiting_frees_nothing_to_book(
    client, persona, tom
):
    event = make_event(organiser=tom, capacity=2)
    student, other = persona("student"), make_students(1)[0]
    booking = services.booking_create(event=event, student=student, by=student)
    services.booking_create(event=event, student=other, by=other)
    services.booking_settings_update(event=event, by=tom, capacity=1)
    client.force_login(student)
    page = text(client.get(url("cancel", booking.pk)))
    assert "(2 for 1), so this one does not pass to anyone else." in page
    assert "free for someone else to book" not in page


@pytest.mark.django_db
def test_a_list_closed_to_newcomers_still_gives_a_cancelled_place_to_who_waits(
    client, persona, tom
):
    event = make_event(organiser=tom, capacity=1)
    student, waiting = persona("student"), make_students(1)[0]
    booking = services.booking_create(event=event, student=student, by=student)
    services.booking_create(event=event, student=waiting, by=waiting)
    services.booking_settings_update(event=event, by=tom, waiting_list=False)
    client.force_login(student)
    page = text(client.get(url("cancel", booking.pk)))
    assert "the next person on it will be given the place and told by email" in page
    client.post(url("cancel", booking.pk), {"confirm": "yes"})
    assert Booking.objects.get(event=event, student=waiting).status == "confirmed"


@pytest.mark.django_db
def test_declining_an_offer_over_a_lowered_capacity_promises_nobody_the_place(client, persona, tom):
    event = make_event(organiser=tom, capacity=1, promotion="offer")
    first, student, last = make_students(3)
    booking = services.booking_create(event=event, student=first, by=first)
    for person in (student, last):
        services.booking_create(event=event, student=person, by=person)
    services.booking_cancel(booking=booking, by=first)
    entry = WaitlistEntry.objects.get(event=event, student=student, status="offered")
    client.force_login(student)
    page = text(client.get(url("leave", entry.pk)))
    assert "the next person on it will be offered the place by email" in page
    services.booking_settings_update(event=event, by=tom, capacity=0)
    page = text(client.get(url("leave", entry.pk)))
    assert "(1 for 0), so this one does not pass to anyone: nobody on the waiting list" in page
    declined = text(client.post(url("offer", entry.pk), {"confirm": "yes"}, follow=True))
    assert "You declined the place." in declined and "next person" not in declined
    assert WaitlistEntry.objects.get(event=event, student=last).status == "waiting"


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["started", "ended"])
def test_after_the_start_the_panel_says_no_places_are_left_to_book(client, persona, tom, after):
    event = make_event(organiser=tom, capacity=40, starts_in=datetime.timedelta(hours=1))
    for student in make_students(17):
        services.booking_create(event=event, student=student, by=student, notify=False)
    client.force_login(persona("student"))
    assert "23 of 40 places left." in text(client.get(url("event", event.pk)))
    moment = {
        "started": event.starts_at + datetime.timedelta(minutes=10),
        "ended": event.ends_at + datetime.timedelta(days=1),
    }[after]
    with time_machine.travel(moment):
        page = text(client.get(url("event", event.pk)))
    assert "Booking closed when the event started." in page
    assert "places left" not in page and "17 of 40 places booked." in page


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["started", "ended"])
def test_after_the_start_the_waiting_list_is_shown_closed(client, persona, tom, after):
    event = make_event(organiser=tom, capacity=1, starts_in=datetime.timedelta(hours=1))
    booked, student = make_students(1)[0], persona("student")
    services.booking_create(event=event, student=booked, by=booked)
    entry = services.booking_create(event=event, student=student, by=student)
    assert isinstance(entry, WaitlistEntry)
    client.force_login(student)
    before = text(client.get(url("event", event.pk)))
    assert "You are number 1 on the waiting list" in before
    moment = {
        "started": event.starts_at + datetime.timedelta(minutes=10),
        "ended": event.ends_at + datetime.timedelta(days=1),
    }[after]
    with time_machine.travel(moment):
        page = text(client.get(url("event", event.pk)))
        assert (
            "You were on the waiting list. It closed when the event started, before a place "
            "came to you." in page
        )
        assert "Fully booked</strong>; the waiting list closed when the event started." in page
        assert "number 1" not in page and "Leave the waiting list" not in page
        assert "you can join the waiting list" not in page
        leave = text(client.get(url("leave", entry.pk)))
        assert "The waiting list closed when the event started" in leave
        assert "Yes, leave the waiting list" not in leave
        client.post(url("leave", entry.pk), {"confirm": "yes"})
        client.force_login(tom)
        manage = text(client.get(url("manage", event.pk)))
        assert "The waiting list closed when the event started" in manage
        assert "from the waiting list</span>" not in manage  # no "Remove"
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "waiting"


@pytest.mark.django_db
def test_an_event_with_no_limit_on_places_says_nothing_of_a_waiting_list(client, persona, tom):
    event = make_event(organiser=tom)
    client.force_login(persona("student"))
    page = text(client.get(url("event", event.pk)))
    assert "No limit on places" in page
    assert "waiting list" not in page
    client.force_login(tom)
    manage = text(client.get(url("manage", event.pk)))
    assert "No limit on places ·" in manage and "waiting list with" not in manage


# An event for other students -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_student_opening_an_event_for_other_students_is_told_so(client, persona, mech_event):
    from mycareer.events.tests.factories import EventFactory

    client.force_login(persona("student2"))  # Computer Science
    for address in (url("event", mech_event.pk), mech_event.get_absolute_url()):
        response = client.get(address)
        assert response.status_code == 403
        page = text(response)
        assert "This event is for other students" in page
        assert f"{mech_event.title} is for students of other schools" in page
        assert f'href="{reverse("events:list")}">Events open to you</a>' in page
    draft = EventFactory(title="Secret draft", status="draft")
    for address in (url("event", draft.pk), draft.get_absolute_url()):
        response = client.get(address)
        assert response.status_code == 404
        assert "Secret draft" not in text(response)


# Cancelling the event ------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_the_event_is_cancelled_my_events_and_the_event_page_say_so(client, tom):
    from mycareer.events import services as event_services

    aisha = make_students(1)[0]  # none of the demo's bookings
    full = make_event(organiser=tom, capacity=1)
    booked = make_event(organiser=tom, capacity=5)
    for student in make_students(2):
        services.booking_create(event=full, student=student, by=student)
    services.booking_create(event=full, student=aisha, by=aisha)
    services.booking_create(event=booked, student=aisha, by=aisha)
    client.force_login(aisha)
    assert "You are number 2 on the waiting list" in text(client.get(url("my_events")))
    for event in (full, booked):
        event_services.event_cancel(event=event, by=tom, reason="The speaker is ill.")
    page = text(client.get(url("my_events")))
    assert "You are number" not in page
    assert "Cancelled by the organisers" in page
    assert "You were on the waiting list; it ended with the event. Why: The speaker is ill." in page
    assert "You had a place; it was cancelled with the event." in page
    assert "You have no places booked." in page
    event_page = text(client.get(url("event", full.pk)))
    assert "This event was cancelled." in event_page
    assert "You were on its waiting list; that has ended with it" in event_page
    assert "You are number" not in event_page
    assert "Your place was cancelled with it" in text(client.get(booked.get_absolute_url()))
    assert "was cancelled, and your place with it" in text(client.get("/"))
    # The door says what happened, not that nobody booked or to wait until it opens.
    client.force_login(tom)
    door = text(client.get(url("check_in", full.pk)))
    assert "the places ended when the event was cancelled" in door
    assert "Nobody has booked yet" not in door and "Until then" not in door


@pytest.mark.django_db
def test_a_cancelled_events_bookings_page_offers_no_places_and_its_settings_stay(client, tom):
    from mycareer.events import services as event_services

    event = make_event(organiser=tom, capacity=5)
    student = make_students(1)[0]
    services.booking_create(event=event, student=student, by=student)
    event_services.event_cancel(event=event, by=tom, reason="The speaker is ill.")
    client.force_login(tom)
    page = text(client.get(url("manage", event.pk)))
    assert "Cancelled" in page
    assert "Places left" not in page
    assert url("settings", event.pk) not in page
    response = client.get(url("settings", event.pk), follow=True)
    assert "A cancelled event takes no bookings" in text(response)
    assert response.redirect_chain[-1][0] == url("manage", event.pk)
    client.post(url("settings", event.pk), {"capacity": "50"})
    assert BookingSettings.objects.get(pk=event.pk).capacity == 5
    with pytest.raises(ValidationError, match="A cancelled event takes no bookings"):
        services.booking_settings_update(event=event, by=tom, capacity=50)


@pytest.mark.django_db
def test_a_cancelled_events_report_says_so_and_not_to_close_attendance(client, tom):
    from mycareer.events import services as event_services

    event = make_event(organiser=tom, capacity=5)
    student = make_students(1)[0]
    services.booking_create(event=event, student=student, by=student)
    event_services.event_cancel(event=event, by=tom, reason="The speaker is ill.")
    client.force_login(tom)
    page = text(client.get(url("report", event.pk)))
    assert "This event was cancelled: nobody attended" in page
    assert "there are no attendance figures to send" in page
    assert "Attendance is not closed yet" not in page
    assert "Close attendance first" not in page


# The door opens two hours before; attendance closes after the end --------------------------


@pytest.mark.django_db
def test_the_door_and_attendance_pages_explain_when_they_open(client, persona, tom):
    event = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=2))
    student = persona("student")
    booking = services.booking_create(event=event, student=student, by=student)
    client.force_login(tom)
    door = text(client.get(url("check_in", event.pk)))
    assert "Check-in opens on" in door and "2 hours before the event starts" in door
    assert "Check in<span" not in door
    response = client.post(url("check_in", event.pk), {"booking": booking.pk}, follow=True)
    assert "Check-in opens on" in text(response)
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    after = text(client.get(url("attendance", event.pk)))
    assert "Attendance can be closed once the event has ended" in after
    assert url("attendance_close", event.pk) not in after
    asked = text(client.get(url("attendance_close", event.pk)))
    assert "Attendance can be closed once the event has ended" in asked
    assert "Yes, close attendance" not in asked
    with time_machine.travel(event.starts_at - datetime.timedelta(minutes=5)):
        assert "Check in<span" in text(client.get(url("check_in", event.pk)))
    with time_machine.travel(event.ends_at + datetime.timedelta(minutes=5)):
        assert url("attendance_close", event.pk) in text(client.get(url("attendance", event.pk)))


@pytest.mark.django_db
def test_booking_a_place_counts_places_once_and_reads_the_unit_tree_once(
    client, tom, django_assert_max_num_queries, settings
):
    """The booking request's statements (docs/benchmarks.md, bookings): the places are
    counted once under the lock, and the unit tree read once for the page's and the
    service's visibility checks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Read in the SQL itself: on PostgreSQL a prepared query is sent by its name.
    settings.MYCAREER = {**settings.MYCAREER, "PG_PREPARED_STATEMENTS": False}
    event = make_event(organiser=tom, capacity=2)
    first, second, third = make_students(3)
    services.booking_create(event=event, student=first, by=first)
    client.force_login(second)
    client.get(url("event", event.pk))  # the session settles
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url("book", event.pk))
    assert response.status_code == 302
    assert Booking.objects.filter(event=event, student=second).exists()
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum('COUNT(U0."id")' in sql for sql in statements) == 1
    assert sum('FROM "accounts_unit"' in sql for sql in statements) == 1
    # Full now: the third student joins the waiting list, still counting once.
    client.force_login(third)
    with CaptureQueriesContext(connection) as captured:
        client.post(url("book", event.pk))
    assert WaitlistEntry.objects.filter(event=event, student=third).exists()
    assert sum('COUNT(U0."id")' in q["sql"] for q in captured.captured_queries) == 1


@pytest.mark.django_db
def test_a_calendar_file_is_offered_with_a_place_not_on_a_waiting_list(client, persona, tom):
    """ "Add to your calendar" beside a waiting-list place looked like a place."""
    event = make_event(organiser=tom, capacity=1)
    placed, waiting = make_students(2)
    services.booking_create(event=event, student=placed, by=placed)
    services.booking_create(event=event, student=waiting, by=waiting)
    ics = reverse("events:ics", args=[event.pk])
    seen = {}
    for person in (placed, waiting, tom):
        client.force_login(person)
        seen[person] = text(client.get(event.get_absolute_url())).count(f'href="{ics}"')
    assert seen == {placed: 1, waiting: 0, tom: 1}


@pytest.mark.django_db
def test_the_calendar_file_of_a_place_booked_again_outranks_the_cancellation(client, persona, tom):
    """ "Add to your calendar" carried the event's own SEQUENCE, below the cancellation a
    student's calendar was sent for their earlier place: it kept the event cancelled."""
    event = make_event(organiser=tom, capacity=5)
    [student] = make_students(1)
    client.force_login(student)

    def downloaded() -> int:
        [vevent] = Calendar.from_ical(
            client.get(reverse("events:ics", args=[event.pk])).content
        ).walk("VEVENT")
        return int(vevent["SEQUENCE"])

    assert downloaded() == event.sequence  # never booked
    first = services.booking_create(event=event, student=student, by=student)
    assert downloaded() == calendar_sequence(first)
    services.booking_cancel(booking=first, by=student, notify=False)
    cancelled = calendar_sequence(Booking.objects.get(pk=first.pk), cancelled=True)
    assert downloaded() > cancelled
    again = services.booking_create(event=event, student=student, by=student)
    assert downloaded() == calendar_sequence(again) > cancelled
    # Staff hold no place: the event's own.
    client.force_login(tom)
    assert downloaded() == event.sequence


@pytest.mark.django_db
def test_a_closed_booking_window_is_said_once(client, persona, tom):
    """ "Booking closed when the event started." was followed by "The event has started,
    so booking has closed.": the same thing twice."""
    event = make_event(organiser=tom, starts_in=datetime.timedelta(days=2))
    started = timezone.now() - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=event.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    client.force_login(persona("student"))
    page = text(client.get(event.get_absolute_url()))
    assert page.count("Booking closed when the event started.") == 1
    assert "so booking has closed" not in page
    # A refusal that is not the window's is still said.
    full = make_event(organiser=tom, capacity=1, waiting_list=False)
    [other] = make_students(1)
    services.booking_create(event=full, student=other, by=other)
    page = text(client.get(full.get_absolute_url()))
    assert "The event is full and does not keep a waiting list." in page


# Saving the booking settings unchanged ----------------------------------------------------


def _settings_as_sent(client, event) -> dict:
    page = client.get(url("settings", event.pk)).content.decode()
    return as_post(form_fields(page, containing="capacity"))


def _settings_changes(event) -> int:
    from mycareer.audit.models import AuditEntry

    return AuditEntry.objects.filter(
        action="bookings.settings.changed", object_id=str(event.pk)
    ).count()


def _messages(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_booking_settings_saved_unchanged_say_nothing_changed(
    client, tom, mech_event, django_capture_on_commit_callbacks
):
    # Booking opens at a time with seconds, as a script may set it: the page shows minutes.
    opens = timezone.now().replace(second=17, microsecond=250) - datetime.timedelta(days=1)
    services.booking_settings_update(event=mech_event, by=tom, opens_at=opens)
    stored = BookingSettings.objects.get(event=mech_event)
    recorded = _settings_changes(mech_event)
    client.force_login(tom)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            url("settings", mech_event.pk), _settings_as_sent(client, mech_event)
        )
    assert response.status_code == 302
    assert _messages(response) == ["Nothing was changed."]
    assert _settings_changes(mech_event) == recorded
    assert callbacks == []
    after = BookingSettings.objects.get(event=mech_event)
    assert (after.opens_at, after.capacity) == (opens, stored.capacity)


@pytest.mark.django_db
def test_booking_settings_with_one_change_say_saved(client, tom, mech_event):
    recorded = _settings_changes(mech_event)
    client.force_login(tom)
    data = {**_settings_as_sent(client, mech_event), "offer_hours": "12"}
    response = client.post(url("settings", mech_event.pk), data)
    assert response.status_code == 302
    assert _messages(response) == ["The booking settings are saved."]
    assert _settings_changes(mech_event) == recorded + 1
    assert BookingSettings.objects.get(event=mech_event).offer_hours == 12


@pytest.mark.django_db
def test_the_settings_service_says_what_changed(tom, mech_event):
    assert services.booking_settings_update(event=mech_event, by=tom, capacity=2).changed == {}
    saved = services.booking_settings_update(event=mech_event, by=tom, capacity=3)
    assert saved.changed == {"capacity": [2, 3]}
    assert saved.moved == []


@pytest.mark.django_db
def test_the_event_form_warns_that_moving_the_event_later_undoes_its_check_ins(
    client, tom, persona, mech_event
):
    from mycareer.bookings.event_form import move_warning

    edit = reverse("events:edit", args=[mech_event.pk])
    client.force_login(tom)
    assert move_warning(mech_event) == ""
    assert "check-ins to booked" not in text(client.get(edit))
    students = [persona("student"), *make_students(1)]
    for student in students:
        booking = services.booking_create(event=mech_event, student=student, by=student)
        services.check_in(booking=booking, by=tom)
    warning = (
        "2 people are checked in: moving the event to a later day returns those 2 check-ins "
        "to booked."
    )
    assert move_warning(mech_event) == warning
    assert warning in text(client.get(edit))


# Lists cost the same however many rows they show ------------------------------------------------


def _booked_and_waiting(*, organiser, student, n: int, cancelled: int = 0) -> None:
    """`n` coming events where `student` has a place, `n` where they wait and `n` where a
    place is offered to them, and `cancelled` events they had a place at that were called
    off."""
    from mycareer.events import services as event_services

    for _ in range(n):
        services.booking_create(
            event=make_event(organiser=organiser, capacity=5), student=student, by=student
        )
        for promotion in ("automatic", "offer"):
            full = make_event(organiser=organiser, capacity=1, promotion=promotion, offer_hours=24)
            other = services.booking_create(
                event=full, student=make_students(1)[0], by=None, notify=False
            )
            services.booking_create(event=full, student=student, by=student, notify=False)
            if promotion == "offer":
                services.booking_cancel(booking=other, by=organiser, notify=False)
    for _ in range(cancelled):
        event = make_event(organiser=organiser, capacity=5)
        services.booking_create(event=event, student=student, by=student, notify=False)
        event_services.event_cancel(event=event, by=organiser, reason="Room flooded")


@pytest.mark.django_db
def test_my_events_costs_the_same_with_more_places(client, persona, tom):

    student = persona("student")
    _booked_and_waiting(organiser=tom, student=student, n=1, cancelled=1)
    held_event(organiser=tom, students=[student], attended=1)
    client.force_login(student)
    before = steady_queries(lambda: client.get(url("my_events")))
    _booked_and_waiting(organiser=tom, student=student, n=4, cancelled=3)
    for attended in (0, 1, 1):
        held_event(organiser=tom, students=[student], attended=attended)
    after = steady_queries(lambda: client.get(url("my_events")))
    page = text(client.get(url("my_events")))
    assert page.count("Room flooded") == 4 and page.count("Accept or decline") == 5
    assert_no_more_queries(before, after)


@pytest.mark.django_db
def test_the_overview_costs_the_same_with_more_events(client, persona, tom, cast):

    def events(n: int, unit: str) -> None:
        for _ in range(n):
            coming = make_event(organiser=tom, capacity=1, unit=unit)
            for student in make_students(2):
                services.booking_create(event=coming, student=student, by=None, notify=False)
            held_event(organiser=tom, students=make_students(2), attended=1, unit=unit)
            # Waiting for attendance to be closed.
            waiting = make_event(organiser=tom, capacity=3, unit=unit)
            services.booking_create(
                event=waiting, student=make_students(1)[0], by=None, notify=False
            )
            Event.objects.filter(pk=waiting.pk).update(
                starts_at=waiting.starts_at - datetime.timedelta(days=20),
                ends_at=waiting.ends_at - datetime.timedelta(days=20),
            )

    events(1, "mech")
    client.force_login(tom)
    before = steady_queries(lambda: client.get(url("overview")))
    events(3, "mech")
    events(2, "careers")  # events of another unit Tom organises
    after = steady_queries(lambda: client.get(url("overview")))
    page = text(client.get(url("overview")))
    assert page.count("Close attendance<span") == 6 and page.count("Report<span") == 6
    assert_no_more_queries(before, after)


@pytest.fixture
def reported_event(tom):
    """A held event whose organisations' contacts may be sent the figures."""

    return held_event(organiser=tom, students=make_students(12), attended=8)


def _taking_part(event, *, by, persona, n: int) -> None:
    """`n` more organisations take part in `event`, each with two contacts (one of them a
    key contact of another operator), and are sent the figures once."""
    from mycareer.organisations.tests.factories import (
        ContactFactory,
        OrganisationFactory,
        key_account_with_contact,
    )

    chosen = []
    for _ in range(n):
        organisation = OrganisationFactory()
        event.organisations.add(organisation)
        chosen.append(ContactFactory(organisation=organisation))
        key_account_with_contact(
            contact=ContactFactory(organisation=organisation),
            operator=persona("manager"),
            unit=event.unit,
            by=persona("admin"),
        )
    services.employer_report_send(event=event, contacts=chosen, by=by)


@pytest.mark.django_db
def test_the_report_costs_the_same_with_more_organisations(client, persona, tom, reported_event):

    client.force_login(tom)
    _taking_part(reported_event, by=tom, persona=persona, n=1)
    before = steady_queries(lambda: client.get(url("report", reported_event.pk)))
    csv_before = steady_queries(lambda: client.get(url("report_csv", reported_event.pk)))
    for _ in range(3):
        _taking_part(reported_event, by=tom, persona=persona, n=2)
    # More students, of other programmes and years, make more rows of figures.
    for programme, year in (("bsc-cs", 1), ("meng-mech", 2)):
        for student in make_students(6, programme=programme, year=year):
            Booking.objects.create(
                event=reported_event, student=student, status=Booking.Status.ATTENDED
            )
    after = steady_queries(lambda: client.get(url("report", reported_event.pk)))
    csv_after = steady_queries(lambda: client.get(url("report_csv", reported_event.pk)))
    page = text(client.get(url("report", reported_event.pk)))
    assert page.count("liaise first") == 7
    assert_no_more_queries(before, after)
    assert_no_more_queries(csv_before, csv_after)


@pytest.mark.django_db
def test_attendance_costs_the_same_with_more_no_shows(client, tom):

    def followed_up(no_shows: int, emails: int):
        event = held_event(organiser=tom, students=make_students(no_shows + 1), attended=1)
        for n in range(emails):
            if n:  # more people marked as no-shows since the last email
                for student in make_students(2):
                    Booking.objects.create(
                        event=event, student=student, status=Booking.Status.NO_SHOW
                    )
            services.noshow_followup_send(
                event=event, subject="Sorry we missed you", body="Hello", by=tom
            )
        return event

    few, many = followed_up(2, 1), followed_up(10, 4)
    client.force_login(tom)
    before = steady_queries(lambda: client.get(url("attendance", few.pk)))
    after = steady_queries(lambda: client.get(url("attendance", many.pk)))
    assert text(client.get(url("attendance", many.pk))).count("Sorry we missed you") >= 4
    assert_no_more_queries(before, after)


@pytest.mark.django_db
def test_an_offer_to_a_restricted_student_says_so_and_offers_only_to_decline(client, tom, cast):
    """It offered "Accept the place", which then refused them."""
    from mycareer.bookings.tests.test_services import _offered, _restrict

    people = make_students(4)
    _event, entry = _offered(tom, people, waiting=1)
    ban = _restrict(people[1])
    client.force_login(people[1])
    page = html.unescape(text(client.get(reverse("bookings:offer", args=[entry.pk]))))
    assert f"you cannot take it up: {selectors.ban_message(ban)}" in page
    assert "Accept the place" not in page
    assert "Decline it, so it goes to the next person waiting" in page


@pytest.mark.django_db
def test_the_move_page_says_when_there_is_no_event_to_move_to(client, tom, mech_event):
    """With no other event whose bookings they run, staff were shown an empty choice."""
    booking = services.staff_book_student(event=mech_event, student=make_students(1)[0], by=tom)
    client.force_login(tom)
    page = text(client.get(url("move", booking.pk)))
    assert "There is no event to move them to" in page
    assert "Choose an event" not in page and ">Move</button>" not in page
    make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=3))
    page = text(client.get(url("move", booking.pk)))
    assert "There is no event to move them to" not in page and ">Move</button>" in page
