"""The outbox: each row is claimed by a worker, sent once, and marked sent after the SMTP
server accepted it.

Claims. A worker claims a batch of rows with a token of its own and an expiry (the
lease), renews the expiry with its heartbeat (every few seconds, well within a lease),
checks before each message that it still holds the row and that the campaign is still
sending, and marks a row sent only while it still holds it (the token is its own and
the row is still "sending"). A row whose lease ran out goes back to waiting. So a
worker that is merely slow never has its rows taken from under it, one that lost them
never writes over another's work, and a cancelled campaign stops at its next message,
not at the end of the batch: the rows its worker still held are dropped, as cancelling
dropped those waiting.

Chains. One sending task at a time works on a campaign: the campaign records which
task is its current link (`sending_task_id`); a link that finds it is no longer the
current one stops, and each link hands on to the next before it ends. The watchdog
starts a new chain only when the current link is neither waiting to run nor running
with a fresh heartbeat.

What can still happen twice: if a worker is killed after the SMTP server accepted a
message and before "sent" is written, that one message goes again when its lease runs
out. Every row has a fixed Message-ID, so a receiving server that keeps them can drop
that duplicate.
"""

import datetime
import logging
import secrets
import smtplib
import time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Min, Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format, number_format

from mycareer.core.logs import log_event
from mycareer.core.mail import careers_centre_address, deliver
from mycareer.mailing import crosspromotion
from mycareer.mailing.content import render_for
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.mailing.recipients import address_facts
from mycareer.mailing.unsubscribe import unsubscribe_mailto, unsubscribe_url
from mycareer.organisations.keyaccounts import agreed_links, key_contact_exclusion
from mycareer.organisations.models import EmailOptOut, KeyContact, Organisation
from mycareer.organisations.optouts import opt_outs_by_address

logger = logging.getLogger(__name__)

BATCH = 25
MAX_ATTEMPTS = 3
# A heartbeat at most this often: each one is a write.
HEARTBEAT_EVERY = 5.0


def lease() -> datetime.timedelta:
    """How long a claim holds without renewal: longer than one message can take."""
    return datetime.timedelta(seconds=settings.MYCAREER["OUTBOX_LEASE_SECONDS"])


def gather() -> datetime.timedelta:
    """Retries due this soon go with those due now, so one connection serves them all."""
    return datetime.timedelta(seconds=settings.MYCAREER["OUTBOX_RETRY_SECONDS"] / 10)


def promoted_events(campaign: Campaign) -> list:
    """The events a campaign cross-promotes."""

    return crosspromotion.events_for(campaign)


def build_message(
    row: OutboxMessage, campaign: Campaign, events, connection
) -> EmailMultiAlternatives:
    contact = row.contact
    url = unsubscribe_url(contact.pk, campaign.purpose, address=row.email)
    content = render_for(campaign, contact, events=events, unsubscribe_url=url)
    message = _BuiltOnce(
        subject=content["subject"],
        body=content["text"],
        to=[row.email],
        reply_to=[_reply_address(campaign)],
        connection=connection,
        headers={
            "Message-ID": row.message_id,
            "List-Unsubscribe": (
                f"<{url}>, <{unsubscribe_mailto(contact.pk, campaign.purpose, address=row.email)}>"
            ),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-MyCareer-Campaign": str(campaign.pk),
        },
    )
    message.attach_alternative(content["html"], "text/html")
    # Build it now, so a bad header fails here, for this row alone, not on the wire.
    message.message()
    return message


def _reply_address(campaign: Campaign) -> str:
    """A reply goes to the person who wrote it, not to the site's sending address; once
    they have left (a campaign queued or retried after), to the Careers Centre, whose
    address the footer gives instead of inviting a reply to them."""
    sender = campaign.sender
    if sender.is_active and sender.email:
        return sender.email
    return careers_centre_address()


class _BuiltOnce(EmailMultiAlternatives):
    """A message built once: checked when made (`build_message`), then sent as built,
    where the mail backend would build every part and header again."""

    _built = None

    def message(self, **kwargs):
        if self._built is None or kwargs:
            self._built = super().message(**kwargs)
        return self._built


