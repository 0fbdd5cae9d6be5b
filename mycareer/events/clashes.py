"""The clash check: which published events compete with this one, how much, and why.

Policy 2.4 asks organisers to avoid "similar organisations with related opportunities,
targeting similar student degrees". Each other published event within a window
(the event's days, plus `window_days` either side) is scored on:

- similar audiences: overlapping units (a faculty includes its schools and
  departments), degree programmes and years of study;
- similar organisations: the same organisation, a shared sector, shared tags;
- related opportunities: the same type of event, shared topics;
- time: overlapping times score most, then the same day, then the next day.

A pair is a clash only when someone would be torn between the two: the same
employer is involved, or the audiences overlap *and* the events overlap in time or
are alike (sector, type or topics). Anything else scores 0 and is not listed, so a
music workshop does not clash with an engineering fair that happens on the same day.

Everything is loaded in a handful of queries for a time range (index on status and
start time), then scored in memory, so one check stays fast among many events.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.accounts.notifications import wants
from mycareer.core.text import counted
from mycareer.events.models import MAX_EVENT_LENGTH, Audience, Event
from mycareer.events.registry import start_bounds
from mycareer.events.units import UnitTree
from mycareer.organisations.models import TaggedOrganisation

# Points for each kind of likeness; the ranking, not the absolute number, is what
# organisers read, so the scale only needs to order clashes sensibly.
AUDIENCE_POINTS = {
    "programme": 25,
    Unit.Kind.DEPARTMENT: 20,
    Unit.Kind.SCHOOL: 20,
    Unit.Kind.FACULTY: 15,
    Unit.Kind.SERVICE: 15,
    "all": 10,
}
SHARED_YEARS_POINTS = 10
SAME_ORGANISATION_POINTS = 30
SHARED_SECTOR_POINTS = 15
SHARED_TAG_POINTS = 5
SAME_TYPE_POINTS = 10
SHARED_TOPIC_POINTS = 8
OVERLAP_POINTS = 20
OVERLAP_POINTS_PER_HALF_HOUR = 5
SAME_DAY_POINTS = 10
NEXT_DAY_POINTS = 5


def default_window_days() -> int:
    return int(getattr(settings, "MYCAREER", {}).get("EVENT_CLASH_WINDOW_DAYS", 2))


@dataclass(frozen=True)
class Clash:
    other: Event
    score: int
    reasons: list[str]

    @property
    def summary(self) -> str:
        """The reasons as one sentence: "Same audience: …; same sector: …; 1 hour overlap"."""
        text = "; ".join(self.reasons)
        return text[:1].upper() + text[1:]


def organisers_to_tell(others: Iterable[Event], by) -> list:
    """Whom publishing despite clashes with `others` emails: each other event's organiser
    who still signs in and has not switched these emails off, once, and never the person
    publishing (who is told these names: "Helen will be told your reason by email")."""
    people = {
        event.organiser.pk: event.organiser
        for event in others
        if event.organiser is not None
        and event.organiser.is_active
        and getattr(by, "pk", None) != event.organiser.pk
        and wants(event.organiser, "events.clash_override")
    }
    return sorted(people.values(), key=lambda person: person.full_name)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    score: int
    clashes: list[Clash] = field(default_factory=list)


class ClashesFound(ValidationError):  # noqa: N818 (a ValidationError, named for what it says)
    """Publishing needs a reason: the event clashes with these published events."""

    def __init__(self, clashes: list[Clash]):
        self.clashes = clashes
        count = len(clashes)
        super().__init__(
            f"This event clashes with {counted(count, 'published event', 'published events')}. "
            "Change it, or give a reason to go ahead anyway.",
            code="clashes",
        )


@dataclass(frozen=True)
class Profile:
    """What the scorer needs to know about one event."""

    pk: int | None
    type: str
    type_label: str
    open_to_all: bool
    units: frozenset[int]
    programmes: dict[int, tuple[str, int]]  # id -> (name, unit id)
    years: frozenset[int]
    organisations: dict[int, str]
    sectors: dict[int, tuple[int, str]]  # organisation id -> (sector id, name)
    tags: dict[int, frozenset[str]]  # organisation id -> tag names
    topics: dict[int, str]


def load_profiles(events: list[Event]) -> dict[int, Profile]:
    """Profiles for many events in six small queries of plain values.

    Values rather than prefetched model instances: building thousands of model
    objects (and taggit managers) costs more than the queries themselves.
    """
    ids = [e.pk for e in events]
    audiences = {
        pk: (open_to_all, years)
        for pk, open_to_all, years in Audience.objects.filter(event_id__in=ids).values_list(
            "event_id", "open_to_all", "years"
        )
    }
    units: dict[int, set[int]] = defaultdict(set)
    for audience_id, unit_id in Audience.units.through.objects.filter(
        audience_id__in=ids
    ).values_list("audience_id", "unit_id"):
        units[audience_id].add(unit_id)
    programmes: dict[int, dict] = defaultdict(dict)
    for audience_id, pk, name, unit_id in Audience.programmes.through.objects.filter(
        audience_id__in=ids
    ).values_list(
        "audience_id", "degreeprogramme_id", "degreeprogramme__name", "degreeprogramme__unit_id"
    ):
        programmes[audience_id][pk] = (name, unit_id)
    organisations: dict[int, dict] = defaultdict(dict)
    sectors: dict[int, dict] = defaultdict(dict)
    for event_id, pk, name, sector_id, sector in Event.organisations.through.objects.filter(
        event_id__in=ids
    ).values_list(
        "event_id",
        "organisation_id",
        "organisation__name",
        "organisation__sector_id",
        "organisation__sector__name",
    ):
        organisations[event_id][pk] = name
        if sector_id:
            sectors[event_id][pk] = (sector_id, sector)
    tags: dict[int, set[str]] = defaultdict(set)
    org_ids = {pk for names in organisations.values() for pk in names}
    for org_id, tag in TaggedOrganisation.objects.filter(content_object_id__in=org_ids).values_list(
        "content_object_id", "tag__name"
    ):
        tags[org_id].add(tag)
    topics: dict[int, dict] = defaultdict(dict)
    for event_id, pk, name in Event.topics.through.objects.filter(event_id__in=ids).values_list(
        "event_id", "topic_id", "topic__name"
    ):
        topics[event_id][pk] = name
    profiles = {}
    for event in events:
        open_to_all, years = audiences.get(event.pk, (False, ""))
        profiles[event.pk] = Profile(
            pk=event.pk,
            type=event.type,
            type_label=event.get_type_display(),
            open_to_all=open_to_all,
            units=frozenset(units[event.pk]),
            programmes=programmes[event.pk],
            years=frozenset(int(y) for y in years.split(",") if y),
            organisations=organisations[event.pk],
            sectors=sectors[event.pk],
            tags={o: frozenset(tags[o]) for o in organisations[event.pk]},
            topics=topics[event.pk],
        )
    return profiles


def clash_window(
    starts_at: datetime.datetime, ends_at: datetime.datetime, window_days: int
) -> tuple[datetime.datetime, datetime.datetime]:
    """From the start of the first day (minus the window) to the end of the last (plus it)."""
    first = timezone.localtime(starts_at).date() - datetime.timedelta(days=window_days)
    last = timezone.localtime(ends_at).date() + datetime.timedelta(days=window_days + 1)
    return _midnight(first), _midnight(last)


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def published_between(start: datetime.datetime, end: datetime.datetime) -> QuerySet[Event]:
    """Published events that overlap [start, end), using the (status, starts_at) index.

    The lower bound on starts_at comes from the longest an event may last, so the
    database scans one bounded stretch of the index instead of everything before `end`.
    """
    return Event.objects.filter(
        status=Event.Status.PUBLISHED,
        starts_at__gte=start - MAX_EVENT_LENGTH,
        starts_at__lt=end,
        ends_at__gt=start,
    )


def _names(names: Iterable[str], limit: int = 3) -> str:
    names = sorted(set(names))
    if len(names) > limit:
        shown = names[:limit]
        return f"{', '.join(shown)} and {len(names) - limit} more"
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _years_text(years: Iterable[int]) -> str:
    years = sorted(years)
    if not years:
        return ""
    if len(years) == 1:
        return f" year {years[0]}"
    return f" years {_names([str(y) for y in years], limit=7)}"


def times_compared(a_start: datetime.datetime, a_end: datetime.datetime, other: Event) -> str:
    """How an event's times [a_start, a_end) stand to another's, in the words a clash's
    last reason uses: "1 hour overlap", "same day", "2 days apart"."""
    overlap = min(a_end, other.ends_at) - max(a_start, other.starts_at)
    if overlap > datetime.timedelta(0):
        return f"{_duration_text(overlap)} overlap"
    days = _days_apart(a_start, a_end, other)
    return "same day" if days == 0 else f"{counted(days, 'day', 'days')} apart"


def _days_apart(a_start, a_end, other: Event) -> int:
    a_first, a_last = timezone.localtime(a_start).date(), timezone.localtime(a_end).date()
    b_first = timezone.localtime(other.starts_at).date()
    b_last = timezone.localtime(other.ends_at).date()
    if b_first > a_last:
        return (b_first - a_last).days
    if a_first > b_last:
        return (a_first - b_last).days
    return 0


def _duration_text(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(counted(hours, "hour", "hours"))
    if minutes or not hours:
        parts.append(counted(minutes, "minute", "minutes"))
    return " ".join(parts)


class Scorer:
    """Scores one event against a set of loaded published events."""

    def __init__(self, candidates: Iterable[Event], tree: UnitTree):
        self.tree = tree
        candidates = list(candidates)
        profiles = load_profiles(candidates)
        self.candidates = [(event, profiles[event.pk]) for event in candidates]

    @classmethod
    def load(
        cls, start: datetime.datetime, end: datetime.datetime, *, tree: UnitTree | None = None
    ) -> "Scorer":
        """Load every published event overlapping [start, end)."""
        events = published_between(start, end).select_related("unit", "organiser")
        return cls(events, tree or UnitTree.load())

    def clashes(
        self,
        subject: Profile,
        starts_at: datetime.datetime,
        ends_at: datetime.datetime,
        *,
        window_days: int,
    ) -> list[Clash]:
        # In UTC, so differences are elapsed time even across a clock change.
        starts_at, ends_at = starts_at.astimezone(datetime.UTC), ends_at.astimezone(datetime.UTC)
        window_start, window_end = clash_window(starts_at, ends_at, window_days)
        found = []
        for other, profile in self.candidates:
            if other.pk == subject.pk:
                continue
            if not (other.starts_at < window_end and other.ends_at > window_start):
                continue
            clash = self.score(subject, starts_at, ends_at, other, profile)
            if clash is not None:
                found.append(clash)
        found.sort(key=lambda c: (-c.score, c.other.starts_at, c.other.pk))
        return found

    def score(
        self,
        a: Profile,
        a_start: datetime.datetime,
        a_end: datetime.datetime,
        other: Event,
        b: Profile,
    ) -> Clash | None:
        """The clash between event `a` (at the given times) and `other`, or None."""
        score, reasons = 0, []

        audience = self.audience_overlap(a, b)
        if audience is not None:
            points, text = audience
            score += points
            reasons.append(f"same audience: {text}")

        shared_orgs = a.organisations.keys() & b.organisations.keys()
        if shared_orgs:
            score += SAME_ORGANISATION_POINTS * min(len(shared_orgs), 2)
            reasons.append(f"same organisation: {_names(a.organisations[o] for o in shared_orgs)}")
        # Sector and tags compare the organisations that are not the same ones, so
        # one shared employer is not counted three times.
        rest_a = a.organisations.keys() - shared_orgs
        rest_b = b.organisations.keys() - shared_orgs
        sectors_a = {a.sectors[o] for o in rest_a if o in a.sectors}
        sectors_b = {b.sectors[o] for o in rest_b if o in b.sectors}
        shared_sectors = sectors_a & sectors_b
        if shared_sectors:
            score += SHARED_SECTOR_POINTS * min(len(shared_sectors), 2)
            reasons.append(f"same sector: {_names(name for _, name in shared_sectors)}")
        tags_a = {t.lower(): t for o in rest_a for t in a.tags.get(o, ())}
        tags_b = {t.lower() for o in rest_b for t in b.tags.get(o, ())}
        shared_tags = [tags_a[t] for t in tags_a.keys() & tags_b]
        if shared_tags:
            score += SHARED_TAG_POINTS * min(len(shared_tags), 3)
            reasons.append(f"shared tags: {_names(shared_tags)}")

        same_type = a.type == b.type
        if same_type:
            score += SAME_TYPE_POINTS
            reasons.append(f"same type: {a.type_label}")
        shared_topics = a.topics.keys() & b.topics.keys()
        if shared_topics:
            score += SHARED_TOPIC_POINTS * min(len(shared_topics), 3)
            reasons.append(f"shared topics: {_names(a.topics[t] for t in shared_topics)}")

        overlap = min(a_end, other.ends_at) - max(a_start, other.starts_at)
        overlapping = overlap > datetime.timedelta(0)
        alike = bool(shared_sectors or same_type or shared_topics)
        if not (shared_orgs or (audience is not None and (overlapping or alike))):
            return None

        if overlapping:
            half_hours = min(int(overlap.total_seconds() // 1800), 6)
            score += OVERLAP_POINTS + OVERLAP_POINTS_PER_HALF_HOUR * half_hours
        else:
            days = _days_apart(a_start, a_end, other)
            score += SAME_DAY_POINTS if days == 0 else NEXT_DAY_POINTS if days == 1 else 0
        reasons.append(times_compared(a_start, a_end, other))
        return Clash(other=other, score=score, reasons=reasons)

    def audience_overlap(self, a: Profile, b: Profile) -> tuple[int, str] | None:
        """Points and words for the students both events are for, or None if nobody."""
        if a.years and b.years:
            years = a.years & b.years
            if not years:
                return None
        else:
            years = a.years or b.years
        tree = self.tree
        if a.open_to_all and b.open_to_all:
            common_units, common_programmes = set(), set()
        elif a.open_to_all or b.open_to_all:
            narrow = b if a.open_to_all else a
            common_units, common_programmes = set(narrow.units), set(narrow.programmes)
            if not common_units and not common_programmes:
                return None
        else:
            common_units = set()
            for ua in a.units:
                for ub in b.units:
                    if tree.covers(ua, ub):
                        common_units.add(ub)
                    elif tree.covers(ub, ua):
                        common_units.add(ua)
            common_programmes = set(a.programmes.keys() & b.programmes.keys())
            for mine, theirs in ((a, b), (b, a)):
                for pk, (_, unit_id) in mine.programmes.items():
                    if any(tree.covers(u, unit_id) for u in theirs.units):
                        common_programmes.add(pk)
            if not common_units and not common_programmes:
                return None
        programme_names = {**a.programmes, **b.programmes}
        # A programme inside a common unit adds nobody: name the unit only.
        common_programmes = {
            p
            for p in common_programmes
            if not any(tree.covers(u, programme_names[p][1]) for u in common_units)
        }
        if not common_units and not common_programmes:
            points, names = AUDIENCE_POINTS["all"], ["all students"]
        else:
            levels = [AUDIENCE_POINTS["programme"]] if common_programmes else []
            levels += [AUDIENCE_POINTS.get(tree.kind.get(u, ""), 15) for u in common_units]
            points = max(levels)
            names = [programme_names[p][0] for p in common_programmes]
            names += [tree.name.get(u, "") for u in common_units]
        if a.years and b.years:
            points += SHARED_YEARS_POINTS
        return points, f"{_names(names)}{_years_text(years)}"


def _profile_and_event(event: Event) -> tuple[Event, Profile]:
    if event.pk is None:
        raise ValueError("Save the event before checking clashes.")
    fresh = Event.objects.select_related("unit", "organiser").get(pk=event.pk)
    return fresh, load_profiles([fresh])[fresh.pk]


def find_clashes(event: Event, window_days: int | None = None) -> list[Clash]:
    """Published events that clash with `event` at its current times, worst first."""
    window_days = default_window_days() if window_days is None else window_days
    fresh, subject = _profile_and_event(event)
    scorer = Scorer.load(*clash_window(fresh.starts_at, fresh.ends_at, window_days))
    return scorer.clashes(subject, fresh.starts_at, fresh.ends_at, window_days=window_days)


def find_clashes_for_many(
    events: list[Event], window_days: int | None = None
) -> dict[int, list[Clash]]:
    """Clashes for several events, loading the calendar once (for dashboards)."""
    window_days = default_window_days() if window_days is None else window_days
    if not events:
        return {}
    events = list(Event.objects.filter(pk__in=[e.pk for e in events]))
    profiles = load_profiles(events)
    start = min(clash_window(e.starts_at, e.ends_at, window_days)[0] for e in events)
    end = max(clash_window(e.starts_at, e.ends_at, window_days)[1] for e in events)
    scorer = Scorer.load(start, end)
    return {
        e.pk: scorer.clashes(profiles[e.pk], e.starts_at, e.ends_at, window_days=window_days)
        for e in events
    }


def suggest_slots(
    event: Event,
    *,
    week_start: datetime.date,
    duration: datetime.timedelta | None = None,
    day_start: datetime.time = datetime.time(9),
    day_end: datetime.time = datetime.time(17),
    step: datetime.timedelta = datetime.timedelta(minutes=30),
    limit: int = 5,
    per_day: int | None = 2,
    window_days: int | None = None,
    now: datetime.datetime | None = None,
) -> list[Slot]:
    """The least-clashing slots in working hours, Monday to Friday of the week given.

    Slots are ranked by their total clash score, least first. With `per_day`, the
    suggestions are real alternatives: none overlaps another and no day has more
    than `per_day`, so five slots are not five half-hour shifts of one morning.
    """
    window_days = default_window_days() if window_days is None else window_days
    duration = duration or event.duration
    if duration <= datetime.timedelta(0):
        raise ValueError("The slot must last some time.")
    now = now or timezone.now()
    # Not when another app's hold on the event forbids it (before its booking opens).
    bounds = start_bounds(event)
    monday = week_start - datetime.timedelta(days=week_start.weekday())
    days = [monday + datetime.timedelta(days=n) for n in range(5)]
    fresh, subject = _profile_and_event(event)
    scorer = Scorer.load(
        clash_window(_midnight(days[0]), _midnight(days[0]), window_days)[0],
        clash_window(_midnight(days[-1]), _midnight(days[-1]), window_days)[1],
    )
    slots = []
    for day in days:
        start = timezone.make_aware(datetime.datetime.combine(day, day_start))
        closing = timezone.make_aware(datetime.datetime.combine(day, day_end))
        while start + duration <= closing:
            if start >= now and all(start > moment for moment, _why in bounds):
                found = scorer.clashes(subject, start, start + duration, window_days=window_days)
                slots.append(
                    Slot(
                        starts_at=start,
                        ends_at=start + duration,
                        score=sum(c.score for c in found),
                        clashes=found,
                    )
                )
            start += step
    slots.sort(key=lambda s: (s.score, len(s.clashes), s.starts_at))
    if per_day is None:
        return slots[:limit]
    chosen: list[Slot] = []
    for slot in slots:
        same_day = [c for c in chosen if c.starts_at.date() == slot.starts_at.date()]
        overlaps = any(c.starts_at < slot.ends_at and slot.starts_at < c.ends_at for c in same_day)
        if len(same_day) < per_day and not overlaps:
            chosen.append(slot)
            if len(chosen) == limit:
                break
    return chosen
