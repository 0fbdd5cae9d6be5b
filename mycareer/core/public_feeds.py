"""Public feeds for the university's website: shared machinery for every app's feeds.

A feed is read with no account and no token, so it shows only what a public page
already shows anybody. Each app says what goes in its feed and which filters it takes
(see events/public_feeds.py, vacancies/public_feeds.py); this module reads the query
string (an unknown or bad filter is refused with 400 and a JSON reason), keeps built
feeds in the shared cache, answers `If-None-Match` with 304, and forgets a kind of
feed as soon as a record it shows changes (`watch`).

The cache key carries a generation per kind of feed. A change to a watched model
replaces the generation once the change is committed, so the next request builds the
feed afresh; until then every process serves the same bytes with the same ETag. A built
feed is also kept no longer than MAX_AGE, nor past the moment its first item leaves it
(an event ends, a vacancy's closing date passes), since time alone changes a feed too.
"""

import datetime
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.html import linebreaks
from django.utils.http import http_date, urlencode
from django.views.decorators.http import require_safe

from mycareer.core.forms import bounded_int
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)

# The JSON shape's version: raised only when a field is removed or changes meaning
# (adding a field is not a change a reader can trip on). See docs/api.md.
VERSION = 1
# How long a browser, a proxy or the cache may keep a feed.
MAX_AGE = 300
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# No filter value MyCareer takes is longer; a longer one is refused before any lookup.
MAX_VALUE_LENGTH = 100
_CODE = re.compile(r"^[a-z0-9_-]{1,40}$")
# An empty feed's date: a fixed one, so its bytes (and ETag) do not change with the clock.
_EMPTY_FEED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class FeedRefused(Exception):
    """A query string the feed does not take: answered with 400 and this reason."""

    def __init__(self, code: str, message: str, *, parameter: str = ""):
        super().__init__(message)
        self.code, self.message, self.parameter = code, message, parameter


@dataclass(frozen=True)
class Filter:
    """One filter a feed takes: its name, what it accepts (said in refusals), a reader."""

    name: str
    accepts: str
    read: Callable[[str], object]


def choice(name: str, choices: dict[str, object], accepts: str = "") -> Filter:
    """A filter whose value is one of `choices` (a code, mapped to what the feed uses)."""

    def read(value: str):
        if value not in choices:
            raise FeedRefused(
                "bad_filter_value",
                f"'{name}' must be one of: {', '.join(choices)}.",
                parameter=name,
            )
        return choices[value]

    return Filter(name, accepts or f"one of: {', '.join(choices)}", read)


def code_of(name: str, lookup: Callable[[str], object | None], accepts: str) -> Filter:
    """A filter naming a record by its code (a unit's, say); an unknown code is refused."""

    def read(value: str):
        found = lookup(value) if _CODE.match(value) else None
        if found is None:
            raise FeedRefused(
                "bad_filter_value", f"There is no {name} with the code given.", parameter=name
            )
        return found

    return Filter(name, accepts, read)


def _read_limit(value: str) -> int:
    number = bounded_int(value, default=None, low=1, high=MAX_LIMIT)
    if number is None:
        raise FeedRefused(
            "bad_filter_value",
            f"'limit' must be a whole number from 1 to {MAX_LIMIT}.",
            parameter="limit",
        )
    return number


LIMIT = Filter(
    "limit", f"a whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})", _read_limit
)


@dataclass(frozen=True)
class Filters:
    """The filters a request gave, read, and the same as a tidy query string."""

    values: dict[str, object]
    query: str

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def variant(self, format: str) -> str:
        """Names the built bytes: the same format and filters give the same feed."""
        return f"{format}?{self.query}"


