"""Who may do what now, and why not: the one place that decides staff access.

A level above viewer takes effect only while the person holds a valid completion of
the Careers Centre's operator training *and* has accepted the current usage terms;
sending bulk email also needs the bulk email training (policy section 3).
"""

import datetime
from dataclasses import dataclass, field
from functools import wraps
from typing import NamedTuple

import rules
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Subquery
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
        ADMINISTER: "administer access and training",
    }


@dataclass(frozen=True)
class Access:
    """A person's access as it stands today, with the reason for each thing they may not do."""

    granted: AccessLevel | None
    allowed: frozenset[str]
    # Why not, said to the person themselves ("Your operator training expired…").
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
    "to administer access and training."
)


def _second_factors():
    return Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)


def has_second_factor(user) -> bool:
    """Whether the person has an authenticator app (TOTP) set up for signing in."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _day(value: datetime.date) -> str:
    return date_format(value, "j F Y")


def _current_terms_query():
    return TermsVersion.objects.filter(published_at__lte=timezone.now()).order_by(
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


def _completions(code: str):
    return TrainingRecord.objects.filter(
        user=OuterRef("pk"), status=TrainingRecord.Status.COMPLETED, course__code=code
    )


def _latest_expiry(code: str) -> Subquery:
    latest = _completions(code).order_by(F("expires_on").desc(nulls_last=True))
    return Subquery(latest.values("expires_on")[:1])


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
    record: _Completion | None, course_name: str, today, voice: _Voice = YOU
) -> str | None:
    if record is None:
        return f"{voice.has} not completed the {course_name} yet"
    if record.expires_on is None or record.expires_on < today:
        return f"{voice.whose} {course_name} expired on {_day(record.expires_on)}"
    return None


def _reasons(
    *,
    granted: AccessLevel | None,
    terms_ok: bool,
    operator_record: _Completion | None,
    bulk_record: _Completion | None,
    second_factor: bool,
    today: datetime.date,
    voice: _Voice,
) -> dict[str, str]:
    """Why each action is not allowed (actions missing from the result are allowed)."""
    you = voice is YOU
    operator_problem = _training_problem(operator_record, "operator training", today, voice)
    bulk_problem = _training_problem(bulk_record, "bulk email training", today, voice)
    reasons: dict[str, str] = {}
    for action in Action.ALL:
        needed = Action.LEVEL[action]
        verb = Action.VERB[action]
        if granted is None:
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
        elif needed > AccessLevel.VIEWER and operator_problem:
            reasons[action] = (
                f"{operator_problem}: book a training session to {verb} again."
                if you
                else f"{operator_problem}, so {voice.they} cannot {verb} until "
                f"{voice.they} attend a training session."
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
    standing = (
        User.objects.filter(pk=user.pk)
        .annotate(
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
            terms_ok=~Exists(_current_terms_query())
            | Exists(
                TermsAcceptance.objects.filter(
                    user=OuterRef("pk"), terms=Subquery(_current_terms_query().values("pk")[:1])
                )
            ),
        )
        .values(
            "grant_level",
            "second_factor",
            "terms_ok",
            "operator_done",
            "operator_expires",
            "bulk_done",
            "bulk_expires",
        )
        .get()
    )
    granted = AccessLevel(standing["grant_level"]) if standing["grant_level"] else None
    operator_record = (
        _Completion(standing["operator_expires"]) if standing["operator_done"] else None
    )
    bulk_record = _Completion(standing["bulk_expires"]) if standing["bulk_done"] else None
    terms_ok = bool(standing["terms_ok"])

    standing_now = {
        "granted": granted,
        "terms_ok": terms_ok,
        "operator_record": operator_record,
        "bulk_record": bulk_record,
        "second_factor": bool(standing["second_factor"]),
        "today": today,
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


for _action, _predicate in {
    Action.VIEW: can_view_staff_pages,
    Action.EDIT: can_edit_records,
    Action.DELETE: can_delete_records,
    Action.BULK_EMAIL: can_send_bulk_email,
    Action.ADMINISTER: can_administer,
}.items():
    rules.add_perm(f"mycareer.{_action}", _predicate)


class AccessDenied(PermissionDenied):
    """A refusal whose message tells the person why and what to do."""


def require(action: str):
    """View decorator: log in first, then allow only people who may do `action` now."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{settings.LOGIN_URL}?next={request.get_full_path()}")
            access = access_for(request.user)
            if action == Action.ADMINISTER and access.needs_second_factor:
                # Sent to set it up first; the message says why.
                messages.info(request, SECOND_FACTOR_NEEDED)
                return redirect("mfa_activate_totp")
            if not access.can(action):
                raise AccessDenied(access.why_not(action) or "You may not do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_kind(*kinds: str):
    """View decorator for pages that belong to one kind of person (students, employers)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{settings.LOGIN_URL}?next={request.get_full_path()}")
            if request.user.kind not in kinds and not request.user.is_superuser:
                raise AccessDenied("This page is not for your kind of account.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
