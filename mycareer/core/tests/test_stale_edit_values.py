"""A page saved after someone else changed the same field shows, beside it, what they
saved: the person cannot choose between two versions they see only one of."""

import pytest
from django import forms

from mycareer.core.forms import StaleEditGuard
from mycareer.organisations.models import Sector

SIZES = [("", "—"), ("Sizes", [("small", "Small (10–49)"), ("large", "Large (250+)")])]


class Profile(StaleEditGuard, forms.Form):
    website = forms.CharField(required=False)
    size = forms.ChoiceField(choices=SIZES, required=False)
    sector = forms.ModelChoiceField(queryset=Sector.objects.all(), required=False)
    sectors = forms.ModelMultipleChoiceField(queryset=Sector.objects.all(), required=False)
    shown = forms.BooleanField(required=False)


def _errors(opened: dict, stored: dict, sent: dict) -> dict[str, list[str]]:
    page = Profile(initial=opened, guard=True)
    data = {**sent, "opened_as": page["opened_as"].value()}
    form = Profile(data, initial=stored, guard=True)
    assert not form.is_valid()
    return form.errors


@pytest.mark.django_db
def test_each_field_in_conflict_says_what_the_other_person_saved():
    law, tech = (
        Sector.objects.create(name="Sector L", slug="sector-l"),
        Sector.objects.create(name="Sector T", slug="sector-t"),
    )
    opened = {"website": "a.example", "size": "", "sector": None, "sectors": [], "shown": False}
    stored = {
        "website": "b.example",
        "size": "large",
        "sector": law.pk,
        "sectors": [law, tech],
        "shown": True,
    }
    sent = {"website": "c.example", "size": "small", "sector": tech.pk, "sectors": [tech.pk]}
    errors = _errors(opened, stored, sent)
    said = "Since you opened this page, someone else saved"
    assert errors["website"] == [f"{said} “b.example” here."]
    assert errors["size"] == [f"{said} “Large (250+)” here."]
    assert errors["sector"] == [f"{said} “Sector L” here."]
    assert errors["sectors"] == [f"{said} “Sector L” and “Sector T” here."]
    assert "shown" not in errors  # sent as opened: their tick is taken, not a conflict


@pytest.mark.django_db
def test_a_field_the_other_person_emptied_says_so():
    opened = {"website": "a.example", "size": "small", "shown": True}
    stored = {"website": "", "size": "small", "shown": False}
    errors = _errors(opened, stored, {"website": "c.example", "size": "small", "shown": ""})
    assert errors["website"] == ["Since you opened this page, someone else emptied this field."]
