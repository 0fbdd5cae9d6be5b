"""Hooks through which higher apps (bookings) add to what the events app does.

The events app never imports bookings; bookings registers its contributions in its
`AppConfig.ready()`.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from mycareer.accounts.models import User

# callable(user) -> events to add to that person's private iCalendar feed
PersonalFeedSource = Callable[..., Iterable]

_personal_sources: dict[str, PersonalFeedSource] = {}


def register_personal_feed_source(source: PersonalFeedSource, *, name: str = "") -> None:
    """Add events to each person's private feed (the bookings app adds their bookings)."""
    _personal_sources[name or f"{source.__module__}.{source.__qualname__}"] = source


def unregister_personal_feed_source(source: PersonalFeedSource, *, name: str = "") -> None:
    _personal_sources.pop(name or f"{source.__module__}.{source.__qualname__}", None)


def personal_feed_sources() -> list[PersonalFeedSource]:
    return list(_personal_sources.values())


# A person's own places at events --------------------------------------------------------

# callable(user) -> Q over Event: the events at which this person holds, held or lost a
# place of their own (a booking or a place on the waiting list, whatever its status now)
PlacesSource = Callable[..., Q]

_places_sources: dict[str, PlacesSource] = {}


def register_places_source(source: PlacesSource, *, name: str) -> None:
    """Say which events a person has had a place at, so each event's page opens for them.

    Every email about a place links to its event, and the person may be outside the
    audience (staff booked them in, or the audience changed since).
    """
    _places_sources[name] = source


def unregister_places_source(*, name: str) -> None:
    _places_sources.pop(name, None)


def places_of(user) -> Q | None:
    """Events this person has had a place at, as one condition (None: no source knows)."""
    conditions = [source(user) for source in _places_sources.values()]
    if not conditions:
        return None
    found = conditions[0]
    for condition in conditions[1:]:
        found |= condition
    return found


# Cancelling an event ---------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationHandler:
    """What another app holds for an event, and how cancelling the event ends it.

    `describe(event)` gives the figures the organiser confirms before cancelling, as
    (number of people, phrase) pairs: (12, "12 people have a place"). `end(event, by,
    now)` runs inside the cancelling transaction, with the event locked: it ends what
    the event held (places, waiting lists) and returns, for each person to tell, the
    person (a User) and what ended for them ("your place").
    """

    describe: Callable[..., list[tuple[int, str]]]
    end: Callable[..., list[tuple["User", str]]]


_cancellation_handlers: dict[str, CancellationHandler] = {}


def register_cancellation_handler(handler: CancellationHandler, *, name: str) -> None:
    _cancellation_handlers[name] = handler


def unregister_cancellation_handler(*, name: str) -> None:
    _cancellation_handlers.pop(name, None)


def cancellation_figures(event) -> list[tuple[int, str]]:
    """What cancelling `event` would end, for the confirmation page."""
    return [
        figure
        for handler in _cancellation_handlers.values()
        for figure in handler.describe(event)
        if figure[0]
    ]


def cancellation_end(event, *, by, now) -> list[tuple["User", str]]:
    """End what every app held for `event`; each person once, with all that ended for them."""
    return _each_once(
        pair
        for handler in _cancellation_handlers.values()
        for pair in handler.end(event, by=by, now=now) or ()
    )


def _each_once(pairs: Iterable[tuple["User", str]]) -> list[tuple["User", str]]:
    """(person, detail) pairs with each person once, their details joined with "and"."""
    people: dict[int, tuple[User, list[str]]] = {}
    for person, detail in pairs:
        _, details = people.setdefault(person.pk, (person, []))
        if detail and detail not in details:
            details.append(detail)
    return [(person, " and ".join(details)) for person, details in people.values()]


# Who holds something at an event ---------------------------------------------------------

# callable(event) -> [(person, what they hold: "a place", "a place on the waiting list")]
PeopleSource = Callable[..., Iterable[tuple["User", str]]]

_people_sources: dict[str, PeopleSource] = {}

# What a person with a place holds: only they have the event in their calendar (from their
# confirmation), so only they are sent a file that updates it. Someone waiting, or offered a
# place, has no calendar entry: a file would add the event as if they had a place.
PLACE = "a place"


def register_people_source(source: PeopleSource, *, name: str) -> None:
    """Say who holds something at an event now: they are told when its time or place changes."""
    _people_sources[name] = source


