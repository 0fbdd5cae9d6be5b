"""Subject access, erasure and retention."""

import datetime

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import Subject, collect
from mycareer.audit.retention import retention_apply, retention_dry_run
from mycareer.audit.services import personal_data_erase, personal_data_export

pytestmark = pytest.mark.django_db

MARKER = "Zqxmarker Quillbottom"
EMAIL = "zqxmarker@quillbottom.example.com"
PHONE = "0113 999 8765"


@pytest.fixture
def marked(persona, cast):
    """One person, as an employer login and a contact, named in every kind of record."""
    from mycareer.accounts.models import User
    from mycareer.mailing.models import Campaign, OutboxMessage
    from mycareer.organisations import keyaccounts, services
    from mycareer.organisations.models import Organisation
    from mycareer.organisations.registration import employer_register
    from mycareer.usergroup import services as group

    operator, tom = persona("operator"), persona("operator")
    registration = employer_register(
        full_name=MARKER,
        email=EMAIL,
        password="a-long-Password-9",
        phone=PHONE,
        organisation_name="Quillbottom Ltd",
        website="https://quillbottom.example.com",
        ip_address="203.0.113.9",
    )
    user = User.objects.get(email=EMAIL)
    org = registration.organisation
    Organisation.objects.filter(pk=org.pk).update(status="active")
    contact = org.contacts.get(user=user)
    services.note_create(
        organisation=org,
        by=operator,
        contacts=[contact],
        text=f"Met {MARKER} ({EMAIL}, {PHONE}) about placements.",
    )
    services.contact_opt_out(contact=contact, purpose="events", method="link", by=None)
    account = keyaccounts.key_account_create(
        organisation=org, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(
        account=account, contact=contact, guidance=f"Call {MARKER} first", by=tom
    )
    contact.refresh_from_db()
    keyaccounts.liaison_request_create(
        requester=persona("manager"),
        contact=contact,
        reason=f"To invite {MARKER}",
        proposed_engagement="Fair",
    )
    campaign = Campaign.objects.create(
        sender=persona("mailer"),
        unit=cast["units"]["lubs"],
        subject="Fair",
        body="x",
        status="sent",
    )
    OutboxMessage.objects.create(
        campaign=campaign,
        contact=contact,
        email=EMAIL,
        status="sent",
        sent_at=timezone.now(),
        organisation_id_at_send=org.pk,
    )
    group.feedback_log(
        by=operator, kind="fault", title="Contact page", description=f"{MARKER}'s page is slow"
    )
    return {"user": user, "contact": contact, "org": org, "campaign": campaign}


def test_subject_access_export_has_every_kind_of_record(marked, persona):
    document = personal_data_export(
        users=[marked["user"]], contacts=[marked["contact"]], by=persona("admin")
    )
    sections = " | ".join(document["records"])
    for expected in [
        "Logins",
        "Contact records",
        "notes",
        "email opt outs",
        "key contacts",
        "outbox messages",
        "employer memberships",
        "registration requests",
        "audit entries",
    ]:
        assert expected.lower() in sections.lower(), expected
    assert AuditEntry.objects.filter(
        action="audit.personal_data.exported", person=marked["user"]
    ).exists()


def test_subject_access_is_fast_for_thousands_of_rows(marked, persona):
    import time

    from mycareer.mailing.models import Campaign, OutboxMessage

    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                sender=persona("mailer"),
                unit=marked["campaign"].unit,
                subject=f"C{n}",
                body="x",
                status="sent",
            )
            for n in range(3000)
        ]
    )
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(campaign=c, contact=marked["contact"], email=EMAIL, status="sent")
            for c in campaigns
        ]
    )
    started = time.monotonic()
    data = collect(Subject(users=[marked["user"]], contacts=[marked["contact"]]))
    assert sum(len(rows) for rows in data.values()) > 3000
    assert time.monotonic() - started < 20  # "in seconds": generous on a loaded 2-core machine


def _text_columns():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def test_erasure_leaves_the_marker_in_no_text_column_of_any_table(marked, persona):
    notes_before = marked["org"].notes.count()
    sent_before = marked["campaign"].messages.filter(status="sent").count()
    personal_data_erase(users=[marked["user"]], contacts=[marked["contact"]], by=persona("admin"))
    leftovers = []
    for model, field in _text_columns():
        for value in model._base_manager.values_list(field.attname, flat=True).iterator():
            text = str(value)
            if any(word.lower() in text.lower() for word in (MARKER, EMAIL, PHONE)):
                leftovers.append(f"{model._meta.label}.{field.name}")
    assert leftovers == []
    # Figures stay right.
    assert marked["org"].notes.count() == notes_before
    assert marked["campaign"].messages.filter(status="sent").count() == sent_before
    marked["user"].refresh_from_db()
    assert not marked["user"].is_active
    assert AuditEntry.objects.filter(action="audit.personal_data.erased").count() == 2


def test_only_administrators_export_and_erase(client, persona, marked):
    url = reverse("audit:privacy")
    for name in (
        "operator",
        "manager",
        "mailer",
        "viewer",
        "student",
        "employer@demo-employer.com",
    ):
        client.force_login(persona(name))
        assert client.get(url, {"q": "Zqxmarker"}).status_code == 403
        assert (
            client.post(
                url, {"do": "erase", "user": marked["user"].pk, "confirm": "ERASE"}
            ).status_code
            == 403
        )
    marked["user"].refresh_from_db()
    assert marked["user"].is_active
    client.force_login(persona("admin"))
    page = client.get(url, {"q": "Zqxmarker"}).content.decode()
    assert EMAIL in page
    response = client.post(
        url, {"do": "export", "user": marked["user"].pk, "contact": marked["contact"].pk}
    )
    assert response["Content-Type"] == "application/json"
    assert b"Quillbottom Ltd" in response.content
    refused = client.post(url, {"do": "erase", "user": marked["user"].pk, "confirm": "no"})
    assert refused.status_code == 200
    marked["user"].refresh_from_db()
    assert marked["user"].is_active


def test_retention_dry_run_changes_nothing_and_the_real_run_does(persona, marked):
    from mycareer.organisations.models import RegistrationRequest
    from mycareer.organisations.registration import registration_decide

    old = RegistrationRequest.objects.get(user=marked["user"])
    registration_decide(
        registration=old, approve=False, by=persona("operator"), reason="Not a real employer"
    )
    RegistrationRequest.objects.filter(pk=old.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=400)
    )
    dry = {rule.name: n for rule, n in retention_dry_run()}
    assert dry["Declined employer registrations"] == 1
    assert RegistrationRequest.objects.filter(pk=old.pk).exists()
    done = retention_apply(by=None)
    assert done["Declined employer registrations"] == 1
    assert not RegistrationRequest.objects.filter(pk=old.pk).exists()
    marked["user"].refresh_from_db()
    assert marked["user"].email.endswith("@erased.invalid")
    assert AuditEntry.objects.filter(action="audit.retention.applied").exists()
