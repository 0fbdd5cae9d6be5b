"""Changes to events: create, change, publish (with the clash check), cancel, open up.

Each is audited in its own transaction; emails go out from tasks after commit.
"""

import datetime
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst, slugify

from mycareer import audit
from mycareer.accounts.models import DegreeProgramme, Unit, User, new_feed_token
from mycareer.core.locks import hold_lock
from mycareer.core.logs import log_event
from mycareer.core.validators import validate_web_link
from mycareer.events import selectors, tasks
from mycareer.events.clashes import Clash, ClashesFound, find_clashes
from mycareer.events.models import (
    MAX_EVENT_LENGTH,
    SENSIBLE_YEARS,
    YEARS_OF_STUDY,
    Audience,
    CancellationNotice,
    ClashOverride,
    Event,
    OpeningRequest,
    Topic,
)
from mycareer.events.registry import (
    cancellation_end,
    cancellation_reach,
    event_moved,
    time_errors,
)
from mycareer.events.units import UnitTree
from mycareer.organisations import merging
from mycareer.organisations.models import Organisation

logger = logging.getLogger(__name__)

# Changes a subscribed calendar must pick up (they raise the iCalendar SEQUENCE).
CALENDAR_KEYS = {"title", "starts_at", "ends_at", "venue", "online_url", "description", "status"}
# Changes that the people with a place (or waiting for one) are emailed about.
WHEN_AND_WHERE = ("starts_at", "ends_at", "venue", "online_url")
# Changes that can make or unmake a clash (a published event is checked again).
CLASH_KEYS = {
    "starts_at",
    "ends_at",
    "type",
    "topics",
    "organisations",
    "open_to_all",
    "audience_units",
    "audience_programmes",
    "audience_years",
}
# Who beyond students the event is for: employers, the public (a public page).
SHARING_KEYS = {"open_to_employers", "open_to_public"}
# Why a request to open an event, still waiting when the event is cancelled, is withdrawn.
EVENT_CANCELLED = "The event was cancelled."
# The event's own fields that `event_update` may change.
EVENT_FIELDS = [
    "title",
    "type",
    "unit",
    "starts_at",
    "ends_at",
    "venue",
    "online_url",
    "description",
]


# Helpers -----------------------------------------------------------------------------


def topics_from_names(names: Iterable[str]) -> list[Topic]:
    """Topics by name, reusing an existing one whatever its case, creating the rest."""
    topics: list[Topic] = []
    seen: set[str] = set()
    for raw in names:
        name = " ".join(str(raw).split())[:100]
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        topic = Topic.objects.filter(name__iexact=name).first()
        if topic is None:
            base = slugify(name)[:90] or "topic"
            slug, n = base, 1
            while Topic.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            topic = Topic.objects.create(name=name, slug=slug)
        topics.append(topic)
    return topics


def _topics(values: Iterable[Topic | str]) -> list[Topic]:
    values = list(values)
    named = topics_from_names(v for v in values if isinstance(v, str))
    return [v for v in values if isinstance(v, Topic)] + named


