import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from mycareer.core.logs import log_line

logger = logging.getLogger(__name__)


def render_text(template: str, context: dict) -> str:
    """A plain-text email body: SITE_URL in the context, and no HTML escaping."""
    return render_to_string(template, {"site_url": settings.SITE_URL, **context}, using="text")


def send_templated_email(
    *, to: list[str], subject: str, template: str, context: dict, reply_to: list[str] | None = None
) -> int:
    """Send a plain-text email rendered from `template` (with SITE_URL in the context)."""
    body = render_text(template, context)
    return send_text_email(to=to, subject=subject, body=body, reply_to=reply_to, kind=template)


def send_text_email(
    *, to: list[str], subject: str, body: str, reply_to: list[str] | None = None, kind: str = ""
) -> int:
    """Send one plain-text email now, with MyCareer's subject prefix; log one line."""
    message = EmailMultiAlternatives(
        subject=f"[MyCareer] {subject}", body=body, to=to, reply_to=reply_to or []
    )
    sent = message.send()
    log_line(logger, "email.sent", kind=kind, recipients=len(to), sent=sent)
    return sent
