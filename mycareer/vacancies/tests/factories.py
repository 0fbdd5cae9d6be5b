import datetime

import factory
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.accounts.tests.factories import UserFactory
from mycareer.organisations.models import EmployerMembership
from mycareer.organisations.tests.factories import OrganisationFactory
from mycareer.vacancies.models import Vacancy


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


class EmployerFactory(UserFactory):
    email = factory.Sequence(lambda n: f"recruiter{n}@employer{n}.example.com")
    full_name = factory.Sequence(lambda n: f"Recruiter {n}")
    kind = User.Kind.EMPLOYER


class MembershipFactory(factory.django.DjangoModelFactory):
    """An employer who is an active admin of an organisation unless told otherwise."""

    class Meta:
        model = EmployerMembership

    user = factory.SubFactory(EmployerFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    is_admin = True
    status = EmployerMembership.Status.ACTIVE


class VacancyFactory(factory.django.DjangoModelFactory):
    """A row as it would be in any state; tests of transitions use the services instead."""

    class Meta:
        model = Vacancy

    organisation = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(lambda n: f"Factory Vacancy {n}")
    type = Vacancy.Type.GRADUATE_JOB
    description = "A good first job."
    location = "Leeds"
    salary = "£27,000 a year"
    closing_date = factory.LazyFunction(lambda: in_days(30))
    apply_url = "https://jobs.example.com/apply"
    status = Vacancy.Status.APPROVED


def vacancy_fields(**overrides) -> dict:
    """What an employer types into the form, for calling the services."""
    return {
        "title": "Graduate Developer",
        "type": Vacancy.Type.GRADUATE_JOB,
        "description": "Build accessible web services.",
        "location": "Leeds",
        "remote": False,
        "salary": "£28,000 a year",
        "closing_date": in_days(30),
        "apply_url": "https://jobs.example.com/graduate-developer",
        "apply_email": "",
        **overrides,
    }
