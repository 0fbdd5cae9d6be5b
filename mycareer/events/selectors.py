"""Reads: who sees which events, calendar ranges, filters, feeds, dashboards."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.accounts.selectors import member_units, remember_member_units
from mycareer.core.text import joined
from mycareer.events.clashes import times_compared
from mycareer.events.models import (
    MAX_EVENT_LENGTH,
    Audience,
    ClashOverride,
    Event,
    OpeningRequest,
)
from mycareer.events.registry import people_at, personal_feed_sources, places_of
from mycareer.events.units import UnitTree
from mycareer.organisations.models import EmployerMembership, Organisation
from mycareer.organisations.selectors import (
    NUMBERED_NAME,
    numbered_name,
    organisations_by_name,
)
from mycareer.organisations.timeline import TimelineEntry

# Cancelled events stay in feeds this long after cancellation, as STATUS:CANCELLED,
# so subscribed calendars remove them rather than keep a stale entry.
CANCELLED_KEPT_IN_FEEDS = datetime.timedelta(days=30)
# Feeds carry this much history; older events are settled and only make feeds heavy.
FEED_HISTORY = datetime.timedelta(days=90)
LISTED = [Event.Status.PUBLISHED, Event.Status.CANCELLED]


def member_unit_ids(user) -> set[int]:
    """The units a staff member belongs to (cached on the user for the request)."""
    return {pk for pk, _ in member_units(user)}


def unit_tree_for(user) -> UnitTree:
    """The unit tree, kept on the user for the request and read with their own units.

    A profile asks several timeline sources what this person may see, and a booking
    asks twice (the page, then the service): each loaded the tree again.
    """
    tree = getattr(user, "_events_unit_tree", None)
    if tree is None:
        tree, units = UnitTree.load_for(user)
        remember_member_units(user, units)
        user._events_unit_tree = tree
    return tree


def own_unit_ids(user, tree: UnitTree | None = None) -> set[int]:
    """The units a staff member works for: theirs and every unit below them."""
    tree = tree or unit_tree_for(user)
    members = member_unit_ids(user)
    if not members:
        return set()
    return tree.below_any(members)


@dataclass(frozen=True)
class Reach:
    """Whom an event's organiser may put in its audience without asking anyone.

    `units` are unit ids, each with everything below it; None means every student.
    `programmes` are the programmes the audience already holds (kept whatever their unit).
    `home` is the school (else faculty) the event belongs to, for messages.
    """

    units: set[int] | None
    programmes: frozenset[int] = frozenset()
    home: str = ""

    @property
    def everyone(self) -> bool:
        return self.units is None

    def takes(self, unit_id: int) -> bool:
        return self.units is None or unit_id in self.units

    def takes_programme(self, programme) -> bool:
        return self.takes(programme.unit_id) or programme.pk in self.programmes


def audience_reach(user: User | None, unit_ids: Iterable[int], event: Event | None = None) -> Reach:
    """Students an event of `unit_ids` reaches without consulting other operators
    (policy 2.4): its own school's (else faculty's), and those of units `user` is an
    operator of. A central service's events and administrators reach every student; an
    event keeps what its audience holds, and what its accepted opening requests added.
    """
    if user is not None and user.has_perm("mycareer.administer"):
        return Reach(units=None)
    tree = unit_tree_for(user) if user is not None else UnitTree.load()
    homes = {tree.home(pk) for pk in unit_ids}
    if None in homes:
        return Reach(units=None)
    roots = {pk for pk in homes if pk is not None}
    if user is not None:
        roots |= member_unit_ids(user)
    programmes: frozenset[int] = frozenset()
    if event is not None:
        audience = event.audience
        if audience.open_to_all:
            return Reach(units=None)
        roots |= {u.pk for u in audience.units.all()}
        roots |= set(
            event.opening_requests.filter(status=OpeningRequest.Status.ACCEPTED).values_list(
                "unit_id", flat=True
            )
        )
        programmes = frozenset(p.pk for p in audience.programmes.all())
    home = ", ".join(sorted(tree.name[pk] for pk in homes if pk is not None))
    return Reach(units=tree.below_any(roots), programmes=programmes, home=home)


def audience_includes(
    *, unit_ids: Iterable[int] = (), programme_id: int | None = None, year: int | None = None
) -> Q:
    """Events whose audience takes in a student of these units, programme and year.

    `unit_ids` is the student's unit and its ancestors: an audience naming the faculty
    takes in every school below it. Subqueries, not joins, so no row repeats.
    """
    unit_ids = list(unit_ids)
    group = Q(audience__open_to_all=True)
    if unit_ids:
        group |= Q(
            Exists(
                Audience.units.through.objects.filter(
                    audience_id=OuterRef("pk"), unit_id__in=unit_ids
                )
            )
        )
    if programme_id:
        group |= Q(
            Exists(
                Audience.programmes.through.objects.filter(
                    audience_id=OuterRef("pk"), degreeprogramme_id=programme_id
                )
            )
        )
    if year:
        group &= Q(audience__years="") | Q(audience__years__contains=str(year))
    return group


def audience_text(event: Event) -> str:
    """Whom the event is for, in words that say what `audience_includes` lets book.

    A student is in if they are of any unit chosen, or on any programme chosen (either
    will do), and in one of its years, which hold for every one of them. Units that
    accepted a request to open the event are named apart: "also open to", so that a
    school that was asked does not read as narrowed by the organiser's programmes.
    """
    audience = event.audience
    years = audience.year_list
    if not years:
        when = "in any year"
    else:
        when = f"in year{'s' if len(years) > 1 else ''} {joined(years, last='or')}"
    if audience.open_to_all:
        return f"All students{'' if not years else ' ' + when}"
    opened = set(
        event.opening_requests.filter(status=OpeningRequest.Status.ACCEPTED).values_list(
            "unit_id", flat=True
        )
    )
    units = sorted(audience.units.all(), key=lambda unit: unit.name)
    own = [unit.name for unit in units if unit.pk not in opened]
    asked = [unit.name for unit in units if unit.pk in opened]
    programmes = sorted(programme.name for programme in audience.programmes.all())
    groups = []
    if own:
        groups.append(f"students of {joined(own, last='or')}")
    if programmes:
        groups.append(f"students on {joined(programmes, last='or')}")
    if not groups:  # only units that were asked remain
        groups, asked = [f"students of {joined(asked, last='or')}"], []
    text = f"{', and '.join(groups)}, {when}"
    if asked:
        text += f"; also open to students of {joined(asked, last='or')}, {when}"
    return text[0].upper() + text[1:]


def student_audience_q(user, tree: UnitTree | None = None) -> Q:
    profile = getattr(user, "student_profile", None)
    if profile is None:
        return Q(audience__open_to_all=True, audience__years="")
    return audience_includes(
        unit_ids=(tree or unit_tree_for(user)).chain(profile.unit_id),
        programme_id=profile.programme_id,
        year=profile.year_of_study,
    )


def _employer_organisations(user) -> QuerySet[EmployerMembership, int]:
    """The organisations an employer signs in for now, as a subquery of their ids.

    Their active memberships, not their contact record: a colleague removed from the
    organisation stays among its contacts (the organisation's record to keep or
    remove), and someone asking to join is not one of its people until approved.
    """
    return EmployerMembership.objects.filter(
        user=user, status=EmployerMembership.Status.ACTIVE
    ).values_list("organisation_id", flat=True)


def _takes_part(organisations: QuerySet[EmployerMembership, int]) -> Exists:
    return Exists(
        Event.organisations.through.objects.filter(
            event_id=OuterRef("pk"), organisation_id__in=organisations
        )
    )


def visible_events(user, tree: UnitTree | None = None) -> QuerySet[Event]:
    """Every event `user` may see on the calendar, in any status.

    Administrators see everything; staff who may read staff pages see every published
    or cancelled event plus their own units' drafts; students see listed events whose
    audience includes them (opened units are part of the audience); employers see
    events open to employers or to the public, and those their organisation takes part
    in. "Open to all students" is an audience of students: an employer does not see
    such an event unless it is shared with employers or their organisation takes part.
    """
    events = Event.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return events.none()
    if user.has_perm("mycareer.administer"):
        return events
    listed = Q(status__in=LISTED)
    if user.has_perm("mycareer.view_staff_pages"):
        return events.filter(listed | Q(unit_id__in=own_unit_ids(user, tree)) | Q(organiser=user))
    if user.is_student:
        return events.filter(listed & student_audience_q(user, tree))
    if user.is_employer:
        takes_part = _takes_part(_employer_organisations(user))
        shared = Q(audience__open_to_employers=True) | Q(audience__open_to_public=True)
        return events.filter(listed & (shared | takes_part))
    return events.filter(listed, audience__open_to_all=True, audience__years="")


def can_see_event(user, event: Event) -> bool:
    """Whether `user` may open this event's page (one query).

    The events `visible_events` gives, and also a published or cancelled event at which
    the student holds, held or lost a place, or a place on its waiting list: staff may
    book a student outside the audience, an audience may change after booking, and
    every email about a place links to its event. Drafts stay unknown; lists and
    calendars keep to `visible_events`.
    """
    events = visible_events(user)
    if getattr(user, "is_student", False) and user.is_active:
        had_a_place = places_of(user)
        if had_a_place is not None:
            events = events | Event.objects.filter(had_a_place, status__in=LISTED)
    return events.filter(pk=event.pk).exists()


def is_for(user, event: Event) -> bool:
    """Whether the event is meant for this person (its audience), as `visible_events` says.

    Not whether its page opens for them (`can_see_event`): a place they once had opens the
    page, but not the right to book again outside the audience.
    """
    return visible_events(user).filter(pk=event.pk).exists()


def for_calendar(events: QuerySet[Event]) -> QuerySet[Event]:
    """What calendar cells and list rows show, without further queries."""
    return events.select_related("unit", "audience").order_by("starts_at", "pk")


def for_month(events: QuerySet[Event]) -> QuerySet[Event]:
    """What a month's cells show: title, times, status and type only.

    A busy month holds hundreds of events; loading each with its unit and audience
    made building the objects most of the month page's time.
    """
    return (
        events.select_related(None)
        .only("title", "type", "starts_at", "ends_at", "status")
        .order_by("starts_at", "pk")
    )


def overlapping(
    events: QuerySet[Event], start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Event]:
    return events.filter(
        starts_at__gte=start - MAX_EVENT_LENGTH, starts_at__lt=end, ends_at__gt=start
    )


def event_for_page(pk: int) -> Event:
    return (
        Event.objects.select_related("unit", "organiser", "audience")
        .prefetch_related(
            "audience__units",
            "audience__programmes",
            "topics",
            "organisations__sector",
        )
        .get(pk=pk)
    )


def opening_requests_of(event: Event) -> QuerySet[OpeningRequest]:
    return event.opening_requests.select_related(
        "unit", "requested_by", "decided_by", "withdrawn_by"
    )


def clash_overrides_of(event: Event) -> tuple[list[ClashOverride], list[ClashOverride]]:
    """Overrides recorded by this event's organiser, and those against this event.

    Each has `times_now`, how the two events' times stand now in the words of its reasons'
    last ("1 hour overlap"), and `moved_since`: whether that is no longer what was recorded,
    as one of them moved. The clash recorded was at the times then, and says so.
    """
    made = list(event.clash_overrides.select_related("other", "by"))
    against = list(event.clash_overrides_against.select_related("event", "by", "event__organiser"))
    for override in [*made, *against]:
        ours = override.event
        override.times_now = times_compared(ours.starts_at, ours.ends_at, override.other)
        override.moved_since = override.reasons[-1:] != [override.times_now]
        override.times_now_clause = _times_clause(override.times_now)
    return made, against


def _times_clause(times: str) -> str:
    """`times_compared`'s words in a sentence: "1 hour overlap" reads "they now overlap by
    1 hour", "same day" "they are now on the same day", "3 days apart" "they are now 3 days
    apart"."""
    if times.endswith(" overlap"):
        return f"they now overlap by {times.removesuffix(' overlap')}"
    if times == "same day":
        return "they are now on the same day"
    return f"they are now {times}"


