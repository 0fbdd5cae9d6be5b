"""Every booking transition, through the services, against the real database."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mycareer.accounts.models import User
from mycareer.audit.models import AuditEntry
from mycareer.bookings import selectors, services
from mycareer.bookings.models import (
    Booking,
    BookingBan,
    BookingSettings,
    NoShowFollowUp,
    NoShowPolicy,
    WaitlistEntry,
)
from mycareer.bookings.tests.factories import make_event, make_students
from mycareer.core.tests.queries import assert_no_more_queries
from mycareer.events import services as event_services
from mycareer.events.models import Event
from mycareer.organisations import keyaccounts
from mycareer.organisations import services as organisation_services

OFFER = BookingSettings.Promotion.OFFER


def book(event, student):
    return services.booking_create(event=event, student=student, by=student)


def statuses(event) -> dict[str, list[str]]:
    return {
        "booked": [
            b.student.email
            for b in Booking.objects.filter(event=event, status="confirmed").order_by("pk")
        ],
        "waiting": [
            e.student.email
            for e in WaitlistEntry.objects.filter(event=event, status="waiting").order_by(
                "joined_at", "pk"
            )
        ],
        "offered": [
            e.student.email for e in WaitlistEntry.objects.filter(event=event, status="offered")
        ],
    }


def tasks_named(name: str) -> int:
    return DBTaskResult.objects.filter(task_path__endswith=name).count()


@pytest.fixture(autouse=True)
def _empty_task_queue(db):
    """The demo story queues a few emails of its own; start each test without them."""
    DBTaskResult.objects.all().delete()


@pytest.fixture
def tom(persona):
    return persona("operator")


@pytest.fixture
def people(cast):
    return make_students(6)


# Booking -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_booking_gives_a_place_audits_it_and_sends_a_confirmation_after_commit(
    tom, people, django_capture_on_commit_callbacks
):
    event = make_event(organiser=tom, capacity=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        booking = book(event, people[0])
    assert isinstance(booking, Booking)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.source == Booking.Source.STUDENT
    assert len(callbacks) == 1
    assert tasks_named("send_booking_confirmation") == 1
    entry = AuditEntry.objects.get(action="bookings.booking.created", object_id=str(booking.pk))
    assert entry.person == people[0] and entry.actor == people[0]


@pytest.mark.django_db
def test_a_full_event_puts_people_on_the_waiting_list_in_the_order_they_joined(tom, people):
    event = make_event(organiser=tom, capacity=2)
    placed = [book(event, s) for s in people[:5]]
    assert [type(p).__name__ for p in placed] == ["Booking"] * 2 + ["WaitlistEntry"] * 3
    assert [selectors.waitlist_position(e) for e in placed[2:]] == [1, 2, 3]
    annotated = selectors.with_positions(WaitlistEntry.objects.filter(event=event))
    assert [e.ahead + 1 for e in annotated.order_by("joined_at", "pk")] == [1, 2, 3]
    assert selectors.counts_for(event).remaining == 0


@pytest.mark.django_db
def test_booking_twice_or_while_waiting_is_refused(tom, people):
    event = make_event(organiser=tom, capacity=1)
    book(event, people[0])
    with pytest.raises(ValidationError, match="already have a place"):
        book(event, people[0])
    book(event, people[1])
    with pytest.raises(ValidationError, match=r"already on the waiting list \(number 1\)"):
        book(event, people[1])
    assert Booking.objects.filter(event=event).count() == 1
    assert WaitlistEntry.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_a_full_event_without_a_waiting_list_refuses(tom, people):
    event = make_event(organiser=tom, capacity=1, waiting_list=False)
    book(event, people[0])
    with pytest.raises(ValidationError, match="full and does not keep a waiting list"):
        book(event, people[1])


@pytest.mark.django_db
def test_closing_the_waiting_list_keeps_who_is_on_it_and_says_so(tom, people):
    event = make_event(organiser=tom, capacity=1)
    holder, first, second = book(event, people[0]), book(event, people[1]), book(event, people[2])
    assert isinstance(first, WaitlistEntry) and isinstance(second, WaitlistEntry)
    services.booking_settings_update(event=event, by=tom, waiting_list=False)
    panel = selectors.booking_panel(event, people[3])
    assert panel.rule_text == (
        "The waiting list is closed to newcomers: when the event is full, booking stops. "
        "The 2 people already on it get places as they free, in the order they joined."
    )
    with pytest.raises(ValidationError, match="full and does not keep a waiting list"):
        book(event, people[3])
    # Who was on it keeps their turn: a freed place goes to the first of them.
    services.booking_cancel(booking=holder, by=people[0])
    assert statuses(event)["booked"] == [people[1].email]
    assert selectors.booking_panel(event, people[3]).rule_text.startswith(
        "The waiting list is closed to newcomers"
    )
    services.booking_settings_update(event=event, by=tom, capacity=2)
    assert selectors.booking_panel(event, people[3]).rule_text == (
        "There is no waiting list: when the event is full, booking stops."
    )


@pytest.mark.django_db
def test_an_event_without_settings_takes_unlimited_bookings(tom, people):
    event = make_event(organiser=tom)
    for student in people:
        assert isinstance(book(event, student), Booking)
    assert selectors.counts_for(event).remaining is None


# Cancelling and automatic promotion ----------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_frees_the_place_and_books_the_next_person_who_is_told(
    tom, people, django_capture_on_commit_callbacks
):
    event = make_event(organiser=tom, capacity=1)
    first = book(event, people[0])
    book(event, people[1])
    book(event, people[2])
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.booking_cancel(booking=first, by=people[0])
    assert [p.student for p in promoted] == [people[1]]
    assert promoted[0].source == Booking.Source.WAITING_LIST
    assert statuses(event) == {
        "booked": [people[1].email],
        "waiting": [people[2].email],
        "offered": [],
    }
    assert WaitlistEntry.objects.get(event=event, student=people[1]).status == "accepted"
    assert tasks_named("send_promotion") == 1
    first.refresh_from_db()
    assert first.status == "cancelled" and first.cancelled_by == people[0]


@pytest.mark.django_db
def test_someone_who_cancelled_can_book_again(tom, people):
    event = make_event(organiser=tom, capacity=5)
    services.booking_cancel(booking=book(event, people[0]), by=people[0])
    again = book(event, people[0])
    assert again.status == "confirmed"
    assert Booking.objects.filter(event=event, student=people[0]).count() == 2


@pytest.mark.django_db
def test_cancelling_is_refused_once_the_event_has_started(tom, people):
    event = make_event(organiser=tom, capacity=5)
    booking = book(event, people[0])
    with (
        time_machine.travel(event.starts_at + datetime.timedelta(minutes=5)),
        pytest.raises(ValidationError, match="can be cancelled until it starts"),
    ):
        services.booking_cancel(booking=booking, by=people[0])
    services.booking_cancel(booking=booking, by=people[0])
    with pytest.raises(ValidationError, match="You cancelled this place on "):
        services.booking_cancel(booking=booking, by=people[0])


@pytest.mark.django_db
def test_leaving_the_waiting_list_keeps_the_others_in_order(tom, people):
    event = make_event(organiser=tom, capacity=1)
    book(event, people[0])
    entries = [book(event, s) for s in people[1:4]]
    services.waitlist_leave(entry=entries[0], by=people[1])
    assert statuses(event)["waiting"] == [people[2].email, people[3].email]
    with pytest.raises(ValidationError, match="You left this waiting list on "):
        services.waitlist_leave(entry=entries[0], by=people[1])


@pytest.mark.django_db
def test_leaving_a_place_already_ended_says_what_became_of_it(tom, people):
    """Refused with "This waiting-list place has ended (left the waiting list)", which
    said neither when nor who ended it."""
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=12)
    booking = book(event, people[0])
    removed, declined = book(event, people[1]), book(event, people[2])
    services.waitlist_leave(entry=removed, by=tom)
    services.booking_cancel(booking=booking, by=people[0])  # offered to people[2]
    services.waitlist_leave(entry=declined, by=people[2])
    removed.refresh_from_db()
    declined.refresh_from_db()
    took_off, declined_on = (selectors.when_text(e.ended_at) for e in (removed, declined))
    said = {
        (removed, True): f"The staff who run the event took you off this waiting list on "
        f"{took_off}.",
        (removed, False): f"{people[1]} was taken off this waiting list on {took_off}.",
        (declined, True): "You declined the place offered to you from this waiting list on "
        f"{declined_on}.",
    }
    for (entry, own), text in said.items():
        assert selectors.leave_refusal(entry, own=own) == text
        by = entry.student if own else tom
        with pytest.raises(ValidationError) as refused:
            services.waitlist_leave(entry=entry, by=by)
        assert refused.value.messages == [text]


@pytest.mark.django_db
def test_erasure_giving_up_a_place_taken_up_meanwhile_is_refused_and_so_run_again(tom, people):
    """Read as queued, then the offer accepted before the erasure reached it: giving it up
    as nothing would leave the erased login with a place at an event to come."""
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=12)
    booking = book(event, people[0])
    entry = book(event, people[1])
    services.booking_cancel(booking=booking, by=people[0])  # offered to people[1]
    entry.refresh_from_db()
    services.offer_accept(entry=entry, by=people[1])
    with pytest.raises(ValidationError):
        services.waitlist_leave(entry=entry, by=tom, notify=False, erasing=True)
    # One that ended otherwise meanwhile leaves nothing to give up.
    left = book(event, people[2])
    services.waitlist_leave(entry=left, by=people[2])
    assert services.waitlist_leave(entry=left, by=tom, notify=False, erasing=True) == []


@pytest.mark.django_db
def test_once_the_event_starts_its_waiting_list_is_left_by_nobody_but_erasure(
    tom, people, persona, caplog
):
    """The rule was the leave page's only: another way in (the API) would have let a place
    in a closed queue be given up, and a refusal said nothing of why."""
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase

    event = make_event(organiser=tom, capacity=1)
    book(event, people[0])
    entry, other = book(event, people[1]), book(event, people[2])
    with (
        time_machine.travel(event.starts_at + datetime.timedelta(minutes=5)),
        caplog.at_level("INFO", logger="mycareer.bookings.services"),
    ):
        for by in (people[1], tom):
            with pytest.raises(ValidationError) as refused:
                services.waitlist_leave(entry=entry, by=by)
            assert refused.value.messages == [selectors.WAITLIST_CLOSED]
        assert selectors.leave_refusal(entry, own=True, now=timezone.now()) == (
            selectors.WAITLIST_CLOSED
        )
        personal_data_erase(subject=subject_from_ids([people[2].pk], []), by=persona("admin"))
    assert [r for r in caplog.records if "bookings.refused" in r.getMessage()]
    entry.refresh_from_db()
    other.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
    assert other.status == WaitlistEntry.Status.LEFT
    # Without `now` (as erasure asks), a place still queued may be given up.
    assert selectors.leave_refusal(entry, own=True) is None


# Offer mode ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_offer_mode_offers_a_freed_place_which_the_person_accepts(
    tom, people, django_capture_on_commit_callbacks
):
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=12)
    first = book(event, people[0])
    entry = book(event, people[1])
    book(event, people[2])
    with django_capture_on_commit_callbacks(execute=True):
        before = timezone.now()
        services.booking_cancel(booking=first, by=people[0])
    entry.refresh_from_db()
    assert entry.status == "offered"
    assert before + datetime.timedelta(hours=12) <= entry.offer_expires_at
    assert tasks_named("send_offer") == 1
    # The offer holds the place: a newcomer joins the queue behind the others.
    assert isinstance(book(event, people[3]), WaitlistEntry)
    booking = services.offer_accept(entry=entry, by=people[1])
    assert booking.status == "confirmed" and booking.source == "waiting_list"
    assert statuses(event) == {
        "booked": [people[1].email],
        "waiting": [people[2].email, people[3].email],
        "offered": [],
    }


@pytest.mark.django_db
def test_an_offer_not_taken_up_passes_to_the_next_person(tom, people):
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=2)
    first = book(event, people[0])
    entry = book(event, people[1])
    book(event, people[2])
    services.booking_cancel(booking=first, by=people[0])
    assert services.offers_expire() == 0
    later = timezone.now() + datetime.timedelta(hours=3)
    assert services.offers_expire(now=later) == 1
    entry.refresh_from_db()
    assert entry.status == "expired"
    assert statuses(event)["offered"] == [people[2].email]
    with (
        time_machine.travel(later),
        pytest.raises(ValidationError, match="passed to the next person"),
    ):
        services.offer_accept(entry=entry, by=people[1])


@pytest.mark.django_db
def test_an_expired_offer_cannot_be_accepted_even_before_the_periodic_job_runs(tom, people):
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=1)
    first = book(event, people[0])
    entry = book(event, people[1])
    services.booking_cancel(booking=first, by=people[0])
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=2)),
        pytest.raises(ValidationError, match="offer ended"),
    ):
        services.offer_accept(entry=entry, by=people[1])
    assert not Booking.objects.filter(event=event, status="confirmed").exists()


def _offered(tom, people, *, waiting: int):
    """people[1] offered the one place, with `waiting` people behind them."""
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=1)
    first = book(event, people[0])
    entry = book(event, people[1])
    for student in people[2 : 2 + waiting]:
        book(event, student)
    services.booking_cancel(booking=first, by=people[0])
    entry.refresh_from_db()
    assert entry.status == "offered"
    return event, entry


def _expiry_emails() -> list[list]:
    return [
        task.args_kwargs["args"]
        for task in DBTaskResult.objects.filter(task_path__endswith="send_offer_expired")
    ]


@pytest.mark.django_db
def test_an_offer_that_runs_out_emails_its_student_once_and_one_taken_back_does_not(
    tom, people, django_capture_on_commit_callbacks, mailoutbox
):
    """The student was off the waiting list and never told: they waited for a place that
    had gone to the next person."""
    from mycareer.bookings import tasks

    event, entry = _offered(tom, people, waiting=1)
    later = entry.offer_expires_at + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.offers_expire(now=later) == 1
        assert services.offers_expire(now=later) == 0  # the job again: nothing new
    assert _expiry_emails() == [[entry.pk]]
    assert tasks.send_offer_expired.call(entry.pk) == 1
    assert tasks.send_offer_expired.call(entry.pk) == 0  # a retried task
    [email] = mailoutbox
    assert email.to == [people[1].email] and email.reply_to == [tom.email]
    assert email.subject.endswith(f"The place offered to you has gone: {event.title}")
    assert "the offer has ended and you are no longer on its waiting list" in email.body
    assert "the place passed to the next person waiting" in email.body
    assert "you can join the waiting list again on the event's page" in email.body
    assert reverse("bookings:event", args=[event.pk]) in email.body

    # Taken back from a student restricted from booking: they keep their turn, and the
    # restriction's own email says so; no word of an expiry.
    next_one = WaitlistEntry.objects.get(event=event, student=people[2])
    assert next_one.status == "offered"
    _restrict(people[2])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.restricted_offers_end(now=later) == 1
    assert _expiry_emails() == [[entry.pk]]
    assert tasks.send_offer_expired.call(next_one.pk) == 0


@pytest.mark.django_db
def test_an_offer_accepted_too_late_stays_closed_and_the_place_is_free_again(tom, people, caplog):
    """Before the periodic job ran, with nobody else waiting: the refusal does not say the
    place passed on, and the offer stays closed although the refusal undoes the rest."""
    event, entry = _offered(tom, people, waiting=0)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=2)),
        caplog.at_level("INFO", logger="mycareer.bookings.services"),
        pytest.raises(ValidationError) as refused,
    ):
        services.offer_accept(entry=entry, by=people[1])
    [text] = refused.value.messages
    assert "passed to the next person" not in text
    assert "Nobody else was waiting, so the place is free again: you can book it" in text
    entry.refresh_from_db()
    assert entry.status == "expired"
    [line] = [r.getMessage() for r in caplog.records if "bookings.refused" in r.getMessage()]
    assert f"entry_id={entry.pk}" in line and "action=accept_offer" in line


@pytest.mark.django_db
def test_an_offer_declined_after_its_time_ran_out_is_told_so_and_was_not_declined(tom, people):
    """Before the periodic job ran, leaving recorded an offer that had run out as declined
    (left) by the student, though nobody had it to decline any more."""
    event, entry = _offered(tom, people, waiting=1)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=2)),
        pytest.raises(ValidationError) as refused,
    ):
        services.waitlist_leave(entry=entry, by=people[1])
    [text] = refused.value.messages
    assert text.startswith("The place you were offered from this waiting list was not taken up")
    entry.refresh_from_db()
    assert entry.status == "expired"
    assert statuses(event)["offered"] == [people[2].email]


@pytest.mark.django_db
def test_erasing_a_student_whose_offer_ran_out_gives_up_nothing_more(tom, people, persona):
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase

    event, entry = _offered(tom, people, waiting=1)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        personal_data_erase(subject=subject_from_ids([people[1].pk], []), by=persona("admin"))
    entry.refresh_from_db()
    assert entry.status == "expired"
    assert statuses(event)["offered"] == [people[2].email]


@pytest.mark.django_db
def test_an_offer_accepted_too_late_passes_the_place_to_the_next_person_at_once(tom, people):
    event, entry = _offered(tom, people, waiting=1)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=2)),
        pytest.raises(ValidationError, match="the place passed to the next person waiting"),
    ):
        services.offer_accept(entry=entry, by=people[1])
    entry.refresh_from_db()
    assert entry.status == "expired"
    assert statuses(event)["offered"] == [people[2].email]


@pytest.mark.django_db
def test_a_booking_after_an_offer_ran_out_passes_the_place_on_first(tom, people):
    """The booking settles the queue before it counts: the lapsed offer goes to the next
    person waiting, not to whoever books first, and the lapsed person may book again."""
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=1)
    first = book(event, people[0])
    lapsed = book(event, people[1])
    book(event, people[2])
    services.booking_cancel(booking=first, by=people[0])
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert isinstance(book(event, people[3]), WaitlistEntry)
        again = book(event, people[1])
    lapsed.refresh_from_db()
    assert lapsed.status == "expired"
    assert statuses(event) == {
        "booked": [],
        "waiting": [people[3].email, people[1].email],
        "offered": [people[2].email],
    }
    assert selectors.waitlist_position(again) == 2
    offered = AuditEntry.objects.get(action="bookings.waitlist.offered", person=people[2])
    assert offered.actor is None


@pytest.mark.django_db
def test_a_booking_gives_places_left_free_to_those_waiting_before_its_own(tom, people):
    """Should places be free while people wait (a change made outside the recipe), the
    next booking gives them to the queue first."""
    event = make_event(organiser=tom, capacity=1)
    book(event, people[0])
    book(event, people[1])
    BookingSettings.objects.filter(pk=event.pk).update(capacity=2)
    assert isinstance(book(event, people[2]), WaitlistEntry)
    assert statuses(event)["booked"] == [people[0].email, people[1].email]


@pytest.mark.django_db
def test_a_booking_asks_the_database_the_same_few_questions_however_full_the_event(
    tom, people, django_assert_max_num_queries
):
    event = make_event(organiser=tom, capacity=3)
    with django_assert_max_num_queries(11):
        book(event, people[0])
    for student in people[1:4]:
        book(event, student)
    with django_assert_max_num_queries(11):
        assert isinstance(book(event, people[4]), WaitlistEntry)


@pytest.mark.django_db
def test_declining_an_offer_passes_it_on(tom, people):
    event = make_event(organiser=tom, capacity=1, promotion=OFFER)
    first = book(event, people[0])
    entry = book(event, people[1])
    book(event, people[2])
    services.booking_cancel(booking=first, by=people[0])
    services.waitlist_leave(entry=WaitlistEntry.objects.get(pk=entry.pk), by=people[1])
    assert statuses(event)["offered"] == [people[2].email]


@pytest.mark.django_db
def test_an_offer_never_runs_past_the_start_of_the_event(tom, people):
    event = make_event(
        organiser=tom,
        capacity=1,
        promotion=OFFER,
        offer_hours=48,
        starts_in=datetime.timedelta(hours=5),
    )
    first = book(event, people[0])
    entry = book(event, people[1])
    services.booking_cancel(booking=first, by=people[0])
    entry.refresh_from_db()
    assert entry.offer_expires_at == event.starts_at


@pytest.mark.django_db
def test_an_open_offer_ends_by_the_new_start_when_the_event_moves_earlier(tom, people):
    event = make_event(
        organiser=tom,
        capacity=1,
        promotion=OFFER,
        offer_hours=48,
        starts_in=datetime.timedelta(days=4),
    )
    first = book(event, people[0])
    entry = book(event, people[1])
    services.booking_cancel(booking=first, by=people[0])
    entry.refresh_from_db()
    offered_until = entry.offer_expires_at
    starts = timezone.now() + datetime.timedelta(hours=6)
    event_services.event_update(
        event=event, by=tom, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )
    entry.refresh_from_db()
    # The offer said "accept by" a moment after the event; it now ends when the event starts.
    assert offered_until > starts
    assert entry.status == "offered" and entry.offer_expires_at == starts
    assert AuditEntry.objects.filter(action="bookings.waitlist.offer_shortened").count() == 1
    # The email telling of the change says until when the place is theirs.
    assert selectors.people_at(event) == [
        (people[1], f"a place offered to you until {selectors.when_text(starts)}")
    ]
    # Moving it later again leaves the deadline stated (no offer is lengthened unasked).
    later = starts + datetime.timedelta(days=1)
    event_services.event_update(
        event=event, by=tom, starts_at=later, ends_at=later + datetime.timedelta(hours=1)
    )
    entry.refresh_from_db()
    assert entry.offer_expires_at == starts


# Capacity ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_raising_the_capacity_books_people_from_the_waiting_list_at_once(tom, people):
    event = make_event(organiser=tom, capacity=1)
    for student in people[:4]:
        book(event, student)
    promoted = services.capacity_change(event=event, capacity=3, by=tom)
    assert [b.student for b in promoted] == people[1:3]
    assert statuses(event)["waiting"] == [people[3].email]
    audit = AuditEntry.objects.filter(
        action="bookings.settings.changed", object_id=str(event.pk)
    ).first()  # newest first
    assert audit.data["changed"]["capacity"] == [1, 3]


@pytest.mark.django_db
def test_raising_the_capacity_saves_nothing_until_the_number_given_places_is_confirmed(
    tom, people, django_capture_on_commit_callbacks
):
    event = make_event(organiser=tom, capacity=1)
    for student in people[:4]:
        book(event, student)
    changes = AuditEntry.objects.filter(action="bookings.settings.changed").count()
    for agreed in (0, 3):  # nothing agreed yet; a number that is not the one now
        with (
            django_capture_on_commit_callbacks(execute=True) as emails,
            pytest.raises(services.PlacesToConfirm) as asking,
        ):
            services.booking_settings_update(
                event=event, by=tom, capacity=3, confirmed_moves=agreed
            )
        assert asking.value.count == 2 and emails == []
        assert asking.value.sentence == (
            "2 people on the waiting list will be given places and emailed."
        )
        assert BookingSettings.objects.get(event=event).capacity == 1
        assert len(statuses(event)["waiting"]) == 3
        assert AuditEntry.objects.filter(action="bookings.settings.changed").count() == changes
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.booking_settings_update(
            event=event, by=tom, capacity=3, confirmed_moves=2
        ).moved
    assert [b.student for b in moved] == people[1:3]
    assert tasks_named("send_promotion") == 2
    # A change that gives nobody a place needs no confirmation.
    services.booking_settings_update(event=event, by=tom, capacity=2, confirmed_moves=0)
    assert BookingSettings.objects.get(event=event).capacity == 2


@pytest.mark.django_db
def test_settings_given_with_a_new_event_are_recorded_as_set_not_changed(tom):
    event = make_event(organiser=tom)
    services.booking_settings_update(event=event, by=tom, capacity=30, with_new_event=True)
    actions = AuditEntry.objects.filter(object_id=str(event.pk), action__startswith="bookings.")
    assert [(a.action, a.data) for a in actions] == [
        ("bookings.settings.set", {"set": {"capacity": 30}})
    ]


@pytest.mark.django_db
def test_the_confirmation_says_when_places_are_offered_rather_than_given(tom, people):
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=12)
    for student in people[:3]:
        book(event, student)
    with pytest.raises(services.PlacesToConfirm) as asking:
        services.booking_settings_update(event=event, by=tom, capacity=2, confirmed_moves=0)
    assert asking.value.sentence == (
        "1 person on the waiting list will be offered a place and emailed."
    )


@pytest.mark.django_db
def test_lowering_the_capacity_never_takes_a_place_from_anyone(tom, people):
    event = make_event(organiser=tom, capacity=4)
    for student in people[:4]:
        book(event, student)
    services.capacity_change(event=event, capacity=2, by=tom)
    assert len(statuses(event)["booked"]) == 4
    assert isinstance(book(event, people[4]), WaitlistEntry)
    # Two must cancel before the waiting list moves.
    services.booking_cancel(booking=Booking.objects.get(student=people[0], event=event), by=tom)
    assert statuses(event)["waiting"] == [people[4].email]
    services.booking_cancel(booking=Booking.objects.get(student=people[1], event=event), by=tom)
    services.booking_cancel(booking=Booking.objects.get(student=people[2], event=event), by=tom)
    assert people[4].email in statuses(event)["booked"]


@pytest.mark.django_db
def test_removing_the_limit_books_everyone_waiting(tom, people):
    event = make_event(organiser=tom, capacity=1)
    for student in people[:4]:
        book(event, student)
    services.capacity_change(event=event, capacity=None, by=tom)
    assert len(statuses(event)["booked"]) == 4 and statuses(event)["waiting"] == []


@pytest.mark.django_db
def test_settings_are_checked(tom):
    event = make_event(organiser=tom)
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        services.booking_settings_update(
            event=event, by=tom, opens_at=now, closes_at=now - datetime.timedelta(hours=1)
        )
    assert "closes_at" in error.value.error_dict
    with pytest.raises(ValidationError):
        services.booking_settings_update(event=event, by=tom, offer_hours=0)
    with pytest.raises(TypeError):
        services.booking_settings_update(event=event, by=tom, colour="red")


@pytest.mark.django_db
def test_booking_must_open_before_the_event_starts(tom):
    """Opening after the start, booking would never open: it closes when the event starts."""
    event = make_event(organiser=tom, opens_at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(ValidationError) as error:
        services.booking_settings_update(event=event, by=tom, opens_at=event.starts_at)
    assert "Booking must open before the event starts" in error.value.message_dict["opens_at"][0]
    # Moved to start before booking opens, the event's unchanged settings are refused too.
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() + datetime.timedelta(hours=12),
        ends_at=timezone.now() + datetime.timedelta(hours=13),
    )
    with pytest.raises(ValidationError, match="Booking must open before the event starts"):
        services.booking_settings_update(event=event, by=tom)
    services.booking_settings_update(event=event, by=tom, opens_at=None)


@pytest.mark.django_db
def test_an_event_is_not_moved_to_start_before_its_booking_opens(tom):
    """The API and the free-slot page move an event without the event form's places part,
    which is where the opening was checked: a move there left booking never to open."""
    from mycareer.events import services as event_services

    opens = timezone.now() + datetime.timedelta(days=3)
    event = make_event(organiser=tom, opens_at=opens, starts_in=datetime.timedelta(days=10))
    start = opens - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        event_services.event_update(
            event=event, by=tom, starts_at=start, ends_at=start + datetime.timedelta(hours=1)
        )
    assert error.value.message_dict["starts_at"][0].startswith("Booking opens on ")
    event.refresh_from_db()
    assert event.starts_at > opens  # not moved
    # The event form saves its places part next, with its own new opening: not refused here.
    event_services.event_update(
        event=event,
        by=tom,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        form_parts_follow=True,
    )
    # Later than the opening, it moves.
    later = opens + datetime.timedelta(days=1)
    event_services.event_update(
        event=event, by=tom, starts_at=later, ends_at=later + datetime.timedelta(hours=1)
    )
    event.refresh_from_db()
    assert event.starts_at == later


# Who may book, and when ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_booking_window_is_enforced_with_its_dates(tom, people):
    now = timezone.now()
    event = make_event(
        organiser=tom,
        opens_at=now + datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=3),
    )
    with pytest.raises(ValidationError, match="Booking opens on"):
        book(event, people[0])
    with time_machine.travel(now + datetime.timedelta(days=2)):
        assert isinstance(book(event, people[0]), Booking)
    with (
        time_machine.travel(now + datetime.timedelta(days=4)),
        pytest.raises(ValidationError, match="Booking closed on"),
    ):
        book(event, people[1])


@pytest.mark.django_db
def test_drafts_cancelled_and_started_events_take_no_bookings(tom, people):
    event = make_event(organiser=tom)
    with (
        time_machine.travel(event.starts_at + datetime.timedelta(minutes=1)),
        pytest.raises(ValidationError, match="has started"),
    ):
        book(event, people[0])
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    event.refresh_from_db()
    with pytest.raises(ValidationError):
        book(event, people[0])
    Event.objects.filter(pk=event.pk).update(status=Event.Status.PUBLISHED)
    event.refresh_from_db()
    event_services.event_cancel(event=event, by=tom, reason="Speaker ill")
    event.refresh_from_db()
    with pytest.raises(ValidationError, match="cancelled"):
        book(event, people[0])


@pytest.mark.django_db
def test_only_students_in_the_audience_may_book(tom, persona, cast):
    event = make_event(organiser=tom, open_to_all=False)
    event.audience.units.add(cast["units"]["mech"])
    event.audience.years = "3"
    event.audience.save()
    assert isinstance(book(event, persona("student")), Booking)  # MEng Mechanical, year 3
    with pytest.raises(ValidationError, match="not open to students of your school"):
        book(event, persona("student2"))  # Computer Science
    first_years = make_students(1, year=1)[0]
    with pytest.raises(ValidationError, match="not open"):
        book(event, first_years)
    for name in ("operator", "employer@demo-employer.com"):
        with pytest.raises(ValidationError, match="Only students"):
            book(event, persona(name))


@pytest.mark.django_db
def test_staff_book_a_student_in_outside_window_and_audience_but_within_capacity(
    tom, persona, people
):
    now = timezone.now()
    event = make_event(
        organiser=tom,
        capacity=1,
        open_to_all=False,
        opens_at=now + datetime.timedelta(days=1),
    )
    booking = services.staff_book_student(event=event, student=persona("student2"), by=tom)
    assert booking.source == "staff" and booking.booked_by == tom
    assert isinstance(
        services.staff_book_student(event=event, student=people[0], by=tom), WaitlistEntry
    )
    with pytest.raises(ValidationError, match="not a student"):
        services.staff_book_student(event=event, student=persona("viewer"), by=tom)


@pytest.mark.django_db
def test_once_the_event_has_started_staff_check_a_student_in_rather_than_book_them(
    tom, people, client, caplog
):
    """A booking after the start took a free place ahead of the waiting list and emailed
    the student to come to an event already under way."""
    event = make_event(organiser=tom, capacity=1, starts_in=-datetime.timedelta(minutes=10))
    with (
        caplog.at_level("INFO", logger="mycareer.bookings.services"),
        pytest.raises(ValidationError, match="check a student who came in as a walk-in"),
    ):
        services.staff_book_student(event=event, student=people[0], by=tom)
    assert "bookings.refused" in caplog.text and "action=staff_book" in caplog.text
    assert not Booking.objects.filter(event=event).exists()
    client.force_login(tom)
    page = client.get(reverse("bookings:manage", args=[event.pk])).content.decode()
    assert "Book them in" not in page
    assert reverse("bookings:check_in", args=[event.pk]) in page


@pytest.mark.django_db
def test_nobody_joins_the_waiting_list_once_the_event_has_started(tom, people):
    """Places stop passing to the queue at the start: an entry made later waits for nothing."""
    event = make_event(organiser=tom, capacity=1, starts_in=datetime.timedelta(hours=1))
    book(event, people[0])
    with time_machine.travel(event.starts_at + datetime.timedelta(minutes=10)):
        with pytest.raises(ValidationError, match="booking has closed"):
            book(event, people[1])
        with pytest.raises(ValidationError, match="check a student who came in as a walk-in"):
            services.staff_book_student(event=event, student=people[1], by=tom)
    with time_machine.travel(event.ends_at + datetime.timedelta(days=1)):
        with pytest.raises(ValidationError, match="booking has closed"):
            book(event, people[1])
        with pytest.raises(ValidationError, match="The event is over"):
            services.staff_book_student(event=event, student=people[1], by=tom)
    assert not WaitlistEntry.objects.filter(event=event).exists()


# Moving --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_move_a_booking_and_the_old_place_passes_on(tom, people):
    here = make_event(organiser=tom, capacity=1)
    there = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=20))
    booking = book(here, people[0])
    book(here, people[1])
    moved = services.staff_move(booking=booking, to_event=there, by=tom)
    assert moved.event == there and moved.source == "moved"
    assert statuses(here)["booked"] == [people[1].email]
    assert AuditEntry.objects.filter(
        action="bookings.booking.moved", object_id=str(booking.pk)
    ).exists()


@pytest.mark.django_db
def test_a_move_to_a_full_event_without_a_waiting_list_changes_nothing(tom, people):
    here = make_event(organiser=tom, capacity=5)
    there = make_event(organiser=tom, capacity=1, waiting_list=False)
    book(there, people[1])
    booking = book(here, people[0])
    with pytest.raises(ValidationError, match="full"):
        services.staff_move(booking=booking, to_event=there, by=tom)
    booking.refresh_from_db()
    assert booking.status == "confirmed"


@pytest.mark.django_db
def test_a_move_that_loses_a_place_changes_nothing_until_its_number_is_confirmed(
    tom, people, django_capture_on_commit_callbacks
):
    """A place moved to a full event's waiting list is lost: before, it went without a word."""
    here = make_event(organiser=tom, capacity=5, title="CV clinic")
    there = make_event(organiser=tom, capacity=1, title="Mock interviews")
    book(there, people[1])
    book(there, people[2])  # number 1 on its waiting list
    booking = book(here, people[0])
    for agreed in (None, 1):  # nothing agreed yet; a number that is not the one now
        with (
            django_capture_on_commit_callbacks(execute=True) as emails,
            pytest.raises(services.PlaceToLose) as asking,
        ):
            services.staff_move(booking=booking, to_event=there, by=tom, confirmed_position=agreed)
        assert asking.value.position == 2 and emails == []
        # Moves are mostly between sessions of one title: each is named with its time.
        assert asking.value.message == (
            f"{selectors.event_text(there)} is full: moved there, {people[0]} goes on its "
            f"waiting list at number 2 and loses their place at {selectors.event_text(here)}."
        )
        booking.refresh_from_db()
        assert booking.status == "confirmed"
        assert statuses(there)["waiting"] == [people[2].email]
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.staff_move(booking=booking, to_event=there, by=tom, confirmed_position=2)
    assert isinstance(moved, WaitlistEntry) and selectors.waitlist_position(moved) == 2
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    # Moving to a free place asks nothing.
    services.staff_move(entry=moved, to_event=here, by=tom)
    assert Booking.objects.filter(event=here, student=people[0], status="confirmed").exists()


