"""Contacts whose person was erased: the record stays, the person never comes back to it.

The erasure keeps the contact record so that the notes, emails and key-contact links that
named the person keep their counts and history. A new name or address typed onto that
record would make someone else inherit all of it, so every service that changes a
contact, or chooses one, asks here first.
"""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format

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
