import datetime

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from mycareer.accounts.models import (
    AccessGrant,
    TermsAcceptance,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
    User,
)
from mycareer.accounts.permissions import current_terms


def staff_with_access() -> QuerySet[User]:
    """Staff with their current level, training expiry and terms status, in one query."""
    terms = current_terms()
    current_grant = AccessGrant.objects.filter(user=OuterRef("pk"), revoked_at__isnull=True)
    qs = (
        User.objects.filter(kind=User.Kind.STAFF)
        .annotate(
            level=Subquery(current_grant.values("level")[:1]),
            operator_expires=Max(
                "training_records__expires_on",
                filter=Q(
                    training_records__status=TrainingRecord.Status.COMPLETED,
                    training_records__course__code=TrainingCourse.OPERATOR,
                ),
            ),
        )
        .prefetch_related("memberships__unit")
        .order_by("full_name")
    )
    if terms is not None:
        qs = qs.annotate(
            accepted_terms=Exists(TermsAcceptance.objects.filter(user=OuterRef("pk"), terms=terms))
        )
    return qs


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