def _check_times(starts_at: datetime.datetime, ends_at: datetime.datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("Event times must be timezone-aware.")
    if starts_at.year not in SENSIBLE_YEARS or ends_at.year not in SENSIBLE_YEARS:
        raise ValidationError({"starts_at": "Check the year: it is not a sensible one."})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The event must end after it starts."})
    if ends_at - starts_at > MAX_EVENT_LENGTH:
        raise ValidationError(
            {"ends_at": f"An event can last at most {MAX_EVENT_LENGTH.days} days."}
        )


def _check_not_history(event: Event, was: tuple[datetime.datetime, datetime.datetime]) -> None:
    """A published event's times are a record once they have passed: a start that has
    come, and an end that has come, stay as they were.

    Moving a finished event into the future would reopen booking beside its check-ins
    and no-shows, and tell its people of an event they have already been to (or missed).
    While it is under way, its end may still change (it runs late or finishes early). An
    event still to come cannot move to a start that has passed, as it could not be published.
    """
    if event.is_draft:
        return  # a draft was never announced: it is moved to a new date to publish it
    now = timezone.now()
    starts_at, ends_at = was
    ended = f"{event} has ended: its times can no longer change."
    if starts_at <= now:
        if not _same_minute(event.starts_at, starts_at):
            started = f"{event} has started: its start time can no longer change."
            raise ValidationError(
                {"starts_at": ended if ends_at <= now else started}, code="started"
            )
        event.starts_at = starts_at  # the form shows minutes: its seconds are not a change
    if ends_at <= now:
        if not _same_minute(event.ends_at, ends_at):
            raise ValidationError({"ends_at": ended}, code="ended")
        event.ends_at = ends_at
    if starts_at > now and event.starts_at <= now:
        # Still to come, moved to a start that has passed: its people would be told of an
        # event already begun, unable to cancel, and could be marked as not attending.
        if not _same_minute(event.starts_at, starts_at):
            raise ValidationError(
                {
                    "starts_at": (
                        f"{event} is published and still to come: it can only move to a "
                        "start that has not passed yet."
                    )
                },
                code="past",
            )
        event.starts_at = starts_at


def _same_minute(a: datetime.datetime, b: datetime.datetime) -> bool:
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def _check_online_url(url: str) -> str:
    """The online link, stripped, if it is a web address. Checked here, not only by the
    form, so the API is held to it too: students' pages, booking emails and calendar
    files all offer it as a link."""
    url = url.strip()
    if url:
        try:
            validate_web_link(url)
        except ValidationError as error:
            raise ValidationError({"online_url": error.messages}) from None
    return url


def _check_audience(
    *, open_to_all: bool, units: list, programmes: list, years: Iterable[int]
) -> list[int]:
    years = sorted({int(y) for y in years})
    if any(y not in YEARS_OF_STUDY for y in years):
        raise ValidationError({"audience_years": "Years of study run from 1 to 7."})
    if open_to_all and (units or programmes):
        raise ValidationError(
            "Either open the event to all students, or choose units and programmes, not both."
        )
    if not open_to_all and not units and not programmes:
        raise ValidationError(
            "Choose who the event is for: units, degree programmes, or all students."
        )
    return years


OPEN_TO_ALL_NEEDS_ASKING = (
    "An event of {home} is for its own students: choose its units or programmes. Other "
    "schools and faculties are asked from the event's page once it is saved (“Open to "
    "another unit”); an administrator may open it to every student."
)


def _check_reach(
    *,
    unit: Unit,
    by: User | None,
    open_to_all: bool,
    units: list[Unit],
    programmes: list[DegreeProgramme],
    event: Event | None = None,
) -> None:
    """Students of other schools and faculties are reached by consulting their operators
    (an opening request they accept), never by ticking their units (policy 2.4)."""
    reach = selectors.audience_reach(by, [unit.pk], event)
    if reach.everyone:
        return
    if open_to_all:
        raise ValidationError({"open_to_all": OPEN_TO_ALL_NEEDS_ASKING.format(home=reach.home)})
    errors: dict[str, str] = {}
    if outside := [u.name for u in units if not reach.takes(u.pk)]:
        errors["audience_units"] = _ask_first(reach.home, outside, outside)
    if programmes_outside := [p for p in programmes if not reach.takes_programme(p)]:
        tree = selectors.unit_tree_for(by) if by is not None else UnitTree.load()
        errors["audience_programmes"] = _ask_first(
            reach.home,
            [f"{p.name} ({tree.name[p.unit_id]})" for p in programmes_outside],
            sorted({tree.name[p.unit_id] for p in programmes_outside}),
        )
    if errors:
        raise ValidationError(errors)


def _ask_first(home: str, outside: list[str], units: list[str]) -> str:
    """What is outside an event's reach, and how to reach it: ask the units' operators."""
    one = len(outside) == 1
    asked = units[0] if len(units) == 1 else "each of " + ", ".join(units)
    return (
        f"Ask before opening the event beyond {home}: {', '.join(outside)} "
        f"{'is' if one else 'are'} not yours to choose. Untick {'it' if one else 'them'} and "
        f"save, then use “Open to another unit” on the event's page to ask the operators of "
        f"{asked}, whose students see the event once they accept."
    )


def _check_organisations(organisations: Iterable[Organisation]) -> list[Organisation]:
    """Refuse an organisation merged into another, as the event form finds none: the
    event would go onto the archived record, whose timeline nobody sees.

    The rows are locked first, in the caller's transaction and in id order, so a merge
    under way (it locks both records) is waited for, then seen: checked unlocked, the event
    went onto the merged-away record once that merge committed."""
    organisations = list(organisations)
    pks = [o.pk for o in organisations]
    locked = Organisation.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    if not any(locked.values_list("merged_into", flat=True)):
        return organisations
    merged = Organisation.objects.filter(pk__in=pks, merged_into__isnull=False).select_related(
        "merged_into"
    )
    if merged:
        raise ValidationError(
            {
                "organisations": [
                    f"{o.name} was merged into {o.merged_into}: name {o.merged_into} instead."
                    for o in merged.order_by("name", "pk")
                ]
            }
        )
    return organisations


def _snapshot(event: Event) -> dict:
    """What people see of an event, as plain values, for comparing and auditing."""
    audience = event.audience
    return {
        "title": event.title,
        "type": event.type,
        "unit": event.unit.name,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "venue": event.venue,
        "online_url": event.online_url,
        "description": event.description,
        "status": event.status,
        # Numbered where two organisations share a name, so swapping them is a change.
        "organisations": sorted(selectors.organisation_lines(event)),
        "topics": sorted(t.name for t in event.topics.all()),
        "open_to_all": audience.open_to_all,
        "audience_units": sorted(u.name for u in audience.units.all()),
        "audience_programmes": sorted(p.name for p in audience.programmes.all()),
        "audience_years": audience.year_list,
        "open_to_employers": audience.open_to_employers,
        "open_to_public": audience.open_to_public,
    }


# Any fixed number: the key of PostgreSQL's advisory lock for clash-checked changes.
CALENDAR_LOCK = 7_021_114


def _lock_calendar() -> None:
    """Clash-checked changes one at a time, until the transaction ends.

    Without it two operators publishing clashing drafts at the same moment would each
    check the calendar before the other's event is in it, and both would go ahead
    with no reason given. SQLite's IMMEDIATE transactions already take the database's
    write lock at BEGIN; PostgreSQL gets a transaction-level advisory lock.
    """
    hold_lock(CALENDAR_LOCK)


def _locked(event: Event) -> Event:
    return (
        Event.objects.select_for_update(of=("self",))
        .select_related("unit", "audience", "organiser")
        .get(pk=event.pk)
    )


def _clash_data(clashes: list[Clash]) -> list[dict]:
    return [
        {"event": c.other.pk, "title": c.other.title, "score": c.score, "reasons": c.summary}
        for c in clashes
    ]


def _go_ahead_despite(
    clashes: list[Clash], override_reason: str, event: Event, *, by: User | None, action: str
) -> None:
    """Clashes need a reason: without one `ClashesFound` is raised (the caller's transaction
    undoes what it did); with one, the decision is recorded and the other organisers told."""
    reason = override_reason.strip()
    if clashes and not reason:
        raise ClashesFound(clashes)
    if clashes:
        _record_overrides(event=event, clashes=clashes, reason=reason, by=by, action=action)


def _record_overrides(
    *, event: Event, clashes: list[Clash], reason: str, by: User | None, action: str
) -> list[ClashOverride]:
    """Record the decision to go ahead despite clashes, and tell the other organisers."""
    rows = ClashOverride.objects.bulk_create(
        [
            ClashOverride(
                event=event,
                other=clash.other,
                reason=reason,
                score=clash.score,
                reasons=clash.reasons,
                by=by,
            )
            for clash in clashes
        ]
    )
    audit.log(event, action, by=by, data={"reason": reason, "clashes": _clash_data(clashes)})
    for clash in clashes:
        audit.log(
            clash.other,
            "events.event.clash_overridden",
            by=by,
            data={"event": event.pk, "title": event.title, "reason": reason},
        )
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: tasks.send_clash_override_emails.enqueue(ids))
    return rows


