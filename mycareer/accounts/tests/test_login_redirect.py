"""Being sent to log in keeps the whole address of the page asked for, query and all."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-1"


def _sent_to_log_in(client, asked: str) -> str:
    """Ask for `asked` logged out; the login page we are sent to, checked to be one."""
    response = client.get(asked)
    assert response.status_code == 302
    login_url = response["Location"]
    assert urlsplit(login_url).path == reverse("account_login")
    return login_url


def test_a_search_survives_the_login_round_trip(client, cast):
    asked = reverse("organisations:search") + "?text=acme&tags_all=NHS"
    login_url = _sent_to_log_in(client, asked)
    response = client.post(login_url, {"login": "operator@demo.ac.uk", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == asked


@pytest.mark.parametrize(
    "asked",
    [
        "/audit/?person=grace&sensitive=on",  # the audit trail's own decorator
        "/organisations/{org}/?tab=notes&kind=note",  # a profile students may see too
        "/terms/?next=/organisations/%3Ftext%3Dacme%26tags_all%3DNHS",  # the terms page
        "/media/feedback/x.png?size=small&v=2",  # an uploaded file for staff only
        "/organisations/new/?name=Acme&website=acme.example",  # a view decorator
        "/vacancies/yours/?status=draft&page=2",  # a page for employers only
    ],
)
def test_every_way_to_the_login_page_keeps_every_parameter(client, cast, asked):
    from mycareer.organisations.tests.factories import OrganisationFactory

    asked = asked.format(org=OrganisationFactory(name="Brightwave Digital").pk)
    login_url = _sent_to_log_in(client, asked)
    assert parse_qs(urlsplit(login_url).query)["next"] == [asked]


def test_staff_sent_to_the_terms_come_back_with_every_parameter(client, persona, cast):
    from mycareer.accounts import services
    from mycareer.accounts.permissions import current_terms, staff_bound_by_terms

    client.force_login(persona("operator"))
    services.terms_publish(
        version="9.9",
        title="Terms",
        body="New terms.",
        by=persona("admin"),
        confirmed=staff_bound_by_terms().count(),
    )
    asked = reverse("organisations:search") + "?text=acme&tags_all=NHS"
    response = client.get(asked)
    assert response.status_code == 302
    terms_url = response["Location"]
    assert urlsplit(terms_url).path == reverse("accounts:terms")
    assert parse_qs(urlsplit(terms_url).query)["next"] == [asked]
    response = client.post(terms_url, {"accept": "yes"})
    assert current_terms().version == "9.9"
    assert response["Location"] == asked
