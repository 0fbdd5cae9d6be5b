import factory

from mycareer.accounts.models import User
from mycareer.organisations import services
from mycareer.organisations.models import (
    Contact,
    EmployerMembership,
    Note,
    Organisation,
    Sector,
)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Factory Organisation {n}")
    website = factory.Sequence(lambda n: f"https://org{n}.example.com")
    status = Organisation.Status.ACTIVE


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    full_name = factory.Sequence(lambda n: f"Contact Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    organisation = factory.SubFactory(OrganisationFactory)
    text = "Met to talk about placements."


def make_organisation(
    name: str, *, by: User | None = None, sector: str | None = None, **fields
) -> Organisation:
    """An organisation made as operators make it (tags, search index, audit), duplicates
    confirmed; `sector` by name."""
    if sector:
        fields["sector"] = Sector.objects.get(name=sector)
    return services.organisation_create(by=by, name=name, confirm_duplicates=True, **fields)


def brightwave_digital(employer: User) -> Organisation:
    """The demo employer's organisation as the demo story has it.

    `employer` is its active admin and a contact students may reach; one more contact
    keeps her details hidden, as contacts do by default.
    """
    organisation = make_organisation(
        "Brightwave Digital",
        website="https://www.demo-employer.com",
        sector="Technology and software",
        size=Organisation.Size.MEDIUM,
        locations="Leeds, London",
        description="Builds digital services for public bodies and charities.",
        tags=["Graduate recruiter", "Internships", "Careers fair exhibitor"],
    )
    ContactFactory(organisation=organisation, email="zara.holmes@demo-employer.com")
    services.contact_create(
        organisation=organisation,
        by=None,
        user=employer,
        full_name=employer.full_name,
        job_title=employer.job_title,
        email=employer.email,
        phone="0113 496 0001",
        visible_to_students=True,
        email_consent=True,
    )
    EmployerMembership.objects.create(
        user=employer,
        organisation=organisation,
        is_admin=True,
        status=EmployerMembership.Status.ACTIVE,
    )
    return organisation


def key_account_with_contact(
    *, operator, unit, by, organisation=None, contact=None, guidance: str = "Ask me first."
):
    """A key account `operator` holds for `unit`, with one key contact, made as
    administrators and key account operators make them (through the services)."""
    from mycareer.organisations import keyaccounts

    contact = contact or ContactFactory(organisation=organisation or OrganisationFactory())
    account = keyaccounts.key_account_create(
        organisation=contact.organisation, operator=operator, unit=unit, by=by
    )
    keyaccounts.key_contact_mark(account=account, contact=contact, guidance=guidance, by=operator)
    return account
