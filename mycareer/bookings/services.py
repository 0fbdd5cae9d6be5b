"""Changes to bookings: book, wait, cancel, promote, offer, move, check in, close attendance.

Every change that can take or free a place follows the booking recipe (STYLE.md rule 5):
`transaction.atomic()` → lock the event's `BookingSettings` row and its event row
(`_lock`) → recount what is taken → insert or change rows → audit → emails as tasks
enqueued after commit. On SQLite the lock is the IMMEDIATE transaction itself (Django
ignores `select_for_update` there), so writers queue on `busy_timeout` instead.

Invariant kept by `_fill` at the end of every locked change: while anyone is waiting,
no place is free (each free place is booked for, or offered to, the next in the queue).
"""

import datetime
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext

from mycareer import audit
from mycareer.accounts.models import User
from mycareer.audit.models import AuditEntry
from mycareer.bookings import selectors, tasks
from mycareer.bookings.models import (
    HOLDING,
    PLACED,
    QUEUED,
    Booking,
    BookingBan,
    BookingSettings,
    EmployerReport,
    NoShowFollowUp,
    NoShowPolicy,
    WaitlistEntry,
)
from mycareer.core import mailmerge
from mycareer.core.logs import log_event
from mycareer.core.prepared import PreparedQuery
from mycareer.core.text import counted, joined
from mycareer.events.models import Event
from mycareer.organisations import merging
from mycareer.organisations.keyaccounts import blocker_message, contact_blockers
from mycareer.organisations.models import Contact

__all__ = [
    "attendance_close",
    "attendance_close_preview",
    "booking_ban_lift",
    "booking_cancel",
    "booking_create",
    "booking_settings_update",
    "capacity_change",
    "check_in",
    "check_in_undo",
    "employer_report_send",
    "noshow_followup_send",
    "noshow_policy_update",
    "offer_accept",
    "offer_settle",
    "offers_expire",
    "queues_settle",
    "staff_book_student",
    "staff_move",
    "waitlist_leave",
    "waits_settle",
    "walk_in",
]

logger = logging.getLogger(__name__)

MERGE_FIELDS = ("first_name", "event_title", "event_date")


# The recipe's parts ---------------------------------------------------------------------


def _lock(event: Event | int) -> BookingSettings:
    """Lock the event's booking settings row and event row until the transaction ends.

    Locking the event row as well serialises bookings with the events app's changes
    (cancelling locks it too), so nobody books a place in an event being cancelled
    without also being told of the cancellation.
    """
    event_id = event if isinstance(event, int) else event.pk
    locked = (
        BookingSettings.objects.select_for_update(of=("self", "event"))
        .select_related("event")
        .filter(pk=event_id)
    )
    # Almost every event has its settings row already: lock it in one query.
    settings = locked.first()
    if settings is None:
        BookingSettings.objects.get_or_create(event_id=event_id)
        settings = locked.get()
    return settings


def _with_taken(pk: int):
    booked = Booking.objects.filter(event_id=OuterRef("pk"), status__in=HOLDING)
    offered = WaitlistEntry.objects.filter(
        event_id=OuterRef("pk"), status=WaitlistEntry.Status.OFFERED
    )
    return BookingSettings.objects.filter(pk=pk).annotate(
        booked=_count(booked), offered=_count(offered)
    )


def _places_taken(pk: int):
    return _with_taken(pk).values("booked", "offered")


# One query, compiled once per process: it runs under the lock, where every query and
# every millisecond of building one makes the others wait (1.7 ms of a booking's 7 there).
PLACES_TAKEN = PreparedQuery(_places_taken, pk=-7_777_777)


def _standing(pk: int, student: int, now: datetime.datetime):
    """What a new place depends on, in one query: places taken, whether any offer ran out
    or anyone waits, and whether the student already holds a place or one in the queue."""
    mine = {"event_id": OuterRef("pk"), "student_id": student}
    queue = WaitlistEntry.objects.filter(event_id=OuterRef("pk"))
    lapsed = queue.filter(status=WaitlistEntry.Status.OFFERED, offer_expires_at__lte=now)
    return (
        _with_taken(pk)
        .annotate(
            due=Exists(lapsed),
            waiting=Exists(queue.filter(status=WaitlistEntry.Status.WAITING)),
            holding=Exists(Booking.objects.filter(**mine, status__in=HOLDING)),
            queued=Exists(WaitlistEntry.objects.filter(**mine, status__in=QUEUED)),
        )
        .values("booked", "offered", "due", "waiting", "holding", "queued")
    )


# Under the lock a booking's checks were five queries (offers due, places taken, the
# queue, the student's place, the student's place in the queue): now this one.
STANDING = PreparedQuery(
    _standing,
    pk=-7_777_777,
    student=-7_777_778,
    now=datetime.datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=datetime.UTC),
)


def _standing_of(
    settings: BookingSettings, student: User, *, now: datetime.datetime
) -> dict[str, Any]:
    """`STANDING` for this event and student, with the places free (None: no limit)."""
    standing = STANDING.get(pk=settings.pk, student=student.pk, now=now)
    taken = standing["booked"] + standing["offered"]
    capacity = settings.capacity
    standing["free"] = None if capacity is None else max(0, capacity - taken)
    return standing


def _taken(settings: BookingSettings) -> int:
    """Places taken now: bookings that hold a place plus offers still open."""
    return sum(PLACES_TAKEN.get(pk=settings.pk).values())


def _count(queryset) -> Coalesce:
    """The number of rows of `queryset`, as a subquery of the row it refers to."""
    return Coalesce(
        Subquery(queryset.order_by().values("event_id").annotate(n=Count("pk")).values("n")),
        0,
    )


def _free(settings: BookingSettings) -> int | None:
    """Free places (None when there is no limit). Call only under `_lock`."""
    if settings.capacity is None:
        return None
    return max(0, settings.capacity - _taken(settings))


def _after_commit(task, *args) -> None:
    transaction.on_commit(functools.partial(task.enqueue, *args))


def _settle_waits_of():
    """The job that settles a student's queues (jobs.py, which imports this module: so
    read when enqueued, as other services read their jobs)."""
    from mycareer.bookings.jobs import settle_waits_of

    return settle_waits_of


def _refuse(message: str, **fields: Any) -> NoReturn:
    """Refuse with a message for the person; refusals about time are logged (`fields`)."""
    if fields:
        log_event(logger, "bookings.refused", reason=message, **fields)
    raise ValidationError(message)


def _you(student: User, by: User | None, *, you: str, other: str) -> str:
    return you if by is not None and by.pk == student.pk else other.format(name=student)


def _expire_due(settings: BookingSettings, *, now: datetime.datetime) -> int:
    """Close offers whose time ran out; their places pass on in `_fill`. Each student
    leaves the waiting list, and is emailed so (`tasks.send_offer_expired`)."""
    due = list(
        WaitlistEntry.objects.filter(
            event_id=settings.pk,
            status=WaitlistEntry.Status.OFFERED,
            offer_expires_at__lte=now,
        ).select_related("student")
    )
    restricted = _restricted_at_deadline(due)
    for entry in due:
        entry.event = settings.event  # in hand: the audit names the entry by it
        expired_at = entry.offer_expires_at
        assert expired_at is not None  # chosen by offer_expires_at__lte
        if entry.pk in restricted:
            # Restricted when it ran out, they could not have taken it up: taken back,
            # keeping their turn, as the job does while it runs (`restricted_offers_end`).
            _take_back_offer(settings, entry, restricted[entry.pk])
            continue
        entry.status = WaitlistEntry.Status.EXPIRED
        entry.ended_at = now
        entry.save(update_fields=["status", "ended_at"])
        audit.log(
            entry,
            "bookings.waitlist.expired",
            person=entry.student,
            data={"event": settings.pk, "expired_at": expired_at.isoformat()},
        )
        _after_commit(tasks.send_offer_expired, entry.pk)
    return len(due) - len(restricted)


def _restricted_at_deadline(offers: list[WaitlistEntry]) -> dict[int, BookingBan]:
    """The offers (by entry id) whose student was restricted from booking when the offer
    ran out, by a restriction lasting until then or later, with it; in one query. A job
    that ran late (or a restriction that started between two runs) must not cost them
    their turn, which taking the offer back on time would have kept."""
    if not offers:
        return {}
    bans = BookingBan.objects.filter(
        student_id__in={entry.student_id for entry in offers}
    ).order_by("pk")
    found: dict[int, BookingBan] = {}
    for entry in offers:
        deadline = entry.offer_expires_at
        assert deadline is not None
        for ban in bans:
            if (
                ban.student_id == entry.student_id
                and ban.starts_at <= deadline <= ban.ends_at
                and (ban.lifted_at is None or ban.lifted_at > deadline)
            ):
                found[entry.pk] = ban
                break
    return found