# Events ------------------------------------------------------------------------------


def _check_place(venue: str, online_url: str) -> None:
    """Students must know where to go: a venue, an online link, or both."""
    if not venue and not online_url:
        raise ValidationError({"venue": "Give a venue, an online link, or both."})


@transaction.atomic
def event_create(
    *,
    by: User | None,
    title: str,
    unit: Unit,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    type: str = Event.Type.OTHER,
    venue: str = "",
    online_url: str = "",
    description: str = "",
    organisations: Iterable[Organisation] = (),
    topics: Iterable[Topic | str] = (),
    open_to_all: bool = False,
    audience_units: Iterable[Unit] = (),
    audience_programmes: Iterable[DegreeProgramme] = (),
    audience_years: Iterable[int] = (),
    open_to_employers: bool = False,
    open_to_public: bool = False,
    organiser: User | None = None,
) -> Event:
    """Create a draft event with its audience."""
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the event a title."})
    _check_times(starts_at, ends_at)
    online_url = _check_online_url(online_url)
    _check_place(venue.strip(), online_url)
    units, programmes = list(audience_units), list(audience_programmes)
    years = _check_audience(
        open_to_all=open_to_all, units=units, programmes=programmes, years=audience_years
    )
    _check_reach(unit=unit, by=by, open_to_all=open_to_all, units=units, programmes=programmes)
    organisations = _check_organisations(organisations)
    event = Event.objects.create(
        title=title,
        type=type,
        unit=unit,
        organiser=organiser or by,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=venue.strip(),
        online_url=online_url,
        description=description.strip(),
    )
    event.organisations.set(organisations)
    event.topics.set(_topics(topics))
    audience = Audience.objects.create(
        event=event,
        open_to_all=open_to_all,
        years=Audience.years_text(years),
        open_to_employers=open_to_employers,
        open_to_public=open_to_public,
    )
    audience.units.set(units)
    audience.programmes.set(programmes)
    audit.log(event, "events.event.created", by=by, data=_snapshot(event))
    return event


