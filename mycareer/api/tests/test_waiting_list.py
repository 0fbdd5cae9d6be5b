"""A student's waiting-list places through the API: the place a booking call put them in,
their places still to come, and leaving one, through the leave page's service and rules."""

import datetime
import itertools

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mycareer.api import services as api_services
from mycareer.api.errors import NOT_A_FIELD
from mycareer.api.models import Scope
from mycareer.audit.models import AuditEntry
from mycareer.bookings import selectors
from mycareer.bookings import services as bookings
from mycareer.bookings.models import Booking, BookingBan, BookingSettings, WaitlistEntry
from mycareer.bookings.tests.factories import make_event, make_students
from mycareer.organisations.tests.factories import brightwave_digital

pytestmark = pytest.mark.django_db

OWN = [Scope.READ, Scope.BOOKINGS]
NUMBERS = itertools.count(1)
EMPLOYER = "employer@demo-employer.com"


@pytest.fixture
def employer_token(persona, token_for) -> str:
    """An employer of an approved organisation: their tokens read only."""
    brightwave_digital(persona(EMPLOYER))
    return token_for(EMPLOYER, scopes=[Scope.READ])


def _same_time(text: str, value: datetime.datetime | None) -> bool:
    """The answer's time is the record's, to the millisecond the API gives."""
    assert value is not None
    return datetime.datetime.fromisoformat(text) == value.replace(
        microsecond=value.microsecond // 1000 * 1000
    )


def _full(**settings):
    """A published event whose one place is taken: the next student to book waits."""
    event = make_event(capacity=1, title="Meet the Atlas graduates", **settings)
    taken = make_students(1)[0]
    bookings.booking_create(event=event, student=taken, by=taken)
    return event


def _token(student, scopes=OWN) -> str:
    _token, secret = api_services.token_create(
        owner=student, by=student, name=f"App {next(NUMBERS)}", scopes=scopes
    )
    return secret


def test_booking_a_full_event_answers_the_waiting_list_place_to_leave_it_by(call, persona):
    event = _full()
    ahead, aisha = make_students(1)[0], persona("student")
    bookings.booking_create(event=event, student=ahead, by=ahead)

    answer = call(_token(aisha), "post", f"/events/{event.pk}/bookings")

    assert answer.status_code == 201
    body = answer.json()
    entry = WaitlistEntry.objects.get(event=event, student=aisha)
    assert (body["outcome"], body["booking"]) == ("waiting_list", None)
    place = body["waiting_list"]
    assert _same_time(place.pop("joined_at"), entry.joined_at)
    assert place == {
        "id": entry.pk,
        "event": event.pk,
        "status": "waiting",
        "position": 2,
        "offered_at": None,
        "offer_expires_at": None,
    }
    assert body["message"] == "Meet the Atlas graduates is full: you are number 2 on the " + (
        "waiting list."
    )


def test_a_token_without_read_is_told_its_waiting_list_place_too(call, persona):
    """Placed keeps what the writer asked: the place it was given, to leave it by."""
    event = _full()
    aisha = persona("student")
    answer = call(_token(aisha, [Scope.BOOKINGS]), "post", f"/events/{event.pk}/bookings")
    entry = WaitlistEntry.objects.get(event=event, student=aisha)
    assert "message" not in answer.json()
    assert answer.json()["waiting_list"]["id"] == entry.pk
    assert answer.json()["waiting_list"]["position"] == 1
    left = call(_token(aisha, [Scope.BOOKINGS]), "delete", f"/waiting-list/{entry.pk}")
    assert left.status_code == 200 and left.json() == {"id": entry.pk}


def test_a_booked_place_answers_no_waiting_list_place(call, persona):
    event = make_event(capacity=3)
    answer = call(_token(persona("student")), "post", f"/events/{event.pk}/bookings")
    assert answer.json()["outcome"] == "booked" and answer.json()["waiting_list"] is None


