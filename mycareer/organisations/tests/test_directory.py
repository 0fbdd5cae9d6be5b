"""The students' employer directory and the public profile it leads to."""

import datetime
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from mycareer.organisations import services
from mycareer.organisations.models import Organisation, Sector

pytestmark = pytest.mark.django_db

DIRECTORY = "/employers/"


def names(response) -> list[str]:
    body = response.content.decode()
    return [
        html.unescape(n) for n in re.findall(r'<h3><a href="/organisations/\d+/">([^<]+)</a>', body)
    ]


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "#00467f").save(buffer, "PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def student(client, persona):
    client.force_login(persona("student"))
    return persona("student")


@pytest.mark.usefixtures("demo")
def test_students_find_employers_by_part_of_the_name(client, student):
    found = names(client.get(DIRECTORY, {"q": "north ENG"}))
    assert found == ["Northbridge Engineering Ltd"]


@pytest.mark.usefixtures("demo")
def test_students_filter_by_sector_and_location(client, student):
    health = Sector.objects.get(name="Healthcare")
    assert "Aire Valley Health NHS Trust" in names(client.get(DIRECTORY, {"sector": health.pk}))
    assert all(
        "York" in o.locations
        for o in Organisation.objects.filter(
            name__in=names(client.get(DIRECTORY, {"location": "york"}))
        )
    )
    assert names(client.get(DIRECTORY, {"location": "york"}))


def test_only_live_organisations_are_listed(client, student, persona):
    archived = services.organisation_create(
        by=persona("operator"), name="Zephyr Archived Ltd", confirm_duplicates=True
    )
    services.organisation_archive(organisation=archived, by=persona("manager"))
    listed = names(client.get(DIRECTORY, {"q": "Zephyr"})) + names(
        client.get(DIRECTORY, {"q": "Tidewater"})
    )
    assert listed == []  # archived, and pending approval


def test_contact_names_are_not_searchable(client, student):
    # Laura Chen is a contact of Brightwave Digital; students search employers, not people.
    assert names(client.get(DIRECTORY, {"q": "Laura Chen"})) == []


@pytest.mark.usefixtures("demo")
def test_each_card_shows_the_logo_or_the_initials(client, student, persona):
    brightwave = Organisation.objects.get(name="Brightwave Digital")
    services.organisation_update(organisation=brightwave, by=persona("operator"), logo=png())
    body = client.get(DIRECTORY, {"q": "Bright"}).content.decode()
    assert re.search(r'<img class="logo" src="/media/logos/[^"]+" alt=""', body)
    body = client.get(DIRECTORY, {"q": "Calder"}).content.decode()
    assert '<span class="logo logo--initials logo--48" aria-hidden="true">CW</span>' in body


@pytest.mark.usefixtures("demo")
def test_the_directory_costs_a_fixed_number_of_queries(
    client, student, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = client.get(DIRECTORY)
    assert len(names(response)) == 24


def test_employers_are_told_the_directory_is_not_for_them(client, persona):
    client.force_login(persona("employer@demo-employer.com"))
    response = client.get(DIRECTORY)
    assert response.status_code == 403
    assert "The employer directory is for students and university staff" in html.unescape(
        response.content.decode()
    )


# The public profile --------------------------------------------------------------------


@pytest.mark.usefixtures("demo")
def test_a_profile_lists_open_vacancies_and_upcoming_events_open_to_the_student(client, student):
    ouse = Organisation.objects.get(name="Ouse Water Services")
    body = client.get(ouse.get_absolute_url()).content.decode()
    assert "Open vacancies" in body and "Graduate Process Engineer" in body
    assert "Upcoming events" in body
    assert "Ouse Water Services: sustainability in engineering" in body


@pytest.mark.usefixtures("demo")
def test_a_student_of_another_school_sees_only_what_is_open_to_them(client, persona):
    client.force_login(persona("student4"))  # BA History
    ouse = Organisation.objects.get(name="Ouse Water Services")
    body = client.get(ouse.get_absolute_url()).content.decode()
    assert "Ouse Water Services: sustainability in engineering" not in body
    assert "Graduate Process Engineer" not in body  # aimed at engineering only
    assert "No upcoming events with Ouse Water Services are open to you just now." in body


@pytest.mark.usefixtures("demo")
def test_past_cancelled_and_draft_events_are_left_out(client, student):
    from mycareer.events.models import Event

    kirkstall = Organisation.objects.get(name="Kirkstall Robotics")
    body = client.get(kirkstall.get_absolute_url()).content.decode()
    for event in Event.objects.filter(organisations=kirkstall):
        shown = event.title in body
        live = event.status == Event.Status.PUBLISHED and event.ends_at >= timezone.now()
        assert shown == live, event.title


@pytest.mark.usefixtures("demo")
def test_contact_details_appear_only_when_allowed_and_only_to_students(client, persona):
    brightwave = Organisation.objects.get(name="Brightwave Digital")
    visible = brightwave.contacts.get(email="employer@demo-employer.com")
    hidden = services.contact_create(
        organisation=brightwave,
        by=None,
        full_name="Hidden Person",
        email="hidden.person@demo-employer.com",
        phone="0113 496 7777",
    )
    assert not hidden.visible_to_students  # hidden by default
    client.force_login(persona("student"))
    body = client.get(brightwave.get_absolute_url()).content.decode()
    assert visible.email in body
    assert "Hidden Person" not in body and hidden.email not in body and hidden.phone not in body
    # Another employer reads the profile but none of its people's details.
    from mycareer.core.tests.conftest_matrix import employer_b

    client.force_login(employer_b(persona))
    body = client.get(brightwave.get_absolute_url()).content.decode()
    assert visible.email not in body and hidden.email not in body


@pytest.mark.usefixtures("demo")
def test_the_vacancy_list_shows_each_employers_logo(client, student, persona):
    northbridge = Organisation.objects.get(name="Northbridge Engineering Ltd")
    services.organisation_update(organisation=northbridge, by=persona("operator"), logo=png())
    body = client.get(reverse("vacancies:list")).content.decode()
    card = body.split("Graduate Mechanical Engineer")[0].rsplit('<li class="card', 1)[1]
    assert '<img class="logo" src="/media/logos/' in card


@pytest.mark.usefixtures("demo")
def test_a_date_in_the_future_keeps_the_event_listed_until_it_ends(client, student):
    # Ends after now: still upcoming, even if it has started.
    from mycareer.events.models import Event

    ouse = Organisation.objects.get(name="Ouse Water Services")
    event = Event.objects.get(title="Ouse Water Services: sustainability in engineering")
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=10),
        ends_at=timezone.now() + datetime.timedelta(minutes=50),
    )
    assert event.title in client.get(ouse.get_absolute_url()).content.decode()
