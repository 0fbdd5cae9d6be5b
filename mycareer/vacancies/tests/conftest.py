import pytest

from mycareer.organisations import services as organisation_services
from mycareer.organisations.models import Organisation
from mycareer.organisations.tests.factories import OrganisationFactory
from mycareer.vacancies import services
from mycareer.vacancies.tests.factories import MembershipFactory, vacancy_fields


@pytest.fixture
def brightwave(request, cast) -> Organisation:
    """Employer A's organisation: the demo employer is its active admin."""
    if "demo" in request.fixturenames:
        return Organisation.objects.get(name="Brightwave Digital")
    organisation = OrganisationFactory(
        name="Brightwave Digital", website="https://demo-employer.com"
    )
    MembershipFactory(organisation=organisation, user=cast["employer"])
    return organisation


@pytest.fixture
def employer_a(persona):
    return persona("employer@demo-employer.com")


@pytest.fixture
def employer_b(cast):
    """An admin of another, active organisation."""
    rival = organisation_services.organisation_create(
        by=cast["admin"], name="Rival Recruitment Ltd", confirm_duplicates=True
    )
    membership = MembershipFactory(
        organisation=rival, user__email="hiring@rival-recruitment.example.com"
    )
    return membership.user


@pytest.fixture
def moderator(persona):
    return persona("operator")


@pytest.fixture
def draft(brightwave, employer_a):
    return services.vacancy_create(
        organisation=brightwave, by=employer_a, **vacancy_fields(title="Junior Tester")
    )


@pytest.fixture
def submitted(draft, employer_a):
    return services.vacancy_submit(vacancy=draft, by=employer_a)


@pytest.fixture
def live(submitted, moderator):
    return services.vacancy_approve(vacancy=submitted, by=moderator)
