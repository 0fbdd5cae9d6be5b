"""The engagement score: 0 to 100, the sum of four parts, each shown with its points.

Recency (up to 30): how long since the last engagement (a note or an event).
Frequency (up to 30): notes in the last 12 months, 3 points each.
Breadth (up to 20): units that engaged in the last 12 months (notes, events), 5 each.
Depth (up to 20): events (4 each, up to 8), students attending (1 per 5, up to 6) and
vacancies posted (2 each, up to 6) in the last 12 months.

Each part only grows with more engagement, so one more recent engagement never lowers
the score; the same history always gives the same score.
"""

import datetime
import logging
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from mycareer.bookings.models import Booking
from mycareer.core.logs import log_event
from mycareer.core.text import counted
from mycareer.events.models import Event
from mycareer.insights.finders import months_before
from mycareer.insights.models import EngagementScore
from mycareer.organisations.models import Note, Organisation, OrganisationScore
from mycareer.vacancies.models import Vacancy

logger = logging.getLogger(__name__)

# Days since the last engagement -> points, the first that applies.
RECENCY = ((30, 30), (90, 20), (180, 10), (365, 5))


@dataclass
class History:
    """What the score reads about one organisation (the last 12 months unless said)."""

    last_engaged: datetime.date | None = None  # ever
    notes: int = 0
    units: set[int] = field(default_factory=set)
    events: int = 0
    attended: int = 0
    vacancies: int = 0


@dataclass(frozen=True)
class Part:
    name: str
    points: int
    of: int
    why: str

    def as_json(self) -> dict:
        return {"name": self.name, "points": self.points, "of": self.of, "why": self.why}


def score(history: History, *, today: datetime.date) -> list[Part]:
    """The four parts of the score for this history, each with its points and reason."""
    if history.last_engaged is None:
        recency = Part("Recency", 0, 30, "no note or event yet")
    else:
        days = max(0, (today - history.last_engaged).days)
        points = next((p for limit, p in RECENCY if days <= limit), 0)
        recency = Part(
            "Recency", points, 30, f"last note or event {counted(days, 'day', 'days')} ago"
        )
    frequency = Part(
        "Frequency",
        min(30, 3 * history.notes),
        30,
        f"{counted(history.notes, 'note', 'notes')} in 12 months",
    )
    breadth = Part(
        "Breadth",
        min(20, 5 * len(history.units)),
        20,
        f"{counted(len(history.units), 'unit', 'units')} engaged in 12 months",
    )
    depth_points = (
        min(8, 4 * history.events) + min(6, history.attended // 5) + min(6, 2 * history.vacancies)
    )
    depth = Part(
        "Depth",
        depth_points,
        20,
        f"{counted(history.events, 'event', 'events')}, "
        f"{counted(history.attended, 'student', 'students')} attending, "
        f"{counted(history.vacancies, 'vacancy', 'vacancies')} in 12 months",
    )
    return [recency, frequency, breadth, depth]


def histories(today: datetime.date, organisations=None) -> dict[int, History]:
    """Each live organisation's history, read in a few grouped queries."""
    since = months_before(today, 12)
    live = Organisation.objects.filter(merged_into__isnull=True).exclude(
        status=Organisation.Status.ARCHIVED
    )
    if organisations is not None:
        live = live.filter(pk__in=organisations)
    found = {
        pk: History(last_engaged=last)
        for pk, last in live.order_by().values_list("pk", "last_engaged_on")
    }
    ids = live.values("pk")
    if today < timezone.localdate():
        # As of a past day (the demo's history): the last note on or before it.
        for history in found.values():
            history.last_engaged = None
        for last_row in (
            Note.objects.filter(organisation__in=ids, date__lte=today)
            .order_by()
            .values("organisation_id")
            .annotate(last=Max("date"))
        ):
            found[last_row["organisation_id"]].last_engaged = last_row["last"]
    recent_notes = Note.objects.filter(organisation__in=ids, date__gte=since, date__lte=today)
    for note_row in recent_notes.order_by().values("organisation_id").annotate(n=Count("id")):
        found[note_row["organisation_id"]].notes = note_row["n"]
    for org_id, unit_id in (
        recent_notes.filter(unit__isnull=False)
        .order_by()
        .values_list("organisation_id", "unit_id")
        .distinct()
    ):
        found[org_id].units.add(unit_id)
    Through = Event.organisations.through
    past_events = Through.objects.filter(
        organisation__in=ids,
        event__starts_at__date__gte=since,
        event__starts_at__date__lte=today,
    ).exclude(event__status__in=[Event.Status.CANCELLED, Event.Status.DRAFT])
    for org_id, unit_id in past_events.values_list("organisation_id", "event__unit_id").distinct():
        found[org_id].units.add(unit_id)
    for event_row in (
        past_events.order_by()
        .values("organisation_id")
        .annotate(n=Count("event_id", distinct=True), last=Max("event__starts_at"))
    ):
        history = found[event_row["organisation_id"]]
        history.events = event_row["n"]
        last = timezone.localdate(event_row["last"])
        if history.last_engaged is None or last > history.last_engaged:
            history.last_engaged = last
    for booking_row in (
        Booking.objects.filter(
            checked_in_at__isnull=False,
            event__starts_at__date__gte=since,
            event__starts_at__date__lte=today,
            event__organisations__in=ids,
        )
        .order_by()
        .values("event__organisations")
        .annotate(n=Count("id", distinct=True))
    ):
        found[booking_row["event__organisations"]].attended = booking_row["n"]
    for vacancy_row in (
        Vacancy.objects.filter(
            organisation__in=ids, created_at__date__gte=since, created_at__date__lte=today
        )
        .exclude(status__in=[Vacancy.Status.DRAFT, Vacancy.Status.REJECTED])
        .order_by()
        .values("organisation_id")
        .annotate(n=Count("id"))
    ):
        found[vacancy_row["organisation_id"]].vacancies = vacancy_row["n"]
    return found


class ScoresRefreshed(NamedTuple):
    organisations: int  # scored
    changed: int  # whose kept total (OrganisationScore) changed


@transaction.atomic
def scores_refresh(*, today: datetime.date | None = None, organisations=None) -> ScoresRefreshed:
    """Score every live organisation for this month; keep its total (OrganisationScore)."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    now = timezone.now()
    rows = []
    totals: dict[int, int] = {}
    for org_id, history in histories(today, organisations).items():
        parts = score(history, today=today)
        totals[org_id] = sum(part.points for part in parts)
        rows.append(
            EngagementScore(
                organisation_id=org_id,
                month=month,
                total=totals[org_id],
                components=[part.as_json() for part in parts],
                computed_at=now,
            )
        )
    EngagementScore.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["organisation", "month"],
        update_fields=["total", "components", "computed_at"],
    )
    kept = OrganisationScore.objects.all()
    if organisations is not None:
        kept = kept.filter(organisation__in=organisations)
    current = dict(kept.values_list("organisation_id", "score"))
    # Only totals that changed are written, each a narrow row of its own table.
    changed = [
        OrganisationScore(organisation_id=org_id, score=total)
        for org_id, total in totals.items()
        if current.get(org_id) != total
    ]
    OrganisationScore.objects.bulk_create(
        changed,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["organisation"],
        update_fields=["score"],
    )
    log_event(logger, "insights.scored", organisations=len(rows), changed=len(changed))
    return ScoresRefreshed(len(rows), len(changed))
