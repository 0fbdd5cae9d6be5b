"""iCalendar feeds (RFC 5545) that Outlook, Google and Apple calendars subscribe to.

One VCALENDAR with METHOD:PUBLISH; each event keeps its UID for ever and raises its
SEQUENCE when it changes; times are written in Europe/London with a VTIMEZONE, so
10:00 stays 10:00 on both sides of a clock change. The output depends only on the
events (DTSTAMP is the event's last change, not the time of the request), so the
same events give the same bytes and the ETag lets calendars skip unchanged feeds.
"""

import datetime
import hashlib
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.text import slugify
from icalendar import Calendar
from icalendar import Event as ICalEvent
from icalendar.enums import STATUS

from mycareer.events.models import Event

PRODID = "-//MyCareer//Events calendar//EN"
REFRESH = datetime.timedelta(hours=1)
# Raise when the feed's output changes for the same events (see feed_fingerprint).
FORMAT = 1


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC).replace(microsecond=0)


def _description(event: Event, link: str) -> str:
    parts = []
    if event.is_cancelled:
        parts.append(f"Cancelled: {event.cancelled_reason}")
    if event.description:
        parts.append(event.description)
    organisations = [o.name for o in event.organisations.all()]
    if organisations:
        parts.append(f"With {', '.join(organisations)}.")
    if event.join_url:
        parts.append(f"Online: {event.join_url}")
    parts.append(f"Organised by {event.unit}.")
    parts.append(f"Details: {link}")
    return "\n\n".join(parts)


def ical_event(event: Event, *, public: bool = False) -> ICalEvent:
    """One VEVENT; expects `organisations` and `topics` prefetched.

    `public` links to the event's public page rather than the signed-in one.
    """
    zone = _zone()
    path = event.get_public_url() if public else event.get_absolute_url()
    link = f"{settings.SITE_URL}{path}"
    component = ICalEvent.new(
        uid=event.ical_uid,
        summary=f"Cancelled: {event.title}" if event.is_cancelled else event.title,
        start=event.starts_at.astimezone(zone),
        end=event.ends_at.astimezone(zone),
        stamp=_utc(event.updated_at),
        created=_utc(event.created_at),
        last_modified=_utc(event.updated_at),
        sequence=event.sequence,
        status=STATUS.CANCELLED if event.is_cancelled else STATUS.CONFIRMED,
        location=event.venue or ("Online" if event.online_url else ""),
        description=_description(event, link),
        url=link,
        categories=[event.get_type_display(), *(t.name for t in event.topics.all())],
    )
    return component


def build_calendar(
    events: Iterable[Event], *, name: str, feed_id: str, public: bool = False
) -> bytes:
    """The feed as bytes: one VCALENDAR holding a VTIMEZONE and the events."""
    events = list(events)
    calendar = Calendar.new(
        prodid=PRODID,
        method="PUBLISH",
        name=name,
        # A fixed UID per feed; icalendar would otherwise make a new one each time.
        uid=f"{feed_id}@mycareer",
        refresh_interval=REFRESH,
    )
    calendar.add("X-WR-TIMEZONE", settings.TIME_ZONE)
    calendar.add("X-PUBLISHED-TTL", "PT1H")
    for event in events:
        calendar.add_component(ical_event(event, public=public))
    if events:
        zone = _zone()
        first = min(e.starts_at.astimezone(zone).date() for e in events)
        last = max(e.ends_at.astimezone(zone).date() for e in events)
        # Transitions only for the years the events span, so the bytes stay stable.
        calendar.add_missing_timezones(
            first_date=datetime.date(first.year, 1, 1),
            last_date=datetime.date(last.year + 1, 1, 1),
        )
    return calendar.to_ical()


# What a feed shows of each event, in the order `feed_rows` and `_row` give it.
ROW_FIELDS = (
    "pk", "uid", "title", "status", "type", "starts_at", "ends_at", "created_at",
    "updated_at", "sequence", "venue", "online_url", "description", "cancelled_reason",
    "unit__name",
)  # fmt: skip
UPDATED_AT = ROW_FIELDS.index("updated_at")


def _row(event: Event) -> tuple:
    """One loaded event as the values its VEVENT is built from (see `feed_rows`)."""
    return (
        *(getattr(event, name) for name in ROW_FIELDS[:-1]),
        event.unit.name,
        sorted(o.name for o in event.organisations.all()),
        sorted(t.name for t in event.topics.all()),
    )


