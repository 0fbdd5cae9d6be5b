import datetime
import hashlib
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import django.forms
from django import forms
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.forms.renderers import Jinja2
from django.forms.utils import from_current_timezone
from django.utils import formats, timezone
from django.utils.choices import flatten_choices
from django.utils.functional import cached_property
from django.utils.translation import ngettext

from mycareer.core.text import joined, newlines_only, single_line
from mycareer.core.validators import too_many_pixels

# The largest whole number MyCareer takes from a request: it fits every integer column
# of SQLite and PostgreSQL (a 32-bit signed integer), so a typed or crafted number is
# refused by the form instead of by the database.
MAX_INTEGER = 2**31 - 1
# Record ids are 64-bit: anything larger cannot name a record.
MAX_ID = 2**63 - 1


class FormRenderer(Jinja2):
    """Forms and their fields through Jinja2, from `core/jinja2` first, then Django's own.

    A field with its label, help and errors is `core/field.html` (`{{ form.name.as_field_group }}`
    in a page). The choice widgets' templates (`django/forms/widgets/select.html` and
    `multiple_input.html`) are Django's with each option written in place, where Django's
    include a template per option, and per option again for its attributes: the
    organisation search's filters took 5.4 ms to build and draw, and 3.2 ms this way (with
    their sectors and units read by a prepared query).
    """

    field_template_name = "core/field.html"

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [
                    Path(__file__).parent / "jinja2",
                    Path(django.forms.__file__).parent / "jinja2",
                ],
                "NAME": "djangoforms",
                "OPTIONS": {"environment": "mycareer.core.jinja.environment"},
            }
        )


class LocalDateTimeInput(forms.DateTimeInput):
    """A native date-and-time picker; the value is read in the site's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def clock_change_refusal(error: forms.ValidationError) -> forms.ValidationError:
    """Django's refusal of a local time the clocks skip (01:30 on the last Sunday of March
    in the UK) or pass twice (01:30 on the last Sunday of October), in words that say
    what happens that night: Django's own were "couldn't be interpreted in time zone
    Europe/London; it may be ambiguous or it may not exist". Any other error is kept."""
    if error.code != "ambiguous_timezone" or not error.params:
        return error
    naive, zone = error.params["datetime"], error.params["current_timezone"]
    at = f"{naive:%H:%M} on {formats.date_format(naive, 'j F Y')}"
    earlier = naive.replace(tzinfo=zone, fold=0)
    if earlier.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) == naive:
        message = (
            f"{at} happens twice in UK time: the clocks go back an hour that night. "
            "Choose a time outside that hour."
        )
    else:
        message = (
            f"{at} does not exist in UK time: the clocks go forward an hour that night. "
            "Choose a time outside the hour they skip."
        )
    return forms.ValidationError(message, code="clock_change")


def from_local_time(value: datetime.datetime) -> datetime.datetime:
    """A naive time read in the site's time zone; one the clocks skip or pass twice is
    refused with `clock_change_refusal`'s words."""
    try:
        return from_current_timezone(value)
    except forms.ValidationError as error:
        raise clock_change_refusal(error) from None


class LocalDateTimeField(forms.DateTimeField):
    """A date and time read in the site's time zone with the native picker; a time the
    clocks skip or pass twice is refused with `clock_change_refusal`'s words.

    But a stored time in the hour the clocks pass twice (set through the API, with its
    offset) is drawn without the offset: sent back as drawn, it is the stored time, not a
    time to choose again. `KeepsStoredTimes` gives the field the stored value (`stored`).
    """

    widget = LocalDateTimeInput
    stored: datetime.datetime | None = None

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if self._is_stored(value):
                return self.stored
            raise clock_change_refusal(error) from None

    def _is_stored(self, value) -> bool:
        if not isinstance(self.stored, datetime.datetime) or not isinstance(value, str):
            return False
        widget = cast(forms.Widget, self.widget)  # an instance once the field is made
        return widget.format_value(self.prepare_value(self.stored)) == value.strip()


class KeepsStoredTimes(forms.BaseForm):
    """A form editing a stored record gives each `LocalDateTimeField` the stored time,
    read when the form is checked (a form's own __init__ may set initial values late)."""

    def full_clean(self):
        for name, field in self.fields.items():
            if isinstance(field, LocalDateTimeField):
                field.stored = self.initial.get(name, field.initial)
        super().full_clean()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class SingleLineField(forms.CharField):
    """A name, title or subject: control characters and line breaks become spaces."""

    def to_python(self, value):
        value = super().to_python(value)
        return single_line(value) if isinstance(value, str) else value


