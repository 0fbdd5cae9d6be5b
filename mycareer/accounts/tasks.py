import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from mycareer.accounts.models import TrainingRecord
from mycareer.core.mail import send_message
from mycareer.core.retry import email_task


@email_task()
def send_training_expiry_reminders() -> int:
    """Email everyone whose training expires within the reminder window, once per completion."""
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.MYCAREER["TRAINING_REMINDER_DAYS"])
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
            context = {"record": record, "site_url": settings.SITE_URL}
            send_message(
                EmailMessage(
                    subject=(
                        f"Your MyCareer {record.course.name} expires on "
                        f"{record.expires_on:%-d %B %Y}"
                    ),
                    body=render_to_string("accounts/email/training_expiry.txt", context),
                    to=[record.user.email],
                )
            )
            sent += 1
        # Mark renewed ones too, so they are not looked at again every day.
        TrainingRecord.objects.filter(pk=record.pk).update(reminder_sent_at=timezone.now())
    return sent
