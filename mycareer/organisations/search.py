"""Tailored search of organisations: the query, the form that builds it, and one selector.

A search is an `OrganisationQuery`: a frozen value that a form builds, a query string
carries (so searches can be saved, bookmarked and exported), and `search_organisations`
runs. To add a filter (key-account status, say): add a field to the query, a field of
the same name to the form, and a function to `FILTERS`.
"""

import csv
import datetime
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from urllib.parse import urlencode

from django import forms
from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Lower, NullIf
from django.http import QueryDict
from django.template.loader import get_template
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import ngettext
from taggit.models import Tag

from mycareer.accounts.models import Unit
from mycareer.core.aggregates import PAIR_SEPARATOR, joined, split, split_pairs
from mycareer.core.forms import (
    MAX_ID,
    DateInput,
    StrictFilterForm,
    TickBoxField,
    bounded_int,
    unknown_filters_message,
)
from mycareer.core.http import record_urls
from mycareer.core.pagination import COUNT_PARAMETER
from mycareer.core.prepared import PreparedQuery
from mycareer.core.text import joined as in_words
from mycareer.organisations.kept_counts import kept_count
from mycareer.organisations.models import (
    Contact,
    KeyAccount,
    KeyContact,
    Organisation,
    OrganisationText,
    Sector,
    TaggedOrganisation,
    tag_token,
    tags_in_order,
)
from mycareer.organisations.tags import join_tags, split_tags

# The engagement score's range (insights/scores.py: the sum of four parts, 30 + 30 + 20 +
# 20), inclusive: "at least" the lowest or "at most" the highest leaves out no score.
SCORE_LOWEST, SCORE_HIGHEST = 0, 100

SORTS = {
    "name": "Name (A to Z)",
    "-last_engaged": "Most recent engagement first",
    "last_engaged": "Least recent engagement first",
    "-engagement_score": "Highest engagement score first",
    "engagement_score": "Lowest engagement score first",
}
ORDERINGS = {
    "name": [Lower("name"), "pk"],
    "-last_engaged": [F("last_engaged_on").desc(nulls_last=True), Lower("name"), "pk"],
    # Never engaged is the least recent engagement of all.
    "last_engaged": [F("last_engaged_on").asc(nulls_first=True), Lower("name"), "pk"],
    # Not yet scored sorts below every score.
    "-engagement_score": [F("engagement_score").desc(nulls_last=True), Lower("name"), "pk"],
    "engagement_score": [F("engagement_score").asc(nulls_first=True), Lower("name"), "pk"],
}

# A tag field that core/suggest.js completes from the existing tags as a person types.
TAG_INPUT = {
    "data-suggest-url": reverse_lazy("organisations:tag_suggestions"),
    "data-suggest-key": "tags",
    "autocomplete": "off",
}


@dataclass(frozen=True)
class OrganisationQuery:
    """What a person is looking for; the defaults match every live organisation."""

    text: str = ""
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    sectors: tuple[int, ...] = ()
    sizes: tuple[str, ...] = ()
    location: str = ""
    unit: int | None = None
    engaged_after: datetime.date | None = None
    engaged_before: datetime.date | None = None
    include_archived: bool = False
    key_account: str = ""  # "", "yes", "no", "mine" or "multi"
    # The engagement score (kept nightly by the insights app), inclusive bounds.
    score_min: int | None = None
    score_max: int | None = None
    # Organisations chosen one by one (an opportunity list's selection), by id.
    ids: tuple[int, ...] = ()
    sort: str = "name"
    # Whose "mine" the key-account filter means; the person running the search, never saved.
    viewer: int | None = None

    def to_querystring(self) -> str:
        """The query as URL parameters, leaving out defaults; the form reads it back."""
        pairs: list[tuple[str, str]] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value == field.default or field.name == "viewer":
                continue
            if field.name.startswith("tags_"):
                pairs.append((field.name, join_tags(value)))
            elif isinstance(value, tuple):
                pairs.extend((field.name, str(item)) for item in value)
            elif isinstance(value, bool):
                pairs.append((field.name, "1"))
            elif isinstance(value, datetime.date):
                pairs.append((field.name, value.isoformat()))
            else:
                pairs.append((field.name, str(value)))
        return urlencode(pairs)

    @classmethod
    def from_querystring(cls, querystring: str) -> "OrganisationQuery":
        """Read a query string through the form; raises ValidationError if it is not valid."""
        form = OrganisationSearchForm(QueryDict(querystring))
        if not form.is_valid():
            raise forms.ValidationError(form.errors.as_data())
        return form.to_query()

    @cached_property
    def tag_ids(self) -> "TagIds":
        """The ids of the tags it names, looked up once: a page and its count share them."""
        return TagIds([*self.tags_all, *self.tags_any, *self.tags_none])

    @property
    def is_filtered(self) -> bool:
        return any(
            getattr(self, field.name) != field.default
            for field in fields(self)
            if field.name not in ("sort", "viewer")
        )

    def to_filters(self) -> dict:
        """The filters in use as JSON values, to store a search (its order and viewer left out)."""
        filters: dict = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name not in FILTER_NAMES or value == field.default:
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            filters[field.name] = value
        return filters

    @classmethod
    def from_filters(
        cls, filters: Mapping, *, viewer=None, known_tags: bool = False
    ) -> "OrganisationQuery":
        """Read stored or submitted filters strictly, through the search form.

        A name the search does not know is refused, never ignored: a stored search that
        silently matched more than it says would email people nobody chose. Filters typed
        now (`known_tags`, as the search page's) also refuse a tag nobody was ever given.
        """
        unknown = sorted(set(filters) - FILTER_NAMES)
        if unknown:
            raise forms.ValidationError(unknown_filters_message(unknown), code="unknown_filter")
        form = _filters_form(filters, known_tags=known_tags)
        if not form.is_valid():
            raise forms.ValidationError(
                [
                    forms.ValidationError(f"{form.fields[name].label}: {message}")
                    if name in form.fields
                    else forms.ValidationError(message)
                    for name, messages in form.errors.items()
                    for message in messages
                ]
            )
        return form.to_query(viewer=viewer)


