"""Hooks through which higher apps (bookings) add to what the events app does.

The events app never imports bookings; bookings registers its contributions in its
`AppConfig.ready()`.
"""

from collections.abc import Callable, Iterable

# callable(user) -> events to add to that person's private iCalendar feed
PersonalFeedSource = Callable[..., Iterable]
# callable(event) -> email addresses to tell when the event is cancelled
CancellationRecipients = Callable[..., Iterable[str]]

_personal_sources: dict[str, PersonalFeedSource] = {}
_cancellation_recipients: dict[str, CancellationRecipients] = {}


def register_personal_feed_source(source: PersonalFeedSource, *, name: str = "") -> None:
    """Add events to each person's private feed (the bookings app adds their bookings)."""
    _personal_sources[name or f"{source.__module__}.{source.__qualname__}"] = source


def unregister_personal_feed_source(source: PersonalFeedSource, *, name: str = "") -> None:
    _personal_sources.pop(name or f"{source.__module__}.{source.__qualname__}", None)


def personal_feed_sources() -> list[PersonalFeedSource]:
    return list(_personal_sources.values())


def register_cancellation_recipients(source: CancellationRecipients, *, name: str = "") -> None:
    """Add people to tell when an event is cancelled (the bookings app adds those booked)."""
    _cancellation_recipients[name or f"{source.__module__}.{source.__qualname__}"] = source


def unregister_cancellation_recipients(source: CancellationRecipients, *, name: str = "") -> None:
    _cancellation_recipients.pop(name or f"{source.__module__}.{source.__qualname__}", None)


def cancellation_recipients(event) -> list[str]:
    """Every address the registered sources give for `event`, each once, in order."""
    seen: dict[str, str] = {}
    for source in _cancellation_recipients.values():
        for address in source(event) or ():
            address = (address or "").strip()
            if address and address.lower() not in seen:
                seen[address.lower()] = address
    return list(seen.values())