@pytest.mark.django_db
def test_staff_move_a_waiting_list_place(tom, people):
    here = make_event(organiser=tom, capacity=1)
    there = make_event(organiser=tom, capacity=1)
    book(here, people[0])
    entry = book(here, people[1])
    moved = services.staff_move(entry=entry, to_event=there, by=tom)
    assert isinstance(moved, Booking) and moved.event == there
    entry.refresh_from_db()
    assert entry.status == "left"


@pytest.mark.django_db
def test_moving_an_offer_that_ran_out_is_refused_and_its_place_passes_on(tom, people):
    """Before the periodic job ran, the move recorded an offer past its time as moved,
    not as expired: the person got a place elsewhere on the strength of an offer they no
    longer had. Refused as leaving it is, and the offer stays ended."""
    event, entry = _offered(tom, people, waiting=1)
    there = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=20))
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        with pytest.raises(ValidationError) as refused:
            services.staff_move(entry=entry, to_event=there, by=tom)
        entry.refresh_from_db()
        assert refused.value.messages == [selectors.leave_refusal(entry, own=False)]
    assert refused.value.messages[0].startswith(f"{people[1]} did not take up the place")
    assert entry.status == "expired"
    assert statuses(event)["offered"] == [people[2].email]
    assert not Booking.objects.filter(event=there).exists()
    assert not AuditEntry.objects.filter(action="bookings.waitlist.moved").exists()


