"""The little worlds several of this app's test files stand on."""

import pytest

from mycareer.organisations.models import Organisation
from mycareer.organisations.tests.factories import OrganisationFactory, brightwave_digital


@pytest.fixture
def brightwave(cast) -> Organisation:
    """The demo employer's organisation: she is its active admin and a visible contact."""
    return brightwave_digital(cast["employer"])


@pytest.fixture
def laura(cast, brightwave):
    """The demo employer, admin of Brightwave Digital."""
    return cast["employer"]


@pytest.fixture
def employer_b(cast):
    """An admin of another, active organisation."""
    from mycareer.vacancies.tests.factories import MembershipFactory

    membership = MembershipFactory(
        organisation=OrganisationFactory(name="Rival Recruitment Ltd"),
        user__email="hiring@rival-recruitment.example.com",
    )
    return membership.user


@pytest.fixture
def ravi(brightwave):
    """A colleague at Brightwave Digital who sees but does not change."""
    from mycareer.vacancies.tests.factories import MembershipFactory

    return MembershipFactory(
        organisation=brightwave, is_admin=False, user__email="ravi@demo-employer.com"
    )
