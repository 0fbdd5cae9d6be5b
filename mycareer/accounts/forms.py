from allauth.account import fields as allauth_fields
from allauth.account import forms as allauth_forms
from allauth.core import context as allauth_context
from allauth.mfa.base import forms as mfa_forms
from django import forms
from django.contrib.auth import password_validation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from mycareer.accounts import signin
from mycareer.accounts.models import AccessLevel, TrainingCourse, TrainingSession, User
from mycareer.accounts.notifications import notification_kinds
from mycareer.accounts.selectors import staff_named
from mycareer.accounts.services import training_session_check_start
from mycareer.core.forms import (
    DESCRIPTION_MAX_LENGTH,
    BoundedIntegerField,
    IdsChoiceField,
    KeepsStoredTimes,
    LocalDateTimeField,
    LocalDateTimeInput,
    MultiLineField,
    SingleLineField,
    StaleEditGuard,
    StrictFilterForm,
    add_validation_error,
    bounded_formfield,
)
from mycareer.core.text import counted


class AccessGrantForm(forms.Form):
    level = forms.TypedChoiceField(label="Access level", choices=AccessLevel.choices, coerce=int)
    note = forms.CharField(label="Reason (kept in the audit trail)", max_length=300, required=False)


class AccessRevokeForm(forms.Form):
    note = forms.CharField(label="Reason", max_length=300, required=False)


# More than any room holds, or any trainer takes online.
MAX_TRAINING_PLACES = 1_000