@pytest.mark.django_db
def test_staff_may_move_people_off_a_started_events_waiting_list(tom, people):
    """Leaving a started event's list is refused (nobody on it gets a place now), but
    staff may still move who waits to another session."""
    here = make_event(organiser=tom, capacity=1, starts_in=datetime.timedelta(hours=1))
    repeat = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=7))
    book(here, people[0])
    entry = book(here, people[1])
    with time_machine.travel(here.starts_at + datetime.timedelta(minutes=5)):
        moved = services.staff_move(entry=entry, to_event=repeat, by=tom)
    assert isinstance(moved, Booking) and moved.event == repeat
    entry.refresh_from_db()
    assert entry.status == "left"
    with pytest.raises(ValidationError) as refused:
        services.staff_move(entry=entry, to_event=repeat, by=tom)
    assert refused.value.messages == [selectors.leave_refusal(entry, own=False)]


# At the door ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_checking_in_twice_changes_nothing(tom, people):
    event = make_event(organiser=tom, starts_in=datetime.timedelta(hours=1))
    booking = book(event, people[0])
    first, changed = services.check_in(booking=booking, by=tom)
    assert changed and first.status == "attended" and first.checked_in_by == tom
    again, changed = services.check_in(booking=booking, by=tom)
    assert not changed and again.checked_in_at == first.checked_in_at
    assert (
        AuditEntry.objects.filter(
            action="bookings.booking.checked_in", object_id=str(booking.pk)
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_check_in_opens_two_hours_before_the_start_and_refuses_cancelled_bookings(tom, people):
    event = make_event(organiser=tom, starts_in=datetime.timedelta(days=3))
    booking, other = book(event, people[0]), book(event, people[1])
    # 02:34 for a 10:00 event: seven hours and 26 minutes before.
    with (
        time_machine.travel(event.starts_at - datetime.timedelta(hours=7, minutes=26)),
        pytest.raises(
            ValidationError, match="Check-in opens on .*, 2 hours before the event starts"
        ),
    ):
        services.check_in(booking=booking, by=tom)
    with (
        time_machine.travel(event.starts_at - datetime.timedelta(hours=2, seconds=1)),
        pytest.raises(ValidationError, match="Check-in opens on"),
    ):
        services.walk_in(event=event, student=people[2], by=tom)
    booking.refresh_from_db()
    assert booking.status == "confirmed" and booking.checked_in_at is None
    panel = selectors.booking_panel(event, people[0])
    assert panel.booking.status == "confirmed"  # not "You attended this event"
    with time_machine.travel(event.starts_at - datetime.timedelta(hours=2)):
        assert services.check_in(booking=booking, by=tom)[1]
    services.booking_cancel(booking=other, by=people[1])
    with (
        time_machine.travel(event.starts_at),
        pytest.raises(ValidationError, match="was cancelled"),
    ):
        services.check_in(booking=other, by=tom)


@pytest.mark.django_db
def test_the_code_of_a_place_given_up_checks_in_the_place_booked_again(tom, people):
    """At the door a student shows the first confirmation they find in their email."""
    event = make_event(organiser=tom, starts_in=datetime.timedelta(days=3))
    first = book(event, people[0])
    services.booking_cancel(booking=first, by=people[0])
    again = book(event, people[0])
    with time_machine.travel(event.starts_at):
        booking, changed = services.check_in(booking=first, by=tom)
        assert changed and booking.pk == again.pk and booking.status == "attended"
        assert services.check_in(booking=first, by=tom) == (booking, False)
    first.refresh_from_db()
    assert first.status == "cancelled" and first.checked_in_at is None
    # Without a place now, the old code still checks nobody in.
    services.booking_cancel(booking=book(event, people[1]), by=people[1])
    late = Booking.objects.get(event=event, student=people[1])
    with time_machine.travel(event.starts_at), pytest.raises(ValidationError, match="cancelled"):
        services.check_in(booking=late, by=tom)


@pytest.mark.django_db
def test_a_check_in_for_an_event_moved_to_a_later_day_is_undone(tom, people):
    """Checked in early, then the event is put off a week: they have not come to it yet."""
    event = make_event(organiser=tom, capacity=2, starts_in=datetime.timedelta(hours=1))
    early, other = book(event, people[0]), book(event, people[1])
    services.check_in(booking=early, by=tom)
    services.check_in(booking=other, by=tom)
    # Put back half an hour at the door: check-in is still open, who arrived stays arrived.
    later = event.starts_at + datetime.timedelta(minutes=30)
    event_services.event_update(
        event=event, by=tom, starts_at=later, ends_at=later + datetime.timedelta(hours=1)
    )
    early.refresh_from_db()
    assert early.status == "attended"
    next_week = event.starts_at + datetime.timedelta(days=7)
    event_services.event_update(
        event=event, by=tom, starts_at=next_week, ends_at=next_week + datetime.timedelta(hours=1)
    )
    for booking in (early, other):
        booking.refresh_from_db()
        assert booking.status == "confirmed" and booking.checked_in_at is None
        assert booking.checked_in_by is None
    assert AuditEntry.objects.filter(action="bookings.booking.check_in_undone").count() == 2
    assert selectors.counts_for(event).remaining == 0  # their places are still theirs


@pytest.mark.django_db
def test_when_check_in_opens_is_a_setting(tom, people, settings):
    settings.MYCAREER = {**settings.MYCAREER, "CHECK_IN_OPENS_MINUTES": 30}
    event = make_event(organiser=tom, starts_in=datetime.timedelta(days=3))
    booking = book(event, people[0])
    with (
        time_machine.travel(event.starts_at - datetime.timedelta(minutes=31)),
        pytest.raises(ValidationError, match="30 minutes before the event starts"),
    ):
        services.check_in(booking=booking, by=tom)
    with time_machine.travel(event.starts_at - datetime.timedelta(minutes=30)):
        assert services.check_in(booking=booking, by=tom)[1]


@pytest.mark.django_db
def test_walk_ins_take_free_places_only(tom, people):
    event = make_event(organiser=tom, capacity=2, starts_in=datetime.timedelta(hours=1))
    booked = book(event, people[0])
    walk_in = services.walk_in(event=event, student=people[1], by=tom)
    assert walk_in.status == "attended" and walk_in.is_walk_in
    assert not walk_in.already_checked_in
    with pytest.raises(ValidationError, match="No places left"):
        services.walk_in(event=event, student=people[2], by=tom)
    # Someone booked who walks up is simply checked in, on their booking; the page says
    # which from what comes back.
    first = services.walk_in(event=event, student=people[0], by=tom)
    assert first.pk == booked.pk and not first.is_walk_in and not first.already_checked_in
    again = services.walk_in(event=event, student=people[0], by=tom)
    assert again.pk == booked.pk and again.already_checked_in
    assert services.walk_in(event=event, student=people[1], by=tom).already_checked_in


@pytest.mark.django_db
def test_a_check_in_pressed_by_mistake_is_undone_until_attendance_closes(tom, people):
    """The wrong name pressed at the door: someone booked is booked and not checked in again,
    a walk-in (who never booked) leaves the event and frees the place; a closed record stays."""
    event = make_event(organiser=tom, capacity=2, starts_in=datetime.timedelta(hours=1))
    booking = book(event, people[0])
    services.check_in(booking=booking, by=tom)
    walk_in = services.walk_in(event=event, student=people[1], by=tom)

    undone = services.check_in_undo(booking=booking, by=tom)
    assert (undone.status, undone.checked_in_at, undone.checked_in_by) == ("confirmed", None, None)
    with pytest.raises(ValidationError, match="is not checked in"):
        services.check_in_undo(booking=booking, by=tom)
    gone = services.check_in_undo(booking=walk_in, by=tom)
    assert gone.status == "cancelled" and gone.cancelled_by == tom
    counts = selectors.counts_for(event)
    assert (counts.booked, counts.attended) == (1, 0)
    assert services.walk_in(event=event, student=people[2], by=tom).status == "attended"
    assert AuditEntry.objects.filter(action="bookings.booking.check_in_reversed").count() == 2

    services.check_in(booking=booking, by=tom)
    with time_machine.travel(event.ends_at):
        services.attendance_close(event=event, by=tom)
        with pytest.raises(ValidationError, match="can no longer be undone"):
            services.check_in_undo(booking=booking, by=tom)
    assert Booking.objects.get(pk=booking.pk).status == "attended"


@pytest.mark.django_db
def test_removing_a_walk_in_who_came_with_an_offer_gives_the_offer_back(tom, people):
    """Offered a place, walked in, then removed by mistake: the offer is theirs again and
    still holds the place, rather than passing to the next person waiting."""
    event = make_event(
        organiser=tom, capacity=1, promotion=OFFER, starts_in=datetime.timedelta(hours=1)
    )
    first = book(event, people[0])
    book(event, people[1])
    book(event, people[2])
    services.booking_cancel(booking=first, by=people[0])
    offer = WaitlistEntry.objects.get(event=event, student=people[1])
    assert offer.status == "offered"
    until = offer.offer_expires_at
    walk_in = services.walk_in(event=event, student=people[1], by=tom)
    offer.refresh_from_db()
    assert offer.status == "accepted"
    DBTaskResult.objects.all().delete()

    gone = services.check_in_undo(booking=walk_in, by=tom)

    offer.refresh_from_db()
    assert (offer.status, offer.offer_expires_at, offer.ended_at) == ("offered", until, None)
    assert gone.restored_entry == offer and gone.passed_on == []
    assert statuses(event)["waiting"] == [people[2].email]
    assert tasks_named("send_offer") == 0
    assert AuditEntry.objects.filter(action="bookings.waitlist.restored").count() == 1


@pytest.mark.django_db
def test_removing_a_walk_in_whose_offer_ran_out_meanwhile_gives_back_their_turn(tom, people):
    event = make_event(
        organiser=tom,
        capacity=1,
        promotion=OFFER,
        offer_hours=1,
        starts_in=datetime.timedelta(hours=1, minutes=30),
    )
    first = book(event, people[0])
    book(event, people[1])
    book(event, people[2])
    services.booking_cancel(booking=first, by=people[0])
    walk_in = services.walk_in(event=event, student=people[1], by=tom)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, minutes=10)):
        gone = services.check_in_undo(booking=walk_in, by=tom)
    # Back in the queue at their old turn, which is first: the freed place is offered again.
    entry = WaitlistEntry.objects.get(event=event, student=people[1])
    assert entry.status == "offered" and entry.offer_expires_at == event.starts_at
    assert gone.passed_on == [entry]
    assert statuses(event)["waiting"] == [people[2].email]
    # Said once, not "back on the waiting list" and then "offered to" the same person.
    from mycareer.bookings.views import _undone_text

    assert _undone_text(gone) == (
        f"{people[1]} is removed as a walk-in: they are no longer on the event. They were "
        "first in line for the place, so it is offered to them again; they are emailed."
    )


