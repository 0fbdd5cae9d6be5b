"""Who may book, check people in, close attendance, send reports and lift restrictions.

An event's bookings are run by its organiser, by operators of its unit (or a unit above
it), and by administrators: the people who stand at its door.
"""

import rules

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
