import datetime

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from mycareer.accounts.models import (
    AccessLevel,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
    Unit,
    UnknownDepartmentCode,
    User,
)
from mycareer.accounts.permissions import with_standing


def staff_with_access(*, today: datetime.date | None = None) -> QuerySet[User]:
    """Staff with their current level, training and terms as access judges them, in one query.

    Validity comes from `with_standing`, the annotations `compute_access` itself reads
    (`grant_level`, `operator_expires`, `operator_valid`, `terms_ok`…).
    """
    return (
        with_standing(User.objects.filter(kind=User.Kind.STAFF), today=today)
        .prefetch_related("memberships__unit")
        .order_by("full_name")
    )


def administrators() -> list[User]:
    """Active people who may administer now (granted, trained, second factor), by name."""
    granted = Q(access_grants__level=AccessLevel.ADMIN, access_grants__revoked_at__isnull=True)
    candidates = User.objects.filter(granted | Q(is_superuser=True), is_active=True).distinct()
    return [p for p in candidates.order_by("full_name") if p.has_perm("mycareer.administer")]


def training_sessions_upcoming() -> QuerySet[TrainingSession]:
    # Counting places groups the query, and a grouped query drops Meta.ordering.
    return _sessions().filter(ends_at__gte=timezone.now()).order_by("starts_at")


def training_sessions_bookable() -> QuerySet[TrainingSession]:
    """Sessions not yet started: one under way is still upcoming, but no longer bookable."""
    return training_sessions_upcoming().filter(starts_at__gt=timezone.now())


def training_sessions_under_way() -> QuerySet[TrainingSession]:
    """Sessions started and not yet ended: no longer coming up, not yet past."""
    return training_sessions_upcoming().filter(starts_at__lte=timezone.now())


def training_reminder_horizon(today: datetime.date) -> datetime.date:
    """The last day within the reminder window: training that runs out by then is
    reminded of, by email and on the person's home page."""
    return today + datetime.timedelta(days=settings.MYCAREER["TRAINING_REMINDER_DAYS"])


def training_running_out(
    user: User, expires_on: datetime.date | None, *, course: str = TrainingCourse.OPERATOR
) -> dict | None:
    """When the person's training on `course` (valid until `expires_on`) runs out within the
    reminder window: the day, the days left, and the refresher they are booked on, if any."""
    today = timezone.localdate()
    if expires_on is None or not today <= expires_on <= training_reminder_horizon(today):
        return None
    found = TrainingCourse.objects.filter(code=course).first()
    place = training_place_to_come(user, found) if found else None
    return {
        "expires_on": expires_on,
        "days_left": (expires_on - today).days,
        "booked": place.session if place else None,
    }


def operator_training_running_out(user: User, expires_on: datetime.date | None) -> dict | None:
    """`training_running_out` for operator training."""
    return training_running_out(user, expires_on, course=TrainingCourse.OPERATOR)


def training_place_to_come(user: User, course) -> TrainingRecord | None:
    """The person's place on a session of the course not yet started, if they have one
    (one at a time: `training_book`)."""
    return (
        TrainingRecord.objects.filter(
            user=user,
            course=course,
            status=TrainingRecord.Status.BOOKED,
            session__starts_at__gt=timezone.now(),
        )
        .select_related("session")
        .order_by("session__starts_at")
        .first()
    )


def _sessions() -> QuerySet[TrainingSession]:
    return TrainingSession.objects.select_related("course", "trainer").annotate(
        booked=Count("records")
    )


def training_sessions_past() -> QuerySet[TrainingSession]:
    """Sessions that have ended, with who came once attendance is recorded: its records
    then hold the people who walked in as well as those who booked."""
    came = TrainingRecord.Status.COMPLETED
    return (
        _sessions()
        .annotate(
            attended=Count("records", filter=Q(records__status=came)),
            absent=Count("records", filter=Q(records__status=TrainingRecord.Status.ABSENT)),
        )
        .filter(ends_at__lt=timezone.now())
        .order_by("-starts_at")
    )


def staff_named(text: str) -> QuerySet[User]:
    """Active staff logins whose email is `text`, else whose name is, else whose name holds it."""
    text = text.strip()
    staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("full_name")
    if "@" in text:
        return staff.filter(email__iexact=text)
    exact = staff.filter(full_name__iexact=text)
    return exact if exact.exists() else staff.filter(full_name__icontains=text)


def training_expiring(*, within_days: int = 30) -> QuerySet[TrainingRecord]:
    """Completions that expire within `within_days`, or have expired, and were not renewed."""
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=within_days)
    newer = TrainingRecord.objects.filter(
        user=OuterRef("user"),
        course=OuterRef("course"),
        status=TrainingRecord.Status.COMPLETED,
        expires_on__gt=OuterRef("expires_on"),
    )
    return (
        TrainingRecord.objects.filter(
            status=TrainingRecord.Status.COMPLETED,
            expires_on__lte=horizon,
            user__is_active=True,
        )
        .exclude(Exists(newer))
        .select_related("user", "course")
        .order_by("expires_on", "user__full_name")
    )


def unknown_department_codes() -> QuerySet[UnknownDepartmentCode]:
    """Department codes the university sign-in sent that still name no unit."""
    return UnknownDepartmentCode.objects.exclude(code__in=Unit.objects.values("code"))


def member_units(user) -> list[tuple[int, str]]:
    """The units a member of staff belongs to, as (id, name) by name.

    Kept on the user for the request: the pages that ask (what events they may see,
    which unit a note is for) each asked the database again.
    """
    cached = getattr(user, "_member_units", None)
    if cached is None:
        cached = list(
            Unit.objects.filter(memberships__user=user)
            .order_by("name", "pk")
            .values_list("pk", "name")
        )
        remember_member_units(user, cached)
    return cached


def remember_member_units(user, units: list[tuple[int, str]]) -> None:
    """Keep a person's units, read with something else, for `member_units`."""
    user._member_units = units