# After the event -----------------------------------------------------------------------------


@pytest.fixture
def held_event(tom, people):
    """An event that took place: three booked, one checked in."""
    event = make_event(organiser=tom, capacity=10, starts_in=datetime.timedelta(hours=1))
    bookings = [book(event, s) for s in people[:3]]
    services.check_in(booking=bookings[0], by=tom)
    return event


@pytest.mark.django_db
def test_closing_attendance_makes_everyone_not_checked_in_a_no_show(tom, people, held_event):
    # Two weeks before, and during the event: nobody is a no-show yet.
    for moment in (
        held_event.starts_at - datetime.timedelta(weeks=2),
        held_event.ends_at - datetime.timedelta(minutes=1),
    ):
        with (
            time_machine.travel(moment),
            pytest.raises(ValidationError, match="once the event has ended"),
        ):
            services.attendance_close(event=held_event, by=tom)
    assert not Booking.objects.filter(event=held_event, status="no_show").exists()
    with time_machine.travel(held_event.ends_at):
        closing = services.attendance_close(event=held_event, by=tom)
        assert sorted(b.student_id for b in closing.no_shows) == sorted(s.pk for s in people[1:3])
        with pytest.raises(ValidationError, match="already closed"):
            services.attendance_close(event=held_event, by=tom)
        counts = selectors.counts_for(held_event)
        assert (counts.booked, counts.attended, counts.no_shows) == (3, 1, 2)
        # A late correction: a no-show was there after all.
        booking = Booking.objects.get(event=held_event, student=people[1])
        assert services.check_in(booking=booking, by=tom)[1]
    assert not BookingBan.objects.exists()  # the policy is off by default