def test_the_student_leaves_their_place_as_the_page_does_and_twice_is_refused(
    call, persona, django_capture_on_commit_callbacks
):
    event = _full()
    aisha, behind = persona("student"), make_students(1)[0]
    entry = bookings.booking_create(event=event, student=aisha, by=aisha)
    later = bookings.booking_create(event=event, student=behind, by=behind)
    secret = _token(aisha)
    DBTaskResult.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        left = call(secret, "delete", f"/waiting-list/{entry.pk}")

    assert left.status_code == 200
    assert left.json()["status"] == "left" and left.json()["position"] is None
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "left"
    assert selectors.waitlist_position(later) == 1
    audit = AuditEntry.objects.get(action="bookings.waitlist.left", object_id=str(entry.pk))
    assert audit.actor == aisha and audit.person == aisha
    # As on the page: nobody is emailed when the student leaves themselves.
    assert not DBTaskResult.objects.filter(task_path__endswith="removed_from_waiting_list")

    twice = call(secret, "delete", f"/waiting-list/{entry.pk}")
    assert twice.status_code == 400
    assert twice.json()["message"].startswith("You left this waiting list on ")
    assert twice.json()["fields"] == {"__all__": [twice.json()["message"]]}


def test_only_the_students_own_token_with_the_bookings_scope_leaves_their_place(
    call, token_for, persona, employer_token
):
    event = _full()
    aisha = persona("student")
    entry = bookings.booking_create(event=event, student=aisha, by=aisha)
    path = f"/waiting-list/{entry.pk}"

    # Another student: not found, as a place nobody holds, never whose it is.
    other = call(_token(persona("student2")), "delete", path)
    assert other.status_code == 404
    assert other.json()["message"] == "There is nothing here, or you may not see it."
    assert call(_token(aisha), "delete", "/waiting-list/999999").json() == other.json()
    # Staff and employers: their tokens cannot have the bookings scope.
    for theirs in (token_for("operator"), employer_token):
        refused = call(theirs, "delete", path)
        assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    # No token; a token of hers without the scope.
    assert call(None, "delete", path).status_code == 401
    reader = call(_token(aisha, [Scope.READ]), "delete", path)
    assert reader.status_code == 403 and reader.json()["code"] == "scope_missing"
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "waiting"
    # A body that names fields is refused: the call takes none.
    sent = call(_token(aisha), "delete", path, {"reason": "clash"})
    assert sent.status_code == 400 and sent.json()["fields"] == {"reason": [NOT_A_FIELD]}


def test_once_the_event_has_started_the_place_is_kept_with_the_pages_reason(call, persona):
    event = _full()
    aisha = persona("student")
    entry = bookings.booking_create(event=event, student=aisha, by=aisha)
    with time_machine.travel(event.starts_at + datetime.timedelta(minutes=5)):
        refused = call(_token(aisha), "delete", f"/waiting-list/{entry.pk}")
    assert refused.status_code == 400
    assert refused.json()["message"] == selectors.WAITLIST_CLOSED
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "waiting"


def test_declining_an_offer_passes_the_place_on_and_one_taken_up_is_refused(
    call, persona, django_capture_on_commit_callbacks
):
    event = make_event(capacity=1, promotion=BookingSettings.Promotion.OFFER, offer_hours=12)
    (first, behind), aisha = make_students(2), persona("student")
    first_booking = bookings.booking_create(event=event, student=first, by=first)
    offered = bookings.booking_create(event=event, student=aisha, by=aisha)
    bookings.booking_create(event=event, student=behind, by=behind)
    bookings.booking_cancel(booking=first_booking, by=first)
    DBTaskResult.objects.all().delete()

    listed = call(_token(aisha), "get", "/waiting-list").json()["items"]
    [place] = listed
    offered.refresh_from_db()
    assert (place["id"], place["status"], place["position"]) == (offered.pk, "offered", None)
    assert _same_time(place["offer_expires_at"], offered.offer_expires_at)
    with django_capture_on_commit_callbacks(execute=True):
        declined = call(_token(aisha), "delete", f"/waiting-list/{offered.pk}")
    assert declined.status_code == 200 and declined.json()["status"] == "left"
    assert WaitlistEntry.objects.get(event=event, student=behind).status == "offered"
    assert DBTaskResult.objects.filter(task_path__endswith="send_offer").count() == 1

    taken_up = WaitlistEntry.objects.get(event=event, student=behind)
    bookings.offer_accept(entry=taken_up, by=behind)
    refused = call(_token(behind), "delete", f"/waiting-list/{taken_up.pk}")
    assert refused.status_code == 400
    assert refused.json()["message"].startswith(
        "You took up the place offered to you from this waiting list on "
    )


