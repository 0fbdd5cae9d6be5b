"""Contacts whose person was erased: the record stays, the person never comes back to it.

The erasure keeps the contact record so that the notes, emails and key-contact links that
named the person keep their counts and history. A new name or address typed onto that
record would make someone else inherit all of it, so every service that changes a
contact, or chooses one, asks here first.

The person's address is kept too, as a keyed hash only (accounts/erased.py), so that a
spreadsheet or a script does not add them again without anyone deciding to: the
organisation import and the API (adding a contact, or changing one's address) refuse it.
Someone adding the person by hand has decided, so the contact form takes them, and once a
record holds the address again they are back. So do the employer's own people pages and
registration, without a word: the employer is told nothing about the erased person.
"""

import datetime
import logging
from collections.abc import Iterable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts.erased import Kind, erased_on_by_value, erased_values_remember
from mycareer.core.logs import log_event
from mycareer.organisations.models import Contact

logger = logging.getLogger(__name__)


def erased_on(contact: Contact) -> str:
    """The day the person was erased, in words ("6 December 2026")."""
    if contact.erased_at is None:
        return ""
    return date_format(timezone.localtime(contact.erased_at), "j F Y")


def erased_text(contact: Contact, action: str = "changed") -> str:
    """Why `action` is refused on the record of an erased person."""
    erased = f"This person's details were erased on {erased_on(contact)}"
    if action == "deleted":
        return (
            f"{erased}. The record stays so that the notes, emails and key-contact links that "
            "named them keep their history: it cannot be deleted."
        )
    if action == "unmarked":
        return (
            f"{erased}. They stay a key contact so that the requests to contact them keep "
            "their history: the link cannot be removed."
        )
    return f"{erased}; they cannot be added back to this record. Add the person as a new contact."


class ContactErased(ValidationError):
    """A change to a contact whose person was erased."""

    def __init__(self, contact: Contact, message: str | None = None):
        self.contact = contact
        super().__init__(message or erased_text(contact), code="erased")


def check_not_erased(contact: Contact, *, action: str, by=None) -> None:
    """Refuse `action` ("changed", "marked", …) on a contact whose person was erased."""
    if contact.erased_at is None:
        return
    log_event(
        logger,
        "organisations.contact.refused",
        reason="erased",
        action=action,
        contact=contact.pk,
        by=getattr(by, "pk", None),
    )
    raise ContactErased(contact, erased_text(contact, action))


def check_none_erased(contacts, *, field: str, by=None) -> None:
    """Refuse a note (or any choice of people) that would name an erased contact anew."""
    erased = [contact for contact in contacts if contact.erased_at is not None]
    if not erased:
        return
    log_event(
        logger,
        "organisations.contact.refused",
        reason="erased",
        action="chosen",
        contact=",".join(str(c.pk) for c in erased),
        by=getattr(by, "pk", None),
    )
    raise ValidationError(
        {
            field: [
                f"A contact chosen was erased on {erased_on(contact)}: nobody can be named "
                "as them any more. If the person is back, add them as a new contact."
                for contact in erased
            ]
        },
        code="erased",
    )


def refused_page(request, contact: Contact, *, action: str, back=None) -> HttpResponse | None:
    """For a page that changes a contact: when the person was erased, the service's
    refusal as a message and a way back (`back`, else the contact's page), rather than
    a form whose every save would be refused; None otherwise."""
    try:
        check_not_erased(contact, action=action, by=request.user)
    except ContactErased as refusal:
        messages.error(request, refusal.messages[0])
        return redirect(back or contact)
    return None


def erased_addresses_remember(contacts: Iterable[Contact]) -> int:
    """Keep a keyed hash of the addresses of contacts about to be erased; how many new."""
    return erased_values_remember(
        kind=Kind.CONTACT_EMAIL,
        values=[contact.email for contact in contacts if contact.email],
        on=timezone.localdate(),
    )


def erased_addresses(emails: Iterable[str]) -> dict[str, datetime.date]:
    """The addresses among `emails` whose person was erased and is not back (no record
    holds the address now), each with the day of erasure; keyed as given."""
    emails = {email for email in emails if email and email.strip()}
    found = erased_on_by_value(kind=Kind.CONTACT_EMAIL, values=emails)
    if not found:
        return {}
    back = set(
        Contact.objects.annotate(address=Lower("email"))
        .filter(address__in={email.strip().lower() for email in found})
        .values_list("address", flat=True)
    )
    return {email: on for email, on in found.items() if email.strip().lower() not in back}


def erased_address_text(email: str, on: datetime.date) -> str:
    """Why a file or a script may not add this address."""
    return (
        f"{email} belongs to a person erased on {date_format(on, 'j F Y')} at their request; "
        "remove the row, or add them by hand if they have come back to you."
    )


def check_address_not_erased(email: str, *, source: str, by=None) -> None:
    """Refuse to add, from a file or a script (`source`), an erased person's address."""
    on = erased_addresses([email]).get(email)
    if on is None:
        return
    log_event(
        logger,
        "organisations.contact.refused",
        reason="erased_address",
        action="added",
        source=source,
        by=getattr(by, "pk", None),
    )
    raise AddressErased(erased_address_text(email, on))


class AddressErased(ValidationError):
    """An erased person's address, added by a file or a script."""

    def __init__(self, message: str):
        super().__init__({"email": ValidationError(message, code="erased")})