def release_expired(campaign_id: int, *, now: datetime.datetime | None = None) -> int:
    """Put rows whose claim ran out (a dead or stuck worker's) back in the queue, or drop
    them if their campaign was cancelled: no worker will come back for those."""
    now = now or timezone.now()
    expired = OutboxMessage.objects.filter(
        campaign_id=campaign_id,
        status=OutboxMessage.Status.SENDING,
        claim_expires_at__lt=now,
    )
    if Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.CANCELLED).exists():
        return _drop_cancelled(expired, campaign_id)
    released = expired.update(
        status=OutboxMessage.Status.PENDING, claim_token="", claim_expires_at=None
    )
    if released:
        log_event(
            logger,
            "mailing.outbox.claims_expired",
            level=logging.WARNING,
            campaign=campaign_id,
            released=released,
        )
    return released


def _drop_cancelled(rows, campaign_id: int) -> int:
    """Drop rows of a cancelled campaign: kept as "not sent: cancelled", and counted with
    those the cancel dropped, so the campaign says what never went."""
    with transaction.atomic():
        dropped = rows.update(
            status=OutboxMessage.Status.CANCELLED,
            claim_token="",
            claim_expires_at=None,
            next_attempt_at=None,
        )
        if dropped:
            Campaign.objects.filter(pk=campaign_id).update(
                not_sent=Coalesce(F("not_sent"), 0) + dropped
            )
    if dropped:
        log_event(logger, "mailing.outbox.dropped_on_cancel", campaign=campaign_id, dropped=dropped)
    return dropped


def sweep_cancelled(*, now: datetime.datetime | None = None) -> int:
    """Drop what cancelled campaigns still have waiting, or claimed by a worker that died
    after the cancel: left as they were, they would count against the frequency limit and
    read as "waiting" on the campaign's page for ever."""
    now = now or timezone.now()
    left = Q(status=OutboxMessage.Status.PENDING) | Q(
        status=OutboxMessage.Status.SENDING, claim_expires_at__lt=now
    )
    campaigns = (
        OutboxMessage.objects.filter(left, campaign__status=Campaign.Status.CANCELLED)
        .order_by()
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    return sum(
        _drop_cancelled(OutboxMessage.objects.filter(left, campaign_id=campaign_id), campaign_id)
        for campaign_id in list(campaigns)
    )


def _claim(campaign_id: int, size: int, token: str) -> list[OutboxMessage]:
    now = timezone.now()
    with transaction.atomic():
        ready = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=OutboxMessage.Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + gather()))
            .order_by("pk")[:size]
        )
        ids = list(ready.values_list("pk", flat=True))
        if not ids:
            return []
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.SENDING,
            claim_token=token,
            claim_expires_at=now + lease(),
        )
    return _with_contacts(OutboxMessage.objects.filter(pk__in=ids, claim_token=token))


def _with_contacts(rows) -> list[OutboxMessage]:
    """Rows as sending reads them: each contact, its organisation and key-contact links."""
    return list(
        rows.select_related("contact__organisation")
        .prefetch_related(
            Prefetch(
                "contact__key_links",
                queryset=KeyContact.objects.select_related("key_account__operator"),
            )
        )
        .order_by("pk")
    )


def _held(token: str):
    return OutboxMessage.objects.filter(claim_token=token, status=OutboxMessage.Status.SENDING)


def _renew(token: str) -> None:
    """Extend the claim on the rows this worker still holds."""
    _held(token).update(claim_expires_at=timezone.now() + lease())


def _now_held(row: OutboxMessage, token: str) -> tuple[str, int | None] | None:
    """The row's address and contact as they are now, if this worker still holds it and
    its campaign is still sending (an erasure rewrites the address; a deletion the contact)."""
    return (
        _held(token)
        .filter(pk=row.pk, campaign__status=Campaign.Status.SENDING)
        .values_list("email", "contact_id")
        .first()
    )


