import datetime

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from mycareer.accounts.models import (
    TrainingRecord,
    TrainingSession,
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


def training_sessions_upcoming() -> QuerySet[TrainingSession]:
    return _sessions().filter(ends_at__gte=timezone.now())


def _sessions() -> QuerySet[TrainingSession]:
    return TrainingSession.objects.select_related("course", "trainer").annotate(
        booked=Count("records")
    )


def training_sessions_past() -> QuerySet[TrainingSession]:
    return _sessions().filter(ends_at__lt=timezone.now()).order_by("-starts_at")


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
