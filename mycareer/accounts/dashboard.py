from django.utils import timezone

from mycareer.accounts.models import AccessLevel, TrainingCourse
from mycareer.accounts.permissions import Action, access_for, is_staff_member
from mycareer.accounts.selectors import operator_training_running_out, training_running_out


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
    # Bulk email training runs out on its own day: bulk mailers are warned of it as well.
    bulk_running_out = None
    if access.granted and access.granted >= AccessLevel.BULK_MAILER:
        bulk_running_out = training_running_out(
            user, access.bulk_training_expires, course=TrainingCourse.BULK_EMAIL
        )
    return {
        "access": access,
        "blocked": blocked,
        "today": timezone.localdate(),
        "running_out": operator_training_running_out(user, access.operator_training_expires),
        "bulk_running_out": bulk_running_out,
    }


def student_panel(request) -> dict | None:
    user = request.user
    if user.kind != user.Kind.STUDENT:
        return None
    profile = getattr(user, "student_profile", None)
    return {"profile": profile}
