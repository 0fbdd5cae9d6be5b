import json

from django import forms
from django.urls import reverse

from mycareer.accounts.models import Unit
from mycareer.core.forms import (
    StaleEditGuard,
    StrictFilterForm,
    bounded_formfield,
    typed_number_field,
)
from mycareer.core.text import single_line
from mycareer.mailing.content import EXAMPLE, MERGE_FIELDS, SYNTAX_HELP
from mycareer.mailing.models import Campaign
from mycareer.organisations.models import Organisation
from mycareer.organisations.selectors import NUMBERED_NAME, numbered_name


class CampaignForm(StaleEditGuard, forms.ModelForm):
    """A campaign's words and promoted events. Recipients are chosen on their own page."""

    promoted_events = forms.MultipleChoiceField(
        label="Cross-promote these upcoming events",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "One email can serve several events, so employers receive fewer emails. "
            "Only events open to employers or the public are offered: their links open "
            "for people without an account."
        ),
    )

    class Meta:
        model = Campaign
        formfield_callback = bounded_formfield
        fields = ["subject", "purpose", "unit", "body"]
        labels = {"purpose": "Purpose", "unit": "Sending unit", "body": "Message"}
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
        error_messages = {"unit": {"required": "Choose the unit it is sent from."}}

    def __init__(self, *args, user, events=(), suggested=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = Campaign.PURPOSE_CHOICES
        self.fields[
            "purpose"
        ].help_text = "Contacts who opted out of this kind of email are left out of it."
        units = Unit.objects.filter(memberships__user=user)
        self.fields["unit"].queryset = units if units.exists() else Unit.objects.all()
        only = list(units[:2])
        if len(only) == 1 and self.instance.unit_id in (None, only[0].pk):
            # Their one unit is the only one to send from: no blank to choose by mistake. In
            # several they choose which, from a blank: the time chart counts each campaign
            # under its unit.
            self.fields["unit"].empty_label = None
            self.initial.setdefault("unit", only[0].pk)
        fields_help = ", ".join(
            f"{{{{ {name} }}}} ({label.lower()})" for name, label in MERGE_FIELDS.items()
        )
        self.fields["body"].help_text = f"{SYNTAX_HELP} Merge fields: {fields_help}."
        self.example = EXAMPLE
        events = sorted(events, key=lambda e: (e.pk not in suggested, e.starts_at))
        self.fields["promoted_events"].choices = [
            (
                str(e.pk),
                f"{e.title}, {e.starts_at:%-d %b %Y}"
                + (" (suggested for these recipients)" if e.pk in suggested else ""),
            )
            for e in events
        ]
        if self.instance.pk:
            offered = {pk for pk, _ in self.fields["promoted_events"].choices}
            self.initial["promoted_events"] = [
                str(pk) for pk in self.instance.promoted_events if str(pk) in offered
            ]

    def clean_subject(self) -> str:
        subject = single_line(self.cleaned_data["subject"])
        if not subject:
            raise forms.ValidationError("Give the email a subject.")
        return subject

    def clean_promoted_events(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data.get("promoted_events") or []]

    def content(self) -> dict:
        """The cleaned values as `campaign_create` and `campaign_update` take them."""
        names = ("subject", "purpose", "unit", "body", "promoted_events")
        return {name: self.cleaned_data[name] for name in names}


class RecipientsField(forms.CharField):
    """The chosen search's filters, carried through a form as JSON and checked again."""

    widget = forms.HiddenInput

    def to_python(self, value) -> dict:
        value = super().to_python(value)
        if not value:
            return {}
        try:
            filters = json.loads(value)
        except ValueError as error:
            raise forms.ValidationError("The recipient search could not be read.") from error
        if not isinstance(filters, dict):
            raise forms.ValidationError("The recipient search could not be read.")
        return filters

    def prepare_value(self, value):
        return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value


class ChosenRecipientsForm(forms.Form):
    """What the sender chose on the search step, carried to the step that saves it."""

    recipient_filters = RecipientsField(required=False)
    recipients_everyone = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ConfirmForm(forms.Form):
    """The sender types the number of recipients shown, so a wide send is never a slip."""

    expected = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=10**9)
    # Who the page showed (`RecipientList.fingerprint`): the send is refused if the same
    # number is now other people (their search changed in another tab, say).
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirmed = typed_number_field("recipients")

    def clean(self):
        data = super().clean()
        typed, expected = data.get("confirmed"), data.get("expected")
        if typed is None or expected is None:
            return data
        # Any other number, however large or small, is simply not the number shown.
        if int(typed) != expected:
            self.add_error("confirmed", f"Type the number shown: {expected}. You typed {typed}.")
        else:
            data["confirmed"] = expected
        return data