def _fill(
    settings: BookingSettings, *, by: User | None, now: datetime.datetime
) -> list[Booking | WaitlistEntry]:
    """Give free places to the people waiting, first come first served.

    Automatic promotion books them and tells them; offer mode offers each place for
    `offer_hours` (never beyond the start of the event). Nothing moves once the event
    has started. Who is next in line: `selectors.next_in_line` (a student restricted from
    booking is passed over, and refused an offer made before it started: `offer_accept`).
    """
    event = settings.event
    if not event.is_published or now >= event.starts_at:
        return []
    free = _free(settings)
    if free == 0:
        return []
    # Leavers and students restricted from booking keep their turn but are passed over.
    queue = selectors.next_in_line(event.pk, now).select_related("student")
    done: list[Booking | WaitlistEntry] = []
    for entry in queue if free is None else queue[:free]:
        # The event is in hand: the audit names the entry by it, which read it once each.
        entry.event = event
        if settings.offers:
            entry.status = WaitlistEntry.Status.OFFERED
            entry.offered_at = now
            entry.offer_expires_at = min(
                now + datetime.timedelta(hours=settings.offer_hours), event.starts_at
            )
            entry.save(update_fields=["status", "offered_at", "offer_expires_at"])
            audit.log(
                entry,
                "bookings.waitlist.offered",
                by=by,
                person=entry.student,
                data={"event": event.pk, "until": entry.offer_expires_at.isoformat()},
            )
            _after_commit(tasks.send_offer, entry.pk)
            done.append(entry)
        else:
            booking = _book_from_queue(entry, event, by=by, now=now)
            audit.log(
                booking,
                "bookings.booking.promoted",
                by=by,
                person=entry.student,
                data={"event": event.pk, "title": event.title, "joined_at": str(entry.joined_at)},
            )
            _after_commit(tasks.send_promotion, booking.pk)
            done.append(booking)
    return done


def _book_from_queue(
    entry: WaitlistEntry,
    event: Event,
    *,
    by: User | None,
    now: datetime.datetime,
    accepted_by: User | None = None,
) -> Booking:
    """Turn a place in the queue into a booking: by the waiting list itself (promotion), or
    by the person accepting their offer (`accepted_by`)."""
    booking = Booking.objects.create(
        event=event,
        student=entry.student,
        source=Booking.Source.WAITING_LIST,
        booked_at=now,
        booked_by=by,
    )
    entry.status = WaitlistEntry.Status.ACCEPTED
    entry.ended_at = now
    entry.ended_by = accepted_by
    entry.save(update_fields=["status", "ended_at", "ended_by"])
    return booking


def _settle(
    settings: BookingSettings, *, by: User | None, now: datetime.datetime
) -> list[Booking | WaitlistEntry]:
    """End the offers that ran out, then give free places to who waits: the queue is settled
    before anything that counts places (under the event's lock)."""
    _expire_due(settings, now=now)
    return _fill(settings, by=by, now=now)


class RestrictedFromBooking(ValidationError):
    """Staff giving a place to a student restricted from booking (no-shows) without saying
    they mean to override the restriction: nothing was changed. `ban` is the restriction,
    `until` its end in words, to show before asking again."""

    def __init__(self, *, student: User, ban: BookingBan):
        self.student = student
        self.ban = ban
        self.until = selectors.when_text(ban.ends_at)
        super().__init__(
            f"{student} is restricted from booking until {self.until} (no-shows). The "
            f"email that told them said: “{ban.reason}” Give them a place only if "
            "you mean to override the restriction.",
            code="restricted",
        )


def _restriction_to_override(
    student: User, event: Event, *, override: bool, source: str, now: datetime.datetime
) -> BookingBan | None:
    """The restriction on booking in force for a student staff give a place to (None if
    there is none): refused unless they knowingly override it (`override`)."""
    ban = selectors.active_ban(student, now=now)
    if ban is not None and not override:
        log_event(
            logger,
            "bookings.refused",
            reason="restriction_not_overridden",
            event_id=event.pk,
            student=student.pk,
            restriction=ban.pk,
            source=source,
        )
        raise RestrictedFromBooking(student=student, ban=ban)
    return ban


def _restriction_overridden(booking: Booking, ban: BookingBan, *, by: User | None) -> None:
    """Record a place given to a student restricted from booking, in the same transaction."""
    audit.log(
        booking,
        "bookings.booking.restriction_overridden",
        by=by,
        person=booking.student,
        data={
            "event": booking.event_id,
            "source": booking.source,
            "restricted_until": ban.ends_at.isoformat(),
            "restriction": ban.pk,
        },
    )
    log_event(
        logger,
        "bookings.restriction_overridden",
        event_id=booking.event_id,
        booking=booking.pk,
        restriction=ban.pk,
        source=booking.source,
        by=by.pk if by is not None else None,
    )
    booking.overridden_ban = ban


def _place(
    settings: BookingSettings,
    student: User,
    source: str,
    *,
    by: User | None,
    now: datetime.datetime,
    notify: bool = True,
    override_restriction: bool | None = None,
) -> Booking | WaitlistEntry:
    """Settle the queue, then insert a booking if a place is free, else a waiting-list
    entry. Call under `_lock`.

    Staff giving a place say whether they override a restriction on booking the student
    may be under (`override_restriction`: without it, `RestrictedFromBooking`); None for
    a student's own booking, whose restriction `person_refusal` has refused already. A place
    on the waiting list needs no override: the queue passes them over while it lasts.
    """
    event = settings.event
    standing = _standing_of(settings, student, now=now)
    if standing["due"] or (standing["waiting"] and standing["free"] != 0):
        # Offers ran out, or places are free while people wait: the queue moves first,
        # and the places it fills are the list's doing, not the booking student's. Rare:
        # every locked change leaves no place free while anyone waits.
        _settle(settings, by=None if source == Booking.Source.STUDENT else by, now=now)
        standing = _standing_of(settings, student, now=now)
    if standing["holding"]:
        _refuse(
            _you(
                student,
                by,
                you="You already have a place at this event.",
                other="{name} already has a place at this event.",
            )
        )
    if standing["queued"]:
        queued = WaitlistEntry.objects.get(event=event, student=student, status__in=QUEUED)
        if queued.is_offered:
            _refuse(
                _you(
                    student,
                    by,
                    you="You have been offered a place: accept it to book.",
                    other="{name} has been offered a place and can accept it.",
                )
            )
        position = selectors.waitlist_position(queued)
        _refuse(
            _you(
                student,
                by,
                you=f"You are already on the waiting list (number {position}).",
                other=f"{{name}} is already on the waiting list (number {position}).",
            )
        )
    free = standing["free"]
    ban = None
    if override_restriction is not None and (free is None or free > 0):
        ban = _restriction_to_override(
            student, event, override=override_restriction, source=source, now=now
        )
    try:
        # A savepoint: should the database refuse the row after all (the unique
        # constraint), the transaction stays usable and the person gets a message.
        with transaction.atomic():
            if free is None or free > 0:
                booking = Booking.objects.create(
                    event=event, student=student, source=source, booked_at=now, booked_by=by
                )
                if ban is not None:
                    _restriction_overridden(booking, ban, by=by)
                told = tasks.send_booking_confirmation if notify else None
                return _placed(booking, "bookings.booking.created", source, by=by, tell=told)
            if not settings.waiting_list:
                _refuse("The event is full and does not keep a waiting list.")
            if now >= event.starts_at:
                # Places stop passing to the queue at the start (`_fill`): an entry
                # made now would wait for nothing.
                _refuse(
                    "The event is full and has started, so its waiting list has closed: "
                    "raise the capacity to give them a place."
                )
            entry = WaitlistEntry.objects.create(event=event, student=student, joined_at=now)
            told = tasks.send_waitlist_joined if notify else None
            return _placed(entry, "bookings.waitlist.joined", source, by=by, tell=told)
    except IntegrityError:
        _refuse(
            _you(
                student,
                by,
                you="You already have a place or a waiting-list place at this event.",
                other="{name} already has a place or a waiting-list place at this event.",
            )
        )


# Booking and cancelling -----------------------------------------------------------------


def _placed(
    row: Booking | WaitlistEntry, action: str, source: str, *, by: User | None, tell
) -> Booking | WaitlistEntry:
    """Record a new place or place in the queue, and email the person once it is committed."""
    event = row.event
    audit.log(
        row,
        action,
        by=by,
        person=row.student,
        data={"event": event.pk, "title": event.title, "source": source},
    )
    if tell is not None:
        _after_commit(tell, row.pk)
    return row