def unregister_people_source(*, name: str) -> None:
    _people_sources.pop(name, None)


def people_at(event) -> list[tuple["User", str]]:
    """Who holds something at `event` now, each person once, with all that they hold."""
    return _each_once(pair for source in _people_sources.values() for pair in source(event))


@dataclass(frozen=True)
class CancellationReach:
    """Whom cancelling an event emails, and how many places end without an email."""

    emailed: int
    places_unemailed: int


def cancellation_reach(event) -> CancellationReach:
    """Whom cancelling `event` would email: each person holding something there once, but
    nobody who can no longer sign in (`event_cancel` skips them); their places end unsaid.

    The figures count places; the confirmation must promise only the emails that go.
    """
    holders = [person for source in _people_sources.values() for person, _ in source(event)]
    return CancellationReach(
        emailed=len({person.pk for person in holders if person.is_active}),
        places_unemailed=sum(1 for person in holders if not person.is_active),
    )


# A person's own calendar file of an event -------------------------------------------------

# callable(event, person) -> the SEQUENCE the person's calendar needs for the event (above
# any file another app emailed them about it), or None when that app sent them none
SequenceSource = Callable[..., int | None]

_sequence_sources: dict[str, SequenceSource] = {}


def register_sequence_source(source: SequenceSource, *, name: str) -> None:
    """Say what SEQUENCE a person's "Add to your calendar" file needs: the bookings app
    emails calendar files of its own (a place's confirmation, its cancellation)."""
    _sequence_sources[name] = source


def unregister_sequence_source(*, name: str) -> None:
    _sequence_sources.pop(name, None)


def sequence_for(event, person) -> int:
    """The SEQUENCE of the calendar file `person` downloads for `event`."""
    found = (source(event, person) for source in _sequence_sources.values())
    return max([event.sequence, *(n for n in found if n is not None)])


# Moving an event ----------------------------------------------------------------------------

# callable(event) -> (moment, why) or None: the event must start after `moment`, for what
# another app holds for it (booking closes when the event starts, so it must open first)
StartBound = Callable[..., "tuple[datetime.datetime, str] | None"]

_start_bounds: dict[str, StartBound] = {}


def register_start_bound(source: StartBound, *, name: str) -> None:
    """Say after when an event must start: bookings, after its booking opens."""
    _start_bounds[name] = source


def unregister_start_bound(*, name: str) -> None:
    _start_bounds.pop(name, None)


def start_bounds(event) -> list[tuple[datetime.datetime, str]]:
    """Each moment the event must start after, with why (one query for each app's)."""
    return [bound for source in _start_bounds.values() if (bound := source(event))]


# callable(event), its result ignored: follow the event's new times, inside the transaction
# that moved it (the event is locked); bookings ends the offers open past its new start.
MoveHandler = Callable[..., object]

_move_handlers: dict[str, MoveHandler] = {}


def register_move_handler(handler: MoveHandler, *, name: str) -> None:
    """Say what another app changes when an event's times change."""
    _move_handlers[name] = handler


def unregister_move_handler(*, name: str) -> None:
    _move_handlers.pop(name, None)


def event_moved(event) -> None:
    """Let every app follow the event's new times (saved, not yet committed)."""
    for handler in _move_handlers.values():
        handler(event)


def time_errors(event) -> dict[str, str]:
    """Why the event's new times (set, not yet saved) cannot be, by field."""
    for moment, why in start_bounds(event):
        if event.starts_at <= moment:
            return {"starts_at": why}
    return {}


# The event form ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFormPart:
    """A fieldset another app adds to the event form (bookings: places and waiting list).

    `form(data, *, event, user)` builds its form (with a prefix of its own; `event` is
    None when creating). `save(form, *, event, by)` runs in the transaction that creates
    or changes the event, after it, and returns a sentence for the success message, ""
    when it has none, or None when it changed nothing. A ValidationError it raises undoes
    the whole change. `template` renders the
    fieldset, with the part's form as `form`.
    """

    form: Callable[..., object]
    save: Callable[..., str | None]
    template: str
    order: int = 100


_form_parts: dict[str, EventFormPart] = {}


def register_event_form_part(part: EventFormPart, *, name: str) -> None:
    _form_parts[name] = part


def event_form_parts() -> list[EventFormPart]:
    return sorted(_form_parts.values(), key=lambda p: p.order)
