from django.db.models import Q
from django.utils import timezone

from mycareer.accounts.models import User
from mycareer.accounts.notifications import notify
from mycareer.core.retry import email_task
from mycareer.usergroup.models import Announcement, Feedback, Representative
from mycareer.usergroup.selectors import ANNOUNCEMENT, announcement_recipients

FEEDBACK_LOGGED = "usergroup.feedback_logged"
FEEDBACK_TRIAGED = "usergroup.feedback_triaged"


@email_task()
def email_announcement(announcement_id: int) -> int:
    """Email an announcement to the staff the publisher confirmed, one message each."""
    announcement = Announcement.objects.select_related("published_by").get(pk=announcement_id)
    if announcement.emailed_at:
        return 0
    sent = 0
    for person in announcement_recipients():
        sent += notify(
            user=person,
            kind=ANNOUNCEMENT,
            subject=f"{announcement.get_kind_display()}: {announcement.title}",
            template="usergroup/email/announcement.txt",
            context={"announcement": announcement},
            once=f"usergroup.announcement:{announcement.pk}",
        )
    Announcement.objects.filter(pk=announcement.pk).update(emailed_at=timezone.now())
    return sent


def representatives_for(feedback: Feedback) -> list[User]:
    """The representative of the faculty the request is for; with none there, all of them,
    so that no fault waits unseen."""
    reps = Representative.objects.select_related("user").filter(user__is_active=True)
    own = [r.user for r in reps if feedback.faculty_id and r.unit_id == feedback.faculty_id]
    return own or sorted({r.user for r in reps}, key=lambda u: u.pk)


@email_task()
def email_feedback_logged(feedback_id: int) -> int:
    """Tell the faculty's representative that a fault or improvement was logged."""
    feedback = Feedback.objects.select_related("reporter", "faculty").get(pk=feedback_id)
    sent = 0
    for rep in representatives_for(feedback):
        if rep == feedback.reporter:
            continue
        sent += notify(
            user=rep,
            kind=FEEDBACK_LOGGED,
            subject=f"{feedback.get_kind_display()} logged: {feedback.title}",
            template="usergroup/email/feedback_logged.txt",
            context={"feedback": feedback, "rep": rep},
            reply_to=[feedback.reporter.email] if feedback.reporter else None,
            once=f"usergroup.feedback_logged:{feedback.pk}",
        )
    return sent


@email_task()
def email_feedback_triaged(feedback_id: int, by_id: int | None = None) -> int:
    """Tell whoever logged a fault or request what the group decided."""
    feedback = Feedback.objects.select_related("reporter", "duplicate_of").get(pk=feedback_id)
    reporter = feedback.reporter
    if reporter is None or reporter.pk == by_id:
        return 0
    comment = feedback.comments.filter(~Q(author_id=reporter.pk)).order_by("-created_at").first()
    return notify(
        user=reporter,
        kind=FEEDBACK_TRIAGED,
        subject=f"Your {feedback.get_kind_display().lower()}: {feedback.get_status_display()}",
        template="usergroup/email/feedback_triaged.txt",
        context={"feedback": feedback, "comment": comment},
    )
