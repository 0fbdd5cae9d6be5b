"""Signed unsubscribe tokens: one per contact and purpose, never guessable or forgeable."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "mycareer.mailing.unsubscribe"


def make_token(contact_id: int, purpose: str) -> str:
    return signing.dumps({"c": contact_id, "p": purpose}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, str]:
    """The (contact id, purpose) a token stands for; raises signing.BadSignature if forged."""
    data = signing.loads(token, salt=SALT)
    return int(data["c"]), str(data["p"])


def unsubscribe_url(contact_id: int, purpose: str) -> str:
    return settings.SITE_URL + reverse(
        "mailing:unsubscribe", args=[make_token(contact_id, purpose)]
    )


def unsubscribe_mailto(contact_id: int, purpose: str) -> str:
    address = settings.MYCAREER["UNSUBSCRIBE_MAILBOX"]
    return f"mailto:{address}?subject=unsubscribe%20{make_token(contact_id, purpose)}"
