"""Email goes out one way: `send_email` composes, `deliver` hands it to the mail server.

`send_email` is the one helper for MyCareer's own emails (to staff, students and
employers): a plain-text body or a template rendered by the "text" engine (no HTML
escaping: "Calder & Wharfe", not "Calder &amp; Wharfe"), the "[MyCareer]" subject
prefix, reply-to and attachments. A task that emails several people names the list with
`once="usergroup.announcement:12"`: a `SentEmail` row is written for each recipient as
soon as the mail server has accepted their message, and a later run of the same list (a
retry after the server failed, a worker stopped half-way, an administrator's "Try
again") skips everyone already marked. So each person gets one message, at least once.

`deliver` is the only place that hands a message to SMTP (bulk email's outbox and the
account emails use it too), and it writes one structured line for each message.
"""

import contextvars
import datetime
import logging
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string

from mycareer.core.logs import log_event
from mycareer.core.models import SentEmail

logger = logging.getLogger(__name__)

# How long the records of emails are kept: bulk email bodies and recipients' addresses,
# the once-only markers (`SentEmail`) and emails that failed for good (`FailedTask`).
# Applied by the retention schedule; the reasons are in docs/decisions.md.
EMAIL_RECORDS_KEPT = datetime.timedelta(days=730)
EMAIL_RECORDS_KEPT_IN_WORDS = "2 years"

# Who the message being sent is for, for the failed emails page (see core.retry).
current_recipients: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "recipients", default=()
)
# (filename, content, MIME type), as EmailMessage.attach takes them.
Attachment = tuple[str, bytes | str, str]


def deliver(message: EmailMessage, *, kind: str = "", once: str = "") -> int:
    """Hand one message to the mail server and log it; SMTP errors propagate."""
    current_recipients.set(tuple(message.to))
    count = message.send()
    log_event(
        logger,
        "email.sent",
        kind=kind,
        recipients=len(message.to),
        sent=count,
        **({"once": once} if once else {}),
    )
    return count


def render_text(template: str, context: dict) -> str:
    """A plain-text email body: SITE_URL in the context, and no HTML escaping."""
    return render_to_string(template, {"site_url": settings.SITE_URL, **context}, using="text")


def recipient_key(to: list[str]) -> str:
    return ",".join(sorted(address.lower() for address in to))[:500]


def already_sent(once: str, to: list[str]) -> bool:
    """Whether the list `once` already reached these recipients (a marker was written)."""
    return bool(once) and SentEmail.objects.filter(batch=once, recipient=recipient_key(to)).exists()


def mark_sent(once: str, to: list[str], *, user_id: int | None = None) -> None:
    """Record that the list `once` reached these recipients (or queued them a digest item).

    `user_id` is the person they are, when the message was for one person.
    """
    if once:
        SentEmail.objects.get_or_create(
            batch=once, recipient=recipient_key(to), defaults={"user_id": user_id}
        )


def reached(once: str) -> list[tuple[int | None, str]]:
    """Whom the list `once` reached: (the person's id if recorded, the recipient key)."""
    if not once:
        return []
    return list(
        SentEmail.objects.filter(batch=once).order_by("pk").values_list("user_id", "recipient")
    )


def send_email(
    *,
    to: list[str],
    subject: str,
    body: str = "",
    template: str = "",
    context: dict | None = None,
    reply_to: list[str] | None = None,
    attachments: list[Attachment] | tuple[Attachment, ...] = (),
    kind: str = "",
    once: str = "",
    user_id: int | None = None,
    subject_prefix: str = "[MyCareer] ",
) -> int:
    """Send one plain-text email (from `body`, or rendered from `template`).

    With `once`, a message this list already got to these recipients is not sent again;
    `user_id` (the person it is for) is recorded with the marker.
    Returns the number of messages the mail server accepted (0 when skipped).
    """
    if already_sent(once, to):
        log_event(logger, "email.skipped", kind=kind or template, once=once, reason="already sent")
        return 0
    if template:
        body = render_text(template, context or {})
    message = EmailMultiAlternatives(
        subject=f"{subject_prefix}{subject}", body=body, to=to, reply_to=reply_to or []
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    count = deliver(message, kind=kind or template, once=once)
    mark_sent(once, to, user_id=user_id)
    return count


def careers_centre_address() -> str:
    """Where anyone writes to the Careers Centre: the address MyCareer's emails come from,
    so that replying to one and writing afresh reach the same people."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
