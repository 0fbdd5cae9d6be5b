"""The opportunity finders: each reads the other apps' records and says why, in figures.

A finder returns `Found` items; `services.opportunities_refresh` stores them for the
pages. Each finder takes `today` so tests can build histories around the thresholds,
and reads the thresholds from settings (`thresholds()`), which the pages show.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts.models import Unit
from mycareer.bookings.models import Booking
from mycareer.core.text import counted, joined
from mycareer.events.models import Event
from mycareer.insights.models import Kind
from mycareer.mailing.recipients import frequency_limit, recent_messages
from mycareer.organisations.models import (
    KeyAccount,
    LiaisonRequest,
    Note,
    Organisation,
    Sector,
    TaggedOrganisation,
)
from mycareer.vacancies.models import Vacancy


@dataclass
class Found:
    kind: str
    key: str
    organisation_id: int
    reason: str
    figures: dict
    people: set[int] = field(default_factory=set)
    units: set[int] = field(default_factory=set)
    administrators: bool = False


def thresholds() -> dict[str, int]:
    return dict(settings.MYCAREER["INSIGHTS"])


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` months earlier (the month's last day where it is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover (28 always exists)


def _day(value: datetime.date) -> str:
    return date_format(value, "j F Y")


def _live(organisations=None):
    qs = Organisation.objects.filter(status=Organisation.Status.ACTIVE, merged_into__isnull=True)
    return qs if organisations is None else qs.filter(pk__in=organisations)


def _owning_unit(organisation: Organisation) -> set[int]:
    return {organisation.unit_id} if organisation.unit_id is not None else set()


def _faculty_of() -> dict[int, Unit]:
    """Each unit's faculty (its top-level unit): units nest faculty > school > department."""
    units = Unit.objects.in_bulk()

    def top(unit: Unit) -> Unit:
        seen = 0
        while unit.parent_id and unit.parent_id in units and seen < 5:
            unit, seen = units[unit.parent_id], seen + 1
        return unit

    return {pk: top(unit) for pk, unit in units.items()}


# Lapsed relationships ------------------------------------------------------------------


def lapsed(today: datetime.date) -> list[Found]:
    """Engaged at least N times in the 12 months before the last 6, and no note since.

    Only notes count as engagement here (docs/decisions.md); an event since, or one to
    come, does not take the organisation off the list, but the reason names it, so it
    never says "not since" of an organisation that was at an event last week.
    """
    limits = thresholds()
    quiet_from = months_before(today, limits["LAPSED_QUIET_MONTHS"])
    window_from = months_before(quiet_from, limits["LAPSED_BEFORE_MONTHS"])
    # last_engaged_on is kept by every change to notes: an organisation engaged since
    # quiet_from is left out on its index, before any note is counted.
    counts = (
        Note.objects.filter(
            organisation__in=_live().filter(
                last_engaged_on__gte=window_from, last_engaged_on__lt=quiet_from
            ),
            date__gte=window_from,
        )
        .order_by()
        .values("organisation_id")
        .annotate(n=Count("id"))
        .filter(n__gte=limits["LAPSED_MIN_ENGAGEMENTS"])
    )
    counted_by_org = {row["organisation_id"]: row["n"] for row in counts}
    last_notes: dict[int, Note] = {}
    for note in (
        Note.objects.filter(organisation_id__in=counted_by_org)
        .select_related("author", "unit", "organisation")
        .order_by("organisation_id", "-date", "-created_at")
    ):
        last_notes.setdefault(note.organisation_id, note)
    events_since, events_next = _events_around(counted_by_org, since=quiet_from, today=today)
    found = []
    for org_id, n in counted_by_org.items():
        note = last_notes[org_id]
        who = note.author.full_name if note.author else "someone no longer here"
        where = f" ({note.unit})" if note.unit else ""
        figures = {
            "engagements": n,
            "last_on": note.date.isoformat(),
            "last_by": who,
            "last_kind": note.get_kind_display(),
        }
        though = []
        if org_id in events_since:
            title, day = events_since[org_id]
            though.append(f"was at “{title}” on {_day(day)}")
            figures["event_since_on"] = day.isoformat()
        if org_id in events_next:
            title, day = events_next[org_id]
            though.append(f"has “{title}” on {_day(day)}")
            figures["event_next_on"] = day.isoformat()
        events = f", though it {' and '.join(though)}" if though else ""
        found.append(
            Found(
                kind=Kind.LAPSED,
                key=f"lapsed:{org_id}",
                organisation_id=org_id,
                reason=(
                    f"{note.organisation} was engaged {counted(n, 'time', 'times')} between "
                    f"{_day(window_from)} and {_day(quiet_from)}, with no note of an "
                    f"engagement since{events}. Last note: {note.get_kind_display().lower()} "
                    f"by {who}{where} on {_day(note.date)}."
                ),
                figures=figures,
                people={note.author_id} if note.author_id else set(),
                units={note.unit_id} if note.unit_id else set(),
            )
        )
    return found