@transaction.atomic
def event_update(
    *,
    event: Event,
    by: User | None,
    override_reason: str = "",
    form_parts_follow: bool = False,
    **changes,
) -> dict:
    """Change an event; a published event that moves is checked for clashes again.

    Keyword arguments are those of `event_create`. Returns what changed, as
    {name: [before, after]}: empty when nothing did, and then nothing is written, audited
    or emailed. Raises `ClashesFound` when the changed event clashes and no
    `override_reason` is given; nothing is saved then. When its time or place changes,
    the people with a place or waiting for one are emailed what changed, after commit
    (`selectors.people_to_tell_of_changes`). New times are checked against what other
    apps hold (`registry.time_errors`), unless `form_parts_follow`: the event form's parts
    are saved next, in the same transaction, and check them with their own new values.
    """
    unknown = set(changes) - set(EVENT_FIELDS) - CLASH_KEYS - SHARING_KEYS
    if unknown:
        raise TypeError(f"Unknown event fields: {', '.join(sorted(unknown))}")
    event = _locked(event)
    if event.is_cancelled:
        raise ValidationError("A cancelled event cannot be changed.")
    before = _snapshot(event)
    audience = event.audience
    own_before = _own_values(event, audience)
    was = (event.starts_at, event.ends_at)
    for name in EVENT_FIELDS:
        if name in changes:
            value = changes[name]
            setattr(event, name, value.strip() if isinstance(value, str) else value)
    if not event.title:
        raise ValidationError({"title": "Give the event a title."})
    if "online_url" in changes:
        event.online_url = _check_online_url(event.online_url)
    if changes.keys() & {"venue", "online_url"}:
        _check_place(event.venue, event.online_url)
    _check_times(event.starts_at, event.ends_at)
    _check_not_history(event, was)
    if "organisations" in changes:
        changes["organisations"] = _check_organisations(changes["organisations"])
    moving = not form_parts_follow and changes.keys() & {"starts_at", "ends_at"}
    # What other apps hold for it (booking that opens later than the new start).
    if moving and (errors := time_errors(event)):
        raise ValidationError(errors)
    units = list(changes.get("audience_units", audience.units.all()))
    programmes = list(changes.get("audience_programmes", audience.programmes.all()))
    open_to_all = changes.get("open_to_all", audience.open_to_all)
    years = _check_audience(
        open_to_all=open_to_all,
        units=units,
        programmes=programmes,
        years=changes.get("audience_years", audience.year_list),
    )
    _check_reach(
        unit=event.unit,
        by=by,
        open_to_all=open_to_all,
        units=units,
        programmes=programmes,
        event=event,
    )
    audience.open_to_all = open_to_all
    audience.years = Audience.years_text(years)
    for name in SHARING_KEYS & changes.keys():
        setattr(audience, name, bool(changes[name]))
    own_after = _own_values(event, audience)
    # Saved only when different: an unchanged save must not move "last changed".
    if own_after["event"] != own_before["event"]:
        event.save()
    if own_after["audience"] != own_before["audience"]:
        audience.save()
    if "organisations" in changes:
        event.organisations.set(changes["organisations"])
    if "topics" in changes:
        event.topics.set(_topics(changes["topics"]))
    audience.units.set(units)
    audience.programmes.set(programmes)
    # Prefetched relations would hide the new rows from the snapshot.
    event = _locked(event)
    after = _snapshot(event)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changed:
        return {}
    if own_after["event"] == own_before["event"]:
        # Only its relations or audience changed: the event was still changed then.
        event.save(update_fields=["updated_at"])
    if event.published_at is not None and changed.keys() & CALENDAR_KEYS:
        event.sequence += 1
        event.save(update_fields=["sequence", "updated_at"])
    if changed.keys() & {"starts_at", "ends_at"}:
        # Before the people told are listed: what they hold may end sooner now.
        event_moved(event)
    entry = audit.log(event, "events.event.changed", by=by, data={"changed": changed})
    moved = {key: changed[key] for key in WHEN_AND_WHERE if key in changed}
    if moved and selectors.people_to_tell_of_changes(event):
        transaction.on_commit(lambda: tasks.send_change_emails.enqueue(event.pk, entry.pk, moved))
    # Someone else's event: the people told are asked to reply to its organiser, who is
    # told too (as when a colleague cancels it).
    if moved and by is not None and event.organiser_id not in (None, by.pk):
        transaction.on_commit(
            lambda: tasks.send_changed_by_colleague_email.enqueue(event.pk, entry.pk, by.pk, moved)
        )
    if event.is_published and changed.keys() & CLASH_KEYS:
        _lock_calendar()
        # A clash someone already went ahead with (either organiser, with a reason that
        # was recorded and sent) is not asked about again: only new ones are.
        accepted = accepted_clashes(event)
        clashes = [c for c in find_clashes(event) if c.other.pk not in accepted]
        _go_ahead_despite(
            clashes, override_reason, event, by=by, action="events.event.changed_despite_clash"
        )
    return changed


