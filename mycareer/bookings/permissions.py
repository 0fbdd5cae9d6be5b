"""Who may book, check people in, close attendance, send reports and lift restrictions.

An event's bookings are run by its organiser, by operators of its unit (or a unit above
it), and by administrators: the people who stand at its door.
"""

import rules
from django.core.exceptions import PermissionDenied

from mycareer.accounts.permissions import (
    NOT_YOUR_KIND,
    Action,
    add_rule,
    can_administer,
    can_edit_records,
    is_student,
)
from mycareer.events.permissions import organises_for_event_unit


@rules.predicate
def is_event_organiser(user, event) -> bool:
    return event is not None and event.organiser_id is not None and event.organiser_id == user.pk


can_run_event_bookings = can_administer | (
    can_edit_records & (is_event_organiser | organises_for_event_unit)
)


def _run_by(event) -> str:
    return (
        f"The bookings of {event.title} are run by its organiser, operators of {event.unit} "
        "and administrators."
    )


E = Action.EDIT

# Check-in, walk-ins, attendance, no-show emails, reports, capacity, staff bookings.
add_rule("bookings.run_event", can_run_event_bookings, needs=E, otherwise=_run_by)
# The events whose bookings one runs, and the no-show restrictions in force.
add_rule("bookings.run_bookings", can_edit_records, needs=E)
add_rule("bookings.book", is_student, otherwise=NOT_YOUR_KIND)
add_rule("bookings.lift_ban", can_edit_records, needs=E)
add_rule("bookings.change_policy", can_administer, needs=Action.ADMINISTER)


# What a student reads who opens another student's offer, place, waiting-list place or
# check-in code by its address (a forwarded email, a number changed in the address bar):
# that it is someone else's, never whose or for which event. The page offers to log out
# and open it again.
_SOMEONE_ELSES = {
    "offer": "This offer of a place was made to someone else.",
    "place": "This place was booked by someone else.",
    "waiting": "This place on a waiting list is someone else's.",
    "code": "This check-in code is someone else's.",
}


class SomeoneElses(PermissionDenied):
    """A refusal of another student's booking record: a link meant for another login."""

    relogin = True


def someone_elses(kind: str) -> SomeoneElses:
    """The refusal of a `kind` of booking record that is another student's, to raise."""
    return SomeoneElses(
        f"{_SOMEONE_ELSES[kind]} If it is yours, you are logged in as someone else."
    )