def booking_create(
    *, event: Event, student: User, by: User | None, notify: bool = True
) -> Booking | WaitlistEntry:
    """Book the student a place, or put them on the waiting list when the event is full."""
    # Checks that do not depend on other bookings run before the lock, to keep it short.
    refusal = selectors.person_refusal(event=event, student=student)
    if refusal:
        _refuse(refusal)
    with transaction.atomic():
        settings = _lock(event)
        now = timezone.now()
        refusal = selectors.window_refusal(settings=settings, now=now)
        if refusal:
            _refuse(refusal)
        return _place(settings, student, Booking.Source.STUDENT, by=by, now=now, notify=notify)


def staff_book_student(
    *,
    event: Event,
    student: User,
    by: User,
    notify: bool = True,
    override_restriction: bool = False,
) -> Booking | WaitlistEntry:
    """Staff book a student in, outside the booking window and audience if need be.

    Capacity still holds: when the event is full the student joins the waiting list
    (raise the capacity first to give them a place). Once the event has started, a
    student who came is checked in as a walk-in instead: a booking then would take a
    free place ahead of the waiting list and email them to come to what has begun.

    A student restricted from booking (no-shows) gets a place only when staff override
    the restriction knowingly (`override_restriction`, audited); else `RestrictedFromBooking`.
    """
    if not student.is_student:
        _refuse(f"{student} is not a student.")
    with transaction.atomic():
        settings = _lock(event)
        event = settings.event
        now = timezone.now()
        if not event.is_published:
            _refuse("Only a published event takes bookings.")
        if now >= event.ends_at:
            _refuse("The event is over.")
        if now >= event.starts_at:
            _refuse(
                "The event has started: check a student who came in as a walk-in on the "
                "check-in page.",
                event_id=event.pk,
                action="staff_book",
            )
        return _place(
            settings,
            student,
            Booking.Source.STAFF,
            by=by,
            now=now,
            notify=notify,
            override_restriction=override_restriction,
        )


def booking_cancel(
    *, booking: Booking, by: User, notify: bool = True
) -> list[Booking | WaitlistEntry]:
    """Cancel a booking before the event starts; a place it frees goes to who waits.

    The student is told by email (`notify`): whoever cancelled it, so nobody comes to an
    event they no longer have a place at; when it was them, with a calendar cancellation
    so the event leaves the calendar their confirmation added it to. Returns who was booked
    or offered a place as a result.
    """
    with transaction.atomic():
        settings = _lock(booking.event_id)
        now = timezone.now()
        booking = Booking.objects.select_related("student", "event").get(pk=booking.pk)
        refusal = selectors.cancel_refusal(booking, own=by.pk == booking.student_id, now=now)
        if refusal:
            _refuse(refusal, event_id=booking.event_id, booking_id=booking.pk, action="cancel")
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = by
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        if notify:
            own = by.pk == booking.student_id
            told = tasks.send_cancellation_confirmation if own else tasks.send_cancelled_by_staff
            _after_commit(told, booking.pk)
        return _pass_on(settings, booking, "bookings.booking.cancelled", by=by, now=now)


def waitlist_leave(
    *, entry: WaitlistEntry, by: User, notify: bool = True, erasing: bool = False
) -> list[Booking | WaitlistEntry]:
    """Leave the waiting list, or decline an offer (which then passes to the next person),
    until the event starts: its list is closed then (`selectors.leave_refusal`). Erasing
    the student (`erasing`) gives the place up whenever it comes.

    A student someone else removed is told by email (`notify`). Offers of the event that
    ran out end first, as the periodic job would end them, and stay ended when this is
    refused: an offer past its time is no longer there to decline (`offer_accept` too).
    """
    with transaction.atomic():
        settings = _lock(entry.event_id)
        now = timezone.now()
        _settle(settings, by=None, now=now)
        entry = WaitlistEntry.objects.select_related("student", "event").get(pk=entry.pk)
        own = by.pk == entry.student_id
        refusal = selectors.leave_refusal(entry, own=own, now=None if erasing else now)
        if refusal is None:
            entry.status = WaitlistEntry.Status.LEFT
            entry.ended_at = now
            entry.ended_by = by
            entry.save(update_fields=["status", "ended_at", "ended_by"])
            if notify and not own:
                _after_commit(tasks.send_removed_from_waiting_list, entry.pk)
            return _pass_on(settings, entry, "bookings.waitlist.left", by=by, now=now)
        if erasing and entry.status != WaitlistEntry.Status.ACCEPTED:
            # Its offer ran out just now, or it ended since it was read: nothing to give
            # up. Taken up meanwhile, it is a place: refused, so the erasure stops and
            # is run again, and gives up the place then.
            return []
    # Outside the transaction, so the offers closed above stay closed.
    if refusal == selectors.WAITLIST_CLOSED:
        _refuse(refusal, event_id=entry.event_id, entry_id=entry.pk, action="leave")
    _refuse(refusal)


def _pass_on(
    settings: BookingSettings,
    given_up: Booking | WaitlistEntry,
    action: str,
    *,
    by: User,
    now: datetime.datetime,
) -> list[Booking | WaitlistEntry]:
    """Record that a place or a place in the queue was given up, then give it to who waits."""
    audit.log(
        given_up,
        action,
        by=by,
        person=given_up.student,
        data={"event": settings.pk, "title": settings.event.title},
    )
    return _settle(settings, by=by, now=now)


def offer_accept(*, entry: WaitlistEntry, by: User) -> Booking:
    """Take up an offered place while the offer is open.

    Offers of the event that ran out are closed and their places passed on first, and that
    is kept even when this person is refused: the periodic job would do the same, and a
    refusal saying the place passed on must be true once it is shown.

    A student restricted from booking since the offer was made is refused with booking's
    reason. When the restriction lasts until the offer's deadline, the offer can never be
    taken up: it ends (as one that ran out) and the place passes on at once, rather than
    stay empty until then; a shorter restriction leaves it theirs until its time runs out.
    """
    with transaction.atomic():
        settings = _lock(entry.event_id)
        now = timezone.now()
        _settle(settings, by=None, now=now)
        entry = WaitlistEntry.objects.select_related("student", "event").get(pk=entry.pk)
        event = settings.event
        if entry.status != WaitlistEntry.Status.OFFERED:
            refusal = selectors.offer_ended_text(entry, now=now)
        elif not event.is_published or now >= event.starts_at:
            refusal = "The event has started or was cancelled."
        elif (ban := selectors.active_ban(entry.student, now=now)) is not None:
            # Restricted after the offer was made: a place taken up is a booking all the same.
            refusal = selectors.ban_message(ban)
            assert entry.offer_expires_at is not None  # every offer has a deadline
            if ban.ends_at >= entry.offer_expires_at:
                _end_offer_of_restricted(settings, entry, ban, now=now)
                refusal += f" {selectors.OFFER_TAKEN_BACK}"
        else:
            # The offer already held this place, so no recount is needed to turn it into a
            # booking.
            booking = _book_from_queue(entry, event, by=by, now=now, accepted_by=by)
            audit.log(
                booking,
                "bookings.waitlist.accepted",
                by=by,
                person=entry.student,
                data={"event": event.pk, "title": event.title},
            )
            _after_commit(tasks.send_booking_confirmation, booking.pk)
            return booking
    # Outside the transaction, so the offers closed above stay closed.
    _refuse(refusal, event_id=event.pk, entry_id=entry.pk, action="accept_offer")


def _end_offer_of_restricted(
    settings: BookingSettings,
    entry: WaitlistEntry,
    ban: BookingBan,
    *,
    now: datetime.datetime,
) -> None:
    """Take back an offer its student is restricted from taking up until past its deadline,
    and pass the place on. Call under `_lock`.

    The student keeps their turn (back to waiting, as they joined): a restriction leaves
    waiting-list places as they are (its email says so), and is often lifted (attendance
    corrected); then they are next in line again (`waits_settle`).
    """
    _take_back_offer(settings, entry, ban)
    _fill(settings, by=None, now=now)


def _take_back_offer(settings: BookingSettings, entry: WaitlistEntry, ban: BookingBan) -> None:
    """An offer back to waiting, as joined, because of the restriction `ban`; audited."""
    was = entry.offer_expires_at
    assert was is not None  # an open offer has a deadline
    entry.status = WaitlistEntry.Status.WAITING
    entry.offered_at = None
    entry.offer_expires_at = None
    entry.save(update_fields=["status", "offered_at", "offer_expires_at"])
    audit.log(
        entry,
        "bookings.waitlist.offer_withdrawn",
        person=entry.student,
        data={"event": settings.pk, "was": was.isoformat(), "restricted": ban.pk},
    )


def offer_settle(*, entry: WaitlistEntry) -> WaitlistEntry:
    """Close the event's offers that ran out, as the periodic job would, before an offer's
    page says whether it can still be accepted; returns the entry as it now stands."""
    if selectors.offer_lapsed(entry, timezone.now()):
        offers_expire(event_ids=[entry.event_id])
    return WaitlistEntry.objects.select_related("event", "event__unit").get(pk=entry.pk)


