"""Opt-outs belong to an email address, not to one record of it.

The same person can be a contact of two organisations (a recruiter for several
employers, someone who moved, a record entered twice). Leaving a kind of bulk email
through one record's link must keep every record of that address out of it, and so
must a record deleted or erased after its opt-out: the opt-out is kept as a digest of
the address (`KeptOptOut`). The recipient list asks `opt_outs_by_address`.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from django.db.models.functions import Lower

from mycareer.organisations.models import Contact, EmailOptOut, KeptOptOut


def address_digest(email: str) -> str:
    """A one-way digest of an address, the same for any case or surrounding space."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def opt_outs_by_address(emails: Iterable[str]) -> dict[str, set[str]]:
    """The kinds of bulk email each address left, through any of its records or one kept
    after its record went. Addresses in lower case; two queries for any number."""
    wanted = {email.strip().lower() for email in emails if email}
    found: dict[str, set[str]] = defaultdict(set)
    if not wanted:
        return found
    rows = (
        EmailOptOut.objects.annotate(address=Lower("contact__email"))
        .filter(address__in=wanted)
        .values_list("address", "purpose")
    )
    for address, purpose in rows:
        found[address].add(purpose)
    digests = {address_digest(email): email for email in wanted}
    kept = KeptOptOut.objects.filter(address_digest__in=digests).values_list(
        "address_digest", "purpose"
    )
    for digest, purpose in kept:
        found[digests[digest]].add(purpose)
    return found


def keep_opt_outs_of(contacts: Iterable[Contact]) -> int:
    """Keep the opt-outs of records about to be deleted or erased, by address alone."""
    rows = {
        (address_digest(opt_out.contact.email), opt_out.purpose)
        for opt_out in EmailOptOut.objects.filter(
            contact__in=[contact.pk for contact in contacts]
        ).select_related("contact")
        if opt_out.contact.email
    }
    KeptOptOut.objects.bulk_create(
        [KeptOptOut(address_digest=digest, purpose=purpose) for digest, purpose in rows],
        ignore_conflicts=True,
    )
    return len(rows)


def forget_opt_outs_of_address(email: str, purpose: str) -> int:
    """An address back in a kind of bulk email: every record's opt-out of it, and any kept."""
    if not email:
        return 0
    records, _ = (
        EmailOptOut.objects.annotate(address=Lower("contact__email"))
        .filter(address=email.strip().lower(), purpose=purpose)
        .delete()
    )
    kept, _ = KeptOptOut.objects.filter(
        address_digest=address_digest(email), purpose=purpose
    ).delete()
    return records + kept


def kept_opt_out(digest: str, purpose: str) -> KeptOptOut | None:
    """The earliest kept opt-out that already keeps this kind of email from the address."""
    return (
        KeptOptOut.objects.filter(
            address_digest=digest, purpose__in=[purpose, EmailOptOut.Purpose.ALL]
        )
        .order_by("created_at")
        .first()
    )


def keep_opt_out_of_address(digest: str, purpose: str) -> KeptOptOut:
    """An address that has no record now (or a record about someone else) leaves a kind of
    bulk email: kept by its digest alone."""
    kept, _ = KeptOptOut.objects.get_or_create(address_digest=digest, purpose=purpose)
    return kept