def _events_around(
    organisations, *, since: datetime.date, today: datetime.date
) -> tuple[dict[int, tuple[str, datetime.date]], dict[int, tuple[str, datetime.date]]]:
    """Each organisation's latest event from `since` to before `today`, and its next one
    from `today` on (published ones only: a draft may never happen), as (title, day)."""
    latest: dict[int, tuple[str, datetime.date]] = {}
    following: dict[int, tuple[str, datetime.date]] = {}
    rows = (
        Event.objects.filter(
            status=Event.Status.PUBLISHED,
            organisations__in=organisations,
            starts_at__date__gte=since,
        )
        .order_by("starts_at", "pk")
        .values_list("organisations", "title", "starts_at")
    )
    for org_id, title, starts_at in rows:
        day = timezone.localdate(starts_at)
        if day < today:
            latest[org_id] = (title, day)  # in order: the last one stays
        else:
            following.setdefault(org_id, (title, day))
    return latest, following


# One faculty only ----------------------------------------------------------------------


def one_faculty(today: datetime.date) -> list[Found]:
    """Engaged by one faculty only, while what it is fits other faculties: its vacancies
    target their programmes, or they engage other organisations of its sector or tags.

    A unit of another faculty fits a sector (or a tag) when it engaged at least
    ONE_FACULTY_FIT_MIN other organisations of that sector (or with that tag) in the
    look-back: those units are offered the organisation.
    """
    limits = thresholds()
    since = months_before(today, limits["LOOKBACK_MONTHS"])
    faculty_of = _faculty_of()
    engaged: dict[int, set[int]] = defaultdict(set)
    sector_of: dict[int, int] = {}
    engaging_notes = Note.objects.filter(
        date__gte=since, unit__isnull=False, organisation__in=_live()
    )
    for org_id, unit_id, sector_id in (
        engaging_notes.order_by()
        .values_list("organisation_id", "unit_id", "organisation__sector_id")
        .distinct()
    ):
        engaged[org_id].add(unit_id)
        if sector_id:
            sector_of[org_id] = sector_id
    single = {
        org_id: units
        for org_id, units in engaged.items()
        if len({faculty_of[u].pk for u in units}) == 1
    }
    if not single:
        return []
    tags_of: dict[int, set[int]] = defaultdict(set)
    tag_names: dict[int, str] = {}
    for org_id, tag_id, tag_name in TaggedOrganisation.objects.filter(
        content_object__in=engaging_notes.values("organisation_id")
    ).values_list("content_object_id", "tag_id", "tag__name"):
        tags_of[org_id].add(tag_id)
        tag_names[tag_id] = tag_name
    # Who engaged what: faculty -> sector (or tag) -> unit -> organisations.
    by_sector: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    by_tag: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for org_id, units in engaged.items():
        for unit_id in units:
            faculty = faculty_of[unit_id].pk
            if org_id in sector_of:
                by_sector[faculty][sector_of[org_id]][unit_id].add(org_id)
            for tag_id in tags_of.get(org_id, ()):
                by_tag[faculty][tag_id][unit_id].add(org_id)
    targets = _vacancy_targets(single, since)
    organisations = Organisation.objects.in_bulk(list(single))
    sector_names = dict(Sector.objects.values_list("pk", "name"))
    services = set(Unit.objects.filter(kind=Unit.Kind.SERVICE).values_list("pk", flat=True))
    found = []
    for org_id, units in single.items():
        home = faculty_of[next(iter(units))].pk
        fit = _Fit()
        fit.vacancies(targets.get(org_id, {}), home, faculty_of)
        if org_id in sector_of:
            fit.engaged(by_sector, sector_of[org_id], home, "sectors", limits, services)
        for tag_id in sorted(tags_of.get(org_id, ()), key=lambda t: tag_names[t]):
            fit.engaged(by_tag, tag_id, home, tag_names[tag_id], limits, services)
        if not fit.units:
            continue
        organisation = organisations[org_id]
        engaged_names = sorted({_unit_name(u) for u in units})
        figures: dict = {"works_with": engaged_names}
        said = []
        if fit.vacancy_count:
            names = sorted({_unit_name(u) for u in fit.vacancy_units})
            figures |= {"vacancies": fit.vacancy_count, "targeted": names}
            said.append(
                f"{counted(fit.vacancy_count, 'vacancy', 'vacancies')} it posted in the last "
                f"{limits['LOOKBACK_MONTHS']} months targeted {joined(names)}"
            )
        fits = []
        for what, by_units in fit.engagements:
            if what == "sectors":
                words, figures["sectors"] = f"in {sector_names[sector_of[org_id]]}", by_units
            else:
                words = f"tagged {what}"
                figures.setdefault("tags", {})[what] = by_units
            fits += [(n, names, words) for names, n in _by_count(by_units)]
        # The strongest fits in words; every one is in the figures.
        fits.sort(key=lambda fit_: -fit_[0])
        said += [
            f"{joined(names)} engaged {counted(n, 'other organisation', 'other organisations')} "
            f"{words} in the last {limits['LOOKBACK_MONTHS']} months"
            for n, names, words in fits[:FITS_SAID]
        ]
        if len(fits) > FITS_SAID:
            said.append(f"and {counted(len(fits) - FITS_SAID, 'more fit', 'more fits')}")
        found.append(
            Found(
                kind=Kind.ONE_FACULTY,
                key=f"one_faculty:{org_id}",
                organisation_id=org_id,
                reason=f"{organisation} works only with {joined(engaged_names)}; "
                + "; ".join(said)
                + ".",
                figures=figures,
                units=fit.units,
            )
        )
    return found


