"""Who may do what now, and why not: the one place that decides staff access.

A level above viewer takes effect only while the person holds a valid completion of
the Careers Centre's operator training *and* has accepted the current usage terms;
sending bulk email also needs the bulk email training (policy section 3).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import rules
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts.models import (
    AccessGrant,
    AccessLevel,
    TermsAcceptance,
    TermsVersion,
    TrainingCourse,
    TrainingRecord,
    User,
)
from mycareer.core.permissions import set_refusal
from mycareer.core.prepared import PreparedQuery


class Action:
    """The things staff do; each needs a minimum access level."""

    VIEW = "view_staff_pages"
    EDIT = "edit_records"
    DELETE = "delete_records"
    BULK_EMAIL = "send_bulk_email"
    ADMINISTER = "administer"

    ALL = (VIEW, EDIT, DELETE, BULK_EMAIL, ADMINISTER)
    LEVEL = {
        VIEW: AccessLevel.VIEWER,
        EDIT: AccessLevel.OPERATOR,
        DELETE: AccessLevel.OPERATOR_DELETE,
        BULK_EMAIL: AccessLevel.BULK_MAILER,
        ADMINISTER: AccessLevel.ADMIN,
    }
    VERB = {
        VIEW: "see staff pages",
        EDIT: "create and edit records",
        DELETE: "archive and delete records",
        BULK_EMAIL: "send bulk email to employer contacts",
        ADMINISTER: "use the administrators' pages",
    }


@dataclass(frozen=True)
class Access:
    """A person's access as it stands today, with the reason for each thing they may not do."""

    granted: AccessLevel | None
    allowed: frozenset[str]
    # Why not, said to the person themselves ("Your operator training ran out after…").
    reasons: dict[str, str] = field(default_factory=dict)
    # The same reasons said about them, for administrators ("Sam's operator training…").
    reasons_about: dict[str, str] = field(default_factory=dict)
    operator_training_expires: datetime.date | None = None
    bulk_training_expires: datetime.date | None = None
    terms_accepted: bool = False
    # Administrators sign in with a second factor; without one they may not administer.
    needs_second_factor: bool = False

    def can(self, action: str) -> bool:
        return action in self.allowed

    def why_not(self, action: str) -> str | None:
        return None if self.can(action) else self.reasons.get(action)

    def blocked_within_grant(self, *, about: bool = False) -> list[str]:
        """Why the person cannot use all of the level they were granted, once per reason."""
        if self.granted is None:
            return []
        reasons = self.reasons_about if about else self.reasons
        found: list[str] = []
        for action in Action.ALL:
            reason = reasons.get(action)
            if reason and Action.LEVEL[action] <= self.granted and reason not in found:
                found.append(reason)
        return found

    @property
    def effective_level(self) -> AccessLevel | None:
        """The highest level whose actions are all currently allowed."""
        best = None
        for action in Action.ALL:
            if action in self.allowed:
                level = Action.LEVEL[action]
                best = level if best is None or level > best else best
        return best


SECOND_FACTOR_NEEDED = (
    "Administrators sign in with two steps: set up an authenticator app for your account "
    "to use the administrators' pages."
)


def _second_factors():
    return Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)


def has_second_factor(user) -> bool:
    """Whether the person has an authenticator app (TOTP) set up for signing in."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _day(value: datetime.date) -> str:
    return date_format(value, "j F Y")


def _current_terms_query(now: datetime.datetime | None = None):
    return TermsVersion.objects.filter(published_at__lte=now or timezone.now()).order_by(
        "-published_at", "-id"
    )


def current_terms() -> TermsVersion | None:
    return _current_terms_query().first()


def has_accepted_current_terms(user) -> bool:
    terms = current_terms()
    return terms is None or TermsAcceptance.objects.filter(user=user, terms=terms).exists()


class _Completion(NamedTuple):
    """A person's latest completion of a course: what the access rules read of it."""

    expires_on: datetime.date | None
    valid: bool  # still in force today (computed by `with_standing`)


def _completions(code: str):
    return TrainingRecord.objects.filter(
        user=OuterRef("pk"), status=TrainingRecord.Status.COMPLETED, course__code=code
    )


