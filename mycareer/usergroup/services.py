"""The Super User Group: representatives, announcements, and the fault and improvement log."""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import ngettext

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import check_perm
from mycareer.core.logs import log_event
from mycareer.usergroup.models import (
    Announcement,
    AnnouncementDismissal,
    Feedback,
    FeedbackComment,
    FeedbackVote,
    Representative,
)
from mycareer.usergroup.selectors import announcement_recipients
from mycareer.usergroup.tasks import (
    email_announcement,
    email_feedback_logged,
    email_feedback_triaged,
)

logger = logging.getLogger(__name__)


class StaffCountChanged(ValidationError):
    """The number of staff the email would reach is not the number the publisher confirmed."""

    def __init__(self, *, confirmed: int | None, now: int):
        self.confirmed, self.now = confirmed, now
        if confirmed is None:
            message = ngettext(
                "Confirm that it goes by email to %(now)d member of staff.",
                "Confirm that it goes by email to %(now)d members of staff.",
                now,
            ) % {"now": now}
        else:
            message = ngettext(
                "It would now go by email to %(now)d member of staff (you confirmed "
                "%(confirmed)d). Check the number and confirm again.",
                "It would now go by email to %(now)d members of staff (you confirmed "
                "%(confirmed)d). Check the number and confirm again.",
                now,
            ) % {"now": now, "confirmed": confirmed}
        super().__init__(message, code="staff_count_changed")


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
    *,
    title: str,
    body: str,
    kind: str,
    by: User,
    email: bool = False,
    confirmed: int | None = None,
) -> Announcement:
    """Publish an update for all staff; with `email`, the worker also emails it to them.

    Emailing needs `confirmed`, the number of staff the person was shown: without it, or
    if the email would now reach more or fewer, nothing is published (StaffCountChanged,
    a ValidationError saying the number to confirm).
    """
    check_perm(by, "usergroup.publish_announcement")
    recipients = len(announcement_recipients()) if email else 0
    # Every caller that emails says how many it expects, so none emails staff unasked.
    if email and confirmed != recipients:
        raise StaffCountChanged(confirmed=confirmed, now=recipients)
    announcement = Announcement.objects.create(title=title, body=body, kind=kind, published_by=by)
    audit.log(
        announcement,
        "usergroup.announcement.published",
        by=by,
        data={"email": email, "recipients": recipients},
    )
    if email:
        transaction.on_commit(lambda: email_announcement.enqueue(announcement.pk))
    log_event(
        logger,
        "usergroup.announcement.published",
        announcement=announcement.pk,
        by=by.pk,
        emailed_to=recipients,
    )
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
) -> bool:
    """Move a fault or request on (accepted, declined, duplicate, done), with a comment.

    Returns whether it did anything: the same status (and duplicate) with no comment
    writes, records and emails nothing. The person who logged it is emailed a new
    status or a comment.
    """
    check_perm(by, "usergroup.triage_feedback")
    if status not in Feedback.Status.values:
        raise ValidationError({"status": "Choose a status."})
    if status == Feedback.Status.DUPLICATE:
        if duplicate_of is None or duplicate_of.pk == feedback.pk:
            raise ValidationError({"duplicate_of": "Say which request this one duplicates."})
    else:
        duplicate_of = None
    previous = feedback.status
    same = (status, getattr(duplicate_of, "pk", None)) == (previous, feedback.duplicate_of_id)
    if same and not comment.strip():
        return False
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
    if status != previous or comment.strip():
        # The comment box is "for the person who logged it": they are told of it too.
        transaction.on_commit(lambda: email_feedback_triaged.enqueue(feedback.pk, by.pk))
    return True


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