# A reason names at most this many fits by sector or tag, the strongest first.
FITS_SAID = 2


def _by_count(by_units: dict[str, int]) -> list[tuple[list[str], int]]:
    """Units by the number of organisations they engaged: ([names], n), most first."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for name, n in sorted(by_units.items()):
        grouped[n].append(name)
    return sorted(((names, n) for n, names in grouped.items()), key=lambda item: -item[1])


@dataclass
class _Fit:
    """How an organisation engaged by one faculty fits others, and the units to tell."""

    units: set[int] = field(default_factory=set)
    vacancy_count: int = 0
    vacancy_units: set[int] = field(default_factory=set)
    # ("sectors" or a tag's name, {unit name: organisations it engaged})
    engagements: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    def vacancies(self, by_vacancy: dict[int, set[int]], home: int, faculty_of) -> None:
        for targeted in by_vacancy.values():
            outside = {u for u in targeted if faculty_of[u].pk != home}
            if outside:
                self.vacancy_count += 1
                self.vacancy_units |= outside
        self.units |= self.vacancy_units

    def engaged(
        self, by_what, what_id: int, home: int, label: str, limits, service_units: set[int]
    ) -> None:
        """Units outside the faculty `home` that engaged enough organisations of it."""
        by_units: dict[str, int] = {}
        for faculty, whats in by_what.items():
            if faculty == home:
                continue
            for unit_id, organisations in whats.get(what_id, {}).items():
                if unit_id in service_units:
                    continue  # the Careers Centre serves every faculty: not a fit
                if len(organisations) >= limits["ONE_FACULTY_FIT_MIN"]:
                    self.units.add(unit_id)
                    by_units[_unit_name(unit_id)] = len(organisations)
        if by_units:
            self.engagements.append((label, by_units))


def _vacancy_targets(single, since) -> dict[int, dict[int, set[int]]]:
    """The units each organisation's recent vacancies target (by programme or unit)."""
    targets: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    vacancies = Vacancy.objects.filter(
        organisation_id__in=single, created_at__date__gte=since
    ).exclude(status__in=[Vacancy.Status.DRAFT, Vacancy.Status.REJECTED])
    Through = Vacancy.target_programmes.through
    for org_id, vacancy_id, programme_unit in Through.objects.filter(
        vacancy__in=vacancies
    ).values_list("vacancy__organisation_id", "vacancy_id", "degreeprogramme__unit_id"):
        targets[org_id][vacancy_id].add(programme_unit)
    UnitThrough = Vacancy.target_units.through
    for org_id, vacancy_id, unit_id in UnitThrough.objects.filter(
        vacancy__in=vacancies
    ).values_list("vacancy__organisation_id", "vacancy_id", "unit_id"):
        targets[org_id][vacancy_id].add(unit_id)
    return targets


