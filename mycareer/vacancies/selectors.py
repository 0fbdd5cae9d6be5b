"""Reads of vacancies: what students may see, the moderation queue, employers' lists."""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    Field,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Lag, Lead
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts.models import DegreeProgramme, StudentProfile, Unit, User
from mycareer.audit.models import AuditEntry, details_in_words, readable
from mycareer.audit.registry import Details, name_of
from mycareer.organisations.models import EmployerMembership, Organisation
from mycareer.organisations.timeline import TimelineEntry
from mycareer.vacancies.models import (
    EDITABLE_FIELDS,
    SIMPLE_FIELDS,
    TARGET_FIELDS,
    Vacancy,
    targets_in_words,
)
from mycareer.vacancies.permissions import membership_filter

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

Status = Vacancy.Status
CLOSING_SOON_DAYS = 7

UnitTarget = Vacancy.target_units.through
ProgrammeTarget = Vacancy.target_programmes.through


# What students see -----------------------------------------------------------------


def open_vacancies(*, today: datetime.date | None = None) -> QuerySet[Vacancy]:
    """Approved vacancies of active organisations whose closing date has not passed."""
    today = today or timezone.localdate()
    return Vacancy.objects.filter(
        status=Status.APPROVED,
        closing_date__gte=today,
        organisation__status=Organisation.Status.ACTIVE,
    )


def public_vacancies(*, today: datetime.date | None = None) -> QuerySet[Vacancy]:
    """Open vacancies for every student (no faculty or programme named), for the website.

    Only their live fields count: an edit waiting for moderation is not shown.
    """
    return (
        open_vacancies(today=today)
        .filter(~_is_targeted())
        .select_related("organisation")
        .order_by("closing_date", "title", "pk")
    )


@dataclass(frozen=True)
class Audience:
    """Where a student sits: their unit with its parents, and their programme."""

    unit_ids: tuple[int, ...]
    programme_id: int | None


def audience_of(user) -> Audience:
    profile = (
        StudentProfile.objects.select_related("unit__parent__parent").filter(user=user).first()
    )
    if profile is None:
        return Audience(unit_ids=(), programme_id=None)
    units = [profile.unit, *profile.unit.ancestors()]
    return Audience(unit_ids=tuple(u.pk for u in units), programme_id=profile.programme_id)


def _targets_units(unit_ids: Iterable[int]) -> Exists:
    return Exists(UnitTarget.objects.filter(vacancy=OuterRef("pk"), unit__in=list(unit_ids)))


def _targets_programme(programme_id: int | None) -> Exists:
    return Exists(
        ProgrammeTarget.objects.filter(vacancy=OuterRef("pk"), degreeprogramme=programme_id)
    )


def _is_targeted() -> Q:
    return Q(Exists(UnitTarget.objects.filter(vacancy=OuterRef("pk")))) | Q(
        Exists(ProgrammeTarget.objects.filter(vacancy=OuterRef("pk")))
    )


def _aimed_at(audience: Audience) -> Q:
    """Vacancies that name the student's unit (or one it sits in) or their programme."""
    if not (audience.unit_ids or audience.programme_id):
        return Q(pk__in=[])
    return Q(_targets_units(audience.unit_ids)) | Q(_targets_programme(audience.programme_id))


def aimed_at(audience: Audience, *, today: datetime.date | None = None) -> QuerySet[Vacancy]:
    """Open vacancies aimed at a student's faculty, school or programme; not those for
    every student, nor any for a person with no place in the university."""
    return open_vacancies(today=today).filter(_aimed_at(audience))


def _sees_everything(user: User) -> bool:
    return user.has_perm("mycareer.view_staff_pages")


