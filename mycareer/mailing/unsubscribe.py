"""Signed unsubscribe tokens: one per contact and purpose, never guessable or forgeable.

A test copy or a preview carries a *sample* token: it names the same contact, so the
sender sees the page their recipient would, but pressing it there changes nothing.
"""

from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "mycareer.mailing.unsubscribe"


class Token(NamedTuple):
    contact_id: int
    purpose: str
    sample: bool


def make_token(contact_id: int, purpose: str, *, sample: bool = False) -> str:
    data = {"c": contact_id, "p": purpose}
    if sample:
        data["s"] = 1
    return signing.dumps(data, salt=SALT, compress=True)


def read_token(token: str) -> Token:
    """What a token stands for; raises signing.BadSignature if forged."""
    data = signing.loads(token, salt=SALT)
    return Token(int(data["c"]), str(data["p"]), bool(data.get("s")))


def unsubscribe_url(contact_id: int, purpose: str, *, sample: bool = False) -> str:
    return settings.SITE_URL + reverse(
        "mailing:unsubscribe", args=[make_token(contact_id, purpose, sample=sample)]
    )


def unsubscribe_mailto(contact_id: int, purpose: str) -> str:
    address = settings.MYCAREER["UNSUBSCRIBE_MAILBOX"]
    return f"mailto:{address}?subject=unsubscribe%20{make_token(contact_id, purpose)}"
