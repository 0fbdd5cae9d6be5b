"""The bulk email panel of a designated sender's home page."""

from mycareer.accounts.permissions import can_send_bulk_email
from mycareer.mailing import selectors

SHOWN = 5


def approval_panel(request) -> dict | None:
    """Campaigns another sender submitted, waiting for this one's approval: the sender is
    told "another designated sender must approve it", and this is where the others learn
    of it. Hidden when none wait, and from anyone who may not send bulk email."""
    user = request.user
    if not can_send_bulk_email(user):
        return None
    waiting = selectors.campaigns_to_approve(user)
    shown = list(waiting[: SHOWN + 1])
    if not shown:
        return None
    count = len(shown) if len(shown) <= SHOWN else waiting.count()
    return {"campaigns": shown[:SHOWN], "count": count}