def test_the_list_holds_the_students_own_places_still_to_come(
    call, persona, token_for, employer_token
):
    aisha, other = persona("student"), persona("student2")
    soon, later, begun = _full(), _full(), _full(starts_in=datetime.timedelta(minutes=30))
    ahead = make_students(1)[0]
    bookings.booking_create(event=later, student=ahead, by=ahead)
    mine = [bookings.booking_create(event=e, student=aisha, by=aisha) for e in (soon, later)]
    bookings.booking_create(event=begun, student=aisha, by=aisha)
    bookings.booking_create(event=soon, student=other, by=other)
    left = bookings.booking_create(event=_full(), student=aisha, by=aisha)
    bookings.waitlist_leave(entry=left, by=aisha)

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        answer = call(_token(aisha), "get", "/waiting-list")

    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [(i["id"], i["position"]) for i in items] == [(mine[0].pk, 1), (mine[1].pk, 2)]
    assert call(_token(aisha), "get", "/waiting-list?limit=1").json()["next_cursor"]
    assert call(_token(aisha), "get", "/waiting-list?evnt=1").status_code == 400
    for refused in (token_for("operator"), employer_token):
        assert call(refused, "get", "/waiting-list").status_code == 403
    no_read = call(_token(aisha, [Scope.BOOKINGS]), "get", "/waiting-list")
    assert no_read.status_code == 403 and no_read.json()["code"] == "scope_missing"
    assert call(None, "get", "/waiting-list").status_code == 401


# Taking up an offered place ------------------------------------------------------------


def _offered(student, **settings):
    """A full event in offer mode whose freed place is offered to `student`."""
    event = make_event(
        capacity=1,
        title="Meet the Atlas graduates",
        promotion=BookingSettings.Promotion.OFFER,
        offer_hours=12,
        **settings,
    )
    first = make_students(1)[0]
    taken = bookings.booking_create(event=event, student=first, by=first)
    entry = bookings.booking_create(event=event, student=student, by=student)
    bookings.booking_cancel(booking=taken, by=first)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    return entry


def test_the_student_takes_up_their_offer_as_the_page_does_and_twice_is_refused(
    call, persona, django_capture_on_commit_callbacks
):
    aisha = persona("student")
    entry = _offered(aisha)
    secret = _token(aisha)
    DBTaskResult.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        accepted = call(secret, "post", f"/waiting-list/{entry.pk}/accept")

    assert accepted.status_code == 201
    booking = Booking.objects.get(event=entry.event, student=aisha)
    assert booking.source == Booking.Source.WAITING_LIST
    assert accepted.json() == {
        "event": entry.event_id,
        "outcome": "booked",
        "booking": booking.pk,
        "waiting_list": None,
        "message": "You have a place at Meet the Atlas graduates. A confirmation is on its way.",
    }
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "accepted"
    audit = AuditEntry.objects.get(action="bookings.waitlist.accepted", object_id=str(booking.pk))
    assert audit.actor == aisha and audit.person == aisha
    sent = DBTaskResult.objects.filter(task_path__endswith="send_booking_confirmation")
    assert sent.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        twice = call(secret, "post", f"/waiting-list/{entry.pk}/accept")
    assert twice.status_code == 400
    assert twice.json()["message"].startswith("You accepted this place on ")
    assert twice.json()["fields"] == {"__all__": [twice.json()["message"]]}
    assert Booking.objects.filter(event=entry.event, student=aisha).count() == 1
    assert sent.count() == 1


def test_a_token_without_read_is_told_the_booking_not_the_message(call, persona):
    aisha = persona("student")
    entry = _offered(aisha)
    accepted = call(_token(aisha, [Scope.BOOKINGS]), "post", f"/waiting-list/{entry.pk}/accept")
    booking = Booking.objects.get(event=entry.event, student=aisha)
    assert accepted.status_code == 201
    assert accepted.json() == {
        "event": entry.event_id,
        "outcome": "booked",
        "booking": booking.pk,
        "waiting_list": None,
    }


