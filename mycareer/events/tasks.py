"""Emails about events, sent by the task worker after the change has committed."""

import copy
import datetime
import logging

from django.utils import timezone

from mycareer.accounts.models import StaffMembership, User
from mycareer.accounts.notifications import notify, people_reached
from mycareer.accounts.selectors import administrators
from mycareer.core.logs import log_event
from mycareer.core.mail import send_email
from mycareer.core.retry import email_task
from mycareer.events import registry
from mycareer.events.clashes import organisers_to_tell
from mycareer.events.feeds import build_calendar
from mycareer.events.models import CancellationNotice, ClashOverride, Event, OpeningRequest
from mycareer.events.selectors import people_to_tell_of_changes
from mycareer.events.units import UnitTree

logger = logging.getLogger(__name__)
CLASH_OVERRIDE = "events.clash_override"
OPENING_REQUEST = "events.opening_request"
OPENING_DECISION = "events.opening_decision"
CANCELLED_BY_COLLEAGUE = "events.cancelled_by_colleague"
CHANGED_BY_COLLEAGUE = "events.changed_by_colleague"


def _when(event: Event) -> str:
    return _between(event.starts_at, event.ends_at)


def _between(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str:
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    same_day = start.date() == end.date()
    return (
        f"{start:%A %-d %B %Y, %H:%M}–{end:%H:%M}"
        if same_day
        else (f"{start:%A %-d %B %Y, %H:%M} to {end:%A %-d %B %Y, %H:%M}")
    )


@email_task()
def send_clash_override_emails(override_ids: list[int]) -> int:
    """Tell each other event's organiser that an event went ahead despite clashing with theirs."""
    overrides = ClashOverride.objects.filter(pk__in=override_ids).select_related(
        "event", "event__unit", "other", "other__organiser", "by"
    )
    sent = 0
    for override in overrides:
        told = organisers_to_tell([override.other], override.by)
        if not told:
            continue
        [organiser] = told
        sent += notify(
            user=organiser,
            kind=CLASH_OVERRIDE,
            reply_to=[override.by.email] if override.by else None,
            subject=f"{override.event.title} clashes with your event {override.other.title}",
            template="events/email/clash_override.txt",
            context={
                "override": override,
                "organiser": organiser,
                "when": _when(override.event),
                "other_when": _when(override.other),
            },
            once=f"events.clash_override:{override.pk}",
        )
    return sent


def operators_answering_for(unit_id: int) -> list[User]:
    """Operators of the unit asked; if it has none, those of the nearest unit above it.

    With nobody there either, the Careers Centre's administrators are asked, so no
    request waits unseen.
    """
    for candidate in UnitTree.load().chain(unit_id):
        people = [
            m.user
            for m in StaffMembership.objects.filter(unit_id=candidate, user__is_active=True)
            .select_related("user")
            .order_by("user__full_name")
        ]
        operators = [p for p in people if p.has_perm("mycareer.edit_records")]
        if operators:
            return operators
    return administrators()


@email_task()
def send_opening_request_emails(request_id: int) -> int:
    """Ask the operators of a unit whether an event may be opened to their students."""
    request = OpeningRequest.objects.select_related(
        "event", "event__unit", "unit", "requested_by"
    ).get(pk=request_id)
    if request.status != OpeningRequest.Status.PENDING:
        return 0
    sent = 0
    for operator in operators_answering_for(request.unit_id):
        sent += notify(
            user=operator,
            kind=OPENING_REQUEST,
            reply_to=[request.requested_by.email] if request.requested_by else None,
            subject=f"Open {request.event.title} to {request.unit}?",
            template="events/email/opening_request.txt",
            context={"request": request, "operator": operator, "when": _when(request.event)},
            once=f"events.opening_request:{request.pk}",
        )
    return sent


@email_task()
def send_opening_withdrawn_emails(request_id: int) -> int:
    """Tell the operators who were asked to open an event that the organiser withdrew it.

    Exactly those the request reached (its list marked them), at their address now: an
    operator who joined since, or switched these emails off, was never asked and has
    nothing to forget, and whoever answered for a unit then is told even if its own
    operators would be asked today.
    """
    request = OpeningRequest.objects.select_related(
        "event", "event__unit", "unit", "requested_by", "withdrawn_by"
    ).get(pk=request_id)
    if request.status != OpeningRequest.Status.WITHDRAWN:
        return 0
    sent = 0
    for operator in people_reached(f"events.opening_request:{request.pk}"):
        by = request.withdrawn_by
        sent += notify(
            user=operator,
            kind=OPENING_REQUEST,
            reply_to=[by.email] if by else None,
            subject=f"Withdrawn: open {request.event.title} to {request.unit}?",
            template="events/email/opening_withdrawn.txt",
            context={"request": request, "operator": operator, "when": _when(request.event)},
            once=f"events.opening_withdrawn:{request.pk}",
        )
    return sent


@email_task()
def send_opening_decision_email(request_id: int) -> int:
    """Tell the organiser who asked whether the other unit opened the event."""
    request = OpeningRequest.objects.select_related(
        "event", "unit", "requested_by", "decided_by"
    ).get(pk=request_id)
    if request.requested_by is None:
        return 0
    answer = "accepted" if request.status == OpeningRequest.Status.ACCEPTED else "declined"
    return notify(
        user=request.requested_by,
        kind=OPENING_DECISION,
        reply_to=[request.decided_by.email] if request.decided_by else None,
        subject=f"{request.unit} {answer} opening {request.event.title}",
        template="events/email/opening_decision.txt",
        context={"request": request, "answer": answer},
    )


def calendar_file(event: Event, person: User) -> bytes:
    """The event as it is now, for `person`'s calendar: a file that updates the entry their
    confirmation (or "Add to your calendar") made, as its SEQUENCE is above that one's."""
    theirs = copy.copy(event)  # not saved: the SEQUENCE is this person's
    theirs.sequence = registry.sequence_for(event, person)
    return build_calendar([theirs], name=event.title, feed_id=f"event-{event.uid}")


@email_task()
def send_cancellation_emails(event_id: int) -> int:
    """Tell each person whose place or waiting-list entry ended that the event is cancelled.

    One message per notice not yet sent, each marked sent as it goes: a restarted worker
    or a retried task sends to nobody twice.
    """
    event = (
        Event.objects.select_related("unit", "organiser")
        .prefetch_related("organisations", "topics")
        .get(pk=event_id)
    )
    sent = 0
    for notice in event.cancellation_notices.filter(sent_at__isnull=True).select_related("person"):
        person = notice.person
        # Closed since the cancellation: the change emails leave them out too.
        if person.is_active and person.email:
            sent += send_email(
                to=[person.email],
                reply_to=event.reply_to(),
                subject=f"Cancelled: {event.title}",
                template="events/email/cancelled.txt",
                context={"event": event, "when": _when(event), "person": person, "notice": notice},
                attachments=[
                    ("event-cancelled.ics", calendar_file(event, person), "text/calendar")
                ],
            )
        CancellationNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now())
        log_event(logger, "events.cancellation.emailed", event_id=event.pk, notice=notice.pk)
    return sent


