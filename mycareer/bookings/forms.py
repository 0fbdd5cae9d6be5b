from django import forms
from django.utils import timezone

from mycareer.bookings import selectors
from mycareer.bookings.models import Booking, BookingSettings, NoShowPolicy
from mycareer.bookings.services import MERGE_FIELDS
from mycareer.core import mailmerge
from mycareer.core.forms import (
    BoundedIntegerField,
    IdChoiceField,
    LocalDateTimeField,
    LocalDateTimeInput,
    MultiLineField,
    SingleLineField,
    StaleEditGuard,
    StrictFilterForm,
    bounded_formfield,
    bounded_int,
)

# More places than any venue on campus holds: a typing slip, not a real limit.
MAX_PLACES = 100_000

FIELDS_HELP = "You can use " + ", ".join(mailmerge.written(f) for f in MERGE_FIELDS) + "."

FOLLOW_UP_SUBJECT = "We missed you at {{ event_title }}"
FOLLOW_UP_BODY = "\n\n".join(
    [
        "Dear {{ first_name }},",
        "You booked a place at {{ event_title }} on {{ event_date }}, but we did not see you "
        "there.",
        "We hope all is well. If you can no longer come to an event you have booked, please "
        "cancel your place on MyCareer, even at the last minute: someone on the waiting list "
        "can then take it.",
        "If you would like to catch up on what you missed, reply to this email and we will "
        "send you the slides and how to contact the employer.",
        "Best wishes,\nThe Careers Centre",
    ]
)


class ConfirmNumberInput(forms.CheckboxInput):
    """A tick box whose value is the number it confirms, never ticked when shown: a number
    that changed since the page was shown is asked again, not taken as agreed."""

    def __init__(self, number: int):
        super().__init__(attrs={"value": str(number)}, check_test=lambda value: False)

    def format_value(self, value):
        return None  # the value is the number asked about, in attrs

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class BookingSettingsForm(StaleEditGuard, forms.Form):
    # Shown on the event form above the fields (`event_form.move_warning`).
    move_warning = ""
    # On the form creating an event: what it sets is recorded as set with the event.
    for_new_event = False

    capacity = BoundedIntegerField(
        label="Number of places",
        min_value=0,
        max_value=MAX_PLACES,
        required=False,
        help_text=(
            "Leave empty for no limit on places. Lowering it never takes a place from anyone."
        ),
    )
    opens_at = LocalDateTimeField(
        label="Booking opens",
        required=False,
        widget=LocalDateTimeInput(),
        help_text="UK time. Leave empty to open as soon as the event is published.",
    )
    closes_at = LocalDateTimeField(
        label="Booking closes",
        required=False,
        widget=LocalDateTimeInput(),
        help_text="UK time. Leave empty to keep booking open until the event starts.",
    )
    waiting_list = forms.BooleanField(
        label="Keep a waiting list when the event is full",
        required=False,
        help_text="Untick to stop people joining it: anyone already on it keeps their turn.",
    )
    promotion = forms.ChoiceField(
        label="When a place frees",
        choices=BookingSettings.Promotion.choices,
        widget=forms.RadioSelect,
    )
    offer_hours = BoundedIntegerField(
        label="Hours to accept an offer",
        min_value=1,
        max_value=168,
        help_text="Used when places are offered. Offers always end when the event starts.",
    )
    # How many people from the waiting list the person saving agreed would get places: a
    # hidden nothing until saving would move people, then a tick box with that number.
    confirm_moves = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_PLACES, widget=forms.HiddenInput
    )

    def ask_to_confirm(self, count: int, sentence: str) -> None:
        """Show the tick box for `count` people getting places (the service asked)."""
        field = self.fields["confirm_moves"]
        field.widget = ConfirmNumberInput(count)
        field.label = f"Confirm: {sentence.rstrip('.')}"
        self["confirm_moves"].label = field.label  # the bound field read it when cleaning

    def changes(self) -> dict:
        """The settings to save (not the confirmation)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "confirm_moves"}

    def confirmed_moves(self) -> int:
        return self.cleaned_data.get("confirm_moves") or 0

    @staticmethod
    def initial_for(current: BookingSettings) -> dict:
        """The form's starting values from an event's settings (or the defaults, unsaved)."""
        return {
            "capacity": current.capacity,
            "opens_at": current.opens_at and timezone.localtime(current.opens_at),
            "closes_at": current.closes_at and timezone.localtime(current.closes_at),
            "waiting_list": current.waiting_list,
            "promotion": current.promotion,
            "offer_hours": current.offer_hours,
        }

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "Booking must close after it opens.")
        return data


class StudentField(forms.CharField):
    """A student named by student number or email address."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        student = selectors.find_student(value)
        if student is None:
            raise forms.ValidationError(
                f"No student with the student number or email address “{value}”."
            )
        return student


