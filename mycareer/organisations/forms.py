import csv

from django import forms
from django.db.models import Q

from mycareer.accounts.models import Unit, User
from mycareer.accounts.selectors import member_units
from mycareer.core.forms import (
    BoundedIntegerField,
    DateInput,
    IdChoiceField,
    MultiLineField,
    SavedOnce,
    SingleLineField,
    StaleEditGuard,
    StrictFilterForm,
    TickBoxField,
    bounded_formfield,
    typed_number_field,
)
from mycareer.core.pagination import COUNT_PARAMETER
from mycareer.core.validators import validate_phone
from mycareer.organisations import services
from mycareer.organisations.keyaccounts import contact_blockers
from mycareer.organisations.models import Contact, Note, Organisation, Sector
from mycareer.organisations.search import TAG_INPUT
from mycareer.organisations.selectors import administrators_of, liaison_agreements_in_force
from mycareer.organisations.services import CONTACT_FIELDS, PROFILE_FIELDS
from mycareer.organisations.tags import join_tags, split_tags


class OrganisationForm(SavedOnce, StaleEditGuard, forms.ModelForm):
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    tags = forms.CharField(
        label="Tags",
        required=False,
        help_text=(
            "Separate tags with commas, e.g. Graduate recruiter, Placements. A tag with a "
            'comma in it goes in double quotes, e.g. "Engineering, Civil".'
        ),
        widget=forms.TextInput(attrs=TAG_INPUT),
    )

    class Meta:
        model = Organisation
        formfield_callback = bounded_formfield
        fields = [*PROFILE_FIELDS, "unit"]
        field_classes = {"description": MultiLineField}
        labels = {"unit": "Owning unit", "locations": "Locations"}
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sector"].queryset = Sector.objects.all()
        self.fields["unit"].queryset = Unit.objects.all()
        if self.instance.pk:
            # Joined so that saving unchanged gives back the same tags, commas and all;
            # also when bound, so that `changed_data` knows whether they were touched.
            self.initial["tags"] = join_tags(sorted(self.instance.tags.names()))

    def clean_tags(self) -> list[str]:
        try:
            tags = split_tags(self.cleaned_data.get("tags", ""))
        except csv.Error as error:
            raise forms.ValidationError("Each tag must be at most 100 characters.") from error
        too_long = [t for t in tags if len(t) > 100]
        if too_long:
            raise forms.ValidationError("Each tag must be at most 100 characters.")
        # The import separates tags with ; or |: typed here as it taught, they made one tag
        # ("Internships; Placements") that a search for either never finds.
        kept = set(self.instance.tags.names()) if self.instance.pk else set()
        if joined := [t for t in tags if t not in kept and (";" in t or "|" in t)]:
            raise forms.ValidationError(
                f"Separate tags with commas: “{joined[0]}” would be one tag, with "
                "the ; or | in its name."
            )
        return tags


class ContactForm(SavedOnce, StaleEditGuard, forms.ModelForm):
    class Meta:
        model = Contact
        formfield_callback = bounded_formfield
        fields = CONTACT_FIELDS
        labels = {
            "full_name": "Name",
            "visible_to_students": "Students may see this person's email and phone",
            "email_consent": "Agreed to receive email from the university",
        }
        help_texts = {
            "email_consent": (
                "Bulk email reaches a business contact unless they opt out. Untick this when "
                "they withdraw their agreement: they are then opted out of all bulk email "
                "(ticked again, that opt-out ends). "
                "To stop only some kinds, change the bulk email they receive on their page."
            ),
        }

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        if administrators_of(organisation):
            self.fields["visible_to_students"].help_text = (
                f"{organisation} decides this itself, through its own MyCareer login: you "
                "may hide these details, not show them. Changing the name, email or phone "
                "of a person shown hides them until the organisation shows them again."
            )


