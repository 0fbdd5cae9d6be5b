"""Trends: employer engagement over time, by unit, sector, key-account owner or tag.

What is counted (the measure) is one of notes, events, attendance, vacancies or bulk
emails; each is grouped by month (or week) and by the dimension chosen, in one query,
with a second query for the "All" column, which counts each record once however many
series it falls in (an organisation with two tags is in both tags' series). So a page
reads two queries whatever the number of units, sectors, owners or tags.

The chart is drawn by the communication chart's helpers (mailing/chart.py); the table
beside it and the CSV hold the same figures.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.bookings.models import Booking
from mycareer.core.logs import log_event
from mycareer.events.models import Event
from mycareer.insights.models import TrendCount
from mycareer.insights.selectors import unit_family
from mycareer.mailing.chart import ChartData, bucket_day, period_starts
from mycareer.mailing.models import OutboxMessage
from mycareer.organisations.models import Note
from mycareer.vacancies.models import Vacancy

logger = logging.getLogger(__name__)

# The chart and table show the series with the most; the "All" column counts every one.
MOST_SERIES = 8
DEFAULT_MONTHS = 24


@dataclass(frozen=True)
class Measure:
    """What is counted, and where its date, organisation and unit are."""

    label: str  # "Notes"
    counted: str  # "notes recorded", for the chart's axis and the page's sentences
    records: Callable[[], QuerySet]  # the records counted
    date: str
    organisation: str
    unit: str
    timed: bool  # the date is a date-time
    many_organisations: bool = False  # an event has several
    many_units: bool = False  # a vacancy targets several


MEASURES = {
    "notes": Measure(
        "Notes", "notes recorded", lambda: Note.objects.all(), "date", "organisation", "unit", False
    ),
    "events": Measure(
        "Events",
        "events with employers",
        lambda: Event.objects.exclude(status=Event.Status.CANCELLED).filter(
            organisations__isnull=False
        ),
        "starts_at",
        "organisations",
        "unit",
        True,
        many_organisations=True,
    ),
    "attendance": Measure(
        "Attendance",
        "students who attended events with employers",
        lambda: Booking.objects.filter(
            checked_in_at__isnull=False, event__organisations__isnull=False
        ),
        "event__starts_at",
        "event__organisations",
        "event__unit",
        True,
        many_organisations=True,
    ),
    "vacancies": Measure(
        "Vacancies",
        "vacancies posted",
        lambda: Vacancy.objects.exclude(status__in=[Vacancy.Status.DRAFT, Vacancy.Status.REJECTED]),
        "created_at",
        "organisation",
        "target_units",
        True,
        many_units=True,
    ),
    "emails": Measure(
        "Bulk emails",
        "bulk emails received by employer contacts",
        lambda: OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT),
        "sent_at",
        "contact__organisation",
        "campaign__unit",
        True,
    ),
}


@dataclass(frozen=True)
class Dimension:
    label: str  # "Sector"
    plural: str  # "sectors"
    none: str  # the series of records outside every group: "No sector"
    of_organisation: bool = True  # grouped by the organisation's (else the unit's)
    many: bool = False  # an organisation has many (tags, key accounts' owners)


DIMENSIONS = {
    "unit": Dimension("Unit", "units", "No unit", of_organisation=False),
    "sector": Dimension("Sector", "sectors", "No sector"),
    "owner": Dimension("Key-account owner", "key-account owners", "No key account", many=True),
    "tag": Dimension("Tag", "tags", "No tag", many=True),
}


def overlaps(query: "TrendQuery") -> bool:
    """Whether one record can be in several series (an event with two employers, by
    sector): the series then add up to more than "All", and are drawn as lines."""
    measure, dimension = MEASURES[query.measure], DIMENSIONS[query.dimension]
    if dimension.of_organisation:
        return dimension.many or measure.many_organisations
    return measure.many_units


def _grouped_by(dimension: str, measure: Measure, records: QuerySet) -> tuple[QuerySet, str, str]:
    """The records with the dimension's key and name, as (records, key path, name path)."""
    org = measure.organisation
    if dimension == "unit":
        return records, measure.unit, f"{measure.unit}__name"
    if dimension == "sector":
        return records, f"{org}__sector", f"{org}__sector__name"
    if dimension == "tag":
        return records, f"{org}__tagged_items__tag", f"{org}__tagged_items__tag__name"
    # Key accounts in force only: one released by multi-touch has no owner now.
    records = records.annotate(
        account=FilteredRelation(
            f"{org}__key_accounts",
            condition=Q(**{f"{org}__key_accounts__released_at__isnull": True}),
        )
    )
    return records, "account__operator", "account__operator__full_name"