def _release(token: str, campaign_id: int) -> None:
    """Give back the rows still held: to the queue, or dropped if the campaign was
    cancelled meanwhile (cancelling dropped the waiting ones, not those claimed), with
    any put back to wait after the cancel (a retry, an expired claim)."""
    held = _held(token)
    if Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.CANCELLED).exists():
        _drop_cancelled(
            OutboxMessage.objects.filter(campaign_id=campaign_id).filter(
                Q(claim_token=token, status=OutboxMessage.Status.SENDING)
                | Q(status=OutboxMessage.Status.PENDING)
            ),
            campaign_id,
        )
        return
    held.update(status=OutboxMessage.Status.PENDING, claim_token="", claim_expires_at=None)


def _mark_sent(row: OutboxMessage, token: str) -> bool:
    return bool(
        _held(token)
        .filter(pk=row.pk)
        .update(
            status=OutboxMessage.Status.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            claim_token="",
            claim_expires_at=None,
            error="",
        )
    )


ERASED_ADDRESS = "@erased.invalid"
GONE = "their record was deleted or erased after the email was queued"


def _stopped(rows: list[OutboxMessage], campaign: Campaign) -> dict[int, str]:
    """The claimed rows that must not go after all, each with why: since the campaign was
    queued, the person left this kind of bulk email (through any record of the address),
    their record was deleted or erased, their address bounced another email, their
    organisation stopped being active, or they are a key contact whose owner's agreement
    the sender does not have (any more).

    A campaign can send for hours after it is queued (retries, a mail server that is
    down), and an opt-out is honoured at once. Checked at each heartbeat for the rows of
    the batch still to go, as the queueing checked them: the address's every record
    counts for bounces and key contacts (`recipients.address_facts`).
    """
    keeping_out = EmailOptOut.keeping_out(campaign.purpose)
    by_address = opt_outs_by_address(row.email for row in rows)
    facts = address_facts({row.email.lower() for row in rows if row.email}, campaign.sender)
    by_record = set(
        EmailOptOut.objects.filter(
            contact_id__in=[row.contact_id for row in rows if row.contact_id],
            purpose__in=keeping_out,
        ).values_list("contact_id", flat=True)
    )
    links = [link for row in rows if row.contact for link in row.contact.key_links_list]
    agreed = agreed_links(campaign.sender, links)
    stopped = {}
    for row in rows:
        contact, email = row.contact, row.email.lower()
        if contact is None or email.endswith(ERASED_ADDRESS):
            stopped[row.pk] = GONE
        elif row.contact_id in by_record or by_address.get(email, set()) & keeping_out:
            stopped[row.pk] = "they opted out of this kind of email after it was queued"
        elif contact.email_bounced_at or email in facts.bounced:
            stopped[row.pk] = "their address bounced an email after this one was queued"
        elif contact.organisation.status != Organisation.Status.ACTIVE:
            stopped[row.pk] = "their organisation stopped being active after it was queued"
        elif exclusion := key_contact_exclusion(
            contact=contact, sender=campaign.sender, agreed=agreed
        ) or facts.protected.get(email):
            stopped[row.pk] = f"{exclusion} when it was to be sent"
    return stopped


def _mark_stopped(row: OutboxMessage, token: str, reason: str) -> bool:
    marked = (
        _held(token)
        .filter(pk=row.pk)
        .update(
            status=OutboxMessage.Status.STOPPED,
            claim_token="",
            claim_expires_at=None,
            next_attempt_at=None,
            error=reason,
        )
    )
    if marked:
        log_event(
            logger,
            "mailing.outbox.stopped",
            campaign=row.campaign_id,
            message=row.pk,
            reason=reason,
        )
    return bool(marked)


