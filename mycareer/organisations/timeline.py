"""One activity timeline per organisation, to which every app contributes entries.

Each source is a function (organisation, viewer, limit) -> list[TimelineEntry], newest
first; apps register theirs in `AppConfig.ready()` so this app never imports them.
"""

import dataclasses
import datetime
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from mycareer.core.forms import bounded_int
from mycareer.core.text import joined


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
    # Where the viewer may correct the entry (a note they may change); empty if nowhere.
    edit_url: str = ""
    # Entries folded into this one: the same thing, the same day (one email to 40 people).
    alike: tuple["TimelineEntry", ...] = ()


TimelineSource = Callable[..., list[TimelineEntry]]


@dataclass(frozen=True)
class _Source:
    fetch: TimelineSource
    staff_only: bool
    label: str


_sources: dict[str, _Source] = {}
# Fetching stops here however much folding there is; a page is then shorter, not slower.
MAX_FETCH = 4000


def register_timeline_source(
    name: str, source: TimelineSource, *, staff_only: bool = True, label: str = ""
) -> None:
    """Add a source of entries; staff_only sources are never shown to employers or students.

    `name` is also the kind people filter by ("notes", "emails"); `label` is how the
    filter names it (the name, capitalised, unless given).
    """
    _sources[name] = _Source(source, staff_only, label or name.capitalize())


def timeline_kinds(*, staff: bool) -> list[tuple[str, str]]:
    """The kinds of entry a timeline can be filtered by, as (name, label)."""
    return [(name, s.label) for name, s in _sources.items() if staff or not s.staff_only]


def as_datetime(day: datetime.date) -> datetime.datetime:
    """A date as noon local time, so dated entries sort among timed ones."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# The furthest page the timeline shows (25 entries a page): years of engagement.
MAX_TIMELINE_PAGE = 400


def _same_thing(a: TimelineEntry, b: TimelineEntry) -> bool:
    return (
        not a.text
        and not b.text
        and a.title == b.title
        and a.kind == b.kind
        and timezone.localtime(a.when).date() == timezone.localtime(b.when).date()
    )


def _fold(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """One row for a run of the same thing in one source (a bulk email's recipients)."""
    rows: list[TimelineEntry] = []
    for entry in entries:
        if rows and _same_thing(rows[-1], entry):
            rows[-1] = dataclasses.replace(rows[-1], alike=(*rows[-1].alike, entry))
        else:
            rows.append(entry)
    return rows


def organisation_timeline(
    organisation,
    *,
    viewer,
    staff: bool,
    page: int = 1,
    per_page: int = 25,
    kinds: Iterable[str] | None = None,
):
    """Entries for one page of the timeline, newest first, and whether more follow.

    `kinds` keeps only those sources ("notes", "emails"…); none means all. Runs of the
    same thing in one source fold into one row, dated by its newest, so forty
    recipients of one email do not bury the notes.
    """
    wanted_kinds = set(kinds or ())
    chosen = [
        (name, s.fetch)
        for name, s in _sources.items()
        if (staff or not s.staff_only) and (not wanted_kinds or name in wanted_kinds)
    ]
    wanted = page * per_page + 1
    limit = wanted
    while True:
        streams = [fetch(organisation, viewer=viewer, limit=limit) for _, fetch in chosen]
        folded = [_fold(stream) for stream in streams]
        rows = list(heapq.merge(*folded, key=lambda entry: entry.when, reverse=True))
        # A source cut off at `limit` may have more entries just older than its last one:
        # rows reaching back that far are not final yet (one of them may fold further).
        cut = [stream[-1].when for stream in streams if len(stream) >= limit]
        if cut:
            rows = [row for row in rows if (row.alike or (row,))[-1].when > max(cut)]
        if len(rows) >= wanted or not cut or limit >= MAX_FETCH:
            break
        limit = min(limit * 4, MAX_FETCH)
    start = (page - 1) * per_page
    more = len(rows) > start + per_page or (bool(cut) and len(rows) < wanted)
    return rows[start : start + per_page], more


def timeline_request(request, *, staff: bool) -> dict:
    """The page and kinds a timeline page asks for, read safely from the query string.

    Its filter form sends `shown`: with no kind ticked, it asks for nothing (said so),
    never for everything; a kind the timeline does not have is refused by name.
    """
    known = dict(timeline_kinds(staff=staff))
    asked = request.GET.getlist("kind")
    chosen = [kind for kind in asked if kind in known]
    filtered = "shown" in request.GET
    unknown = sorted({kind for kind in asked if kind not in known})
    problem = (
        f"The activity has no kind called {joined([f'“{kind}”' for kind in unknown], last='or')}."
        if unknown
        else "Tick at least one kind of activity to show."
        if filtered and not chosen
        else ""
    )
    return {
        "page": bounded_int(request.GET.get("page"), default=1, low=1, high=MAX_TIMELINE_PAGE),
        "kinds": chosen,
        "problem": problem,
        "kind_choices": [
            {
                "name": name,
                "label": label,
                "checked": name in chosen or not (chosen or filtered or unknown),
            }
            for name, label in known.items()
        ],
        # Kept in the links to newer and older pages.
        "kind_query": "&".join(f"kind={kind}" for kind in chosen),
    }


def timeline_page(request, organisation, *, staff: bool) -> tuple[dict, list, bool]:
    """What a timeline page shows: its request, one page of entries and whether more
    follow (none where the request is refused)."""
    timeline = timeline_request(request, staff=staff)
    if timeline["problem"]:
        return timeline, [], False
    entries, more = organisation_timeline(
        organisation,
        viewer=request.user,
        staff=staff,
        page=timeline["page"],
        kinds=timeline["kinds"],
    )
    return timeline, entries, more


@dataclass(frozen=True)
class ProfileAction:
    """A link another app adds to an organisation's profile (e.g. "Post a vacancy")."""

    label: str
    url: Callable[..., str]  # organisation -> address
    allowed: Callable[..., bool]  # user -> bool
    # organisation -> bool: whether it makes sense for this record (not one archived…).
    applies: Callable[..., bool] = lambda organisation: True


_profile_actions: dict[str, ProfileAction] = {}


def register_profile_action(name: str, action: ProfileAction) -> None:
    _profile_actions[name] = action


def profile_actions(organisation, user) -> list[dict]:
    return [
        {"label": a.label, "url": a.url(organisation)}
        for a in _profile_actions.values()
        if a.applies(organisation) and a.allowed(user)
    ]


@dataclass(frozen=True)
class ProfileSection:
    """A part of an organisation's public profile that another app adds (its vacancies…).

    `context(organisation, user)` returns the template's context, or None to leave the
    section out for this person.
    """

    template: str
    context: Callable[..., dict | None]
    order: int = 100
    # On the staff profile instead of the public one (the engagement score…).
    staff: bool = False


_profile_sections: dict[str, ProfileSection] = {}


def register_profile_section(name: str, section: ProfileSection) -> None:
    _profile_sections[name] = section


def profile_sections(organisation, user, *, staff: bool = False) -> list[dict]:
    sections = []
    for section in sorted(_profile_sections.values(), key=lambda s: s.order):
        if section.staff != staff:
            continue
        context = section.context(organisation, user)
        if context is not None:
            sections.append({"template": section.template, "context": context})
    return sections
