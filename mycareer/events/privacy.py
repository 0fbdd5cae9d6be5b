"""Events in subject access and erasure: where a person may be named on the calendar.

Event titles are names, never changed; descriptions, cancellation reasons, clash
decisions and opening requests of the events a person is linked to are searched.
"""

from django.db.models import Q

from mycareer.audit.personal_data import (
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
    in_words,
)
from mycareer.events.models import ClashOverride, Event, OpeningRequest, Topic
from mycareer.organisations.privacy import linked_organisation_ids


def _event(event: Event) -> str:
    return f"Event “{event.title}” on {in_words(event.starts_at)}"


def linked_events(subject):
    """Events the person organised or their organisations take part in."""
    organisations = linked_organisation_ids(subject)
    return Event.objects.filter(
        Q(organiser_id__in=subject.user_ids) | Q(organisations__in=organisations)
    ).values("pk")


def event_places(subject):
    events = linked_events(subject)
    yield TextPlace(
        "Events they are linked to",
        Event.objects.filter(pk__in=events),
        ("description", "cancelled_reason"),
        _event,
    )
    yield TextPlace(
        "Clash decisions",
        ClashOverride.objects.filter(
            Q(event__in=events) | Q(by_id__in=subject.user_ids)
        ).select_related("event"),
        ("reason",),
        lambda override: f"Clash decision for {_event(override.event)}",
    )
    yield TextPlace(
        "Requests to open events to other units",
        OpeningRequest.objects.filter(
            Q(event__in=events)
            | Q(requested_by_id__in=subject.user_ids)
            | Q(decided_by_id__in=subject.user_ids)
            | Q(withdrawn_by_id__in=subject.user_ids)
        ).select_related("event"),
        ("message", "comment", "withdrawn_reason"),
        lambda request: f"Opening request for {_event(request.event)}",
    )


def anonymise_events(subject, *, apply: bool, by=None) -> list[Change]:
    organised = Event.objects.filter(organiser_id__in=subject.user_ids).count()
    if not organised:
        return []
    return [
        Change(
            "Events they organised",
            "kept on the calendar, with the organiser shown as erased",
            organised,
            kept=True,
        )
    ]


def protected_names(subject, word: str):
    titles = Event.objects.filter(title__icontains=word).order_by().values_list("title", flat=True)
    for title in titles.distinct():
        yield "event", title
    venues = Event.objects.filter(venue__icontains=word).order_by().values_list("venue", flat=True)
    for venue in venues.distinct():
        yield "venue", venue
    for name in Topic.objects.filter(name__icontains=word).values_list("name", flat=True):
        yield "topic", name


def event_letter(subject):
    organised = Event.objects.filter(organiser_id__in=subject.user_ids).order_by("-starts_at")
    for event in organised:
        yield LetterEntry(
            "activity",
            f"Event you organise: {event.title}",
            [("Starts", event.starts_at), ("Status", event.get_status_display())],
            when=event.starts_at,
        )


personal_data = PersonalDataHandler(
    anonymise=anonymise_events,
    places=event_places,
    protected=protected_names,
    letter=event_letter,
    covers=("events.Event.organiser", "events.ClashOverride.by"),
)
