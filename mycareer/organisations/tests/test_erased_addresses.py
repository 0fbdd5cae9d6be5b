"""An erased employer contact's address is kept as a keyed hash, so that a file or a
script does not add the person again; a colleague adding them by hand still may."""

import logging

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts.models import ErasedIdentifier
from mycareer.api import services as api_services
from mycareer.audit.personal_data import subject_from_ids
from mycareer.audit.services import personal_data_erase
from mycareer.organisations import imports, services
from mycareer.organisations.erased import AddressErased, erased_addresses
from mycareer.organisations.models import Contact
from mycareer.organisations.tests.factories import make_organisation
from mycareer.organisations.tests.test_imports import csv_bytes, row

pytestmark = pytest.mark.django_db

ADDRESS = "grace.bank@northern.example"


@pytest.fixture
def erased(persona):
    """Grace Bank of Northern Bank, erased at her request."""
    tom = persona("operator")
    org = make_organisation("Northern Bank", by=tom)
    grace = services.contact_create(
        organisation=org, by=tom, full_name="Grace Bank", email=f"  {ADDRESS.upper()} "
    )
    personal_data_erase(subject=subject_from_ids([], [grace.pk]), by=persona("admin"))
    return {"org": org, "tom": tom, "grace": grace}


def _day() -> str:
    return date_format(timezone.localdate(), "j F Y")


def test_the_erasure_keeps_a_keyed_hash_of_the_address_not_the_address(erased):
    [kept] = ErasedIdentifier.objects.filter(kind=ErasedIdentifier.Kind.CONTACT_EMAIL)
    assert kept.erased_on == timezone.localdate()
    assert ADDRESS not in kept.digest
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ErasedIdentifier._meta.db_table}")  # noqa: S608
        for values in cursor.fetchall():
            assert not any(ADDRESS in str(value).lower() for value in values)
    assert erased_addresses([ADDRESS, "Grace.Bank@Northern.example"]) == {
        ADDRESS: timezone.localdate(),
        "Grace.Bank@Northern.example": timezone.localdate(),
    }


def test_the_hash_is_keyed(erased, settings):
    settings.MYCAREER = {**settings.MYCAREER, "ERASED_IDENTIFIER_KEY": "another key"}
    assert erased_addresses([ADDRESS]) == {}


def test_it_keeps_a_login_of_that_address_free(erased):
    from mycareer.accounts.erased import erased_on

    assert erased_on(university_id="", email=ADDRESS) is None


@pytest.mark.parametrize("address", [ADDRESS, "Grace.BANK@northern.example"])
def test_an_import_with_their_row_is_refused_and_imports_nothing(
    erased, address, operator, client, caplog
):
    rows = [
        row("Kestrel Analytics", full_name="Sam Lee", email="sam@kestrel.example"),
        row("Northern Bank", full_name="Grace Bank", email=address),
    ]
    plan = imports.plan_import(data=csv_bytes(rows), filename="people.csv")
    assert not plan.is_valid
    [problem] = plan.problems
    assert problem.row == 3
    assert problem.message == (
        f"{address.lower()} belongs to a person erased on {_day()} at their request; remove "
        "the row, or add them by hand if they have come back to you."
    )
    client.force_login(operator)
    with caplog.at_level(logging.INFO, logger="mycareer.organisations.imports"):
        checked = client.post(
            reverse("organisations:import"),
            {"file": _upload(csv_bytes(rows))},
        )
    page = checked.content.decode()
    assert '<td data-label="Row">3</td>' in page and "belongs to a person erased on" in page
    assert not checked.context["token"]
    assert any("import.refused_erased" in r.getMessage() for r in caplog.records)
    with pytest.raises(imports.ValidationError):
        imports.import_apply(plan=plan, by=operator)
    assert not Contact.objects.filter(email__iexact=address).exists()
    assert not Contact.objects.filter(full_name="Sam Lee").exists()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("people.csv", data)


@pytest.fixture
def operator(persona):
    return persona("operator")


