import datetime
import itertools

from django.utils import timezone

from mycareer.accounts.models import DegreeProgramme, StudentProfile, Unit, User
from mycareer.bookings import services
from mycareer.bookings.models import Booking
from mycareer.events.models import Event
from mycareer.events.tests.factories import EventFactory

_numbers = itertools.count(1)


def make_students(count: int, *, programme: str = "meng-mech", year: int = 3) -> list[User]:
    """Students who never log in, made in two queries."""
    batch = next(_numbers)
    degree = DegreeProgramme.objects.select_related("unit").get(code=programme)
    users = User.objects.bulk_create(
        [
            User(
                email=f"b{batch}-s{n}@students.example.ac.uk",
                full_name=f"Student {batch}-{n:03d}",
                kind=User.Kind.STUDENT,
                password="!",
            )
            for n in range(count)
        ]
    )
    StudentProfile.objects.bulk_create(
        [
            StudentProfile(
                user=user,
                unit=degree.unit,
                programme=degree,
                year_of_study=year,
                student_number=f"9{batch:03d}{n:05d}",
            )
            for n, user in enumerate(users)
        ]
    )
    return users


def make_event(
    *,
    organiser: User | None = None,
    capacity: int | None = None,
    starts_in: datetime.timedelta = datetime.timedelta(days=14),
    minutes: int = 60,
    unit: str = "mech",
    open_to_all: bool = True,
    title: str | None = None,
    **settings,
) -> Event:
    """A published event open to all students, with the booking settings given."""
    starts = timezone.now() + starts_in
    event = EventFactory(
        **({"title": title} if title else {}),
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=minutes),
        unit=Unit.objects.get(code=unit),
        organiser=organiser,
        audience__open_to_all=open_to_all,
    )
    if capacity is not None or settings:
        services.booking_settings_update(event=event, by=organiser, capacity=capacity, **settings)
    return event


def held_event(
    *, organiser: User, students: list[User], attended: int, days_ago: int = 7, **fields
) -> Event:
    """An event `days_ago` days ago that `students` booked; the first `attended` of them
    were checked in and attendance is closed, so the others are no-shows."""
    event = make_event(organiser=organiser, **fields)
    for student in students:
        services.booking_create(event=event, student=student, by=student, notify=False)
    # Booked while it was coming up; then it took place.
    starts = timezone.now() - datetime.timedelta(days=days_ago)
    Event.objects.filter(pk=event.pk).update(
        starts_at=starts, ends_at=starts + (event.ends_at - event.starts_at)
    )
    event.refresh_from_db()
    for booking in Booking.objects.filter(event=event, student__in=students[:attended]):
        services.check_in(booking=booking, by=organiser)
    services.attendance_close(event=event, by=organiser)
    return event