def _reason(error: Exception) -> tuple[int | None, str]:
    """The SMTP code (if the server gave one) and a readable reason."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, detail = next(iter(error.recipients.values()))
        detail = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return int(code), f"{code} {detail}"
    if isinstance(error, smtplib.SMTPResponseException):
        detail = error.smtp_error
        detail = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return int(error.smtp_code), f"{error.smtp_code} {detail}"
    return None, f"{type(error).__name__}: {error}"


def _record_failure(row: OutboxMessage, token: str, error: Exception, *, permanent: bool) -> None:
    """Mark a row failed for good, or waiting again after a delay that grows per attempt."""
    code, reason = _reason(error)
    attempts = row.attempts + 1
    bounced = isinstance(error, smtplib.SMTPRecipientsRefused) and code and 500 <= code < 600
    if bounced and row.contact_id:
        # A hard bounce: mark the address so later campaigns leave it out.
        type(row.contact).objects.filter(pk=row.contact_id).update(email_bounced_at=timezone.now())
    if permanent or attempts >= MAX_ATTEMPTS:
        status, next_attempt = OutboxMessage.Status.FAILED, None
    elif Campaign.objects.filter(pk=row.campaign_id, status=Campaign.Status.CANCELLED).exists():
        # Cancelled while it was being tried: it will not be tried again, and waiting it
        # would count against the frequency limit for ever.
        status, next_attempt = OutboxMessage.Status.CANCELLED, None
    else:
        status = OutboxMessage.Status.PENDING
        next_attempt = timezone.now() + retry_delay(attempts)
    with transaction.atomic():
        written = (
            _held(token)
            .filter(pk=row.pk)
            .update(
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt,
                claim_token="",
                claim_expires_at=None,
                error=reason[:1000],
            )
        )
        if written and status == OutboxMessage.Status.CANCELLED:
            Campaign.objects.filter(pk=row.campaign_id).update(
                not_sent=Coalesce(F("not_sent"), 0) + 1
            )
    log_event(
        logger,
        "mailing.outbox.message_failed",
        level=logging.WARNING,
        campaign=row.campaign_id,
        message=row.pk,
        attempt=attempts,
        final=status == OutboxMessage.Status.FAILED,
        reason=reason[:200],
    )


def retry_delay(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(
        seconds=settings.MYCAREER["OUTBOX_RETRY_SECONDS"] * 2 ** (attempts - 1)
    )


def _is_permanent(error: Exception) -> bool:
    code = _reason(error)[0]
    if code is not None:
        return 500 <= code < 600
    # Not an SMTP answer and not the network: the message itself cannot be built or sent
    # (a header with a line break, say). Trying again would fail the same way.
    return not isinstance(error, OSError)


def _connection_lost(error: Exception) -> bool:
    """Whether the SMTP conversation is over; a refused recipient leaves it usable."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)  # timeouts, resets, refused connections


class _Connection:
    """One SMTP connection, opened when first needed and again only after it dropped."""

    def __init__(self):
        self.backend = get_connection(fail_silently=False)
        self.is_open = False

    def get(self):
        if not self.is_open:
            try:
                self.backend.open()
            except (OSError, smtplib.SMTPException) as error:
                self.drop()
                raise Unreachable(_reason(error)[1]) from error
            self.is_open = True
        return self.backend

    def drop(self) -> None:
        try:
            self.backend.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is gone either way
            logger.debug("closing a dropped SMTP connection failed", exc_info=True)
        self.backend.connection = None
        self.is_open = False


class Unreachable(Exception):
    """The mail server could not be reached; the campaign waits and tries again."""