def feed_rows(events: QuerySet[Event]) -> list[tuple]:
    """The same values as `_row`, read as plain values in three queries.

    Loading 1,000 events with their organisations and topics as model instances took
    about 0.3 s, mostly Django building prefetch managers; plain values take a tenth of
    that, which is all an unchanged feed needs.
    """
    events = events.prefetch_related(None)
    rows = list(events.values_list(*ROW_FIELDS))
    ids = [row[0] for row in rows]
    organisations: dict[int, list[str]] = defaultdict(list)
    for event_id, name in Event.organisations.through.objects.filter(event_id__in=ids).values_list(
        "event_id", "organisation__name"
    ):
        organisations[event_id].append(name)
    topics: dict[int, list[str]] = defaultdict(list)
    for event_id, name in Event.topics.through.objects.filter(event_id__in=ids).values_list(
        "event_id", "topic__name"
    ):
        topics[event_id].append(name)
    return [(*row, sorted(organisations[row[0]]), sorted(topics[row[0]])) for row in rows]


def feed_fingerprint(rows: list[tuple], *, name: str, feed_id: str) -> str:
    """A hash of everything the feed's bytes depend on, read without building them.

    Building a feed of 1,000 events takes over a second (icalendar works property by
    property); reading the values takes milliseconds. So an unchanged feed gets its
    304, or its cached bytes, without being built. Keep ROW_FIELDS in step with
    `ical_event` and `_description`: every value they read is there (the type's label
    and the URLs come from the code, whose changes FORMAT stands for).
    """
    digest = hashlib.sha256()
    digest.update(
        repr(
            (
                FORMAT,
                icalendar.__version__,
                settings.SITE_URL,
                settings.TIME_ZONE,
                reverse("events:detail", args=[0]),
                name,
                feed_id,
            )
        ).encode()
    )
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def calendar_response(
    request,
    events: QuerySet[Event] | Iterable[Event],
    *,
    name: str,
    feed_id: str,
    filename: str = "",
    public: bool = False,
) -> HttpResponse:
    """The feed with an ETag; a matching If-None-Match gets 304 Not Modified.

    The ETag is the fingerprint of the feed's inputs, so the 304 needs no building,
    and the bytes of a feed are cached by it: the same inputs give the same bytes.
    Given a queryset, the events themselves are loaded only when the bytes are built.
    """
    if isinstance(events, QuerySet):
        rows = feed_rows(events)
    else:
        events = list(events)
        rows = [_row(event) for event in events]
    # A public copy links elsewhere: its bytes (and so its fingerprint) differ.
    feed_key = f"{feed_id}:public" if public else feed_id
    fingerprint = feed_fingerprint(rows, name=name, feed_id=feed_key)
    response = HttpResponse(content_type="text/calendar; charset=utf-8")
    response["ETag"] = f'"{fingerprint[:40]}"'
    if rows:
        latest = max(row[UPDATED_AT] for row in rows)
        response["Last-Modified"] = http_date(latest.timestamp())
    # Private feeds carry a person's events; every fetch revalidates with the ETag.
    response["Cache-Control"] = "private, no-cache"
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Only the ETag decides 304: an event leaving the feed (audience changed, cancelled
    # long ago) changes the content without making anything newer than Last-Modified.
    conditional = get_conditional_response(request, etag=response["ETag"], response=response)
    if conditional is not None and conditional is not response:
        return conditional
    key = f"events:feed:{fingerprint}"
    body = cache.get(key)
    if body is None:
        body = build_calendar(events, name=name, feed_id=feed_id, public=public)
        cache.set(key, body, timeout=int(REFRESH.total_seconds()))
    response.content = body
    return response


def feed_links(user) -> dict[str, str]:
    """Subscription addresses for a person (their token makes them private)."""
    base = settings.SITE_URL
    return {
        "personal": f"{base}{reverse('events:personal_feed', args=[user.feed_token])}",
        "all": f"{base}{reverse('events:feed')}?token={user.feed_token}",
    }


def event_file_response(request, event: Event, *, public: bool = False) -> HttpResponse:
    """'Add to calendar': one event as an .ics file."""
    return calendar_response(
        request,
        [event],
        name=event.title,
        feed_id=f"event-{event.uid}",
        filename=f"{slugify(event.title)[:60] or 'event'}.ics",
        public=public,
    )
