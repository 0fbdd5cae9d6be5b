"""A contact whose person was erased keeps its record for the notes and emails that named
them, but nobody can be typed onto it again, nor chosen as them anew."""

import datetime
import logging

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mycareer.api import services as api_services
from mycareer.audit.personal_data import ERASED_CONTACT, subject_from_ids
from mycareer.audit.services import personal_data_erase
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.organisations import imports, keyaccounts, services
from mycareer.organisations.erased import ContactErased
from mycareer.organisations.models import Contact, EmailOptOut, KeyContact
from mycareer.organisations.tests.factories import key_account_with_contact, make_organisation
from mycareer.organisations.tests.test_imports import csv_bytes, row

pytestmark = pytest.mark.django_db

REFUSAL = "they cannot be added back to this record. Add the person as a new contact."


@pytest.fixture
def erased(persona):
    """Priya, named in a note, then erased: her record stays as "Erased contact"."""
    tom = persona("operator")
    org = make_organisation("Kestrel Analytics", by=tom)
    priya = services.contact_create(
        organisation=org,
        by=tom,
        full_name="Priya Shah",
        job_title="Graduate Recruiter",
        email="priya@kestrel.example",
    )
    services.contact_create(organisation=org, by=tom, full_name="Sam Lee", email="sam@k.example")
    note = services.note_create(organisation=org, by=tom, contacts=[priya], text="Met at a fair.")
    personal_data_erase(subject=subject_from_ids([], [priya.pk]), by=persona("admin"))
    priya.refresh_from_db()
    return {"contact": priya, "org": org, "note": note, "tom": tom}


def _day(contact: Contact) -> str:
    return f"{timezone.localtime(contact.erased_at):%-d %B %Y}"


def test_the_erasure_keeps_the_fact_and_when(erased):
    contact = erased["contact"]
    assert contact.full_name == ERASED_CONTACT and contact.email == ""
    assert timezone.now() - contact.erased_at < datetime.timedelta(minutes=1)
    assert list(erased["note"].contacts.all()) == [contact]


def test_its_details_cannot_be_changed(erased):
    contact = erased["contact"]
    with pytest.raises(ContactErased) as refused:
        services.contact_update(
            contact=contact, by=erased["tom"], full_name="Someone Else", email="new@k.example"
        )
    assert refused.value.messages == [
        f"This person's details were erased on {_day(contact)}; {REFUSAL}"
    ]
    contact.refresh_from_db()
    assert (contact.full_name, contact.email) == (ERASED_CONTACT, "")


def test_its_visibility_and_email_choices_cannot_be_changed(erased):
    contact, tom = erased["contact"], erased["tom"]
    with pytest.raises(ContactErased):
        services.contact_update(contact=contact, by=tom, visible_to_students=True)
    with pytest.raises(ContactErased):
        services.contact_set_email_choices(
            contact=contact, wanted={"events": False}, method=EmailOptOut.Method.STAFF, by=tom
        )
    with pytest.raises(ContactErased):
        services.contact_opt_in(contact=contact, purpose=EmailOptOut.Purpose.ALL, by=tom)
    contact.refresh_from_db()
    assert contact.visible_to_students is False
    assert not contact.opt_outs.exists()