def offers_expire(
    *, now: datetime.datetime | None = None, event_ids: Iterable[int] | None = None
) -> int:
    """Close every offer whose time ran out (of `event_ids` only, if given) and offer the
    places on; returns how many closed."""
    now = now or timezone.now()
    due = WaitlistEntry.objects.filter(
        status=WaitlistEntry.Status.OFFERED, offer_expires_at__lte=now
    )
    if event_ids is not None:
        due = due.filter(event_id__in=list(event_ids))
    closed = 0
    # One short transaction per event, so one busy event never holds up the others.
    for event_id in sorted(set(due.values_list("event_id", flat=True))):
        with transaction.atomic():
            settings = _lock(event_id)
            closed += _expire_due(settings, now=now)
            _fill(settings, by=None, now=now)
    return closed


def _settle_each(event_ids: Iterable[int]) -> int:
    """Settle each event's queue in its own short transaction, one event at a time (so one
    busy event never holds up the others, and no two are locked at once); returns how many
    people were booked or offered a place."""
    moved = 0
    for event_id in sorted(set(event_ids)):
        with transaction.atomic():
            settings = _lock(event_id)
            moved += len(_settle(settings, by=None, now=timezone.now()))
    return moved


def queues_settle(*, now: datetime.datetime | None = None) -> int:
    """Give the places left free while someone is next in line (a restriction on booking of
    who waited first ran out: nothing else moves the queue then); returns how many moved."""
    return _settle_each(selectors.events_with_places_for_who_waits(now or timezone.now()))


def restricted_offers_end(*, now: datetime.datetime | None = None) -> int:
    """Take back the offers held by students restricted from booking until past the
    offer's deadline: they can never take them up, and the place would wait empty until
    then. Each student keeps their turn, and the place passes on (`offer_accept` does the
    same when such a student tries). One event at a time, each under its lock; returns
    how many were taken back."""
    now = now or timezone.now()
    outlasting = selectors.bans_in_force(now).filter(
        student=OuterRef("student"), ends_at__gte=OuterRef("offer_expires_at")
    )
    event_ids = (
        WaitlistEntry.objects.filter(
            status=WaitlistEntry.Status.OFFERED,
            offer_expires_at__gt=now,
            event__starts_at__gt=now,
        )
        .filter(Exists(outlasting))
        .values_list("event_id", flat=True)
    )
    ended = 0
    for event_id in sorted(set(event_ids)):
        with transaction.atomic():
            settings = _lock(event_id)
            at = timezone.now()
            _settle(settings, by=None, now=at)
            offers = list(
                WaitlistEntry.objects.filter(
                    event_id=event_id, status=WaitlistEntry.Status.OFFERED, offer_expires_at__gt=at
                ).order_by("pk")
            )
            # Each student's longest restriction in force, in one query.
            bans: dict[int, BookingBan] = {}
            in_force = selectors.bans_in_force(at).filter(
                student_id__in=[entry.student_id for entry in offers]
            )
            for restriction in in_force.order_by("ends_at", "pk"):
                bans[restriction.student_id] = restriction
            for entry in offers:
                longest = bans.get(entry.student_id)
                expires_at = entry.offer_expires_at
                if longest and expires_at and longest.ends_at >= expires_at:
                    _end_offer_of_restricted(settings, entry, longest, now=at)
                    ended += 1
    return ended


def waits_settle(*, student_id: int) -> int:
    """After the student's restriction on booking was lifted: settle each upcoming event
    where they wait, so a place left free while they were passed over goes to who is next
    in line now (them, if first); returns how many moved."""
    event_ids = WaitlistEntry.objects.filter(
        student_id=student_id,
        status=WaitlistEntry.Status.WAITING,
        event__starts_at__gt=timezone.now(),
    ).values_list("event_id", flat=True)
    return _settle_each(event_ids)


def follow_new_times(event: Event) -> None:
    """What the event's places follow when its times change (the events app calls this
    inside the transaction that moved the event)."""
    offers_follow_start(event)
    check_ins_follow_start(event)


def check_ins_follow_start(event: Event) -> int:
    """The event moved to a start whose check-in has not opened yet: who was checked in
    early for the old time has not come to this one, so their places are booked again,
    not attended (audited). A delay announced at the door, check-in still open, keeps
    who arrived. Returns how many were undone."""
    if timezone.now() >= selectors.check_in_opens_at(event):
        return 0
    undone = list(
        Booking.objects.filter(event_id=event.pk, status=Booking.Status.ATTENDED).select_related(
            "student"
        )
    )
    for booking in undone:
        Booking.objects.filter(pk=booking.pk).update(
            status=Booking.Status.CONFIRMED, checked_in_at=None, checked_in_by=None
        )
        audit.log(
            booking,
            "bookings.booking.check_in_undone",
            person=booking.student,
            data={
                "event": event.pk,
                "checked_in_at": booking.checked_in_at.isoformat()
                if booking.checked_in_at
                else None,
            },
        )
    return len(undone)


def offers_follow_start(event: Event) -> int:
    """The event moved earlier: an open offer that ran past its new start ends at it, as
    one made now would (`_fill`), so the deadline each page and email states is true.
    Called inside the transaction that moved the event; returns how many were shortened."""
    shortened = list(
        WaitlistEntry.objects.filter(
            event_id=event.pk,
            status=WaitlistEntry.Status.OFFERED,
            offer_expires_at__gt=event.starts_at,
        ).select_related("student")
    )
    for entry in shortened:
        was = entry.offer_expires_at
        assert was is not None  # chosen by offer_expires_at__gt
        entry.offer_expires_at = event.starts_at
        entry.save(update_fields=["offer_expires_at"])
        audit.log(
            entry,
            "bookings.waitlist.offer_shortened",
            person=entry.student,
            data={
                "event": event.pk,
                "was": was.isoformat(),
                "until": entry.offer_expires_at.isoformat(),
            },
        )
    return len(shortened)


# Settings and capacity ------------------------------------------------------------------

SETTING_FIELDS = ("capacity", "opens_at", "closes_at", "waiting_list", "promotion", "offer_hours")


CANCELLED_SETTINGS = (
    "A cancelled event takes no bookings, so its booking settings stay as they were."
)


class PlacesToConfirm(ValidationError):
    """Saving would give places to people waiting, a number the person saving has not
    confirmed: nothing was saved. `count` says how many, `sentence` what happens to them."""

    def __init__(self, moved: list[Booking | WaitlistEntry]):
        self.count = len(moved)
        self.sentence = _moves_sentence(moved)
        super().__init__({"confirm_moves": ["Tick the box to go ahead, or change the settings."]})


def _moves_sentence(moved: list[Booking | WaitlistEntry]) -> str:
    """What saving does for the people waiting, said before it is done."""
    if moved and isinstance(moved[0], WaitlistEntry):
        text = ngettext(
            "%(count)d person on the waiting list will be offered a place and emailed.",
            "%(count)d people on the waiting list will be offered places and emailed.",
            len(moved),
        )
    else:
        text = ngettext(
            "%(count)d person on the waiting list will be given a place and emailed.",
            "%(count)d people on the waiting list will be given places and emailed.",
            len(moved),
        )
    return text % {"count": len(moved)}


class SettingsSaved(NamedTuple):
    """What saving an event's booking settings did."""

    settings: BookingSettings
    moved: list[Booking | WaitlistEntry]  # booked or offered a place from the waiting list
    changed: dict  # {setting: [before, after]}; empty when nothing was changed


