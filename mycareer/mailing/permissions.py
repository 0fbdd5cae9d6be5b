"""Who may send bulk email to employer contacts and read the communication time chart.

Policy 2.5: only designated staff who completed the bulk email training and accepted the
terms send bulk email; a campaign is its sender's, and an administrator may stop anyone's.
"""

import rules

from mycareer.accounts.permissions import (
    Action,
    add_rule,
    can_administer,
    can_send_bulk_email,
    can_view_staff_pages,
)


@rules.predicate
def is_campaign_sender(user, campaign) -> bool:
    return campaign is not None and campaign.sender_id == user.pk


add_rule("mailing.send_campaign", can_send_bulk_email, needs=Action.BULK_EMAIL)
# Every employer contact at once is an explicit choice that only administrators make.
add_rule(
    "mailing.email_every_contact",
    can_administer,
    otherwise="Only administrators may email every employer contact.",
)
add_rule("mailing.cancel_campaign", is_campaign_sender | can_administer)
add_rule("mailing.view_chart", can_view_staff_pages, needs=Action.VIEW)
