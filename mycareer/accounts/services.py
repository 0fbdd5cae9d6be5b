"""Changes to people, access, training and terms. Every change is audited."""

import datetime
import functools
import logging
from collections.abc import Collection
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext

from mycareer import audit
from mycareer.accounts import selectors
from mycareer.accounts.models import (
    AccessGrant,
    AccessLevel,
    NotificationMode,
    TermsAcceptance,
    TermsVersion,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
    User,
)
from mycareer.accounts.permissions import (
    check_perm,
    current_terms,
    forget_access,
    staff_bound_by_terms,
    with_standing,
)
from mycareer.accounts.tasks import send_training_booked, send_waiting_notifications
from mycareer.core.logs import log_event
from mycareer.core.text import joined

logger = logging.getLogger(__name__)


@transaction.atomic
def access_grant(
    *, user: User, level: AccessLevel | int, by: User | None, note: str = ""
) -> AccessGrant:
    """Give a member of staff an access level, replacing any current grant."""
    if user.kind != User.Kind.STAFF:
        raise ValidationError("Only university staff can be given staff access.")
    level = AccessLevel(level)
    now = timezone.now()
    administrators = _administrator_grants_locked()
    previous = (
        AccessGrant.objects.select_for_update(of=("self",))
        .filter(user=user, revoked_at__isnull=True)
        .first()
    )
    if previous is not None:
        if previous.level == level:
            return previous
        _check_not_last_administrator(
            user=user, by=by, current=previous, level=level, administrators=administrators
        )
        previous.revoked_at, previous.revoked_by = now, by
        previous.save(update_fields=["revoked_at", "revoked_by"])
    grant = AccessGrant.objects.create(
        user=user, level=level, granted_by=by, granted_at=now, note=note
    )
    audit.log(
        grant,
        "accounts.access.granted",
        by=by,
        person=user,
        data={
            "level": level.label,
            "previous": AccessLevel(previous.level).label if previous else None,
            "note": note,
        },
    )
    forget_access(user)
    return grant


