"""Benchmark data for bookings: 200,000 places taken by the benchmark students.

Past events have their attendance recorded (most came, some did not), later ones are
booked, and about one booking in twelve was cancelled. Pairs are unique, as the
database's own constraint on places held requires. Found by `manage.py seed_bench`.
"""

import datetime

from django.utils import timezone

from mycareer.bookings.models import Booking, BookingSettings
from mycareer.core.benchseed import FULL, BenchPlan, BenchSeedStep, insert_rows, register_bench_seed
from mycareer.events.models import Event

BOOKINGS = 200_000
CANCELLED_SHARE = 0.08
NO_SHOW_SHARE = 0.2


def seed_bookings(plan: BenchPlan) -> None:
    students = plan.shared.get("student_ids") or []
    events = list(
        # Events of the benchmark, not the demo's (which have their own places set).
        Event.objects.filter(status=Event.Status.PUBLISHED, booking_settings__isnull=True)
        .order_by("pk")
        .values_list("pk", "starts_at")
    )
    if not students or not events:
        plan.say("  bookings: no students or no published events; skipped")
        return
    rng = plan.rng("bookings")
    now = timezone.now()
    wanted = min(BOOKINGS, len(students) * len(events))
    with plan.timed("bookings") as counter:
        seen: set[tuple[int, int]] = set()
        taken: dict[int, int] = {}

        def rows():
            while len(seen) < wanted:
                event_id, starts_at = rng.choice(events)
                student_id = rng.choice(students)
                if (event_id, student_id) in seen:
                    continue
                seen.add((event_id, student_id))
                booked_at = min(now, starts_at - datetime.timedelta(hours=rng.randint(2, 500)))
                cancelled_at = checked_in_at = None
                if rng.random() < CANCELLED_SHARE:
                    status = Booking.Status.CANCELLED
                    cancelled_at = min(now, booked_at + datetime.timedelta(hours=1))
                elif starts_at >= now:
                    status = Booking.Status.CONFIRMED
                elif rng.random() < NO_SHOW_SHARE:
                    status = Booking.Status.NO_SHOW
                else:
                    status = Booking.Status.ATTENDED
                    checked_in_at = starts_at - datetime.timedelta(minutes=rng.randint(0, 15))
                if status != Booking.Status.CANCELLED:
                    taken[event_id] = taken.get(event_id, 0) + 1
                yield (
                    event_id,
                    student_id,
                    status,
                    Booking.Source.STUDENT,
                    booked_at,
                    cancelled_at,
                    checked_in_at,
                )

        counter["rows"] = insert_rows(
            Booking,
            ["event", "student", "status", "source", "booked_at", "cancelled_at", "checked_in_at"],
            rows(),
            batch_size=plan.batch_size,
        )
        # Every booked event has a number of places, a few of them now full.
        BookingSettings.objects.bulk_create(
            [
                BookingSettings(event_id=event_id, capacity=count + rng.choice((0, 5, 20, 100)))
                for event_id, count in sorted(taken.items())
            ],
            batch_size=plan.batch_size,
        )


register_bench_seed(BenchSeedStep("bookings", seed_bookings, order=60, shapes=(FULL,)))
