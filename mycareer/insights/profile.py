"""The engagement score on an organisation's staff profile: its parts and 24 months."""

import datetime

from django.utils import timezone

from mycareer.insights.finders import months_before
from mycareer.insights.models import EngagementScore

MONTHS = 24
# The sparkline's drawing box: one step per month, scores 0 to 100 upwards.
WIDTH, HEIGHT, STEP = 230, 40, 10


def month_starts(today: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    first = today.replace(day=1)
    return [months_before(first, n) for n in range(count - 1, -1, -1)]


def sparkline_points(values: list[int | None]) -> str:
    """SVG polyline points for the months that have a score (gaps are left out)."""
    return " ".join(
        f"{index * STEP},{HEIGHT - round(value * HEIGHT / 100)}"
        for index, value in enumerate(values)
        if value is not None
    )


def score_section(organisation, user) -> dict | None:
    if not user.has_perm("insights.view_opportunities"):
        return None
    months = month_starts(timezone.localdate())
    rows = list(
        EngagementScore.objects.filter(organisation=organisation, month__gte=months[0]).order_by(
            "month"
        )
    )
    by_month = {row.month: row.total for row in rows}
    values = [by_month.get(month) for month in months]
    return {
        "latest": rows[-1] if rows else None,
        "history": [(month, value) for month, value in zip(months, values, strict=True)],
        "points": sparkline_points(values),
        "width": WIDTH,
        "height": HEIGHT,
        "scored_months": sum(value is not None for value in values),
    }
