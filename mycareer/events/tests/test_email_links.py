"""Every link in an email about an event opens for the person the email went to.

Through the real task worker and a real SMTP server: the links tested are those sent.
A student may be outside the event's audience (staff booked them in, or the audience
changed after they booked); the page of an event they had a place at opens for them.
"""

import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from mycareer.bookings import services as booking_services
from mycareer.bookings.models import Booking
from mycareer.events import services
from mycareer.events.tests.factories import at, far_monday, make_event

SITE = "https://mycareer.example.ac.uk"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE


def sent_to(inbox, person, subject: str) -> str:
    """The plain text of the one email to `person` whose subject starts with `subject`."""
    found = []
    for _ in range(3):
        found = [
            m
            for m in inbox.wait_for(1, timeout=5)
            if m["To"] == person.email and m["Subject"].startswith(f"[MyCareer] {subject}")
        ]
        if found:
            break
    assert len(found) == 1, [m["Subject"] for m in inbox.messages()]
    return found[0].get_body(preferencelist=("plain",)).get_content()


def paths_in(body: str) -> list[str]:
    links = re.findall(r"https?://\S+", body)
    assert links, body
    for link in links:
        assert link.startswith(f"{settings.SITE_URL}/"), link
    return [link.removeprefix(settings.SITE_URL) for link in links]


@pytest.fixture
def talk(persona):
    """A published talk for mechanical engineering students only."""
    return make_event(
        by=persona("operator"),
        title="Gas turbines for mechanical engineers",
        starts_at=at(far_monday(), 10),
        publish=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("site")
def test_the_cancellation_email_opens_for_a_student_staff_booked_outside_the_audience(
    cast, persona, client, smtp_server, run_worker, talk
):
    tom, james = persona("operator"), persona("student4")  # James studies history
    booking_services.staff_book_student(event=talk, student=james, by=tom, notify=False)
    services.event_cancel(event=talk, by=tom, reason="The speaker is ill")
    run_worker()

    body = sent_to(smtp_server, james, f"Cancelled: {talk.title}")
    client.force_login(james)
    for path in paths_in(body):
        response = client.get(path)
        assert response.status_code == 200, path
        assert talk.title in response.content.decode()
        assert "The speaker is ill" in response.content.decode()

    # A student who never had a place is still told the event is for other students.
    client.force_login(persona("student2"))
    for path in paths_in(body):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "This event is for other students" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("site")
def test_emails_about_a_place_staff_ended_open_for_a_student_outside_the_audience(
    cast, persona, client, smtp_server, run_worker, talk
):
    tom, james, mei = persona("operator"), persona("student4"), persona("student3")
    aisha = persona("student")  # in the audience: takes the only place
    booking_services.capacity_change(event=talk, capacity=1, by=tom)
    booking_services.booking_create(event=talk, student=aisha, by=aisha, notify=False)
    booking_services.staff_book_student(event=talk, student=mei, by=tom, notify=False)
    booking_services.waitlist_leave(entry=mei.waitlist_entries.get(event=talk), by=tom)
    booking_services.booking_cancel(booking=Booking.objects.get(event=talk, student=aisha), by=tom)
    booking_services.staff_book_student(event=talk, student=james, by=tom, notify=False)
    booking_services.booking_cancel(booking=Booking.objects.get(event=talk, student=james), by=tom)
    run_worker()

    removed = sent_to(smtp_server, mei, "You are no longer on the waiting list")
    cancelled = sent_to(smtp_server, james, f"Your place at {talk.title} has")
    for person, body in ((mei, removed), (james, cancelled)):
        client.force_login(person)
        for path in paths_in(body):
            response = client.get(path)
            assert response.status_code == 200, (person, path)
            assert talk.title in response.content.decode()


def test_a_place_once_held_opens_the_page_but_does_not_let_the_student_book_again(
    persona, client, talk
):
    """Staff booked James (history) onto a mechanical engineers' talk, then cancelled it:
    the event's page still opens for him, but he may not book it for himself."""
    tom, james = persona("operator"), persona("student4")
    booking_services.staff_book_student(event=talk, student=james, by=tom, notify=False)
    booking_services.booking_cancel(booking=Booking.objects.get(event=talk, student=james), by=tom)
    client.force_login(james)
    assert client.get(talk.get_absolute_url()).status_code == 200
    with pytest.raises(ValidationError, match="not open to students of your school"):
        booking_services.booking_create(event=talk, student=james, by=james, notify=False)
    assert not Booking.objects.filter(event=talk, student=james, status="booked").exists()
