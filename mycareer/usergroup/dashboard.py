from mycareer.accounts.permissions import is_staff_member
from mycareer.usergroup.models import Announcement


def announcements_panel(request) -> dict | None:
    """Announcements a member of staff has not dismissed yet."""
    if not is_staff_member(request.user):
        return None
    waiting = list(
        Announcement.objects.exclude(dismissals__user=request.user).select_related("published_by")[
            :5
        ]
    )
    return {"announcements": waiting, "path": request.path} if waiting else None