def _latest_expiry(code: str) -> Subquery:
    latest = _completions(code).order_by(F("expires_on").desc(nulls_last=True))
    return Subquery(latest.values("expires_on")[:1])


def _in_force(expires: str, today: datetime.date) -> Case:
    """True while the completion whose expiry is annotated as `expires` is valid `today`."""
    return Case(
        When(**{f"{expires}__gte": today}, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def with_standing(
    users: QuerySet,
    *,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> QuerySet:
    """Each person's grant, training and terms as `compute_access` judges them, in one query.

    The one place that says when training and terms are valid: `compute_access` reads
    it for one person, the access list for every member of staff. Adds `grant_level`,
    `operator_done`, `operator_expires`, `operator_valid`, the same three for `bulk_`,
    `second_factor` and `terms_ok`.
    """
    today = today or timezone.localdate()
    current = _current_terms_query(now)
    return users.annotate(
        operator_done=Exists(_completions(TrainingCourse.OPERATOR)),
        operator_expires=_latest_expiry(TrainingCourse.OPERATOR),
        bulk_done=Exists(_completions(TrainingCourse.BULK_EMAIL)),
        bulk_expires=_latest_expiry(TrainingCourse.BULK_EMAIL),
        grant_level=Subquery(
            AccessGrant.objects.filter(user=OuterRef("pk"), revoked_at__isnull=True).values(
                "level"
            )[:1]
        ),
        second_factor=Exists(_second_factors()),
        terms_ok=~Exists(current)
        | Exists(
            TermsAcceptance.objects.filter(
                user=OuterRef("pk"), terms=Subquery(current.values("pk")[:1])
            )
        ),
    ).annotate(
        operator_valid=_in_force("operator_expires", today),
        bulk_valid=_in_force("bulk_expires", today),
    )


@dataclass(frozen=True)
class _Voice:
    """Who a reason speaks to: the person ("You", "Your") or an administrator ("Sam", "Sam's")."""

    has: str
    whose: str
    they: str

    @classmethod
    def about(cls, user) -> "_Voice":
        name = user.get_short_name()
        return cls(has=f"{name} has", whose=f"{name}'s", they="they")


YOU = _Voice(has="You have", whose="Your", they="you")


def _training_problem(
    record: _Completion | None, course_name: str, voice: _Voice = YOU
) -> str | None:
    if record is None:
        return f"{voice.has} not completed the {course_name} yet"
    if not record.valid:
        return f"{voice.whose} {course_name} ran out after {_day(record.expires_on)}"
    return None


def _booked_session_days(user, codes: list[str], today: datetime.date) -> dict[str, datetime.date]:
    """For each course in `codes`, the day of the next session of it `user` is booked on
    (today's counts: its attendance may not be recorded yet)."""
    if not codes:
        return {}
    days: dict[str, datetime.date] = {}
    booked = (
        TrainingRecord.objects.filter(
            user=user,
            course__code__in=codes,
            status=TrainingRecord.Status.BOOKED,
            session__starts_at__date__gte=today,
        )
        .order_by("session__starts_at")
        .values_list("course__code", "session__starts_at")
    )
    for code, starts in booked:
        days.setdefault(code, timezone.localdate(starts))
    return days


def _until_recorded(
    problem: str,
    *,
    record: _Completion | None,
    booked: datetime.date,
    session: str,
    verb: str,
    voice: _Voice,
) -> str:
    """The reason for someone already booked on a session: what to wait for, not to book."""
    if voice is not YOU:
        return (
            f"{problem}, so {voice.they} cannot {verb} until {voice.they} attend the "
            f"{session} on {_day(booked)}, which {voice.they} are booked on."
        )
    then = (
        "access returns once your attendance is recorded"
        if record is not None
        else f"you can {verb} once your attendance is recorded"
    )
    return f"{problem}: you are booked on the {session} on {_day(booked)}; {then}."


def _revoked_on(user) -> datetime.date | None:
    """The day the person's last access level was taken away, if it was."""
    revoked_at = (
        AccessGrant.objects.filter(user=user, revoked_at__isnull=False)
        .order_by("-revoked_at")
        .values_list("revoked_at", flat=True)
        .first()
    )
    return timezone.localdate(revoked_at) if revoked_at else None


def _reasons(
    *,
    granted: AccessLevel | None,
    terms_ok: bool,
    operator_record: _Completion | None,
    bulk_record: _Completion | None,
    second_factor: bool,
    today: datetime.date,
    voice: _Voice,
    operator_booked: datetime.date | None = None,
    bulk_booked: datetime.date | None = None,
    revoked_on: datetime.date | None = None,
) -> dict[str, str]:
    """Why each action is not allowed (actions missing from the result are allowed).

    `operator_booked` and `bulk_booked` are the days of sessions the person is booked on;
    `revoked_on` is the day an administrator took away the person's last level.
    """
    you = voice is YOU
    operator_problem = _training_problem(operator_record, "operator training", voice)
    bulk_problem = _training_problem(bulk_record, "bulk email training", voice)
    reasons: dict[str, str] = {}
    for action in Action.ALL:
        needed = Action.LEVEL[action]
        verb = Action.VERB[action]
        if granted is None and revoked_on is not None:
            # Someone whose access was taken away is not waiting for training: "not given
            # access yet" sent them to book a course they had already attended.
            reasons[action] = (
                f"Your access to MyCareer's staff pages was withdrawn on {_day(revoked_on)}: "
                "ask the Careers Centre if you still need it."
                if you
                else f"{voice.whose} access to MyCareer's staff pages was withdrawn on "
                f"{_day(revoked_on)}."
            )
        elif granted is None:
            reasons[action] = (
                "You have not been given access to MyCareer's staff pages yet: "
                "ask the Careers Centre after attending the operator training."
                if you
                else f"{voice.has} not been given access to MyCareer's staff pages yet."
            )
        elif granted < needed:
            reasons[action] = f"{voice.whose} access level is {granted.label}; to {verb} " + (
                f"you need the {needed.label} level, which an administrator grants."
                if you
                else f"{voice.they} need the {needed.label} level."
            )
        elif not terms_ok:
            reasons[action] = (
                f"Accept the current terms of use (data protection) to {verb} again."
                if you
                else f"{voice.has} not accepted the current terms of use (data protection), "
                f"so {voice.they} cannot {verb} until {voice.they} do."
            )
        elif needed > AccessLevel.VIEWER and operator_problem and operator_booked:
            reasons[action] = _until_recorded(
                operator_problem,
                record=operator_record,
                booked=operator_booked,
                session="session",
                verb=verb,
                voice=voice,
            )
        elif needed > AccessLevel.VIEWER and operator_problem:
            reasons[action] = (
                f"{operator_problem}: book a training session to {verb}"
                f"{' again' if operator_record else ''}."
                if you
                else f"{operator_problem}, so {voice.they} cannot {verb} until "
                f"{voice.they} attend a training session."
            )
        elif action == Action.BULK_EMAIL and bulk_problem and bulk_booked:
            reasons[action] = _until_recorded(
                bulk_problem,
                record=bulk_record,
                booked=bulk_booked,
                session="bulk email session",
                verb=verb,
                voice=voice,
            )
        elif action == Action.BULK_EMAIL and bulk_problem:
            reasons[action] = (
                f"{bulk_problem}: book a bulk email session to {verb}."
                if you
                else f"{bulk_problem}, so {voice.they} cannot {verb} until "
                f"{voice.they} attend a bulk email session."
            )
        elif action == Action.ADMINISTER and not second_factor:
            reasons[action] = (
                SECOND_FACTOR_NEEDED
                if you
                else f"{voice.has} not set up an authenticator app for signing in, so "
                f"{voice.they} cannot {verb} until {voice.they} do."
            )
    return reasons


# One person's standing: `with_standing` for one id, built and compiled once per process.
STANDING = PreparedQuery(
    lambda pk, today, now: with_standing(User.objects.filter(pk=pk), today=today, now=now).values(
        "grant_level",
        "second_factor",
        "terms_ok",
        "operator_done",
        "operator_expires",
        "operator_valid",
        "bulk_done",
        "bulk_expires",
        "bulk_valid",
    ),
    pk=-7_777_777,
    today=datetime.date(1901, 2, 3),
    now=datetime.datetime(1901, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
)


def staff_bound_by_terms() -> QuerySet:
    """Who a new version of the terms stops until they accept it, as `compute_access`
    (and so the terms middleware) judges: active staff who are not superusers, whom it
    lets through. The publish page states this number and the publisher confirms it."""
    return User.objects.filter(kind=User.Kind.STAFF, is_active=True, is_superuser=False)


def compute_access(user, *, today: datetime.date | None = None) -> Access:
    """Work out what `user` may do today and why not; prefer `access_for`, which caches."""
    today = today or timezone.localdate()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access(granted=None, allowed=frozenset(), reasons=dict.fromkeys(Action.ALL, ""))
    if user.is_superuser:
        if has_second_factor(user):
            return Access(
                granted=AccessLevel.ADMIN, allowed=frozenset(Action.ALL), terms_accepted=True
            )
        return Access(
            granted=AccessLevel.ADMIN,
            allowed=frozenset(Action.ALL) - {Action.ADMINISTER},
            reasons={Action.ADMINISTER: SECOND_FACTOR_NEEDED},
            terms_accepted=True,
            needs_second_factor=True,
        )
    if user.kind != user.Kind.STAFF:
        reason = "This is for university staff only."
        reasons = dict.fromkeys(Action.ALL, reason)
        return Access(granted=None, allowed=frozenset(), reasons=reasons, reasons_about=reasons)

    # Grant, terms and training in one query: every staff page asks this first.
    standing = STANDING.get(pk=user.pk, today=today, now=timezone.now())
    granted = AccessLevel(standing["grant_level"]) if standing["grant_level"] else None
    operator_record = (
        _Completion(standing["operator_expires"], standing["operator_valid"])
        if standing["operator_done"]
        else None
    )
    bulk_record = (
        _Completion(standing["bulk_expires"], standing["bulk_valid"])
        if standing["bulk_done"]
        else None
    )
    terms_ok = bool(standing["terms_ok"])
    # Read only for a course a reason will name (granted the level that needs it, its
    # completion missing or expired): for most people, no query at all.
    booked = _booked_session_days(
        user,
        [
            code
            for code, record, level in (
                (TrainingCourse.OPERATOR, operator_record, AccessLevel.OPERATOR),
                (TrainingCourse.BULK_EMAIL, bulk_record, AccessLevel.BULK_MAILER),
            )
            if granted is not None and granted >= level and (record is None or not record.valid)
        ],
        today,
    )

    standing_now = {
        "granted": granted,
        "terms_ok": terms_ok,
        "operator_record": operator_record,
        "bulk_record": bulk_record,
        "second_factor": bool(standing["second_factor"]),
        "today": today,
        "operator_booked": booked.get(TrainingCourse.OPERATOR),
        "bulk_booked": booked.get(TrainingCourse.BULK_EMAIL),
        "revoked_on": _revoked_on(user) if granted is None else None,
    }
    reasons = _reasons(**standing_now, voice=YOU)
    return Access(
        granted=granted,
        allowed=frozenset(a for a in Action.ALL if a not in reasons),
        reasons=reasons,
        reasons_about=_reasons(**standing_now, voice=_Voice.about(user)),
        operator_training_expires=operator_record.expires_on if operator_record else None,
        bulk_training_expires=bulk_record.expires_on if bulk_record else None,
        terms_accepted=terms_ok,
        needs_second_factor=(
            granted is not None and granted >= AccessLevel.ADMIN and not standing["second_factor"]
        ),
    )


def access_for(user) -> Access:
    """The person's access today, computed once per request (cached on the user object)."""
    today = timezone.localdate()
    cached = getattr(user, "_mycareer_access", None)
    if cached is not None and cached[0] == today:
        return cached[1]
    access = compute_access(user, today=today)
    if getattr(user, "is_authenticated", False):
        user._mycareer_access = (today, access)
    return access


def forget_access(user) -> None:
    """Drop the cached access after a change to grants, training or terms."""
    if hasattr(user, "_mycareer_access"):
        del user._mycareer_access


def _action_predicate(action: str):
    @rules.predicate(name=f"can_{action}")
    def predicate(user) -> bool:
        return access_for(user).can(action)

    return predicate


can_view_staff_pages = _action_predicate(Action.VIEW)
can_edit_records = _action_predicate(Action.EDIT)
can_delete_records = _action_predicate(Action.DELETE)
can_send_bulk_email = _action_predicate(Action.BULK_EMAIL)
can_administer = _action_predicate(Action.ADMINISTER)


@rules.predicate
def is_staff_member(user) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.is_superuser or user.kind == user.Kind.STAFF
    )


@rules.predicate
def is_student(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.kind == user.Kind.STUDENT


@rules.predicate
def is_employer(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.kind == user.Kind.EMPLOYER


# The one vocabulary of permissions ---------------------------------------------------
#
# Every permission is a `rules` permission registered with `add_rule`, which also says
# how a refusal is explained: by the access level it needs (`Access.why_not`, "Your
# operator training ran out after…") or, when the level is there and the rule still says no
# (not the organiser, not a student), by its own sentence. Views check a permission
# with `core.permissions.require(name)`, services and pages with `user.has_perm(name, obj)` (or
# `check_perm`, which raises the refusal), templates with `perms.<name>`.

NOT_ALLOWED = "You may not do this."
NOT_YOUR_KIND = "This page is not for your kind of account."


@dataclass(frozen=True)
class _Refusal:
    needs: str | None  # the Action whose reason explains a refusal, if any
    # Said when that level is there (or none is needed); a function of the object when
    # the reason names it ("Only operators of Mechanical Engineering…").
    otherwise: str | Callable[[object], str]


_REFUSALS: dict[str, _Refusal] = {}


def add_rule(
    name: str,
    predicate,
    *,
    needs: str | None = None,
    otherwise: str | Callable[[object], str] = NOT_ALLOWED,
) -> None:
    """Register the permission `name` and what its refusal says (see above)."""
    rules.add_perm(name, predicate)
    _REFUSALS[name] = _Refusal(needs, otherwise)


def why_not(user, perm: str, obj=None) -> str:
    """Why `user` does not have `perm`: what their access level lacks, else the rule's words."""
    refusal = _REFUSALS.get(perm, _Refusal(None, NOT_ALLOWED))
    if refusal.needs is not None:
        reason = access_for(user).why_not(refusal.needs)
        if reason:
            return reason
    if callable(refusal.otherwise):
        return refusal.otherwise(obj) if obj is not None else NOT_ALLOWED
    return refusal.otherwise


class AccessDenied(PermissionDenied):
    """A refusal whose message tells the person why and what to do."""


def check_perm(user, perm: str, obj=None) -> None:
    """Raise AccessDenied, saying why, unless `user` has `perm` (for `obj`)."""
    if not user.has_perm(perm, obj):
        raise AccessDenied(why_not(user, perm, obj))


# The access levels themselves, for pages and lists that depend on the level alone.
# Deleting is always asked about a kind of record ("organisations.delete_note").
add_rule("mycareer.view_staff_pages", can_view_staff_pages, needs=Action.VIEW)
add_rule("mycareer.edit_records", can_edit_records, needs=Action.EDIT)
add_rule("mycareer.send_bulk_email", can_send_bulk_email, needs=Action.BULK_EMAIL)
add_rule("mycareer.administer", can_administer, needs=Action.ADMINISTER)

# A member of staff's own pages: their access, profile and the training calendar.
add_rule("accounts.view_own_access", is_staff_member, otherwise=NOT_YOUR_KIND)


@rules.predicate
def is_themselves(user, person) -> bool:
    return person is not None and person.pk == user.pk


add_rule(
    "accounts.change_profile",
    is_themselves | can_administer,
    otherwise="Only the person themselves or an administrator changes a profile.",
)


def _refusal(request, perm: str, obj) -> HttpResponse | None:
    """What `core.permissions.require` does when asked `perm`: go on, or say why not.

    Administrators without a second factor are sent to set one up (Django lets
    superusers through every has_perm, so they are sent there too).
    """
    user = request.user
    allowed = user.has_perm(perm, obj)
    if (
        _REFUSALS.get(perm, _Refusal(None, "")).needs == Action.ADMINISTER
        and (not allowed or user.is_superuser)
        and access_for(user).needs_second_factor
    ):
        messages.info(request, SECOND_FACTOR_NEEDED)
        return redirect("mfa_activate_totp")
    if not allowed:
        raise AccessDenied(why_not(user, perm, obj))
    return None


set_refusal(_refusal)
