"""Super User Group: who may publish announcements and triage faults and requests."""

import rules

from mycareer.accounts.permissions import can_administer, is_staff_member


@rules.predicate
def is_representative(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.representing.exists()


can_lead_group = can_administer | (is_staff_member & is_representative)

rules.add_perm("usergroup.publish_announcement", can_lead_group)
rules.add_perm("usergroup.triage_feedback", can_lead_group)
rules.add_perm("usergroup.log_feedback", is_staff_member)
rules.add_perm("usergroup.appoint_representative", can_administer)