@dataclass(frozen=True)
class TrendQuery:
    measure: str = "notes"
    dimension: str = "unit"
    period: str = "month"
    months: int = DEFAULT_MONTHS
    unit: int | None = None  # count only what this unit (and those within it) did


@dataclass
class TrendData(ChartData):
    """The chart's figures; `totals` counts each record once (the "All" column)."""

    all: list[int] | None = None
    left_out: int = 0  # series with fewer records, not shown

    @property
    def totals(self) -> list[int]:
        return self.all if self.all is not None else super().totals


def _since(query: TrendQuery, measure: Measure, first: datetime.date) -> Q:
    if measure.timed:
        start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
        return Q(**{f"{measure.date}__gte": start})
    return Q(**{f"{measure.date}__gte": first})


def records(query: TrendQuery, periods: list[datetime.date]) -> tuple[Measure, QuerySet]:
    measure = MEASURES[query.measure]
    found = measure.records().filter(_since(query, measure, periods[0]))
    if query.unit:
        found = found.filter(**{f"{measure.unit}__in": unit_family([query.unit])})
    return measure, found


def counted_rows(query: TrendQuery, periods: list[datetime.date], *, per_unit: bool = False):
    """Grouped counts from the records: (day, group key, group name, unit, n) rows,
    the group None for the "All" column (`query.dimension == "all"`)."""
    measure, found = records(query, periods)
    trunc = (TruncWeek if query.period == "week" else TruncMonth)(measure.date)
    fields: dict = {}
    if query.dimension != "all":
        found, key, name = _grouped_by(query.dimension, measure, found)
        fields = {"group": F(key), "group_name": F(name)}
    if per_unit:
        fields["engaging_unit"] = F(measure.unit)
    rows = (
        found.annotate(bucket=trunc)
        .order_by()
        .values("bucket", **fields)
        .annotate(n=Count("pk", distinct=True))
    )
    for row in rows:
        yield (
            bucket_day(row["bucket"]),
            row.get("group"),
            row.get("group_name") or "",
            row.get("engaging_unit"),
            row["n"],
        )


def _precomputed(query: TrendQuery, periods: list[datetime.date]):
    """The nightly counts for a monthly chart, as `counted_rows` gives them; None if the
    nightly count has not run (the chart is then counted from the records)."""
    if query.period != "month" or not TrendCount.objects.exists():
        return None
    counts = TrendCount.objects.filter(
        measure=query.measure, month__gte=periods[0], whole=not query.unit
    )
    if query.unit and MEASURES[query.measure].many_units and _has_units_within(query.unit):
        counts = counts.filter(unit=query.unit, family=True)
    elif query.unit:
        counts = counts.filter(unit__in=unit_family([query.unit]), family=False)

    def rows(dimension: str):
        for row in (
            counts.filter(dimension=dimension)
            .order_by()
            .values("month", "group_key", "group_name")
            .annotate(n=Sum("count"))
        ):
            yield row["month"], row["group_key"], row["group_name"], None, row["n"]

    return rows


def _has_units_within(unit_id: int) -> bool:
    return Unit.objects.filter(parent_id=unit_id).exists()


def counted_at() -> datetime.datetime | None:
    """When the nightly counts were made (None: not yet; charts count from the records).

    One run replaces every row and stamps them all alike, so any row says when: the
    first by key, not the latest by time, which would sort them all.
    """
    return TrendCount.objects.order_by("pk").values_list("computed_at", flat=True).first()


