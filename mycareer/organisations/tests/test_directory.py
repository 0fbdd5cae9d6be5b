"""The students' employer directory and the public profile it leads to."""

import datetime
import html
import io
import re

import factory
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from mycareer.organisations import services
from mycareer.organisations.models import Organisation, Sector
from mycareer.organisations.tests.factories import OrganisationFactory, make_organisation
from mycareer.vacancies.models import Vacancy
from mycareer.vacancies.tests.factories import VacancyFactory, in_days

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


@pytest.fixture
def employers(cast) -> dict[str, Organisation]:
    """A few employers whose names, sectors and places the searches below tell apart."""
    rows = [
        ("Northbridge Engineering Ltd", "Engineering and manufacturing", "Leeds, Sheffield"),
        ("North Yorkshire Dairies", "Retail and consumer goods", "Ripon"),
        ("Engine Room Studios", "Creative arts and media", "Leeds"),
        ("Aire Valley Health NHS Trust", "Healthcare", "Bradford, Keighley"),
        ("Ouse Water Services", "Energy and utilities", "York, Leeds"),
        ("Calder & Wharfe LLP", "Law", "Leeds, Manchester"),
    ]
    return {
        name: make_organisation(name, sector=sector, locations=locations)
        for name, sector, locations in rows
    }


@pytest.mark.usefixtures("employers")
def test_students_find_employers_by_part_of_the_name(client, student):
    found = names(client.get(DIRECTORY, {"q": "north ENG"}))
    assert found == ["Northbridge Engineering Ltd"]


@pytest.mark.usefixtures("employers")
def test_students_filter_by_sector_and_location(client, student):
    health = Sector.objects.get(name="Healthcare")
    assert names(client.get(DIRECTORY, {"sector": health.pk})) == ["Aire Valley Health NHS Trust"]
    assert names(client.get(DIRECTORY, {"location": "york"})) == ["Ouse Water Services"]


@pytest.mark.usefixtures("employers")
def test_a_filter_the_directory_does_not_know_is_refused_by_name_not_ignored(client, student):
    """A mistyped link (`?sectors=`) listed every employer as if they matched."""
    health = Sector.objects.get(name="Healthcare")
    response = client.get(DIRECTORY, {"sectors": health.pk})
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "The search has a filter it does not know: “sectors”." in body
    assert "Correct the search above to see employers." in body
    assert names(response) == []
    # Its page and "count exactly" are not filters; a filter it knows still narrows.
    known = client.get(DIRECTORY, {"sector": health.pk, "page": "1", "count": "exact"})
    assert "does not know" not in known.content.decode()
    assert names(known) == ["Aire Valley Health NHS Trust"]


@pytest.mark.usefixtures("employers")
def test_a_bad_filter_value_lists_no_employers(client, student):
    response = client.get(DIRECTORY, {"sector": "999999"})
    assert "Select a valid choice" in response.content.decode()
    assert names(response) == []


def test_only_live_organisations_are_listed(client, student, persona):
    archived = services.organisation_create(
        by=persona("operator"), name="Zephyr Archived Ltd", confirm_duplicates=True
    )
    services.organisation_archive(organisation=archived, by=persona("manager"))
    make_organisation("Tidewater Labs", status=Organisation.Status.PENDING)
    listed = names(client.get(DIRECTORY, {"q": "Zephyr"})) + names(
        client.get(DIRECTORY, {"q": "Tidewater"})
    )
    assert listed == []  # archived, and pending approval


@pytest.mark.usefixtures("brightwave")
def test_contact_names_are_not_searchable(client, student):
    # Laura Chen is a contact of Brightwave Digital; students search employers, not people.
    assert names(client.get(DIRECTORY, {"q": "Laura Chen"})) == []
    assert names(client.get(DIRECTORY, {"q": "Brightwave"})) == ["Brightwave Digital"]


@pytest.mark.usefixtures("employers")
def test_each_card_shows_the_logo_or_the_initials(client, student, persona, brightwave):
    services.organisation_update(organisation=brightwave, by=persona("operator"), logo=png())
    body = client.get(DIRECTORY, {"q": "Bright"}).content.decode()
    assert re.search(r'<img class="logo" src="/media/logos/[^"]+" alt=""', body)
    body = client.get(DIRECTORY, {"q": "Calder"}).content.decode()
    assert '<span class="logo logo--initials logo--48" aria-hidden="true">CW</span>' in body


def test_the_directory_costs_a_fixed_number_of_queries(
    client, student, django_assert_max_num_queries
):
    # More than a page of employers, each with a sector the card shows.
    OrganisationFactory.create_batch(
        30, sector=factory.Iterator(Sector.objects.all()), locations="Leeds"
    )
    with django_assert_max_num_queries(6):
        response = client.get(DIRECTORY)
    assert len(names(response)) == 24
    assert "30 employers" in response.content.decode()


