"""The project's form templates write the same HTML as Django's own, only faster."""

import re

import pytest
from django import forms
from django.forms.renderers import Jinja2

from mycareer.core.forms import FormRenderer
from mycareer.organisations.search import OrganisationSearchForm

pytestmark = pytest.mark.django_db


class Choices(forms.Form):
    one = forms.ChoiceField(
        choices=[("", "Any"), ("a", "Apples & pears"), ("b", "“Quoted”")], required=False
    )
    grouped = forms.ChoiceField(
        choices=[("Fruit", [("a", "Apple"), ("b", "Banana")]), ("c", "Carrot")],
        widget=forms.Select(attrs={"class": "wide", "data-x": "1"}),
    )
    many = forms.MultipleChoiceField(
        choices=[("a", "Apple"), ("b", "Banana <b>")], widget=forms.CheckboxSelectMultiple
    )
    several = forms.MultipleChoiceField(choices=[("a", "Apple"), ("b", "Banana")])
    radio = forms.ChoiceField(
        choices=[("Fruit", [("a", "Apple")]), ("c", "Carrot")], widget=forms.RadioSelect
    )
    disabled = forms.ChoiceField(choices=[("a", "Apple")], disabled=True)


def _rendered(form_class, data, renderer) -> dict[str, str]:
    form = form_class(data, renderer=renderer)
    form.is_valid()
    return {name: str(form[name]) for name in form.fields}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"one": "a", "grouped": "b", "many": ["a", "b"], "several": ["b"], "radio": "c"},
        {"one": "nonsense", "many": ["zzz"]},
    ],
)
def test_choice_widgets_write_what_djangos_templates_write(data):
    assert _rendered(Choices, data, FormRenderer()) == _rendered(Choices, data, Jinja2())


@pytest.mark.parametrize("data", [{}, {"sectors": ["1"], "sizes": ["micro"], "sort": "name"}])
def test_the_search_forms_widgets_are_unchanged(data):
    assert _rendered(OrganisationSearchForm, data, FormRenderer()) == _rendered(
        OrganisationSearchForm, data, Jinja2()
    )


def test_a_field_group_has_its_label_help_and_errors():
    form = OrganisationSearchForm({"score_min": "500"})
    assert not form.is_valid()
    html = form["score_min"].as_field_group()
    assert '<div class="field field--error">' in html
    assert '<label for="id_score_min">Engagement score at least</label>' in html
    assert '<div class="helptext" id="id_score_min_helptext">0 to 100:' in html
    assert re.search(r'<ul class="errorlist" id="id_score_min_error"><li>[^<]+100', html)
    # The input names both, so a screen reader reads the error with the field.
    described = re.search(r'<input[^>]*aria-describedby="([^"]+)"', html).group(1).split()
    assert described and all(f'id="{name}"' in html for name in described)
    assert "id_score_min_error" in described


def test_a_group_of_choices_names_its_error_on_the_fieldset():
    html = OrganisationSearchForm({"sizes": ["enormous"]})["sizes"].as_field_group()
    described = re.search(r'<fieldset aria-describedby="([^"]+)"', html).group(1).split()
    assert "id_sizes_error" in described
    assert all(f'id="{name}"' in html for name in described)


def test_a_group_of_choices_is_a_fieldset_with_a_legend():
    html = OrganisationSearchForm()["sizes"].as_field_group()
    assert "<fieldset>" in html and "<legend>Size</legend>" in html


def test_a_hidden_field_is_the_input_alone():
    html = OrganisationSearchForm({"ids": ["3"]})["ids"].as_field_group()
    assert html.strip() == '<input type="hidden" name="ids" value="3" id="id_ids_0">'