@email_task()
def send_cancelled_by_colleague_email(event_id: int, by_id: int, left: int = 0) -> int:
    """Tell the organiser that a colleague cancelled their event: the people told were
    asked to reply to the organiser, who would otherwise hear of it from them first.

    `left` is how many people whose places ended were not told, as they can no longer
    sign in (0 for a task queued before it was counted)."""
    event = Event.objects.select_related("unit", "organiser").get(pk=event_id)
    by = User.objects.filter(pk=by_id).first()
    if event.organiser is None:
        return 0
    return notify(
        user=event.organiser,
        kind=CANCELLED_BY_COLLEAGUE,
        reply_to=[by.email] if by and by.email else None,
        subject=f"{by or 'A colleague'} cancelled your event {event.title}",
        template="events/email/cancelled_by_colleague.txt",
        context={
            "event": event,
            "by": by,
            "when": _when(event),
            "told": event.cancellation_notices.count(),
            "left": left,
        },
        once=f"{CANCELLED_BY_COLLEAGUE}:{event.pk}",
    )


@email_task()
def send_changed_by_colleague_email(
    event_id: int, change_id: int, by_id: int, changed: dict[str, list]
) -> int:
    """Tell the organiser that a colleague changed their event's time or place: the people
    told were asked to reply to the organiser, who would otherwise hear of it from them."""
    event = Event.objects.select_related("unit", "organiser").filter(pk=event_id).first()
    if event is None or event.organiser is None:
        return 0
    lines = what_changed(event, changed)
    if not lines:
        return 0
    by = User.objects.filter(pk=by_id).first()
    # Counted as the change emails count them: people who can still sign in.
    told = sum(
        1 for person, _ in people_to_tell_of_changes(event) if person.is_active and person.email
    )
    # A finished event's record may still be corrected, and a draft's: its people are
    # not told, and the organiser must not read that there were none.
    held = len(registry.people_at(event)) if event.is_published else 0
    over = event.is_published and event.ends_at <= timezone.now()
    return notify(
        user=event.organiser,
        kind=CHANGED_BY_COLLEAGUE,
        reply_to=[by.email] if by and by.email else None,
        subject=f"{by or 'A colleague'} changed your event {event.title}",
        template="events/email/changed_by_colleague.txt",
        context={
            "event": event,
            "by": by,
            "lines": lines,
            "told": told,
            "held": held,
            "over": over,
        },
        once=f"{CHANGED_BY_COLLEAGUE}:{change_id}",
    )