def test_a_student_keeps_to_employers_with_vacancies_aimed_at_their_course(
    client, student, persona, cast, employers
):
    """A student of MEng Mechanical Engineering looks for who recruits it: vacancies that
    name their programme, their school or their faculty; not those for every student, nor
    those aimed elsewhere, closed or not yet approved."""
    units, programmes = cast["units"], cast["programmes"]
    aimed = {
        "Northbridge Engineering Ltd": ("target_programmes", programmes["meng-mech"]),
        "Ouse Water Services": ("target_units", units["eps"]),  # their faculty
        "Engine Room Studios": ("target_units", units["computing"]),  # another school
    }
    for name, (targets, target) in aimed.items():
        getattr(VacancyFactory(organisation=employers[name]), targets).set([target])
    VacancyFactory(organisation=employers["Calder & Wharfe LLP"])  # for every student
    closed = VacancyFactory(organisation=employers["North Yorkshire Dairies"])
    closed.target_programmes.set([programmes["meng-mech"]])
    Vacancy.objects.filter(pk=closed.pk).update(closing_date=in_days(-1))
    waiting = VacancyFactory(
        organisation=employers["Aire Valley Health NHS Trust"], status=Vacancy.Status.SUBMITTED
    )
    waiting.target_units.set([units["mech"]])

    response = client.get(DIRECTORY, {"for_you": "on"})
    assert names(response) == ["Northbridge Engineering Ltd", "Ouse Water Services"]
    assert "2 employers match your search" in html.unescape(response.content.decode())
    assert names(client.get(DIRECTORY, {"for_you": "on", "location": "york"})) == [
        "Ouse Water Services"
    ]
    # Left empty or unticked, every employer; neither a yes nor a no, refused by name.
    everyone = names(client.get(DIRECTORY))
    assert len(everyone) == len(employers)
    assert names(client.get(DIRECTORY, {"for_you": ""})) == everyone
    refused = html.unescape(client.get(DIRECTORY, {"for_you": "maybe"}).content.decode())
    assert "“maybe” is not a yes or a no" in refused
    # A student of another school in the same faculty: their school's, and the faculty's.
    client.force_login(persona("student2"))
    assert names(client.get(DIRECTORY, {"for_you": "on"})) == [
        "Engine Room Studios",
        "Ouse Water Services",
    ]


def test_only_a_student_is_offered_employers_aimed_at_their_course(client, persona):
    """Staff browsing the directory have no course: no tick box, and asked for in the
    address, it is a filter the page does not know rather than every employer."""
    client.force_login(persona("student"))
    assert 'name="for_you"' in client.get(DIRECTORY).content.decode()
    client.force_login(persona("operator"))
    assert 'name="for_you"' not in client.get(DIRECTORY).content.decode()
    response = client.get(DIRECTORY, {"for_you": "on"})
    assert "a filter it does not know: “for_you”" in html.unescape(response.content.decode())
    assert names(response) == []


def test_employers_are_told_the_directory_is_not_for_them(client, persona):
    client.force_login(persona("employer@demo-employer.com"))
    response = client.get(DIRECTORY)
    assert response.status_code == 403
    assert "The employer directory is for students and university staff" in html.unescape(
        response.content.decode()
    )


# The public profile --------------------------------------------------------------------


@pytest.fixture
def ouse(cast, persona) -> Organisation:
    """Ouse Water Services, with a vacancy for engineering students and a talk for the
    School of Mechanical Engineering's second and third years in five weeks."""
    from mycareer.events.models import Event
    from mycareer.events.tests.factories import at, make_event
    from mycareer.vacancies import services as vacancies
    from mycareer.vacancies.tests.factories import vacancy_fields

    ouse = make_organisation("Ouse Water Services", locations="York, Leeds")
    operator, units = persona("operator"), cast["units"]
    vacancies.vacancy_create(
        organisation=ouse,
        by=operator,
        **vacancy_fields(title="Graduate Process Engineer", target_units=[units["eps"]]),
    )
    make_event(
        by=operator,
        starts_at=at(timezone.localdate() + datetime.timedelta(weeks=5), 11),
        title="Ouse Water Services: sustainability in engineering",
        type=Event.Type.EMPLOYER_PRESENTATION,
        unit=units["mech"],
        organisations=[ouse],
        audience_units=[units["mech"]],
        audience_years=[2, 3],
        publish=True,
    )
    return ouse


