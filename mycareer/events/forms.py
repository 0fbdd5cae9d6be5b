import datetime

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy

from mycareer.accounts.models import DegreeProgramme, Unit
from mycareer.core.forms import (
    BoundedIntegerField,
    DateInput,
    IdChoiceField,
    IdsChoiceField,
    LocalDateTimeField,
    LocalDateTimeInput,
    MultiLineField,
    SavedOnce,
    SingleLineField,
    StaleEditGuard,
    StrictFilterForm,
)
from mycareer.events import selectors
from mycareer.events.models import (
    MAX_EVENT_LENGTH,
    SENSIBLE_YEARS,
    YEARS_OF_STUDY,
    Event,
    Topic,
)
from mycareer.events.units import UnitTree
from mycareer.organisations.models import Organisation

YEAR_CHOICES = [(str(y), f"Year {y}") for y in YEARS_OF_STUDY]


def organisable_units(user):
    """The units a person may organise events for."""
    if user.has_perm("mycareer.administer"):
        return Unit.objects.all()
    return Unit.objects.filter(pk__in=selectors.own_unit_ids(user))


# A careers fair has many exhibitors; more than this is a paste gone wrong.
MAX_ORGANISATIONS = 200

# What happens to a reason for going ahead despite clashes, by whether anyone is told.
TOLD_HELP = "Recorded on the event and emailed to the clashing events' organisers (never to you)."
NOBODY_TOLD_HELP = "Recorded on the event; nobody is emailed."


def override_reason_help(told: list) -> str:
    """The reason field's help: `told` is whom the reason is emailed to (`organisers_to_tell`);
    when the clashing events are all the person's own, nobody is."""
    return TOLD_HELP if told else NOBODY_TOLD_HELP


def _not_found(name: str, close: list[str]) -> str:
    """ "Northbridge Engg" is not in MyCareer. Did you mean Northbridge Engineering Ltd?"""
    if not close:
        return f"“{name}” is not in MyCareer: check the spelling, or add the organisation first."
    options = (
        " or ".join(", ".join(close[:-1]).split(", ") + [close[-1]]) if len(close) > 1 else close[0]
    )
    return f"“{name}” is not in MyCareer. Did you mean {options}?"


def _which_one(name: str, organisations: list[Organisation]) -> str:
    """ "Acme Ltd" is the name of 2 organisations. Which one? Write "Acme Ltd (no. 7)" …"""

    def described(organisation: Organisation) -> str:
        details = [d for d in (organisation.domain, str(organisation.sector or "")) if d]
        about = ", ".join(details) or "no website or sector recorded"
        return f"“{selectors.numbered_name(organisation)}” ({about})"

    options = [described(o) for o in organisations]
    listed = ", ".join(options[:-1]) + " or " + options[-1]
    return (
        f"“{name}” is the name of {len(organisations)} organisations in MyCareer. Which one "
        f"do you mean? Write it with its number: {listed}."
    )


def _wrong_number(line: str, organisation: Organisation | None) -> str:
    """ "Acme Ltd (no. 7)" names no organisation: why, and what to write instead."""
    if organisation is None:
        return f"“{line}”: MyCareer has no organisation with that number. Write its name instead."
    if organisation.merged_into is not None:
        survivor = selectors.numbered_name(organisation.merged_into)
        return f"“{line}”: it was merged into another organisation. Write “{survivor}” instead."
    return (
        f"“{line}”: organisation no. {organisation.pk} is {organisation.name}. Check the "
        "name and the number, or write just the name."
    )


def _split(value: str, separators: str) -> list[str]:
    for separator in separators[1:]:
        value = value.replace(separator, separators[0])
    return [part.strip() for part in value.split(separators[0]) if part.strip()]