@email_task()
def send_change_emails(event_id: int, change_id: int, changed: dict[str, list]) -> int:
    """Tell each person with a place, or waiting for one, that the event's time or place changed.

    `changed` maps each of its fields that changed to [before, after], as the audit entry
    `change_id` holds them. Each person gets one email per change, however often the
    task runs; the email says what the event is now and what it was.
    """
    event = (
        Event.objects.select_related("unit", "organiser")
        .prefetch_related("organisations", "topics")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    lines = what_changed(event, changed)
    people = people_to_tell_of_changes(event) if lines else []
    sent = 0
    for person, holding in people:
        if not person.is_active or not person.email:
            continue
        # A calendar the event was added to (from a confirmation) moves it too.
        in_calendar = holding == registry.PLACE
        sent += send_email(
            to=[person.email],
            reply_to=event.reply_to(),
            subject=f"Changed: {event.title}",
            template="events/email/changed.txt",
            context={
                "event": event,
                "person": person,
                "holding": holding,
                "lines": lines,
                "in_calendar": in_calendar,
            },
            attachments=(
                [("event.ics", calendar_file(event, person), "text/calendar")]
                if in_calendar
                else []
            ),
            kind="events.changed",
            once=f"events.changed:{change_id}",
        )
    log_event(
        logger, "events.change.emailed", event_id=event.pk, change=change_id, people=len(people)
    )
    return sent


def what_changed(event: Event, changed: dict[str, list]) -> list[str]:
    """What an event is now and what it was, for each of when, where and its online link.

    The event's current values are "now", so an email sent after a second change is not
    out of date; a line whose value is back where it was is left out.
    """

    def value(key: str, before: bool):
        current = getattr(event, key)
        if key not in changed or not before:
            return current
        old = changed[key][0]
        return datetime.datetime.fromisoformat(old) if key.endswith("_at") else old

    lines = []
    if changed.keys() & {"starts_at", "ends_at"}:
        now = _between(value("starts_at", False), value("ends_at", False))
        was = _between(value("starts_at", True), value("ends_at", True))
        if now != was:
            lines.append(f"When: {now} (it was {was})")
    for key, label, none in (
        ("venue", "Where", "no venue given"),
        ("online_url", "Online", "no online link"),
    ):
        now, was = value(key, False) or none, value(key, True) or none
        if key in changed and now != was:
            lines.append(f"{label}: {now} (it was {was})")
    return lines
