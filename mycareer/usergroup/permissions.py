"""Super User Group: who may publish announcements and triage faults and requests."""

import rules

from mycareer.accounts.permissions import (
    NOT_YOUR_KIND,
    add_rule,
    can_administer,
    is_staff_member,
)


@rules.predicate
def is_representative(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.representing.exists()


can_lead_group = can_administer | (is_staff_member & is_representative)

LEADS = "Only the Super User Group's representatives and administrators"

# The group's pages, announcements and the log of faults and ideas: all staff.
add_rule("usergroup.view_group", is_staff_member, otherwise=NOT_YOUR_KIND)
add_rule(
    "usergroup.publish_announcement", can_lead_group, otherwise=f"{LEADS} publish announcements."
)
add_rule("usergroup.triage_feedback", can_lead_group, otherwise=f"{LEADS} triage requests.")
add_rule(
    "usergroup.log_feedback",
    is_staff_member,
    otherwise="Faults and ideas, comments and votes come from university staff.",
)
add_rule(
    "usergroup.appoint_representative",
    can_administer,
    otherwise="Only administrators name representatives.",
)