def _send_rows(rows, *, campaign, events, token, connection, interval, budget_ends) -> dict:
    counts = {"sent": 0, "failed": 0, "lost": 0, "stopped": 0}
    stopped: dict[int, str] = {}
    last_beat = 0.0
    # Well within a lease, so the watchdog never takes a living chain for a dead one, and
    # no claim runs out while its worker is alive: a claim renewed at one beat must last
    # until the next, through a message that may take two SMTP timeouts (connecting and
    # sending), and the lease is those two timeouts and 30 s.
    beat_every = min(HEARTBEAT_EVERY, lease().total_seconds() / 6)
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - last_beat > beat_every:
                Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now())
                _renew(token)
                # Who must not be sent it after all, read again for the rows still to go:
                # an opt-out made while the batch goes is honoured within a beat.
                # The batch's first beat reads the rows just claimed, as they were read.
                ids = [later.pk for later in rows[index:]]
                fresh = _with_contacts(OutboxMessage.objects.filter(pk__in=ids)) if index else rows
                stopped = _stopped(fresh, campaign)
                last_beat = time.monotonic()
            # Checked for each message, a read, where renewing the batch's claims before
            # each was a write of up to 25 rows.
            now_held = _now_held(row, token)
            if now_held is None:
                if not Campaign.objects.filter(
                    pk=campaign.pk, status=Campaign.Status.SENDING
                ).exists():
                    break  # cancelled: the rows still held are dropped on release
                counts["lost"] += 1
                continue
            email, contact_id = now_held
            # Erased or deleted since the last beat: its address is gone now, or its record.
            gone = contact_id is None or email.lower().endswith(ERASED_ADDRESS)
            if reason := GONE if gone else stopped.get(row.pk):
                counts["stopped"] += _mark_stopped(row, token, reason)
                continue
            tick = time.monotonic()
            try:
                message = build_message(row, campaign, events, None)
            except Exception as error:  # noqa: BLE001 - this row cannot be built: it fails alone
                _record_failure(row, token, error, permanent=True)
                counts["failed"] += 1
                continue
            message.connection = connection.get()
            try:
                deliver(message, kind="mailing.campaign")
            except Exception as error:  # noqa: BLE001 - every failure is this row's, recorded
                _record_failure(row, token, error, permanent=_is_permanent(error))
                counts["failed"] += 1
                if _connection_lost(error):
                    connection.drop()
                continue
            if _mark_sent(row, token):
                counts["sent"] += 1
            else:
                # Accepted by the server after this worker lost the row: it may go twice.
                log_event(
                    logger,
                    "mailing.outbox.sent_without_claim",
                    level=logging.ERROR,
                    campaign=campaign.pk,
                    message=row.pk,
                )
                counts["lost"] += 1
            if interval:
                pause = interval - (time.monotonic() - tick)
                if pause > 0:
                    time.sleep(pause)
            if time.monotonic() > budget_ends:
                break
    finally:
        _release(token, campaign.pk)  # rows of the batch not reached go back to waiting
    return counts


def next_due(campaign_id: int) -> datetime.datetime | None:
    """When the campaign next has work: now, a retry's time, or a claim's expiry."""
    rows = OutboxMessage.objects.filter(campaign_id=campaign_id)
    due = rows.filter(status=OutboxMessage.Status.PENDING).aggregate(waiting=Min("next_attempt_at"))
    if rows.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__isnull=True).exists():
        return timezone.now()
    held = rows.filter(status=OutboxMessage.Status.SENDING).aggregate(at=Min("claim_expires_at"))
    times = [t for t in (due["waiting"], held["at"]) if t is not None]
    return min(times) if times else None


def _finish_if_done(campaign_id: int) -> bool:
    open_rows = OutboxMessage.objects.filter(
        campaign_id=campaign_id,
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING],
    )
    if open_rows.exists():
        return False
    finished = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
        status=Campaign.Status.SENT, finished_at=timezone.now()
    )
    if finished:
        log_event(logger, "mailing.campaign.sent", campaign=campaign_id)
    return True