def booking_settings_update(
    *,
    event: Event,
    by: User,
    confirmed_moves: int | None = None,
    with_new_event: bool = False,
    **changes,
) -> SettingsSaved:
    """Change how an event takes bookings; more places go to the waiting list at once.

    Lowering the capacity never takes a place from anyone: it only stops new bookings
    until enough people cancel. Returns the settings, who was booked or offered, and
    what changed (nothing is written or audited when nothing did).

    `confirmed_moves` is how many people from the waiting list the person saving agreed
    would get places (None: nobody is asked, as for scripts). When the change would
    move people and that number is not the one agreed, nothing is saved and
    `PlacesToConfirm` says the number: the same reckoning that moves them counts them.

    `with_new_event`: the settings are given as the event is created, and are recorded as
    set with it (`bookings.settings.set`), not as a change from defaults it never had.
    """
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise TypeError(f"Unknown booking settings: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        settings = _lock(event)
        if settings.event.is_cancelled:
            _refuse(CANCELLED_SETTINGS)
        now = timezone.now()
        before = {name: getattr(settings, name) for name in SETTING_FIELDS}
        for name, value in changes.items():
            setattr(settings, name, value)
        _check_settings(settings)
        after = {name: getattr(settings, name) for name in SETTING_FIELDS}
        changed = {k: [_plain(before[k]), _plain(after[k])] for k in after if before[k] != after[k]}
        if not changed:
            return SettingsSaved(settings, [], {})
        settings.save()
        if with_new_event:
            set_with = {name: after for name, (_, after) in changed.items()}
            audit.log(settings.event, "bookings.settings.set", by=by, data={"set": set_with})
        else:
            data: dict[str, object] = {"changed": changed}
            if "capacity" in changed:
                data["holding_places"] = Booking.objects.filter(
                    event_id=settings.pk, status__in=HOLDING
                ).count()
            audit.log(settings.event, "bookings.settings.changed", by=by, data=data)
        moved = _settle(settings, by=by, now=now)
        if confirmed_moves is not None and moved and len(moved) != confirmed_moves:
            # Leaving the transaction with the error undoes all of it, emails included.
            raise PlacesToConfirm(moved)
        return SettingsSaved(settings, moved, changed)


def capacity_change(
    *, event: Event, capacity: int | None, by: User
) -> list[Booking | WaitlistEntry]:
    """Set the number of places (None: no limit); raising it promotes from the waiting list."""
    return booking_settings_update(event=event, by=by, capacity=capacity)[1]


def _plain(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def booking_opening(event: Event) -> tuple[datetime.datetime, str] | None:
    """The events app's bound on an event's start (`events.registry`): after its booking
    opens, or booking would never open, as it closes when the event starts."""
    opens_at = (
        BookingSettings.objects.filter(event=event).values_list("opens_at", flat=True).first()
    )
    if opens_at is None:
        return None
    return opens_at, (
        f"Booking opens on {selectors.when_text(opens_at)}, and closes when the event "
        "starts: start it later, or open booking earlier first."
    )


def _check_settings(settings: BookingSettings) -> None:
    errors = {}
    if settings.capacity is not None and settings.capacity < 0:
        errors["capacity"] = "The number of places cannot be negative."
    if settings.opens_at and settings.closes_at and settings.closes_at <= settings.opens_at:
        errors["closes_at"] = "Booking must close after it opens."
    starts_at = settings.event.starts_at
    if settings.opens_at and settings.opens_at >= starts_at:
        # Booking would never open: it closes when the event starts.
        errors["opens_at"] = (
            f"Booking must open before the event starts, on {selectors.when_text(starts_at)}: "
            "open it earlier, or leave it empty to open when the event is published."
        )
    if settings.promotion not in BookingSettings.Promotion.values:
        errors["promotion"] = "Choose how places are given to people waiting."
    if not 1 <= (settings.offer_hours or 0) <= 168:
        errors["offer_hours"] = "An offer stays open between 1 and 168 hours (a week)."
    for name in ("opens_at", "closes_at"):
        value = getattr(settings, name)
        if value is not None and timezone.is_naive(value):
            raise ValueError("Booking times must be timezone-aware.")
    if errors:
        raise ValidationError(errors)


# Moving people --------------------------------------------------------------------------


class PlaceToLose(ValidationError):
    """Moving someone with a place to a full event would end that place and put them on its
    waiting list, at a number the person moving them did not confirm: nothing was changed.
    `position` is that number, and what to send back as the confirmation."""

    def __init__(self, *, student: User, from_event: Event, to_event: Event, position: int):
        self.student = student
        self.to_event = to_event
        self.position = position
        # Moves are mostly between sessions of one title: the time tells them apart.
        self.to_text = selectors.event_text(to_event)
        super().__init__(
            f"{self.to_text} is full: moved there, {student} goes on its waiting list at "
            f"number {position} and loses their place at {selectors.event_text(from_event)}.",
            code="place_to_lose",
        )


def staff_move(
    *,
    to_event: Event,
    by: User,
    booking: Booking | None = None,
    entry: WaitlistEntry | None = None,
    notify: bool = True,
    confirmed_position: int | None = None,
    override_restriction: bool = False,
) -> Booking | WaitlistEntry:
    """Move a booking or a waiting-list place to another event; the old place passes on.

    The person gets a place at the other event if one is free, else its waiting list;
    if neither, nothing changes. They are told by email (`notify`) what they have there and
    that the old place ended: a place moved to a waiting list is lost, and nobody should
    come to an event they no longer have a place at.

    Losing a place that way needs the waiting-list number it leads to in
    `confirmed_position`: otherwise nothing is changed and `PlaceToLose` says the number.
    A place given to a student restricted from booking (no-shows) needs
    `override_restriction`: otherwise nothing is changed (`RestrictedFromBooking`).

    A waiting-list place is moved as it is left (`waitlist_leave`): the old event's offers
    that ran out end first, and stay ended when the move is refused, so an offer past its
    time is refused as no longer there (not moved), and its place passes on. Unlike
    leaving, staff may move someone off the list of an event that has started: nobody on
    it gets a place there now, but they may at another session (a repeat of the event).
    """
    if (booking is None) == (entry is None):
        raise TypeError("Move either a booking or a waiting-list entry.")
    if booking is not None:
        from_id = booking.event_id
    else:
        assert entry is not None  # exactly one of the two, checked above
        from_id = entry.event_id
    if from_id == to_event.pk:
        _refuse("Choose a different event to move to.")
    refusal: str | None = None
    with transaction.atomic():
        # Always lock in the same order, so two moves in opposite directions cannot deadlock.
        locked = {pk: _lock(pk) for pk in sorted([from_id, to_event.pk])}
        source, target = locked[from_id], locked[to_event.pk]
        now = timezone.now()
        if not target.event.is_published:
            _refuse(f"{target.event} is not open for booking (it is {target.event.status}).")
        if now >= target.event.starts_at:
            _refuse(f"{target.event} has already started.")
        if booking is not None:
            booking = Booking.objects.select_related("student").get(pk=booking.pk)
            if booking.status != Booking.Status.CONFIRMED:
                _refuse("Only a booking that is still open can be moved.")
            student = booking.student
        else:
            assert entry is not None  # exactly one of the two, checked above
            _settle(source, by=None, now=now)
            entry = WaitlistEntry.objects.select_related("student", "event").get(pk=entry.pk)
            # No `now`: a place on a started event's list may still be moved elsewhere.
            refusal = selectors.leave_refusal(entry, own=by.pk == entry.student_id)
            student = entry.student
        if refusal is None:
            placed = _place(
                target,
                student,
                Booking.Source.MOVED,
                by=by,
                now=now,
                notify=notify,
                override_restriction=override_restriction,
            )
            if booking is not None and isinstance(placed, WaitlistEntry):
                position = selectors.waitlist_position(placed)
                if position != confirmed_position:
                    log_event(
                        logger,
                        "bookings.refused",
                        reason="place_loss_unconfirmed",
                        booking=booking.pk,
                        to=target.pk,
                        position=position,
                    )
                    # Leaving the transaction with the error undoes all of it, emails included.
                    raise PlaceToLose(
                        student=student,
                        from_event=source.event,
                        to_event=target.event,
                        position=position,
                    )
            data = {"from": source.pk, "to": target.pk, "title": target.event.title}
            # The emails name where they went with its time: the title may be this event's too.
            moved_to = selectors.event_text(target.event)
            if booking is not None:
                booking.status = Booking.Status.CANCELLED
                booking.cancelled_at = now
                booking.cancelled_by = by
                booking.save(update_fields=["status", "cancelled_at", "cancelled_by"])
                audit.log(booking, "bookings.booking.moved", by=by, person=student, data=data)
                if notify:
                    _after_commit(tasks.send_cancelled_by_staff, booking.pk, moved_to)
            else:
                assert entry is not None  # exactly one of the two, checked above
                entry.status = WaitlistEntry.Status.LEFT
                entry.ended_at = now
                entry.ended_by = by
                entry.save(update_fields=["status", "ended_at", "ended_by"])
                audit.log(entry, "bookings.waitlist.moved", by=by, person=student, data=data)
                if notify:
                    _after_commit(tasks.send_removed_from_waiting_list, entry.pk, moved_to)
            _settle(source, by=by, now=now)
            return placed
    # Outside the transaction, so the offers closed above stay closed.
    assert refusal is not None  # a move that went ahead returned above
    _refuse(refusal)


# At the door ----------------------------------------------------------------------------


def check_in(*, booking: Booking, by: User) -> tuple[Booking, bool]:
    """Record that the person arrived; checking in again changes nothing.

    A place the student gave up and then booked again checks in the place they hold now.

    Returns the booking and whether this call changed it. A no-show can be checked in
    after attendance was closed, to correct the record: when that leaves the student
    under the no-show limit, the restriction it helped start is lifted, and
    `booking.lifted_ban` names it (else it is None).
    """
    now = timezone.now()
    booking = Booking.objects.select_related("event", "student").get(pk=booking.pk)
    refusal = selectors.check_in_refusal(booking.event, now)
    if refusal:
        _refuse(refusal, event_id=booking.event_id, action="check_in")
    if booking.status == Booking.Status.CANCELLED:
        # The code of a place given up, from its confirmation email, while the student has
        # booked again: theirs is the place they hold now (both codes name them and the event).
        current = (
            Booking.objects.select_related("event", "student")
            .filter(event_id=booking.event_id, student_id=booking.student_id, status__in=HOLDING)
            .first()
        )
        if current is None:
            when = selectors.when_text(booking.cancelled_at)
            _refuse(f"{booking.student}'s booking was cancelled on {when}.")
        booking = current
    if booking.status == Booking.Status.ATTENDED:
        return booking, False
    with transaction.atomic():
        # A conditional update, so two staff scanning the same code at once record one check-in.
        changed = Booking.objects.filter(
            pk=booking.pk, status__in=[Booking.Status.CONFIRMED, Booking.Status.NO_SHOW]
        ).update(status=Booking.Status.ATTENDED, checked_in_at=now, checked_in_by=by)
        lifted = None
        if changed:
            audit.log(
                booking,
                "bookings.booking.checked_in",
                by=by,
                person=booking.student,
                data={"event": booking.event_id, "was": booking.status},
            )
            if booking.status == Booking.Status.NO_SHOW:
                lifted = _lift_if_corrected(booking=booking, by=by, now=now)
    booking.refresh_from_db()
    booking.lifted_ban = lifted
    return booking, bool(changed)


def check_in_undo(*, booking: Booking, by: User) -> Booking:
    """Undo a check-in made by mistake (the wrong name pressed at the door) while attendance
    is open: someone booked is booked and not checked in again; a walk-in, who never booked,
    is taken off the event, any waiting-list place or offer they came with is given back, and
    before the start the place goes to who waits (`_settle`, which emails them).

    Once attendance is closed the record is final but for checking in a no-show who came
    (`check_in`): undoing a check-in then would make a no-show nobody reckoned with.
    """
    with transaction.atomic():
        settings = _lock(booking.event_id)
        now = timezone.now()
        booking = Booking.objects.select_related("student", "event").get(pk=booking.pk)
        if booking.status != Booking.Status.ATTENDED:
            _refuse(f"{booking.student} is not checked in.")
        if settings.attendance_closed:
            when = selectors.when_text(settings.attendance_closed_at)
            _refuse(
                f"Attendance was closed on {when}: a check-in can no longer be undone.",
                event_id=booking.event_id,
                action="check_in_undo",
            )
        walk_in = booking.source == Booking.Source.WALK_IN
        checked_in_at = booking.checked_in_at
        booking.checked_in_at = None
        booking.checked_in_by = None
        fields = ["status", "checked_in_at", "checked_in_by"]
        if walk_in:
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = now
            booking.cancelled_by = by
            fields += ["cancelled_at", "cancelled_by"]
        else:
            booking.status = Booking.Status.CONFIRMED
        booking.save(update_fields=fields)
        audit.log(
            booking,
            "bookings.booking.check_in_reversed",
            by=by,
            person=booking.student,
            data={
                "event": booking.event_id,
                "walk_in": walk_in,
                "checked_in_at": checked_in_at.isoformat() if checked_in_at else None,
            },
        )
        if walk_in:
            booking.restored_entry = _restore_entry(booking, by=by, now=now)
            booking.passed_on = _settle(settings, by=by, now=now)
        return booking


def _restore_entry(booking: Booking, *, by: User, now: datetime.datetime) -> WaitlistEntry | None:
    """Give back the waiting-list place (or the offer) a walk-in being undone used, before
    its place is freed: the person keeps their turn, and an offer still running holds the
    place for them. An offer whose time ran out while they were in is a turn in the queue."""
    made = (
        AuditEntry.objects.filter(
            action="bookings.booking.walk_in",
            content_type=ContentType.objects.get_for_model(Booking),
            object_id=str(booking.pk),
        )
        .order_by("-at")
        .first()
    )
    entry_id = made.data.get("waiting_list_entry") if made is not None else None
    entry = (
        WaitlistEntry.objects.filter(pk=entry_id, status=WaitlistEntry.Status.ACCEPTED).first()
        if entry_id
        else None
    )
    if entry is None:
        return None
    expires = entry.offer_expires_at
    if entry.offered_at is not None and expires is not None and expires > now:
        entry.status = WaitlistEntry.Status.OFFERED
    else:
        entry.status = WaitlistEntry.Status.WAITING
        entry.offered_at = entry.offer_expires_at = None
    entry.ended_at = entry.ended_by = None
    entry.save(update_fields=["status", "offered_at", "offer_expires_at", "ended_at", "ended_by"])
    audit.log(
        entry,
        "bookings.waitlist.restored",
        by=by,
        person=entry.student,
        data={"event": booking.event_id, "status": entry.status, "walk_in_booking": booking.pk},
    )
    return entry


def walk_in(*, event: Event, student: User, by: User) -> Booking:
    """Check in someone who did not book, if a place is free; a booked person is checked in.

    A student restricted from booking (no-shows) who is in the room is let in without being
    asked to confirm, but the audit trail says a restriction was in force, and the booking
    names it (`overridden_ban`) for the page to say so. Someone who holds a place is checked
    in on it instead: the booking's `source` says so, and `already_checked_in` whether they
    were before.
    """
    if not student.is_student:
        _refuse(f"{student} is not a student.")
    with transaction.atomic():
        settings = _lock(event)
        event = settings.event
        now = timezone.now()
        # The check-in page hides the walk-in form for the same reasons.
        refusal = selectors.walk_in_refusal(event, settings, now)
        if refusal:
            _refuse(refusal, event_id=event.pk, action="walk_in")
        existing = Booking.objects.filter(event=event, student=student, status__in=HOLDING).first()
        if existing is not None:
            booking, changed = check_in(booking=existing, by=by)
            booking.already_checked_in = not changed
            return booking
        _expire_due(settings, now=now)
        queued = WaitlistEntry.objects.filter(
            event=event, student=student, status__in=QUEUED
        ).first()
        # An open offer already holds a place for this person.
        if not (queued is not None and queued.is_offered):
            free = _free(settings)
            if free is not None and free <= 0:
                _refuse(
                    ngettext(
                        "No places left: the only place is taken.",
                        "No places left: all %(count)d are taken.",
                        settings.capacity or 0,  # not None: there is a limit
                    )
                    % {"count": settings.capacity}
                    + " Raise the capacity to let this person in."
                )
        booking = Booking.objects.create(
            event=event,
            student=student,
            status=Booking.Status.ATTENDED,
            source=Booking.Source.WALK_IN,
            booked_at=now,
            booked_by=by,
            checked_in_at=now,
            checked_in_by=by,
        )
        data: dict[str, Any] = {"event": event.pk, "title": event.title}
        if queued is not None:
            # Recorded so that undoing the walk-in gives the person their turn back.
            data["waiting_list_entry"] = queued.pk
            queued.status = WaitlistEntry.Status.ACCEPTED
            queued.ended_at = now
            queued.ended_by = by
            queued.save(update_fields=["status", "ended_at", "ended_by"])
        ban = selectors.active_ban(student, now=now)
        if ban is not None:
            data["restricted_until"] = ban.ends_at.isoformat()
        audit.log(booking, "bookings.booking.walk_in", by=by, person=student, data=data)
        if ban is not None:
            _restriction_overridden(booking, ban, by=by)
        return booking


# When the event is cancelled ------------------------------------------------------------


def end_with_event(event: Event, *, by: User | None, now: datetime.datetime) -> list[tuple]:
    """End every place and waiting-list entry of an event being cancelled.

    Called by the events app inside its cancelling transaction (the event row is locked),
    which happens only before the event starts: a place checked in early (check-in opens
    before the start) ends too, as the event will not take place. Returns each person to
    tell and what ended for them.
    """
    bookings = list(
        Booking.objects.filter(event=event, status__in=PLACED).select_related("student")
    )
    entries = list(
        WaitlistEntry.objects.filter(event=event, status__in=QUEUED).select_related("student")
    )
    # The event's own cancellation time, which marks these as ended with it.
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=by
    )
    WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=WaitlistEntry.Status.CANCELLED, ended_at=now, ended_by=by
    )
    data = {"event": event.pk, "title": event.title, "reason": "event cancelled"}
    people = []
    for booking in bookings:
        audit.log(
            booking, "bookings.booking.ended_with_event", by=by, person=booking.student, data=data
        )
        people.append((booking.student, "your place"))
    for entry in entries:
        audit.log(
            entry, "bookings.waitlist.ended_with_event", by=by, person=entry.student, data=data
        )
        people.append(
            (
                entry.student,
                "the place offered to you"
                if entry.is_offered
                else "your place on the waiting list",
            )
        )
    log_event(
        logger,
        "bookings.event_cancelled",
        event_id=event.pk,
        bookings_ended=len(bookings),
        waiting_list_ended=len(entries),
    )
    return people


