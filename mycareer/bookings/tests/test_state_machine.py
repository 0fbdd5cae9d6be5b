"""Random sequences of booking, cancelling, leaving, accepting, capacity changes and offer
expiry, against the real database: the rules hold after every step."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mycareer.bookings import services
from mycareer.bookings.models import HOLDING, Booking, BookingSettings, WaitlistEntry
from mycareer.bookings.tests.factories import make_event, make_students

PEOPLE = 6
person = st.integers(min_value=0, max_value=PEOPLE - 1)


def machine_for(students, staff):
    class BookingMachine(RuleBasedStateMachine):
        """The model is the order in which people joined the queue."""

        @initialize(
            capacity=st.integers(min_value=0, max_value=3),
            offers=st.booleans(),
            waiting_list=st.booleans(),
        )
        def open_bookings(self, capacity, offers, waiting_list):
            self.event = make_event(
                organiser=staff,
                capacity=capacity,
                waiting_list=waiting_list,
                promotion="offer" if offers else "automatic",
                offer_hours=24,
                starts_in=datetime.timedelta(days=90),
            )
            self.clock = timezone.now()
            self.joined: list[int] = []  # student ids, in the order they joined the queue
            self.taken = 0

        # Reading the database -----------------------------------------------------------

        def settings(self) -> BookingSettings:
            return BookingSettings.objects.get(pk=self.event.pk)

        def holding(self) -> set[int]:
            return set(
                Booking.objects.filter(event=self.event, status__in=HOLDING).values_list(
                    "student_id", flat=True
                )
            )

        def queue(self) -> list[int]:
            return list(
                WaitlistEntry.objects.filter(event=self.event, status="waiting")
                .order_by("joined_at", "pk")
                .values_list("student_id", flat=True)
            )

        def offered(self) -> set[int]:
            return set(
                WaitlistEntry.objects.filter(event=self.event, status="offered").values_list(
                    "student_id", flat=True
                )
            )

        def step(self, action, *, leaving: int | None = None):
            """Do `action`; whoever left the queue other than `leaving` came from its head."""
            before = [s for s in self.queue() if s != leaving]
            try:
                placed = action()
            except ValidationError:
                placed = None
            after = self.queue()
            moved_on = [s for s in before if s not in after]
            assert moved_on == before[: len(moved_on)], "places went out of joining order"
            return placed

        # Rules --------------------------------------------------------------------------

        @rule(i=person)
        def book(self, i):
            student = students[i]
            placed = self.step(
                lambda: services.booking_create(event=self.event, student=student, by=student)
            )
            if isinstance(placed, WaitlistEntry):
                # Someone who had left and joins again goes to the back.
                self.joined = [s for s in self.joined if s != student.pk] + [student.pk]

        # Cancelling, leaving and accepting pick among the people they apply to, so
        # most steps change something.

        def confirmed(self) -> list[Booking]:
            return list(
                Booking.objects.filter(event=self.event, status="confirmed").select_related(
                    "student"
                )
            )

        def queued(self, *statuses) -> list[WaitlistEntry]:
            return list(
                WaitlistEntry.objects.filter(event=self.event, status__in=statuses).select_related(
                    "student"
                )
            )

        @precondition(lambda self: self.confirmed())
        @rule(data=st.data())
        def cancel(self, data):
            booking = data.draw(st.sampled_from(self.confirmed()), label="cancels")
            self.step(lambda: services.booking_cancel(booking=booking, by=booking.student))

        @precondition(lambda self: self.queued("waiting", "offered"))
        @rule(data=st.data())
        def leave(self, data):
            entry = data.draw(st.sampled_from(self.queued("waiting", "offered")), label="leaves")
            self.step(
                lambda: services.waitlist_leave(entry=entry, by=entry.student),
                leaving=entry.student_id,
            )

        @precondition(lambda self: self.queued("offered"))
        @rule(data=st.data())
        def accept(self, data):
            entry = data.draw(st.sampled_from(self.queued("offered")), label="accepts")
            self.step(lambda: services.offer_accept(entry=entry, by=entry.student))

        @rule(capacity=st.one_of(st.none(), st.integers(min_value=0, max_value=6)))
        def change_capacity(self, capacity):
            self.step(
                lambda: services.capacity_change(event=self.event, capacity=capacity, by=staff)
            )

        @rule()
        def offers_run_out(self):
            self.clock += datetime.timedelta(hours=25)
            self.step(lambda: services.offers_expire(now=self.clock))

        # What must always hold ---------------------------------------------------------------

        @invariant()
        def never_more_places_taken_than_capacity(self):
            capacity = self.settings().capacity
            taken = len(self.holding()) + len(self.offered())
            if capacity is not None:
                # Lowering the capacity keeps those already in; nobody new comes in above it.
                assert taken <= max(capacity, self.taken)
                if taken > self.taken:
                    assert taken <= capacity
            self.taken = taken

        @invariant()
        def nobody_is_both_booked_and_waiting(self):
            queued = set(self.queue()) | self.offered()
            assert self.holding().isdisjoint(queued)

        @invariant()
        def the_queue_keeps_joining_order(self):
            queue = self.queue()
            assert queue == [s for s in self.joined if s in set(queue)]

        @invariant()
        def no_place_stays_free_while_people_wait(self):
            if not self.queue():
                return
            capacity = self.settings().capacity
            assert capacity is not None
            assert len(self.holding()) + len(self.offered()) >= capacity

    return BookingMachine


@pytest.mark.django_db
def test_booking_rules_hold_for_random_sequences(persona, cast):
    students = make_students(PEOPLE)
    machine = machine_for(students, persona("operator"))
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