def test_the_api_refuses_them_with_409(erased, client, caplog):
    tom = erased["tom"]
    _token, secret = api_services.token_create(
        owner=tom, by=tom, name="Test", scopes=api_services.scopes_for(tom)
    )
    with caplog.at_level(logging.INFO, logger="mycareer.organisations.erased"):
        refused = client.post(
            f"/api/v1/organisations/{erased['org'].pk}/contacts",
            data={"full_name": "Grace Bank", "email": "Grace.Bank@northern.example"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "erased"
    assert f"belongs to a person erased on {_day()} at their request" in body["message"]
    assert body["fields"]["email"] == [body["message"]]
    assert not Contact.objects.filter(full_name="Grace Bank").exists()
    [line] = [r.getMessage() for r in caplog.records if "erased_address" in r.getMessage()]
    assert "source=api" in line and ADDRESS not in line


def _bearer(user) -> str:
    _token, secret = api_services.token_create(
        owner=user, by=user, name="Test", scopes=api_services.scopes_for(user)
    )
    return f"Bearer {secret}"


def _patch(client, auth: str, contact: Contact, changes: dict):
    etag = client.get(f"/api/v1/contacts/{contact.pk}", HTTP_AUTHORIZATION=auth)["ETag"]
    return client.patch(
        f"/api/v1/contacts/{contact.pk}",
        data=changes,
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
        HTTP_IF_MATCH=etag,
    )


def test_the_api_refuses_changing_a_live_contact_to_their_address_with_409(erased, client, caplog):
    tom = erased["tom"]
    sam = services.contact_create(
        organisation=erased["org"], by=tom, full_name="Sam Lee", email="sam@northern.example"
    )
    auth = _bearer(tom)
    with caplog.at_level(logging.INFO, logger="mycareer.organisations.erased"):
        refused = _patch(client, auth, sam, {"email": " Grace.Bank@Northern.example"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "erased"
    assert f"belongs to a person erased on {_day()} at their request" in body["message"]
    assert body["fields"]["email"] == [body["message"]]
    sam.refresh_from_db()
    assert sam.email == "sam@northern.example"
    [line] = [r.getMessage() for r in caplog.records if "erased_address" in r.getMessage()]
    assert "source=api" in line and ADDRESS not in line
    # Other changes, and an address nobody erased, still go through.
    changed = _patch(client, auth, sam, {"job_title": "Recruiter", "email": "sam.lee@n.example"})
    assert changed.status_code == 200, changed.content
    sam.refresh_from_db()
    assert (sam.job_title, sam.email) == ("Recruiter", "sam.lee@n.example")


def test_the_api_leaves_a_contact_who_is_back_alone(erased, client):
    tom = erased["tom"]
    grace = services.contact_create(
        organisation=erased["org"], by=tom, full_name="Grace Bank", email=ADDRESS
    )
    changed = _patch(client, _bearer(tom), grace, {"email": ADDRESS, "job_title": "Analyst"})
    assert changed.status_code == 200, changed.content


def test_the_service_refuses_only_when_asked(erased):
    with pytest.raises(AddressErased):
        services.contact_create(
            organisation=erased["org"],
            by=erased["tom"],
            refuse_erased=True,
            full_name="Grace Bank",
            email=ADDRESS,
        )
    services.contact_create(
        organisation=erased["org"], by=erased["tom"], full_name="Grace Bank", email=ADDRESS
    )


def test_the_change_service_refuses_only_when_asked(erased):
    tom = erased["tom"]
    sam = services.contact_create(
        organisation=erased["org"], by=tom, full_name="Sam Lee", email="sam@northern.example"
    )
    with pytest.raises(AddressErased):
        services.contact_update(contact=sam, by=tom, refuse_erased=True, email=ADDRESS.upper())
    sam.refresh_from_db()
    assert sam.email == "sam@northern.example"
    services.contact_update(contact=sam, by=tom, email=ADDRESS)
    sam.refresh_from_db()
    assert sam.email == ADDRESS


def test_the_contact_form_adds_them_with_a_notice_and_then_they_are_back(erased, client):
    org = erased["org"]
    client.force_login(erased["tom"])
    added = client.post(
        reverse("organisations:contact_create", args=[org.pk]),
        {"full_name": "Grace Bank", "email": "Grace.Bank@northern.example"},
        follow=True,
    )
    assert added.status_code == 200
    page = added.content.decode()
    assert "Grace Bank was added." in page
    assert f"belonged to a person erased on {_day()} at their request" in page
    assert Contact.objects.filter(organisation=org, email=ADDRESS, erased_at=None).exists()
    # Back in MyCareer, a file naming them is no longer refused.
    rows = [row("Northern Bank", full_name="Grace Bank", email=ADDRESS)]
    assert imports.plan_import(data=csv_bytes(rows), filename="people.csv").is_valid


def test_the_contact_edit_form_gives_the_same_notice_when_the_address_becomes_theirs(
    erased, client
):
    org, tom = erased["org"], erased["tom"]
    sam = services.contact_create(
        organisation=org, by=tom, full_name="Sam Lee", email="sam@northern.example"
    )
    client.force_login(tom)
    url = reverse("organisations:contact_edit", args=[org.pk, sam.pk])
    saved = client.post(url, {"full_name": "Sam Lee", "email": ADDRESS}, follow=True)
    page = saved.content.decode()
    assert "Sam Lee was saved." in page
    assert f"belonged to a person erased on {_day()} at their request" in page
    # Saved again with the address it has now: nothing more to say.
    again = client.post(url, {"full_name": "Sam Lee", "email": ADDRESS}, follow=True)
    assert "belonged to a person erased" not in again.content.decode()


def test_an_employer_adds_a_colleague_back_and_learns_nothing_of_the_erasure(
    client, persona, laura, brightwave
):
    pat = services.contact_create(
        organisation=brightwave, by=laura, full_name="Pat Reed", email="pat@demo-employer.com"
    )
    personal_data_erase(subject=subject_from_ids([], [pat.pk]), by=persona("admin"))
    client.force_login(laura)
    added = client.post(
        reverse("employer:contact_create"),
        {"full_name": "Pat Reed", "email": "Pat@demo-employer.com"},
        follow=True,
    )
    assert added.status_code == 200
    page = added.content.decode()
    assert "The contact is saved." in page
    # The list still shows the erased record, as before; nothing ties the address to it.
    assert "belonged to a person erased" not in page
    assert "at their request" not in page
    assert Contact.objects.filter(
        organisation=brightwave, email="pat@demo-employer.com", erased_at=None
    ).exists()