# After the event ------------------------------------------------------------------------


@dataclass(frozen=True)
class Restriction:
    """A restriction that closing attendance starts: the student reached the limit with
    `no_shows` no-shows since `since`."""

    student: User
    no_shows: int
    since: datetime.datetime


@dataclass(frozen=True)
class AttendanceClosing:
    """What closing an event's attendance does: who becomes a no-show, and which of them
    reach the no-show limit (restricted from booking and emailed)."""

    no_shows: list[Booking]
    restrictions: list[Restriction]
    policy: NoShowPolicy

    @property
    def figures(self) -> str:
        """What closing does, in one sentence (the confirmation and its recheck say it)."""
        if not self.no_shows:
            return "Everyone who booked was checked in: nobody will be marked no-show."
        text = ngettext(
            "%(count)d booked student not checked in will be marked no-show",
            "%(count)d booked students not checked in will be marked no-show",
            len(self.no_shows),
        ) % {"count": len(self.no_shows)}
        if not self.policy.enabled:
            return f"{text}; the no-show policy is off, so nobody will be restricted."
        if not self.restrictions:
            return f"{text}; none of them will reach the no-show limit."
        return (
            f"{text}; {len(self.restrictions)} of them will reach the no-show limit, "
            "be restricted from booking and be emailed."
        )

    @property
    def restricted_ids(self) -> set[int]:
        return {r.student.pk for r in self.restrictions}