class BookingFilterForm(StrictFilterForm, forms.Form):
    """Whom an event's list of bookings shows, from the address: a status it does not have
    (`?status=atended`) is refused, as the calendar's filters are, never read as everyone."""

    FILTERS_OF = "The list of bookings"
    NOT_FILTERS = frozenset({"page"})

    status = forms.ChoiceField(
        label="Show",
        choices=[("", "Everyone (cancelled too)"), *Booking.Status.choices],
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not a status a booking has: choose one from the list."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, strict=True, **kwargs)
        self.fields["status"].widget.attrs["id"] = "status-filter"


class StudentForm(forms.Form):
    student = StudentField(
        label="Student number or email address",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "search"}),
    )

    def override_restriction(self) -> bool:
        """Whether the second press on the page that showed the student's restriction on
        booking overrides it: for the student it was shown for, not one typed since."""
        pressed = self.data.get(self.add_prefix("override_restriction"))
        return pressed == str(self.cleaned_data["student"].pk)


class CheckInSearchForm(forms.Form):
    q = forms.CharField(
        label="Name or student number",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Check-in code",
        max_length=500,
        help_text="Scan with a code reader, or paste the address from the QR code.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class MoveForm(forms.Form):
    to_event = IdChoiceField(label="Move to", queryset=None, empty_label="Choose an event")

    def __init__(self, *args, event, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_event"].queryset = selectors.move_targets(event, user)
        self.fields["to_event"].label_from_instance = lambda e: (
            f"{e.title} — {selectors.when_text(e.starts_at)} ({e.unit})"
        )

    def confirmed_position(self) -> int | None:
        """The waiting-list number agreed on the page that asked, for the event it asked
        about: a different event chosen since then has not been agreed to."""
        if self.data.get("confirm_to") != str(self.cleaned_data["to_event"].pk):
            return None
        return bounded_int(self.data.get("confirm_position"), low=1)

    def override_restriction(self) -> bool:
        """Whether the second press on the page that showed the person's restriction on
        booking overrides it, for the event it was asked about."""
        return self.data.get("override_restriction") == str(self.cleaned_data["to_event"].pk)


class FollowUpForm(forms.Form):
    subject = SingleLineField(label="Subject", max_length=200, help_text=FIELDS_HELP)
    body = MultiLineField(
        label="Message", widget=forms.Textarea(attrs={"rows": 12}), help_text=FIELDS_HELP
    )

    def _check(self, name):
        value = self.cleaned_data[name]
        if problems := mailmerge.problems(value, MERGE_FIELDS):
            raise forms.ValidationError(problems)
        return value

    def clean_subject(self):
        return self._check("subject")

    def clean_body(self):
        return self._check("body")


class ReportSendForm(forms.Form):
    contacts = forms.MultipleChoiceField(
        label="Send to", widget=forms.CheckboxSelectMultiple, required=True
    )
    message = MultiLineField(
        label="A note to go with the figures",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].choices = choices
        self.fields["contacts"].error_messages["required"] = "Choose at least one contact."


class PolicyForm(StaleEditGuard, forms.ModelForm):
    class Meta:
        model = NoShowPolicy
        formfield_callback = bounded_formfield
        fields = ["enabled", "no_shows", "window_weeks", "ban_weeks"]


class LiftForm(forms.Form):
    reason = MultiLineField(
        label="Why lift it?", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
