from django import forms

from mycareer.accounts.models import Unit, User
from mycareer.core.forms import IdChoiceField, MultiLineField, bounded_formfield
from mycareer.core.text import counted
from mycareer.usergroup.models import Announcement, Feedback


class RepresentativeForm(forms.Form):
    unit = IdChoiceField(label="Faculty", queryset=Unit.objects.filter(kind=Unit.Kind.FACULTY))
    user = IdChoiceField(
        label="Representative", queryset=User.objects.filter(kind=User.Kind.STAFF, is_active=True)
    )


def staff_counted(count: int) -> str:
    return counted(count, "member of staff", "members of staff")


class AnnouncementForm(forms.ModelForm):
    # Off unless ticked: the email is the wide part, confirmed with its number next.
    email = forms.BooleanField(required=False, initial=False)

    class Meta:
        model = Announcement
        formfield_callback = bounded_formfield
        fields = ["kind", "title", "body"]
        labels = {"kind": "Kind of announcement", "body": "Text"}
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, recipients: int, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = f"Also email it to {staff_counted(recipients)}"
        email.help_text = "Those who chose a daily digest find it there. You confirm it next."


class AnnouncementEmailConfirmForm(forms.Form):
    """The publisher ticks a box that names how many staff the email goes to; the page
    also sends back the number it showed (`expected`), checked again by the service."""

    confirm_email = forms.BooleanField(required=True)

    def __init__(self, *args, recipients: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["confirm_email"]
        field.label = f"Yes, email it to {staff_counted(recipients)}"
        field.error_messages["required"] = (
            f"Tick the box to email it to {staff_counted(recipients)}, "
            "or change it and untick the email."
        )


class FeedbackForm(forms.ModelForm):
    class Meta:
        model = Feedback
        formfield_callback = bounded_formfield
        fields = ["kind", "title", "description", "page", "screenshot"]
        labels = {"kind": "Is it a fault or an idea?", "screenshot": "Screenshot (optional)"}
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}


class TriageForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Feedback.Status.choices)
    duplicate_of = IdChoiceField(
        label="Duplicate of", queryset=Feedback.objects.all(), required=False
    )
    comment = MultiLineField(
        label="Comment for the person who logged it",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class CommentForm(forms.Form):
    text = MultiLineField(label="Your comment", widget=forms.Textarea(attrs={"rows": 3}))
