"""A browser sends a text box's line breaks as "\\r\\n"; MyCareer keeps them as "\\n".

Text stored from the API, an import or the seed has "\\n": the same words sent back by
a browser must not count as a change (an audit entry, an email to an event's people,
a "saved" that saved nothing).
"""

import importlib
import pkgutil

import pytest
from django import forms

import mycareer
from mycareer.core.forms import MultiLineField, StaleEditGuard
from mycareer.core.text import newlines_only

STORED = "First line.\nSecond line.\n\nA new paragraph."
FROM_A_BROWSER = STORED.replace("\n", "\r\n")


def test_every_line_break_becomes_a_newline():
    assert newlines_only("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert newlines_only("\r\n\r\n") == "\n\n"
    assert newlines_only("one line") == "one line"


def test_a_multi_line_field_keeps_newlines_only():
    assert MultiLineField().clean(FROM_A_BROWSER) == STORED
    assert MultiLineField().clean("old\rMac") == "old\nMac"


@pytest.mark.parametrize("stored", [STORED, FROM_A_BROWSER])
def test_the_same_text_from_a_browser_is_not_a_change(stored):
    field = MultiLineField()
    assert not field.has_changed(stored, FROM_A_BROWSER)
    assert not field.has_changed(stored, STORED)
    assert field.has_changed(stored, FROM_A_BROWSER + " More.")
    assert field.has_changed(stored, FROM_A_BROWSER.replace("\r\n\r\n", "\r\n"))


class Description(StaleEditGuard, forms.Form):
    description = MultiLineField(required=False)
    title = forms.CharField()


def _opened(stored: str) -> dict:
    page = Description(initial={"description": stored, "title": "Fair"}, guard=True)
    return {"description": FROM_A_BROWSER, "title": "Fair", "opened_as": page["opened_as"].value()}


@pytest.mark.parametrize("stored", [STORED, FROM_A_BROWSER])
def test_the_stale_edit_guard_sees_no_one_elses_change_in_line_breaks(stored):
    form = Description(
        _opened(stored), initial={"description": stored, "title": "Fair"}, guard=True
    )
    assert form.is_valid(), form.errors
    assert form.changed_data == []
    # Stored as a browser once sent it, and sent back unchanged: kept as it is, not
    # rewritten (which would count as a change).
    assert form.cleaned_data["description"] == stored


def test_a_real_change_among_the_line_breaks_is_still_seen():
    data = {**_opened(STORED), "description": FROM_A_BROWSER + "\r\nOne more line."}
    form = Description(data, initial={"description": STORED, "title": "Fair"}, guard=True)
    assert form.is_valid(), form.errors
    assert form.changed_data == ["description"]
    assert form.cleaned_data["description"] == STORED + "\nOne more line."


def _modules():
    for info in pkgutil.walk_packages(mycareer.__path__, "mycareer."):
        parts = info.name.split(".")
        if {"tests", "migrations", "management"} & set(parts) or parts[-1] in {"asgi", "wsgi"}:
            continue
        yield importlib.import_module(info.name)


def _forms(base=forms.BaseForm):
    for form in base.__subclasses__():
        yield form
        yield from _forms(form)


def test_a_multi_line_field_takes_at_most_its_limit_and_says_so_in_figures():
    field = MultiLineField(required=False)
    assert field.clean("x" * 20_000) == "x" * 20_000
    with pytest.raises(forms.ValidationError) as refused:
        field.clean("x" * 20_001)
    assert refused.value.messages == [
        "Keep it to 20,000 characters (about 3,000 words): it has 20,001."
    ]
    short = MultiLineField(max_length=2000)
    with pytest.raises(forms.ValidationError, match="Keep it to 2,000 characters: it has"):
        short.clean("x" * 2001)
    # The box takes more, so that pasted text is not cut short without a word.
    assert "maxlength" not in short.widget_attrs(short.widget)


def test_every_text_box_of_every_form_keeps_newlines_only():
    list(_modules())
    ours = {form for form in _forms() if form.__module__.startswith("mycareer.")}
    assert len(ours) > 50
    wrong = sorted(
        f"{form.__module__}.{form.__name__}.{name}"
        for form in ours
        for name, field in getattr(form, "base_fields", {}).items()
        if isinstance(field.widget, forms.Textarea) and not isinstance(field, MultiLineField)
    )
    assert wrong == [], "a text box of several lines is a core.forms.MultiLineField"


def test_every_text_box_the_admin_site_changes_keeps_newlines_only(rf):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = type("Superuser", (), {"is_active": True, "is_staff": True})()
    request.user.has_perm = lambda *args, **kwargs: True
    wrong = []
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("mycareer."):
            continue
        if not model_admin.has_change_permission(request):
            continue  # read only
        for name, field in model_admin.get_form(request).base_fields.items():
            if isinstance(field.widget, forms.Textarea) and not isinstance(field, MultiLineField):
                wrong.append(f"{model._meta.label}.{name}")
    assert wrong == [], "give the ModelAdmin formfield_overrides for its text columns"


# What people write, kept in the database ---------------------------------------------

# Text columns MyCareer writes itself, never a person: an error, a search document.
WRITTEN_BY_MYCAREER = {
    "core.FailedTask.error",
    "core.FailedTask.traceback",
    "people.FeedImport.error",
    "organisations.Organisation.search_document",
    "organisations.Organisation.tag_document",
    "organisations.OrganisationText.document",
    "organisations.OrganisationText.tags",
    "mailing.OutboxMessage.error",
    "operations.Backup.error",
}


def test_every_text_column_people_write_keeps_newlines_only():
    """A service, the API or an import sets them too, not only a form."""
    from django.apps import apps
    from django.db import models

    from mycareer.core.fields import MultiLineTextField

    columns = {
        f"{model._meta.label}.{field.name}": field
        for model in apps.get_models()
        if model.__module__.startswith("mycareer.")
        for field in model._meta.concrete_fields
        if isinstance(field, models.TextField)
    }
    assert set(columns) >= WRITTEN_BY_MYCAREER
    wrong = sorted(
        name
        for name, field in columns.items()
        if name not in WRITTEN_BY_MYCAREER and not isinstance(field, MultiLineTextField)
    )
    assert wrong == [], "a text column people write is a core.fields.MultiLineTextField"


@pytest.mark.django_db
def test_a_multi_line_column_keeps_newlines_whatever_sets_it(persona):
    from mycareer.organisations import services
    from mycareer.organisations.models import Organisation

    organisation = Organisation(name="Linebreak Labs", description=FROM_A_BROWSER)
    assert organisation.description == STORED
    organisation.description = "old\rMac"
    assert organisation.description == "old\nMac"
    made = services.organisation_create(
        by=persona("operator"), name="Linebreak Labs", description=FROM_A_BROWSER
    )
    assert Organisation.objects.get(pk=made.pk).description == STORED
    # A row an older release stored as a browser sent it reads as the same text, and the
    # same text sent again is no change.
    Organisation.objects.filter(pk=made.pk).update(description=FROM_A_BROWSER)
    older = Organisation.objects.get(pk=made.pk)
    assert older.description == STORED
    assert (
        services.organisation_update(
            organisation=older, by=persona("operator"), description=FROM_A_BROWSER
        )
        == {}
    )
