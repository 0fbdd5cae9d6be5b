"""The department code a university sign-in sends: a known unit joins, an unknown is reported."""

import pytest

from mycareer.accounts.models import StaffMembership
from mycareer.accounts.sso import UniversityIdentity, sso_person_sign_in
from mycareer.accounts.tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


def _staff(department: str) -> UniversityIdentity:
    return UniversityIdentity(
        university_id="grace@example.ac.uk",
        email="grace@example.ac.uk",
        given_name="Grace",
        family_name="Hopper",
        affiliations=["staff"],
        department=department,
    )


def test_a_known_department_makes_a_membership_marked_as_from_the_sign_in():
    chem = UnitFactory(code="chem")
    person = sso_person_sign_in(identity=_staff("CHEM"), provider="saml")
    membership = StaffMembership.objects.get(user=person)
    assert (membership.unit, membership.source) == (chem, "sign_in")
