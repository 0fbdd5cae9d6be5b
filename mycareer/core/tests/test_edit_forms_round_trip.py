"""Every edit form round-trips: opened and saved unchanged, it changes nothing.

A draft campaign once lost its recipients because its edit form showed an empty field
that meant "everyone". This test opens every edit page of the authorisation matrix as a
persona who may use it, reads the form as a browser would submit it (inputs, selected
options, checked boxes, textareas), posts it unchanged, and compares every row of every
MyCareer table before and after: fields and relations alike. Only timestamps that
record "last saved" or "last used", and sessions, may differ; no audit entry is written,
and the page says that nothing was changed.

Every text stored has two lines, as "\\n" (as the API, an import and the seed store
them), and the page is sent back with a browser's "\\r\\n": the same words, unchanged.
"""

import re
import shutil

import pytest
from django.apps import apps
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import reverse

from mycareer.core.tests.conftest_matrix import login_as
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.core.tests.matrix import route_kwargs, sample_objects, url_routes

# The pages are walked on the matrix's small world: a draft, a note, a key account.
pytestmark = pytest.mark.usefixtures("cast")

# route name -> who may use it and a field name that identifies the edit form on the page.
# A page whose form is a search (GET) names the field of the form its answer shows.
EDIT_ROUTES = {
    "accounts:access_edit": [("admin", "level")],
    "accounts:profile": [("operator", "job_title"), ("manager", "job_title")],
    "bookings:policy": [("admin", "no_shows")],
    "bookings:settings": [("operator", "capacity")],
    "employer:contact_edit": [("employer_a", "email")],
    "employer:preferences": [("employer_a", "events")],
    "employer:profile": [("employer_a", "description")],
    "events:edit": [("operator", "title")],
    "mailing:campaign_edit": [("mailer", "subject")],
    "mailing:campaign_recipients": [("mailer", "text", "recipient_filters")],
    "organisations:contact_edit": [("operator", "email")],
    "organisations:edit": [("operator", "name")],
    "organisations:key_account_reassign": [("admin", "operator")],
    "organisations:key_contact_mark": [("operator", "guidance")],
    "organisations:note_edit": [("manager", "text")],
    "usergroup:feedback": [("admin", "duplicate_of")],
    "vacancies:edit": [("employer_a", "title"), ("operator", "title")],
}

# Pages whose names look like editing but whose form makes something new or acts once.
NOT_EDIT_FORMS = {
    "accounts:terms_publish": "publishes a new version of the terms",
}

LOOKS_LIKE_AN_EDIT = re.compile(r"(edit|profile|preferences|settings|policy|reassign)$")

# Values that record when something was last saved or used, not what it is.
VOLATILE_FIELDS = {"updated_at", "modified_at", "last_login", "last_seen_at"}
VOLATILE_MODELS = {"audit.auditentry", "sessions.session", "mfa.authenticator"}
VOLATILE_APPS = {"axes"}  # sign-in attempts

CRLF = "\r\n"  # how a browser sends a textarea's line breaks


def test_every_page_that_looks_like_an_edit_form_is_walked():
    names = {name for name in url_routes() if LOOKS_LIKE_AN_EDIT.search(name.split(":")[-1])}
    unwalked = names - set(EDIT_ROUTES) - set(NOT_EDIT_FORMS)
    assert unwalked == set(), "new edit pages need an entry in EDIT_ROUTES"
    assert set(EDIT_ROUTES) - set(url_routes()) == set()


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table that is ours or holds our relations, as plain values."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in VOLATILE_MODELS or model._meta.app_label in VOLATILE_APPS:
            continue
        if not model._meta.managed:
            continue  # kept by the database from our tables (SQLite's text index)
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname not in VOLATILE_FIELDS and not isinstance(field, models.FileField)
        ]
        state[label] = list(model._default_manager.order_by("pk").values(*fields))
    return state


def differences(before: dict, after: dict) -> list[str]:
    found = []
    for label, rows in before.items():
        if rows == after[label]:
            continue
        old = {row.get("id", i): row for i, row in enumerate(rows)}
        new = {row.get("id", i): row for i, row in enumerate(after[label])}
        for key in sorted(old.keys() | new.keys(), key=str):
            if old.get(key) != new.get(key):
                changed = {
                    field: (old.get(key, {}).get(field), new.get(key, {}).get(field))
                    for field in (old.get(key) or new.get(key))
                    if old.get(key, {}).get(field) != new.get(key, {}).get(field)
                }
                found.append(f"{label} {key}: {changed}")
    return found


def give_every_text_two_lines() -> None:
    """Every text of ours has two lines, stored with "\\n" (an empty one gets both)."""
    for model in apps.get_models():
        if not model.__module__.startswith("mycareer."):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.TextField) and field.editable and not field.choices:
                rows = model._base_manager.all()
                rows.filter(**{field.name: ""}).update(**{field.name: "A first line."})
                rows.update(**{field.name: Concat(F(field.name), Value("\nA second line."))})


def audit_entries() -> set[int]:
    return set(apps.get_model("audit", "AuditEntry").objects.values_list("pk", flat=True))


CASES = [(name, *case) for name, cases in sorted(EDIT_ROUTES.items()) for case in cases]


def editable_objects(persona) -> dict:
    """The matrix's sample objects, with a live vacancy (a rejected one's only button
    sends it for moderation again, a change the person asks for)."""
    from mycareer.vacancies.models import Vacancy

    objects = sample_objects(persona)
    objects["vacancy"] = (
        Vacancy.objects.filter(organisation__name="Brightwave Digital")
        .filter(status=Vacancy.Status.APPROVED)
        .values_list("pk", flat=True)
        .first()
    )
    return objects


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "who", "field", "answer_field"), [(case + (None,))[:4] for case in CASES]
)
def test_saving_an_edit_form_unchanged_changes_nothing(
    name, who, field, answer_field, client, persona, settings, tmp_path
):
    # Uploads (logos, photos) are read again when a form is saved: work on a copy.
    shutil.copytree(settings.MEDIA_ROOT, tmp_path, dirs_exist_ok=True)
    settings.MEDIA_ROOT = tmp_path
    objects = editable_objects(persona)
    url = reverse(name, kwargs=route_kwargs(name, url_routes()[name], objects))
    login_as(client, persona, who)
    give_every_text_two_lines()

    page = client.get(url)
    assert page.status_code == 200, f"{who} cannot open {name}"
    data = as_post(
        form_fields(page.content.decode(), containing=field, pressing_enter=True, line_breaks=CRLF)
    )
    if answer_field:
        # The search form is sent as it stands; its answer holds the form that saves.
        page = client.get(url, data)
        data = as_post(
            form_fields(
                page.content.decode(),
                containing=answer_field,
                pressing_enter=True,
                line_breaks=CRLF,
            )
        )
    before = snapshot()
    audited = audit_entries()
    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    if not response.redirect_chain:
        body = response.content.decode()
        assert "errorlist" not in body and 'aria-invalid="true"' not in body, (
            f"{name} refused its own unchanged form"
        )
    changed = differences(before, snapshot())
    assert not changed, "\n".join(changed)
    assert audit_entries() == audited, f"{name} recorded a change it did not make"
    # "Nothing was changed.", or the page's own words for it.
    said = [str(message) for message in response.context["messages"]]
    assert any("nothing" in message.lower() for message in said), f"{name} said {said}"
