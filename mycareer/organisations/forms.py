from django import forms

from mycareer.accounts.models import Unit
from mycareer.core.forms import DateInput
from mycareer.organisations.models import Contact, Note, Organisation, Sector
from mycareer.organisations.services import PROFILE_FIELDS


def split_tags(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    tags = forms.CharField(
        label="Tags",
        required=False,
        help_text="Separate tags with commas, e.g. Graduate recruiter, Placements.",
        widget=forms.TextInput(attrs={"data-tag-input": "", "autocomplete": "off"}),
    )

    class Meta:
        model = Organisation
        fields = [*PROFILE_FIELDS, "unit"]
        labels = {"unit": "Owning unit", "locations": "Locations"}
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sector"].queryset = Sector.objects.all()
        self.fields["unit"].queryset = Unit.objects.all()
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(sorted(self.instance.tags.names()))

    def clean_tags(self) -> list[str]:
        tags = split_tags(self.cleaned_data.get("tags", ""))
        too_long = [t for t in tags if len(t) > 100]
        if too_long:
            raise forms.ValidationError("Each tag must be at most 100 characters.")
        return tags


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "full_name",
            "job_title",
            "email",
            "phone",
            "visible_to_students",
            "email_consent",
        ]
        labels = {
            "full_name": "Name",
            "visible_to_students": "Students may see this person's email and phone",
            "email_consent": "Agreed to receive email from the university",
        }


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["kind", "date", "unit", "contacts", "text", "follow_up_on"]
        labels = {
            "kind": "Type of engagement",
            "unit": "On behalf of",
            "contacts": "Contacts involved",
            "text": "What happened",
            "follow_up_on": "Follow up on (optional)",
        }
        widgets = {
            "date": DateInput(),
            "follow_up_on": DateInput(),
            "contacts": forms.CheckboxSelectMultiple,
            "text": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, organisation: Organisation, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = organisation.contacts.order_by("full_name")
        self.fields["contacts"].label_from_instance = lambda c: c.display_name
        units = Unit.objects.filter(memberships__user=user)
        self.fields["unit"].queryset = units if units.exists() else Unit.objects.all()
        self.fields["unit"].required = False
        if not self.instance.pk and units.exists():
            self.initial.setdefault("unit", units.first().pk)


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label="I understand this cannot be undone", required=True)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet to import",
        help_text="A CSV file (UTF-8) or an Excel workbook (.xlsx): at most 5 MB and 5,000 rows.",
        widget=forms.FileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
