"""The public events feed for the university's website: JSON, RSS, Atom and iCalendar.

Only events that already have a public page (see views_public.py) appear, and only
what that page shows anybody, less the organiser's name and email address: the feed is
copied into other sites and caches beyond the university's reach, and the public page,
one link away, says whom to contact. See docs/api.md for the JSON shape.
"""

from django.urls import reverse

from mycareer.accounts.models import Unit
from mycareer.core import public_feeds as feeds
from mycareer.events import selectors
from mycareer.events.feeds import build_calendar
from mycareer.events.models import Event
from mycareer.events.units import UnitTree

AUDIENCES = {"public": "open_to_public", "employers": "open_to_employers"}

FORMATS = ("json", "rss", "atom", "ics")
FILTERS = (
    feeds.choice(
        "audience",
        dict(zip(AUDIENCES, AUDIENCES, strict=True)),
        "public (anybody may attend) or employers (employers take part or attend)",
    ),
    feeds.choice("type", {kind.value: kind.value for kind in Event.Type}),
    feeds.code_of(
        "unit",
        lambda code: Unit.objects.filter(code=code).first(),
        "a unit's code, e.g. eps: its events and those of the units below it",
    ),
    feeds.LIMIT,
)


def items(filters: feeds.Filters) -> list[Event]:
    """The events the filters ask for, soonest first."""
    events = selectors.public_events()
    if audience := filters.get("audience"):
        events = events.filter(**{f"audience__{AUDIENCES[audience]}": True})
    if kind := filters.get("type"):
        events = events.filter(type=kind)
    if unit := filters.get("unit"):
        events = events.filter(unit_id__in=UnitTree.load().descendants(unit.pk))
    return list(events[: filters.get("limit")])


def item_json(event: Event) -> dict:
    """One event in the JSON feed (the shape documented in docs/api.md)."""
    return {
        "id": str(event.uid),
        "title": event.title,
        "type": {"code": event.type, "label": event.get_type_display()},
        "starts_at": event.local_start.isoformat(),
        "ends_at": event.local_end.isoformat(),
        "venue": event.venue,
        "online": bool(event.online_url),
        "online_url": event.online_url,
        "description": event.description,
        "unit": {"code": event.unit.code, "name": event.unit.name},
        "audience": {
            "public": event.audience.open_to_public,
            "employers": event.audience.open_to_employers,
        },
        "organisations": sorted(o.name for o in event.organisations.all()),
        "topics": sorted(t.name for t in event.topics.all()),
        "url": feeds.absolute(event.get_public_url()),
        "ics_url": feeds.absolute(reverse("events:public_ics", args=[event.uid])),
        "updated_at": event.updated_at.isoformat(),
    }


def _when(event: Event) -> str:
    start, end = event.local_start, event.local_end
    if start.date() == end.date():
        return f"{start:%A} {start.day} {start:%B %Y, %H:%M}–{end:%H:%M}"
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M} to {end:%A} {end.day} {end:%B %Y, %H:%M}"


class EventsFeed(feeds.PublicFeed):
    """The RSS and Atom forms: each entry says when, where and who, in plain text."""

    def item_title(self, event: Event) -> str:
        return event.title

    def item_paragraphs(self, event: Event) -> list[str]:
        parts = [
            f"When: {_when(event)}",
            f"Where: {event.venue or 'Online'}",
            f"Organised by {event.unit.name}",
        ]
        organisations = sorted(o.name for o in event.organisations.all())
        if organisations:
            parts.append(f"With {', '.join(organisations)}")
        if event.description:
            parts.append(event.description)
        return parts

    def item_link(self, event: Event) -> str:
        return feeds.absolute(event.get_public_url())

    def item_guid(self, event: Event) -> str:
        return f"urn:uuid:{event.uid}"

    item_guid_is_permalink = False

    def item_pubdate(self, event: Event):
        return event.published_at or event.created_at

    def item_updateddate(self, event: Event):
        return event.updated_at

    def item_categories(self, event: Event) -> list[str]:
        return [event.get_type_display(), *sorted(t.name for t in event.topics.all())]


def _ics(listing: feeds.Listing) -> tuple[bytes, str]:
    body = build_calendar(
        listing.items, name="University events", feed_id="public-events", public=True
    )
    return body, "text/calendar; charset=utf-8"


SPEC = feeds.FeedSpec(
    kind="events",
    title="Upcoming events at the university",
    description=(
        "Employability events that employers take part in or anybody may attend: "
        "careers fairs, presentations, workshops."
    ),
    home="events:month",
    formats=FORMATS,
    filters=FILTERS,
    items=items,
    item_json=item_json,
    syndication=EventsFeed,
    leaves_at=lambda event: event.ends_at,
    more_formats={"ics": _ics},
    changed_at=lambda event: (event.updated_at, *(o.updated_at for o in event.organisations.all())),
)
