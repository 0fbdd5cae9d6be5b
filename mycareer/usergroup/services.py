"""The Super User Group: representatives, announcements, and the fault and improvement log."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import check_perm
from mycareer.usergroup.models import (
    Announcement,
    AnnouncementDismissal,
    Feedback,
    FeedbackComment,
    FeedbackVote,
    Representative,
)
from mycareer.usergroup.tasks import (
    email_announcement,
    email_feedback_logged,
    email_feedback_triaged,
)


@transaction.atomic
def representative_appoint(*, unit: Unit, user: User, by: User) -> Representative:
    """Name a faculty's representative, replacing the previous one."""
    check_perm(by, "usergroup.appoint_representative")
    if unit.kind != Unit.Kind.FACULTY:
        raise ValidationError({"unit": "Each faculty has one representative: choose a faculty."})
    if user.kind != User.Kind.STAFF:
        raise ValidationError({"user": "Representatives are members of staff."})
    previous = Representative.objects.filter(unit=unit).select_related("user").first()
    if previous:
        previous.delete()
    representative = Representative.objects.create(unit=unit, user=user, appointed_by=by)
    audit.log(
        representative,
        "usergroup.representative.appointed",
        by=by,
        person=user,
        data={"unit": unit.code, "previous": previous.user.email if previous else None},
    )
    return representative


@transaction.atomic
def announcement_publish(
    *, title: str, body: str, kind: str, by: User, email: bool = False
) -> Announcement:
    """Publish an update for all staff; with `email`, the worker also emails it to them."""
    check_perm(by, "usergroup.publish_announcement")
    announcement = Announcement.objects.create(title=title, body=body, kind=kind, published_by=by)
    audit.log(announcement, "usergroup.announcement.published", by=by, data={"email": email})
    if email:
        transaction.on_commit(lambda: email_announcement.enqueue(announcement.pk))
    return announcement


def announcement_dismiss(*, announcement: Announcement, user: User) -> None:
    """Hide an announcement from one person's home page."""
    try:
        with transaction.atomic():
            AnnouncementDismissal.objects.create(announcement=announcement, user=user)
    except IntegrityError:
        pass  # already dismissed


@transaction.atomic
def feedback_log(
    *, by: User, kind: str, title: str, description: str, page: str = "", screenshot=None
) -> Feedback:
    """Record a fault or an improvement request from anyone on staff."""
    check_perm(by, "usergroup.log_feedback")
    membership = by.memberships.select_related("unit").first()
    faculty = membership.unit.faculty if membership else None
    feedback = Feedback(
        kind=kind,
        title=title,
        description=description,
        page=page,
        reporter=by,
        faculty=faculty,
    )
    if screenshot:
        feedback.screenshot = screenshot
    feedback.full_clean()
    feedback.save()
    FeedbackVote.objects.create(feedback=feedback, user=by)
    audit.log(feedback, "usergroup.feedback.logged", by=by, data={"kind": kind})
    transaction.on_commit(lambda: email_feedback_logged.enqueue(feedback.pk))
    return feedback


@transaction.atomic
def feedback_triage(
    *, feedback: Feedback, status: str, by: User, comment: str = "", duplicate_of=None
) -> Feedback:
    """Move a fault or request on (accepted, declined, duplicate, done), with a comment."""
    check_perm(by, "usergroup.triage_feedback")
    if status not in Feedback.Status.values:
        raise ValidationError({"status": "Choose a status."})
    if status == Feedback.Status.DUPLICATE:
        if duplicate_of is None or duplicate_of.pk == feedback.pk:
            raise ValidationError({"duplicate_of": "Say which request this one duplicates."})
    else:
        duplicate_of = None
    previous = feedback.status
    feedback.status, feedback.duplicate_of = status, duplicate_of
    feedback.save(update_fields=["status", "duplicate_of", "updated_at"])
    if comment.strip():
        FeedbackComment.objects.create(feedback=feedback, author=by, text=comment.strip())
    audit.log(
        feedback,
        "usergroup.feedback.triaged",
        by=by,
        data={"from": previous, "to": status, "comment": comment},
    )
    if status != previous:
        transaction.on_commit(lambda: email_feedback_triaged.enqueue(feedback.pk, by.pk))
    return feedback


def feedback_comment(*, feedback: Feedback, by: User, text: str) -> FeedbackComment:
    check_perm(by, "usergroup.log_feedback")
    if not text.strip():
        raise ValidationError({"text": "Write a comment."})
    return FeedbackComment.objects.create(feedback=feedback, author=by, text=text.strip())


def feedback_vote(*, feedback: Feedback, by: User) -> bool:
    """Add one person's vote (once); returns whether it counted."""
    check_perm(by, "usergroup.log_feedback")
    try:
        with transaction.atomic():
            FeedbackVote.objects.create(feedback=feedback, user=by, created_at=timezone.now())
    except IntegrityError:
        return False
    return True