def _filters_form(filters: Mapping, *, known_tags: bool = False) -> "OrganisationSearchForm":
    """The search form filled with stored or submitted filters, to check them."""
    data = QueryDict(mutable=True)
    for name, value in filters.items():
        if name.startswith("tags_") and isinstance(value, list | tuple):
            data[name] = join_tags(str(item) for item in value)
        elif isinstance(value, list | tuple):
            data.setlist(name, [str(item) for item in value])
        elif isinstance(value, bool):
            data[name] = "1" if value else ""
        elif value is not None:
            data[name] = str(value)
    return OrganisationSearchForm(data, known_tags=known_tags)


def unreadable_filters(filters: Mapping) -> list[tuple[str, str]]:
    """Each filter of a stored search that can no longer be read, as (its label, why):
    why is "unknown_filter" for a name the search no longer has, the form's error code
    (such as "invalid_choice", a sector removed since) otherwise."""
    unknown = sorted(set(filters) - FILTER_NAMES)
    if unknown:
        return [(name, "unknown_filter") for name in unknown]
    form = _filters_form(filters)
    if form.is_valid():
        return []
    return [
        (str(form.fields[name].label) if name in form.fields else name, error.code or "invalid")
        for name, errors in form.errors.as_data().items()
        for error in errors
    ]


# The names a stored search may use: every field of the query but its order and viewer.
FILTER_NAMES = frozenset(f.name for f in fields(OrganisationQuery)) - {"sort", "viewer"}


def describe_query(query: OrganisationQuery, *, viewer_name: str = "") -> str:
    """The filters of a search in words: "Organisations tagged Placements, in Leeds"."""
    parts: list[str] = []

    def names(values, conjunction: str) -> str:
        return get_text_list([str(v) for v in values], conjunction)

    def tag_names(values, conjunction: str) -> str:
        # "tagged Engineering, Civil and Placements" would hide which are tags.
        return names([f"“{v}”" if "," in v else v for v in values], conjunction)

    if query.text:
        parts.append(f"matching “{query.text}”")
    if query.tags_all:
        parts.append(f"tagged {tag_names(query.tags_all, 'and')}")
    if query.tags_any:
        parts.append(f"tagged {tag_names(query.tags_any, 'or')}")
    if query.tags_none:
        parts.append(f"not tagged {tag_names(query.tags_none, 'or')}")
    if query.sectors:
        sectors = Sector.objects.filter(pk__in=query.sectors).order_by("name")
        parts.append(f"in {names(sectors.values_list('name', flat=True), 'or')}")
    if query.sizes:
        labels = [Organisation.Size(size).label for size in query.sizes]
        parts.append(f"of size {names(labels, 'or')}")
    if query.location:
        parts.append(f"located in {query.location}")
    if query.unit is not None:
        unit = Unit.objects.filter(pk=query.unit).first()
        parts.append(f"owned by {unit or 'a unit that no longer exists'} or a unit within it")
    if query.engaged_after:
        parts.append(f"last engaged on or after {date_format(query.engaged_after, 'j F Y')}")
    if query.engaged_before:
        parts.append(f"last engaged on or before {date_format(query.engaged_before, 'j F Y')}")
    key_accounts = {
        "yes": "with a key account",
        "no": "without a key account",
        "mine": f"whose key account is {viewer_name or 'yours'}",
        "multi": "marked multi-touch",
    }
    if query.key_account:
        parts.append(key_accounts[query.key_account])
    if query.score_min is not None:
        parts.append(f"with an engagement score of at least {query.score_min}")
    if query.score_max is not None:
        parts.append(f"with an engagement score of at most {query.score_max}")
    if query.ids:
        chosen = list(
            Organisation.objects.filter(pk__in=query.ids)
            .order_by(Lower("name"))
            .values_list("name", flat=True)[: CHOSEN_NAMED + 1]
        )
        shown = chosen[:CHOSEN_NAMED]
        if len(query.ids) > len(shown):
            shown.append(
                ngettext("%d more", "%d more", len(query.ids) - len(shown))
                % (len(query.ids) - len(shown))
            )
        parts.append(f"chosen one by one: {names(shown, 'and')}")
    if query.include_archived:
        parts.append("archived ones included")
    if not parts:
        return "Every organisation"
    return "Organisations " + ", ".join(parts)


# The form ----------------------------------------------------------------------------


# A selection chosen one by one is at most this many organisations; so many are named.
MAX_CHOSEN = 1000
CHOSEN_NAMED = 5


