"""A page saved after someone else changed the same field shows, beside it, what they
saved: the person cannot choose between two versions they see only one of."""

import datetime

import pytest
from django import forms
from django.utils import timezone

from mycareer.core.forms import StaleEditGuard
from mycareer.organisations.models import Sector

SIZES = [("", "—"), ("Sizes", [("small", "Small (10–49)"), ("large", "Large (250+)")])]


class Profile(StaleEditGuard, forms.Form):
    website = forms.CharField(required=False)
    starts = forms.DateTimeField(required=False)
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


@pytest.mark.django_db
def test_a_record_outside_the_person_s_choices_is_not_named_and_a_time_reads_as_a_time():
    law = Sector.objects.create(name="Sector L", slug="sector-l")
    hidden = Sector.objects.create(name="Sector H", slug="sector-h")

    class Narrow(Profile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["sector"].queryset = Sector.objects.filter(pk=law.pk)

    starts = timezone.make_aware(datetime.datetime(2026, 6, 1, 14, 0))
    opened = {"sector": law.pk, "starts": None}
    page = Narrow(initial=opened, guard=True)
    sent = {"sector": "", "starts": "2026-06-02 10:00", "opened_as": page["opened_as"].value()}
    form = Narrow(sent, initial={"sector": hidden.pk, "starts": starts}, guard=True)
    assert not form.is_valid()
    assert form.errors["sector"] == [
        "Since you opened this page, someone else changed this to something you cannot choose here."
    ]
    assert form.errors["starts"] == [
        "Since you opened this page, someone else saved “1 June 2026, 14:00” here."
    ]


class Venue(StaleEditGuard, forms.Form):
    venue = forms.CharField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("venue"):
            self.add_error("venue", "Give a venue.")
        return data


def test_a_form_s_own_checks_still_see_the_value_typed_in_a_field_in_conflict():
    """Only one message beside the field: what they saved, not a false "give a venue"."""
    page = Venue(initial={"venue": "Hall 1"}, guard=True)
    sent = {"venue": "Room 42", "opened_as": page["opened_as"].value()}
    form = Venue(sent, initial={"venue": "Hall 9"}, guard=True)
    assert not form.is_valid()
    assert form.errors["venue"] == ["Since you opened this page, someone else saved “Hall 9” here."]
