"""The communication time chart: how many bulk emails employers received, over time.

Counts come from the outbox (sent messages), by week or month, across the university,
per sending unit and per organisation. The chart is drawn by matplotlib as a PNG; the
same figures are offered as an accessible table and as CSV.
"""

import datetime
import io
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.mailing.models import OutboxMessage

PERIODS = {"week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class ChartQuery:
    period: str = "month"
    unit: int | None = None
    organisation: int | None = None
    months: int = 12


@dataclass
class ChartData:
    periods: list[datetime.date]
    series: dict[str, list[int]]  # sending unit name -> counts per period

    @property
    def totals(self) -> list[int]:
        return (
            [sum(values) for values in zip(*self.series.values(), strict=True)]
            if self.series
            else [0] * len(self.periods)
        )

    @property
    def rows(self) -> list[dict]:
        return [
            {
                "period": period,
                "counts": [self.series[name][i] for name in self.series],
                "total": total,
            }
            for i, (period, total) in enumerate(zip(self.periods, self.totals, strict=True))
        ]


def sent_messages(query: ChartQuery) -> QuerySet[OutboxMessage]:
    since = timezone.now() - datetime.timedelta(days=31 * query.months)
    messages = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__gte=since)
    if query.unit:
        # A faculty's figures include its schools and departments, as on the trends page
        # and in the organisation search: a faculty saw none of its schools' emails.
        family = Unit.objects.filter(
            Q(pk=query.unit) | Q(parent_id=query.unit) | Q(parent__parent_id=query.unit)
        )
        messages = messages.filter(campaign__unit__in=family)
    if query.organisation:
        messages = messages.filter(organisation_id_at_send=query.organisation)
    return messages


def period_starts(period: str, months: int) -> list[datetime.date]:
    """The first day of each week or month over the last `months` months, oldest first."""
    today = timezone.localdate()
    if period == "week":
        start = today - datetime.timedelta(days=today.weekday())
        count = max(1, round(months * 4.35))
        return [start - datetime.timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    starts, year, month = [], today.year, today.month
    for _ in range(months):
        starts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def chart_data(query: ChartQuery) -> ChartData:
    """Counts per period and sending unit, with empty periods shown as zero."""
    trunc = PERIODS.get(query.period, TruncMonth)
    rows = (
        sent_messages(query)
        .annotate(bucket=trunc("sent_at"))
        .values("bucket", "campaign__unit__name")
        .annotate(n=Count("id"))
    )
    periods = period_starts(query.period, query.months)
    index = {p: i for i, p in enumerate(periods)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(periods))
    for row in rows:
        day = bucket_day(row["bucket"])
        if day in index:
            series[row["campaign__unit__name"]][index[day]] += row["n"]
    return ChartData(periods=periods, series=dict(sorted(series.items())))


def bucket_day(bucket) -> datetime.date:
    """A truncated date or date-time from the database as the local day it starts."""
    return timezone.localtime(bucket).date() if isinstance(bucket, datetime.datetime) else bucket


def period_label(day: datetime.date, period: str) -> str:
    return f"{day:%-d %b %Y}" if period == "week" else f"{day:%b %Y}"


def render_png(
    data: ChartData,
    *,
    period: str,
    title: str,
    ylabel: str = "Emails received by employer contacts",
    stacked: bool = True,
) -> bytes:
    """A bar chart per period, one colour per series: stacked, or lines when series overlap.

    Series overlap when one record counts in several (an organisation with two tags):
    stacking them would add it twice, so they are drawn as lines instead.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    # Colours chosen to be told apart with common colour-vision differences.
    palette = [
        "#0072B2",
        "#E69F00",
        "#009E73",
        "#CC79A7",
        "#56B4E9",
        "#D55E00",
        "#F0E442",
        "#000000",
    ]
    labels = [period_label(p, period) for p in data.periods]
    figure, axes = plt.subplots(figsize=(10, 4.2), dpi=110)
    bottom = [0] * len(labels)
    for i, (name, values) in enumerate(data.series.items()):
        colour = palette[i % len(palette)]
        if stacked:
            axes.bar(labels, values, bottom=bottom, label=name, color=colour)
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        else:
            axes.plot(labels, values, label=name, color=colour, marker="o", markersize=3)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if data.series:
        axes.legend(fontsize=8, frameon=False, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
