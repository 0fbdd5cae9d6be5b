import datetime

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


COMMISSION_ONLY = "The university cannot advertise commission-only roles: add the basic pay."


@pytest.fixture
def every_state(brightwave, employer_a, persona, cast) -> dict:
    """Brightwave's vacancies, one in each state, made as the employer and moderator do.

    The live one with changes was sent for moderation after the submitted one.
    """
    from django.utils import timezone

    admin, units = persona("admin"), cast["units"]

    def made(title, **fields):
        return services.vacancy_create(
            organisation=brightwave, by=employer_a, **vacancy_fields(title=title, **fields)
        )

    def sent(title, **fields):
        return services.vacancy_submit(vacancy=made(title, **fields), by=employer_a)

    def approved(title, **fields):
        return services.vacancy_approve(vacancy=sent(title, **fields), by=admin)

    vacancies = {
        "draft": made("Junior Content Designer", target_units=[units["ahc"]]),
        "submitted": sent("Graduate Software Developer", target_units=[units["computing"]]),
        "live": approved("Summer Internship: User Research", type="internship"),
        "rejected": services.vacancy_reject(
            vacancy=sent("Sales Executive (Commission Only)", salary="Commission only"),
            by=admin,
            reason=COMMISSION_ONLY,
        ),
        "withdrawn": services.vacancy_withdraw(
            vacancy=approved("Digital Marketing Assistant"), by=employer_a
        ),
        "closed": approved("Spring Internship: Accessibility Testing", type="internship"),
    }
    pending = approved("Placement Year: Front-end Developer", salary="£22,000 a year")
    services.vacancy_update(vacancy=pending, by=employer_a, salary="£24,000 a year")
    vacancies["pending_edit"] = pending
    closed = vacancies["closed"]
    type(closed).objects.filter(pk=closed.pk).update(
        closing_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    services.vacancies_close_expired(today=timezone.localdate())
    for vacancy in vacancies.values():
        vacancy.refresh_from_db()
    return vacancies


@pytest.fixture
def elsewhere(persona, cast) -> dict:
    """Live vacancies that staff posted for other organisations, for various students."""
    from mycareer.vacancies.tests.factories import in_days

    units = cast["units"]
    posted = {}
    for name, title, kind, days, audience in (
        ("Northbridge Engineering Ltd", "Graduate Mechanical Engineer", "graduate_job", 35,
         [units["mech"]]),
        ("Stratos Aerospace Systems", "Summer Internship: Propulsion Engineering", "internship",
         5, [units["eps"]]),
        ("Pennine Analytics", "Data Science Intern", "internship", 14, [units["computing"]]),
        ("Calder & Wharfe LLP", "Summer Vacation Scheme", "internship", 6, []),
    ):  # fmt: skip
        posted[title] = services.vacancy_create(
            organisation=OrganisationFactory(name=name),
            by=persona("operator"),
            **vacancy_fields(title=title, type=kind, closing_date=in_days(days)),
            target_units=audience,
        )
    return posted