def _no_show_at(tom, student, *, days_ago: int):
    """A booking at an event `days_ago` days ago that the student did not attend."""
    event = make_event(organiser=tom, starts_in=datetime.timedelta(days=1))
    book(event, student)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(days=days_ago),
        ends_at=timezone.now() - datetime.timedelta(days=days_ago, hours=-1),
    )
    event.refresh_from_db()
    services.attendance_close(event=event, by=tom)
    return event


@pytest.mark.django_db
def test_the_no_show_policy_restricts_booking_tells_why_and_can_be_lifted(
    tom, persona, people, django_capture_on_commit_callbacks
):
    services.noshow_policy_update(
        by=persona("admin"), enabled=True, no_shows=2, window_weeks=12, ban_weeks=4
    )
    student = people[0]
    _no_show_at(tom, student, days_ago=100)  # outside the 12-week window
    _no_show_at(tom, student, days_ago=20)
    assert not BookingBan.objects.filter(student=student).exists()
    with django_capture_on_commit_callbacks(execute=True):
        _no_show_at(tom, student, days_ago=10)
    ban = BookingBan.objects.get(student=student)
    assert ban.no_shows == 2
    assert ban.ends_at - ban.starts_at == datetime.timedelta(weeks=4)
    assert tasks_named("send_ban_notice") == 1
    event = make_event(organiser=tom)
    with pytest.raises(ValidationError) as refused:
        book(event, student)
    assert "You cannot book events until" in str(refused.value)
    assert "did not come or cancel" in str(refused.value)
    with pytest.raises(ValidationError):
        services.booking_ban_lift(ban=ban, by=tom, reason="  ")
    services.booking_ban_lift(ban=ban, by=tom, reason="Ill with a doctor's note")
    assert isinstance(book(event, student), Booking)
    # The same no-shows do not start a new restriction: one more is needed.
    assert (
        services._restriction_due(
            student=student, policy=NoShowPolicy.current(), now=timezone.now()
        )
        is None
    )


def _restrict(student) -> BookingBan:
    """A restriction on booking in force now, as the no-show policy starts one."""
    return BookingBan.objects.create(
        student=student,
        ends_at=timezone.now() + datetime.timedelta(weeks=4),
        reason="You did not come or cancel.",
        no_shows=3,
    )


@pytest.mark.django_db
def test_a_restricted_student_cannot_take_up_an_offered_place(tom, people, caplog):
    """Booking refused them, but the offer made before the restriction started (or an
    offer made after it) still gave them a place, on the page and through the API. Their
    offer, which they can never take up, then held the place empty until its deadline:
    it now ends at once and the place passes to the next person waiting."""
    event, entry = _offered(tom, people, waiting=1)
    ban = _restrict(people[1])
    with (
        caplog.at_level("INFO", logger="mycareer.bookings.services"),
        pytest.raises(ValidationError) as refused,
    ):
        services.offer_accept(entry=entry, by=people[1])
    said = f"{selectors.ban_message(ban)} {selectors.OFFER_TAKEN_BACK}"
    assert refused.value.messages == [said]
    assert [r for r in caplog.records if "action=accept_offer" in r.getMessage()]
    assert not Booking.objects.filter(event=event, student=people[1]).exists()
    # Taken back, the place passes on; they keep their turn, as the restriction's email
    # says waiting-list places do.
    entry.refresh_from_db()
    assert (entry.status, entry.offered_at, entry.offer_expires_at) == ("waiting", None, None)
    assert statuses(event)["offered"] == [people[2].email]
    back = AuditEntry.objects.get(
        action="bookings.waitlist.offer_withdrawn", object_id=str(entry.pk)
    )
    assert back.data["restricted"] == ban.pk
    assert selectors.offer_ended_text(entry) == selectors.OFFER_TAKEN_BACK
    # Lifted (attendance corrected, say), they are next in line again.
    services.booking_ban_lift(ban=ban, by=tom, reason="Ill with a doctor's note")
    other = WaitlistEntry.objects.get(event=event, student=people[2])
    services.waitlist_leave(entry=other, by=people[2])
    entry.refresh_from_db()
    assert entry.status == "offered"


def _overrides(student) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            action="bookings.booking.restriction_overridden", person=student
        ).order_by("pk")
    )


@pytest.mark.django_db
def test_staff_book_a_restricted_student_in_only_when_they_override_it(tom, people, caplog):
    """Booking, offers and promotion refused a restricted student, but staff booking them
    in gave the place silently: it is now a decision, and the audit trail keeps it."""
    event = make_event(organiser=tom, capacity=1)
    ban = _restrict(people[0])
    with (
        caplog.at_level("INFO", logger="mycareer.bookings.services"),
        pytest.raises(services.RestrictedFromBooking) as refused,
    ):
        services.staff_book_student(event=event, student=people[0], by=tom)
    assert refused.value.ban == ban and ban.reason in refused.value.messages[0]
    assert selectors.when_text(ban.ends_at) in refused.value.messages[0]
    assert "reason=restriction_not_overridden" in caplog.text
    assert not Booking.objects.filter(event=event).exists() and not _overrides(people[0])

    booking = services.staff_book_student(
        event=event, student=people[0], by=tom, override_restriction=True
    )
    assert booking.status == "confirmed" and booking.overridden_ban == ban
    [audited] = _overrides(people[0])
    assert audited.actor == tom and audited.object_id == str(booking.pk)
    assert audited.data["restriction"] == ban.pk and audited.data["source"] == "staff"
    assert "bookings.restriction_overridden" in caplog.text
    # A place on the waiting list gives nothing while the restriction lasts (the queue
    # passes them over): no override is asked for.
    _restrict(people[1])
    assert isinstance(
        services.staff_book_student(event=event, student=people[1], by=tom), WaitlistEntry
    )
    # Unrestricted students are booked as before, without a word of restrictions.
    there = make_event(organiser=tom, capacity=5)
    plain = services.staff_book_student(event=there, student=people[2], by=tom)
    assert plain.overridden_ban is None
    assert not _overrides(people[2])


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["booking", "entry"])
def test_staff_move_a_restricted_student_to_a_place_only_when_they_override_it(tom, people, kind):
    here = make_event(organiser=tom, capacity=1)
    there = make_event(organiser=tom, capacity=5, starts_in=datetime.timedelta(days=20))
    if kind == "entry":
        book(here, people[1])  # full: they wait
    placed = book(here, people[0])
    ban = _restrict(people[0])
    which = {"booking": placed} if kind == "booking" else {"entry": placed}
    with pytest.raises(services.RestrictedFromBooking):
        services.staff_move(to_event=there, by=tom, **which)
    assert not Booking.objects.filter(event=there, student=people[0]).exists()
    placed.refresh_from_db()
    assert placed.status == ("confirmed" if kind == "booking" else "waiting")
    moved = services.staff_move(to_event=there, by=tom, override_restriction=True, **which)
    assert isinstance(moved, Booking) and moved.event == there and moved.overridden_ban == ban
    [audited] = _overrides(people[0])
    assert audited.data["source"] == "moved" and audited.object_id == str(moved.pk)