def vacancies_for(user, *, today: datetime.date | None = None) -> QuerySet[Vacancy]:
    """Open vacancies this person may browse, those aimed at their own faculty first.

    A vacancy with no targets is for every student; a targeted one only for students
    of a targeted unit (or a unit inside it) or a targeted programme. Staff who see
    staff pages browse them all. Each row carries `for_you`.
    """
    vacancies = open_vacancies(today=today).select_related("organisation")
    if _sees_everything(user):
        return vacancies.annotate(for_you=Value(False, output_field=BooleanField())).order_by(
            "closing_date", "title", "pk"
        )
    if not getattr(user, "is_authenticated", False) or user.kind != user.Kind.STUDENT:
        return vacancies.none().annotate(for_you=Value(False, output_field=BooleanField()))
    for_you = _aimed_at(audience_of(user))
    return (
        vacancies.annotate(
            for_you=Case(When(for_you, then=Value(True)), default=Value(False)),
            targeted=Case(When(_is_targeted(), then=Value(True)), default=Value(False)),
        )
        .filter(Q(for_you=True) | Q(targeted=False))
        .order_by("-for_you", "closing_date", "title", "pk")
    )


def is_visible_to(user, vacancy: Vacancy) -> bool:
    return vacancies_for(user).filter(pk=vacancy.pk).exists()


def search(
    vacancies: QuerySet[Vacancy],
    *,
    text: str = "",
    type: str = "",
    location: str = "",
    programme: DegreeProgramme | None = None,
    closing_soon: bool = False,
    remote: bool = False,
    today: datetime.date | None = None,
) -> QuerySet[Vacancy]:
    """Narrow a list of vacancies by what a student typed and chose."""
    today = today or timezone.localdate()
    for word in text.split():
        vacancies = vacancies.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(organisation__name__icontains=word)
        )
    if type:
        vacancies = vacancies.filter(type=type)
    if location:
        place = Q(location__icontains=location)
        if "remote" in location.lower():
            place |= Q(remote=True)
        vacancies = vacancies.filter(place)
    if programme is not None:
        units = [programme.unit, *programme.unit.ancestors()]
        vacancies = vacancies.filter(
            Q(_targets_programme(programme.pk)) | Q(_targets_units(u.pk for u in units))
        )
    if closing_soon:
        vacancies = vacancies.filter(
            closing_date__lte=today + datetime.timedelta(days=CLOSING_SOON_DAYS)
        )
    if remote:
        vacancies = vacancies.filter(remote=True)
    return vacancies


def vacancy_with_details() -> QuerySet[Vacancy]:
    """Vacancies with what their pages show, in a few queries."""
    return Vacancy.objects.select_related(
        "organisation", "created_by", "decided_by", "pending_by"
    ).prefetch_related("target_units", "target_programmes")


# Employers -------------------------------------------------------------------------


