"""Sending email from background tasks.

Every email a task sends goes through `send_message`, which remembers, for the task's
current run, what was already sent: when the mail server fails half-way through a list
and the task runs again (see core.retry), the people who already got their message do
not get it twice. Plain-text bodies are rendered by the "text" template engine, which
does not HTML-escape ("Calder & Wharfe", not "Calder &amp; Wharfe").
"""

import contextvars
import logging

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string

from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)

# Keys of messages already sent by this run of a task (None outside email tasks).
_sent: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("sent", default=None)
# Who the message being sent was for, to say on the failed tasks page.
_recipients: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "recipients", default=()
)


def message_key(message: EmailMessage) -> str:
    return f"{','.join(sorted(message.to))}|{message.subject}"


def send_message(message: EmailMessage, *, kind: str = "") -> int:
    """Send one message, unless an earlier run of the same task already sent it."""
    sent = _sent.get()
    key = message_key(message)
    if sent is not None and key in sent:
        return 0
    _recipients.set(tuple(message.to))
    count = message.send()
    if sent is not None:
        sent.add(key)
    log_event(logger, "email.sent", kind=kind, recipients=len(message.to), sent=count)
    return count


def first_time(key: str) -> bool:
    """Whether this run of an email task (its earlier tries included) meets `key` first.

    For work a task does instead of sending (queuing a digest item): a retry after the
    mail server failed must not do it twice. Outside email tasks, always True.
    """
    done = _sent.get()
    if done is None:
        return True
    if key in done:
        return False
    done.add(key)
    return True


def render_text(template: str, context: dict) -> str:
    """A plain-text email body: SITE_URL in the context, and no HTML escaping."""
    return render_to_string(template, {"site_url": settings.SITE_URL, **context}, using="text")


def send_templated_email(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: dict,
    reply_to: list[str] | None = None,
    attachments: list[tuple[str, bytes | str, str]] = (),
) -> int:
    """Send a plain-text email rendered from `template` (with SITE_URL in the context)."""
    body = render_text(template, context)
    return send_text_email(
        to=to, subject=subject, body=body, reply_to=reply_to, attachments=attachments, kind=template
    )


def send_text_email(
    *,
    to: list[str],
    subject: str,
    body: str,
    reply_to: list[str] | None = None,
    attachments: list[tuple[str, bytes | str, str]] = (),
    kind: str = "",
) -> int:
    """Send one plain-text email, with MyCareer's subject prefix; log one line."""
    message = EmailMultiAlternatives(
        subject=f"[MyCareer] {subject}", body=body, to=to, reply_to=reply_to or []
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return send_message(message, kind=kind)