def test_it_cannot_become_a_key_contact_nor_be_asked_about(erased, persona, cast):
    contact, tom = erased["contact"], erased["tom"]
    account = keyaccounts.key_account_create(
        organisation=erased["org"], operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    with pytest.raises(ContactErased):
        keyaccounts.key_contact_mark(account=account, contact=contact, guidance="Me first", by=tom)
    assert not KeyContact.objects.filter(contact=contact).exists()
    with pytest.raises(ContactErased):
        keyaccounts.liaison_request_create(
            requester=persona("manager"), contact=contact, reason="A talk", proposed_engagement="x"
        )


def test_a_key_contact_erased_later_keeps_its_link_but_is_asked_about_by_nobody(persona, cast):
    tom = persona("operator")
    account = key_account_with_contact(
        operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    contact = account.key_contacts.get().contact
    personal_data_erase(subject=subject_from_ids([], [contact.pk]), by=persona("admin"))
    contact = Contact.objects.get(pk=contact.pk)
    assert KeyContact.objects.filter(contact=contact).exists()
    # No "*": it asks others to liaise before contacting a person nobody can contact.
    assert contact.display_name == "Erased contact"
    with pytest.raises(ContactErased):
        keyaccounts.liaison_request_create(
            requester=persona("manager"), contact=contact, reason="A talk", proposed_engagement="x"
        )


def test_a_note_cannot_name_it_anew_but_one_that_named_it_keeps_it(erased):
    contact, tom, org = erased["contact"], erased["tom"], erased["org"]
    with pytest.raises(ValidationError) as refused:
        services.note_create(organisation=org, by=tom, contacts=[contact], text="Called.")
    assert "erased on" in refused.value.message_dict["contacts"][0]
    other = services.note_create(organisation=org, by=tom, text="Called someone.")
    with pytest.raises(ValidationError):
        services.note_update(note=other, by=tom, contacts=[contact])
    assert not other.contacts.exists()
    # The note that named them before is still edited as before, and keeps them.
    note = erased["note"]
    assert services.note_update(note=note, by=tom, text="Met at the spring fair.")
    assert list(note.contacts.all()) == [contact]


def test_the_api_answers_409_with_the_reason(erased, client):
    contact, tom = erased["contact"], erased["tom"]
    _token, secret = api_services.token_create(
        owner=tom, by=tom, name="Test", scopes=api_services.scopes_for(tom)
    )

    def call(method: str, path: str, data=None, **headers):
        return getattr(client, method)(
            f"/api/v1{path}",
            data=data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            **headers,
        )

    etag = call("get", f"/contacts/{contact.pk}")["ETag"]
    refused = call(
        "patch",
        f"/contacts/{contact.pk}",
        {"full_name": "Someone Else", "email": "someone@k.example"},
        HTTP_IF_MATCH=etag,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "erased"
    assert REFUSAL in refused.json()["message"]
    note = call(
        "post",
        f"/organisations/{erased['org'].pk}/notes",
        {"text": "Called.", "contacts": [contact.pk]},
    )
    assert note.status_code == 400 and "erased on" in note.content.decode()
    assert Contact.objects.get(pk=contact.pk).full_name == ERASED_CONTACT


def test_an_import_row_named_like_it_does_not_fill_it_in(erased):
    rows = [row("Kestrel Analytics", full_name=ERASED_CONTACT, phone="0113 496 1234")]
    plan = imports.plan_import(data=csv_bytes(rows), filename="people.csv")
    [group] = plan.groups
    assert group.existing_id == erased["org"].pk
    assert group.contacts[0].existing_id is None


def test_the_note_form_does_not_offer_it_and_its_page_offers_no_edit(client, erased):
    contact, org = erased["contact"], erased["org"]
    client.force_login(erased["tom"])
    new_note = client.get(reverse("organisations:note_create", args=[org.pk]))
    offered = [str(c) for c in new_note.context["form"].fields["contacts"].queryset]
    assert offered == ["Sam Lee"]
    # Editing the note that named them keeps them ticked, and saves.
    note = erased["note"]
    edit = client.get(reverse("organisations:note_edit", args=[org.pk, note.pk]))
    assert contact in edit.context["form"].fields["contacts"].queryset
    data = as_post(form_fields(edit.content.decode(), containing="text"))
    data["text"] = ["Met at the spring fair."]
    saved = client.post(edit.request["PATH_INFO"], data)
    assert saved.status_code == 302
    assert list(note.contacts.all()) == [contact]

    page = client.get(contact.get_absolute_url()).content.decode()
    assert "were erased on" in page
    edit_url = reverse("organisations:contact_edit", args=[org.pk, contact.pk])
    assert edit_url not in page
    assert reverse("organisations:contact_email", args=[org.pk, contact.pk]) not in page
    profile = client.get(org.get_absolute_url()).content.decode()
    assert f'{ERASED_CONTACT} <span class="muted">(erased on {_day(contact)})</span>' in profile
    assert contact.get_absolute_url() not in profile
    # The address typed by hand says why, rather than offering a form.
    refused = client.get(edit_url, follow=True)
    assert REFUSAL in refused.content.decode()
    posted = client.post(edit_url, {"full_name": "Someone Else", "email": "s@k.example"})
    assert posted.status_code == 302
    assert Contact.objects.get(pk=contact.pk).full_name == ERASED_CONTACT


def test_the_employers_people_page_shows_it_without_an_edit_link(
    client, laura, brightwave, persona
):
    contact = brightwave.contacts.exclude(user=laura).get()
    personal_data_erase(subject=subject_from_ids([], [contact.pk]), by=persona("admin"))
    client.force_login(laura)
    page = client.get(reverse("employer:contacts")).content.decode()
    edit_url = reverse("employer:contact_edit", args=[contact.pk])
    assert "(erased on" in page and edit_url not in page
    refused = client.post(edit_url, {"full_name": "New Hire", "email": "new@demo-employer.com"})
    assert refused.status_code == 302
    assert Contact.objects.get(pk=contact.pk).full_name == ERASED_CONTACT


@pytest.mark.django_db(transaction=True)
def test_contacts_erased_before_the_release_are_marked_when_their_erasure_was_recorded(
    persona,
):
    from django.contrib.contenttypes.models import ContentType

    from mycareer.audit.models import AuditEntry
    from mycareer.organisations.tests.test_score_migration import migrate

    org = make_organisation("Kestrel Analytics", by=persona("operator"))
    recorded, unrecorded, kept = (
        Contact.objects.create(organisation=org, full_name=name, email=email)
        for name, email in [
            (ERASED_CONTACT, ""),
            (ERASED_CONTACT, ""),
            ("Sam Lee", "sam@k.example"),
        ]
    )
    when = timezone.now() - datetime.timedelta(days=30)
    AuditEntry.objects.create(
        action="audit.personal_data.erased",
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(recorded.pk),
        at=when,
    )
    try:
        migrate(("organisations", "0021_contact_erased_at"))
        migrate(("organisations", "0022_contacts_erased_before_are_marked"))
    finally:
        migrate()
    erased_at = dict(Contact.objects.values_list("pk", "erased_at"))
    assert erased_at[recorded.pk] == when
    assert timezone.now() - erased_at[unrecorded.pk] < datetime.timedelta(minutes=5)
    assert erased_at[kept.pk] is None


def test_erased_again_it_keeps_the_day_it_was_first_erased(erased, persona):
    contact = erased["contact"]
    first = timezone.now() - datetime.timedelta(days=3)
    Contact.objects.filter(pk=contact.pk).update(erased_at=first)
    personal_data_erase(subject=subject_from_ids([], [contact.pk]), by=persona("admin"))
    assert Contact.objects.get(pk=contact.pk).erased_at == first


def _refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "contact.refused" in r.getMessage()]


def test_its_record_cannot_be_deleted(erased, persona, caplog):
    contact = erased["contact"]
    with (
        caplog.at_level(logging.INFO, logger="mycareer.organisations.erased"),
        pytest.raises(ContactErased) as refused,
    ):
        services.contact_delete(contact=contact, by=persona("admin"))
    assert refused.value.messages == [
        f"This person's details were erased on {_day(contact)}. The record stays so that the "
        "notes, emails and key-contact links that named them keep their history: it cannot "
        "be deleted."
    ]
    assert any("deleted" in line for line in _refusals(caplog))
    assert list(erased["note"].contacts.all()) == [contact]


def test_a_record_erased_after_it_was_read_is_not_deleted(erased, persona):
    contact = erased["contact"]
    stale = Contact.objects.get(pk=contact.pk)
    stale.erased_at = None  # as read by a page opened before the erasure
    with pytest.raises(ContactErased):
        services.contact_delete(contact=stale, by=persona("admin"))
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_its_employer_cannot_remove_it(laura, brightwave, persona):
    contact = brightwave.contacts.exclude(user=laura).get()
    personal_data_erase(subject=subject_from_ids([], [contact.pk]), by=persona("admin"))
    with pytest.raises(ContactErased):
        services.contact_remove_by_employer(contact=contact, by=laura)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_key_contact_erased_later_stays_a_key_contact(persona, cast):
    tom = persona("operator")
    account = key_account_with_contact(
        operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    link = account.key_contacts.get()
    personal_data_erase(subject=subject_from_ids([], [link.contact_id]), by=persona("admin"))
    link = KeyContact.objects.select_related("contact").get(pk=link.pk)
    with pytest.raises(ContactErased) as refused:
        keyaccounts.key_contact_unmark(link=link, by=tom)
    assert "the link cannot be removed" in refused.value.messages[0]
    assert KeyContact.objects.filter(pk=link.pk).exists()


def test_its_delete_address_says_why_and_deletes_nothing(client, erased, persona):
    contact, org = erased["contact"], erased["org"]
    client.force_login(persona("admin"))
    page = client.get(contact.get_absolute_url()).content.decode()
    delete_url = reverse("organisations:contact_delete", args=[org.pk, contact.pk])
    assert delete_url not in page
    shown = client.get(delete_url, follow=True)
    assert "it cannot be deleted" in shown.content.decode()
    posted = client.post(delete_url, {"confirm": "on"})
    assert posted.status_code == 302 and posted.url == contact.get_absolute_url()
    assert Contact.objects.filter(pk=contact.pk).exists()