def test_only_the_students_own_token_with_the_bookings_scope_takes_up_their_offer(
    call, token_for, persona, employer_token
):
    aisha = persona("student")
    entry = _offered(aisha)
    path = f"/waiting-list/{entry.pk}/accept"

    # Another student: not found, as an offer nobody holds, never whose it is.
    other = call(_token(persona("student2")), "post", path)
    assert other.status_code == 404
    assert other.json()["message"] == "There is nothing here, or you may not see it."
    assert call(_token(aisha), "post", "/waiting-list/999999/accept").json() == other.json()
    # Staff and employers: their tokens cannot have the bookings scope.
    for theirs in (token_for("operator"), employer_token):
        refused = call(theirs, "post", path)
        assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    # No token; a token of hers without the scope.
    assert call(None, "post", path).status_code == 401
    reader = call(_token(aisha, [Scope.READ]), "post", path)
    assert reader.status_code == 403 and reader.json()["code"] == "scope_missing"
    # A body that names fields is refused: the call takes none.
    sent = call(_token(aisha), "post", path, {"seats": 2})
    assert sent.status_code == 400 and sent.json()["fields"] == {"seats": [NOT_A_FIELD]}
    # The offer is still hers, untouched by every refusal.
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "offered"
    assert not Booking.objects.filter(event=entry.event, student=aisha).exists()
    # Reading a GET is not taking it up.
    assert call(_token(aisha), "get", path).status_code == 405


def test_a_place_still_waiting_has_no_offer_to_take_up(call, persona):
    event = _full()
    aisha = persona("student")
    entry = bookings.booking_create(event=event, student=aisha, by=aisha)
    refused = call(_token(aisha), "post", f"/waiting-list/{entry.pk}/accept")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "You are on the waiting list: no place is offered to you now."
    )
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "waiting"


def test_an_offer_whose_time_ran_out_is_refused_with_what_became_of_the_place(
    call, persona, django_capture_on_commit_callbacks
):
    aisha = persona("student")
    entry = _offered(aisha)
    behind = make_students(1)[0]
    bookings.booking_create(event=entry.event, student=behind, by=behind)
    assert entry.offer_expires_at is not None
    DBTaskResult.objects.all().delete()

    with (
        time_machine.travel(entry.offer_expires_at + datetime.timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        refused = call(_token(aisha), "post", f"/waiting-list/{entry.pk}/accept")

    assert refused.status_code == 400
    message = refused.json()["message"]
    assert message.startswith("The offer ended on ")
    assert message.endswith("and the place passed to the next person waiting.")
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "expired"
    assert not Booking.objects.filter(event=entry.event, student=aisha).exists()
    # The place passed on, and was kept passed on though this call was refused.
    assert WaitlistEntry.objects.get(event=entry.event, student=behind).status == "offered"
    assert not DBTaskResult.objects.filter(task_path__endswith="send_booking_confirmation")


def test_an_offer_left_open_past_the_start_is_refused_once_the_event_has_started(call, persona):
    """An offer ends at the start at the latest; one recorded as running past it (made
    before that rule) is still refused once the event is under way, as on the page."""
    aisha = persona("student")
    entry = _offered(aisha, starts_in=datetime.timedelta(hours=2))
    starts_at = entry.event.starts_at
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        offer_expires_at=starts_at + datetime.timedelta(hours=1)
    )
    with time_machine.travel(starts_at + datetime.timedelta(minutes=5)):
        refused = call(_token(aisha), "post", f"/waiting-list/{entry.pk}/accept")
    assert refused.status_code == 400
    assert refused.json()["message"] == "The event has started or was cancelled."
    assert not Booking.objects.filter(event=entry.event, student=aisha).exists()


def test_a_student_restricted_from_booking_is_refused_their_offer_with_bookings_reason(
    call, persona
):
    """Restricted after no-shows, a student was refused a booking but could take up an
    offered place through the API all the same."""
    aisha = persona("student")
    entry = _offered(aisha)
    ban = BookingBan.objects.create(
        student=aisha,
        ends_at=timezone.now() + datetime.timedelta(weeks=4),
        reason="You did not come to 3 events you booked.",
    )
    refused = call(_token(aisha), "post", f"/waiting-list/{entry.pk}/accept")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        f"{selectors.ban_message(ban)} {selectors.OFFER_TAKEN_BACK}"
    )
    assert not Booking.objects.filter(event=entry.event, student=aisha).exists()
    # The restriction outlasts the offer, so it is taken back; she keeps her turn.
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "waiting"