# The longest text of several lines (a description, a note, a reason) the pages and the
# API take: about 3,000 words. The pages took any length (a 200,000-character vacancy went
# to the moderator, the students and the public feeds; a 200,000-character note saved).
DESCRIPTION_MAX_LENGTH = 20_000


class MultiLineField(forms.CharField):
    """A text box of several lines (a description, a note, a message): its line breaks are
    kept as "\\n", however the browser sent them, and it is at most `max_length` characters
    (DESCRIPTION_MAX_LENGTH unless given).

    A browser sends "\\r\\n"; the text stored from the API, an import or the seed has "\\n",
    so a page saved unchanged counted as changed: "saved", an audit entry, and an email
    to an event's people that its description had changed. Every form's multi-line text
    is one of these (a ModelForm's text columns through `bounded_formfield`); a test
    walks every form to keep it so.

    The box itself takes more than the limit, so that text pasted into it is not cut
    short without a word: the page says how long it is and keeps it all.
    """

    widget = forms.Textarea

    def __init__(self, **kwargs):
        if kwargs.get("max_length") is None:
            kwargs["max_length"] = DESCRIPTION_MAX_LENGTH
        self.limit: int = kwargs["max_length"]
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, MaxLengthValidator)] + [
            self._at_most
        ]

    def _at_most(self, value: str) -> None:
        if len(value) > self.limit:
            about = " (about 3,000 words)" if self.limit == DESCRIPTION_MAX_LENGTH else ""
            raise forms.ValidationError(
                f"Keep it to {self.limit:,} characters{about}: it has {len(value):,}.",
                code="max_length",
            )

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs

    def to_python(self, value):
        value = super().to_python(value)
        return newlines_only(value) if isinstance(value, str) else value

    def has_changed(self, initial, data) -> bool:
        # Text stored as a browser sent it, before line breaks were kept as "\n" only, is
        # the same text when it comes back.
        if isinstance(initial, str):
            initial = newlines_only(initial)
        return super().has_changed(initial, data)


class BoundedIntegerField(forms.IntegerField):
    """An IntegerField that never lets a number through that the database cannot hold,
    and says its limits in plain figures ("Enter a number from 1 to 1,000."), where
    Django's words named the database's ("less than or equal to 9223372036854775807")."""

    def __init__(self, *, min_value=None, max_value=None, **kwargs):
        given = set(kwargs.get("error_messages") or {})
        max_value = MAX_INTEGER if max_value is None else min(max_value, MAX_INTEGER)
        low = min_value is not None
        min_value = -MAX_INTEGER if min_value is None else max(min_value, -MAX_INTEGER)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        limits = (
            f"Enter a number from {min_value:,} to {max_value:,}."
            if low
            else f"Enter a number up to {max_value:,}."
        )
        for code in {"min_value", "max_value"} - given:
            self.error_messages[code] = limits


def bounded_int(
    value, *, default: int | None = None, low: int = 0, high: int = MAX_INTEGER
) -> int | None:
    """A whole number from a query string or form, within [low, high]; else `default`.

    For parameters read without a form (page numbers, ids): "9223372036854775807",
    "1e9", "" and "abc" all give `default` rather than an error page.
    """
    text = "" if value is None else str(value).strip()
    # No number MyCareer takes has more digits than this; int() of a huge string is slow.
    if len(text) > 24:
        return default
    try:
        number = int(text)
    except ValueError:
        return default
    return number if low <= number <= high else default


def bounded_ids(values, *, high: int = MAX_ID) -> list[int]:
    """The valid ids among a list of submitted values (e.g. `request.POST.getlist`)."""
    ids = (bounded_int(v, low=1, high=high) for v in values)
    return [i for i in ids if i is not None]


def _is_out_of_range_id(value) -> bool:
    text = str(value).strip()
    return text.lstrip("-").isdigit() and bounded_int(text, low=-MAX_ID, high=MAX_ID) is None


class IdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that answers "not one of the choices" to an id too big to exist.

    Django passes the submitted id straight to the database, which raises an overflow
    (SQLite) or a range error (PostgreSQL) for a 20-digit number: a 500 instead of a
    form error.
    """

    def to_python(self, value):
        if (
            self.to_field_name is None
            and value not in self.empty_values
            and _is_out_of_range_id(value)
        ):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField with the same refusal of ids too big to exist."""

    def _check_values(self, value):
        for item in value if self.to_field_name is None else ():
            if _is_out_of_range_id(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(item)[:30]},
                )
        return super()._check_values(value)


def unknown_filters_message(names: list[str], *, of: str = "The search") -> str:
    """What to say about parameters a page does not know: refused, never ignored."""
    return ngettext(
        "%(of)s has a filter it does not know: %(names)s.",
        "%(of)s has filters it does not know: %(names)s.",
        len(names),
    ) % {"of": of, "names": ", ".join(f"“{name}”" for name in names)}


# What a tick box in an address may say: a browser sends "on", a link may spell it out.
TICKED = frozenset({"on", "true", "yes", "1"})
NOT_TICKED = frozenset({"", "off", "false", "no", "0"})


def _ticked(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in TICKED)


class TickBoxInput(forms.CheckboxInput):
    """A tick box that hands its field what the address said, for the field to judge (a
    CheckboxInput takes any text but "false" for a tick, "0" and "no" too)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=_ticked)

    def value_from_datadict(self, data, files, name):
        return data.get(name, "")


class TickBoxField(forms.BooleanField):
    """A filter's tick box: ticked for "on" (a browser's), "true", "yes" or "1"; not for
    nothing, "off", "false", "no" or "0"; anything else is refused by name.

    `?include_archived=maybe` was taken for yes and listed archived organisations, and
    `?include_archived=0` too, in the search and in a bulk email's recipients.
    """

    widget = TickBoxInput

    def to_python(self, value):
        if isinstance(value, bool):
            return value
        said = str(value).strip().lower()
        if said in TICKED:
            return True
        if said in NOT_TICKED:
            return False
        raise forms.ValidationError(
            "“%(value)s” is not a yes or a no: tick the box or leave it empty.",
            code="invalid",
            params={"value": str(value)[:30]},
        )


class StrictFilterForm(forms.BaseForm):
    """A page's filters from its address; when strict, a name it does not know is an error.

    A mistyped link (`?untis=mech`) that was ignored would show every record, which a
    person takes for the filtered answer. Strict, any name that is neither a field nor
    one of the page's other parameters is refused by name. `NOT_FILTERS` are a form's
    own (its page number, say); a page adds its own with `not_filters` (a month, a token).
    A filter's tick box is a `TickBoxField`, which refuses what is neither a yes nor a no.
    """

    NOT_FILTERS: frozenset[str] = frozenset()
    # What the person is told has the filters: "The search has a filter it does not know".
    FILTERS_OF = "The search"

    def __init__(self, *args, strict: bool = False, not_filters: Iterable[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.strict = strict
        self.not_filters = self.NOT_FILTERS | frozenset(not_filters)

    def unknown_filters(self) -> list[str]:
        """The names given that are neither filters nor the page's other parameters."""
        if not (self.strict and self.is_bound):
            return []
        return sorted(set(self.data) - set(self.fields) - self.not_filters)

    def clean(self):
        data = super().clean()
        unknown = self.unknown_filters()
        if unknown:
            raise forms.ValidationError(
                unknown_filters_message(unknown, of=self.FILTERS_OF), code="unknown_filter"
            )
        return data


OPENED_AS = "opened_as"


