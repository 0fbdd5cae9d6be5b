"""The Super User Group in subject access and erasure."""

from django.db.models import Q

from mycareer.audit.personal_data import (
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
    in_words,
)
from mycareer.usergroup.models import (
    AnnouncementDismissal,
    Feedback,
    FeedbackComment,
    FeedbackVote,
    Representative,
)


def anonymise_group(subject, *, apply: bool, by=None) -> list[Change]:
    users = subject.user_ids
    roles = Representative.objects.filter(user_id__in=users)
    reports = Feedback.objects.filter(reporter_id__in=users).count()
    changes = []
    if roles.exists():
        changes.append(Change("Super User Group representative", "role ended", roles.count()))
    if reports:
        changes.append(
            Change(
                "Faults and improvement requests they logged",
                "kept for the group's work, under the erased login",
                reports,
                kept=True,
            )
        )
    if apply:
        roles.delete()
    return changes


def group_places(subject):
    users = subject.user_ids
    yield TextPlace(
        "Faults and improvement requests",
        Feedback.objects.filter(reporter_id__in=users),
        ("title", "description", "page"),
        lambda item: f"{item.get_kind_display()} logged on {in_words(item.created_at)}",
    )
    yield TextPlace(
        "Comments on faults and improvement requests",
        FeedbackComment.objects.filter(Q(author_id__in=users) | Q(feedback__reporter_id__in=users)),
        ("text",),
        lambda comment: f"Comment of {in_words(comment.created_at)}",
    )


def group_letter(subject):
    users = subject.user_ids
    for role in Representative.objects.filter(user_id__in=users).select_related("unit"):
        yield LetterEntry(
            "activity",
            f"Super User Group representative for the {role.unit}",
            [("Since", role.appointed_at)],
        )
    for item in Feedback.objects.filter(reporter_id__in=users):
        yield LetterEntry(
            "activity",
            f"{item.get_kind_display()} you logged: {item.title}",
            [("Logged", item.created_at), ("Status", item.get_status_display())],
            text=item.description,
            when=item.created_at,
        )
    for label, rows in (
        ("Comments you wrote", FeedbackComment.objects.filter(author_id__in=users)),
        ("Requests you voted for", FeedbackVote.objects.filter(user_id__in=users)),
        ("Announcements you dismissed", AnnouncementDismissal.objects.filter(user_id__in=users)),
    ):
        count = rows.count()
        if count:
            yield LetterEntry("activity", label, [("Number", count)])


personal_data = PersonalDataHandler(
    anonymise=anonymise_group,
    places=group_places,
    letter=group_letter,
    covers=(
        "usergroup.Representative.user",
        "usergroup.Feedback.reporter",
        "usergroup.FeedbackComment.author",
        "usergroup.FeedbackVote.user",
        "usergroup.AnnouncementDismissal.user",
    ),
)
