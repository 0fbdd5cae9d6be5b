from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated_email(
    *, to: list[str], subject: str, template: str, context: dict, reply_to: list[str] | None = None
) -> int:
    """Send a plain-text email rendered from `template` (with SITE_URL in the context)."""
    body = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    message = EmailMultiAlternatives(
        subject=f"[MyCareer] {subject}", body=body, to=to, reply_to=reply_to or []
    )
    return message.send()