def opening_requests_for(user) -> QuerySet[OpeningRequest]:
    """Requests to open events to units this person answers for (pending first)."""
    requests = OpeningRequest.objects.select_related(
        "event", "event__unit", "unit", "requested_by", "decided_by", "withdrawn_by"
    )
    if not user.has_perm("mycareer.administer"):
        requests = requests.filter(unit_id__in=own_unit_ids(user))
    # Waiting ones first: sorting on the status text put "withdrawn" above "pending".
    waiting = Q(status=OpeningRequest.Status.PENDING)
    return requests.order_by(
        ExpressionWrapper(waiting, output_field=BooleanField()).desc(), "-created_at"
    )


def upcoming_visible(user, *, limit: int = 5, now: datetime.datetime | None = None) -> list[Event]:
    now = now or timezone.now()
    return list(
        for_calendar(visible_events(user).filter(ends_at__gte=now, status__in=LISTED))[:limit]
    )


def upcoming_of_units(user, *, limit: int = 8, now: datetime.datetime | None = None):
    """Upcoming events of the person's units, drafts included."""
    now = now or timezone.now()
    own = own_unit_ids(user)
    return list(
        for_calendar(
            Event.objects.filter(ends_at__gte=now)
            .filter(Q(unit_id__in=own) | Q(organiser=user))
            .exclude(status=Event.Status.CANCELLED)
        )[:limit]
    )