class NoteForm(SavedOnce, StaleEditGuard, forms.ModelForm):
    class Meta:
        model = Note
        formfield_callback = bounded_formfield
        fields = ["kind", "started_by", "date", "unit", "contacts", "text", "follow_up_on"]
        labels = {
            "kind": "Type of engagement",
            "started_by": "Who started this contact",
            "unit": "On behalf of",
            "contacts": "Contacts involved",
            "text": "What happened",
            "follow_up_on": "Follow up on (optional)",
        }
        help_texts = {
            "started_by": (
                "A key contact (*) who phoned or wrote to you first may be recorded without "
                "asking: their key account operator is told."
            ),
        }
        widgets = {
            "date": DateInput(),
            "follow_up_on": DateInput(),
            "started_by": forms.RadioSelect,
            "contacts": forms.CheckboxSelectMultiple,
            "text": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, organisation: Organisation, user, **kwargs):

        super().__init__(*args, **kwargs)
        # An erased person is never chosen anew; a note that named them keeps them.
        named = Q(erased_at__isnull=True)
        if self.instance.pk:
            named |= Q(pk__in=self.instance.contacts.values("pk"))
        self.fields["contacts"].queryset = (
            organisation.contacts.filter(named)
            .order_by("full_name")
            .prefetch_related("key_links__key_account__operator")
        )

        def label(contact) -> str:
            """The name as everywhere, with what this person may do about a key contact."""
            if not contact.key_links_list or organisation.multi_touch:
                return contact.display_name
            # Read when a key contact is first labelled (cached on the person): the
            # profile's quick note form shows no contact list, and asked for nothing.
            agreements = liaison_agreements_in_force(user)
            agreed = [
                agreements[link.pk] for link in contact.key_links_list if link.pk in agreements
            ]
            blockers = contact_blockers(contact=contact, user=user)
            if not blockers:
                return (
                    f"{contact.display_name} — {agreed[-1].agreement_text}"
                    if agreed
                    else contact.display_name
                )
            owners = " and ".join(str(b.key_account.operator) for b in blockers)
            return (
                f"{contact.display_name} — key contact of {owners}: "
                "ask first, unless they contacted you"
            )

        self.fields["contacts"].label_from_instance = label
        self.fields["started_by"].choices = Note.StartedBy.choices
        # Left out (an older page, a script), a note records contact we started.
        self.fields["started_by"].required = False
        units = Unit.objects.filter(memberships__user=user)
        # The person's units as every page of the request reads them (one query at most).
        mine = member_units(user)
        first_unit = mine[0][0] if mine else None
        if first_unit is None:
            units = Unit.objects.all()
        elif self.instance.unit_id:
            # A colleague's note on behalf of another unit keeps that unit when edited.
            units = Unit.objects.filter(
                Q(memberships__user=user) | Q(pk=self.instance.unit_id)
            ).distinct()
        self.fields["unit"].queryset = units
        self.fields["unit"].required = False
        if not self.instance.pk:
            if first_unit is None:
                first_unit = (
                    Unit.objects.order_by("name", "pk").values_list("pk", flat=True).first()
                )
            if first_unit is not None:
                self.initial.setdefault("unit", first_unit)

    def clean_started_by(self) -> str:
        return self.cleaned_data.get("started_by") or Note.StartedBy.US


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label="I understand this cannot be undone", required=True)


class KeyAccountForm(forms.Form):
    unit = IdChoiceField(label="For which unit", queryset=Unit.objects.none())
    operator = IdChoiceField(
        label="Key account operator",
        queryset=None,
        required=False,
        help_text="Leave empty to hold the key account yourself.",
    )

    def __init__(self, *args, user, administrator: bool, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            Unit.objects.all() if administrator else Unit.objects.filter(memberships__user=user)
        )
        if administrator:
            self.fields["operator"].queryset = User.objects.filter(
                kind=User.Kind.STAFF, is_active=True
            )
        else:
            del self.fields["operator"]


class ReassignForm(forms.Form):
    operator = IdChoiceField(label="New key account operator", queryset=None)

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        field = self.fields["operator"]
        # Offered: staff who are still here. Accepted: any staff, so someone who has left
        # (chosen on a page opened before they left, or posted by hand) is refused with
        # the service's reason, not "not one of the available choices".
        field.queryset = User.objects.filter(kind=User.Kind.STAFF, is_active=True)
        offered = list(field.choices)
        field.queryset = User.objects.filter(kind=User.Kind.STAFF)
        field.widget.choices = offered


class KeyContactForm(forms.Form):
    guidance = MultiLineField(
        label="How colleagues should approach this contact",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Shown with the contact's name wherever it appears.",
    )