def read_filters(request, filters: Iterable[Filter]) -> Filters:
    """The query string's filters, read; FeedRefused for anything the feed does not take.

    Every name must be a filter of the feed and appear once: a misspelt filter that was
    ignored would quietly give the website every item instead of the few it asked for.
    """
    known = {f.name: f for f in filters}
    values: dict[str, object] = {}
    given: list[tuple[str, str]] = []
    for name in request.GET:
        if name not in known:
            raise FeedRefused(
                "unknown_filter",
                f"This feed has no filter called '{name[:MAX_VALUE_LENGTH]}'. "
                f"Its filters are: {', '.join(known)}.",
                parameter=name,
            )
        raw = request.GET.getlist(name)
        if len(raw) > 1:
            raise FeedRefused(
                "repeated_filter", f"Give '{name}' once, with one value.", parameter=name
            )
        value = raw[0].strip()
        if not value or len(value) > MAX_VALUE_LENGTH:
            raise FeedRefused(
                "bad_filter_value",
                f"'{name}' needs a value ({known[name].accepts}).",
                parameter=name,
            )
        values[name] = known[name].read(value)
        given.append((name, value))
    values.setdefault("limit", DEFAULT_LIMIT)
    return Filters(values=values, query=urlencode(sorted(given)))


def refusal(kind: str, refused: FeedRefused, filters: Iterable[Filter]) -> JsonResponse:
    """400 with the reason and the filters the feed takes, in the same shape for every feed."""
    log_event(
        logger,
        "feeds.refused",
        feed=kind,
        reason=refused.code,
        parameter=refused.parameter[:40],
    )
    return JsonResponse(
        {
            "version": VERSION,
            "error": {
                "code": refused.code,
                "message": refused.message,
                "filters": {f.name: f.accepts for f in filters},
            },
        },
        status=400,
        headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"},
    )


# The cache -------------------------------------------------------------------------


def _generation_key(kind: str) -> str:
    return f"public-feed:{kind}:generation"


def generation(kind: str) -> str:
    """The current generation of a kind of feed (made when the cache has none)."""
    return str(cache.get_or_set(_generation_key(kind), lambda: uuid.uuid4().hex, timeout=None))


def feeds_changed(kind: str) -> None:
    """Forget every built feed of this kind, once the change being made is committed.

    After the commit, not before: a feed rebuilt between the two would read the old
    rows and keep them under the new generation.
    """
    transaction.on_commit(lambda: cache.set(_generation_key(kind), uuid.uuid4().hex, None))


def watch(kind: str, *models, m2m: Iterable = ()) -> None:
    """Forget the kind's feeds whenever one of these models (or m2m links) changes."""

    def changed(sender, **kwargs) -> None:
        feeds_changed(kind)

    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(changed, sender=model, weak=False, dispatch_uid=f"feeds-{kind}-{model}")
    for through in m2m:
        m2m_changed.connect(
            changed, sender=through, weak=False, dispatch_uid=f"feeds-{kind}-{through}"
        )


@dataclass(frozen=True)
class Built:
    """A feed's bytes and what its headers say about them."""

    body: bytes
    content_type: str
    # The latest change to the items it lists (their `updated_at`); None when empty.
    last_modified: datetime.datetime | None
    # When time alone changes it (its first item leaves); None if nothing will leave.
    expires_at: datetime.datetime | None


def _cache_key(kind: str, variant: str) -> str:
    digest = hashlib.sha256(variant.encode()).hexdigest()[:32]
    return f"public-feed:{kind}:{generation(kind)}:{digest}"


def feed_response(request, *, kind: str, variant: str, build: Callable[[], Built]) -> HttpResponse:
    """The feed from the shared cache (built when missing), with caching headers.

    `variant` names the format and the filters: the same variant of the same generation
    is the same bytes. A matching If-None-Match gets 304 without the body.
    """
    key = _cache_key(kind, variant)
    entry = cache.get(key)
    now = timezone.now()
    if entry is None or (entry["expires_at"] is not None and entry["expires_at"] <= now):
        built = build()
        entry = {
            "body": built.body,
            "content_type": built.content_type,
            "etag": f'"{hashlib.sha256(built.body).hexdigest()[:40]}"',
            "last_modified": built.last_modified,
            "expires_at": built.expires_at,
        }
        cache.set(key, entry, timeout=_seconds_left(entry["expires_at"], now))
    response = HttpResponse(entry["body"], content_type=entry["content_type"])
    response["ETag"] = entry["etag"]
    if entry["last_modified"] is not None:
        response["Last-Modified"] = http_date(entry["last_modified"].timestamp())
    response["Cache-Control"] = f"public, max-age={_seconds_left(entry['expires_at'], now)}"
    # Only the ETag decides 304: an item leaving the feed makes nothing newer.
    answer = get_conditional_response(request, etag=entry["etag"], response=response) or response
    # The website's pages fetch the feeds from another origin; no credentials go with them.
    answer["Access-Control-Allow-Origin"] = "*"
    return answer


