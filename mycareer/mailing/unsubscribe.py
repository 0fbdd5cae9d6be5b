"""Signed unsubscribe tokens: one per contact and purpose, never guessable or forgeable.

A test copy or a preview carries a *sample* token: it names the same contact, so the
sender sees the page their recipient would, but pressing it there changes nothing.

A token also carries a digest of the address the email went to: pressed after the
record was deleted or erased, or after its address changed, it keeps that address out
(`organisations.optouts`), not whoever the record is about now.
"""

from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.urls import reverse

from mycareer.organisations.optouts import address_digest

SALT = "mycareer.mailing.unsubscribe"


class Token(NamedTuple):
    contact_id: int
    purpose: str
    sample: bool
    address: str  # the digest of the address it was sent to ("" in tokens made before)


def make_token(contact_id: int, purpose: str, *, sample: bool = False, address: str = "") -> str:
    data: dict[str, object] = {"c": contact_id, "p": purpose}
    if sample:
        data["s"] = 1
    if address:
        data["a"] = address_digest(address)
    return signing.dumps(data, salt=SALT, compress=True)


def read_token(token: str) -> Token:
    """What a token stands for; raises signing.BadSignature if forged."""
    data = signing.loads(token, salt=SALT)
    return Token(int(data["c"]), str(data["p"]), bool(data.get("s")), str(data.get("a", "")))


def unsubscribe_url(
    contact_id: int, purpose: str, *, sample: bool = False, address: str = ""
) -> str:
    return settings.SITE_URL + reverse(
        "mailing:unsubscribe",
        args=[make_token(contact_id, purpose, sample=sample, address=address)],
    )


def unsubscribe_mailto(contact_id: int, purpose: str, *, address: str = "") -> str:
    mailbox = settings.MYCAREER["UNSUBSCRIBE_MAILBOX"]
    token = make_token(contact_id, purpose, address=address)
    return f"mailto:{mailbox}?subject=unsubscribe%20{token}"