def _own_values(event: Event, audience: Audience) -> dict:
    """The event's and its audience's own columns, to save each only when it changed."""
    return {
        "event": [
            event.unit_id if name == "unit" else getattr(event, name) for name in EVENT_FIELDS
        ],
        "audience": [
            audience.open_to_all,
            audience.years,
            *(getattr(audience, name) for name in sorted(SHARING_KEYS)),
        ],
    }


def accepted_clashes(event: Event) -> set[int]:
    """Events this one already went ahead despite clashing with, or that went ahead against it."""
    made = ClashOverride.objects.filter(event=event).values_list("other_id", flat=True)
    against = ClashOverride.objects.filter(other=event).values_list("event_id", flat=True)
    return set(made) | set(against)


def not_a_draft_text(event: Event) -> str:
    """Why publishing an event that is no longer a draft does nothing: a cancelled one
    cannot be published, with when it was cancelled; a published one already is."""
    if event.is_cancelled:
        when = timezone.localtime(event.cancelled_at) if event.cancelled_at else None
        on = f" on {date_format(when, 'j F Y')}" if when else ""
        return f"{event} was cancelled{on}: it cannot be published."
    return f"{event} is already {event.get_status_display().lower()}."


def publish_refusal(event: Event, *, now: datetime.datetime | None = None) -> str:
    """Why the draft cannot be published at `now` (its start has passed), or "".

    An event under way is refused too: students would be told of it, invited to book
    and sent reminders for something they can no longer come to from the start.
    """
    now = now or timezone.now()
    if event.starts_at > now:
        return ""
    started = f"{date_format(event.local_start, 'j F Y')} at {event.local_start:%H:%M}"
    state = (
        f"{event} started on {started} and is under way"
        if event.ends_at > now
        else f"{event} was on {started}"
    )
    return (
        f"{state}: only an event still to come can be published. Edit its date to "
        "publish it, or leave it as a draft."
    )


