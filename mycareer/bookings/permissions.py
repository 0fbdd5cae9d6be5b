"""Who may book, check people in, close attendance, send reports and lift restrictions.

An event's bookings are run by its organiser, by operators of its unit (or a unit above
it), and by administrators: the people who stand at its door.
"""

import rules

from mycareer.accounts.permissions import can_administer, can_edit_records, is_student
from mycareer.events.permissions import organises_for_event_unit


@rules.predicate
def is_event_organiser(user, event) -> bool:
    return event is not None and event.organiser_id is not None and event.organiser_id == user.pk


can_run_event_bookings = can_administer | (
    can_edit_records & (is_event_organiser | organises_for_event_unit)
)

# Check-in, walk-ins, attendance, no-show emails, reports, capacity, staff bookings.
rules.add_perm("bookings.run_event", can_run_event_bookings)
rules.add_perm("bookings.book", is_student)
rules.add_perm("bookings.lift_ban", can_edit_records)
rules.add_perm("bookings.change_policy", can_administer)