def _seconds_left(expires_at: datetime.datetime | None, now: datetime.datetime) -> int:
    if expires_at is None:
        return MAX_AGE
    return max(1, min(MAX_AGE, int((expires_at - now).total_seconds())))


def latest(dates: Iterable[datetime.datetime | None]) -> datetime.datetime | None:
    present = [d for d in dates if d is not None]
    return max(present) if present else None


# RSS and Atom ----------------------------------------------------------------------


class _SteadyDates:
    """An empty feed's date is fixed rather than now(), so its bytes do not change."""

    def latest_post_date(self):
        if not self.items:
            return _EMPTY_FEED_DATE
        return super().latest_post_date()


class SteadyRss(_SteadyDates, Rss201rev2Feed):
    pass


class SteadyAtom(_SteadyDates, Atom1Feed):
    pass


# format -> (feed generator, content type)
SYNDICATION: dict[str, tuple[type[SyndicationFeed], str]] = {
    "rss": (SteadyRss, "application/rss+xml; charset=utf-8"),
    "atom": (SteadyAtom, "application/atom+xml; charset=utf-8"),
}


@dataclass(frozen=True)
class Listing:
    """What a feed lists and how it names itself: the `obj` of a PublicFeed."""

    title: str
    description: str
    home: str  # the page the feed is about (absolute)
    links: dict[str, str]  # the feed itself in each format, with its filters (absolute)
    items: list


class PublicFeed(Feed):
    """An RSS or Atom feed of a Listing; subclasses say what each item shows.

    The language is fixed: the bytes are cached and shared, whatever language the
    first reader's browser asked for.
    """

    language = "en-gb"

    def __init__(self, format: str):
        super().__init__()
        self.format = format
        self.feed_type, self.content_type = SYNDICATION[format]

    def title(self, obj: Listing) -> str:
        return obj.title

    def description(self, obj: Listing) -> str:
        return obj.description

    def subtitle(self, obj: Listing) -> str:
        return obj.description

    def link(self, obj: Listing) -> str:
        return obj.home

    def feed_url(self, obj: Listing) -> str:
        return obj.links[self.format]

    def feed_guid(self, obj: Listing) -> str:
        return obj.links[self.format]

    def items(self, obj: Listing) -> list:
        return obj.items

    def item_description(self, item) -> str:
        """The item's paragraphs as HTML, every character of them escaped.

        RSS readers and Atom's type="html" read the description as HTML: a title such
        as "<script>" must reach them as text, not as markup.
        """
        return linebreaks("\n\n".join(self.item_paragraphs(item)), autoescape=True)

    def item_paragraphs(self, item) -> list[str]:
        raise NotImplementedError

    def body(self, obj: Listing, request) -> tuple[bytes, str]:
        """The feed's bytes for `obj`, and their content type."""
        generator = self.get_feed(obj, request)
        return generator.writeString("utf-8").encode(), self.content_type


def absolute(path: str) -> str:
    """An address on MyCareer's own site: the same bytes whatever Host a request named."""
    return f"{settings.SITE_URL}{path}"


def feed_links(kind: str, formats: Iterable[str], filters: Filters) -> dict[str, str]:
    """The feed of `kind` in each format, with these filters, as absolute addresses."""
    query = f"?{filters.query}" if filters.query else ""
    return {format: absolute(f"{reverse(f'feeds:{kind}_{format}')}{query}") for format in formats}