def test_a_profile_lists_open_vacancies_and_upcoming_events_open_to_the_student(
    client, student, ouse
):
    body = client.get(ouse.get_absolute_url()).content.decode()
    assert "Open vacancies" in body and "Graduate Process Engineer" in body
    assert "Upcoming events" in body
    assert "Ouse Water Services: sustainability in engineering" in body


def test_a_student_of_another_school_sees_only_what_is_open_to_them(client, persona, ouse):
    client.force_login(persona("student4"))  # BA History
    body = client.get(ouse.get_absolute_url()).content.decode()
    assert "Ouse Water Services: sustainability in engineering" not in body
    assert "Graduate Process Engineer" not in body  # aimed at engineering only
    assert "No upcoming events with Ouse Water Services are open to you just now." in body


def test_past_cancelled_and_draft_events_are_left_out(client, student):
    from mycareer.events.models import Event
    from mycareer.events.tests.factories import EventFactory

    kirkstall = make_organisation("Kirkstall Robotics")
    now = timezone.now()
    soon, ago = now + datetime.timedelta(days=9), now - datetime.timedelta(days=7)
    events = [
        EventFactory(title="Kirkstall: automation in practice", starts_at=ago),
        EventFactory(title="Kirkstall: lab tour", starts_at=soon, status=Event.Status.CANCELLED),
        EventFactory(title="Kirkstall: robot workshop", starts_at=soon, status=Event.Status.DRAFT),
        EventFactory(title="Kirkstall: careers fair", starts_at=soon),
    ]
    for event in events:
        event.organisations.add(kirkstall)
    body = client.get(kirkstall.get_absolute_url()).content.decode()
    assert [event.title for event in events if event.title in body] == ["Kirkstall: careers fair"]


def test_contact_details_appear_only_when_allowed_and_only_to_students(
    client, persona, brightwave, employer_b
):
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
    client.force_login(employer_b)
    body = client.get(brightwave.get_absolute_url()).content.decode()
    assert visible.email not in body and hidden.email not in body


def test_the_vacancy_list_shows_each_employers_logo(client, student, persona):
    from mycareer.vacancies.tests.factories import VacancyFactory

    northbridge = make_organisation("Northbridge Engineering Ltd")
    VacancyFactory(organisation=northbridge, title="Graduate Mechanical Engineer")
    VacancyFactory(organisation=make_organisation("Pennine Analytics"), title="Data Intern")
    services.organisation_update(organisation=northbridge, by=persona("operator"), logo=png())
    body = client.get(reverse("vacancies:list")).content.decode()
    card = body.split("Graduate Mechanical Engineer")[0].rsplit('<li class="card', 1)[1]
    assert '<img class="logo" src="/media/logos/' in card
    other = body.split("Data Intern")[0].rsplit('<li class="card', 1)[1]
    assert '<img class="logo"' not in other


def test_a_date_in_the_future_keeps_the_event_listed_until_it_ends(client, student, ouse):
    # Ends after now: still upcoming, even if it has started.
    from mycareer.events.models import Event

    event = Event.objects.get(title="Ouse Water Services: sustainability in engineering")
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=10),
        ends_at=timezone.now() + datetime.timedelta(minutes=50),
    )
    assert event.title in client.get(ouse.get_absolute_url()).content.decode()


def test_the_profile_form_names_the_logo_by_its_file_not_where_it_is_kept(
    client, persona, brightwave, laura
):
    """ "Currently: logos/2026/logo.png" read as a path on a server."""
    services.organisation_update(organisation=brightwave, by=persona("operator"), logo=png())
    brightwave.refresh_from_db()
    stored = brightwave.logo.name
    assert "/" in stored
    client.force_login(laura)
    page = client.get(reverse("employer:profile")).content.decode()
    shown = stored.rsplit("/", 1)[-1]
    assert f'Currently: <a href="{brightwave.logo.url}">{shown}</a>' in page
    assert f">{stored}<" not in page


def test_a_logo_over_the_pixel_limit_is_refused_on_the_employers_profile_page(
    client, laura, brightwave, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from mycareer.core.tests.html_forms import as_post, form_fields
    from mycareer.core.tests.test_bad_input import small_png

    client.force_login(laura)
    url = reverse("employer:profile")
    data = as_post(form_fields(client.get(url).content.decode(), containing="description"))
    data.pop("logo", None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    logo = SimpleUploadedFile("logo.png", small_png(), content_type="image/png")
    response = client.post(url, {**data, "description": "Kept as typed", "logo": logo})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The logo is too large in pixels: it must be at most 4000 pixels on each side." in page
    assert "not a valid image" not in page and "Kept as typed" in page
    brightwave.refresh_from_db()
    assert not brightwave.logo
