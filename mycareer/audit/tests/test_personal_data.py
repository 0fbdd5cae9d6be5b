"""The personal data registry, its pages' permissions, and retention."""

import datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import personal_data_handlers, subject_from_ids
from mycareer.audit.retention import retention_apply, retention_dry_run
from mycareer.audit.services import personal_data_erase
from mycareer.audit.tests.conftest import EMAIL, MARKER, PHONE
from mycareer.audit.tests.test_erasure import _everywhere

pytestmark = pytest.mark.django_db

# Relations to a person that record who did something: the audit trail and the letter's
# "Who changed or exported your data" cover them, and erasure leaves them pointing at
# the anonymised login.
ACTOR_FIELDS = ("_by", ".actor", ".person")


def test_every_relation_to_a_person_is_covered_by_a_personal_data_handler():
    """A new model that points at a login or a contact fails here until a handler covers it."""
    from mycareer.audit.personal_data import contact_model

    people = (get_user_model(), contact_model())
    covered = {name for h in personal_data_handlers().values() for name in h.covers}
    uncovered = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not (field.concrete or field.many_to_many) or field.auto_created:
                continue
            if getattr(field, "related_model", None) not in people:
                continue
            name = f"{model._meta.label}.{field.name}"
            if name not in covered and not name.endswith(ACTOR_FIELDS):
                uncovered.append(name)
    assert uncovered == []


def test_erasure_leaves_the_person_only_where_they_cannot_be_linked_to(marked, persona):
    """Everywhere they can appear, they are gone; text that merely names them elsewhere
    (a colleague's fault report about "their page") is outside erasure's reach, by design."""
    erased_before = AuditEntry.objects.filter(action="audit.personal_data.erased").count()
    notes_before = marked["org"].notes.count()
    sent_before = marked["campaign"].messages.filter(status="sent").count()
    subject = subject_from_ids([marked["user"].pk], [marked["contact"].pk])
    personal_data_erase(subject=subject, by=persona("admin"))
    assert _everywhere(MARKER, EMAIL, PHONE) == ["usergroup.Feedback.description"]
    # Figures stay right.
    assert marked["org"].notes.count() == notes_before
    assert marked["campaign"].messages.filter(status="sent").count() == sent_before
    marked["user"].refresh_from_db()
    assert not marked["user"].is_active
    erased = AuditEntry.objects.filter(action="audit.personal_data.erased")
    assert erased.count() == erased_before + 2


def test_only_administrators_find_people_and_read_their_letters(client, persona, marked):
    records = {"user": marked["user"].pk, "contact": marked["contact"].pk}
    pages = [
        (reverse("audit:letter"), records),
        (reverse("audit:letter_json"), records),
    ]
    find = reverse("audit:privacy")
    for name in ("operator", "manager", "mailer", "viewer", "student", "employer"):
        client.force_login(persona(name))
        for url, query in pages:
            assert client.get(url, query).status_code == 403
        assert client.post(find, {"q": "Zqxmarker"}).status_code == 403
    assert not AuditEntry.objects.filter(action="audit.personal_data.exported").exists()
    client.force_login(persona("admin"))
    page = client.post(find, {"q": "Zqxmarker"}).content.decode()
    assert EMAIL in page
    # A name in the address is not searched: it would stay in the access log.
    assert EMAIL not in client.get(find, {"q": "Zqxmarker"}).content.decode()
    response = client.get(reverse("audit:letter_json"), records)
    assert response["Content-Type"].startswith("application/json")
    assert "Quillbottom Ltd" in response.content.decode()
    exported = AuditEntry.objects.filter(action="audit.personal_data.exported")
    assert exported.count() == 2
    assert {entry.data["format"] for entry in exported} == {"JSON"}


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
    erased = AuditEntry.objects.filter(action="audit.personal_data.erased", person=marked["user"])
    assert erased.count() == 1 and erased.get().actor is None


def test_pressing_on_with_no_record_ticked_keeps_the_search_and_its_results(
    client, persona, marked
):
    """The page went back to an empty search box: the name had to be typed again."""
    client.force_login(persona("admin"))
    find = reverse("audit:privacy")
    for then in ("letter", "erase"):
        page = client.post(find, {"q": "Zqxmarker", "then": then}).content.decode()
        assert "Tick at least one record of the person." in page
        assert EMAIL in page
        assert 'value="Zqxmarker"' in page
    response = client.post(
        find, {"q": "Zqxmarker", "then": "erase", "contact": marked["contact"].pk}
    )
    # The name stays out of the address (and so out of the access log); the ids do not.
    assert response.url == f"{reverse('audit:erase')}?contact={marked['contact'].pk}"
    assert not AuditEntry.objects.filter(action="audit.personal_data.exported").exists()


def test_a_search_of_only_spaces_says_what_to_type(client, persona):
    client.force_login(persona("admin"))
    page = client.post(reverse("audit:privacy"), {"q": "   "}).content.decode()
    assert "Type a name or an email address to find the person." in page
    assert "Type a name" not in client.get(reverse("audit:privacy")).content.decode()