def attendance_close_preview(*, event: Event) -> AttendanceClosing:
    """What closing attendance now would do, for the person to confirm; changes nothing.

    Refuses (ValidationError) when attendance cannot be closed now.
    """
    # Read afresh: the event's cached settings may predate a closing.
    settings = BookingSettings.objects.select_related("event").filter(pk=event.pk).first()
    settings = settings or BookingSettings(event=event)
    now = timezone.now()
    refusal = _closing_refusal(settings, now)
    if refusal:
        raise ValidationError(refusal)
    return _closing(settings, now)


# Refusals when the figures a confirmation showed no longer hold, or it showed none.
CHANGED = "The figures changed since you looked"
OUT_OF_DATE = "That page was out of date"


def attendance_close(
    *,
    event: Event,
    by: User,
    expected_no_shows: int | None = None,
    expected_restrictions: int | None = None,
) -> AttendanceClosing:
    """Close attendance: everyone booked and not checked in becomes a no-show.

    The no-show policy is applied to each of them: who reaches the limit is restricted
    and emailed. `expected_*` are the figures the person confirmed (from
    `attendance_close_preview`); when they no longer hold, nothing changes and the
    refusal says so. Returns what was done.
    """
    with transaction.atomic():
        settings = _lock(event)
        event = settings.event
        now = timezone.now()
        refusal = _closing_refusal(settings, now)
        if refusal:
            # Refusals about time are logged (as everywhere); a second press is not.
            timing = not (settings.attendance_closed or event.is_cancelled)
            fields = {"event_id": event.pk, "action": "close_attendance"} if timing else {}
            _refuse(refusal, **fields)
        _expire_due(settings, now=now)
        closing = _closing(settings, now)
        expected = (expected_no_shows, expected_restrictions)
        found = (len(closing.no_shows), len(closing.restrictions))
        if any(want is not None and want != got for want, got in zip(expected, found, strict=True)):
            # A figure missing from the page (negative) did not change: the page was old.
            stale = any(want is not None and want < 0 for want in expected)
            _refuse(
                f"{OUT_OF_DATE if stale else CHANGED}: now {closing.figures} "
                "Check them and close attendance again."
            )
        Booking.objects.filter(pk__in=[b.pk for b in closing.no_shows]).update(
            status=Booking.Status.NO_SHOW
        )
        for booking in closing.no_shows:
            booking.status = Booking.Status.NO_SHOW
        settings.attendance_closed_at = now
        settings.attendance_closed_by = by
        settings.save(update_fields=["attendance_closed_at", "attendance_closed_by", "updated_at"])
        attended = Booking.objects.filter(event=event, status=Booking.Status.ATTENDED).count()
        audit.log(
            event,
            "bookings.attendance.closed",
            by=by,
            data={
                "attended": attended,
                "no_shows": len(closing.no_shows),
                "restricted": len(closing.restrictions),
            },
        )
        for restriction in closing.restrictions:
            _start_ban(restriction, policy=closing.policy, now=now, by=by)
        return closing


def _closing_refusal(settings: BookingSettings, now: datetime.datetime) -> str | None:
    """Why attendance cannot be closed now (None if it can)."""
    if settings.event.is_cancelled:
        return "This event was cancelled."
    if settings.attendance_closed:
        when = selectors.when_text(settings.attendance_closed_at)
        return f"Attendance was already closed on {when}."
    return selectors.attendance_refusal(settings.event, now)


def _closing(settings: BookingSettings, now: datetime.datetime) -> AttendanceClosing:
    """Who closing attendance at `now` makes a no-show, and who of them it restricts: the
    one reckoning behind both the question and the change."""
    policy = NoShowPolicy.current()
    no_shows = list(
        Booking.objects.filter(event_id=settings.pk, status=Booking.Status.CONFIRMED)
        .select_related("student", "student__student_profile")
        .order_by("student__full_name", "pk")
    )
    restrictions = []
    for booking in no_shows:
        due = _restriction_due(student=booking.student, policy=policy, now=now, also=booking)
        if due is not None:
            restrictions.append(due)
    return AttendanceClosing(no_shows=no_shows, restrictions=restrictions, policy=policy)


def _standing_bans(student: User) -> QuerySet[BookingBan]:
    """The student's restrictions, newest first, leaving out those lifted because the
    attendance that started them was corrected: those should never have started."""
    return BookingBan.objects.filter(student=student, lifted_by_correction=False).order_by(
        "-starts_at", "-pk"
    )


def _no_shows_counted(
    *,
    student: User,
    policy: NoShowPolicy,
    at: datetime.datetime,
    previous: BookingBan | None,
    also: Booking | None = None,
) -> tuple[int, datetime.datetime]:
    """The no-shows the policy counts at `at`, and since when: within its window, and only
    since the previous restriction began, so a lifted or finished restriction is not
    started again by the same no-shows. `also` counts a booking about to become one."""
    since = at - policy.window
    if previous is not None and previous.starts_at > since:
        since = previous.starts_at
    missed = Q(status=Booking.Status.NO_SHOW)
    if also is not None:
        missed |= Q(pk=also.pk)
    count = Booking.objects.filter(
        missed, student=student, event__starts_at__gte=since, event__starts_at__lte=at
    ).count()
    return count, since


def _reaches_limit(no_shows: int, policy: NoShowPolicy) -> bool:
    return no_shows >= policy.no_shows


def _restriction_due(
    *, student: User, policy: NoShowPolicy, now: datetime.datetime, also: Booking | None = None
) -> Restriction | None:
    """The restriction the policy starts now, when the student reached its number of
    no-shows (counting `also` as one) and is not restricted already; else None."""
    if not policy.enabled:
        return None
    latest = _standing_bans(student).first()
    if latest is not None and latest.is_active(now):
        return None
    missed, since = _no_shows_counted(
        student=student, policy=policy, at=now, previous=latest, also=also
    )
    if not _reaches_limit(missed, policy):
        return None
    return Restriction(student=student, no_shows=missed, since=since)


def _start_ban(
    restriction: Restriction, *, policy: NoShowPolicy, now: datetime.datetime, by: User | None
) -> BookingBan:
    student, missed, since = restriction.student, restriction.no_shows, restriction.since
    ban = BookingBan.objects.create(
        student=student,
        starts_at=now,
        ends_at=now + policy.ban_length,
        no_shows=missed,
        reason=(
            f"You booked {counted(missed, 'event', 'events')} between "
            f"{selectors.day_text(since)} and "
            f"{selectors.day_text(now)} and did not come or cancel."
        ),
    )
    audit.log(
        ban,
        "bookings.ban.started",
        by=by,
        person=student,
        data={"no_shows": missed, "until": ban.ends_at.isoformat()},
    )
    _after_commit(tasks.send_ban_notice, ban.pk)
    return ban


