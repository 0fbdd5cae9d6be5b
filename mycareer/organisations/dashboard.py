from django.utils import timezone

from mycareer.accounts.permissions import can_edit_records
from mycareer.organisations.selectors import follow_ups_due


def follow_ups_panel(request) -> dict | None:
    if not can_edit_records(request.user):
        return None
    return {
        "follow_ups": list(follow_ups_due(request.user)[:8]),
        "today": timezone.localdate(),
    }
