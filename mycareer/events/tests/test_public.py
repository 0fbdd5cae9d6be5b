"""Public pages of events shared with employers or the public: open with no account."""

import pytest
from django.urls import reverse

from mycareer.events import services
from mycareer.events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_event(term):
    return term["Engineering and technology careers fair"]


def test_anybody_opens_the_public_page_of_an_event_employers_take_part_in(client, shared_event):
    event = shared_event
    response = client.get(event.get_public_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert event.title in body and event.venue in body
    assert "Northbridge Engineering Ltd" in body  # organisations taking part
    assert "manager@demo.ac.uk" in body  # whom an employer contacts to take part
    assert reverse("events:public_ics", args=[event.uid]) in body


def test_the_public_calendar_file_links_back_to_the_public_page(client, shared_event):
    event = shared_event
    response = client.get(reverse("events:public_ics", args=[event.uid]))
    assert response.status_code == 200
    body = response.content.decode().replace("\r\n ", "")
    assert f"URL:http://127.0.0.1:8000{event.get_public_url()}" in body
    assert event.get_absolute_url() + "\r\n" not in body


@pytest.mark.parametrize("title", ["Ouse Water Services: sustainability in engineering"])
@pytest.mark.usefixtures("term")
def test_an_event_only_for_students_has_no_public_page(client, title):
    event = Event.objects.get(title=title)
    response = client.get(event.get_public_url())
    assert response.status_code == 404
    assert "only for the university's students and staff" in response.content.decode()
    assert event.title not in response.content.decode()


@pytest.mark.usefixtures("term")
def test_a_draft_has_no_public_page_even_if_shared(client):
    draft = Event.objects.get(title="Robotics industry evening")
    assert draft.audience.open_to_employers and draft.is_draft
    assert client.get(draft.get_public_url()).status_code == 404


def test_a_cancelled_shared_event_says_so(client, persona, shared_event):
    event = shared_event
    services.event_cancel(event=event, by=persona("manager"), reason="The hall flooded.")
    body = client.get(event.get_public_url()).content.decode()
    assert "This event is cancelled." in body and "The hall flooded." in body
    assert "How to take part" not in body


@pytest.mark.usefixtures("term")
def test_the_event_form_sets_who_beyond_students_it_is_for(client, persona):
    event = Event.objects.get(title="Ouse Water Services: sustainability in engineering")
    client.force_login(persona("operator"))
    from mycareer.core.tests.html_forms import as_post, form_fields

    edit = reverse("events:edit", args=[event.pk])
    data = as_post(form_fields(client.get(edit).content.decode(), containing="title"))
    assert "open_to_employers" not in data
    data["open_to_employers"] = ["on"]
    response = client.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event.audience.refresh_from_db()
    assert event.audience.open_to_employers and not event.audience.open_to_public
    assert client.get(event.get_public_url()).status_code == 200


def test_the_public_page_sends_employers_to_the_careers_centre_once_the_organiser_left(
    client, shared_event
):
    """It offered an organiser whose login is closed, with their address, as the contact."""
    from mycareer.core.mail import careers_centre_address

    event = shared_event
    event.audience.open_to_public = True
    event.audience.save(update_fields=["open_to_public"])
    organiser = event.organiser
    organiser.is_active = False
    organiser.save(update_fields=["is_active"])
    body = client.get(event.get_public_url()).content.decode()
    assert organiser.email not in body and organiser.full_name not in body
    assert f'contact the Careers Centre at <a href="mailto:{careers_centre_address()}' in body
    assert f'Questions: the Careers Centre, <a href="mailto:{careers_centre_address()}' in body


def test_a_student_refused_an_event_is_not_sent_to_an_organiser_who_left(
    client, persona, shared_event
):
    """Being told to ask the organiser named one whose inbox nobody reads."""
    from mycareer.core.mail import careers_centre_address

    event = shared_event
    event.audience.open_to_all = False
    event.audience.save(update_fields=["open_to_all"])
    event.audience.units.clear()
    event.audience.programmes.clear()
    organiser = event.organiser
    organiser.is_active = False
    organiser.save(update_fields=["is_active"])
    client.force_login(persona("student"))
    response = client.get(event.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 403
    assert str(organiser) not in body
    assert f"(write to the Careers Centre, {careers_centre_address()})" in body
