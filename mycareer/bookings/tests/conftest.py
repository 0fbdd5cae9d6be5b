import datetime

import pytest

from mycareer.bookings import services
from mycareer.bookings.tests.factories import held_event, make_event, make_students


@pytest.fixture
def kirkstall_talk(persona):
    """Last week's Kirkstall Robotics talk: 17 booked (Aisha first), 13 came, 4 did not."""
    from mycareer.organisations.tests.factories import OrganisationFactory

    aisha = persona("student")
    event = held_event(
        organiser=persona("operator"),
        title="Kirkstall Robotics: automation in practice",
        students=[aisha, *make_students(16)],
        attended=13,
    )
    event.organisations.add(OrganisationFactory(name="Kirkstall Robotics"))
    return event


@pytest.fixture
def aishas_events(persona, kirkstall_talk) -> dict:
    """Aisha's places: one at the fair, second on the waiting list of a full session, and
    the past talk she attended."""
    aisha, helen = persona("student"), persona("manager")
    fair = make_event(
        organiser=helen,
        title="Engineering and technology careers fair",
        capacity=150,
        unit="eps",
        starts_in=datetime.timedelta(days=3),
    )
    services.booking_create(event=fair, student=aisha, by=aisha, notify=False)
    full = make_event(
        organiser=persona("admin"),
        title="Interview skills",
        capacity=1,
        unit="careers",
        starts_in=datetime.timedelta(days=10),
    )
    for student in [*make_students(2), aisha]:
        services.booking_create(event=full, student=student, by=student, notify=False)
    return {"fair": fair, "full": full, "past": kirkstall_talk}