_unit_names: dict[int, str] = {}


def _unit_name(pk: int) -> str:
    if pk not in _unit_names:
        _unit_names.update(dict(Unit.objects.values_list("pk", "name")))
    return _unit_names.get(pk, "a unit")


# Key accounts going quiet, liaison unanswered ------------------------------------------


def key_accounts_quiet(today: datetime.date) -> list[Found]:
    """Key accounts whose owner has recorded no note for KEY_ACCOUNT_QUIET_DAYS days, and
    at once (for the administrators) those whose owner has left: nobody can answer a
    request to contact their key contacts until the account is passed on."""
    quiet_days = thresholds()["KEY_ACCOUNT_QUIET_DAYS"]
    owners_notes = Note.objects.filter(
        organisation_id=OuterRef("organisation_id"), author_id=OuterRef("operator_id")
    )
    accounts = (
        KeyAccount.objects.filter(organisation__in=_live())
        .annotate(last_note=Subquery(owners_notes.order_by("-date").values("date")[:1]))
        .select_related("organisation", "operator", "unit")
    )
    found = []
    for account in accounts:
        held_since = timezone.localdate(account.created_at)
        since = max(account.last_note or held_since, held_since)
        days = (today - since).days
        left = not account.operator.is_active
        if days < quiet_days and not left:
            continue
        owner = account.operator.full_name
        if left:
            said = (
                f"held by {owner}, who has left: nobody can answer a request to contact its "
                "key contacts until an administrator passes it to someone else"
            )
        elif account.last_note:
            said = f"no note by {owner} since {_day(account.last_note)}"
        else:
            said = f"no note by {owner} since it became a key account on {_day(held_since)}"
        found.append(
            Found(
                kind=Kind.KEY_ACCOUNT_QUIET,
                # Its own key when its holder has left: a dismissal of it as quiet ("we
                # meet monthly") must not hide that nobody can now answer for it.
                key=f"key_left:{account.pk}" if left else f"key_quiet:{account.pk}",
                organisation_id=account.organisation_id,
                reason=(
                    f"{account.unit}'s key account with {account.organisation}: {said}."
                    if left
                    else f"{account.unit}'s key account with {account.organisation}: {said} "
                    f"({counted(days, 'day', 'days')}; the threshold is {quiet_days})."
                ),
                figures={
                    "days": days,
                    "last_note": account.last_note.isoformat() if account.last_note else None,
                    "owner": owner,
                    "left": left,
                },
                people={account.operator_id},
                units={account.unit_id},
                administrators=left,
            )
        )
    return found