def organisations_of(user, *, admin: bool = False) -> QuerySet[Organisation]:
    """The organisations whose vacancies this employer reads (or, with admin, manages)."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    memberships = EmployerMembership.objects.filter(user=user).filter(
        membership_filter(admin=admin)
    )
    return Organisation.objects.filter(pk__in=memberships.values("organisation")).order_by("name")


def vacancies_of_employer(user) -> QuerySet[Vacancy]:
    """Every vacancy of the employer's organisations, those still in play first.

    A live one past its closing date is closed from midnight (`Vacancy.has_closed`), so it
    goes with the finished ones then, not when the morning job marks it closed."""
    finished = Q(status__in=[Status.WITHDRAWN, Status.CLOSED]) | Q(
        status=Status.APPROVED, closing_date__lt=timezone.localdate()
    )
    return (
        Vacancy.objects.filter(organisation__in=organisations_of(user))
        .select_related("organisation")
        .annotate(
            finished=Case(
                When(finished, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("finished", "-updated_at", "-pk")
    )


# Moderation ------------------------------------------------------------------------


def _waiting_for_moderation() -> Q:
    """Submitted vacancies, and waiting edits of live ones not yet past their closing date
    (closed from then, they can no longer go live: the daily job drops them)."""
    return Q(status=Status.SUBMITTED) | Q(
        status=Status.APPROVED,
        pending_since__isnull=False,
        closing_date__gte=timezone.localdate(),
    )


def moderation_queue() -> QuerySet[Vacancy]:
    """Submitted vacancies and waiting edits of live ones, the longest waiting first."""
    return (
        Vacancy.objects.filter(_waiting_for_moderation())
        .annotate(
            waiting_since=Case(
                When(status=Status.SUBMITTED, then=F("submitted_at")),
                default=F("pending_since"),
            )
        )
        .select_related("organisation", "created_by", "pending_by")
        .prefetch_related("target_units", "target_programmes")
        .order_by("waiting_since", "pk")
    )


def moderation_count() -> int:
    return Vacancy.objects.filter(_waiting_for_moderation()).count()


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    live: str
    proposed: str


def _targets_shown(name: str, state: dict[str, list[int]], names: dict) -> str:
    """One kind of target in `state` (the targets of one version of the vacancy)."""
    (other,) = (key for key in TARGET_FIELDS if key != name)
    labels = (name_of(names[name], pk) for pk in state[name])
    return targets_in_words(name, labels, other_chosen=bool(state[other]))


def _shown(name: str, value) -> str:
    if name == "type":
        return Vacancy.Type(value).label if value in Vacancy.Type.values else str(value)
    if name == "remote":
        return "Yes" if value else "No"
    if name == "closing_date":
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
        return date_format(day, "j F Y")
    return str(value) if value not in (None, "") else "Not given"


def _field(name: str) -> Field:
    """A concrete field of Vacancy (every name in EDITABLE_FIELDS is one)."""
    field = Vacancy._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def pending_diffs(vacancies: Iterable[Vacancy]) -> dict[int, list[Change]]:
    """For each vacancy with a waiting edit: each changed field, live and proposed.

    Target names are read in one query per kind for all the vacancies together.
    """
    vacancies = [v for v in vacancies if v.pending_changes]
    unit_ids: set[int] = set()
    programme_ids: set[int] = set()
    for vacancy in vacancies:
        pending = vacancy.pending_changes or {}
        unit_ids.update(pending.get("target_units", []))
        programme_ids.update(pending.get("target_programmes", []))
    names = {
        "target_units": dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name")),
        "target_programmes": dict(
            DegreeProgramme.objects.filter(pk__in=programme_ids).values_list("pk", "name")
        ),
    }
    diffs = {}
    for vacancy in vacancies:
        live_names = {
            "target_units": {u.pk: u.name for u in vacancy.target_units.all()},
            "target_programmes": {p.pk: p.name for p in vacancy.target_programmes.all()},
        }
        both = {key: {**names[key], **live_names[key]} for key in names}
        pending = vacancy.pending_changes or {}
        # Both kinds of target, live and as proposed: whether one kind left empty means
        # "every student" depends on the other.
        live_targets = {name: list(live_names[name]) for name in TARGET_FIELDS}
        proposed_targets = {name: pending.get(name, live_targets[name]) for name in TARGET_FIELDS}
        changes = []
        for name in EDITABLE_FIELDS:
            if name not in pending:
                continue
            if name in TARGET_FIELDS:
                live = _targets_shown(name, live_targets, both)
                proposed = _targets_shown(name, proposed_targets, both)
            else:
                live = _shown(name, getattr(vacancy, name))
                proposed = _shown(name, pending[name])
            label = str(_field(name).verbose_name)
            changes.append(
                Change(
                    field=name,
                    label=label[:1].upper() + label[1:],
                    live=live,
                    proposed=proposed,
                )
            )
        diffs[vacancy.pk] = changes
    return diffs


# The audit trail -------------------------------------------------------------------

# The entries whose data hold a vacancy's fields: under which key, and whether as
# [before, after] (True) or as the values an edit proposed (False).
_RECORDED = {
    "vacancies.vacancy.changed": ("changed", True),
    "vacancies.vacancy.edit_proposed": ("changes", True),
    "vacancies.vacancy.edit_approved": ("changes", True),
    "vacancies.vacancy.edit_rejected": ("changes", False),
    # A vacancy closed with an edit waiting drops the edit.
    "vacancies.vacancy.closed": ("dropped_edit", False),
}
# The entries that record a new vacancy's organisation by id and its status by value.
_NEW = ["vacancies.vacancy.created", "vacancies.vacancy.posted"]
DETAILED_ACTIONS = [*_RECORDED, *_NEW]
# An edit's values (rejected, or dropped on closing) that change one kind of target
# are recorded with the other kind as it stood, under this key.
OTHER_TARGETS = "other_targets"
# Entries made before both kinds of target were recorded together hold only the kind
# that changed: one emptied there may or may not have left the vacancy for every
# student, so it is not guessed.
NONE_CHOSEN = "none chosen"


def audit_details(entries: Sequence[AuditEntry]) -> list[Details]:
    """Vacancy audit entries' data in words: units and programmes by name (read once for
    all the entries), each change "field: before → after"."""
    ids: dict[str, set[int]] = {name: set() for name in TARGET_FIELDS}
    for entry in entries:
        fields, paired = _recorded_fields(entry)
        for name in TARGET_FIELDS.keys() & fields.keys():
            for value in fields[name] if paired else [fields[name]]:
                ids[name].update(_ids(value))
    names = {
        name: dict(model.objects.filter(pk__in=ids[name]).values_list("pk", "name"))
        if ids[name]
        else {}
        for name, model in TARGET_FIELDS.items()
    }
    organisations = {
        entry.data["organisation"]
        for entry in entries
        if entry.action in _NEW
        and isinstance(entry.data, dict)
        and isinstance(entry.data.get("organisation"), int)
    }
    names["organisation"] = (
        dict(Organisation.objects.filter(pk__in=organisations).values_list("pk", "name"))
        if organisations
        else {}
    )
    return [_entry_details(entry, names) for entry in entries]


def _recorded_fields(entry: AuditEntry) -> tuple[dict, bool]:
    """The vacancy's fields an entry records ({} if none), and whether as pairs."""
    key, paired = _RECORDED.get(entry.action, ("", False))
    fields = entry.data.get(key) if isinstance(entry.data, dict) else None
    if not isinstance(fields, dict):
        return {}, False
    if paired and not all(isinstance(v, list) and len(v) == 2 for v in fields.values()):
        return {}, False
    return fields, paired