def trend_data(query: TrendQuery) -> TrendData:
    """Counts per period and group, the groups with the most first, empty periods as zero.

    Monthly charts read the nightly counts (`trends_refresh`); weekly ones, and every
    chart before the first night, count from the records.
    """
    periods = period_starts(query.period, query.months)
    index = {p: i for i, p in enumerate(periods)}
    stored = _precomputed(query, periods)
    if stored is None:
        series_rows = counted_rows(query, periods)
        total_rows = counted_rows(replace(query, dimension="all"), periods)
    else:
        series_rows, total_rows = stored(query.dimension), stored("all")
    none = DIMENSIONS[query.dimension].none
    series: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(periods))
    for day, key, name, _, n in series_rows:
        if day in index:
            series[(name or none, key or 0)][index[day]] += n
    totals = [0] * len(periods)
    for day, _, _, _, n in total_rows:
        if day in index:
            totals[index[day]] += n
    ranked = sorted(series.items(), key=lambda item: (-sum(item[1]), item[0][0]))
    shown = ranked[:MOST_SERIES]
    names = [group_name for (group_name, _), _ in shown]
    # Two groups of one name (two people called Sam Lee) are told apart by a number.
    labels = [
        f"{group_name} ({pk})" if names.count(group_name) > 1 else group_name
        for (group_name, pk), _ in shown
    ]
    return TrendData(
        periods=periods,
        series={label: values for label, (_, values) in zip(labels, shown, strict=True)},
        all=totals,
        left_out=len(ranked) - len(shown),
    )


def title(query: TrendQuery, unit_name: str | None = None) -> str:
    measure, dimension = MEASURES[query.measure], DIMENSIONS[query.dimension]
    words = f"{measure.label} by {dimension.label.lower()}"
    return f"{words}, {unit_name}" if unit_name else words


def csv_rows(data: TrendData, query: TrendQuery, period_label) -> list[list]:
    """The table's figures as CSV rows, header first."""
    header = [query.period, *data.series.keys(), "All"]
    return [header] + [
        [period_label(row["period"], query.period), *row["counts"], row["total"]]
        for row in data.rows
    ]


@transaction.atomic
def trends_refresh() -> int:
    """Nightly: count every measure by every dimension, month by month, over the last
    DEFAULT_MONTHS months, across the university and per engaging unit. Returns rows."""
    periods = period_starts("month", DEFAULT_MONTHS)
    now = timezone.now()
    made = []
    for measure in MEASURES:
        for dimension in [*DIMENSIONS, "all"]:
            query = TrendQuery(measure=measure, dimension=dimension)
            for per_unit in (False, True):
                made += [
                    TrendCount(
                        measure=measure,
                        dimension=dimension,
                        month=day,
                        whole=not per_unit,
                        unit_id=unit,
                        group_key=key,
                        group_name=name[:200],
                        count=n,
                        computed_at=now,
                    )
                    for day, key, name, unit, n in counted_rows(query, periods, per_unit=per_unit)
                ]
    made += _family_counts(periods, now)
    TrendCount.objects.all().delete()
    TrendCount.objects.bulk_create(made, batch_size=1000)
    log_event(logger, "insights.trends_counted", rows=len(made))
    return len(made)


def _family_counts(periods: list[datetime.date], now: datetime.datetime) -> list[TrendCount]:
    """For measures whose records have several units: each unit with units within it,
    counting each record of its family once (the per-unit rows would count it for each
    of its units)."""
    parents = Unit.objects.filter(pk__in=Unit.objects.values("parent_id"))
    return [
        TrendCount(
            measure=name,
            dimension=dimension,
            month=day,
            whole=False,
            family=True,
            unit=parent,
            group_key=key,
            group_name=group_name[:200],
            count=n,
            computed_at=now,
        )
        for name, measure in MEASURES.items()
        if measure.many_units
        for parent in parents
        for dimension in [*DIMENSIONS, "all"]
        for day, key, group_name, _, n in counted_rows(
            TrendQuery(measure=name, dimension=dimension, unit=parent.pk), periods
        )
    ]