def in_feed(events: QuerySet[Event], *, now: datetime.datetime | None = None) -> QuerySet[Event]:
    """Published events, and cancelled ones for a while, with some history."""
    now = now or timezone.now()
    return (
        events.filter(
            Q(status=Event.Status.PUBLISHED)
            | Q(status=Event.Status.CANCELLED, cancelled_at__gte=now - CANCELLED_KEPT_IN_FEEDS)
        )
        .filter(ends_at__gte=now - FEED_HISTORY)
        .select_related("unit")
        .prefetch_related("organisations", "topics")
        .order_by("starts_at", "pk")
    )


def public_events(*, now: datetime.datetime | None = None) -> QuerySet[Event]:
    """Events anybody may know of: published, not over yet, and shared beyond students.

    The same events as have a public page (employers take part or attend, or the public
    is welcome), less drafts, cancelled events and those that have ended: the public
    feeds for the university's website. Events only for students never appear.
    """
    now = now or timezone.now()
    return (
        Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gt=now)
        .filter(Q(audience__open_to_employers=True) | Q(audience__open_to_public=True))
        .select_related("unit", "audience")
        .prefetch_related("organisations", "topics")
        .order_by("starts_at", "pk")
    )


# Personal feeds ---------------------------------------------------------------------


def personal_events(user) -> QuerySet[Event]:
    """The events a person's own feed starts from, before registered sources add theirs.

    Students: none of their own; the bookings app adds the events they have a place at
    (the events open to them are the separate "all events I can see" feed). Staff: their
    units' events. Employers: their organisation's events.
    """
    if user.is_student:
        return Event.objects.none()
    if user.is_university_staff or user.is_superuser:
        return Event.objects.filter(Q(unit_id__in=own_unit_ids(user)) | Q(organiser=user))
    if user.is_employer:
        return Event.objects.filter(_takes_part(_employer_organisations(user)))
    return Event.objects.none()