def _lift_if_corrected(*, booking: Booking, by: User, now: datetime.datetime) -> BookingBan | None:
    """A no-show was corrected to attended: lift the restriction it helped start when the
    no-shows left are under the policy's limit, as if it had never started.

    Reckoned with the policy's numbers now, whether or not the policy is still on: the
    question is whether the restriction stands on the corrected record.
    """
    policy = NoShowPolicy.current()
    bans = list(_standing_bans(booking.student).select_for_update()[:2])
    if not bans or not bans[0].is_active(now):
        return None
    ban, previous = bans[0], (bans[1] if len(bans) > 1 else None)
    missed, since = _no_shows_counted(
        student=booking.student, policy=policy, at=ban.starts_at, previous=previous
    )
    if not since <= booking.event.starts_at <= ban.starts_at:
        return None  # this no-show was not one of those that started it
    if _reaches_limit(missed, policy):
        return None
    ban.lifted_at = now
    ban.lifted_by = by
    ban.lifted_by_correction = True
    ban.lift_reason = (
        f"Attendance corrected: {booking.student} attended {booking.event.title} on "
        f"{selectors.day_text(booking.event.starts_at)}, which leaves "
        f"{counted(missed, 'no-show', 'no-shows')}, under the limit of {policy.no_shows}."
    )
    ban.save(update_fields=["lifted_at", "lifted_by", "lifted_by_correction", "lift_reason"])
    audit.log(
        ban,
        "bookings.ban.lifted",
        by=by,
        person=booking.student,
        data={
            "reason": ban.lift_reason,
            "booking": booking.pk,
            "no_shows": missed,
            "limit": policy.no_shows,
        },
    )
    log_event(
        logger,
        "bookings.ban.lifted_by_correction",
        ban_id=ban.pk,
        booking_id=booking.pk,
        event_id=booking.event_id,
        student_id=booking.student_id,
        no_shows=missed,
        limit=policy.no_shows,
    )
    _after_commit(tasks.send_ban_lifted, ban.pk)
    _after_commit(_settle_waits_of(), booking.student_id)
    return ban


def noshow_followup_send(
    *, event: Event, subject: str, body: str, by: User, expected_recipients: int | None = None
) -> NoShowFollowUp:
    """Email everyone who booked and did not come (each person once), from an edited template.

    `expected_recipients` is how many the person was told it goes to (the button's
    figure); when that no longer holds (a no-show checked in since, a second tab sent
    it to some), nothing is sent and the refusal gives the figure now.
    """
    subject, body = subject.strip(), body.strip()
    errors: dict[str, str | list[str]] = {}
    if not subject:
        errors["subject"] = "Write a subject."
    if not body:
        errors["body"] = "Write the message."
    for name, text in (("subject", subject), ("body", body)):
        if problems := mailmerge.problems(text, MERGE_FIELDS):
            errors[name] = problems
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        settings = _lock(event)
        if not settings.attendance_closed:
            _refuse("Close attendance first: until then nobody is a no-show.")
        pending = selectors.followup_pending(settings.pk)
        count = pending.count()
        if not count:
            _refuse("Everyone who did not attend has already been emailed.")
        if expected_recipients is not None and count != expected_recipients:
            # A figure missing from the page (negative) is no number to set against.
            was = f", not {expected_recipients}" if expected_recipients >= 0 else ""
            _refuse(
                f"{OUT_OF_DATE if expected_recipients < 0 else CHANGED}: sending now emails "
                f"{counted(count, 'person', 'people')}{was}. Check them and send again."
            )
        followup = NoShowFollowUp.objects.create(
            event_id=settings.pk, subject=subject, body=body, sent_by=by, recipients=count
        )
        pending.update(followup=followup)
        audit.log(
            settings.event,
            "bookings.followup.sent",
            by=by,
            data={"followup": followup.pk, "recipients": count, "subject": subject},
        )
        _after_commit(tasks.send_noshow_followup, followup.pk)
        return followup


def employer_report_send(
    *, event: Event, contacts: Iterable[Contact], by: User, message: str = ""
) -> EmployerReport:
    """Send the event's attendance figures to chosen contacts of the organisations taking part.

    Contacts must belong to those organisations, have an email address, and be free to
    contact (key contacts need their key account operator's agreement first). A contact
    sent the figures already is left out until they change (a check-in corrects the
    record), so a second press or a second tab sends nobody the same figures twice; when
    everyone chosen has them, nothing is sent. The report's `contacts` are those sent to.
    """
    contacts = list(contacts)
    if not contacts:
        raise ValidationError({"contacts": "Choose at least one contact."})
    with transaction.atomic():
        settings = _lock(event)
        event = settings.event
        if not settings.attendance_closed:
            _refuse("Close attendance first, so the figures are final.")
        organisation_ids = set(event.organisations.values_list("pk", flat=True))
        errors = []
        for contact in contacts:
            if contact.organisation_id not in organisation_ids:
                errors.append(f"{contact} is not a contact of an organisation at this event.")
            elif not contact.email:
                errors.append(f"{contact} has no email address.")
            else:
                blockers = contact_blockers(contact=contact, user=by)
                if blockers:
                    errors.append(blocker_message(contact, blockers))
        if errors:
            raise ValidationError({"contacts": errors})
        have = _have_the_figures(settings, contacts)
        if len(have) == len({contact.pk for contact in contacts}):
            who = joined(sorted({str(contact) for contact in contacts}))
            verb = "has" if len(have) == 1 else "have"
            sent = selectors.when_text(max(have.values()))
            _refuse(
                f"{who} already {verb} these figures: they were sent on {sent}, and the "
                "attendance has not changed since."
            )
        contacts = [contact for contact in contacts if contact.pk not in have]
        report = EmployerReport.objects.create(event=event, message=message.strip(), sent_by=by)
        report.contacts.set(contacts)
        audit.log(
            event,
            "bookings.report.sent",
            by=by,
            data={"report": report.pk, "contacts": [c.pk for c in contacts]},
        )
        _after_commit(tasks.send_employer_report, report.pk)
        return report


def _have_the_figures(
    settings: BookingSettings, contacts: list[Contact]
) -> dict[int, datetime.datetime]:
    """Which of `contacts` were sent the event's figures since they last changed (the
    closing of attendance, or a check-in after it), with when: {contact id: sent at}."""
    last_check_in = Booking.objects.filter(event_id=settings.pk).aggregate(
        latest=Max("checked_in_at")
    )["latest"]
    changed = max(filter(None, [settings.attendance_closed_at, last_check_in]))
    sent = EmployerReport.contacts.through.objects.filter(
        employerreport__event_id=settings.pk,
        employerreport__created_at__gte=changed,
        contact__in=contacts,
    ).values_list("contact_id", "employerreport__created_at")
    have: dict[int, datetime.datetime] = {}
    for contact_id, at in sent:
        have[contact_id] = max(at, have.get(contact_id, at))
    return have


# The no-show policy ---------------------------------------------------------------------


@transaction.atomic
def noshow_policy_update(
    *, by: User, enabled: bool, no_shows: int, window_weeks: int, ban_weeks: int
) -> dict:
    """Change the site's no-show policy; returns what changed ({setting: [before, after]}),
    empty when nothing did. Restrictions already started keep their end date."""
    policy = NoShowPolicy.current()
    after = {
        "enabled": enabled,
        "no_shows": no_shows,
        "window_weeks": window_weeks,
        "ban_weeks": ban_weeks,
    }
    changed = {k: [getattr(policy, k), v] for k, v in after.items() if getattr(policy, k) != v}
    if not changed:
        return {}  # saved unchanged: nothing to record
    for name, value in after.items():
        setattr(policy, name, value)
    policy.full_clean(exclude=["updated_by"])
    policy.updated_at = timezone.now()
    policy.updated_by = by
    policy.save()
    audit.log(policy, "bookings.policy.changed", by=by, data={"changed": changed})
    return changed


@transaction.atomic
def booking_ban_lift(*, ban: BookingBan, by: User, reason: str) -> BookingBan:
    """Lift a restriction early, with the reason recorded; the student may book at once
    and, if they were told of the restriction, is emailed that it is lifted."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the restriction is lifted."})
    ban = BookingBan.objects.select_for_update().select_related("student").get(pk=ban.pk)
    if ban.lifted_at is not None:
        _refuse("This restriction was already lifted.")
    if not ban.is_active():
        _refuse("This restriction has already ended.")
    ban.lifted_at = timezone.now()
    ban.lifted_by = by
    ban.lift_reason = reason
    ban.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    audit.log(ban, "bookings.ban.lifted", by=by, person=ban.student, data={"reason": reason})
    _after_commit(tasks.send_ban_lifted, ban.pk)
    # Places may have been left free while they were passed over: settled after commit,
    # each event under its own lock (not the restriction's, held here).
    _after_commit(_settle_waits_of(), ban.student_id)
    return ban


# Merging organisations (see organisations.merging) --------------------------------


def _fold_report_contacts(*, keep: Contact, fold: Contact, outcome) -> None:
    """Attendance reports sent to a contact folded into its twin now name the twin (once)."""
    merging.move_many_to_many(
        EmployerReport.contacts.through.objects.filter(contact=fold),
        owner="employerreport",
        side="contact",
        keep=keep,
        fold=fold,
        kind="bookings.employer_report_contact",
        outcome=outcome,
    )


MERGE_HANDLER = merging.MergeHandler(
    name="bookings",
    relations=("bookings.EmployerReport.contacts",),
    contact=_fold_report_contacts,
)