class StaleEditGuard(KeepsStoredTimes, forms.BaseForm):
    """An edit form that will not put back what someone else saved after the page opened.

    Two people open the same record; the first saves a new website; the second's page
    still holds the old one, and saving it for another reason would silently put the
    old website back. The form carries a short digest of each field as the page showed
    it (`opened_as`, hidden). When saved, a field whose stored value has changed since
    takes that value if this page sent it back as it opened (only the other person
    changed it); if this page changed it too, it is named, what was typed is kept, and
    saving again (having looked) keeps it. The web's counterpart of the API's If-Match.

    The form's initial values must be the stored record's whether it is bound or not.
    A ModelForm guards a saved instance; another form passes `guard=True` when it edits
    a stored record. A post without `opened_as` (a script) is not checked.
    """

    def __init__(self, *args, guard: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if guard is None:
            instance = getattr(self, "instance", None)
            guard = instance is not None and instance.pk is not None
        self.guarded = guard
        if guard:
            # Computed when drawn or checked: the form's own __init__ may set initial
            # values after this one has run.
            self.fields[OPENED_AS] = forms.CharField(
                widget=forms.HiddenInput,
                required=False,
                initial=lambda: json.dumps(self._digests(), separators=(",", ":")),
            )

    def _keep_times_sent_back(self, data: dict) -> None:
        """A stored time the page shows to the minute, sent back as shown, stays as stored.

        A time with seconds (set through the API, or imported) is drawn without them; saved
        unchanged, it would move to the minute and count as a change (and an event's
        people would be emailed that it moved).
        """
        for name, field in self.fields.items():
            value = data.get(name)
            if not isinstance(value, datetime.datetime | datetime.time):
                continue
            # Not get_initial_for_field: it drops the microseconds this is about.
            stored = self.initial.get(name, field.initial)
            if (
                type(stored) is type(value)
                and stored != value
                and field.widget.format_value(stored) == field.widget.format_value(value)
            ):
                data[name] = stored

    def _keep_text_sent_back(self, data: dict) -> None:
        """A stored text whose line breaks are "\\r\\n" (saved from a browser before they
        were kept as "\\n"), sent back unchanged, stays as stored: not a change to record,
        nor to email an event's people about."""
        for name, field in self.fields.items():
            value = data.get(name)
            if not (isinstance(field, MultiLineField) and isinstance(value, str)):
                continue
            stored = self.initial.get(name, field.initial)
            if isinstance(stored, str) and stored != value and newlines_only(stored) == value:
                data[name] = stored

    def _digests(self) -> dict[str, str]:
        return {
            name: _digest(self.get_initial_for_field(field, name))
            for name, field in self.fields.items()
            if name != OPENED_AS
        }

    def clean(self):
        data = super().clean()
        if not self.guarded:
            return data
        data.pop(OPENED_AS, None)  # a check, not a value to save
        self._keep_times_sent_back(data)
        self._keep_text_sent_back(data)
        key = self.add_prefix(OPENED_AS)
        try:
            opened = json.loads(self.data.get(key) or "{}")
        except ValueError:
            opened = {}
        if not isinstance(opened, dict):
            opened = {}
        now = self._digests()
        moved = [name for name, digest in now.items() if opened.get(name, digest) != digest]
        # A field only the other person changed takes what they saved; only a field both
        # changed is a conflict to look at.
        taken = [name for name in moved if self._take_stored(name, data, opened[name], now)]
        changed = [name for name in moved if name not in taken]
        if changed:
            labels = [f"“{self.fields[name].label or name}”" for name in changed]
            which = "that field" if len(labels) == 1 else "those fields"
            message = (
                f"Someone else saved a change to {joined(labels)} after you opened this page. "
                f"What you typed is kept below: check {which}, then save again to keep your "
                "version."
            )
            if taken:
                others = joined([f"“{self.fields[name].label or name}”" for name in taken])
                message += f" Their change to {others} is kept when you save."
            self.add_error(None, message)
            # Beside each field in conflict, what the other person saved: to choose, the
            # person must see both.
            # Not `add_error`, which would drop the field from `cleaned_data`: a form's own
            # `clean` (run after this) would then find it empty and say so, untruly.
            for name in changed:
                errors = self._errors.setdefault(name, self.error_class(renderer=self.renderer))
                errors.append(self._their_value(name))
            # The page drawn again carries what is stored now, so the next save keeps what
            # was typed in the fields in conflict; a field taken from the other person
            # shows their value.
            self.data = self.data.copy()
            self.data[key] = json.dumps(now, separators=(",", ":"))
            for name in taken:
                self._show_stored(name)
        return data

    def _their_value(self, name: str) -> str:
        """What is stored in `name` now, in words, for the person whose page is stale."""
        field = self.fields[name]
        value = self.get_initial_for_field(field, name)
        if isinstance(field, forms.FileField):
            return "Someone else has changed this file since you opened this page."
        if isinstance(field, forms.ModelChoiceField):  # one record or several
            ids = [_plain(item) for item in value] if isinstance(value, list | tuple | set) else []
            if not isinstance(field, forms.ModelMultipleChoiceField):
                ids = [] if value in (None, "") else [_plain(value)]
            records = list(field.queryset.filter(pk__in=ids)) if field.queryset is not None else []
            if len(records) < len(set(ids)):
                return (
                    "Since you opened this page, someone else changed this to something you "
                    "cannot choose here."
                )
            words = [str(field.label_from_instance(record)) for record in records]
        elif isinstance(field, forms.ChoiceField):
            choices: Any = field.choices
            pairs: list[tuple[Any, Any]] = list(flatten_choices(choices))
            labels = {str(key): label for key, label in pairs}
            chosen = value if isinstance(value, list | tuple) else [value]
            words = [str(labels.get(str(item), item)) for item in chosen if item not in (None, "")]
        elif isinstance(value, datetime.datetime):
            shown = timezone.localtime(value) if timezone.is_aware(value) else value
            words = [formats.date_format(shown, "j F Y, H:i")]
        elif isinstance(value, datetime.date):
            words = [formats.date_format(value, "j F Y")]
        else:
            shown = field.widget.format_value(field.prepare_value(value))
            words = [single_line(str(shown))] if shown not in (None, "", []) else []
        if not words:
            return "Since you opened this page, someone else emptied this field."
        text = joined([f"“{word}”" for word in words])
        if len(text) > 300:
            text = text[:299] + "…”"
        return f"Since you opened this page, someone else saved {text} here."

    def _show_stored(self, name: str) -> None:
        """Draw `name` again with its stored value, as the widget would send it back."""
        field = self.fields[name]
        widget, key = field.widget, self.add_prefix(name)
        value = field.prepare_value(self.get_initial_for_field(field, name))
        data: Any = self.data  # a copy made by `clean`, which may be changed
        if isinstance(widget, forms.MultiWidget | forms.FileInput):
            return  # several inputs, or a file: left as sent
        if isinstance(widget, forms.CheckboxInput):
            if widget.check_test(value):
                data[key] = "on"
            else:
                data.pop(key, None)
            return
        if getattr(widget, "allow_multiple_selected", False):
            values = [str(v) for v in (value or [])]
            if hasattr(data, "setlist"):
                data.setlist(key, values)
            else:
                data[key] = values
            return
        shown = widget.format_value(value)
        if isinstance(shown, list):
            shown = shown[0] if shown else ""
        data[key] = "" if shown is None else shown

    def _take_stored(self, name: str, data: dict, opened: str, now: dict[str, str]) -> bool:
        """If this page sent `name` back as it opened, put the value stored since in its
        place and say True; False when the person changed it too (or it cannot be said)."""
        field = self.fields[name]
        if name not in data or isinstance(field, forms.FileField):
            return False
        if _digest(data[name]) == now[name]:
            return True  # both made the same change: nothing to choose between
        if _digest(data[name]) != opened:
            return False  # they changed it too (or it reads otherwise once cleaned)
        sent = data[name]
        try:
            value = field.clean(field.prepare_value(self.get_initial_for_field(field, name)))
            if hasattr(self, f"clean_{name}"):
                # As the form cleans a field: its own clean_<name> reads cleaned_data.
                data[name] = value
                value = getattr(self, f"clean_{name}")()
        except forms.ValidationError:
            data[name] = sent
            return False
        if _digest(value) != now[name]:
            data[name] = sent
            return False
        data[name] = value
        return True


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(_plain(value)).encode()).hexdigest()[:12]


