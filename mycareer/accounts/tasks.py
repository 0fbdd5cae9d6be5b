from django.conf import settings
from django.utils import timezone

from mycareer.accounts import notifications, selectors
from mycareer.accounts.models import TrainingCourse, TrainingRecord
from mycareer.accounts.notifications import notify
from mycareer.core.mail import send_email
from mycareer.core.retry import email_task

TRAINING_EXPIRY = "accounts.training_expiry"
TRAINING_BOOKED = "accounts.training.booked"


@email_task()
def send_training_booked(record_id: int) -> int:
    """Confirm a place on a training session: when, where, the joining link and its page."""
    record = (
        TrainingRecord.objects.select_related("user", "course", "session", "session__trainer")
        .filter(pk=record_id, status=TrainingRecord.Status.BOOKED, session__isnull=False)
        .first()
    )
    # Cancelled (or recorded) before the worker got to it: nothing to confirm.
    if record is None or record.session is None:
        return 0
    session = record.session
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    when = f"{start:%A %-d %B %Y, %H:%M}–{end:%H:%M}"
    if start.date() != end.date():
        when = f"{start:%A %-d %B %Y, %H:%M} to {end:%A %-d %B %Y, %H:%M}"
    return send_email(
        to=[record.user.email],
        reply_to=[session.trainer.email] if session.trainer else None,
        subject=f"Your place at {record.course.name} on {start:%-d %B %Y}",
        template="accounts/email/training_booked.txt",
        context={
            "record": record,
            "session": session,
            "when": when,
            "session_url": settings.SITE_URL + session.get_absolute_url(),
        },
        kind=TRAINING_BOOKED,
        once=f"{TRAINING_BOOKED}:{record.pk}",
    )


@email_task()
def send_training_expiry_reminders() -> int:
    """Email everyone whose training expires within the reminder window, once per completion."""
    today = timezone.localdate()
    horizon = selectors.training_reminder_horizon(today)
    due = (
        TrainingRecord.objects.filter(
            status=TrainingRecord.Status.COMPLETED,
            expires_on__gte=today,
            expires_on__lte=horizon,
            reminder_sent_at__isnull=True,
            user__is_active=True,
        )
        .select_related("user", "course")
        .order_by("expires_on")
    )
    sent = 0
    for record in due:
        renewed = TrainingRecord.objects.filter(
            user=record.user,
            course=record.course,
            status=TrainingRecord.Status.COMPLETED,
            expires_on__gt=record.expires_on,
        ).exists()
        if not renewed:
            # Someone already booked on a refresher is told so, not asked to book one.
            booked = selectors.training_place_to_come(record.user, record.course)
            notify(
                user=record.user,
                kind=TRAINING_EXPIRY,
                subject=(
                    f"Your {record.course.name} is valid until the end of "
                    f"{record.expires_on:%A %-d %B %Y}"
                ),
                template="accounts/email/training_expiry.txt",
                context={
                    "record": record,
                    "booked": booked.session if booked else None,
                    # Bulk email training lapsing stops sending only: records stay editable.
                    "bulk": record.course.code == TrainingCourse.BULK_EMAIL,
                },
            )
            sent += 1
        # Mark renewed ones too, so they are not looked at again every day.
        TrainingRecord.objects.filter(pk=record.pk).update(reminder_sent_at=timezone.now())
    return sent


@email_task()
def send_notification_digests() -> int:
    """The daily job: each member of staff on a digest gets one email with what waited."""
    return notifications.send_digests()


@email_task()
def send_waiting_notifications(user_id: int) -> int:
    """Someone who left the daily digest: what waited for it, sent now."""
    return notifications.send_waiting(user_id)