def send_campaign_batch(
    campaign_id: int,
    *,
    link: str | None = None,
    time_budget: float = 50.0,
    rate: float | None = None,
) -> dict:
    """Send what is waiting for up to `time_budget` seconds; returns counts for this run.

    `link` is the sending task's id: the run stops as soon as it is no longer the
    campaign's current link (see tasks.py).
    """
    campaign = Campaign.objects.select_related("sender").get(pk=campaign_id)
    totals = {"sent": 0, "failed": 0, "lost": 0, "stopped": 0, "done": True, "unreachable": ""}
    if campaign.status not in (Campaign.Status.QUEUED, Campaign.Status.SENDING):
        return totals
    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.QUEUED).update(
        status=Campaign.Status.SENDING
    )
    Campaign.objects.filter(pk=campaign_id).update(heartbeat_at=timezone.now())
    release_expired(campaign_id)
    rate = rate if rate is not None else settings.MYCAREER["BULK_EMAIL_RATE"]
    interval = 1.0 / rate if rate else 0.0
    events = promoted_events(campaign)
    budget_ends = time.monotonic() + time_budget
    token = secrets.token_hex(16)
    connection = _Connection()
    try:
        while time.monotonic() < budget_ends:
            carry_on = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING)
            if link is not None:
                carry_on = carry_on.filter(sending_task_id=link)
            if not carry_on.exists():
                break  # cancelled, or another chain took over
            rows = _claim(campaign_id, BATCH, token)
            if not rows:
                break
            counts = _send_rows(
                rows,
                campaign=campaign,
                events=events,
                token=token,
                connection=connection,
                interval=interval,
                budget_ends=budget_ends,
            )
            for name, n in counts.items():
                totals[name] += n
    except Unreachable as error:
        totals["unreachable"] = str(error)
        log_event(
            logger,
            "mailing.outbox.unreachable",
            level=logging.WARNING,
            campaign=campaign_id,
            reason=str(error),
        )
    finally:
        _release(token, campaign_id)
        connection.drop()
    totals["done"] = _finish_if_done(campaign_id)
    log_event(
        logger,
        "mailing.outbox.run",
        campaign=campaign_id,
        sent=totals["sent"],
        failed=totals["failed"],
        lost=totals["lost"],
        stopped=totals["stopped"],
        done=totals["done"],
    )
    return totals


def campaign_progress(campaign: Campaign) -> dict:
    from django.db.models import Count

    counts = dict(
        campaign.messages.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    # Those a cancel dropped are not part of the sending: `cancellation_in_words` counts
    # them from `not_sent`, which also holds those dropped before their rows were kept.
    total = sum(n for status, n in counts.items() if status != OutboxMessage.Status.CANCELLED)
    sent = counts.get(OutboxMessage.Status.SENT, 0)
    failed = counts.get(OutboxMessage.Status.FAILED, 0)
    stopped = counts.get(OutboxMessage.Status.STOPPED, 0)
    return {
        "total": total,
        "sent": sent,
        "failed": failed,
        "stopped": stopped,
        "left": total - sent - failed - stopped,
        "percent": round(100 * (sent + failed + stopped) / total) if total else 0,
    }


def cancellation_in_words(campaign: Campaign, progress: dict) -> str:
    """What cancelling a campaign did, as its page says it: "Cancelled on 3 March 2027 by
    Grace Okafor: 12 sent before cancelling, 97 not sent."

    The messages not sent are those dropped (now kept as cancelled) and any a worker still
    holds, which it drops at its next message; one already handed to the mail server
    still goes, and is counted as sent once it has.
    """
    if campaign.status != Campaign.Status.CANCELLED:
        return ""
    finished = campaign.finished_at
    when = f" on {date_format(timezone.localtime(finished), 'j F Y')}" if finished else ""
    by = f" by {campaign.cancelled_by}" if campaign.cancelled_by_id else ""
    if campaign.queued_at is None:
        # Cancelled while it waited for a second sender's approval: no message was ever
        # made, so "0 not sent" would hide the recipients it was meant for.
        return f"Cancelled{when}{by} while it waited for approval: nothing was sent."
    done = [f"{_figure(progress['sent'])} sent before cancelling"]
    if progress["failed"]:
        done.append(f"{_figure(progress['failed'])} failed")
    if progress["stopped"]:
        done.append(f"{_figure(progress['stopped'])} stopped")
    if campaign.not_sent is None and not progress["left"]:
        # Cancelled before the figure was kept, with no audit entry to recover it from.
        return f"Cancelled{when}{by}: {', '.join(done)}; how many were not sent was not kept."
    done.append(f"{_figure((campaign.not_sent or 0) + progress['left'])} not sent")
    return f"Cancelled{when}{by}: {', '.join(done)}."


def _figure(count: int) -> str:
    return number_format(count, force_grouping=True)