def _plain(value):
    """A field's initial value as plain data: records by id, lists in a fixed order."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset | models.QuerySet):
        return sorted((_plain(item) for item in value), key=str)
    if isinstance(value, datetime.date | datetime.time):  # datetimes too
        return value.isoformat()
    if hasattr(value, "name") and hasattr(value, "storage"):  # a stored file
        return value.name or ""
    return "" if value is None else str(value)


def add_validation_error(form: forms.BaseForm, error: forms.ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where it names one, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class CheckedImageField(forms.ImageField):
    """An image upload that says an image with too many pixels is too large, as
    `check_image` does: Django's own field called it "not a valid image"."""

    def __init__(self, *, what: str = "image", **kwargs):
        self.what = what
        super().__init__(**kwargs)

    def to_python(self, data):
        from PIL import Image

        try:
            return super().to_python(data)
        except forms.ValidationError as error:
            bomb = (Image.DecompressionBombError, Image.DecompressionBombWarning)
            if isinstance(error.__cause__, bomb):
                raise forms.ValidationError(too_many_pixels(self.what)) from error
            raise


def bounded_formfield(db_field, **kwargs):
    """ModelForm `Meta.formfield_callback`: relations become Id(s)ChoiceField, and whole
    numbers a BoundedIntegerField within the column's validators (its own limits, else the
    database's), which says them in plain figures, text columns a MultiLineField and
    images a CheckedImageField."""
    if isinstance(db_field, models.ImageField):
        kwargs.setdefault("form_class", CheckedImageField)
        kwargs.setdefault("what", str(db_field.verbose_name))
    elif isinstance(db_field, models.TextField) and not db_field.choices:
        kwargs.setdefault("form_class", MultiLineField)
    elif isinstance(db_field, models.ManyToManyField):
        kwargs.setdefault("form_class", IdsChoiceField)
    elif isinstance(db_field, models.ForeignKey):
        kwargs.setdefault("form_class", IdChoiceField)
    elif isinstance(db_field, models.IntegerField) and not db_field.choices:
        kwargs.setdefault("form_class", BoundedIntegerField)
        highs = _limits(db_field, MaxValueValidator)
        lows = _limits(db_field, MinValueValidator)
        if highs:
            kwargs.setdefault("max_value", min(highs))
        if lows:
            kwargs.setdefault("min_value", max(lows))
    return db_field.formfield(**kwargs)