def apply_filters(events: QuerySet[Event], filters: dict, tree: UnitTree | None = None):
    """Narrow events by the calendar's filters (unit, type, organisation, audience)."""
    tree = tree or UnitTree.load()
    if unit := filters.get("unit"):
        events = events.filter(unit_id__in=tree.descendants(unit.pk))
    if kind := filters.get("type"):
        events = events.filter(type=kind)
    if organisation := filters.get("organisation"):
        events = events.filter(
            Exists(
                Event.organisations.through.objects.filter(
                    event_id=OuterRef("pk"), organisation__name__icontains=organisation
                )
            )
        )
    programme, year = filters.get("programme"), filters.get("year")
    if programme:
        events = events.filter(
            audience_includes(
                unit_ids=tree.chain(programme.unit_id), programme_id=programme.pk, year=year
            )
        )
    elif year:
        events = events.filter(Q(audience__years="") | Q(audience__years__contains=str(year)))
    return events


# The organisations taking part, one a line in the event form ------------------------------


def _live_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(merged_into__isnull=True)


def organisation_lines(event: Event) -> list[str]:
    """The event's organisations as the event form writes them, one a line (one query).

    A name that another live organisation has too is numbered ("Acme Ltd (no. 42)"), so
    the form saved unchanged keeps the very same organisations.
    """
    namesakes = (
        _live_organisations()
        .exclude(pk=OuterRef("pk"))
        .alias(lname=Lower("name"))
        .filter(lname=Lower(OuterRef("name")))
    )
    taking_part = event.organisations.annotate(shared=Exists(namesakes))
    return [numbered_name(o) if o.shared else o.name for o in taking_part]