# Serving a feed ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSpec:
    """What one app's public feed is: its filters, its items and how each is shown."""

    kind: str  # "events", "vacancies": names the feed in URLs, JSON, the cache and logs
    title: str
    description: str
    home: str  # the name of the page the feed is about
    formats: tuple[str, ...]  # each is a route feeds:<kind>_<format>
    filters: tuple[Filter, ...]
    items: Callable[[Filters], list]  # what the filters ask for, in the feed's order
    item_json: Callable[[Any], dict]
    syndication: type[PublicFeed]
    leaves_at: Callable[[Any], datetime.datetime]  # when time takes it out of the feed
    # Formats beyond JSON, RSS and Atom: format -> (listing -> (bytes, content type)).
    more_formats: dict[str, Callable[[Listing], tuple[bytes, str]]] = field(default_factory=dict)
    # When each record an item shows last changed: the item and what it names (an
    # organisation renamed changes the feed, so its Last-Modified must move too).
    changed_at: Callable[[Any], Iterable[datetime.datetime | None]] = lambda item: (
        item.updated_at,
    )


def _json_body(spec: FeedSpec, filters: Filters, listing: Listing) -> bytes:
    document = {
        "version": VERSION,
        "feed": spec.kind,
        "title": listing.title,
        "description": listing.description,
        "home_page_url": listing.home,
        "feed_url": listing.links["json"],
        "filters": dict(parse_qsl(filters.query)),
        "links": listing.links,
        "count": len(listing.items),
        "items": [spec.item_json(item) for item in listing.items],
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()


def serve(request, spec: FeedSpec, format: str) -> HttpResponse:
    """A public feed in `format`: refused with 400, or from the cache with its headers."""
    try:
        filters = read_filters(request, spec.filters)
    except FeedRefused as refused:
        return refusal(spec.kind, refused, spec.filters)

    def build() -> Built:
        listing = Listing(
            title=spec.title,
            description=spec.description,
            home=absolute(reverse(spec.home)),
            links=feed_links(spec.kind, spec.formats, filters),
            items=spec.items(filters),
        )
        if format == "json":
            body, content_type = _json_body(spec, filters, listing), "application/json"
        elif format in SYNDICATION:
            body, content_type = spec.syndication(format).body(listing, request)
        else:
            body, content_type = spec.more_formats[format](listing)
        leaving = [spec.leaves_at(item) for item in listing.items]
        return Built(
            body=body,
            content_type=content_type,
            last_modified=latest(when for item in listing.items for when in spec.changed_at(item)),
            expires_at=min(leaving) if leaving else None,
        )

    return feed_response(request, kind=spec.kind, variant=filters.variant(format), build=build)


def url_patterns(spec: FeedSpec) -> list[URLPattern]:
    """The feed's address in each format, `<kind>.<format>`, named `<kind>_<format>`.

    Mounted under /feeds/ in the `feeds` namespace (see mycareer/urls.py).
    """

    @require_safe
    def view(request, format: str) -> HttpResponse:
        return serve(request, spec, format)

    view.__doc__ = f"The public {spec.kind} feed in one format: no account, only public data."
    return [
        path(f"{spec.kind}.{format}", view, {"format": format}, name=f"{spec.kind}_{format}")
        for format in spec.formats
    ]


_REGISTERED: list[FeedSpec] = []


def register_feed(spec: FeedSpec) -> None:
    """List a feed on the page for the website's editors (apps call this when they load)."""
    if spec.kind not in {s.kind for s in _REGISTERED}:
        _REGISTERED.append(spec)


def registered_feeds() -> list[FeedSpec]:
    return list(_REGISTERED)


def public_feed_pages() -> list[dict]:
    """Each registered feed as its page for the website's editors shows it."""
    return [
        {
            "kind": spec.kind,
            "title": spec.title,
            "description": spec.description,
            "links": feed_links(spec.kind, spec.formats, Filters(values={}, query="")),
            "filters": [(f.name, f.accepts) for f in spec.filters],
        }
        for spec in registered_feeds()
    ]