def _entry_details(entry: AuditEntry, names: dict) -> Details:
    key = _RECORDED.get(entry.action, ("", False))[0]
    fields, paired = _recorded_fields(entry)
    other = entry.data.get(OTHER_TARGETS) if fields and not paired else None
    details: Details = []
    for name, value in entry.data.items() if isinstance(entry.data, dict) else ():
        if name == key and fields and paired:
            details += _changes_in_words(fields, names)
        elif name == key and fields:
            verb = "dropped" if key == "dropped_edit" else "proposed"
            details += [
                (f"{verb} {label}", text)
                for label, text in _values_in_words(fields, names, other=other)
            ]
        elif name == OTHER_TARGETS and isinstance(other, dict):
            continue  # Read with the values beside it, not shown on its own.
        elif name in SIMPLE_FIELDS:
            details.append((_label(name), _value_in_words(name, value)))
        elif entry.action in _NEW and name == "organisation" and isinstance(value, int):
            details.append((name, name_of(names[name], value)))
        elif entry.action in _NEW and name == "status" and value in Status.values:
            details.append((name, Status(value).label))
        else:
            details += details_in_words({name: value})
    return details


def _changes_in_words(changes: dict, names: dict) -> Details:
    """{field: [before, after]} as "field: before → after", in the order pages show them;
    a kind of target recorded unchanged only says how the other reads."""
    lines = []
    for name in _in_order(changes):
        before, after = changes[name]
        if name in TARGET_FIELDS:
            if before == after:
                continue
            sides = [
                _recorded_targets(
                    name, {k: v[side] for k, v in changes.items() if k in TARGET_FIELDS}, names
                )
                for side in (0, 1)
            ]
        else:
            sides = [_value_in_words(name, before), _value_in_words(name, after)]
        lines.append((_label(name), f"{sides[0]} → {sides[1]}"))
    return lines


def _values_in_words(values: dict, names: dict, *, other=None) -> Details:
    """{field: value}, as an edit proposed them, as "field: value"; `other` holds the
    kind of target the edit left as it stood, when the entry recorded it."""
    targets = {k: v for k, v in values.items() if k in TARGET_FIELDS}
    if isinstance(other, dict):
        targets = {k: v for k, v in other.items() if k in TARGET_FIELDS} | targets
    return [
        (
            _label(name),
            _recorded_targets(name, targets, names)
            if name in TARGET_FIELDS
            else _value_in_words(name, values[name]),
        )
        for name in _in_order(values)
    ]


