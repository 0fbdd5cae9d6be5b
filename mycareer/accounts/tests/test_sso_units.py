"""The department code a university sign-in sends: a known unit joins, an unknown is reported."""

import logging

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


def test_an_unknown_department_is_reported_never_invented(caplog):
    from mycareer.accounts.models import Unit, UnknownDepartmentCode

    units = Unit.objects.count()
    with caplog.at_level(logging.WARNING):
        person = sso_person_sign_in(identity=_staff("Astro-Phys"), provider="saml")
        sso_person_sign_in(identity=_staff("astro-phys"), provider="saml")

    assert Unit.objects.count() == units
    assert not StaffMembership.objects.filter(user=person).exists()
    reported = UnknownDepartmentCode.objects.get()
    assert (reported.code, reported.sign_ins, reported.provider) == ("astro-phys", 2, "saml")
    lines = [r.getMessage() for r in caplog.records if "sso.unknown_department" in r.getMessage()]
    assert len(lines) == 2
    assert "code=astro-phys" in lines[0] and "provider=saml" in lines[0]
    assert f"user={person.pk}" in lines[0]
