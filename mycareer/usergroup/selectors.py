"""Reads for the Super User Group that more than one place must agree on."""

from mycareer.accounts.models import User
from mycareer.accounts.notifications import wants

ANNOUNCEMENT = "usergroup.announcement"


def announcement_recipients() -> list[User]:
    """The staff an announcement's email reaches: active, with an address, not switched off.

    The publish form states this number and the worker emails exactly these people (those
    who chose a daily digest find it there), so the number confirmed is the number sent.
    """
    staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True).exclude(email="")
    return [person for person in staff.order_by("pk") if wants(person, ANNOUNCEMENT)]