def _recorded_targets(name: str, state: dict, names: dict) -> str:
    """One kind of target as an entry recorded it, `state` holding the kinds it recorded."""
    (other,) = (key for key in TARGET_FIELDS if key != name)
    chosen = _ids(state[name])
    if not chosen and other not in state:
        return NONE_CHOSEN
    return _targets_shown(name, {name: chosen, other: _ids(state.get(other))}, names)


def _ids(value) -> list[int]:
    return [pk for pk in value if isinstance(pk, int)] if isinstance(value, list) else []


def _in_order(fields: dict) -> list[str]:
    return [name for name in EDITABLE_FIELDS if name in fields] + [
        name for name in fields if name not in EDITABLE_FIELDS
    ]


def _label(name: str) -> str:
    return str(_field(name).verbose_name) if name in EDITABLE_FIELDS else name.replace("_", " ")


def _value_in_words(name: str, value) -> str:
    if name in SIMPLE_FIELDS:
        try:
            return _shown(name, value)
        except (TypeError, ValueError):
            pass  # An odd value recorded long ago reads as it was recorded.
    return readable(value) or "none"


# History ---------------------------------------------------------------------------

# The audit actions that tell a vacancy's story to staff and to the employer.
STORY = [
    "vacancies.vacancy.created",
    "vacancies.vacancy.posted",
    "vacancies.vacancy.submitted",
    # Changes that apply at once: an employer's to a draft or a waiting vacancy, staff's
    # to any (a live advert corrected by staff is on the employer's page too).
    "vacancies.vacancy.changed",
    "vacancies.vacancy.approved",
    "vacancies.vacancy.rejected",
    "vacancies.vacancy.edit_proposed",
    "vacancies.vacancy.edit_cancelled",
    "vacancies.vacancy.edit_approved",
    "vacancies.vacancy.edit_rejected",
    "vacancies.vacancy.withdrawn",
    "vacancies.vacancy.closed",
]
CHANGED = "vacancies.vacancy.changed"


def _actor_name(entry: AuditEntry, *, staff_viewer: bool) -> str:
    if entry.actor is None:
        return "MyCareer"
    if staff_viewer or entry.actor.kind != entry.actor.Kind.STAFF:
        return str(entry.actor)
    # Employers learn what was decided, not which member of staff decided it.
    return "University careers staff"


def _fields_changed(entry: AuditEntry, *, times: int = 1) -> str:
    """Which fields a change touched, in the form's order ("Changed: Title, Salary"); for
    the latest of a run of changes, how many there were ("Changed 60 times; the latest:
    Title")."""
    fields, paired = _recorded_fields(entry)
    changed = [name for name, value in fields.items() if not paired or value[0] != value[1]]
    labels = [str(_field(name).verbose_name) for name in EDITABLE_FIELDS if name in changed]
    touched = ", ".join(label[:1].upper() + label[1:] for label in labels)
    if times > 1:
        return f"Changed {times} times" + (f"; the latest: {touched}" if touched else "")
    return f"Changed: {touched}" if touched else ""


def _story_entries(
    entries: "list[WithAnnotations[AuditEntry, _Place]]", viewer, *, with_title: bool = True
) -> list[TimelineEntry]:
    vacancies = Vacancy.objects.in_bulk([int(e.object_id) for e in entries])
    times = _changes_in_a_row(entries)
    staff_viewer = _sees_everything(viewer)
    story = []
    for entry in entries:
        vacancy = vacancies.get(int(entry.object_id))
        if vacancy is None:
            continue
        reason = entry.data.get("reason", "") if isinstance(entry.data, dict) else ""
        text = f"Reason: {reason}" if reason else ""
        if entry.action == CHANGED:
            text = _fields_changed(entry, times=times.get(entry.pk, 1))
        actor = _actor_name(entry, staff_viewer=staff_viewer)
        story.append(
            TimelineEntry(
                when=entry.at,
                kind="Vacancy",
                title=f"{entry.label}: {vacancy.title}" if with_title else entry.label,
                text=text,
                url=vacancy.get_absolute_url(),
                actor=actor,
                details=[f"By {actor}"],
            )
        )
    return story