@pytest.mark.django_db
def test_a_restricted_walk_in_is_let_in_and_the_restriction_recorded(tom, people, caplog):
    """The student is in the room: no confirmation, but the trail says a restriction held."""
    event = make_event(organiser=tom, capacity=2, starts_in=datetime.timedelta(hours=1))
    ban = _restrict(people[0])
    with caplog.at_level("INFO", logger="mycareer.bookings.services"):
        booking = services.walk_in(event=event, student=people[0], by=tom)
    assert booking.status == "attended" and booking.overridden_ban == ban
    walked = AuditEntry.objects.get(action="bookings.booking.walk_in", object_id=str(booking.pk))
    assert walked.data["restricted_until"] == ban.ends_at.isoformat()
    [audited] = _overrides(people[0])
    assert audited.data["source"] == "walk_in"
    assert "bookings.restriction_overridden" in caplog.text
    assert services.walk_in(event=event, student=people[1], by=tom).overridden_ban is None
    assert (
        "restricted_until"
        not in AuditEntry.objects.filter(action="bookings.booking.walk_in").latest("pk").data
    )


@pytest.mark.django_db
@pytest.mark.parametrize("promotion", ["automatic", "offer"])
def test_a_place_passes_on_in_the_same_queries_however_long_the_queue(tom, promotion):
    """Who is next in line is read in one query, the restricted passed over within it:
    a queue of 30 with restricted students at its head costs what a queue of 1 does."""

    def give_up_a_place(waiting: int, restricted: int) -> list[str]:
        event = make_event(organiser=tom, capacity=1, promotion=promotion)
        first, *queue = make_students(1 + waiting)
        given_up = book(event, first)
        for student in queue:
            book(event, student)
        for student in queue[:restricted]:
            _restrict(student)
        with CaptureQueriesContext(connection) as captured:
            passed = services.booking_cancel(booking=given_up, by=first)
        assert [p.student for p in passed] == [queue[restricted]]
        return [query["sql"] for query in captured.captured_queries]

    give_up_a_place(1, 0)  # caches filled (content types)
    short = give_up_a_place(1, 0)
    long = give_up_a_place(30, 10)
    assert_no_more_queries(short, long)
    assert len(long) == len(short)


@pytest.mark.django_db
@pytest.mark.parametrize("promotion", ["automatic", "offer"])
def test_places_given_to_many_who_wait_are_read_in_the_same_queries_as_to_one(tom, promotion):
    """Each place given is written (the booking or offer, the entry, the audit), but
    nothing more is read for it: an offer read its event again for the audit, one query
    per person offered a place."""

    def raise_capacity(places: int, restricted: int) -> list[str]:
        event = make_event(organiser=tom, capacity=0, promotion=promotion)
        queue = make_students(restricted + places + 2)
        for student in queue:
            book(event, student)
        for student in queue[:restricted]:
            _restrict(student)
        with CaptureQueriesContext(connection) as captured:
            services.capacity_change(event=event, capacity=places, by=tom)
        assert len(statuses(event)["booked"] + statuses(event)["offered"]) == places
        return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]

    raise_capacity(1, 0)  # caches filled (content types)
    one = raise_capacity(1, 0)
    assert_no_more_queries(one, raise_capacity(5, 0))
    assert_no_more_queries(one, raise_capacity(5, 10))


@pytest.mark.django_db
def test_offers_that_ran_out_pass_on_in_the_same_reads_however_many(tom):
    """Each offer closed read its event again for the audit, as each offer made did."""

    def run_out(offers: int) -> list[str]:
        event = make_event(organiser=tom, capacity=0, promotion=OFFER, offer_hours=1)
        for student in make_students(2 * offers):
            book(event, student)
        services.capacity_change(event=event, capacity=offers, by=tom)
        later = timezone.now() + datetime.timedelta(hours=2)
        with CaptureQueriesContext(connection) as captured:
            assert services.offers_expire(now=later, event_ids=[event.pk]) == offers
        return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]

    run_out(1)  # caches filled (content types)
    assert_no_more_queries(run_out(1), run_out(5))


@pytest.mark.django_db
def test_an_offer_outlasting_the_restriction_stays_open_for_the_student(tom, people):
    """A restriction that ends before the offer's deadline leaves the offer theirs: they
    can take it up once it ends, so the place is not passed on."""
    event, entry = _offered(tom, people, waiting=1)
    ban = _restrict(people[1])
    ban.ends_at = entry.offer_expires_at - datetime.timedelta(minutes=10)
    ban.save(update_fields=["ends_at"])
    with pytest.raises(ValidationError) as refused:
        services.offer_accept(entry=entry, by=people[1])
    assert refused.value.messages == [selectors.ban_message(ban)]
    entry.refresh_from_db()
    assert entry.status == "offered" and statuses(event)["waiting"] == [people[2].email]
    with time_machine.travel(ban.ends_at + datetime.timedelta(minutes=1)):
        assert services.offer_accept(entry=entry, by=people[1]).status == "confirmed"


@pytest.mark.django_db
def test_a_restricted_students_offer_with_nobody_behind_frees_the_place(tom, people):
    event, entry = _offered(tom, people, waiting=0)
    _restrict(people[1])
    with pytest.raises(ValidationError):
        services.offer_accept(entry=entry, by=people[1])
    assert statuses(event) == {"booked": [], "waiting": [people[1].email], "offered": []}
    assert isinstance(book(event, people[2]), Booking)


@pytest.mark.django_db
@pytest.mark.parametrize("promotion", ["automatic", "offer"])
def test_the_waiting_list_passes_over_a_restricted_student_who_keeps_their_turn(
    tom, people, promotion
):
    """A restricted student cannot join a waiting list, but one already on it was booked
    or offered the next place as anyone else."""
    event = make_event(organiser=tom, capacity=1, promotion=promotion, offer_hours=12)
    first = book(event, people[0])
    restricted = book(event, people[1])
    book(event, people[2])
    ban = _restrict(people[1])
    book(event, people[3])  # not restricted: joins behind them
    for full in (event, make_event(organiser=tom, capacity=0)):
        with pytest.raises(ValidationError) as refused:
            book(full, people[1])
        assert refused.value.messages == [selectors.ban_message(ban)]
    services.booking_cancel(booking=first, by=people[0])
    had = statuses(event)
    assert people[1].email not in had["booked"] + had["offered"]
    assert people[2].email in had["booked"] + had["offered"]
    restricted.refresh_from_db()
    assert restricted.status == "waiting" and selectors.waitlist_position(restricted) == 1
    # Once lifted, the next place is theirs, ahead of who joined after them.
    services.booking_ban_lift(ban=ban, by=tom, reason="Ill with a doctor's note")
    if promotion == "offer":
        services.waitlist_leave(entry=WaitlistEntry.objects.get(student=people[2]), by=people[2])
    else:
        services.booking_cancel(booking=Booking.objects.get(student=people[2]), by=people[2])
    had = statuses(event)
    assert people[1].email in had["booked"] + had["offered"]
    assert had["waiting"] == [people[3].email]


def _passed_over(tom, people, promotion):
    """people[1] restricted and first (alone) on the list of a one-place event whose place
    came free meanwhile: passed over, so the place stays free while they wait."""
    event = make_event(organiser=tom, capacity=1, promotion=promotion, offer_hours=12)
    first = book(event, people[0])
    entry = book(event, people[1])
    ban = _restrict(people[1])
    services.booking_cancel(booking=first, by=people[0])
    assert statuses(event) == {"booked": [], "waiting": [people[1].email], "offered": []}
    return event, entry, ban


@pytest.mark.django_db
@pytest.mark.parametrize("promotion", ["automatic", "offer"])
def test_lifting_a_restriction_gives_the_place_left_free_to_who_waited(
    tom, people, promotion, django_capture_on_commit_callbacks, caplog
):
    """A place freed while they were passed over stayed free once the restriction was
    lifted, with them first on the list: nothing moved the queue again."""
    from mycareer.bookings import jobs

    event, _entry, ban = _passed_over(tom, people, promotion)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_ban_lift(ban=ban, by=tom, reason="Ill with a doctor's note")
    assert tasks_named("settle_waits_of") == 1
    with caplog.at_level("INFO", logger="mycareer.bookings.jobs"):
        assert jobs.settle_waits_of.call(people[1].pk) == 1
    had = statuses(event)
    assert people[1].email in had["booked"] + had["offered"] and had["waiting"] == []
    assert [r for r in caplog.records if "event=bookings.waits_settled " in r.getMessage()]


@pytest.mark.django_db
def test_a_restriction_running_out_gives_the_place_left_free_at_the_next_job_run(
    tom, people, caplog
):
    from mycareer.bookings import jobs

    event, _entry, ban = _passed_over(tom, people, "automatic")
    ban.ends_at = timezone.now() + datetime.timedelta(hours=1)  # well before the event
    ban.save(update_fields=["ends_at"])
    assert services.queues_settle() == 0  # still restricted: passed over
    with (
        time_machine.travel(ban.ends_at + datetime.timedelta(minutes=1)),
        caplog.at_level("INFO", logger="mycareer.bookings.jobs"),
    ):
        assert jobs.expire_offers.call() == {"expired": 0, "restricted": 0, "moved": 1}
    assert statuses(event)["booked"] == [people[1].email]
    [line] = [r.getMessage() for r in caplog.records if "bookings.offers_expired" in r.getMessage()]
    assert "expired=0 restricted=0 moved=1" in line


def _policy(persona, *, no_shows: int) -> None:
    services.noshow_policy_update(
        by=persona("admin"), enabled=True, no_shows=no_shows, window_weeks=12, ban_weeks=4
    )


@pytest.mark.django_db
def test_closing_attendance_says_first_who_becomes_a_no_show_and_who_is_restricted(
    tom, persona, people, held_event, django_capture_on_commit_callbacks
):
    _policy(persona, no_shows=2)
    with time_machine.travel(held_event.ends_at):
        _no_show_at(tom, people[1], days_ago=10)  # one more reaches the limit
        preview = services.attendance_close_preview(event=held_event)
        assert sorted(b.student_id for b in preview.no_shows) == [people[1].pk, people[2].pk]
        assert [r.student for r in preview.restrictions] == [people[1]]
        assert preview.figures == (
            "2 booked students not checked in will be marked no-show; 1 of them will reach "
            "the no-show limit, be restricted from booking and be emailed."
        )
        # Asking changes nothing.
        assert not Booking.objects.filter(event=held_event, status="no_show").exists()
        assert not BookingBan.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            closing = services.attendance_close(
                event=held_event, by=tom, expected_no_shows=2, expected_restrictions=1
            )
        assert [r.student for r in closing.restrictions] == [people[1]]
        assert list(BookingBan.objects.values_list("student", flat=True)) == [people[1].pk]
        assert tasks_named("send_ban_notice") == 1
        # A second press: a plain refusal, and nobody is restricted or emailed again.
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(ValidationError, match="Attendance was already closed on"),
        ):
            services.attendance_close(
                event=held_event, by=tom, expected_no_shows=2, expected_restrictions=1
            )
        with pytest.raises(ValidationError, match="already closed"):
            services.attendance_close_preview(event=held_event)
    assert BookingBan.objects.count() == 1 and tasks_named("send_ban_notice") == 1