@transaction.atomic
def event_publish(
    *,
    event: Event,
    by: User | None,
    override_reason: str = "",
    now: datetime.datetime | None = None,
) -> list[Clash]:
    """Publish a draft still to come after the clash check; clashes need a reason, which
    is recorded.

    Raises `ClashesFound` (nothing changes) when the event clashes and no reason is
    given, and `ValidationError` (code "started") when its start has passed. Returns
    the clashes that were overridden. `now` is when it is published (the demo's history
    publishes its past events as they were, before they took place).
    """
    now = now or timezone.now()
    _lock_calendar()
    event = _locked(event)
    if not event.is_draft:
        raise ValidationError(f"Only a draft can be published; this event is {event.status}.")
    if refusal := publish_refusal(event, now=now):
        raise ValidationError(refusal, code="started")
    clashes = find_clashes(event)
    event.status = Event.Status.PUBLISHED
    event.published_at = now
    event.save(update_fields=["status", "published_at", "updated_at"])
    audit.log(event, "events.event.published", by=by, data={"clashes": len(clashes)})
    # Refused clashes undo the publishing: this function is one transaction.
    _go_ahead_despite(
        clashes, override_reason, event, by=by, action="events.event.published_despite_clash"
    )
    return clashes


@transaction.atomic
def event_cancel(
    *, event: Event, by: User | None, reason: str, expected_people: int | None = None
) -> Event:
    """Cancel an event with a reason: every place and waiting-list entry ends.

    Each person who had one is told once, by email after commit (one
    `CancellationNotice` each, counted in the audit entry as people told). Requests to
    open it to other units still waiting for an answer are withdrawn, and the operators
    who were asked are told.
    `expected_people` is how many the person confirmed would be emailed (the confirmation
    page's figure); when that no longer holds, nothing changes and the refusal says so.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the event is cancelled."})
    event = _locked(event)
    if event.is_cancelled:
        raise ValidationError("This event is already cancelled.")
    now = timezone.now()
    if event.starts_at <= now:
        # Cancelling would end the places of people who came, lose their attendance and
        # email them that it will not take place.
        raise ValidationError(
            f"{event} started on {date_format(event.local_start, 'j F Y')} at "
            f"{event.local_start:%H:%M}: an event cannot be cancelled once it has started. "
            "Record who came on its attendance page.",
            code="started",
        )
    was_published = event.published_at is not None
    if expected_people is not None:
        people_now = cancellation_reach(event).emailed if was_published else 0
        if people_now != expected_people:
            raise ValidationError(
                "The figures changed since you looked: cancelling now emails "
                f"{people_now} {'person' if people_now == 1 else 'people'}, not "
                f"{expected_people}. Check them and cancel again.",
                code="changed",
            )
    event.status = Event.Status.CANCELLED
    event.cancelled_at = now
    event.cancelled_reason = reason
    if was_published:
        event.sequence += 1
    event.save()
    # Only a published event has taken bookings; the other apps end theirs now, with
    # the event row locked, so nobody books into it meanwhile without being told.
    people = cancellation_end(event, by=by, now=now) if was_published else []
    # Their places end all the same; someone who can no longer sign in (a leaver, an
    # erased person) is not emailed, as with the change emails, nor counted as told.
    notices = CancellationNotice.objects.bulk_create(
        [
            CancellationNotice(event=event, person=person, detail=detail)
            for person, detail in people
            if person.is_active
        ]
    )
    audit.log(
        event,
        "events.event.cancelled",
        by=by,
        data={"reason": reason, "people_told": len(notices)},
    )
    if notices:
        transaction.on_commit(lambda: tasks.send_cancellation_emails.enqueue(event.pk))
    # Someone else's event (a faculty's operator, an administrator): the people told are
    # asked to reply to its organiser, who is told too.
    if by is not None and event.organiser_id is not None and event.organiser_id != by.pk:
        # Those who left are counted for the organiser, who would otherwise read that
        # nobody had a place.
        left = len({person.pk for person, _ in people if not person.is_active})
        transaction.on_commit(
            lambda: tasks.send_cancelled_by_colleague_email.enqueue(event.pk, by.pk, left)
        )
    # Requests still waiting would stay "Waiting for an answer" in the other units' lists
    # though answering them is refused: they are withdrawn, and whoever was asked is told.
    pending = (
        OpeningRequest.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(event=event, status=OpeningRequest.Status.PENDING)
    )
    for request in pending:
        request.event = event
        _withdraw(request, by=by, reason=EVENT_CANCELLED)
    return event


# Opening an event to other units -------------------------------------------------------

DECLINE_NEEDS_A_REASON = (
    "Say why you decline: the organiser reads it with your answer, and can ask again when it suits."
)


def opening_refusal(event: Event) -> str | None:
    """Why the event is not opened to more students now, or None: booking closes when it
    starts, so asking, or accepting a request made before, would invite nobody."""
    if event.has_started:
        return (
            f"{event} has started: its students can no longer book, so it is not opened to "
            "more of them."
        )
    return None


@transaction.atomic
def opening_request_create(
    *, event: Event, unit: Unit, by: User, message: str = ""
) -> OpeningRequest:
    """Ask another unit's operators to open the event to their students: an event still to
    come, since booking closes when it starts."""
    event = _locked(event)
    if event.is_cancelled:
        raise ValidationError("A cancelled event cannot be opened to more students.")
    if refusal := opening_refusal(event):
        raise ValidationError(refusal, code="started")
    if unit.kind == Unit.Kind.SERVICE:
        raise ValidationError(
            {"unit": f"{unit} has no students of its own: ask a faculty or school."}
        )
    audience = event.audience
    tree = UnitTree.load()
    if audience.open_to_all:
        raise ValidationError("This event is already open to all students.")
    covering = [u.pk for u in audience.units.all() if tree.covers(u.pk, unit.pk)]
    if covering:
        raise ValidationError({"unit": f"The event is already open to {unit}."})
    if OpeningRequest.objects.filter(
        event=event, unit=unit, status=OpeningRequest.Status.PENDING
    ).exists():
        raise ValidationError({"unit": f"{unit} has already been asked."})
    accepted = (
        event.opening_requests.filter(status=OpeningRequest.Status.ACCEPTED)
        .select_related("unit")
        .order_by("-decided_at")
    )
    if said_yes := next((a for a in accepted if tree.covers(a.unit_id, unit.pk)), None):
        # Taken out of the audience since: ticking it again needs nobody's answer.
        raise ValidationError(
            {
                "unit": (
                    f"{said_yes.unit} accepted on "
                    f"{date_format(timezone.localtime(said_yes.decided_at), 'j F Y')}: tick "
                    f"{said_yes.unit} again on the event's edit page, with no need to ask."
                )
            }
        )
    request = OpeningRequest.objects.create(
        event=event, unit=unit, requested_by=by, message=message.strip()
    )
    audit.log(
        event,
        "events.opening.requested",
        by=by,
        data={"request": request.pk, "unit": unit.name, "message": request.message},
    )
    transaction.on_commit(lambda: tasks.send_opening_request_emails.enqueue(request.pk))
    return request


@transaction.atomic
def opening_request_decide(
    *, request: OpeningRequest, accept: bool, by: User, comment: str = ""
) -> OpeningRequest:
    """Accept (the unit joins the audience) or decline a request to open an event.

    A decline needs a reason (`comment`): the organiser reads it in the email and on the
    request's page, rather than a bare "no" to guess at.
    """
    if not accept and not comment.strip():
        raise ValidationError({"comment": DECLINE_NEEDS_A_REASON})
    request = (
        OpeningRequest.objects.select_for_update(of=("self",))
        .select_related("event", "unit", "decided_by", "withdrawn_by")
        .get(pk=request.pk)
    )
    if refusal := opening_decision_refusal(request):
        raise ValidationError(refusal)
    if accept and (refusal := opening_refusal(request.event)):
        raise ValidationError(refusal, code="started")
    request.status = OpeningRequest.Status.ACCEPTED if accept else OpeningRequest.Status.DECLINED
    request.decided_by = by
    request.decided_at = timezone.now()
    request.comment = comment.strip()
    request.save()
    if accept:
        request.event.audience.units.add(request.unit)
    audit.log(
        request.event,
        "events.opening.accepted" if accept else "events.opening.declined",
        by=by,
        data={"request": request.pk, "unit": request.unit.name, "comment": request.comment},
    )
    transaction.on_commit(lambda: tasks.send_opening_decision_email.enqueue(request.pk))
    return request


def opening_decision_refusal(request: OpeningRequest) -> str | None:
    """Why the request cannot be answered now (answered, withdrawn, event cancelled), or None."""
    if request.status == OpeningRequest.Status.WITHDRAWN:
        return f"{capfirst(opening_closed(request))}: there is nothing to answer."
    if request.status != OpeningRequest.Status.PENDING:
        return f"This request was already answered: {opening_closed(request)}."
    if request.event.is_cancelled:
        return EVENT_CANCELLED
    return None


def opening_closed(request: OpeningRequest) -> str:
    """Who closed an answered or withdrawn request, and when: "accepted by Grace on 6 May 2027"."""
    if request.status == OpeningRequest.Status.WITHDRAWN:
        who, at, what = request.withdrawn_by, request.withdrawn_at, "withdrawn"
    else:
        who, at, what = request.decided_by, request.decided_at, request.status
    when = f" on {date_format(timezone.localtime(at), 'j F Y')}" if at else ""
    return f"{what} by {who or 'a former colleague'}{when}"


@transaction.atomic
def opening_request_withdraw(
    *, request: OpeningRequest, by: User, reason: str = ""
) -> OpeningRequest:
    """Take back a request nobody has answered yet; the operators asked are told by email.

    Only a pending request: an accepted one already added the unit to the audience (the
    organiser narrows it on the edit page), a declined one has nothing left to take back.
    The unit may be asked again afterwards.
    """
    request = (
        OpeningRequest.objects.select_for_update(of=("self",))
        .select_related("event", "unit", "decided_by", "withdrawn_by")
        .get(pk=request.pk)
    )
    if refusal := opening_withdraw_refusal(request):
        log_event(
            logger, "events.opening.withdraw_refused", request=request.pk, status=request.status
        )
        raise ValidationError(refusal, code=request.status)
    return _withdraw(request, by=by, reason=reason)


def opening_withdraw_refusal(request: OpeningRequest) -> str | None:
    """Why the request can no longer be withdrawn (answered or withdrawn already), or None."""
    if request.status == OpeningRequest.Status.PENDING:
        return None
    refusal = f"This request was already {opening_closed(request)}"
    if request.status == OpeningRequest.Status.ACCEPTED:
        refusal += (
            ", so it cannot be withdrawn. To stop inviting students of "
            f"{request.unit}, change the event's audience"
        )
    elif request.status == OpeningRequest.Status.DECLINED:
        refusal += ", so there is nothing to withdraw"
    return f"{refusal}."


def _withdraw(request: OpeningRequest, *, by: User | None, reason: str) -> OpeningRequest:
    """Close a pending request, locked by the caller; the operators asked are emailed."""
    request.status = OpeningRequest.Status.WITHDRAWN
    request.withdrawn_by = by
    request.withdrawn_at = timezone.now()
    request.withdrawn_reason = reason.strip()
    request.save()
    audit.log(
        request.event,
        "events.opening.withdrawn",
        by=by,
        data={
            "request": request.pk,
            "unit": request.unit.name,
            "comment": request.withdrawn_reason,
        },
    )
    log_event(logger, "events.opening.withdrawn", request=request.pk, event_id=request.event_id)
    pk = request.pk
    transaction.on_commit(lambda: tasks.send_opening_withdrawn_emails.enqueue(pk))
    return request


# Private feeds -------------------------------------------------------------------------


@transaction.atomic
def feed_token_reset(*, user: User, by: User | None) -> str:
    """Give the person a new private feed address; the old one stops working at once."""
    user.feed_token = new_feed_token()
    user.save(update_fields=["feed_token"])
    audit.log(user, "events.feed_token.reset", by=by)
    return user.feed_token


# Merging organisations (see organisations.merging) --------------------------------


def _merge_event_links(*, survivor: Organisation, other: Organisation, outcome) -> None:
    """Events the other record took part in now name the survivor (once, if they named both)."""
    moved = merging.move_many_to_many(
        Event.organisations.through.objects.filter(organisation=other),
        owner="event",
        side="organisation",
        keep=survivor,
        fold=other,
        kind="events.event_link",
        outcome=outcome,
    )
    outcome.moved("event", "events", moved)


MERGE_HANDLER = merging.MergeHandler(
    name="events",
    relations=("events.Event.organisations",),
    organisation=_merge_event_links,
    preview=lambda other: {"events": other.events.count()},
    nouns=(("event", "events"),),
)