class TrainingSessionForm(KeepsStoredTimes, forms.ModelForm):
    starts_at = LocalDateTimeField(label="Starts", widget=LocalDateTimeInput())
    ends_at = LocalDateTimeField(label="Ends", widget=LocalDateTimeInput())
    capacity = BoundedIntegerField(
        label="Capacity",
        min_value=1,
        max_value=MAX_TRAINING_PLACES,
        initial=20,
        help_text=f"The number of places, up to {MAX_TRAINING_PLACES:,}.",
        error_messages=dict.fromkeys(
            ("min_value", "max_value"),
            f"Capacity must be a number of places from 1 to {MAX_TRAINING_PLACES:,}.",
        ),
    )
    online_url = forms.URLField(
        label="Joining link (online sessions)",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Sent to each person who books, and shown to them on the session's page.",
    )

    class Meta:
        model = TrainingSession
        formfield_callback = bounded_formfield
        fields = [
            "course",
            "kind",
            "starts_at",
            "ends_at",
            "place",
            "online_url",
            "capacity",
            "trainer",
        ]
        labels = {"kind": "Kind of session", "place": "Place (a room, or Online)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = TrainingCourse.objects.all()
        self.fields["trainer"].queryset = User.objects.filter(kind=User.Kind.STAFF)
        self.fields["trainer"].required = False

    def clean(self):
        data = super().clean()
        if data.get("starts_at"):
            try:
                training_session_check_start(
                    starts_at=data["starts_at"],
                    was=self.instance.starts_at if self.instance.pk else None,
                )
            except forms.ValidationError as error:
                add_validation_error(self, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The session must end after it starts.")
        return data


class AttendanceForm(forms.Form):
    attended = IdsChoiceField(
        label="Who attended",
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Ad-hoc sessions: people come without booking, and their attendance counts the same.
    walk_in = SingleLineField(
        label="Also attended, without booking",
        max_length=254,
        required=False,
        help_text="The name or email of a member of staff with a MyCareer login.",
    )

    def __init__(self, *args, session: TrainingSession, **kwargs):
        super().__init__(*args, **kwargs)
        booked = User.objects.filter(training_records__session=session).order_by("full_name")
        if booked.exists():
            self.fields["attended"].queryset = booked
        else:
            del self.fields["attended"]

    def clean_walk_in(self) -> User | None:
        text = self.cleaned_data["walk_in"]
        if not text:
            return None
        found = list(staff_named(text)[:6])
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(
                f"No member of staff with a MyCareer login has the name or email “{text}”: "
                "check the spelling, or type their email.",
                code="no_such_staff",
            )
        some = ", ".join(f"{person.full_name} ({person.email})" for person in found[:5])
        raise forms.ValidationError(
            f"Several members of staff match “{text}” ({some}): type the email of the one "
            "who attended.",
            code="several_staff",
        )

    def attendees(self) -> list[User]:
        """Everyone ticked, and the person added who came without booking."""
        people = list(self.cleaned_data.get("attended") or [])
        walk_in = self.cleaned_data.get("walk_in")
        if walk_in is not None and walk_in not in people:
            people.append(walk_in)
        return people


class TermsPublishForm(forms.Form):
    version = SingleLineField(label="Version number", max_length=20)
    title = SingleLineField(label="Title", max_length=200)
    # Terms of use run longer than a description: the longest text box takes ten times as much.
    body = MultiLineField(label="Text of the terms", max_length=10 * DESCRIPTION_MAX_LENGTH)

    def __init__(self, *args, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        if current is not None:
            self.fields["version"].help_text = (
                f"Version {current.version} is current. The title and text below are "
                f"version {current.version}'s: change what you need, and give this version "
                "a new number."
            )


class TermsConfirmForm(forms.Form):
    """The publisher ticks a box that names how many people must accept before going on."""

    confirm = forms.BooleanField(required=True)

    def __init__(self, *args, asked: int, version: str, **kwargs):
        super().__init__(*args, **kwargs)
        people = counted(asked, "person", "people")
        field = self.fields["confirm"]
        field.label = f"Yes, ask {people} to accept version {version} before they go on"
        field.error_messages["required"] = (
            f"Tick the box to ask {people} to accept version {version}, or change the terms."
        )


class StaffFilterForm(forms.Form):
    q = forms.CharField(label="Name or email", required=False)
    level = forms.TypedChoiceField(
        label="Access level",
        choices=[("", "Any level"), ("none", "No access"), *AccessLevel.choices],
        required=False,
    )


class ExpiringFilterForm(StrictFilterForm, forms.Form):
    """The training expiring page's period: a number it cannot read is refused, not
    replaced by the usual 30 days under a heading the person may not read."""

    FILTERS_OF = "The page"
    DEFAULT_DAYS = 30

    days = BoundedIntegerField(
        label="Within how many days",
        min_value=0,
        max_value=365,
        required=False,
        initial=DEFAULT_DAYS,
    )

    def within_days(self) -> int:
        days = self.cleaned_data.get("days")
        return self.DEFAULT_DAYS if days is None else days


class StaffProfileForm(StaleEditGuard, forms.ModelForm):
    """What colleagues see of a member of staff, and which emails they get, and when."""

    receive = forms.MultipleChoiceField(
        label="Email me about",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick what you do not want by email. You still see it in MyCareer.",
    )

    class Meta:
        model = User
        formfield_callback = bounded_formfield
        fields = ["job_title", "phone", "photo", "about", "notification_mode"]
        labels = {"phone": "Phone", "photo": "Photo", "notification_mode": "When to email me"}
        widgets = {
            "about": forms.Textarea(attrs={"rows": 4}),
            "notification_mode": forms.RadioSelect,
            "photo": forms.ClearableFileInput(attrs={"accept": "image/*"}),
        }

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        kinds = notification_kinds(optional_only=True)
        self.fields["receive"].choices = [(k.code, k.label) for k in kinds]
        off = set(self.instance.notifications_off or [])
        self.fields["receive"].initial = [k.code for k in kinds if k.code not in off]
        self.fields["phone"].widget.input_type = "tel"

    def notifications_off(self) -> list[str]:
        """The optional kinds left unticked: the ones this person does not want."""
        chosen = set(self.cleaned_data["receive"])
        return sorted(code for code, _ in self.fields["receive"].choices if code not in chosen)


def password_help() -> SafeString:
    """What the password validators ask, as a list: each rule escaped, the list markup ours.

    The library's fields carry Django's list as a lazy plain string, which the form's
    field template rightly escapes like any help text: the page showed "<ul><li>…".
    """
    rules = password_validation.password_validators_help_texts()
    items = format_html_join("", "<li>{}</li>", ((rule,) for rule in rules))
    return format_html("<ul>{}</ul>", items) if rules else SafeString("")


class _PasswordHelpAsList:
    """The new password's help reads as the list of rules it is, and the labels in
    sentence case as every other label ("Current Password" read as a heading)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, allauth_fields.SetPasswordField):
                field.help_text = password_help()
            if field.label:
                field.label = field.label[:1] + field.label[1:].lower()


class _NoPasswordThroughUniversity:
    """Staff and students who sign in through the university have no MyCareer password."""

    def clean(self):
        from mycareer.accounts.sso import NO_LOCAL_PASSWORD, signs_in_through_university

        if self.user is not None and signs_in_through_university(self.user):
            raise forms.ValidationError(NO_LOCAL_PASSWORD, code="university_sign_in")
        return super().clean()


class SetPasswordForm(
    _PasswordHelpAsList, _NoPasswordThroughUniversity, allauth_forms.SetPasswordForm
):
    pass


class ChangePasswordForm(
    _PasswordHelpAsList, _NoPasswordThroughUniversity, allauth_forms.ChangePasswordForm
):
    """The current password is a sign-in of the account: a wrong one counts as a failed
    sign-in, and while the account must wait it is refused unchecked (accounts/signin.py),
    so a session left open is no way to guess it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page itself links to the password reset, once, below the form.
        self.fields["oldpassword"].help_text = ""

    def clean_oldpassword(self):
        request = allauth_context.request
        if signin.account_must_wait(request, self.user):
            raise forms.ValidationError("Wait before trying again.", code="must_wait")
        try:
            return super().clean_oldpassword()
        except forms.ValidationError:
            signin.account_failed(request, self.user)
            raise


class ResetPasswordKeyForm(_PasswordHelpAsList, allauth_forms.ResetPasswordKeyForm):
    pass


class LoginForm(allauth_forms.LoginForm):
    """allauth's login form in MyCareer's words: the page itself links to the password
    reset, once, beside the button."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = ""
        if "remember" in self.fields:
            self.fields["remember"].label = "Keep me logged in on this device"

    def clean(self):
        from mycareer.accounts.sso import UNIVERSITY_ONLY, signs_in_through_university

        # Before any password is checked: staff and students have none here once the
        # university's sign-in is on, so a try must neither pass nor count as a failure.
        email = (self.cleaned_data.get("login") or "").strip()
        person = User.objects.filter(email__iexact=email).first() if email else None
        if person is not None and signs_in_through_university(person):
            raise forms.ValidationError(UNIVERSITY_ONLY, code="university_sign_in")
        return super().clean()


class _CodesWaitAsPasswordsDo:
    """The second step's code: refused unchecked while the account must wait after wrong
    passwords or codes (`signin.account_must_wait`)."""

    def clean_code(self):
        if signin.account_must_wait(allauth_context.request, self.user):
            raise forms.ValidationError("Wait before trying again.", code="must_wait")
        return super().clean_code()


class SecondFactorForm(_CodesWaitAsPasswordsDo, mfa_forms.AuthenticateForm):
    pass


class SecondFactorAgainForm(_CodesWaitAsPasswordsDo, mfa_forms.ReauthenticateForm):
    pass
