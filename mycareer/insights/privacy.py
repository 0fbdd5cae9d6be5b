"""Insights in subject access and erasure.

What is personal data about a member of staff here: the opportunities offered to them
or whose reason names them ("no note by Tom Bennett since…"), the reasons they gave for
setting one aside, and follow-ups a colleague gave them from an opportunity. The nightly
run finds opportunities afresh from the records, so after erasure they name the erased
login; until then erasure rewrites the stored reasons and figures.
"""

from django.db.models import Q

from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import Change, LetterEntry, PersonalDataHandler, TextPlace
from mycareer.insights.models import Audience, Dismissal, Opportunity
from mycareer.organisations.models import Note


def _describe(item) -> str:
    return f"{item.get_kind_display()} at {item.organisation}"


def insights_places(subject):
    if not subject.users:
        return
    # Not tied to the person by a relation: only their full name is looked for.
    yield TextPlace(
        "Opportunities found",
        Opportunity.objects.select_related("organisation"),
        ("reason", "figures"),
        lambda item: f"Opportunity: {_describe(item)}",
        in_context=False,
    )
    yield TextPlace(
        "Reasons opportunities were set aside",
        Dismissal.objects.select_related("organisation"),
        ("reason",),
        lambda item: f"Opportunity set aside: {_describe(item)}",
        in_context=False,
    )


def anonymise_insights(subject, *, apply: bool, by=None) -> list[Change]:
    offered = Audience.objects.filter(person_id__in=subject.user_ids)
    count = offered.count()
    if not count:
        return []
    if apply:
        offered.delete()
    return [Change("Opportunities offered to them", "no longer offered to them", count)]


def _follow_ups_given(users: list[int]):
    """Follow-ups a colleague recorded for the person from an opportunity."""
    given = AuditEntry.objects.filter(
        action="insights.opportunity.followed_up", data__assignee__in=users
    ).exclude(actor_id__in=users)
    setters = {entry.data.get("note"): entry.actor for entry in given.select_related("actor")}
    notes = Note.objects.filter(pk__in=list(setters), author_id__in=users).select_related(
        "organisation"
    )
    for note in notes.order_by("follow_up_on", "pk"):
        setter = setters.get(note.pk)
        yield LetterEntry(
            "activity",
            f"Follow-up given to you: {note.organisation}",
            [
                ("Due", note.follow_up_on),
                ("Set by", str(setter) if setter else ""),
                ("Recorded", note.created_at),
            ],
            text=note.text,
            when=note.created_at,
            key=f"organisations.Note:{note.pk}",
        )


def insights_letter(subject):
    users = subject.user_ids
    if not users:
        return
    for dismissal in Dismissal.objects.filter(dismissed_by_id__in=users).select_related(
        "organisation"
    ):
        yield LetterEntry(
            "activity",
            f"Opportunity you set aside: {_describe(dismissal)}",
            [("Set aside", dismissal.created_at), ("Hidden until", dismissal.until)],
            text=dismissal.reason,
            when=dismissal.created_at,
            key=f"insights.Dismissal:{dismissal.pk}",
        )
    yield from _follow_ups_given(users)
    names = Q()
    for name in subject.names:
        names |= Q(reason__icontains=name)
    about = Opportunity.objects.filter(
        Q(audiences__person_id__in=users) | Q(handled_by_id__in=users) | names
    ).select_related("organisation")
    for item in about.distinct().order_by("kind", "organisation__name"):
        yield LetterEntry(
            "other",
            f"Opportunity about you: {_describe(item)}",
            [("Found", item.computed_at), ("Acted on", item.handled_at)],
            text=item.reason,
            key=f"insights.Opportunity:{item.pk}",
        )


personal_data = PersonalDataHandler(
    anonymise=anonymise_insights,
    places=insights_places,
    letter=insights_letter,
    covers=(
        "insights.Audience.person",
        "insights.Opportunity.handled_by",
        "insights.Dismissal.dismissed_by",
    ),
)
