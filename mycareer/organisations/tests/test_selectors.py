"""Selectors that decide one rule each: whose contact details a person outside staff sees."""

import pytest
from django.contrib.auth.models import AnonymousUser

from mycareer.organisations import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def brightwave(brightwave):
    """Brightwave Digital, with one more contact who did not allow students to see her."""
    services.contact_create(
        organisation=brightwave,
        by=None,
        full_name="Hidden Person",
        email="hidden.person@demo-employer.com",
    )
    return brightwave


def _emails(contacts) -> set[str]:
    return {c.email for c in contacts}


def test_students_may_reach_only_the_contacts_the_employer_allowed(brightwave):
    allowed = {c.email for c in brightwave.contacts.all() if c.visible_to_students}
    assert allowed == {"employer@demo-employer.com"}
    assert _emails(selectors.contacts_students_may_reach(brightwave)) == allowed
    assert "hidden.person@demo-employer.com" not in allowed


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("student", True),  # students: the allowed ones
        ("employer", True),  # the organisation's own people: the allowed ones
        ("employer_b", False),  # another organisation's employer: none
        ("anonymous", False),
    ],
)
def test_contacts_shown_outside_staff_follow_one_rule(request, brightwave, persona, who, sees):
    user = {
        "student": lambda: persona("student"),
        "employer": lambda: persona("employer@demo-employer.com"),
        "employer_b": lambda: request.getfixturevalue("employer_b"),
        "anonymous": AnonymousUser,
    }[who]()
    shown = _emails(selectors.contacts_shown_to(user, brightwave))
    allowed = _emails(selectors.contacts_students_may_reach(brightwave))
    assert shown == (allowed if sees else set())


def test_the_employers_own_profile_page_shows_only_the_allowed_contacts(
    client, brightwave, persona
):
    client.force_login(persona("employer@demo-employer.com"))
    body = client.get(brightwave.get_absolute_url()).content.decode()
    for contact in brightwave.contacts.all():
        assert (contact.email in body) == contact.visible_to_students, contact.email