def _same_name(typed: str, name: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(name.split()).casefold()


@dataclass
class NamedOrganisations:
    """What the lines of the event form's organisations name, and what they do not."""

    found: list[Organisation] = field(default_factory=list)  # in the order named, once each
    # A plain name several live organisations have: which ones (with their sectors).
    several: dict[str, list[Organisation]] = field(default_factory=dict)
    # "Name (no. N)" that does not name a live organisation: N's organisation, if any.
    wrong_number: dict[str, Organisation | None] = field(default_factory=dict)
    # A name no organisation has: close names to offer.
    missing: dict[str, list[str]] = field(default_factory=dict)


def organisations_named(lines: list[str]) -> NamedOrganisations:
    """The organisations the event form's lines name.

    "Acme Ltd (no. 42)" names organisation 42 if that is its name and it is live. A
    plain name names the one live organisation with that name, whatever the case; a
    name several have names none (the form asks which); a name none has may still name
    one in its reduced form ("Northbridge Engineering" for "… Ltd"), as
    `organisations_by_name` decides, which offers close names otherwise.
    """
    named = NamedOrganisations()
    numbered = {line: NUMBERED_NAME.match(line) for line in lines}
    by_pk = Organisation.objects.select_related("merged_into").in_bulk(
        [int(m["pk"]) for m in numbered.values() if m]
    )
    chosen: dict[str, Organisation] = {}
    for line, number in numbered.items():
        if number:
            organisation = by_pk.get(int(number["pk"]))
            if (
                organisation is None
                or organisation.merged_into_id is not None
                or not _same_name(number["name"], organisation.name)
            ):
                named.wrong_number[line] = organisation
            else:
                chosen[line] = organisation
            continue
        exact: list[Organisation] = list(
            _live_organisations()
            .alias(lname=Lower("name"))
            .filter(lname=Lower(Value(line)))
            .select_related("sector")
            .order_by("pk")[:10]
        )
        if len(exact) > 1:
            named.several[line] = exact
        elif exact:
            chosen[line] = exact[0]
        else:
            alike, missing = organisations_by_name([line])
            if alike:
                chosen[line] = alike[0]
            named.missing.update(missing)
    for line in lines:
        organisation = chosen.get(line)
        if organisation is not None and organisation not in named.found:
            named.found.append(organisation)
    return named


def event_timeline_source(organisation, *, viewer, limit: int):
    """Events the organisation takes part in, for its timeline, newest first."""
    # A join, not EXISTS: the database starts from the organisation's few events
    # instead of testing every visible event (a third of the time on 10,000 events).
    # The link is unique per (event, organisation), so no event repeats.
    events = (
        visible_events(viewer)
        .filter(organisations=organisation.pk)
        .select_related("unit", "organiser")
        .order_by("-starts_at", "-pk")[:limit]
    )
    entries = []
    for event in events:
        status = "" if event.is_published else f" ({event.get_status_display()})"
        entries.append(
            TimelineEntry(
                when=event.starts_at,
                kind=f"Event: {event.get_type_display()}",
                title=f"{event.title}{status}",
                url=event.get_absolute_url(),
                actor=str(event.organiser or ""),
                details=[f"Organised by {event.unit}", event.venue or "Online"],
            )
        )
    return entries


def personal_feed_events(user) -> list[Event]:
    """A person's private feed: their own events plus what registered sources add."""
    events = list(in_feed(personal_events(user)))
    seen = {e.pk for e in events}
    extra: set[int] = set()
    for source in personal_feed_sources():
        extra |= {e.pk for e in source(user) if e.pk not in seen}
    if extra:
        events += list(in_feed(Event.objects.filter(pk__in=extra)))
        events.sort(key=lambda e: (e.starts_at, e.pk))
    return events


def profile_section(organisation, user) -> dict | None:
    """Upcoming events the organisation takes part in that this person may go to."""
    if not (user.is_student or user.has_perm("mycareer.view_staff_pages")):
        return None
    events = (
        visible_events(user)
        .filter(
            organisations=organisation.pk,
            status=Event.Status.PUBLISHED,
            ends_at__gte=timezone.now(),
        )
        .select_related("unit")
        .order_by("starts_at", "pk")
    )
    return {"organisation": organisation, "events": list(events[:20])}


def people_to_tell_of_changes(event: Event) -> list[tuple[User, str]]:
    """Who is emailed when the event's time or place changes, and what they hold there.

    People with a place or on the waiting list, while the event is published and not
    over: a draft has nobody, and changing a past event's details corrects a record.
    """
    if not event.is_published or event.ends_at <= timezone.now():
        return []
    return people_at(event)
