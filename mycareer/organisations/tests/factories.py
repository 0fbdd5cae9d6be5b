import factory

from mycareer.organisations.models import Contact, Note, Organisation


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