class LeaveOutForm(forms.Form):
    contact = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**62)
    reason = forms.CharField(
        label="Why leave them out?",
        max_length=200,
        error_messages={"required": "Say why this person is left out."},
    )


class PreviewForm(forms.Form):
    contact = forms.ChoiceField(label="Preview as")

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [
            (str(c.pk), f"{c.full_name}, {c.organisation}") for c in contacts
        ]


class PeriodForm(StrictFilterForm, forms.Form):
    """A chart's period (week or month) and span, bound with the defaults filled in."""

    FILTERS_OF = "The chart"

    period = forms.ChoiceField(
        label="Count by", choices=[("month", "Month"), ("week", "Week")], required=False
    )
    months = forms.TypedChoiceField(
        label="Over the last",
        choices=[(6, "6 months"), (12, "12 months"), (24, "2 years")],
        coerce=int,
        required=False,
    )

    # What the chart shows when the form is left as it is: the form says so too.
    DEFAULTS: dict = {"period": "month", "months": 12}

    def __init__(self, data, **kwargs):
        # Always bound, with the defaults filled in: the chart and the form then agree.
        data = data.copy()
        for name, value in self.DEFAULTS.items():
            if not data.get(name):
                data[name] = str(value)
        super().__init__(data, **kwargs)


def _name_in_box(organisation: Organisation) -> str:
    """The name the box shows and reads back: numbered when another live organisation
    has it too, so that showing the chart again keeps this one."""
    namesakes = Organisation.objects.filter(
        name__iexact=organisation.name, merged_into__isnull=True
    ).exclude(pk=organisation.pk)
    return numbered_name(organisation) if namesakes.exists() else organisation.name


class ChartForm(PeriodForm):
    unit = forms.ModelChoiceField(
        label="Sending unit",
        queryset=Unit.objects.all(),
        required=False,
        empty_label="All units",
        help_text="A faculty or school includes the units under it.",
    )
    organisation_name = forms.CharField(
        label="Organisation",
        required=False,
        max_length=200,
        help_text="Start typing a name; leave empty for every organisation.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "list": "organisation-suggestions", "type": "search"}
        ),
    )
    organisation = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**62
    )

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["organisation_name"].widget.attrs["data-suggest-url"] = reverse(
            "organisations:suggestions"
        )

    def clean(self):
        data = super().clean()
        name = " ".join((data.get("organisation_name") or "").split())
        if data.get("organisation") and not name:
            # Opened from an organisation's page: the id alone.
            organisation = Organisation.objects.filter(pk=data["organisation"]).first()
            if organisation is None:
                # A deleted organisation, or an old bookmark: not every organisation.
                self.add_error(
                    "organisation_name",
                    f"No organisation has number {data['organisation']}: type its name.",
                )
                return data
            data["organisation_name"] = _name_in_box(organisation)
            self.data["organisation_name"] = data["organisation_name"]  # shown in the box
        elif numbered := NUMBERED_NAME.match(name):
            # One of several organisations of one name, as the suggestions number them.
            organisation = Organisation.objects.filter(
                pk=numbered["pk"], name__iexact=numbered["name"], merged_into__isnull=True
            ).first()
            if organisation is None:
                self.add_error(
                    "organisation_name",
                    f"No organisation is called “{numbered['name']}” with number "
                    f"{numbered['pk']}: choose one from the suggestions.",
                )
            else:
                data["organisation"] = organisation.pk
                data["organisation_name"] = numbered_name(organisation)
        elif name:
            matches = list(
                Organisation.objects.filter(name__iexact=name, merged_into__isnull=True)[:2]
            ) or list(
                Organisation.objects.filter(
                    name__icontains=name, merged_into__isnull=True
                ).order_by("name")[:2]
            )
            if len(matches) == 1:
                data["organisation"] = matches[0].pk
                data["organisation_name"] = matches[0].name
            elif not matches:
                self.add_error("organisation_name", f"No organisation is called “{name}”.")
            else:
                self.add_error(
                    "organisation_name",
                    f"Several organisations match “{name}”: choose one from the suggestions.",
                )
        else:
            data["organisation"] = None
        return data
