import datetime

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError

from mycareer.audit.registry import registered_actions
from mycareer.core.forms import DateInput, StrictFilterForm, TickBoxField, typed_number_field
from mycareer.core.pagination import COUNT_PARAMETER

SENSIBLE_YEARS = range(2000, 2200)


def action_choices() -> list:
    """Every kind of action in plain words, grouped by the part of MyCareer it belongs to."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, label in sorted(registered_actions().items(), key=lambda item: item[1]):
        groups.setdefault(code.split(".", 1)[0], []).append((code, label))
    choices: list = [("", "Any kind of action")]
    for area, actions in sorted(groups.items(), key=lambda item: _area_name(item[0])):
        name = _area_name(area)
        choices.append((name, [(f"{area}.", f"Anything in {name.lower()}"), *actions]))
    return choices


def _area_name(label: str) -> str:
    try:
        return str(apps.get_app_config(label).verbose_name)
    except LookupError:
        return label.capitalize()


class AuditFilterForm(StrictFilterForm, forms.Form):
    # One record's trail (`ct`, `id`), the page and the count asked for are not filters.
    NOT_FILTERS = frozenset({"page", "ct", "id", COUNT_PARAMETER})
    FILTERS_OF = "The audit trail"

    person = forms.CharField(
        label="Person",
        required=False,
        max_length=150,
        help_text="Name or email of who did it or whom it was about.",
    )
    action = forms.ChoiceField(label="Kind of action", required=False)
    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())
    sensitive = TickBoxField(
        label="Only exports of personal data, merges and erasures", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = action_choices()

    def _clean_date(self, name: str) -> datetime.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and day.year not in SENSIBLE_YEARS:
            raise ValidationError("Give a date between the years 2000 and 2199.")
        return day

    def clean_date_from(self):
        return self._clean_date("date_from")

    def clean_date_to(self):
        return self._clean_date("date_to")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.cleaned_data.get(name) for name in self.fields)


class RetentionConfirmForm(forms.Form):
    """The administrator types the number of records due, so a wide removal is never a slip."""

    confirmed = typed_number_field("records")

    def __init__(self, *args, total: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.total = total

    def clean_confirmed(self) -> int:
        typed = self.cleaned_data["confirmed"]
        if int(typed) != self.total:
            raise ValidationError(
                f"Type the number shown above: {self.total:,}. You typed {typed}."
            )
        return self.total
