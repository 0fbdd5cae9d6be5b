"""This app's entries in the audit trail name organisations and contacts, not their ids."""

import pytest
from django.urls import reverse

from mycareer.audit.models import AuditEntry
from mycareer.organisations import services
from mycareer.organisations.tests.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def latest(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


def test_a_contact_and_a_note_name_their_organisation_and_contacts(persona):
    operator = persona("operator")
    organisation = OrganisationFactory(name="Kirkgate Robotics")
    ada = services.contact_create(
        organisation=organisation, by=operator, full_name="Ada Lovelace", email="ada@k.example"
    )
    bob = ContactFactory(organisation=organisation, full_name="Bob Marsh")
    # In any order: PostgreSQL keeps a JSON object's keys in an order of its own.
    assert sorted(latest("organisations.contact.created").details) == [
        ("name", "Ada Lovelace"),
        ("organisation", "Kirkgate Robotics"),
    ]
    note = services.note_create(
        organisation=organisation, by=operator, text="Met them.", contacts=[ada, bob]
    )
    details = dict(latest("organisations.note.created").details)
    assert details["organisation"] == "Kirkgate Robotics"
    assert details["kind"] == "Meeting" and details["started by"] == "We contacted them"
    assert details["contacts"] == "Ada Lovelace, Bob Marsh"
    services.note_update(note=note, by=operator, contacts=[bob])
    assert latest("organisations.note.changed").details == [
        ("contacts", "Ada Lovelace, Bob Marsh → Bob Marsh")
    ]


def test_what_was_deleted_since_reads_as_its_number():
    entry = AuditEntry(
        action="organisations.key_contact.marked", data={"contact": 999999, "guidance": "Ask"}
    )
    assert entry.details == [("contact", "(removed, number 999999)"), ("guidance", "Ask")]


def test_the_trail_shows_names_not_ids(client, persona):
    organisation = OrganisationFactory(name="Kirkgate Robotics")
    services.contact_create(
        organisation=organisation, by=persona("operator"), full_name="Ada Lovelace"
    )
    client.force_login(persona("admin"))
    html = client.get(reverse("audit:list")).content.decode()
    assert "organisation: Kirkgate Robotics" in html
    assert f"organisation: {organisation.pk}<" not in html


@pytest.mark.parametrize(
    "action", ["organisations.organisation.imported", "organisations.organisation.deleted"]
)
def test_a_number_of_contacts_reads_as_a_number_not_as_a_contact(action):
    contact = ContactFactory(full_name="Ada Lovelace")
    entries = [
        AuditEntry(action=action, data={"file": "x.csv", "contacts": number})
        for number in (contact.pk, 0)
    ]
    assert [dict(entry.details)["contacts"] for entry in entries] == [str(contact.pk), "0"]


def test_a_registration_reads_its_kind_by_label():
    entry = AuditEntry(action="organisations.registration.created", data={"kind": "new", "risk": 0})
    assert entry.details == [("kind", "New organisation"), ("risk", "0")]
