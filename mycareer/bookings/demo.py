"""Demo bookings: a past event with attendance and no-shows, a full event with a waiting list.

A cohort of students (who do not log in) gives the demo events realistic numbers.
Aisha Khan (student@demo.ac.uk) has a confirmed place, a waiting-list place, one past
event she attended, and was on the waiting list of an event since cancelled (her pages
say so). Idempotent: nothing is added once the past event has bookings.
No email is sent for the demo's made-up people.
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from mycareer.bookings import services
from mycareer.bookings.models import Booking, BookingSettings
from mycareer.events import services as event_services
from mycareer.events.models import CancellationNotice

PAST_CLOSED = "Kirkstall Robotics: automation in practice"
PAST_OPEN = "Pennine Analytics: a day in data science"
FULL = "Interview skills"
FAIR = "Engineering and technology careers fair"
OFFERS = "Law careers: training contracts explained"
OPEN = "Ouse Water Services: sustainability in engineering"
CANCELLED = "Applying for master's study"

# name, programme code, year of study
COHORT = [
    ("Amelia Hart", "meng-mech", 3),
    ("Noah Patel", "meng-mech", 3),
    ("Isla Murray", "beng-mech", 3),
    ("Leo Walsh", "beng-mech", 2),
    ("Grace Adeyemi", "meng-mech", 2),
    ("Harry Singh", "meng-mech", 3),
    ("Ella Thompson", "beng-mech", 3),
    ("Jack Robinson", "meng-mech", 4),
    ("Sophie Clarke", "beng-mech", 2),
    ("Arjun Mehta", "meng-mech", 3),
    ("Chloe Evans", "beng-mech", 3),
    ("Samuel Okoro", "meng-mech", 2),
    ("Freya Wilson", "meng-mech", 3),
    ("Daniel Kowalski", "beng-mech", 3),
    ("Zara Ahmed", "meng-mech", 3),
    ("Ethan Brown", "bsc-cs", 2),
    ("Maya Green", "bsc-cs", 2),
    ("Ryan Li", "bsc-cs", 3),
    ("Hannah Scott", "msc-ai", 1),
    ("Omar Farouk", "msc-ai", 1),
    ("Lily Turner", "bsc-cs", 1),
    ("Ben Carter", "mchem", 3),
    ("Aoife Byrne", "mchem", 2),
    ("Tom Fletcher", "bsc-acc", 3),
    ("Priyanka Rao", "bsc-acc", 2),
    ("Ellie Morgan", "ba-mgmt", 3),
    ("Callum Reid", "ba-history", 3),
    ("Nia Williams", "ba-english", 2),
    ("Josh Bailey", "bmus", 3),
    ("Ruby Hughes", "ba-history", 1),
]


def _cohort() -> list:
    from mycareer.accounts.models import DegreeProgramme, StudentProfile, User

    programmes = {p.code: p for p in DegreeProgramme.objects.all()}
    password = make_password(None)  # unusable: the cohort never logs in
    people = []
    for n, (name, code, year) in enumerate(COHORT, start=1):
        email = f"{name.lower().replace(' ', '.')}@students.demo.ac.uk"
        user, _ = User.objects.get_or_create(
            email=email,
            defaults={"full_name": name, "kind": User.Kind.STUDENT, "password": password},
        )
        programme = programmes[code]
        StudentProfile.objects.update_or_create(
            user=user,
            defaults={
                "unit": programme.unit,
                "programme": programme,
                "year_of_study": year,
                "student_number": f"20228{n:04d}",
            },
        )
        people.append(user)
    return people


def _past_bookings(event, students, *, days_before: int = 10) -> list[Booking]:
    """Bookings made before an event that has already happened (the services refuse those)."""
    bookings = []
    for n, student in enumerate(students):
        booked_at = event.starts_at - datetime.timedelta(days=days_before, hours=-n)
        booking = Booking.objects.create(
            event=event, student=student, booked_at=booked_at, booked_by=student
        )
        bookings.append(booking)
    return bookings


def _as_if_at_the_time(event, bookings: list[Booking]) -> None:
    """Move check-in and closing times to when they would have happened, at the event."""
    for n, booking in enumerate(bookings):
        Booking.objects.filter(pk=booking.pk, checked_in_at__isnull=False).update(
            checked_in_at=event.starts_at - datetime.timedelta(minutes=10 - n % 15)
        )
    BookingSettings.objects.filter(event=event, attendance_closed_at__isnull=False).update(
        attendance_closed_at=event.ends_at + datetime.timedelta(minutes=30)
    )


def seed_bookings(cast: dict) -> None:
    """Bookings on the demo events (see the module docstring)."""
    events = cast.get("events") or {}
    past = events.get(PAST_CLOSED)
    if past is None:
        return
    if Booking.objects.filter(event=past).exists():
        cast["bookings"] = {
            "events": {t: events[t] for t in (PAST_CLOSED, FULL, FAIR) if t in events}
        }
        return
    staff, students = cast["staff"], cast["students"]
    tom, helen, priya = staff["operator@demo.ac.uk"], staff["manager@demo.ac.uk"], cast["admin"]
    aisha, oliver, mei = (
        students["student@demo.ac.uk"],
        students["student2@demo.ac.uk"],
        students["student3@demo.ac.uk"],
    )
    james, fatima, lucas = (
        students["student4@demo.ac.uk"],
        students["student5@demo.ac.uk"],
        students["student6@demo.ac.uk"],
    )
    cohort = _cohort()
    mech = [s for s in cohort if s.student_profile.programme.code in ("meng-mech", "beng-mech")]
    computing = [s for s in cohort if s.student_profile.programme.code in ("bsc-cs", "msc-ai")]
    others = [s for s in cohort if s not in mech and s not in computing]

    # Last week's Kirkstall Robotics talk: 17 booked, 13 came, 4 did not; attendance closed.
    BookingSettings.objects.update_or_create(event=past, defaults={"capacity": 40})
    booked = _past_bookings(past, [aisha, fatima, *mech])
    for booking in booked[:1] + booked[2:14]:
        services.check_in(booking=booking, by=tom)
    services.attendance_close(event=past, by=tom)
    _as_if_at_the_time(past, booked)

    # Pennine Analytics, also last week: some checked in; its organiser has not closed attendance.
    pennine = events[PAST_OPEN]
    BookingSettings.objects.update_or_create(event=pennine, defaults={"capacity": 30})
    booked = _past_bookings(pennine, [oliver, lucas, *computing], days_before=6)
    for booking in booked[:5]:
        services.check_in(booking=booking, by=helen)
    _as_if_at_the_time(pennine, booked)

    # Interview skills: 12 places, full, four waiting; Aisha is second in the queue.
    full = events[FULL]
    services.capacity_change(event=full, capacity=12, by=priya)
    for student in [*others, *computing][:12]:
        services.booking_create(event=full, student=student, by=student, notify=False)
    for student in [mei, aisha, james, mech[0]]:
        services.booking_create(event=full, student=student, by=student, notify=False)

    # The engineering fair: plenty of room; Aisha and Oliver have places.
    fair = events[FAIR]
    services.capacity_change(event=fair, capacity=150, by=helen)
    for student in [aisha, oliver, fatima, *mech[:10], *computing[:4]]:
        services.booking_create(event=fair, student=student, by=student, notify=False)

    # Law careers offers freed places: one cancellation has left Mei Lin an offer to answer.
    law = events[OFFERS]
    services.booking_settings_update(
        event=law, by=priya, capacity=6, promotion=BookingSettings.Promotion.OFFER, offer_hours=48
    )
    first = None
    for student in [*others[:6], mei, james]:
        placed = services.booking_create(event=law, student=student, by=student, notify=False)
        first = first or placed
    # Booked without a confirmation, so cancelled without one.
    services.booking_cancel(booking=first, by=first.student, notify=False)

    # Ouse Water: a few booked, so Aisha can try booking herself.
    ouse = events[OPEN]
    services.capacity_change(event=ouse, capacity=30, by=tom)
    for student in mech[10:14]:
        services.booking_create(event=ouse, student=student, by=student, notify=False)

    # Applying for master's study (for year 3): full, Aisha and Mei waiting, then cancelled;
    # every place ends and each person is told (the made-up cohort's notices count as sent).
    masters = events[CANCELLED]
    finalists = [s for s in others if s.student_profile.year_of_study == 3][:3]
    services.capacity_change(event=masters, capacity=3, by=priya)
    for student in [*finalists, aisha, mei]:
        services.booking_create(event=masters, student=student, by=student, notify=False)
    event_services.event_cancel(
        event=masters,
        by=priya,
        reason="Our speaker from the Graduate School is ill; we will offer a new date soon.",
    )
    CancellationNotice.objects.filter(event=masters, person__in=others).update(
        sent_at=timezone.now()
    )

    cast["bookings"] = {"events": {PAST_CLOSED: past, FULL: full, FAIR: fair}}