def _administrator_grants_locked() -> list[int]:
    """The people granted the Administrator level now, their grants locked in one query in
    id order, before any other grant: two administrators stepping down at once then wait
    for each other in turn, never each for the other (which PostgreSQL ends with an
    error)."""
    return list(
        AccessGrant.objects.select_for_update(of=("self",))
        .filter(revoked_at__isnull=True, level__gte=AccessLevel.ADMIN)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


def _check_not_last_administrator(
    *,
    user: User,
    by: User | None,
    current: AccessGrant,
    level: AccessLevel | None,
    administrators: list[int],
) -> None:
    """Refuse to take the Administrator level from the only person who can use it: nobody
    could grant access again, not even to put it back, without a command on the server.

    Another administrator counts only with their operator training in date: only an
    administrator records training, so one whose training lapsed could not get it back.
    (A second step to sign in, or new terms to accept, they can see to themselves.)"""
    if current.level < AccessLevel.ADMIN or (level is not None and level >= AccessLevel.ADMIN):
        return
    others = with_standing(
        User.objects.filter(pk__in=administrators, is_active=True).exclude(pk=user.pk)
    ).filter(operator_valid=True)
    if others.exists() or User.objects.filter(is_superuser=True, is_active=True).exists():
        return
    who = "You are" if by is not None and by.pk == user.pk else f"{user} is"
    raise ValidationError(
        f"{who} the only administrator whose operator training is in date: first grant "
        "the Administrator level to another person whose training is in date. Otherwise "
        "nobody could grant access again."
    )


@transaction.atomic
def access_revoke(*, user: User, by: User | None, note: str = "") -> AccessGrant | None:
    """Take away a member of staff's access level."""
    administrators = _administrator_grants_locked()
    grant = (
        AccessGrant.objects.select_for_update(of=("self",))
        .filter(user=user, revoked_at__isnull=True)
        .first()
    )
    if grant is None:
        return None
    _check_not_last_administrator(
        user=user, by=by, current=grant, level=None, administrators=administrators
    )
    grant.revoked_at, grant.revoked_by = timezone.now(), by
    grant.save(update_fields=["revoked_at", "revoked_by"])
    audit.log(
        grant,
        "accounts.access.revoked",
        by=by,
        person=user,
        data={"level": AccessLevel(grant.level).label, "note": note},
    )
    forget_access(user)
    return grant


def training_session_check_start(
    *, starts_at: datetime.datetime, was: datetime.datetime | None = None
) -> None:
    """Refuse a session that would start in the past: nobody could book it, and attendance
    is recorded only for people who booked. An existing session keeps its start once it
    has begun (`was`): saving it unchanged is no new start in the past."""
    if was is not None and _to_the_minute(starts_at) == _to_the_minute(was):
        return
    now = timezone.localtime()
    if starts_at > now:
        return
    log_event(logger, "accounts.training_session.refused", reason="starts in the past")
    raise ValidationError(
        {
            "starts_at": f"A session cannot start in the past: it is already {now:%H:%M} on "
            f"{now:%-d %B %Y}. Choose a later start.",
        },
        code="starts_in_the_past",
    )


def _to_the_minute(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(second=0, microsecond=0)


@transaction.atomic
def training_session_create(
    *,
    course: TrainingCourse,
    kind: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    place: str,
    capacity: int,
    by: User | None,
    trainer: User | None = None,
    online_url: str = "",
) -> TrainingSession:
    """Schedule a training session."""
    training_session_check_start(starts_at=starts_at)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The session must end after it starts."})
    if place.strip().lower().startswith("online") and not online_url:
        # A session cannot be edited once scheduled: without its link now, those who
        # book would be told "Online" and never how to join.
        raise ValidationError(
            {"online_url": "An online session needs its joining link: those who book get it."}
        )
    session = TrainingSession.objects.create(
        course=course,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        online_url=online_url,
        capacity=capacity,
        trainer=trainer,
    )
    audit.log(
        session,
        "accounts.training_session.created",
        by=by,
        data={"course": course.code, "starts_at": starts_at.isoformat(), "place": place},
    )
    return session


@transaction.atomic
def training_book(
    *, session: TrainingSession, user: User, by: User | None, notify: bool = True
) -> TrainingRecord:
    """Book a member of staff onto a training session, within its capacity; they are sent
    a confirmation with when, where and the joining link (unless `notify` is False)."""
    if user.kind != User.Kind.STAFF:
        raise ValidationError("Training sessions are for university staff.")
    # Lock the session row so two last-place bookings cannot both succeed.
    session = TrainingSession.objects.select_for_update().get(pk=session.pk)
    if session.starts_at <= timezone.now():
        raise ValidationError("This session has already started.")
    existing = TrainingRecord.objects.filter(session=session, user=user).first()
    if existing is not None:
        return existing
    other = selectors.training_place_to_come(user, session.course)
    if other is not None and other.session is not None:
        # A second place on the same course kept one from a colleague who needs it.
        when = date_format(timezone.localtime(other.session.starts_at), "j F Y")
        log_event(logger, "accounts.training.refused", reason="already_booked", user=user.pk)
        raise ValidationError(
            f"{'You are' if by == user else f'{user} is'} already booked on this training on "
            f"{when}: cancel that place first to take this one."
        )
    taken = TrainingRecord.objects.filter(session=session).count()
    if taken >= session.capacity:
        raise ValidationError("This session is full: choose another date.")
    record = TrainingRecord.objects.create(
        user=user, course=session.course, session=session, status=TrainingRecord.Status.BOOKED
    )
    audit.log(record, "accounts.training.booked", by=by, person=user, data={"session": session.pk})
    if notify:
        transaction.on_commit(functools.partial(send_training_booked.enqueue, record.pk))
    return record


@transaction.atomic
def training_cancel(*, record: TrainingRecord, by: User | None) -> None:
    """Cancel a booking on a session that has not happened yet."""
    if record.status != TrainingRecord.Status.BOOKED:
        raise ValidationError("Only a booked place can be cancelled.")
    if record.session is not None and record.session.starts_at <= timezone.now():
        # Cancelled afterwards, the place would vanish from the trainer's attendance list:
        # someone who stayed away would leave no absence, and one who came no completion.
        raise ValidationError(
            "This session has already started: the trainer records who attended. "
            "If you could not come, book another session."
        )
    audit.log(
        record,
        "accounts.training.cancelled",
        by=by,
        person=record.user,
        data={"session": record.session_id},
    )
    record.delete()


def _completion_dates(course: TrainingCourse, completed_on: datetime.date):
    return completed_on, completed_on + datetime.timedelta(days=course.valid_days)


class AttendanceRecorded(NamedTuple):
    """A session's records after recording attendance, and how many it changed."""

    records: list[TrainingRecord]
    changed: int


def _names(people: list[User], *, most: int = 5) -> str:
    """ "Sam Patel, Tom Bennett and Ravi Shah"; past `most`, the rest as a number."""
    names = [str(person) for person in people[:most]]
    rest = len(people) - len(names)
    if rest:
        names.append(ngettext("%(n)d other", "%(n)d others", rest) % {"n": rest})
    return joined(names)


# What each course's completion lets a person do, and the level granted that needs it.
_ACCESS_FROM = {
    TrainingCourse.OPERATOR: ("operator access", AccessLevel.OPERATOR),
    TrainingCourse.BULK_EMAIL: ("bulk email access", AccessLevel.BULK_MAILER),
}


class CompletionsToTakeAway(ValidationError):
    """The ticks would take a completion away from people who have it, and the person
    recording did not confirm it for them: nothing was saved. `people` says who, and
    `ids` is what to send back as the confirmation."""

    def __init__(self, *, session: TrainingSession, people: list[User], losing_access: list[User]):
        self.people = people
        self.ids = sorted(person.pk for person in people)
        count = len(people)
        taken = ngettext(
            "Recording these ticks would take the completion away from %(count)d person — "
            "%(names)s",
            "Recording these ticks would take the completion away from %(count)d people — "
            "%(names)s",
            count,
        ) % {"count": count, "names": _names(people)}
        access = _ACCESS_FROM.get(session.course.code, ("access", None))[0]
        if len(losing_access) == count:
            said = f"{taken} — and with it their {access}."
        elif losing_access:
            said = f"{taken} — and with it the {access} of {_names(losing_access)}."
        else:
            said = f"{taken}. None of them loses {access} by it."
        super().__init__(said, code="completions_to_take_away")


def _completions_taken_away(
    *, session: TrainingSession, attended_ids: set[int], confirmed: Collection[int]
) -> None:
    """Refuse ticks that take a completion away from anyone not in `confirmed`."""
    losing = list(
        TrainingRecord.objects.select_for_update()
        .filter(session=session, status=TrainingRecord.Status.COMPLETED)
        .exclude(user_id__in=attended_ids)
        .select_related("user")
        .order_by("user__full_name")
    )
    if not losing or {record.user_id for record in losing} <= set(confirmed):
        return
    today = timezone.localdate()
    # Access goes with the completion only for someone granted the level that needs it,
    # while the completion is valid and no other one still is.
    needs = _ACCESS_FROM.get(session.course.code, ("", None))[1]
    granted = (
        set(
            AccessGrant.objects.filter(
                user_id__in=[record.user_id for record in losing],
                revoked_at__isnull=True,
                level__gte=needs,
            ).values_list("user_id", flat=True)
        )
        if needs is not None
        else set()
    )
    still_valid = set(
        TrainingRecord.objects.filter(
            user_id__in=[record.user_id for record in losing],
            course=session.course,
            status=TrainingRecord.Status.COMPLETED,
            expires_on__gte=today,
        )
        .exclude(session=session)
        .values_list("user_id", flat=True)
    )
    losing_access = [
        record.user
        for record in losing
        if record.user_id in granted
        and record.expires_on is not None
        and record.expires_on >= today
        and record.user_id not in still_valid
    ]
    log_event(
        logger,
        "accounts.training.refused",
        reason="completions_unconfirmed",
        session=session.pk,
        count=len(losing),
    )
    raise CompletionsToTakeAway(
        session=session, people=[record.user for record in losing], losing_access=losing_access
    )


@transaction.atomic
def training_attendance_record(
    *,
    session: TrainingSession,
    attended: list[User],
    by: User | None,
    confirmed_removals: Collection[int] = (),
) -> AttendanceRecorded:
    """Record who attended a session: they complete the course; other bookings are absent.

    Someone who attended without booking is added to the session as they are recorded.
    A record already as recorded is left as it is, with who recorded it: the same ticks
    sent again change nothing.

    Refused before the session starts: a tick there made a person an operator for a
    course they had not yet taken, and marked the others absent from it.

    Taking a completion away (and with it the access it gives) needs the person's id in
    `confirmed_removals`: otherwise nothing is saved and `CompletionsToTakeAway` names
    everyone it would take it from.
    """
    if session.starts_at > timezone.now():
        starts = timezone.localtime(session.starts_at)
        raise ValidationError(
            f"Attendance can be recorded once the session has started, at {starts:%H:%M} on "
            f"{starts:%-d %B %Y}."
        )
    if any(user.kind != User.Kind.STAFF for user in attended):
        raise ValidationError("Training sessions are for university staff.")
    attended_ids = {u.pk for u in attended}
    _completions_taken_away(
        session=session, attended_ids=attended_ids, confirmed=confirmed_removals
    )
    completed_on, expires_on = _completion_dates(
        session.course, timezone.localtime(session.starts_at).date()
    )
    records = []
    changed = 0
    # Someone who came without booking (an ad-hoc session) gets a record here, and then
    # completes the course like everyone booked.
    unbooked = set()
    for user in attended:
        _, created = TrainingRecord.objects.get_or_create(
            session=session, user=user, defaults={"course": session.course}
        )
        if created:
            unbooked.add(user.pk)
    for record in (
        TrainingRecord.objects.select_for_update().filter(session=session).select_related("user")
    ):
        before = (record.status, record.completed_on, record.expires_on)
        if record.user_id in attended_ids:
            record.status = TrainingRecord.Status.COMPLETED
            record.completed_on, record.expires_on = completed_on, expires_on
        else:
            record.status = TrainingRecord.Status.ABSENT
            record.completed_on = record.expires_on = None
        if before == (record.status, record.completed_on, record.expires_on):
            records.append(record)
            continue
        changed += 1
        record.recorded_by = by
        record.save()
        if before[0] != record.status:
            audit.log(
                record,
                "accounts.training.recorded",
                by=by,
                person=record.user,
                data={
                    "course": session.course.code,
                    "status": record.status,
                    "expires_on": expires_on.isoformat() if record.expires_on else None,
                    **({"booked": False} if record.user_id in unbooked else {}),
                },
            )
        forget_access(record.user)
        records.append(record)
    if changed or session.attendance_recorded_at is None:
        session.attendance_recorded_at = timezone.now()
        session.save(update_fields=["attendance_recorded_at"])
    return AttendanceRecorded(records, changed)


@transaction.atomic
def training_completion_record(
    *, user: User, course: TrainingCourse, completed_on: datetime.date, by: User | None
) -> TrainingRecord:
    """Record a completion outside a scheduled session (for example, training elsewhere)."""
    completed_on, expires_on = _completion_dates(course, completed_on)
    record = TrainingRecord.objects.create(
        user=user,
        course=course,
        status=TrainingRecord.Status.COMPLETED,
        completed_on=completed_on,
        expires_on=expires_on,
        recorded_by=by,
    )
    audit.log(
        record,
        "accounts.training.recorded",
        by=by,
        person=user,
        data={"course": course.code, "status": record.status, "expires_on": expires_on.isoformat()},
    )
    forget_access(user)
    return record


class TermsAlreadyPublished(ValidationError):
    """These very words were published under this version number already (a second press)."""

    def __init__(self, terms: TermsVersion):
        self.terms = terms
        super().__init__(
            f"Version {terms.version} is already published; it was not published again.",
            code="already_published",
        )


class TermsAudienceChanged(ValidationError):
    """The number of people asked to accept is not the number the publisher confirmed."""

    def __init__(self, *, confirmed: int, now: int):
        self.confirmed, self.now = confirmed, now
        super().__init__(
            ngettext(
                "%(now)d person would now be asked to accept the terms (you confirmed "
                "%(confirmed)d). Check the number and confirm again.",
                "%(now)d people would now be asked to accept the terms (you confirmed "
                "%(confirmed)d). Check the number and confirm again.",
                now,
            )
            % {"now": now, "confirmed": confirmed},
            code="terms_audience_changed",
        )


def terms_check_new(*, version: str, title: str, body: str) -> None:
    """Refuse a version number already used: raises TermsAlreadyPublished for the same
    words (pressed twice), a ValidationError for other words under that number."""
    existing = TermsVersion.objects.filter(version=version).first()
    if existing is None:
        return
    if existing.title == title and existing.body == body:
        raise TermsAlreadyPublished(existing)
    raise ValidationError(
        {
            "version": f"Version {version} is already published with other words: "
            "give this text a new version number."
        }
    )


def terms_published_by(*, user: User, version: str, title: str, body: str) -> TermsVersion | None:
    """The current terms if `user` published them with exactly these words (a second press
    of the publish button); else None, and nothing about other versions is told."""
    current = current_terms()
    if current is None or current.published_by_id != user.pk:
        return None
    return (
        current
        if (current.version, current.title, current.body) == (version, title, body)
        else None
    )


@transaction.atomic
def terms_publish(
    *, version: str, title: str, body: str, by: User | None, confirmed: int
) -> TermsVersion:
    """Publish a new version of the usage terms; everyone `staff_bound_by_terms` counts
    accepts it before going on. `confirmed` is that number as the publisher saw it."""
    terms_check_new(version=version, title=title, body=body)
    asked = staff_bound_by_terms().count()
    if confirmed != asked:
        raise TermsAudienceChanged(confirmed=confirmed, now=asked)
    try:
        with transaction.atomic():
            terms = TermsVersion.objects.create(
                version=version, title=title, body=body, published_by=by
            )
    except IntegrityError:
        # Pressed twice at the same moment: the other press published it first.
        terms_check_new(version=version, title=title, body=body)
        raise
    audit.log(terms, "accounts.terms.published", by=by, data={"version": version, "asked": asked})
    log_event(
        logger,
        "accounts.terms.published",
        terms=terms.pk,
        by=by.pk if by else None,
        asked=asked,
    )
    if by is not None:
        forget_access(by)  # the publisher, too, has a new version to accept
    return terms


@transaction.atomic
def terms_accept(*, user: User, terms: TermsVersion) -> TermsAcceptance:
    """Record that a person accepted a version of the usage terms."""
    acceptance, created = TermsAcceptance.objects.get_or_create(user=user, terms=terms)
    if created:
        audit.log(
            acceptance,
            "accounts.terms.accepted",
            by=user,
            person=user,
            data={"version": terms.version},
        )
    forget_access(user)
    return acceptance


# Staff profiles -----------------------------------------------------------------------

STAFF_PROFILE_FIELDS = (
    "job_title",
    "phone",
    "photo",
    "about",
    "notification_mode",
    "notifications_off",
)


@transaction.atomic
def staff_profile_update(*, user: User, by: User, **data) -> list[str]:
    """Change what colleagues see of a member of staff and how MyCareer emails them.

    `photo` is a new file, False to remove the photo, or None to keep it. Returns the
    names of the fields that changed (recorded in the audit trail, not their values).
    """
    check_perm(by, "accounts.change_profile", user)
    unknown = set(data) - set(STAFF_PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    changed = []
    old_photo = user.photo.name if user.photo else ""
    for name, value in data.items():
        if name == "photo":
            if value is None or (value is False and not old_photo):
                continue
            user.photo = "" if value is False else value
        elif _same_value(name, getattr(user, name), value):
            continue
        else:
            setattr(user, name, value)
        changed.append(name)
    if not changed:
        return []
    user.full_clean(exclude=["password", "feed_token", "email"])
    user.save(update_fields=changed)
    if "photo" in changed and old_photo:
        # The old photo is personal data nobody sees any more: do not keep it.
        transaction.on_commit(lambda: user.photo.storage.delete(old_photo))
    if "notification_mode" in changed and user.notification_mode == NotificationMode.IMMEDIATE:
        # Back to emails as things happen: what waited for the digest comes now, not the
        # next morning in a digest that says they chose one.
        transaction.on_commit(functools.partial(send_waiting_notifications.enqueue, user.pk))
    audit.log(user, "accounts.profile.changed", by=by, person=user, data={"fields": changed})
    return changed


def _same_value(name: str, stored, value) -> bool:
    """Whether a profile value is the one stored: kinds of email turned off are a set,
    stored in whatever order they were written."""
    if name == "notifications_off":
        return sorted(stored or []) == sorted(value or [])
    return bool(stored == value)


def dashboard_order_move(*, user: User, panel: str, offset: int, shown: list[str]) -> list[str]:
    """Move one home-page panel up (-1) or down (+1) among the panels `shown` to this person.

    The saved order keeps panels not shown now (another role's), after those shown.
    """
    order = [p for p in user.dashboard_order if p in shown]
    order += [p for p in shown if p not in order]
    if panel not in order:
        raise ValidationError("That panel is not on your home page.")
    index = order.index(panel)
    target = max(0, min(len(order) - 1, index + offset))
    order.insert(target, order.pop(index))
    kept = [p for p in user.dashboard_order if p not in order]
    user.dashboard_order = order + kept
    user.save(update_fields=["dashboard_order"])
    return order