def liaison_unanswered(today: datetime.date) -> list[Found]:
    """Liaison requests unanswered for 7 days (to the owner), 14 (and the administrators),
    and at once (to the administrators only) those waiting on an owner who has left: the
    leaver will never answer, and is not offered what they cannot do."""
    limits = thresholds()
    first, escalate = limits["LIAISON_UNANSWERED_DAYS"], limits["LIAISON_ESCALATE_DAYS"]
    requests = LiaisonRequest.objects.filter(
        status=LiaisonRequest.Status.PENDING,
        key_contact__key_account__organisation__in=_live(),
    ).select_related(
        "requester",
        "key_contact__contact",
        "key_contact__key_account__operator",
        "key_contact__key_account__organisation",
    )
    found = []
    for request in requests:
        days = (today - timezone.localdate(request.created_at)).days
        account = request.key_contact.key_account
        left = not account.operator.is_active
        if days < first and not left:
            continue
        asked = (
            f"{request.requester.full_name} asked {account.operator.full_name} "
            f"{counted(days, 'day', 'days')} ago to contact "
            f"{request.key_contact.contact.full_name} at {account.organisation}"
        )
        if left:
            reason = (
                f"{asked}, but {account.operator.full_name} has left and cannot answer: "
                "pass the key account to someone else, and the request goes with it."
            )
        else:
            reason = f"{asked}, and has had no answer" + (
                f" (after {escalate} days, administrators see it too)." if days >= escalate else "."
            )
        found.append(
            Found(
                kind=Kind.LIAISON_UNANSWERED,
                key=f"liaison:{request.pk}",
                organisation_id=account.organisation_id,
                reason=reason,
                figures={
                    "days": days,
                    "requester": request.requester.full_name,
                    "left": left,
                },
                people=set() if left else {account.operator_id},
                administrators=left or days >= escalate,
            )
        )
    return found


# Half-engaged employers ----------------------------------------------------------------


def _posted_vacancies():
    return Vacancy.objects.exclude(status__in=[Vacancy.Status.DRAFT, Vacancy.Status.REJECTED])


def half_engaged(today: datetime.date) -> list[Found]:
    """Posting vacancies but never at an event, or at events but never posting vacancies."""
    limits = thresholds()
    since = months_before(today, limits["LOOKBACK_MONTHS"])
    months = limits["LOOKBACK_MONTHS"]
    events = Event.objects.exclude(status=Event.Status.CANCELLED)
    at_an_event = Exists(events.filter(organisations=OuterRef("pk")))
    posted = Exists(_posted_vacancies().filter(organisation=OuterRef("pk")))
    recent_vacancies = Count(
        "vacancies",
        filter=Q(vacancies__created_at__date__gte=since)
        & ~Q(vacancies__status__in=[Vacancy.Status.DRAFT, Vacancy.Status.REJECTED]),
    )
    recent_events = Count(
        "events",
        filter=Q(events__starts_at__date__gte=since) & ~Q(events__status=Event.Status.CANCELLED),
        distinct=True,
    )
    plans = (
        (
            Kind.VACANCIES_NO_EVENTS,
            ~at_an_event,
            recent_vacancies,
            lambda org: (
                f"{org} posted {counted(org.n, 'vacancy', 'vacancies')} in the last "
                f"{months} months but has never been at an event."
            ),
            lambda org: {"vacancies": org.n, "events": 0},
        ),
        (
            Kind.EVENTS_NO_VACANCIES,
            ~posted,
            recent_events,
            lambda org: (
                f"{org} took part in {counted(org.n, 'event', 'events')} in the last "
                f"{months} months but has never posted a vacancy."
            ),
            lambda org: {"events": org.n, "vacancies": 0},
        ),
    )
    return [
        Found(
            kind=kind,
            key=f"{kind}:{org.pk}",
            organisation_id=org.pk,
            reason=reason(org),
            figures=figures(org),
            units=_owning_unit(org),
            administrators=not org.unit_id,
        )
        for kind, never, recent, reason, figures in plans
        for org in _live().filter(never).annotate(n=recent).filter(n__gt=0)
    ]