@pytest.mark.django_db
def test_closing_attendance_is_refused_when_the_figures_changed_since_they_were_shown(
    tom, people, held_event
):
    with time_machine.travel(held_event.ends_at):
        preview = services.attendance_close_preview(event=held_event)
        assert (len(preview.no_shows), len(preview.restrictions)) == (2, 0)
        late = Booking.objects.get(event=held_event, student=people[1])
        services.check_in(booking=late, by=tom)  # someone checks them in meanwhile
        with pytest.raises(ValidationError) as refused:
            services.attendance_close(
                event=held_event, by=tom, expected_no_shows=2, expected_restrictions=0
            )
    assert "The figures changed since you looked: now 1 booked student" in str(refused.value)
    assert not BookingSettings.objects.get(event=held_event).attendance_closed
    assert not Booking.objects.filter(event=held_event, status="no_show").exists()


@pytest.mark.django_db
def test_correcting_a_no_show_lifts_the_restriction_it_started_and_logs_it(
    tom, persona, people, held_event, caplog, django_capture_on_commit_callbacks
):
    _policy(persona, no_shows=2)
    student = people[1]
    with time_machine.travel(held_event.ends_at):
        _no_show_at(tom, student, days_ago=10)
        services.attendance_close(event=held_event, by=tom)
        ban = BookingBan.objects.get(student=student)
        assert selectors.active_ban(student) == ban
        # The page said a later check-in corrects the record: it was there after all.
        booking = Booking.objects.get(event=held_event, student=student)
        with (
            caplog.at_level("INFO", logger="mycareer.bookings.services"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            booking, changed = services.check_in(booking=booking, by=tom)
        assert changed and booking.status == "attended"
        assert booking.lifted_ban == ban
        # Places left free while they were passed over are given out after commit.
        assert tasks_named("settle_waits_of") == 1
        ban.refresh_from_db()
        assert ban.lifted_at is not None and ban.lifted_by == tom and ban.lifted_by_correction
        assert "which leaves 1 no-show, under the limit of 2" in ban.lift_reason
        assert selectors.active_ban(student) is None
        assert isinstance(book(make_event(organiser=tom), student), Booking)
        lifted = AuditEntry.objects.filter(action="bookings.ban.lifted", object_id=str(ban.pk))
        assert lifted.get().data["booking"] == booking.pk
        [line] = [
            r.getMessage()
            for r in caplog.records
            if r.getMessage().startswith("event=bookings.ban.lifted_by_correction ")
        ]
        assert f"ban_id={ban.pk} booking_id={booking.pk}" in line and "limit=2" in line
        # The restriction that should never have started does not wipe the slate: the
        # no-show left still counts, and one more reaches the limit again.
        _no_show_at(tom, student, days_ago=1)
        assert selectors.active_ban(student) is not None


@pytest.mark.django_db
def test_a_correction_that_leaves_the_student_at_the_limit_keeps_the_restriction(
    tom, persona, people, held_event
):
    student = people[1]
    _policy(persona, no_shows=3)
    with time_machine.travel(held_event.ends_at):
        _no_show_at(tom, student, days_ago=20)
        _no_show_at(tom, student, days_ago=10)
        _policy(persona, no_shows=2)  # lowered: this closing counts three
        services.attendance_close(event=held_event, by=tom)
        ban = BookingBan.objects.get(student=student)
        assert ban.no_shows == 3
        booking = Booking.objects.get(event=held_event, student=student)
        booking, changed = services.check_in(booking=booking, by=tom)
        assert changed and booking.lifted_ban is None
        assert selectors.active_ban(student) == ban
        # Checking in someone who was never restricted lifts nothing either.
        other = Booking.objects.get(event=held_event, student=people[2])
        assert services.check_in(booking=other, by=tom)[0].lifted_ban is None


@pytest.mark.django_db
def test_the_no_show_follow_up_goes_once_to_each_no_show(tom, people, held_event):
    form = {"subject": "We missed you, {{ first_name }}", "body": "About {{ event_title }}"}
    with pytest.raises(ValidationError, match="Close attendance first"):
        services.noshow_followup_send(event=held_event, by=tom, **form)
    with time_machine.travel(held_event.ends_at):
        services.attendance_close(event=held_event, by=tom)
    with pytest.raises(ValidationError) as error:
        services.noshow_followup_send(event=held_event, by=tom, subject="Hi {{ name }}", body="x")
    assert "Unknown merge field {{ name }}" in str(error.value)
    followup = services.noshow_followup_send(event=held_event, by=tom, **form)
    assert followup.recipients == 2
    with pytest.raises(ValidationError, match="already been emailed"):
        services.noshow_followup_send(event=held_event, by=tom, **form)


@pytest.mark.django_db
def test_a_follow_up_merge_field_not_typed_whole_is_refused_as_in_bulk_email(
    tom, people, held_event
):
    """ "Hi {{ first_name" in the body or the subject reached every no-show as typed: only
    unknown fields were refused. Now both are checked in bulk email's words."""
    with time_machine.travel(held_event.ends_at):
        services.attendance_close(event=held_event, by=tom)
    with pytest.raises(ValidationError) as error:
        services.noshow_followup_send(
            event=held_event,
            by=tom,
            subject="Sorry, {{first name}}",
            body="Hi {{ first_name,\n\nAbout {{ event_title }}",
        )
    refused = error.value.message_dict
    assert refused["subject"][0].startswith("“{{first name”")
    assert refused["body"][0].startswith("“{{ first_name,” is not a whole merge field")
    assert not NoShowFollowUp.objects.exists()
    services.noshow_followup_send(
        event=held_event, by=tom, subject="Sorry, {{first_name}}", body="Hi {{ first_name }}"
    )


@pytest.mark.django_db
def test_the_no_show_follow_up_is_refused_when_its_number_changed(tom, people, held_event):
    """The button said "Send to 2 people"; a no-show checked in since (they came after
    all) would not get it: nothing goes, and the refusal gives the number now."""
    form = {"subject": "We missed you", "body": "About {{ event_title }}"}
    with time_machine.travel(held_event.ends_at):
        services.attendance_close(event=held_event, by=tom)
        late = Booking.objects.get(event=held_event, student=people[1])
        services.check_in(booking=late, by=tom)
    with pytest.raises(ValidationError) as error:
        services.noshow_followup_send(event=held_event, by=tom, expected_recipients=2, **form)
    assert error.value.messages == [
        "The figures changed since you looked: sending now emails 1 person, not 2. "
        "Check them and send again."
    ]
    assert not NoShowFollowUp.objects.exists()
    followup = services.noshow_followup_send(
        event=held_event, by=tom, expected_recipients=1, **form
    )
    assert followup.recipients == 1


@pytest.mark.django_db
def test_a_page_without_the_figures_is_refused_as_out_of_date_not_as_minus_one(
    tom, people, held_event
):
    """A page that posted no figure (an old tab) was told "…emails 2 people, not -1"."""
    form = {"subject": "We missed you", "body": "About {{ event_title }}"}
    with time_machine.travel(held_event.ends_at):
        with pytest.raises(ValidationError) as closing:
            services.attendance_close(
                event=held_event, by=tom, expected_no_shows=-1, expected_restrictions=0
            )
        assert str(closing.value.messages[0]).startswith(
            "That page was out of date: now 2 booked students not checked in"
        )
        services.attendance_close(event=held_event, by=tom)
    with pytest.raises(ValidationError) as error:
        services.noshow_followup_send(event=held_event, by=tom, expected_recipients=-1, **form)
    assert error.value.messages == [
        "That page was out of date: sending now emails 2 people. Check them and send again."
    ]
    assert not NoShowFollowUp.objects.exists()


@pytest.mark.django_db
def test_the_no_show_follow_up_leaves_out_people_who_can_no_longer_sign_in(
    tom, persona, people, held_event, mailoutbox
):
    """An erased student's login keeps their past bookings, under an address that reaches
    nobody (a leaver's login is closed too): they are neither emailed nor counted."""
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase
    from mycareer.bookings.tasks import send_noshow_followup

    with time_machine.travel(held_event.ends_at):
        services.attendance_close(event=held_event, by=tom)
    personal_data_erase(subject=subject_from_ids([people[1].pk], []), by=persona("admin"))
    form = {"subject": "We missed you", "body": "About {{ event_title }}"}
    followup = services.noshow_followup_send(event=held_event, by=tom, **form)
    assert followup.recipients == 1
    # Erased after it was sent, before the worker reached them: not emailed either.
    personal_data_erase(subject=subject_from_ids([people[2].pk], []), by=persona("admin"))
    send_noshow_followup.call(followup.pk)
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_place_that_frees_passes_over_someone_waiting_who_can_no_longer_sign_in(tom, people):
    """The student record feed closes a leaver's login and keeps their waiting-list entry
    (they may come back): the place goes to the next person who can take it."""
    event = make_event(organiser=tom, capacity=1)
    booked = book(event, people[0])
    left, next_one = book(event, people[1]), book(event, people[2])
    assert isinstance(left, WaitlistEntry) and isinstance(next_one, WaitlistEntry)
    User.objects.filter(pk=people[1].pk).update(is_active=False)

    services.booking_cancel(booking=booked, by=people[0])

    assert Booking.objects.get(event=event, status="confirmed").student == people[2]
    left.refresh_from_db()
    assert left.status == WaitlistEntry.Status.WAITING


@pytest.mark.django_db
def test_the_employer_report_goes_only_to_contacts_who_may_be_contacted(tom, persona, held_event):
    mine = organisation_services.organisation_create(by=tom, name="Report Test Robotics Ltd")
    other = organisation_services.organisation_create(by=tom, name="Unrelated Widgets Ltd")
    held_event.organisations.add(mine)
    contact = organisation_services.contact_create(
        organisation=mine, by=tom, full_name="Rita Report", email="rita@report.example.com"
    )
    no_email = organisation_services.contact_create(organisation=mine, by=tom, full_name="No Mail")
    stranger = organisation_services.contact_create(
        organisation=other, by=tom, full_name="Sam Stranger", email="sam@widgets.example.com"
    )
    with time_machine.travel(held_event.ends_at):
        services.attendance_close(event=held_event, by=tom)
    with pytest.raises(ValidationError) as error:
        services.employer_report_send(event=held_event, contacts=[stranger, no_email], by=tom)
    assert "not a contact of an organisation at this event" in str(error.value)
    assert "has no email address" in str(error.value)
    helen = persona("manager")
    account = keyaccounts.key_account_create(
        organisation=mine, operator=helen, unit=helen.memberships.first().unit, by=helen
    )
    keyaccounts.key_contact_mark(account=account, contact=contact, guidance="", by=helen)
    with pytest.raises(ValidationError, match="key contact"):
        services.employer_report_send(event=held_event, contacts=[contact], by=tom)
    report = services.employer_report_send(event=held_event, contacts=[contact], by=helen)
    assert list(report.contacts.all()) == [contact]


@pytest.mark.django_db
def test_the_employer_report_reaches_each_contact_once_until_the_figures_change(
    tom, people, held_event
):
    """A second press, or a second tab, must not send the same figures twice."""
    firm = organisation_services.organisation_create(by=tom, name="Twice Sent Ltd")
    held_event.organisations.add(firm)
    rita, sam = (
        organisation_services.contact_create(
            organisation=firm, by=tom, full_name=name, email=f"{name.split()[0]}@twice.example.com"
        )
        for name in ("Rita Report", "Sam Second")
    )
    missed = Booking.objects.filter(event=held_event, status="confirmed").first()
    with time_machine.travel(held_event.ends_at, tick=True):
        services.attendance_close(event=held_event, by=tom)
        first = services.employer_report_send(event=held_event, contacts=[rita], by=tom)
        with pytest.raises(ValidationError, match="Rita Report already has these figures"):
            services.employer_report_send(event=held_event, contacts=[rita], by=tom)
        # Who has them is left out; who has not is sent them.
        second = services.employer_report_send(event=held_event, contacts=[rita, sam], by=tom)
        assert list(second.contacts.all()) == [sam]
        with pytest.raises(ValidationError, match="Rita Report and Sam Second already have"):
            services.employer_report_send(event=held_event, contacts=[sam, rita], by=tom)
    assert held_event.employer_reports.count() == 2 and list(first.contacts.all()) == [rita]
    # A correction changes the figures: they may go again.
    with time_machine.travel(held_event.ends_at + datetime.timedelta(hours=1), tick=True):
        services.check_in(booking=missed, by=tom)
        again = services.employer_report_send(event=held_event, contacts=[rita, sam], by=tom)
    assert set(again.contacts.all()) == {rita, sam}


@pytest.mark.django_db
def test_the_report_counts_who_waited_without_a_place_once_and_not_who_booked_after(tom, people):
    event = make_event(organiser=tom, capacity=1, promotion=OFFER, offer_hours=1)
    first = book(event, people[0])
    book(event, people[1])
    services.booking_cancel(booking=first, by=people[0])  # people[1] is offered it
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        services.offers_expire()
        book(event, people[1])  # the place was free again: booked after all
        book(event, people[2])  # waits (the event is full again)
        third = services.booking_create(event=event, student=people[3], by=people[3])
        assert isinstance(third, WaitlistEntry)
        services.waitlist_leave(entry=third, by=people[3])  # left: not counted
    report = selectors.attendance_report(event)
    assert report.counts.booked == 1
    assert report.waiting_total == 1  # people[2] only


@pytest.mark.django_db
def test_the_report_counts_without_names(tom, people, held_event, cast):
    others = make_students(2, programme="bsc-cs", year=2)
    services.capacity_change(event=held_event, capacity=4, by=tom)
    book(held_event, others[0])
    book(held_event, others[1])  # waiting
    # One of four booked came so far: not "100%" of those settled, as nobody is yet.
    assert selectors.attendance_report(held_event).attendance_rate is None
    with time_machine.travel(held_event.ends_at):
        services.attendance_close(event=held_event, by=tom)
    report = selectors.attendance_report(held_event)
    assert selectors.attendance_report(Event.objects.get(pk=held_event.pk)).attendance_rate == 25
    faculty = {r.label: r for r in report.sections["Faculty"]}
    engineering = faculty["Faculty of Engineering and Physical Sciences"]
    assert (engineering.booked, engineering.attended, engineering.no_shows) == (4, 1, 3)
    assert engineering.waiting == 1
    programmes = {r.label: r.booked for r in report.sections["Degree programme"]}
    assert programmes == {"BSc Computer Science": 1, "MEng Mechanical Engineering": 3}
    years = {r.label: r.booked for r in report.sections["Year of study"]}
    assert years == {"Year 2": 1, "Year 3": 3}
    text = str(selectors.report_csv_rows(report))
    assert all(s.full_name not in text for s in people + others)
    # What employers receive combines each table's groups of under five (with the
    # waiting list): the one BSc student in year 2 is no longer a row of their own.
    sent = selectors.attendance_report(held_event).for_employers()
    combined = selectors.COMBINED_LABEL
    faculties = {r.label: (r.booked, r.waiting) for r in sent.sections["Faculty"]}
    assert faculties == {"Faculty of Engineering and Physical Sciences": (4, 1)}
    programmes = {r.label: (r.booked, r.attended) for r in sent.sections["Degree programme"]}
    assert programmes == {combined: (4, 1)}
    assert {r.label for r in sent.sections["Year of study"]} == {combined}
    # The staff's own report keeps every group.
    assert len(selectors.attendance_report(held_event).sections["Year of study"]) == 2


def test_what_employers_receive_never_has_a_group_under_five_even_combined():
    """One small group "combined" alone was its old row under a new label; two groups of
    one made a combined row of two."""
    from mycareer.bookings.selectors import COMBINED_LABEL, AttendanceReport, ReportRow

    def years(*sizes):
        rows = [ReportRow(label=f"Year {n}", booked=b) for n, b in enumerate(sizes, start=1)]
        report = AttendanceReport(event=None, counts=None, closed=True, sections={"Y": rows})
        return {r.label: r.booked for r in report.for_employers().sections["Y"]}

    assert years(1, 6, 9, 1) == {"Year 3": 9, COMBINED_LABEL: 8}
    assert years(9, 6, 1) == {"Year 1": 9, COMBINED_LABEL: 7}
    assert years(9, 6, 5) == {"Year 1": 9, "Year 2": 6, "Year 3": 5}
    assert years(2, 1) == {COMBINED_LABEL: 3}  # all of them: no more than the totals say


@pytest.mark.django_db
def test_the_policy_saved_unchanged_writes_and_records_nothing(persona):
    admin = persona("admin")
    settings = {"enabled": True, "no_shows": 2, "window_weeks": 12, "ban_weeks": 4}
    assert services.noshow_policy_update(by=admin, **settings) == {
        "enabled": [False, True],
        "no_shows": [3, 2],
    }
    stamped = NoShowPolicy.current().updated_at
    assert services.noshow_policy_update(by=admin, **settings) == {}
    assert NoShowPolicy.current().updated_at == stamped
    assert AuditEntry.objects.filter(action="bookings.policy.changed").count() == 1
    changed = services.noshow_policy_update(by=admin, **{**settings, "ban_weeks": 6})
    assert changed == {"ban_weeks": [4, 6]}


@pytest.mark.django_db
def test_nobody_is_added_as_a_walk_in_once_attendance_is_closed(tom, people):
    event = make_event(organiser=tom, capacity=5)
    with time_machine.travel(event.ends_at + datetime.timedelta(minutes=30)):
        settings = selectors.settings_of(event)
        assert selectors.walk_in_refusal(event, settings, timezone.now()) is None
        services.attendance_close(event=event, by=tom)
        settings = BookingSettings.objects.get(event=event)
        assert selectors.walk_in_refusal(event, settings, timezone.now()) == (
            "Attendance for this event is closed."
        )
        with pytest.raises(ValidationError, match="Attendance for this event is closed"):
            services.walk_in(event=event, student=people[0], by=tom)
    assert not Booking.objects.filter(event=event, student=people[0]).exists()


@pytest.mark.django_db
def test_the_job_ends_an_offer_its_restricted_student_can_never_take_up(tom, people):
    """Shown only "Decline it" (the offer page), they need not try to accept for the place
    to pass on: held until its deadline, it waited empty meanwhile."""
    from mycareer.bookings import jobs

    event, entry = _offered(tom, people, waiting=1)
    _restrict(people[1])
    assert jobs.expire_offers.call() == {"expired": 0, "restricted": 1, "moved": 0}
    entry.refresh_from_db()
    assert entry.status == "waiting"  # their turn kept
    assert WaitlistEntry.objects.get(event=event, student=people[2]).status == "offered"
    # A restriction ending before the deadline leaves the offer theirs to take up after.
    later_event, later = _offered(tom, people[3:], waiting=0)
    BookingBan.objects.create(
        student=people[4],
        ends_at=timezone.now() + datetime.timedelta(minutes=10),
        reason="You did not come or cancel.",
        no_shows=3,
    )
    assert jobs.expire_offers.call()["restricted"] == 0
    later.refresh_from_db()
    assert later.status == "offered" and later_event.pk != event.pk


@pytest.mark.django_db
def test_an_offer_run_out_while_its_student_was_restricted_keeps_their_turn(
    tom, people, django_capture_on_commit_callbacks
):
    """A restriction started and the offer's deadline passed between two runs of the job:
    the offer expired, costing the student their turn (with an email saying so), which
    the restriction's email promises they keep, and a run between would have kept."""
    from mycareer.bookings import jobs

    event, entry = _offered(tom, people, waiting=1)
    _restrict(people[1])
    lifted_event, lifted = _offered(tom, people[3:], waiting=0)
    ban = _restrict(people[4])
    ban.lifted_at = timezone.now()
    ban.save(update_fields=["lifted_at"])
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=2)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.expire_offers.call()["expired"] == 1  # only the offer free to take up
    entry.refresh_from_db()
    assert entry.status == "waiting" and entry.offer_expires_at is None
    assert AuditEntry.objects.filter(
        action="bookings.waitlist.offer_withdrawn", object_id=str(entry.pk)
    ).exists()
    assert WaitlistEntry.objects.get(event=event, student=people[2]).status == "offered"
    assert _expiry_emails() == [[lifted.pk]]
    lifted.refresh_from_db()
    assert lifted.status == "expired" and lifted_event.pk != event.pk


@pytest.mark.django_db
def test_emails_about_an_event_whose_organiser_has_left_name_the_careers_centre(
    cast, persona, mailoutbox, settings
):
    """They named the organiser, with their address, as the one to contact, and replies
    went to an inbox nobody reads."""
    from icalendar import Calendar

    from mycareer.bookings import tasks
    from mycareer.core.mail import careers_centre_address

    settings.DEFAULT_FROM_EMAIL = "MyCareer <careers@example.ac.uk>"
    tom, aisha = persona("operator"), persona("student")
    event = make_event(organiser=tom, capacity=5, title="Gearbox design clinic")
    booking = services.booking_create(event=event, student=aisha, by=aisha, notify=False)
    tasks.send_booking_confirmation.call(booking.pk)
    [before] = mailoutbox
    assert before.reply_to == [tom.email] and f"({tom}, {tom.email})" in before.body

    tom.is_active = False
    tom.save(update_fields=["is_active"])
    mailoutbox.clear()
    tasks.send_booking_confirmation.call(booking.pk)
    services.booking_cancel(booking=booking, by=persona("admin"), notify=False)
    tasks.send_cancelled_by_staff.call(booking.pk)
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert message.reply_to == [], message.subject  # to the sender: the Careers Centre
        assert tom.email not in message.body and str(tom) not in message.body
        assert f"Questions: the Careers Centre, {careers_centre_address()}" in message.body
        for name, content, _ in message.attachments:
            if name.endswith(".ics"):
                text = Calendar.from_ical(content).to_ical().decode()
                assert tom.email not in text, name
                assert name != "event-cancelled.ics" or careers_centre_address() in text
    [cancelled] = [m for m in mailoutbox if "has been cancelled" in m.subject]
    assert "write to the Careers Centre at the address above" in cancelled.body
    assert "contact the organiser named above" not in cancelled.body
