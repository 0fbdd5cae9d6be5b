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