class IdListField(forms.Field):
    """Organisations chosen one by one, as repeated `ids` parameters; each once, in order."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> tuple[int, ...]:
        if not value:
            return ()
        items = [value] if isinstance(value, str | int) else list(value)
        # A number too big to name a record is refused here, not by the database.
        ids = {bounded_int(item, low=1, high=MAX_ID) for item in items}
        if None in ids:
            raise forms.ValidationError(
                "Organisations are chosen by their number in MyCareer.", code="invalid"
            )
        if len(ids) > MAX_CHOSEN:
            raise forms.ValidationError(
                f"Choose at most {MAX_CHOSEN} organisations one by one; use filters for more.",
                code="too_many",
            )
        return tuple(sorted(pk for pk in ids if pk is not None))


class TagListField(forms.CharField):
    """Tag names separated by commas, each once whatever its case; a name that holds a
    comma is in double quotes, as the edit form writes it (`tags.join_tags`)."""

    def to_python(self, value) -> tuple[str, ...]:
        names: list[str] = []
        seen: set[str] = set()
        try:
            parts = split_tags(super().to_python(value))
        except csv.Error as error:
            raise forms.ValidationError("Each tag is at most 100 characters long.") from error
        for name in parts:
            if name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
        return tuple(names)

    def validate(self, value) -> None:
        super().validate(value)
        if any(len(name) > 100 for name in value):
            raise forms.ValidationError("Each tag is at most 100 characters long.")

    def prepare_value(self, value):
        return join_tags(value) if isinstance(value, list | tuple) else value


def _sectors_and_units() -> QuerySet:
    sectors = (
        Sector.objects.order_by()
        .annotate(list=Value("sector"), parent=Value(None, output_field=IntegerField()))
        .values_list("list", "pk", "name", "parent")
    )
    units = (
        Unit.objects.order_by()
        .annotate(list=Value("unit"))
        .values_list("list", "pk", "name", "parent_id")
    )
    return sectors.union(units, all=True).order_by("name")


# Built and compiled once per process: the search form is built on every search, and
# building this union took 0.5 ms of Python where running it takes 0.1.
SECTORS_AND_UNITS = PreparedQuery(_sectors_and_units)


def sector_and_unit_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The sectors, and the units in tree order each indented under its parent.

    One query for both lists (a UNION): the search form is built on every search, and
    each query counts against the page's budget.
    """
    rows = SECTORS_AND_UNITS.rows()
    sector_rows = [(pk, name) for kind, pk, name, _ in rows if kind == "sector"]
    children: dict[int | None, list[tuple[int, str]]] = {}
    for kind, pk, name, parent_id in rows:
        if kind == "unit":
            children.setdefault(parent_id, []).append((pk, name))
    unit_rows: list[tuple[int, str]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for pk, name in children.get(parent_id, []):
            # No-break spaces indent the option visually; screen readers skip them.
            unit_rows.append((pk, "\u00a0\u00a0\u00a0" * depth + name))
            walk(pk, depth + 1)

    walk(None, 0)
    return sector_rows, unit_rows


class OrganisationSearchForm(StrictFilterForm, forms.Form):
    """The filters of the search page; field names are OrganisationQuery's."""

    text = forms.CharField(
        label="Name, description or contact name",
        required=False,
        max_length=200,
        help_text="Finds parts of words too: “ridge” finds Northbridge.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    tags_all = TagListField(
        label="Has all of these tags",
        required=False,
        help_text="Separate tags with commas.",
        widget=forms.TextInput(attrs=TAG_INPUT),
    )
    tags_any = TagListField(
        label="Has at least one of these tags",
        required=False,
        help_text="Separate tags with commas.",
        widget=forms.TextInput(attrs=TAG_INPUT),
    )
    tags_none = TagListField(
        label="Has none of these tags",
        required=False,
        help_text="Separate tags with commas.",
        widget=forms.TextInput(attrs=TAG_INPUT),
    )
    # A saved search, a link or a campaign may name a sector not in MyCareer (removed
    # since, or typed): say so, in the sentence bulk email uses, not
    # "Select a valid choice. 16 is not one of the available choices."
    sectors = forms.TypedMultipleChoiceField(
        label="Sector",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": (
                "This search does not work: the “Sector” it chose is not in MyCareer. Choose again."
            )
        },
    )
    sizes = forms.MultipleChoiceField(
        label="Size",
        choices=Organisation.Size.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    location = forms.CharField(label="Location (town or city)", required=False, max_length=100)
    unit = forms.TypedChoiceField(
        label="Owning unit",
        coerce=int,
        empty_value=None,
        required=False,
        help_text="A faculty or school includes the units under it.",
        error_messages={
            "invalid_choice": (
                "This search does not work: the “Owning unit” it chose is not in MyCareer. "
                "Choose again."
            )
        },
    )
    engaged_after = forms.DateField(
        label="Last engagement on or after", required=False, widget=DateInput()
    )
    engaged_before = forms.DateField(
        label="Last engagement on or before", required=False, widget=DateInput()
    )
    key_account = forms.ChoiceField(
        label="Key account",
        choices=[
            ("", "Any"),
            ("yes", "Has a key account"),
            ("no", "Has no key account"),
            ("mine", "My key accounts"),
            ("multi", "Multi-touch organisations"),
        ],
        required=False,
    )
    score_min = forms.IntegerField(
        label="Engagement score at least",
        min_value=SCORE_LOWEST,
        max_value=SCORE_HIGHEST,
        required=False,
        help_text=f"{SCORE_LOWEST} to {SCORE_HIGHEST}: recency, frequency, breadth and depth "
        "of engagement.",
    )
    score_max = forms.IntegerField(
        label="Engagement score at most",
        min_value=SCORE_LOWEST,
        max_value=SCORE_HIGHEST,
        required=False,
    )
    ids = IdListField(label="Organisations chosen one by one", required=False)
    include_archived = TickBoxField(label="Include archived organisations", required=False)
    sort = forms.ChoiceField(label="Sort by", choices=list(SORTS.items()), required=False)

    # Shown behind "More filters", which opens when one of them is in use.
    MORE = (
        "sectors",
        "sizes",
        "location",
        "unit",
        "key_account",
        "engaged_after",
        "engaged_before",
        "score_min",
        "score_max",
    )

    # Parameters of the search page that are not filters (its page, "count exactly").
    NOT_FILTERS = frozenset({"page", COUNT_PARAMETER})

    def __init__(self, *args, known_tags: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Typed by the person (the search page, an export, bulk email's search): a tag
        # that does not exist is refused. A stored query is read as it was saved.
        self.known_tags = known_tags
        sectors, units = sector_and_unit_choices()
        self.fields["sectors"].choices = sectors
        self.fields["unit"].choices = [("", "Any unit"), *units]

    def clean(self):
        data = super().clean()
        if self.known_tags:
            self._check_tags_exist(data)
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", "This must not be lower than the “at least” score.")
        after, before = data.get("engaged_after"), data.get("engaged_before")
        if after and before and after > before:
            self.add_error(
                "engaged_before", "This date must not be earlier than the “on or after” date."
            )
        return data

    def _check_tags_exist(self, data) -> None:
        """Refuse a tag no organisation was ever given (a slip of the keyboard): in "none
        of these" it left nothing out, so an export or bulk email reached the very
        organisations the person meant to leave out; elsewhere it quietly found nobody."""
        fields = ("tags_all", "tags_any", "tags_none")
        names = [name for field in fields for name in data.get(field) or ()]
        if not names:
            return
        # The lookup the search makes anyway (`OrganisationQuery.tag_ids`), made once.
        self._tag_ids = TagIds(names)
        for field in fields:
            unknown = [
                name
                for name in data.get(field) or ()
                if name not in self._tag_ids.ids
                # One the lookup cannot place (where the database and Python fold case
                # differently) is asked of the database, as the search asks it.
                and not Tag.objects.filter(name__iexact=name).exists()
            ]
            if unknown:
                listed = in_words([f"“{name}”" for name in unknown])
                self.add_error(
                    field,
                    f"No organisation has ever been tagged {listed}: check the spelling, or "
                    "leave it out.",
                )

    def to_query(self, viewer=None) -> OrganisationQuery:
        data = self.cleaned_data
        query = OrganisationQuery(
            text=" ".join(data["text"].split()),
            tags_all=data["tags_all"],
            tags_any=data["tags_any"],
            tags_none=data["tags_none"],
            sectors=tuple(sorted(set(data["sectors"]))),
            sizes=tuple(size for size in Organisation.Size.values if size in data["sizes"]),
            location=" ".join(data["location"].split()),
            unit=data["unit"],
            engaged_after=data["engaged_after"],
            engaged_before=data["engaged_before"],
            include_archived=data["include_archived"],
            key_account=data.get("key_account") or "",
            score_min=data.get("score_min"),
            score_max=data.get("score_max"),
            ids=data.get("ids") or (),
            sort=data["sort"] or "name",
            viewer=getattr(viewer, "pk", None),
        )
        if looked_up := getattr(self, "_tag_ids", None):
            # The cached property, filled: checking the tags looked them up already, and
            # a list page has a budget of queries.
            query.__dict__["tag_ids"] = looked_up
        return query

    def more_filters_open(self) -> bool:
        if not self.is_bound:
            return False
        return any(self[name].errors or self[name].value() for name in self.MORE)

    def drawn(self) -> str:
        """The filters drawn (`organisations/includes/search_fields.html`), once per process
        for each set of values and choices the form holds (`DRAWN_FILTERS`).

        Drawing them, 45 checkboxes and options among sixteen fields, took 2.1–2.6 ms of a
        list page of about 10. Nothing in them depends on who is looking: the values are
        the address's own, the choices the sectors and units. A form with errors is drawn
        every time.
        """
        return self._kept_drawing("organisations/includes/search_fields.html")

    def drawn_order(self) -> str:
        """The order and "include archived" (`organisations/includes/search_order.html`),
        drawn once per process as the filters are (`drawn`): 0.3–0.5 ms of every page."""
        return self._kept_drawing("organisations/includes/search_order.html")

    def _kept_drawing(self, template_name: str) -> str:
        if not (self.is_bound and self.is_valid()):
            return _draw(template_name, self)
        data = self.data
        key = (
            template_name,
            tuple(
                (name, tuple(data.getlist(name) if isinstance(data, QueryDict) else data[name]))
                for name in sorted(data)
                if name in self.fields
            ),
            tuple(self.fields["sectors"].choices),
            tuple(self.fields["unit"].choices),
        )
        with _DRAWN_LOCK:
            drawn = DRAWN_FILTERS.get(key)
            if drawn is not None:
                DRAWN_FILTERS.move_to_end(key)
                return drawn
        drawn = _draw(template_name, self)
        with _DRAWN_LOCK:
            DRAWN_FILTERS[key] = drawn
            while len(DRAWN_FILTERS) > DRAWN_FILTERS_KEPT:
                DRAWN_FILTERS.popitem(last=False)
        return drawn


# The filters drawn for the latest sets of values, most recent last: about 12 KB each.
DRAWN_FILTERS: OrderedDict[tuple, str] = OrderedDict()
DRAWN_FILTERS_KEPT = 256
_DRAWN_LOCK = threading.Lock()


def _draw(template_name: str, form: OrganisationSearchForm) -> str:
    return get_template(template_name).render({"form": form})


# Free text ---------------------------------------------------------------------------

# SQLite's FTS5 index (`models.OrganisationText`). The person's words reach it only as
# the bound MATCH parameter.
FTS_TABLE = OrganisationText._meta.db_table
# The trigram index finds nothing shorter than one trigram.
TRIGRAM = 3


def _fts_phrase(word: str) -> str:
    """A word as an FTS5 string: quoted, so the person's text is never query syntax."""
    return '"' + word.replace('"', '""') + '"'


def filter_by_text(
    queryset: QuerySet[Organisation], text: str, *, row_by_row: bool = False
) -> QuerySet[Organisation]:
    """Organisations whose name, description or contact names contain every word of `text`.

    Words are matched anywhere, inside other words too, whatever their case. SQLite
    answers from the FTS5 trigram index; PostgreSQL from the pg_trgm index on the
    lower-case document (`models.search_document_of`), which serves `contains`.

    `row_by_row` (see `search_organisations`): each organisation's own document is
    checked as the organisations are read in the order of the page's sort, and the read
    stops at the page, so a page costs the same however many organisations match. On
    SQLite the index is then not read at all: reading its matches first (to check each
    row against them) cost all of them, 5.4 ms of a 5.5 ms page for "engineering"
    (12,831 matches among 100,000 organisations), where checking the documents of the
    rows read until the page is full costs 0.1 ms. Both check the same lower-case
    document for the same lower-case word, so they find the same organisations.

    On SQLite the index is joined to the organisations and leads the query, giving its
    matches one at a time: a count that stops at 10,001 (`core.pagination`) stops
    reading the index there. As `id IN (the index's matches)`, every match was read
    first: counting "engineering" took 8.4 ms among 100,000 organisations and 18.7 among
    300,000 (38,091 matches); joined, 6.3 and 6.9. Tags asked for as well are matched in
    the same index (`_by_tags`), which intersects the two inside itself.
    """
    words = text.split()
    if not words:
        return queryset
    use_fts = connections[queryset.db].vendor == "sqlite" and not row_by_row
    indexed = [word for word in words if use_fts and len(word) >= TRIGRAM]
    for word in words:
        if word not in indexed:
            # The document is kept in lower case: compared as it is, each candidate the
            # trigram index gives is checked without being upper-cased first (on
            # PostgreSQL, "ridge" counted in 16 ms instead of 27).
            queryset = queryset.filter(search_document__contains=word.lower())
    if indexed:
        match = " ".join(_fts_phrase(word) for word in indexed)
        queryset = queryset.filter(text__document__match=match)
    return queryset


def tag_match(groups: Iterable[Iterable[int]]) -> str:
    """The FTS5 query of the tag column for tags given as groups of ids: every group met
    by one of its ids (a tag of each case of the name asked for)."""
    return " AND ".join(
        "(" + " OR ".join(_fts_phrase(tag_token(pk)) for pk in group) + ")" for group in groups
    )


def filter_by_tag_ids(
    queryset: QuerySet[Organisation], groups: Sequence[Sequence[int]]
) -> QuerySet[Organisation]:
    """Organisations with a tag of each group of ids, from the index of their tag text
    (`Organisation.tag_document`, migration 0015).

    SQLite matches the tag column of the FTS5 index, where each tag is one trigram, and
    a text filter's words in the same index: "all three tags" or "a tag and a word" is
    intersected inside the index. Reading the rarest tag's links and checking the others
    on each took 33 ms to count three common tags among 300,000 organisations; the
    index, 10 ms. PostgreSQL asks the GIN index on the tokens (`HasTags`), which it
    combines with the trigram index of the words: 42 ms to 15 for the same count
    (docs/benchmarks.md, eighth part).
    """
    if not groups:
        return queryset
    if connections[queryset.db].vendor == "sqlite":
        return queryset.filter(text__tags__match=tag_match(groups))
    return queryset.filter(
        tag_document__has_tags=[[tag_token(pk) for pk in group] for group in groups]
    )


# Filters -----------------------------------------------------------------------------


def _tagged_with_any(tags: "TagIds", names: Iterable[str]) -> QuerySet:
    """Ids of organisations with one of `names`, whatever the case.

    Used as `pk IN (subquery)`: SQLite runs the subquery once, where a correlated
    EXISTS ran once per organisation and was eight times slower on 100,000 rows.
    """
    match = Q()
    for name in names:
        match |= tags.q(name)
    return TaggedOrganisation.objects.filter(match).values("content_object_id")


def _by_status(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    # A merged record is a stub pointing at its survivor: never a result of its own.
    qs = qs.filter(merged_into__isnull=True)
    return qs if query.include_archived else qs.exclude(status=Organisation.Status.ARCHIVED)


def _by_text(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    return filter_by_text(qs, query.text)


def _by_text_row_by_row(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    return filter_by_text(qs, query.text, row_by_row=True)


def _tagged_with_all(tags: "TagIds", names: Iterable[str]) -> QuerySet:
    """Ids of organisations with every one of `names`, whatever the case.

    The first tag's organisations are read from the (tag, organisation) index and each
    is checked for the other tags on the unique (organisation, tag) index. One `pk IN
    (subquery)` per tag instead read and held every tag's whole list of organisations:
    twice the time for three common tags among 100,000 organisations.
    """
    first, *others = tags.rarest_first(names)
    rows = TaggedOrganisation.objects.filter(tags.q(first))
    for name in others:
        rows = rows.filter(
            Exists(
                TaggedOrganisation.objects.filter(
                    tags.q(name), content_object_id=OuterRef("content_object_id")
                )
            )
        )
    return rows.values("content_object_id")


class TagIds:
    """The ids of the tags a search names, looked up once, before the search runs.

    With the ids written into the query, PostgreSQL estimates from its statistics how
    many organisations carry each tag; behind a subquery on tag names it guessed a
    few hundred, chose a nested loop, and took 190 ms for a page of a tag on 28,000
    organisations that the name index serves in 7 ms. A name the lookup cannot place
    (a case rule the database and Python disagree on) keeps the subquery, so the
    answer is the same either way.
    """

    def __init__(self, names: Iterable[str]):
        names = list(names)
        self.ids: dict[str, list[int]] = {}
        if not names:
            return
        match = Q()
        for name in names:
            match |= Q(name__iexact=name)
        for pk, tag_name in Tag.objects.filter(match).values_list("pk", "name"):
            for name in names:
                if name.lower() == tag_name.lower():
                    self.ids.setdefault(name, []).append(pk)

    def q(self, name: str) -> Q:
        """Tag links of tag `name` (a TaggedOrganisation filter)."""
        if name in self.ids:
            return Q(tag_id__in=self.ids[name])
        return Q(tag__in=Tag.objects.filter(name__iexact=name).values("pk"))

    def rarest_first(self, names: Iterable[str]) -> list[str]:
        """`names`, the tag on fewest organisations first: the one an all-of search reads.

        Reading "Internships" (19,000 organisations) and checking the other two tags of
        each is less than half the work of reading "Graduate jobs" (50,000). The figures
        are a hint (`tag_link_counts`), so a stale one costs time, never a wrong answer.
        """
        names = list(names)
        if len(names) < 2:
            return names
        links = tag_link_counts()
        return sorted(
            names, key=lambda name: sum(links.get(pk, 0) for pk in self.ids.get(name, []))
        )

    def exists(self, names: Iterable[str]) -> Exists:
        """Whether the organisation of the outer query carries one of `names`."""
        match = Q()
        for name in names:
            match |= self.q(name)
        return Exists(TaggedOrganisation.objects.filter(match, content_object_id=OuterRef("pk")))

    def carried(self, names: Iterable[str]) -> Q | Exists:
        """Whether the organisation carries one of `names`, checked on its own row.

        Each tag's token is looked for in the organisation's tag text
        (`Organisation.tag_document`), which is already on the row a walk in name order
        reads: no index is read per organisation. The first page of three common tags
        among 300,000 organisations took 6.0-7.8 ms with a look in the tag links per tag
        and row, 2.4-2.8 ms so (docs/benchmarks.md, ninth part). A token is three
        characters with no space and the text separates tokens by spaces, so it is found
        only where the organisation has the tag. A name the lookup could not place keeps
        the link check.
        """
        names = list(names)
        if not all(name in self.ids for name in names):
            return self.exists(names)
        match = Q()
        for name in names:
            for pk in self.ids[name]:
                match |= Q(tag_document__contains=tag_token(pk))
        return match


# How often the tag-link counts are read again, per process.
TAG_LINK_COUNTS_SECONDS = 600
_tag_link_counts: dict[str, tuple[float, dict[int, int]]] = {}


def tag_link_counts(using: str = "default") -> dict[int, int]:
    """How many organisations carry each tag, by tag id: one grouped count of the links.

    Kept in this process for ten minutes: it only chooses which tag a search reads first
    (`TagIds.rarest_first`), never what the search finds, so a figure minutes old does
    no harm, and reading it for every search would cost more than it saves.
    """
    now = time.monotonic()
    kept = _tag_link_counts.get(using)
    if kept is None or now - kept[0] > TAG_LINK_COUNTS_SECONDS:
        rows = (
            TaggedOrganisation.objects.using(using)
            .order_by()
            .values_list("tag_id")
            .annotate(links=Count("pk"))
        )
        kept = (now, dict(rows))
        _tag_link_counts[using] = kept
    return kept[1]


def _by_tags(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    tags = query.tag_ids
    # Tags placed by id are matched in the index of the tag texts; a name the lookup
    # could not place (see TagIds) is checked on the tag links by name.
    groups = [tags.ids[name] for name in query.tags_all if name in tags.ids]
    any_placed = all(name in tags.ids for name in query.tags_any)
    if query.tags_any and any_placed:
        groups.append([pk for name in query.tags_any for pk in tags.ids[name]])
    qs = filter_by_tag_ids(qs, groups)
    unplaced = [name for name in query.tags_all if name not in tags.ids]
    if unplaced:
        qs = qs.filter(pk__in=_tagged_with_all(tags, unplaced))
    if query.tags_any and not any_placed:
        qs = qs.filter(pk__in=_tagged_with_any(tags, query.tags_any))
    if query.tags_none:
        qs = qs.exclude(pk__in=_tagged_with_any(tags, query.tags_none))
    return qs


def _by_tags_row_by_row(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    """The tag filters checked on each organisation's row, the rarest tag first."""
    tags = query.tag_ids
    for name in tags.rarest_first(query.tags_all):
        qs = qs.filter(tags.carried([name]))
    if query.tags_any:
        qs = qs.filter(tags.carried(query.tags_any))
    if query.tags_none:
        qs = qs.exclude(tags.carried(query.tags_none))
    return qs


def _by_profile(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    if query.sectors:
        qs = qs.filter(sector_id__in=query.sectors)
    if query.sizes:
        qs = qs.filter(size__in=query.sizes)
    if query.location:
        qs = qs.filter(locations__icontains=query.location)
    return qs


def _by_unit(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    if query.unit is None:
        return qs
    # Units nest faculty > school > department: two levels below the chosen one.
    family = Unit.objects.filter(
        Q(pk=query.unit) | Q(parent_id=query.unit) | Q(parent__parent_id=query.unit)
    )
    return qs.filter(unit_id__in=family.values("pk"))


def _by_engagement(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    if query.engaged_after:
        qs = qs.filter(last_engaged_on__gte=query.engaged_after)
    if query.engaged_before:
        qs = qs.filter(last_engaged_on__lte=query.engaged_before)
    return qs


def _by_score(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    # An organisation not yet scored matches no bound: it has no score to compare.
    if query.score_min is not None:
        qs = qs.filter(current_score__score__gte=query.score_min)
    if query.score_max is not None:
        qs = qs.filter(current_score__score__lte=query.score_max)
    return qs


def _by_ids(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    return qs.filter(pk__in=query.ids) if query.ids else qs


def _by_key_account(qs: QuerySet, query: OrganisationQuery) -> QuerySet:
    accounts = KeyAccount.objects.values("organisation_id")
    if query.key_account == "yes":
        return qs.filter(pk__in=accounts)
    if query.key_account == "no":
        return qs.exclude(pk__in=accounts)
    if query.key_account == "mine":
        return qs.filter(pk__in=accounts.filter(operator_id=query.viewer))
    if query.key_account == "multi":
        return qs.filter(multi_touch=True)
    return qs


FILTERS: list[Callable[[QuerySet, OrganisationQuery], QuerySet]] = [
    _by_status,
    _by_text,
    _by_tags,
    _by_profile,
    _by_unit,
    _by_engagement,
    _by_key_account,
    _by_score,
    _by_ids,
]


# The same filters checked on each organisation as it is read, for `in_name_order`.
ROW_BY_ROW = {_by_text: _by_text_row_by_row, _by_tags: _by_tags_row_by_row}


def search_organisations(
    query: OrganisationQuery, *, in_name_order: bool = False, lists: bool = True
) -> QuerySet[Organisation]:
    """The organisations that match `query`, in its order, ready for a list page.

    By default the database finds every match from the tag and text indexes, then sorts
    them: right for a few hundred matches, and for counting. `in_name_order` is the form
    for one page of many matches sorted by name: tags and text are checked on each
    organisation as the name index is read in order, so SQLite stops after the page
    instead of sorting 28,000 whole rows to keep 26 (40 ms to under 1 ms for one common
    tag among 100,000). With few matches it would read the whole index: the list page
    chooses it from the count (`core.pagination.Paginator`, `in_order`).

    `lists=False` leaves out the prefetching of each row's tags and key accounts, for a
    list whose rows come another way (`organisation_rows`).
    """
    qs = Organisation.objects.all()
    row_by_row = in_name_order and query.sort == "name"
    for apply in FILTERS:
        qs = (ROW_BY_ROW.get(apply, apply) if row_by_row else apply)(qs, query)
    return _shown(qs, query.sort) if lists else _in_order(qs, query.sort)


def selects_every_organisation(query: OrganisationQuery) -> bool:
    """Whether the search leaves out no active organisation: its filters (archived ones
    included, a "none of" tag nobody has, a score everyone has) narrow nothing."""
    chosen = search_organisations(query).values("pk")
    active = Organisation.objects.filter(status=Organisation.Status.ACTIVE)
    return active.exists() and not active.exclude(pk__in=chosen).exists()


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    """One organisation as a list page shows it: what its row reads, and no more."""

    pk: int
    name: str
    status: str
    sector: str | None
    size: str
    locations: str
    tag_names: str | None
    last_engaged_on: datetime.date | None
    engagement_score: int | None
    unit: str | None
    key_account_pairs: str | None
    multi_touch: bool
    # The organisation's page (`organisation_rows` finds the route once for a page).
    url: str

    def get_absolute_url(self) -> str:
        return self.url

    # Properties, not methods: Jinja2's calls cost more than what these compute.
    @property
    def size_label(self) -> str:
        return str(Organisation.Size(self.size).label) if self.size else ""

    @property
    def tag_name_list(self) -> list[str]:
        return tags_in_order(split(self.tag_names))

    @property
    def key_account_names(self) -> list[tuple[str, str]]:
        return sorted(split_pairs(self.key_account_pairs))


# A page's rows are read this many at a time: a page of 25 and the one more that tells
# whether another page follows.
ROWS_AT_ONCE = 26
# No organisation has this id: it fills the places of a short page.
NO_ORGANISATION = 0


def _page_rows(**ids: int) -> QuerySet:
    return (
        Organisation.objects.filter(pk__in=list(ids.values()))
        .annotate(
            tag_names=tag_names(),
            key_account_pairs=joined(
                KeyAccount.objects.all(),
                link="organisation_id",
                value=Concat(
                    "unit__name",
                    Value(PAIR_SEPARATOR),
                    Coalesce(
                        NullIf("operator__full_name", Value("")),
                        "operator__email",
                        output_field=TextField(),
                    ),
                    output_field=TextField(),
                ),
            ),
            engagement_score=F("current_score__score"),
        )
        .values_list(
            "pk",
            "name",
            "status",
            "sector__name",
            "size",
            "locations",
            "tag_names",
            "last_engaged_on",
            "engagement_score",
            "unit__name",
            "key_account_pairs",
            "multi_touch",
        )
    )


# Built and compiled once per process: building and compiling the rows' query, with its
# two subqueries, took 3.5 ms of Python where running it takes 0.3.
PAGE_ROWS = PreparedQuery(_page_rows, **{f"id{n}": -7_777_700 - n for n in range(ROWS_AT_ONCE)})


def organisation_rows(ids: QuerySet) -> list[OrganisationRow]:
    """The organisations of a page, in the order of `ids` (the page's slice of a search,
    as `.values("pk")`), as a list shows them.

    A page is found by id first (`core.pagination.Paginator`, `page_rows`), so the
    database plans the search without the joins of what a row shows: with them,
    PostgreSQL took 5 ms to plan a search for three tags that it ran in 5. The rows then
    come from one query compiled once per process (`PAGE_ROWS`), with their tags and key
    accounts as one text each: each subquery runs for the page's rows alone. The long
    texts no list shows (the description and the search document) stay in the database.
    """
    order = [row["pk"] for row in ids]
    url = record_urls("organisations:detail")
    found: dict[int, OrganisationRow] = {}
    for start in range(0, len(order), ROWS_AT_ONCE):
        chunk = order[start : start + ROWS_AT_ONCE]
        chunk += [NO_ORGANISATION] * (ROWS_AT_ONCE - len(chunk))
        for row in PAGE_ROWS.rows(**{f"id{n}": pk for n, pk in enumerate(chunk)}):
            found[row[0]] = OrganisationRow(*row, url=url(row[0]))
    return [found[pk] for pk in order if pk in found]


def tag_names() -> Subquery:
    """An organisation's tag names as one text, for `Organisation.tag_name_list`: in the
    query of its rows, where a page or a profile would otherwise prefetch them.

    Each link's name is read by the tag's key: joined to the tags instead, PostgreSQL
    read all of them for each row (a hash join, 0.9 of the page's rows' 1.2 ms).
    """
    return joined(
        TaggedOrganisation.objects.all(),
        link="content_object_id",
        value=Subquery(Tag.objects.filter(pk=OuterRef("tag_id")).values("name")[:1]),
    )


def _in_order(rows: QuerySet[Organisation], sort: str) -> QuerySet[Organisation]:
    """`rows` with their sector, unit and engagement score (`engagement_score`, None
    until first computed), in the order `sort` names. A count leaves the score's join
    out: the database drops a join to a unique key that nothing reads."""
    return (
        rows.select_related("sector", "unit")
        .annotate(engagement_score=F("current_score__score"))
        .order_by(*ORDERINGS.get(sort, ORDERINGS["name"]))
    )


def _shown(rows: QuerySet[Organisation], sort: str) -> QuerySet[Organisation]:
    """`rows` with what a list of organisations shows, in the order `sort` names."""
    return with_lists(_in_order(rows, sort))


def with_key_accounts(rows: QuerySet[Organisation]) -> QuerySet[Organisation]:
    """`rows` with each organisation's key accounts by unit, as `key_account_list`."""
    return rows.prefetch_related(
        Prefetch(
            "key_accounts",
            queryset=KeyAccount.objects.select_related("operator", "unit").order_by("unit__name"),
            to_attr="key_account_list",
        )
    )


def with_lists(rows: QuerySet[Organisation]) -> QuerySet[Organisation]:
    """`rows` with the lists a row of the search page, its export or the API shows: the
    tags (`tag_list`, read through `Organisation.tag_name_list`) and the key accounts by
    unit (`key_account_list`), in one query each.

    Prefetched as plain lists: into the managers (`tags.all`, `key_accounts.all`) they
    cost two querysets built for each row, 4 of the list page's 8 ms of Python. Not as a
    subquery of the rows' own query either: SQLite computes a row's columns before it
    sorts, so a subquery would run for every match of a sort no index serves.
    """
    return with_key_accounts(rows.prefetch_related(Prefetch("tags", to_attr="tag_list")))


def kept_count_of(query: OrganisationQuery) -> int | None:
    """How many organisations the list finds with no filter, or a search for one tag and
    nothing else, from the counts the database keeps; None for any other search (the
    list counts its matches one by one).

    The database keeps the count of live and of archived organisations, in all and with
    each tag, as organisations and links change (`organisations.kept_counts`), so the
    figure is exact at any size and costs the same at any size: 0.3 ms on PostgreSQL,
    where reading the 28,000 links of a tag of 100,000 organisations took 7 ms, and the
    bounded count of the whole list 8.6 ms to say "more than 10,000".
    """
    if len(query.tags_all) > 1 or replace(query, tags_all=(), include_archived=False).is_filtered:
        return None
    if not query.tags_all:
        return kept_count(None, include_archived=query.include_archived)
    ids = query.tag_ids.ids.get(query.tags_all[0], [])
    if len(ids) != 1:  # no such tag, or several differing only in case
        return None
    return kept_count(ids[0], include_archived=query.include_archived)


# Export ------------------------------------------------------------------------------

EXPORT_HEADER = [
    "Name",
    "Website",
    "Sector",
    "Size",
    "Locations",
    "Owning unit",
    "Tags",
    "Last engaged",
    "Contacts",
    "Key accounts",
    "Key contacts",
    "Engagement score",
    "Score computed at",
]


def export_rows(query: OrganisationQuery) -> Iterator[list[str]]:
    """The header, then one row per matching organisation, read in chunks."""
    yield EXPORT_HEADER
    rows = (
        search_organisations(query)
        .annotate(
            # Each a subquery, like the tag names: no join to multiply rows, no grouping.
            contact_count=Subquery(
                Organisation.objects.filter(pk=OuterRef("pk"))
                .annotate(n=Count("contacts"))
                .values("n")
            ),
            # When the score was last computed, as the profile shows it: the latest
            # monthly row the insights app keeps.
            score_computed_at=Subquery(
                Organisation.objects.filter(pk=OuterRef("pk"))
                .annotate(at=Max("engagement_scores__computed_at"))
                .values("at")
            ),
        )
        .prefetch_related(
            Prefetch(
                "contacts",
                # Key-contact links in force only (not those released by multi-touch).
                queryset=Contact.objects.filter(
                    Exists(KeyContact.objects.filter(contact=OuterRef("pk")))
                ).prefetch_related("key_links__key_account__operator"),
                to_attr="key_contact_list",
            )
        )
    )
    for org in rows.iterator(chunk_size=500):
        # Cells are made safe for spreadsheets where the file is written (core.spreadsheets).
        yield [
            org.name,
            org.website,
            org.sector or "",
            org.get_size_display(),
            org.locations,
            org.unit or "",
            # Separated as the import reads them, so an exported file imports back.
            "; ".join(org.tag_name_list),
            org.last_engaged_on.isoformat() if org.last_engaged_on else "",
            org.contact_count,
            "; ".join(f"{a.unit}: {a.operator}" for a in org.key_account_list),
            # Key contacts end in * here as everywhere (Contact.display_name).
            "; ".join(c.display_name for c in org.key_contact_list),
            "" if org.engagement_score is None else org.engagement_score,
            (
                f"{timezone.localtime(org.score_computed_at):%Y-%m-%d %H:%M}"
                if org.score_computed_at
                else ""
            ),
        ]