def top_attendance(today: datetime.date) -> list[Found]:
    """Employers without a key account whose events drew the most students: candidates."""
    limits = thresholds()
    since = months_before(today, limits["LOOKBACK_MONTHS"])
    rows = (
        Booking.objects.filter(
            checked_in_at__isnull=False,
            event__starts_at__date__gte=since,
            event__organisations__in=_live()
            .filter(multi_touch=False)
            .exclude(pk__in=KeyAccount.objects.values("organisation_id")),
        )
        .order_by()
        .values("event__organisations")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n", "event__organisations")[: limits["TOP_ATTENDANCE"]]
    )
    totals = {row["event__organisations"]: row["n"] for row in rows}
    organisations = Organisation.objects.in_bulk(list(totals))
    return [
        Found(
            kind=Kind.TOP_ATTENDANCE,
            key=f"top_attendance:{org_id}",
            organisation_id=org_id,
            reason=(
                f"{counted(n, 'student', 'students')} attended events with "
                f"{organisations[org_id]} in the last {limits['LOOKBACK_MONTHS']} months (one "
                f"of the {limits['TOP_ATTENDANCE']} employers that drew the most), and no one "
                "holds it as a key account: a candidate for one."
            ),
            figures={"attended": n},
            units=_owning_unit(organisations[org_id]),
            administrators=True,
        )
        for org_id, n in totals.items()
    ]


# Over-contacted employers --------------------------------------------------------------


def near_email_limit(today: datetime.date) -> list[Found]:
    """Organisations with contacts at the bulk email frequency limit (policy 2.5)."""
    messages, days = frequency_limit()
    now = timezone.now()
    per_contact = (
        recent_messages(now=now)
        .filter(contact__organisation__in=_live())
        .order_by()
        .values("contact_id", "contact__organisation_id")
        .annotate(n=Count("id"))
        .filter(n__gte=messages)
    )
    at_limit: dict[int, int] = defaultdict(int)
    for row in per_contact:
        at_limit[row["contact__organisation_id"]] += 1
    organisations = Organisation.objects.in_bulk(list(at_limit))
    return [
        Found(
            kind=Kind.NEAR_EMAIL_LIMIT,
            key=f"near_limit:{org_id}",
            organisation_id=org_id,
            reason=(
                f"{counted(n, 'contact', 'contacts')} at {organisations[org_id]} "
                f"{'has' if n == 1 else 'have'} had {messages} bulk emails in the last "
                f"{counted(days, 'day', 'days')}, the limit: no more can go to them now."
            ),
            figures={"contacts": n, "limit": messages, "days": days},
            administrators=True,
        )
        for org_id, n in at_limit.items()
    ]


def many_units(today: datetime.date) -> list[Found]:
    """Organisations contacted by CONTACTED_UNITS or more units within CONTACTED_DAYS."""
    limits = thresholds()
    since = today - datetime.timedelta(days=limits["CONTACTED_DAYS"] - 1)
    rows = (
        Note.objects.filter(date__gte=since, unit__isnull=False, organisation__in=_live())
        .order_by()
        .values("organisation_id")
        .annotate(n=Count("unit", distinct=True))
        .filter(n__gte=limits["CONTACTED_UNITS"])
    )
    totals = {row["organisation_id"]: row["n"] for row in rows}
    units: dict[int, set[int]] = defaultdict(set)
    for org_id, unit_id in (
        Note.objects.filter(date__gte=since, organisation_id__in=totals, unit__isnull=False)
        .order_by()
        .values_list("organisation_id", "unit_id")
        .distinct()
    ):
        units[org_id].add(unit_id)
    organisations = Organisation.objects.in_bulk(list(totals))
    return [
        Found(
            kind=Kind.MANY_UNITS,
            key=f"many_units:{org_id}",
            organisation_id=org_id,
            reason=(
                f"{organisations[org_id]} was contacted by {n} units in the last "
                f"{limits['CONTACTED_DAYS']} days: "
                f"{joined(sorted(_unit_name(u) for u in units[org_id]))}."
                " One joined-up approach may serve it better."
            ),
            figures={"units": n, "days": limits["CONTACTED_DAYS"]},
            units=units[org_id],
            administrators=True,
        )
        for org_id, n in totals.items()
    ]


FINDERS = (
    lapsed,
    one_faculty,
    key_accounts_quiet,
    liaison_unanswered,
    half_engaged,
    top_attendance,
    near_email_limit,
    many_units,
)


def find_all(today: datetime.date) -> list[Found]:
    _unit_names.clear()
    return [item for finder in FINDERS for item in finder(today)]
