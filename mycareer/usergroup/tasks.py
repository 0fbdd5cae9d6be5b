from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.core.mail import send_message
from mycareer.core.retry import email_task
from mycareer.usergroup.models import Announcement


@email_task()
def email_announcement(announcement_id: int) -> int:
    """Email an announcement to every active member of staff, one message each."""
    announcement = Announcement.objects.select_related("published_by").get(pk=announcement_id)
    if announcement.emailed_at:
        return 0
    body = render_to_string(
        "usergroup/email/announcement.txt",
        {"announcement": announcement, "site_url": settings.SITE_URL},
    )
    recipients = User.objects.filter(kind=User.Kind.STAFF, is_active=True).values_list(
        "email", flat=True
    )
    sent = 0
    with get_connection() as connection:
        for email in recipients:
            sent += send_message(
                EmailMessage(
                    subject=f"[MyCareer] {announcement.get_kind_display()}: {announcement.title}",
                    body=body,
                    to=[email],
                    connection=connection,
                )
            )
    Announcement.objects.filter(pk=announcement.pk).update(emailed_at=timezone.now())
    return sent
