"""Units, programmes and people for tests, made with factories in a few queries.

`small_cast()` makes the people the demo story names (the same emails, access levels,
training dates and terms), without the organisations, events and emails around them:
the persona fixtures in /conftest.py stand on it. Tests that need more make it here
(or with the other apps' factories) rather than borrowing it from the demo story.
"""

import datetime
import functools

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone

from mycareer.accounts import demo
from mycareer.accounts.models import (
    AccessGrant,
    AccessLevel,
    DegreeProgramme,
    StaffMembership,
    StudentProfile,
    TermsAcceptance,
    TermsVersion,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
    Unit,
    User,
)


@functools.cache
def cheap_password_hash() -> str:
    """The demo password, hashed cheaply: tests log in often and never store real ones."""
    return MD5PasswordHasher().encode(demo.DEMO_PASSWORD, "testsalt")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.LazyAttribute(lambda o: f"School of {o.code.title()}")
    kind = Unit.Kind.SCHOOL


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DegreeProgramme
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"programme-{n}")
    name = factory.LazyAttribute(lambda o: f"BSc {o.code.title()}")
    unit = factory.SubFactory(UnitFactory)
    level = "ug"


class UserFactory(factory.django.DjangoModelFactory):
    """A person whose email address is verified and who can log in with the demo password."""

    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.ac.uk")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    kind = User.Kind.STUDENT
    password = factory.LazyFunction(cheap_password_hash)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


class StaffFactory(UserFactory):
    """A member of staff: `units`, `level`, and training `operator_days`/`bulk_days` ago.

    `terms` (a TermsVersion) is accepted when given.
    """

    kind = User.Kind.STAFF

    @factory.post_generation
    def units(obj, create, extracted, **kwargs):
        if create and extracted:
            StaffMembership.objects.bulk_create(
                [StaffMembership(user=obj, unit=unit) for unit in extracted]
            )

    @factory.post_generation
    def level(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            AccessGrant.objects.create(user=obj, level=AccessLevel(extracted), note="Test")

    @factory.post_generation
    def operator_days(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            completed(obj, TrainingCourse.OPERATOR, days_ago=extracted)

    @factory.post_generation
    def bulk_days(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            completed(obj, TrainingCourse.BULK_EMAIL, days_ago=extracted)

    @factory.post_generation
    def terms(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            TermsAcceptance.objects.create(user=obj, terms=extracted)


class StudentFactory(UserFactory):
    """A student on `profile__programme` (made if not given) in `profile__year_of_study`."""

    kind = User.Kind.STUDENT
    profile = factory.RelatedFactory(
        "mycareer.accounts.tests.factories.StudentProfileFactory", factory_related_name="user"
    )


class StudentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudentProfile

    user = factory.SubFactory(StudentFactory, profile=None)
    programme = factory.SubFactory(ProgrammeFactory)
    unit = factory.LazyAttribute(lambda o: o.programme.unit)
    year_of_study = 2
    student_number = factory.Sequence(lambda n: f"8{n:08d}")


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    """A two-hour operator training session a fortnight from now."""

    class Meta:
        model = TrainingSession

    course = factory.LazyFunction(lambda: training_courses()[TrainingCourse.OPERATOR])
    kind = TrainingSession.Kind.ANNUAL
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    place = "Careers Centre, Seminar Room 2"
    capacity = 20


def training_courses() -> dict[str, TrainingCourse]:
    """The two courses (a data migration adds them; a flushed test database lacks them)."""
    return {
        code: TrainingCourse.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in (
            (TrainingCourse.OPERATOR, "Operator training"),
            (TrainingCourse.BULK_EMAIL, "Bulk email training"),
        )
    }


def completed(user: User, course_code: str, *, days_ago: int) -> TrainingRecord:
    """A completed course, `days_ago` days ago, valid for the course's usual term."""
    course = training_courses()[course_code]
    completed_on = timezone.localdate() - datetime.timedelta(days=days_ago)
    return TrainingRecord.objects.create(
        user=user,
        course=course,
        status=TrainingRecord.Status.COMPLETED,
        completed_on=completed_on,
        expires_on=completed_on + datetime.timedelta(days=course.valid_days),
    )


def small_cast() -> dict:
    """The demo university's units, programmes and people; nothing else.

    The same shape as the demo story's cast (`units`, `programmes`, `staff`,
    `students`, `employer`, `admin`), so `persona("operator")` finds the same person.
    """
    training_courses()
    units: dict[str, Unit] = {}
    for code, name, kind, parent in demo.UNITS:
        units[code] = UnitFactory(code=code, name=name, kind=kind, parent=units.get(parent))
    programmes = {
        code: ProgrammeFactory(code=code, name=name, unit=units[unit], level=level)
        for code, name, unit, level in demo.PROGRAMMES
    }
    terms = TermsVersion.objects.filter(version="2.1").first() or TermsVersion.objects.create(
        version="2.1", title="MyCareer terms of use", body=demo.TERMS_BODY
    )
    staff: dict[str, User] = {}
    for email, name, title, unit_codes, level, operator_days, bulk_days in demo.STAFF:
        staff[email] = StaffFactory(
            email=email,
            full_name=name,
            job_title=title,
            units=[units[code] for code in unit_codes],
            level=level,
            operator_days=operator_days,
            bulk_days=bulk_days,
            terms=terms,
        )
    admin = staff["admin@demo.ac.uk"]
    TOTP.activate(admin, demo.DEMO_TOTP_SECRET)
    students = {
        email: StudentFactory(
            email=email,
            full_name=name,
            profile__programme=programmes[code],
            profile__year_of_study=year,
            profile__student_number=number,
        )
        for email, name, code, year, number in demo.STUDENTS
    }
    employer = UserFactory(
        email="employer@demo-employer.com",
        full_name="Laura Chen",
        kind=User.Kind.EMPLOYER,
        job_title="Early Careers Lead",
    )
    return {
        "units": units,
        "programmes": programmes,
        "staff": staff,
        "students": students,
        "employer": employer,
        "admin": admin,
    }


def load_small_cast() -> dict:
    """The small cast as `small_cast()` made it, read afresh for one test (three queries)."""
    units = {unit.code: unit for unit in Unit.objects.all()}
    programmes = {p.code: p for p in DegreeProgramme.objects.select_related("unit")}
    staff_emails = [row[0] for row in demo.STAFF]
    student_emails = [row[0] for row in demo.STUDENTS]
    people = User.objects.in_bulk(
        [*staff_emails, *student_emails, "employer@demo-employer.com"], field_name="email"
    )
    return {
        "units": units,
        "programmes": programmes,
        "staff": {email: people[email] for email in staff_emails},
        "students": {email: people[email] for email in student_emails},
        "employer": people["employer@demo-employer.com"],
        "admin": people["admin@demo.ac.uk"],
    }