def _limits(db_field, kind) -> list[int]:
    return [
        v.limit_value
        for v in db_field.validators
        if isinstance(v, kind) and isinstance(v.limit_value, int)
    ]


def typed_number_field(noun: str) -> forms.RegexField:
    """A box where the person types the number of `noun` shown (recipients, records), so a
    wide or irreversible action is never a slip. Any figures are read, minus signs too:
    the form says whether they are the number shown."""
    return forms.RegexField(
        label=f"Type the number of {noun} to confirm",
        regex=r"^-?\d+$",
        max_length=30,
        strip=True,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": f"Type the number of {noun} shown above.",
            "invalid": f"Type the number of {noun} shown above, in figures.",
            "max_length": "That is not the number shown above: type it in figures.",
        },
    )


ONCE = "once"
# Long enough to go back and send a page again, short enough not to stop a second
# record made on purpose later; and the latest keys a person's session remembers.
ONCE_MINUTES = 30
ONCE_REMEMBERED = 50
# What a page sends besides what was typed: not part of what it makes.
NOT_CONTENT = frozenset({"csrfmiddlewaretoken", OPENED_AS})


class SavedOnce(forms.BaseForm):
    """A form that makes a new record makes it once for the same content: the page sent
    again (Back and send, a retried request) leads to the record it made.

    The key is a digest of what the page sent, so a page drawn afresh by Back (the
    browser puts back what was typed) has the same one. The view asks
    `already_saved(request, form)` once the form is valid, and tells
    `remember_saved(request, form, url)` where the new record is. A form editing a
    stored record has no key.
    """

    @property
    def once_key(self) -> str:
        if getattr(self, "guarded", False) or not self.is_bound:
            return ""
        sent = sorted(
            (name, self.data.getlist(name) if hasattr(self.data, "getlist") else self.data[name])
            for name in self.data
            if name not in NOT_CONTENT
        )
        text = json.dumps([type(self).__name__, sent], default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def already_saved(request, form: SavedOnce):
    """The record this very page made, if it was sent before (a redirect there, saying
    so); else None."""
    from django.contrib import messages
    from django.shortcuts import redirect

    key = form.once_key
    url, at = request.session.get(ONCE, {}).get(key, (None, 0)) if key else (None, 0)
    if not url or time.time() - at > ONCE_MINUTES * 60:
        return None
    messages.info(request, "This page was already sent and saved: here is what it made.")
    return redirect(url)


def remember_saved(request, form: SavedOnce, url: str) -> None:
    key = form.once_key
    if not key:
        return
    saved = dict(request.session.get(ONCE, {}))
    saved[key] = (url, time.time())
    request.session[ONCE] = dict(list(saved.items())[-ONCE_REMEMBERED:])