class _Place(TypedDict):
    """What `_every_entry` adds to each entry: its place in its vacancy's story."""

    by: int
    next_action: str
    next_by: int
    previous_action: str
    previous_by: int
    run: int


def _along_the_story(expression) -> Window:
    """`expression` over one vacancy's entries, oldest first."""
    return Window(expression, partition_by=[F("object_id")], order_by=[F("at"), F("pk")])


def _every_entry(**filters) -> "QuerySet[WithAnnotations[AuditEntry, _Place]]":
    """The story's entries, each with who acted (`by`), its neighbours in its vacancy's
    story (their action and who acted) and `run`: how many entries other than changes
    there were up to it, which changes with nothing else between them share."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Vacancy), action__in=STORY, **filters
    ).annotate(
        # Changes by MyCareer itself (no one signed in) are one person's too.
        by=Coalesce("actor_id", 0),
        next_action=_along_the_story(Lead("action", default=Value(""))),
        next_by=_along_the_story(Lead(Coalesce("actor_id", 0), default=Value(0))),
        previous_action=_along_the_story(Lag("action", default=Value(""))),
        previous_by=_along_the_story(Lag(Coalesce("actor_id", 0), default=Value(0))),
        run=_along_the_story(Sum(Case(When(action=CHANGED, then=0), default=1))),
    )


def _story(**filters) -> "QuerySet[WithAnnotations[AuditEntry, _Place]]":
    """The story, newest first. Every saved edit is a change: of a run of changes by one
    person with nothing else between them, only the latest is kept, so that fifty saves
    of a draft do not push its creation and the decisions on it out of a page."""
    return (
        _every_entry(**filters)
        .exclude(action=CHANGED, next_action=CHANGED, next_by=F("by"))
        .select_related("actor")
        .order_by("-at", "-pk")
    )


def _changes_in_a_row(entries: "list[WithAnnotations[AuditEntry, _Place]]") -> dict[int, int]:
    """{pk: how many changes in a row it is the latest of}, for the changes among `entries`
    that came after another by the same person; one query, however many there are."""
    latest = [
        e
        for e in entries
        if e.action == CHANGED and (e.previous_action, e.previous_by) == (CHANGED, e.by)
    ]
    if not latest:
        return {}
    rows = (
        _every_entry(object_id__in={e.object_id for e in latest})
        .filter(run__in={e.run for e in latest})
        .order_by("-at", "-pk")
        .values_list("pk", "object_id", "run", "action", "by")
    )
    stretches: dict[tuple[str, int], list[tuple[int, str, int]]] = {}
    for pk, object_id, run, action, by in rows:
        stretches.setdefault((object_id, run), []).append((pk, action, by))
    times = {}
    for entry in latest:
        # From the entry back, newest first, to the first that is not a change by them.
        count, counting = 0, False
        for pk, action, by in stretches.get((entry.object_id, entry.run), []):
            counting = counting or pk == entry.pk
            if counting and (action, by) != (CHANGED, entry.by):
                break
            count += counting
        times[entry.pk] = count
    return times


def vacancy_story(vacancy: Vacancy, *, viewer, limit: int = 50) -> list[TimelineEntry]:
    """One vacancy's history (drafted, sent, decided…), newest first."""
    entries = list(_story(object_id=str(vacancy.pk))[:limit])
    return _story_entries(entries, viewer, with_title=False)


def vacancy_timeline_source(organisation, *, viewer, limit: int) -> list[TimelineEntry]:
    """Vacancies and moderation decisions for the organisation's timeline, newest first."""
    keys = (
        Vacancy.objects.filter(organisation=organisation)
        .annotate(key=Cast("pk", output_field=CharField()))
        .values("key")
    )
    return _story_entries(list(_story(object_id__in=keys)[:limit]), viewer)


def profile_section(organisation, user) -> dict | None:
    """The organisation's open vacancies this person may apply for, on its public profile."""
    if not (user.is_student or _sees_everything(user)):
        return None
    vacancies = vacancies_for(user).filter(organisation=organisation)
    return {"organisation": organisation, "vacancies": list(vacancies[:20])}