class MultiTouchForm(forms.Form):
    """Confirms a change of multi-touch status; carries the status asked for.

    A page left open while someone else changed the status cannot flip it back: the
    person is shown what the change would now do and confirms again.
    """

    multi_touch = forms.ChoiceField(
        choices=[("yes", "yes"), ("no", "no")], widget=forms.HiddenInput
    )

    def __init__(self, *args, marking: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.marking = marking
        self.fields["multi_touch"].initial = "yes" if marking else "no"

    def clean(self):
        data = super().clean()
        if data.get("multi_touch") and (data["multi_touch"] == "yes") != self.marking:
            raise forms.ValidationError(
                "Someone changed this organisation meanwhile: check what the change would "
                "do now, and confirm again."
            )
        return data


class LiaisonRequestForm(forms.Form):
    # A few sentences for a colleague to read and answer; the email quotes both.
    reason = MultiLineField(
        label="Why you want to contact them",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    proposed_engagement = MultiLineField(
        label="What you propose",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: invite them to speak at the March careers fair.",
    )


class LiaisonDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your answer",
        choices=[("approve", "Agree"), ("decline", "Decline")],
        widget=forms.RadioSelect,
    )
    valid_days = BoundedIntegerField(
        label="Agreement lasts (days)",
        min_value=1,
        max_value=365,
        initial=90,
        help_text="Only used when you agree.",
    )
    comment = MultiLineField(
        label="Comment (required to decline; sent to the colleague who asked)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class EmployerRegistrationForm(forms.Form):
    organisation_name = SingleLineField(label="Organisation name", max_length=200)
    website = forms.URLField(
        label="Organisation website",
        required=False,
        assume_scheme="https",
        help_text="Helps us confirm your organisation quickly.",
    )
    full_name = SingleLineField(label="Your name", max_length=150)
    job_title = SingleLineField(label="Your job title", max_length=150, required=False)
    email = forms.EmailField(label="Your work email address")
    phone = SingleLineField(
        label="Phone (optional)", max_length=40, required=False, validators=[validate_phone]
    )
    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="Type the password again", widget=forms.PasswordInput)

    def __init__(self, *args, invitation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        if invitation is not None:
            for name in ("organisation_name", "website"):
                del self.fields[name]
            self.fields["email"].initial = invitation.email

    def clean(self):
        from django.contrib.auth.password_validation import validate_password

        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords are not the same.")
        elif data.get("password1"):
            try:
                validate_password(data["password1"])
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class EmployerProfileForm(StaleEditGuard, forms.ModelForm):
    website = forms.URLField(label="Website", required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        formfield_callback = bounded_formfield
        fields = ["description", "logo", "website", "sector", "size", "locations"]
        field_classes = {"description": MultiLineField}
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        labels = {"description": "About your organisation (students see this)"}


class EmployerContactForm(StaleEditGuard, forms.ModelForm):
    class Meta:
        model = Contact
        formfield_callback = bounded_formfield
        fields = ["full_name", "job_title", "email", "phone", "visible_to_students"]
        labels = {
            "full_name": "Name",
            "visible_to_students": "Students may see this person's email and phone",
        }
        help_texts = {
            "visible_to_students": (
                "Off unless this person agreed. MyCareer records who changed it and when."
            ),
        }


class MemberRoleForm(forms.Form):
    # The role asked for, not a toggle: pressed twice, the button does not undo itself.
    role = forms.ChoiceField(choices=[("admin", "Administrator"), ("member", "Member")])


class LeftWithoutAdministratorForm(forms.Form):
    """Staff type how many people would sign in with no administrator among them, so that
    leaving an organisation so is never a slip."""

    confirmed = typed_number_field("people")

    def __init__(self, *args, left: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.left = left

    def clean_confirmed(self) -> int:
        typed = self.cleaned_data["confirmed"]
        if int(typed) != self.left:
            raise forms.ValidationError(
                f"Type the number shown above: {self.left}. You typed {typed}."
            )
        return self.left


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Your colleague's work email address")


class PreferencesForm(StaleEditGuard, forms.Form):
    """Which kinds of bulk email a person receives: theirs, or staff's on their request.

    Guarded (`guard=True`): an unsubscribe link followed after the page opened is not
    undone by saving it."""

    events = forms.BooleanField(label="Emails promoting university events", required=False)
    newsletters = forms.BooleanField(label="Newsletters from the careers service", required=False)
    vacancies = forms.BooleanField(
        label="Calls for vacancies, placements and internships", required=False
    )
    other = forms.BooleanField(label="Other announcements", required=False)

    def __init__(self, data=None, *, contact: Contact):
        super().__init__(data, initial=services.contact_email_choices(contact), guard=True)
        self.contact = contact

    def save(self, *, method: str, by: User) -> list[str] | None:
        """Record the choice; returns the kinds now received, in words (None when the
        choice was what was recorded already)."""
        if not services.contact_set_email_choices(
            contact=self.contact, wanted=self.cleaned_data, method=method, by=by
        ):
            return None
        return [self.fields[name].label.lower() for name, on in self.cleaned_data.items() if on]


class RegistrationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Approve"), ("decline", "Decline")],
        widget=forms.RadioSelect,
    )
    reason = MultiLineField(
        label="Reason (required to decline; emailed to the employer)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    # The version of the registration the page showed: a decision is on what was read.
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class SavedSearchForm(forms.Form):
    name = SingleLineField(
        label="Name for this search",
        max_length=120,
        help_text="For example: Engineering placements in Leeds.",
    )
    # The search being saved, as the search page's query string.
    query = forms.CharField(max_length=4000, required=False, widget=forms.HiddenInput)


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


class DirectorySearchForm(StrictFilterForm, forms.Form):
    """The students' employer directory: by name, sector and location, and for a student
    those recruiting their course."""

    # The directory's parameters that are not filters (its page, "count exactly").
    NOT_FILTERS = frozenset({"page", COUNT_PARAMETER})

    q = forms.CharField(label="Employer name", required=False, max_length=100)
    sector = forms.ModelChoiceField(
        label="Sector",
        queryset=Sector.objects.order_by("name"),
        required=False,
        empty_label="Any sector",
    )
    location = forms.CharField(
        label="Location", required=False, max_length=100, help_text="A town or city."
    )
    for_you = TickBoxField(
        label="Only employers with vacancies aimed at your course",
        required=False,
        help_text="Open vacancies that name your programme, school or faculty.",
    )

    def __init__(self, *args, for_a_student: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not for_a_student:
            # Nobody else has a course to aim at: asked for, it is a filter not known here.
            del self.fields["for_you"]
