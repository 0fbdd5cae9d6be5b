import datetime

from django import forms

from mycareer.accounts.models import DegreeProgramme, Unit
from mycareer.core.forms import (
    DateInput,
    IdChoiceField,
    IdsChoiceField,
    MultiLineField,
    SavedOnce,
    StaleEditGuard,
    StrictFilterForm,
    TickBoxField,
    bounded_formfield,
)
from mycareer.organisations.models import Organisation
from mycareer.vacancies.models import HOW_TO_APPLY, Vacancy
from mycareer.vacancies.selectors import CLOSING_SOON_DAYS
from mycareer.vacancies.services import EDITABLE_FIELDS, closing_date_problem


class UnitChoiceField(IdsChoiceField):
    def label_from_instance(self, unit: Unit) -> str:
        return f"{unit.name} ({unit.parent.name})" if unit.parent_id else unit.name


class VacancyForm(SavedOnce, StaleEditGuard, forms.ModelForm):
    """A vacancy as employers and staff type it; the services decide what happens to it."""

    apply_url = forms.URLField(
        label="Link to apply",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Your application page, if you have one.",
    )
    target_units = UnitChoiceField(
        label="Faculties and schools",
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only their students see the vacancy. Choose none to show it to everyone.",
    )

    class Meta:
        model = Vacancy
        formfield_callback = bounded_formfield
        fields = EDITABLE_FIELDS
        field_classes = {"description": MultiLineField}
        labels = {
            "type": "Type of vacancy",
            "remote": "Remote working possible",
            "apply_email": "Email address to apply to",
            "target_programmes": "Degree programmes",
        }
        help_texts = {
            "apply_email": "Give a link, an email address or both.",
            "target_programmes": "Only students on these programmes see it (as well as the "
            "faculties and schools chosen above).",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8}),
            "closing_date": DateInput(),
            "target_programmes": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_units"].queryset = (
            Unit.objects.exclude(kind=Unit.Kind.SERVICE).select_related("parent").order_by("name")
        )
        self.fields["target_programmes"].queryset = DegreeProgramme.objects.order_by("name")
        if organisations is not None:
            # Staff posting for an employer, or an employer who manages several.
            self.fields = {
                "organisation": IdChoiceField(
                    label="Organisation",
                    queryset=organisations,
                    empty_label="Choose the organisation",
                ),
                **self.fields,
            }

    def clean_closing_date(self) -> datetime.date | None:
        # As the service checks it: on a new vacancy, or when the date is changed.
        day = self.cleaned_data.get("closing_date")
        checked = day and (self.instance.pk is None or "closing_date" in self.changed_data)
        if checked and (problem := closing_date_problem(day)):
            raise forms.ValidationError(problem)
        return day

    def _update_errors(self, errors: forms.ValidationError) -> None:
        # A link or address typed but invalid is left off the model, which then says none
        # was given: two messages for one mistake, the second untrue.
        typed = {"apply_url", "apply_email"} & self._errors.keys()
        if typed and hasattr(errors, "error_dict") and "apply_url" in errors.error_dict:
            kept = [
                error
                for error in errors.error_dict["apply_url"]
                if HOW_TO_APPLY not in error.messages
            ]
            if kept:
                errors.error_dict["apply_url"] = kept
            else:
                del errors.error_dict["apply_url"]
            if not errors.error_dict:
                return
        super()._update_errors(errors)

    @classmethod
    def proposed_initial(cls, vacancy: Vacancy) -> dict:
        """The values an employer's waiting edit proposes, to carry on editing them."""
        initial = {}
        for name, value in (vacancy.pending_changes or {}).items():
            if name == "closing_date":
                value = datetime.date.fromisoformat(value)
            initial[name] = value
        return initial


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        label="Approve or reject?",
        widget=forms.RadioSelect,
        choices=[("approve", "Approve"), ("reject", "Reject")],
    )
    reason = MultiLineField(
        label="Reason (needed to reject)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Emailed to the organisation: say what to change.",
    )
    # The version of the vacancy the page showed: a decision is on what the moderator read.
    seen = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, edit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if edit:
            self.fields["decision"].choices = [
                ("approve", "Approve the changes: they go live"),
                ("reject", "Reject the changes: the approved version stays live"),
            ]
        else:
            self.fields["decision"].choices = [
                ("approve", "Approve: students can see it"),
                ("reject", "Reject: the employer is told why"),
            ]

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason: the employer is told it.")
        return data


class WithdrawForm(forms.Form):
    """Staff withdrawing an organisation's vacancy say why: the organisation is emailed it."""

    reason = MultiLineField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Emailed to the organisation: say why the vacancy is taken down.",
        error_messages={"required": "Say why the vacancy is taken down."},
    )

    def __init__(self, *args, emailed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not emailed:  # nobody at the organisation signs in: only the history keeps it
            reason = self.fields["reason"]
            reason.help_text = "Kept in the vacancy's history: say why it is taken down."


class VacancySearchForm(StrictFilterForm, forms.Form):
    """The students' list of vacancies: by words, type, place, programme and closing date."""

    # The list's parameter that is not a filter.
    NOT_FILTERS = frozenset({"page"})

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Words in the title, description or organisation's name.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *Vacancy.Type.choices]
    )
    location = forms.CharField(label="Location", required=False, max_length=100)
    programme = IdChoiceField(
        label="Aimed at degree programme",
        required=False,
        queryset=DegreeProgramme.objects.order_by("name"),
        empty_label="Any programme",
    )
    closing_soon = TickBoxField(label=f"Closing within {CLOSING_SOON_DAYS} days", required=False)
    remote = TickBoxField(label="Remote working possible", required=False)


def may_post_for(organisation: Organisation) -> bool:
    """Whether staff may post a vacancy for it: `organisations_to_post_for` has it."""
    return not organisation.merged_into_id and organisation.status != Organisation.Status.ARCHIVED


def organisations_to_post_for():
    """Organisations staff may post a vacancy for: any not archived or merged away."""
    return (
        Organisation.objects.filter(merged_into__isnull=True)
        .exclude(status=Organisation.Status.ARCHIVED)
        .order_by("name")
    )