class EventForm(SavedOnce, StaleEditGuard, forms.Form):
    title = SingleLineField(label="Title", max_length=200)
    type = forms.ChoiceField(
        label="Type of event", choices=[("", "Choose a type"), *Event.Type.choices]
    )
    unit = IdChoiceField(
        label="Organising unit", queryset=Unit.objects.none(), empty_label="Choose a unit"
    )
    starts_at = LocalDateTimeField(
        label="Starts", widget=LocalDateTimeInput(), help_text="UK time, for example 14:00."
    )
    ends_at = LocalDateTimeField(label="Ends", widget=LocalDateTimeInput())
    venue = SingleLineField(label="Venue", max_length=200, required=False)
    online_url = forms.URLField(
        label="Online link", required=False, assume_scheme="https", max_length=200
    )
    description = MultiLineField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    organisations = MultiLineField(
        label="Organisations taking part",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "data-suggest-url": reverse_lazy("organisations:suggestions"),
                "data-suggest-key": "organisations",
                "data-suggest-lines": "",
                "autocomplete": "off",
            }
        ),
        help_text=(
            "One per line. Start typing a name and choose from the organisations in MyCareer. "
            "Organisations that share a name are told apart by their number: "
            "“Acme Ltd (no. 42)”."
        ),
    )
    topics = IdsChoiceField(
        label="Topics",
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_topics = forms.CharField(
        label="Other topics",
        required=False,
        max_length=300,
        help_text="Separate topics with commas, e.g. Interviews, Sustainability.",
    )
    open_to_all = forms.BooleanField(
        label="Open to all students",
        required=False,
        help_text="Leave unticked to choose units or degree programmes below.",
    )
    audience_units = IdsChoiceField(
        label="For students of these units",
        queryset=Unit.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A faculty or school includes the units under it.",
    )
    audience_programmes = IdsChoiceField(
        label="For students on these degree programmes",
        queryset=DegreeProgramme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    audience_years = forms.TypedMultipleChoiceField(
        label="Years of study",
        choices=YEAR_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none for every year.",
    )
    open_to_employers = forms.BooleanField(
        label="Employers take part or may attend",
        required=False,
        help_text="The event gets a public page, and bulk email may promote it to employers.",
    )
    open_to_public = forms.BooleanField(
        label="Open to the public",
        required=False,
        help_text="Anybody may come; the event gets a public page.",
    )
    override_reason = MultiLineField(
        label="Reason for going ahead despite the clashes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=TOLD_HELP,
    )

    def __init__(self, *args, user, event: Event | None = None, **kwargs):
        super().__init__(*args, guard=event is not None, **kwargs)
        units = organisable_units(user)
        if event is not None:
            # Keep the current unit selectable even for an administrator's odd case.
            units = units | Unit.objects.filter(pk=event.unit_id)
        self.fields["unit"].queryset = units.distinct()
        self._offer_reach(user, units, event)
        if event is not None:
            # What is stored, when shown and when saved: the guard compares the two.
            audience = event.audience
            self.initial.update(
                {
                    "title": event.title,
                    "type": event.type,
                    "unit": event.unit_id,
                    "starts_at": event.local_start,
                    "ends_at": event.local_end,
                    "venue": event.venue,
                    "online_url": event.online_url,
                    "description": event.description,
                    "organisations": "\n".join(selectors.organisation_lines(event)),
                    "topics": list(event.topics.all()),
                    "open_to_all": audience.open_to_all,
                    "audience_units": list(audience.units.all()),
                    "audience_programmes": list(audience.programmes.all()),
                    "audience_years": [str(y) for y in audience.year_list],
                    "open_to_employers": audience.open_to_employers,
                    "open_to_public": audience.open_to_public,
                }
            )

    def _offer_reach(self, user, units, event: Event | None) -> None:
        """Offer only the students the organiser reaches without asking (policy 2.4): other
        schools and faculties are asked from the event's page, once it is saved."""
        reach = selectors.audience_reach(user, units.values_list("pk", flat=True), event)
        if reach.everyone:
            return
        del self.fields["open_to_all"]
        self.fields["audience_units"].queryset = Unit.objects.filter(pk__in=reach.units)
        self.fields["audience_programmes"].queryset = DegreeProgramme.objects.filter(
            Q(unit__in=reach.units) | Q(pk__in=reach.programmes)
        )
        self.fields["audience_units"].help_text = (
            f"{self.fields['audience_units'].help_text} To reach other schools' and "
            "faculties' students, save the event, then use “Open to another unit” on its "
            "page: their operators are asked."
        )

    def clean_organisations(self) -> list[Organisation]:
        names = _split(self.cleaned_data.get("organisations", ""), "\n\r")
        if len(names) > MAX_ORGANISATIONS:
            raise forms.ValidationError(
                f"Name at most {MAX_ORGANISATIONS} organisations; this names {len(names)}."
            )
        named = selectors.organisations_named(names)
        problems = [
            *(_which_one(name, several) for name, several in named.several.items()),
            *(_wrong_number(line, other) for line, other in named.wrong_number.items()),
            *(_not_found(name, close) for name, close in named.missing.items()),
        ]
        if problems:
            raise forms.ValidationError(problems)
        return named.found

    def clean_new_topics(self) -> list[str]:
        names = _split(self.cleaned_data.get("new_topics", ""), ",")
        if any(len(n) > 100 for n in names):
            raise forms.ValidationError("Each topic must be at most 100 characters.")
        return names

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        for name, value in (("starts_at", starts), ("ends_at", ends)):
            if value and value.year not in SENSIBLE_YEARS:
                self.add_error(name, "Check the year: it is not a sensible one.")
                starts = ends = None
        if starts and ends:
            if ends <= starts:
                self.add_error("ends_at", "The event must end after it starts.")
            elif ends - starts > MAX_EVENT_LENGTH:
                self.add_error(
                    "ends_at", f"An event can last at most {MAX_EVENT_LENGTH.days} days."
                )
        if not data.get("venue") and not data.get("online_url"):
            self.add_error("venue", "Give a venue, an online link, or both.")
        chosen = data.get("audience_units") or data.get("audience_programmes")
        if data.get("open_to_all") and chosen:
            self.add_error(
                "open_to_all",
                "Either open the event to all students, or choose units and programmes.",
            )
        elif not data.get("open_to_all") and not chosen and "audience_units" in data:
            self.add_error(
                "audience_units",
                "Choose who the event is for: units, degree programmes, or all students.",
            )
        return data

    def tell_about_clashes(self, told: list) -> None:
        """Say where a reason goes once the clashes are known: `told` is whom it is emailed."""
        help_text = override_reason_help(told)
        self.fields["override_reason"].help_text = help_text
        self["override_reason"].help_text = help_text  # the bound field read it when cleaning

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "type": data["type"],
            "unit": data["unit"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "venue": data["venue"],
            "online_url": data["online_url"],
            "description": data["description"],
            "organisations": data["organisations"],
            "topics": [*data["topics"], *data["new_topics"]],
            "open_to_all": data.get("open_to_all", False),
            "audience_units": list(data["audience_units"]),
            "audience_programmes": list(data["audience_programmes"]),
            "audience_years": data["audience_years"],
            "open_to_employers": data["open_to_employers"],
            "open_to_public": data["open_to_public"],
        }


class PublishForm(forms.Form):
    """The reason to publish despite clashes; `told` is whom publishing emails it to."""

    override_reason = MultiLineField(
        label="Reason for publishing despite the clashes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=TOLD_HELP,
        error_messages={
            "required": "Give a reason to publish despite the clashes, or change the event."
        },
    )

    def __init__(self, *args, clashes: list, told: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["override_reason"].required = bool(clashes)
        self.fields["override_reason"].help_text = override_reason_help(told)
        if not clashes:
            self.fields["override_reason"].widget = forms.HiddenInput()


class CancelForm(forms.Form):
    reason = MultiLineField(
        label="Why is the event cancelled?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Everyone with a place or on the waiting list receives this by email.",
    )


class OpeningRequestForm(forms.Form):
    # A central service has no students of its own to open an event to.
    unit = IdChoiceField(
        label="Open to students of",
        queryset=Unit.objects.exclude(kind=Unit.Kind.SERVICE),
        empty_label="Choose a unit",
    )
    message = MultiLineField(
        label="Message to that unit's operators",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        # Not the units whose students the event already reaches: there is nobody to ask.
        tree = UnitTree.load()
        reached = tree.below_any(u.pk for u in event.audience.units.all())
        self.fields["unit"].queryset = self.fields["unit"].queryset.exclude(pk__in=reached)


class OpeningDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Open the event to your students?",
        choices=[("accept", "Accept: show the event to our students"), ("decline", "Decline")],
        widget=forms.RadioSelect,
    )
    comment = MultiLineField(
        label="Comment",
        required=False,
        help_text="Needed if you decline: the organiser reads why.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OpeningWithdrawForm(forms.Form):
    reason = MultiLineField(
        label="Why (optional; the operators read it)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FreeSlotForm(forms.Form):
    week = forms.DateField(
        label="Week", widget=DateInput(), help_text="Any day in the week; slots are Monday–Friday."
    )
    duration = BoundedIntegerField(
        label="Length in minutes", min_value=15, max_value=8 * 60, help_text="Up to 8 hours."
    )

    def clean_week(self) -> datetime.date:
        week = self.cleaned_data["week"]
        if week.year not in SENSIBLE_YEARS:
            raise forms.ValidationError("Check the year: it is not a sensible one.")
        return week

    def week_start(self) -> datetime.date:
        day = self.cleaned_data["week"]
        return day - datetime.timedelta(days=day.weekday())


class CalendarFilterForm(StrictFilterForm, forms.Form):
    """The calendar's filters: a GET form, so every filtered view has an address.

    Read strictly by the calendar's pages and feed, each naming its other parameters
    (a month, a page, the feed's token); a name that is neither is refused.
    """

    FILTERS_OF = "The calendar"

    unit = IdChoiceField(
        label="Organised by",
        queryset=Unit.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="Any unit",
    )
    type = forms.ChoiceField(
        label="Type", choices=[("", "Any type"), *Event.Type.choices], required=False
    )
    # A name to look for, not a list to pick from: a university works with tens of
    # thousands of employers, and a list of every one taking part in an event cost
    # most of a second per calendar page to build and send (docs/benchmarks.md).
    # Matching only narrows events the reader may see, so it names no one.
    organisation = forms.CharField(
        label="Organisation",
        required=False,
        max_length=200,
        help_text="Part of the name: “bridge” finds Northbridge.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    programme = IdChoiceField(
        label="For students on",
        queryset=DegreeProgramme.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="Any programme",
    )
    year = forms.TypedChoiceField(
        label="In year",
        choices=[("", "Any year"), *YEAR_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, audience_filters: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not audience_filters:
            del self.fields["programme"]
            del self.fields["year"]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def querystring(self) -> str:
        """The filters as a query string, for previous/next links."""
        from urllib.parse import urlencode

        if not self.is_bound:
            return ""
        pairs = [(k, self.data.get(k)) for k in self.fields if self.data.get(k)]
        return urlencode(pairs)
