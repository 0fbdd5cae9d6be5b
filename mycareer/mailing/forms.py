from django import forms

from mycareer.accounts.models import Unit
from mycareer.mailing.content import MERGE_FIELDS
from mycareer.mailing.models import Campaign


class CampaignForm(forms.ModelForm):
    saved_search = forms.ChoiceField(
        label="Recipients: one of your saved searches",
        required=False,
        help_text="Or keep the search you came from (shown below).",
    )
    promoted_events = forms.MultipleChoiceField(
        label="Cross-promote these upcoming events",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="One email can serve several events, so employers receive fewer emails.",
    )

    class Meta:
        model = Campaign
        fields = ["subject", "purpose", "unit", "body", "recipient_query"]
        labels = {
            "purpose": "Purpose",
            "unit": "Sending unit",
            "recipient_query": "Recipient search (the organisation search's filters)",
        }
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "recipient_query": forms.TextInput(attrs={"spellcheck": "false"}),
        }

    def __init__(self, *args, user, events=(), suggested=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(memberships__user=user)
        self.fields["unit"].queryset = units if units.exists() else Unit.objects.all()
        if not self.instance.pk and units.exists():
            self.initial.setdefault("unit", units.first().pk)
        fields_help = ", ".join(
            f"{{{{ {name} }}}} ({label.lower()})" for name, label in MERGE_FIELDS.items()
        )
        self.fields["body"].help_text = (
            "Simple formatting only: paragraphs, bold, italics, lists and links. "
            f"Merge fields: {fields_help}."
        )
        self.fields["recipient_query"].required = False
        searches = user.saved_searches.order_by("name")
        self.fields["saved_search"].choices = [("", "—")] + [(s.query, s.name) for s in searches]
        events = sorted(events, key=lambda e: (e.pk not in suggested, e.starts_at))
        self.fields["promoted_events"].choices = [
            (
                str(e.pk),
                f"{e.title}, {e.starts_at:%-d %b %Y}"
                + (" (suggested for these recipients)" if e.pk in suggested else ""),
            )
            for e in events
        ]
        if self.instance.pk and not self.is_bound:
            self.initial["promoted_events"] = [str(pk) for pk in self.instance.promoted_events]

    def clean(self):
        data = super().clean()
        if data.get("saved_search"):
            data["recipient_query"] = data["saved_search"]
        data["promoted_events"] = [int(pk) for pk in data.get("promoted_events") or []]
        return data


class PreviewForm(forms.Form):
    contact = forms.ChoiceField(label="Preview as")

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [
            (str(c.pk), f"{c.full_name}, {c.organisation}") for c in contacts
        ]


class ChartForm(forms.Form):
    period = forms.ChoiceField(
        label="Count by", choices=[("month", "Month"), ("week", "Week")], required=False
    )
    unit = forms.ModelChoiceField(
        label="Sending unit", queryset=Unit.objects.all(), required=False, empty_label="All units"
    )
    organisation = forms.IntegerField(widget=forms.HiddenInput, required=False)
    months = forms.TypedChoiceField(
        label="Over the last",
        choices=[(6, "6 months"), (12, "12 months"), (24, "2 years")],
        coerce=int,
        required=False,
    )
