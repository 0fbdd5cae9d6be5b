from django import forms

from mycareer.accounts.models import Unit, User
from mycareer.core.forms import IdChoiceField, bounded_formfield
from mycareer.usergroup.models import Announcement, Feedback


class RepresentativeForm(forms.Form):
    unit = IdChoiceField(label="Faculty", queryset=Unit.objects.filter(kind=Unit.Kind.FACULTY))
    user = IdChoiceField(
        label="Representative", queryset=User.objects.filter(kind=User.Kind.STAFF, is_active=True)
    )


class AnnouncementForm(forms.ModelForm):
    email = forms.BooleanField(label="Also email it to all staff", required=False)

    class Meta:
        model = Announcement
        formfield_callback = bounded_formfield
        fields = ["kind", "title", "body"]
        labels = {"kind": "Kind of announcement", "body": "Text"}
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}


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
    comment = forms.CharField(
        label="Comment for the person who logged it",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class CommentForm(forms.Form):
    text = forms.CharField(label="Your comment", widget=forms.Textarea(attrs={"rows": 3}))
