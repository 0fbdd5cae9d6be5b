"""The outbox: each row is claimed by a worker, sent once, and marked sent after the SMTP
server accepted it.

Crash safety: a row is marked `sending` before it goes and `sent` right after the server
accepted it, each in its own committed statement. If the worker dies, rows left in
`sending` are put back to `pending` by the watchdog; only the one message that was on
the wire when the worker died can reach its recipient twice. Every row has a fixed
Message-ID, so a receiving server that keeps them can even drop that duplicate.
"""

import datetime
import smtplib
import time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mycareer.mailing.content import render_for
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.unsubscribe import unsubscribe_mailto, unsubscribe_url

BATCH = 25
MAX_ATTEMPTS = 3
STALE_AFTER = datetime.timedelta(seconds=90)


def promoted_events(campaign: Campaign) -> list:
    """The events a campaign cross-promotes (filled in by the events integration)."""
    from mycareer.mailing import crosspromotion

    return crosspromotion.events_for(campaign)


def build_message(
    row: OutboxMessage, campaign: Campaign, events, connection
) -> EmailMultiAlternatives:
    contact = row.contact
    url = unsubscribe_url(contact.pk, campaign.purpose)
    content = render_for(campaign, contact, events=events, unsubscribe_url=url)
    message = EmailMultiAlternatives(
        subject=content["subject"],
        body=content["text"],
        to=[row.email],
        connection=connection,
        headers={
            "Message-ID": row.message_id,
            "List-Unsubscribe": f"<{url}>, <{unsubscribe_mailto(contact.pk, campaign.purpose)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-MyCareer-Campaign": str(campaign.pk),
        },
    )
    message.attach_alternative(content["html"], "text/html")
    return message


def reset_stale(campaign_id: int, *, older_than: datetime.timedelta = STALE_AFTER) -> int:
    """Put rows a dead worker left half-way back in the queue."""
    cutoff = timezone.now() - older_than
    return OutboxMessage.objects.filter(
        campaign_id=campaign_id, status=OutboxMessage.Status.SENDING, claimed_at__lte=cutoff
    ).update(status=OutboxMessage.Status.PENDING, claimed_at=None)


def _claim(campaign_id: int, size: int) -> list[OutboxMessage]:
    now = timezone.now()
    with transaction.atomic():
        ready = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=OutboxMessage.Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")[:size]
        )
        ids = list(ready.values_list("pk", flat=True))
        if not ids:
            return []
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxMessage.Status.SENDING, claimed_at=now
        )
    return list(
        OutboxMessage.objects.filter(pk__in=ids)
        .select_related("contact__organisation")
        .order_by("pk")
    )


def _record_failure(row: OutboxMessage, error: Exception) -> None:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, detail = next(iter(error.recipients.values()))
        reason = (
            f"{code} {detail.decode(errors='replace') if isinstance(detail, bytes) else detail}"
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        reason = f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    else:
        reason = f"{type(error).__name__}: {error}"
    attempts = row.attempts + 1
    permanent = code is not None and 500 <= int(code) < 600
    if permanent:
        # A hard bounce: mark the address so later campaigns leave it out.
        if row.contact_id:
            type(row.contact).objects.filter(pk=row.contact_id).update(
                email_bounced_at=timezone.now()
            )
        status, next_attempt = OutboxMessage.Status.FAILED, None
    elif attempts >= MAX_ATTEMPTS:
        status, next_attempt = OutboxMessage.Status.FAILED, None
    else:
        status = OutboxMessage.Status.PENDING
        next_attempt = timezone.now() + datetime.timedelta(seconds=30 * 2**attempts)
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=status,
        attempts=attempts,
        next_attempt_at=next_attempt,
        claimed_at=None,
        error=reason[:1000],
    )


def _finish_if_done(campaign_id: int) -> bool:
    open_rows = OutboxMessage.objects.filter(
        campaign_id=campaign_id,
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING],
    )
    if open_rows.exists():
        return False
    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
        status=Campaign.Status.SENT, finished_at=timezone.now()
    )
    return True


def send_campaign_batch(
    campaign_id: int, *, time_budget: float = 50.0, rate: float | None = None
) -> dict:
    """Send what is waiting for up to `time_budget` seconds; returns counts for this run."""
    campaign = Campaign.objects.select_related("sender").get(pk=campaign_id)
    if campaign.status not in (Campaign.Status.QUEUED, Campaign.Status.SENDING):
        return {"sent": 0, "failed": 0, "done": True}
    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.QUEUED).update(
        status=Campaign.Status.SENDING
    )
    rate = rate if rate is not None else settings.MYCAREER["BULK_EMAIL_RATE"]
    interval = 1.0 / rate if rate else 0.0
    events = promoted_events(campaign)
    started = time.monotonic()
    sent = failed = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        while time.monotonic() - started < time_budget:
            if not Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).exists():
                break  # cancelled while sending
            rows = _claim(campaign_id, BATCH)
            if not rows:
                break
            Campaign.objects.filter(pk=campaign_id).update(heartbeat_at=timezone.now())
            for row in rows:
                tick = time.monotonic()
                try:
                    build_message(row, campaign, events, connection).send()
                except (TimeoutError, smtplib.SMTPException, OSError) as error:
                    _record_failure(row, error)
                    failed += 1
                    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
                        connection.close()
                        connection.open()
                    continue
                OutboxMessage.objects.filter(pk=row.pk).update(
                    status=OutboxMessage.Status.SENT,
                    sent_at=timezone.now(),
                    attempts=row.attempts + 1,
                    claimed_at=None,
                    error="",
                )
                sent += 1
                if interval:
                    pause = interval - (time.monotonic() - tick)
                    if pause > 0:
                        time.sleep(pause)
    finally:
        connection.close()
    done = _finish_if_done(campaign_id)
    return {"sent": sent, "failed": failed, "done": done}


def campaign_progress(campaign: Campaign) -> dict:
    from django.db.models import Count

    counts = dict(
        campaign.messages.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    total = sum(counts.values())
    sent = counts.get(OutboxMessage.Status.SENT, 0)
    failed = counts.get(OutboxMessage.Status.FAILED, 0)
    return {
        "total": total,
        "sent": sent,
        "failed": failed,
        "left": total - sent - failed,
        "percent": round(100 * (sent + failed) / total) if total else 0,
    }
