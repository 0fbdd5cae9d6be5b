from django.utils import timezone

from mycareer.accounts.permissions import Action, access_for, is_staff_member
from mycareer.accounts.selectors import operator_training_running_out


def access_panel(request) -> dict | None:
    """Staff see their access level and, for anything they cannot do, why not."""
    user = request.user
    if not is_staff_member(user):
        return None
    access = access_for(user)
    blocked = [
        {"verb": Action.VERB[a], "reason": access.why_not(a)}
        for a in Action.ALL
        if not access.can(a) and access.granted and access.granted >= Action.LEVEL[a]
    ]
    return {
        "access": access,
        "blocked": blocked,
        "today": timezone.localdate(),
        "running_out": operator_training_running_out(user, access.operator_training_expires),
    }


def student_panel(request) -> dict | None:
    user = request.user
    if user.kind != user.Kind.STUDENT:
        return None
    profile = getattr(user, "student_profile", None)
    return {"profile": profile}
