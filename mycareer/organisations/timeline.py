"""One activity timeline per organisation, to which every app contributes entries.

Each source is a function (organisation, viewer, limit) -> list[TimelineEntry], newest
first; apps register theirs in `AppConfig.ready()` so this app never imports them.
"""

import datetime
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime.datetime
    kind: str  # a short word shown as the entry's type: "Note", "Event", "Email"…
    title: str
    text: str = ""
    url: str = ""
    actor: str = ""
    details: list[str] = field(default_factory=list)
    anchor: str = ""


TimelineSource = Callable[..., list[TimelineEntry]]

_sources: dict[str, tuple[TimelineSource, bool]] = {}


def register_timeline_source(name: str, source: TimelineSource, *, staff_only: bool = True) -> None:
    """Add a source of entries; staff_only sources are never shown to employers or students."""
    _sources[name] = (source, staff_only)


def as_datetime(day: datetime.date) -> datetime.datetime:
    """A date as noon local time, so dated entries sort among timed ones."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# The furthest page the timeline shows (25 entries a page): years of engagement.
MAX_TIMELINE_PAGE = 400


def organisation_timeline(organisation, *, viewer, staff: bool, page: int = 1, per_page: int = 25):
    """Entries for one page of the timeline, newest first, and whether more follow."""
    wanted = page * per_page + 1
    streams = [
        source(organisation, viewer=viewer, limit=wanted)
        for source, staff_only in _sources.values()
        if staff or not staff_only
    ]
    merged = list(heapq.merge(*streams, key=lambda e: e.when, reverse=True))
    start = (page - 1) * per_page
    return merged[start : start + per_page], len(merged) > start + per_page


@dataclass(frozen=True)
class ProfileAction:
    """A link another app adds to an organisation's profile (e.g. "Post a vacancy")."""

    label: str
    url: Callable[..., str]  # organisation -> address
    allowed: Callable[..., bool]  # user -> bool


_profile_actions: dict[str, ProfileAction] = {}


def register_profile_action(name: str, action: ProfileAction) -> None:
    _profile_actions[name] = action


def profile_actions(organisation, user) -> list[dict]:
    return [
        {"label": a.label, "url": a.url(organisation)}
        for a in _profile_actions.values()
        if a.allowed(user)
    ]
