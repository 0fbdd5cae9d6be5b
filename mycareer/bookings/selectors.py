"""Reads: who may book and why not, the booking panel, lists, reports, feeds, timelines."""

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings as django_settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts.models import User
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
from mycareer.core.text import counted
from mycareer.events import selectors as event_selectors
from mycareer.events.models import Event
from mycareer.events.registry import PLACE
from mycareer.events.units import UnitTree
from mycareer.organisations.keyaccounts import agreed_links, contact_blockers
from mycareer.organisations.models import Contact
from mycareer.organisations.selectors import KEY_LINKS
from mycareer.organisations.timeline import TimelineEntry

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def when_text(value: datetime.datetime | None) -> str:
    """A moment as people read it: "Tuesday 3 March 2026 at 14:00"."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), r"l j F Y \a\t H:i")


def event_text(event: Event) -> str:
    """An event as a move names it: "CV clinic on Tue 4 March, 14:00". People move between
    sessions of the same title, which the title alone does not tell apart."""
    return f"{event.title} on {date_format(timezone.localtime(event.starts_at), 'D j F, H:i')}"


def day_text(value: datetime.datetime) -> str:
    return date_format(timezone.localtime(value), "j F Y")


def settings_of(event: Event) -> BookingSettings:
    """The event's booking settings, or the defaults (unlimited, open) without saving them."""
    try:
        return event.booking_settings
    except BookingSettings.DoesNotExist:
        return BookingSettings(event=event)


# Who may book ---------------------------------------------------------------------------


def bans_in_force(now: datetime.datetime) -> QuerySet[BookingBan]:
    """Restrictions on booking in force at `now` (`BookingBan.is_active`)."""
    return BookingBan.objects.filter(lifted_at__isnull=True, starts_at__lte=now, ends_at__gt=now)


def active_ban(student: User, *, now: datetime.datetime | None = None) -> BookingBan | None:
    now = now or timezone.now()
    return bans_in_force(now).filter(student=student).order_by("-ends_at").first()


def ban_message(ban: BookingBan) -> str:
    return (
        f"You cannot book events until {when_text(ban.ends_at)}. {ban.reason} This follows "
        "the Careers Centre's no-show policy. If something kept you away, ask the Careers "
        "Centre to lift it."
    )


def events_with_a_place_of(user) -> Q:
    """Events at which this person holds, held or lost a booking or a waiting-list place,
    whatever its status now: their pages open for them (every email about a place links
    to its event, and staff may have booked them outside the audience)."""
    return Q(Exists(Booking.objects.filter(event=OuterRef("pk"), student=user))) | Q(
        Exists(WaitlistEntry.objects.filter(event=OuterRef("pk"), student=user))
    )


def person_refusal(*, event: Event, student: User) -> str | None:
    """Why this person may not book this event themselves (None if they may).

    Does not depend on other people's bookings, so it runs outside the booking lock.
    """
    if not getattr(student, "is_authenticated", False) or not student.is_student:
        return "Only students book places at events."
    if not event_selectors.is_for(student, event):
        # Not can_see_event: a place once held opens the event's page, not the right to
        # book it again outside its audience.
        return "This event is not open to students of your school, degree programme or year."
    ban = active_ban(student)
    if ban is not None:
        return ban_message(ban)
    return None


def window_refusal(*, settings: BookingSettings, now: datetime.datetime) -> str | None:
    """Why the event takes no bookings now: its status, its start or the booking window."""
    event = settings.event
    if event.is_cancelled:
        return "This event was cancelled."
    if not event.is_published:
        return "This event is not open for booking yet."
    if now >= event.starts_at:
        return "The event has started, so booking has closed."
    if settings.opens_at and now < settings.opens_at:
        return f"Booking opens on {when_text(settings.opens_at)}."
    if settings.closes_at and now >= settings.closes_at:
        return f"Booking closed on {when_text(settings.closes_at)}."
    return None


# Attendance: only when it can have happened ------------------------------------------------


def check_in_opens_at(event: Event) -> datetime.datetime:
    """Check-in opens this long before the start (MYCAREER["CHECK_IN_OPENS_MINUTES"])."""
    minutes = django_settings.MYCAREER["CHECK_IN_OPENS_MINUTES"]
    return event.starts_at - datetime.timedelta(minutes=minutes)


def _before_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{pluralize(hours)}"
    return f"{minutes} minute{pluralize(minutes)}"


def check_in_refusal(event: Event, now: datetime.datetime) -> str | None:
    """Why nobody can be checked in now (None if they can): attendance is not recorded
    before it can have happened. After the event, check-in stays open to correct the record.
    """
    if event.is_cancelled:
        return "This event was cancelled."
    opens = check_in_opens_at(event)
    if now < opens:
        before = _before_text(django_settings.MYCAREER["CHECK_IN_OPENS_MINUTES"])
        return f"Check-in opens on {when_text(opens)}, {before} before the event starts."
    return None


WALK_IN_CLOSED = "Attendance for this event is closed."


def walk_in_refusal(event: Event, settings: BookingSettings, now: datetime.datetime) -> str | None:
    """Why nobody can be added as a walk-in now (None if they can): as for check-in, and
    not once attendance is closed, when only the records of people booked are corrected.
    """
    refusal = check_in_refusal(event, now)
    if refusal:
        return refusal
    if settings.attendance_closed:
        return WALK_IN_CLOSED
    return None


def next_in_line(event_id: int | OuterRef, now: datetime.datetime) -> QuerySet[WaitlistEntry]:
    """Who waits and may be given a place now (`services._fill`), first come first served.

    Someone who can no longer sign in (a leaver) keeps their turn, should they come back,
    but is passed over: a place given to them would stay empty, and nobody else told. So is
    a student restricted from booking (no-shows), while the restriction lasts: booking
    refuses them a new place, so the waiting list does too.
    """
    return (
        WaitlistEntry.objects.filter(
            event_id=event_id, status=WaitlistEntry.Status.WAITING, student__is_active=True
        )
        .exclude(Exists(bans_in_force(now).filter(student=OuterRef("student"))))
        .order_by("joined_at", "pk")
    )


def events_with_places_for_who_waits(now: datetime.datetime) -> list[int]:
    """Upcoming published events with a place free while someone is next in line: left so
    when the restriction of who waits first ran out (nothing else moves the queue then)."""
    booked = Booking.objects.filter(event_id=OuterRef("pk"), status__in=HOLDING)
    offered = WaitlistEntry.objects.filter(
        event_id=OuterRef("pk"), status=WaitlistEntry.Status.OFFERED
    )

    def count(rows: QuerySet) -> Coalesce:
        return Coalesce(
            Subquery(rows.order_by().values("event_id").annotate(n=Count("pk")).values("n")),
            0,
        )

    return list(
        BookingSettings.objects.filter(
            event__status=Event.Status.PUBLISHED, event__starts_at__gt=now
        )
        .annotate(taken=count(booked) + count(offered))
        .filter(Q(capacity__isnull=True) | Q(capacity__gt=F("taken")))
        .filter(Exists(next_in_line(OuterRef("pk"), now)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def place_passes_on(event: Event, now: datetime.datetime) -> bool:
    """Whether a place given up now (a booking cancelled, an offer declined) would pass to
    someone waiting, who is emailed: as `services._fill` does, only before the start and to
    who is next in line (not to who waits passed over). Capacity is the caller's to check."""
    return event.is_published and now < event.starts_at and next_in_line(event.pk, now).exists()


def removal_passes_on(event: Event, now: datetime.datetime) -> bool:
    """Whether removing a walk-in now would pass their place to someone waiting."""
    return place_passes_on(event, now)


def attendance_refusal(event: Event, now: datetime.datetime) -> str | None:
    """Why attendance cannot be closed now (None if it can): not before the event ends,
    since closing it marks everyone not checked in as a no-show.
    """
    if event.is_cancelled:
        return "This event was cancelled."
    if now < event.ends_at:
        return (
            f"Attendance can be closed once the event has ended, on {when_text(event.ends_at)}: "
            "closing it marks everyone not checked in as not attending."
        )
    return None


# Counts and positions --------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    capacity: int | None
    booked: int  # bookings that hold a place (booked, attended, no-show)
    attended: int
    no_shows: int
    offered: int
    waiting: int
    walk_ins: int

    @property
    def remaining(self) -> int | None:
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.booked - self.offered)

    @property
    def remaining_after_one_given_up(self) -> int | None:
        """Places free once one held place (a booking or an open offer) is given up: none
        while more are held than the capacity, which may have been lowered since."""
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.booked - self.offered + 1)

    @property
    def not_yet_arrived(self) -> int:
        return self.booked - self.attended - self.no_shows

    def as_dict(self) -> dict:
        return {
            "capacity": self.capacity,
            "booked": self.booked,
            "attended": self.attended,
            "not_yet_arrived": self.not_yet_arrived,
            "no_shows": self.no_shows,
            "offered": self.offered,
            "waiting": self.waiting,
            "remaining": self.remaining,
            "walk_ins": self.walk_ins,
        }


def counts_for(event: Event, settings: BookingSettings | None = None) -> Counts:
    """An event's figures in two queries."""
    settings = settings or settings_of(event)
    booked = Booking.objects.filter(event_id=event.pk).aggregate(
        booked=Count("pk", filter=Q(status__in=HOLDING)),
        attended=Count("pk", filter=Q(status=Booking.Status.ATTENDED)),
        no_shows=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
        walk_ins=Count("pk", filter=Q(source=Booking.Source.WALK_IN, status__in=HOLDING)),
    )
    queued = WaitlistEntry.objects.filter(event_id=event.pk).aggregate(
        offered=Count("pk", filter=Q(status=WaitlistEntry.Status.OFFERED)),
        waiting=Count("pk", filter=Q(status=WaitlistEntry.Status.WAITING)),
    )
    return Counts(capacity=settings.capacity, **booked, **queued)


def _ahead_q(entry_ref) -> Q:
    return Q(joined_at__lt=entry_ref("joined_at")) | Q(
        joined_at=entry_ref("joined_at"), pk__lt=entry_ref("pk")
    )


def waitlist_position(entry: WaitlistEntry) -> int:
    """1 for the first person waiting; offers already made are no longer in the queue."""
    ahead = WaitlistEntry.objects.filter(
        event_id=entry.event_id, status=WaitlistEntry.Status.WAITING
    ).filter(_ahead_q(lambda name: getattr(entry, name)))
    return ahead.count() + 1


def with_positions(entries: QuerySet[WaitlistEntry]) -> QuerySet[WaitlistEntry]:
    """Annotate `ahead`: how many people wait before each entry (one query for a list)."""
    ahead = (
        WaitlistEntry.objects.filter(event_id=OuterRef("event_id"), status="waiting")
        .filter(_ahead_q(OuterRef))
        .order_by()
        .values("event_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return entries.annotate(ahead=Coalesce(Subquery(ahead), 0))


# The booking panel -----------------------------------------------------------------------


@dataclass
class Panel:
    event: Event
    settings: BookingSettings
    counts: Counts
    now: datetime.datetime
    booking: Booking | None = None
    entry: WaitlistEntry | None = None
    position: int | None = None
    refusal: str | None = None
    # The refusal is the booking window's, which `window_text` says already.
    refusal_in_window_text: bool = False
    is_student: bool = False
    can_run: bool = False
    ban: BookingBan | None = None
    notes: list[str] = field(default_factory=list)
    # What the event's cancellation ended for this person: "place" or "waiting list".
    ended_with_event: str = ""

    @property
    def is_full(self) -> bool:
        return self.counts.remaining == 0

    @property
    def waitlist_closed(self) -> bool:
        """Places stop passing to the queue when the event starts (`services._fill`)."""
        return self.now >= self.event.starts_at

    @property
    def can_book(self) -> bool:
        return self.is_student and self.refusal is None and not (self.booking or self.entry)

    @property
    def joins_waiting_list(self) -> bool:
        return self.can_book and self.is_full

    @property
    def offer_lapsed(self) -> bool:
        return self.entry is not None and offer_lapsed(self.entry, self.now)

    @property
    def can_cancel(self) -> bool:
        return (
            self.booking is not None
            and self.booking.status == Booking.Status.CONFIRMED
            and self.now < self.event.starts_at
        )

    @property
    def window_text(self) -> str:
        settings, event = self.settings, self.event
        if self.now >= event.starts_at:
            return "Booking closed when the event started."
        if settings.opens_at and self.now < settings.opens_at:
            start = f"Booking opens on {when_text(settings.opens_at)}"
        elif event.status == event.Status.DRAFT:
            if not (settings.closes_at and settings.closes_at < event.starts_at):
                return "Booking opens when the event is published and stays open until it starts."
            start = "Booking opens when the event is published"
        else:
            start = "Booking is open"
        if settings.closes_at and settings.closes_at < event.starts_at:
            verb = "closed" if self.now >= settings.closes_at else "closes"
            if verb == "closed":
                return f"Booking closed on {when_text(settings.closes_at)}."
            return f"{start} and {verb} on {when_text(settings.closes_at)}."
        return f"{start} until the event starts."

    @property
    def rule_text(self) -> str:
        """How places are given when the event is full; nothing when places are not limited."""
        settings = self.settings
        if settings.is_unlimited or self.waitlist_closed:
            return ""  # started: `window_text` says booking has closed
        if not settings.waiting_list:
            queued = self.counts.waiting + self.counts.offered
            if queued:
                # Closing the list stops people joining it; who was on it keeps their turn.
                return (
                    "The waiting list is closed to newcomers: when the event is full, booking "
                    f"stops. The {counted(queued, 'person', 'people')} already on it get "
                    "places as they free, in the order they joined."
                )
            return "There is no waiting list: when the event is full, booking stops."
        if settings.offers:
            hours = settings.offer_hours
            return (
                "When the event is full you can join the waiting list. When a place frees, "
                "it is offered by email to the next person in the order people joined; they "
                f"have {counted(hours, 'hour', 'hours')} to accept before it passes on."
            )
        return (
            "When the event is full you can join the waiting list. When a place frees, the "
            "next person is booked automatically and told by email; places go in the order "
            "people joined."
        )


def booking_panel(event: Event, user, *, now: datetime.datetime | None = None) -> Panel:
    """What the booking panel shows this person about this event."""
    now = now or timezone.now()
    settings = settings_of(event)
    panel = Panel(event=event, settings=settings, counts=counts_for(event, settings), now=now)
    if not getattr(user, "is_authenticated", False):
        panel.refusal = "Log in as a student to book."
        return panel
    panel.can_run = user.has_perm("bookings.run_event", event)
    panel.is_student = user.is_student
    if not user.is_student:
        panel.refusal = "Only students book places at events."
        return panel
    if event.is_cancelled:
        if Booking.objects.filter(ENDED_WITH_EVENT, event=event, student=user).exists():
            panel.ended_with_event = "place"
        elif WaitlistEntry.objects.filter(
            event=event, student=user, status=WaitlistEntry.Status.CANCELLED
        ).exists():
            panel.ended_with_event = "waiting list"
    panel.booking = (
        Booking.objects.filter(event=event, student=user, status__in=HOLDING)
        .order_by("-booked_at")
        .first()
    )
    panel.entry = WaitlistEntry.objects.filter(event=event, student=user, status__in=QUEUED).first()
    if panel.entry is not None and panel.entry.status == WaitlistEntry.Status.WAITING:
        panel.position = waitlist_position(panel.entry)
    if panel.booking is None and panel.entry is None:
        window = window_refusal(settings=settings, now=now)
        panel.refusal = window or person_refusal(event=event, student=user)
        panel.refusal_in_window_text = window is not None
    if panel.refusal is None and panel.is_full and not settings.waiting_list:
        panel.refusal = "The event is full and does not keep a waiting list."
    return panel


# Students' own pages ---------------------------------------------------------------------

# Bookings that ended because their event was cancelled: `bookings.services` gives them
# the event's cancellation time as their own.
ENDED_WITH_EVENT = Q(
    status=Booking.Status.CANCELLED,
    event__status=Event.Status.CANCELLED,
    cancelled_at=F("event__cancelled_at"),
)


def my_bookings(student: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(student=student)
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("event", "event__unit")
    )


def my_waitlist(student: User) -> QuerySet[WaitlistEntry]:
    return with_positions(
        WaitlistEntry.objects.filter(student=student, status__in=QUEUED).select_related(
            "event", "event__unit", "event__booking_settings"
        )
    )


def cancelled_for(student: User, *, now: datetime.datetime | None = None) -> list:
    """Places and waiting-list places the student had at events since cancelled (not yet
    past), soonest first, each with `ended` ("place" or "waiting list"): so their pages
    say the event was cancelled.
    """
    now = now or timezone.now()
    bookings = Booking.objects.filter(ENDED_WITH_EVENT, student=student, event__ends_at__gte=now)
    entries = WaitlistEntry.objects.filter(
        student=student, status=WaitlistEntry.Status.CANCELLED, event__ends_at__gte=now
    )
    items: list[Booking | WaitlistEntry] = []
    for booking in bookings.select_related("event", "event__unit"):
        booking.ended = "place"
        items.append(booking)
    for entry in entries.select_related("event", "event__unit"):
        entry.ended = "waiting list"
        items.append(entry)
    return sorted(items, key=lambda item: (item.event.starts_at, item.event.pk))


def cancel_refusal(booking: Booking, *, own: bool, now: datetime.datetime) -> str | None:
    """Why this place can no longer be cancelled (None if it can), said to the student
    (`own`) or to staff."""
    if booking.status == Booking.Status.CANCELLED:
        when = when_text(booking.cancelled_at)
        event = booking.event
        if event.is_cancelled and booking.cancelled_at == event.cancelled_at:
            return "This place ended when the event was cancelled."
        if booking.cancelled_by_id == booking.student_id:
            return (
                f"You cancelled this place on {when}."
                if own
                else (f"{booking.student} cancelled this place on {when}.")
            )
        return f"This place was cancelled on {when} by the staff who run the event."
    if booking.status == Booking.Status.ATTENDED:
        return "This place is checked in at the door, so it can no longer be cancelled."
    if booking.status != Booking.Status.CONFIRMED or now >= booking.event.starts_at:
        return "The event has started: bookings can be cancelled until it starts."
    return None


def place_held_instead(booking: Booking, *, now: datetime.datetime) -> Booking | None:
    """The place at the same event the student booked again after this one ended, while it
    can still be cancelled (a stale link to the old place offers it instead)."""
    if booking.status != Booking.Status.CANCELLED or now >= booking.event.starts_at:
        return None
    return (
        Booking.objects.filter(
            event_id=booking.event_id,
            student_id=booking.student_id,
            status=Booking.Status.CONFIRMED,
        )
        .exclude(pk=booking.pk)
        .first()
    )


# Places stop passing to the queue when the event starts (`services._fill`).
WAITLIST_CLOSED = "The waiting list closed when the event started: nobody on it gets a place now."


def leave_refusal(
    entry: WaitlistEntry, *, own: bool, now: datetime.datetime | None = None
) -> str | None:
    """Why this place in the queue can no longer be left (None if it can), said to the
    student (`own`) or to staff: what became of it, as an old link or Back finds it.

    Given `now`, a place still queued once the event has started is refused too: its list
    closed then, and nobody on it gets a place now (erasure alone gives it up after that).
    """
    if entry.is_queued:
        if now is not None and now >= entry.event.starts_at:
            return WAITLIST_CLOSED
        return None
    student, when = entry.student, when_text(entry.ended_at)
    status = entry.status
    if status == WaitlistEntry.Status.CANCELLED:
        return "This waiting-list place ended when the event was cancelled."
    if status == WaitlistEntry.Status.ACCEPTED:
        if entry.offered_at:
            return (
                f"You took up the place offered to you from this waiting list on {when}."
                if own
                else f"{student} took up the place offered to them from this waiting list "
                f"on {when}."
            )
        # As the offer page says it of a place given without an offer.
        return (
            f"You were given a place from this waiting list on {when}."
            if own
            else f"{student} was given a place from this waiting list on {when}."
        )
    if status == WaitlistEntry.Status.EXPIRED:
        until = when_text(entry.offer_expires_at)
        return (
            f"The place you were offered from this waiting list was not taken up by {until}."
            if own
            else f"{student} did not take up the place offered to them by {until}."
        )
    if entry.ended_by_id == entry.student_id:
        if entry.offered_at:
            whose = "you" if own else "them"
            did = f"declined the place offered to {whose} from this waiting list"
        else:
            did = "left this waiting list"
        return f"You {did} on {when}." if own else f"{student} {did} on {when}."
    return (
        f"The staff who run the event took you off this waiting list on {when}."
        if own
        else f"{student} was taken off this waiting list on {when}."
    )


def queue_place_instead(entry: WaitlistEntry, *, now: datetime.datetime) -> WaitlistEntry | None:
    """The student's place in the same event's queue, joined again after this one ended,
    while they can still leave it (a stale link to the old place offers it instead)."""
    if entry.is_queued or now >= entry.event.starts_at:
        return None
    return (
        WaitlistEntry.objects.filter(
            event_id=entry.event_id, student_id=entry.student_id, status__in=QUEUED
        )
        .exclude(pk=entry.pk)
        .first()
    )


def _passed_on(entry: WaitlistEntry) -> bool:
    """Whether the queue moved when this offer ended: whoever it moved to was offered or
    booked at that very moment (`services._settle` gives both the same time)."""
    at = entry.ended_at
    if at is None:
        return False
    moved = Q(offered_at=at) | Q(
        status=WaitlistEntry.Status.ACCEPTED, ended_at=at, offered_at__isnull=True
    )
    others = WaitlistEntry.objects.filter(event_id=entry.event_id).exclude(pk=entry.pk)
    return others.filter(moved).exists()


# Said when an offer is taken back from a student restricted from booking past its deadline.
OFFER_TAKEN_BACK = (
    "The place offered to you goes to the next person waiting while you cannot book; you "
    "keep your turn on the waiting list, and are offered a place again once you can book."
)


def offer_ended_text(entry: WaitlistEntry, *, now: datetime.datetime | None = None) -> str:
    """What became of an offer no longer open, for the person it was made to."""
    now = now or timezone.now()
    if entry.status == WaitlistEntry.Status.WAITING:
        # Taken back while they cannot book (`services._end_offer_of_restricted`).
        if active_ban(entry.student, now=now) is not None:
            return OFFER_TAKEN_BACK
        return "You are on the waiting list: no place is offered to you now."
    if entry.status == WaitlistEntry.Status.EXPIRED:
        ended = f"The offer ended on {when_text(entry.offer_expires_at)}"
        if _passed_on(entry):
            return f"{ended} and the place passed to the next person waiting."
        event = entry.event
        settings = settings_of(event)
        closed = window_refusal(settings=settings, now=now)
        if closed:
            return f"{ended}. {closed}"
        if counts_for(event, settings).remaining != 0:
            return (
                f"{ended}. Nobody else was waiting, so the place is free again: you can book "
                "it on the event's page while places remain."
            )
        if settings.waiting_list:
            return f"{ended}. No places are free now: you can join the waiting list again."
        return f"{ended}, and no places are free now."
    if entry.status == WaitlistEntry.Status.ACCEPTED:
        if entry.offered_at is None:  # booked from the list without an offer
            return f"You were given a place from the waiting list on {when_text(entry.ended_at)}."
        return f"You accepted this place on {when_text(entry.ended_at)}."
    declined = entry.offered_at is not None and entry.ended_by_id == entry.student_id
    if entry.status == WaitlistEntry.Status.LEFT and declined:
        return f"You declined this place on {when_text(entry.ended_at)}."
    return f"There is no open offer here ({entry.get_status_display().lower()})."


def offer_expired_text(entry: WaitlistEntry, *, now: datetime.datetime | None = None) -> str:
    """What an offer that ran out means for its student, and what they can do now (for
    the email that tells them): the offer page's words, and, where the place went to
    someone else, that they may queue again."""
    now = now or timezone.now()
    text = offer_ended_text(entry, now=now)
    settings = settings_of(entry.event)
    if (
        _passed_on(entry)
        and settings.waiting_list
        and window_refusal(settings=settings, now=now) is None
        and active_ban(entry.student, now=now) is None
    ):
        text += (
            " If you still want to come, you can join the waiting list again on the event's "
            "page, at the end of the queue."
        )
    return text


def offer_lapsed(entry: WaitlistEntry, now: datetime.datetime) -> bool:
    """An offer still recorded as open whose time ran out (the periodic job closes it)."""
    expires_at = entry.offer_expires_at
    return entry.is_offered and expires_at is not None and expires_at <= now


def my_events(student: User, *, now: datetime.datetime | None = None) -> dict:
    """The student's "My events": offers, places, waiting lists, cancelled events and past
    attendance.
    """
    now = now or timezone.now()
    bookings = list(my_bookings(student).order_by("event__starts_at", "pk"))
    entries = list(my_waitlist(student).order_by("event__starts_at", "pk"))
    return {
        "cancelled": cancelled_for(student, now=now),
        "offers": [
            e
            for e in entries
            if e.is_offered and e.event.starts_at > now and not offer_lapsed(e, now)
        ],
        "upcoming": [b for b in bookings if b.event.ends_at >= now],
        "waiting": [
            e
            for e in entries
            if e.status == WaitlistEntry.Status.WAITING and e.event.starts_at > now
        ],
        "past": sorted(
            (b for b in bookings if b.event.ends_at < now),
            key=lambda b: b.event.starts_at,
            reverse=True,
        )[:50],
        "ban": active_ban(student, now=now),
    }


def upcoming_for_student(student: User, *, limit: int = 4) -> list[Booking]:
    return list(
        my_bookings(student)
        .filter(event__ends_at__gte=timezone.now(), status=Booking.Status.CONFIRMED)
        .order_by("event__starts_at")[:limit]
    )


# Staff pages ------------------------------------------------------------------------------


def runnable_events(user) -> QuerySet[Event]:
    """Events whose bookings this person runs: their units', those they organise, or all."""
    events = Event.objects.exclude(status=Event.Status.DRAFT)
    if user.has_perm("mycareer.administer"):
        return events
    if not user.has_perm("mycareer.edit_records"):
        return events.none()
    return events.filter(Q(unit_id__in=event_selectors.own_unit_ids(user)) | Q(organiser=user))


def _count(model, **filters):
    """A correlated count per event: no join, so the counts do not multiply each other."""
    rows = (
        model.objects.filter(event_id=OuterRef("pk"), **filters)
        .order_by()
        .values("event_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


class ListedCounts(TypedDict):
    """What `with_counts` adds to each event."""

    n_capacity: int | None
    n_booked: int
    n_attended: int
    n_waiting: int


def with_counts(events: QuerySet[Event]) -> "QuerySet[WithAnnotations[Event, ListedCounts]]":
    """Annotate the figures lists show, in the same query."""
    return events.select_related("unit", "booking_settings").annotate(
        n_capacity=F("booking_settings__capacity"),
        n_booked=_count(Booking, status__in=HOLDING),
        n_attended=_count(Booking, status=Booking.Status.ATTENDED),
        n_waiting=_count(WaitlistEntry, status__in=QUEUED),
    )


def events_for_staff(user, *, start: datetime.datetime, end: datetime.datetime):
    return with_counts(
        runnable_events(user).filter(starts_at__lt=end, ends_at__gte=start)
    ).order_by("starts_at", "pk")


def recent_events(user, *, now: datetime.datetime | None = None, days: int = 30):
    """Events that took place in the last few weeks with bookings, newest first."""
    now = now or timezone.now()
    return with_counts(
        runnable_events(user)
        .filter(status=Event.Status.PUBLISHED, starts_at__lt=now)
        .filter(starts_at__gte=now - datetime.timedelta(days=days))
        .filter(Exists(Booking.objects.filter(event=OuterRef("pk"))))
    ).order_by("-starts_at", "-pk")


def event_bookings(event: Event) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(event=event)
        .select_related("student", "student__student_profile", "checked_in_by")
        .order_by("student__full_name", "pk")
    )


def event_waitlist(event: Event) -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(event=event, status__in=QUEUED)
        .select_related("student", "student__student_profile")
        .order_by("joined_at", "pk")
    )


def check_in_list(event: Event, query: str = "") -> QuerySet[Booking]:
    """Bookings at the door, found by name, email or student number."""
    bookings = event_bookings(event).filter(status__in=HOLDING)
    query = " ".join(query.split())
    if query:
        bookings = bookings.filter(
            Q(student__full_name__icontains=query)
            | Q(student__email__iexact=query)
            | Q(student__student_profile__student_number__iexact=query)
        )
    return bookings


def find_student(text: str) -> User | None:
    """A student by student number or email address."""
    text = text.strip()
    if not text:
        return None
    return (
        User.objects.filter(kind=User.Kind.STUDENT, is_active=True)
        .filter(Q(email__iexact=text) | Q(student_profile__student_number__iexact=text))
        .first()
    )


def move_targets(booking_event: Event, by, *, now: datetime.datetime | None = None):
    """Published events in the next half year whose bookings `by` runs, that a person
    could be moved to."""
    now = now or timezone.now()
    return (
        runnable_events(by)
        .filter(
            status=Event.Status.PUBLISHED,
            starts_at__gt=now,
            starts_at__lt=now + datetime.timedelta(weeks=26),
        )
        .exclude(pk=booking_event.pk)
        .select_related("unit")
        .order_by("starts_at", "pk")
    )


def followup_pending(event_id: int) -> QuerySet[Booking]:
    """The no-shows the organiser's email would reach: not yet emailed, and still able to
    sign in (an erased student's past bookings stay under an address that reaches
    nobody; a leaver's login is closed)."""
    return Booking.objects.filter(
        event_id=event_id,
        status=Booking.Status.NO_SHOW,
        followup__isnull=True,
        student__is_active=True,
    )


def followups_of(event: Event) -> QuerySet[NoShowFollowUp]:
    return event.noshow_followups.select_related("sent_by")


def reports_of(event: Event) -> QuerySet[EmployerReport]:
    return event.employer_reports.select_related("sent_by").prefetch_related("contacts")


def report_contacts(event: Event, by: User) -> list[tuple[Contact, str | None]]:
    """Contacts of the organisations taking part who have an email, each with why not (if so)."""
    contacts = list(
        Contact.objects.filter(organisation__in=event.organisations.all())
        .exclude(email="")
        .select_related("organisation")
        .prefetch_related(*KEY_LINKS)
        .order_by("organisation__name", "full_name")
    )
    # The agreements in force are read once for every contact listed, not per contact.
    agreed = agreed_links(by, [link for c in contacts for link in c.key_links_list])
    result = []
    for contact in contacts:
        blockers = contact_blockers(contact=contact, user=by, agreed=agreed)
        owners = ", ".join(str(b.key_account.operator) for b in blockers)
        result.append((contact, f"key contact of {owners}: liaise first" if blockers else None))
    return result


def bans(*, active_only: bool = True, now: datetime.datetime | None = None):
    now = now or timezone.now()
    rows = BookingBan.objects.select_related(
        "student", "student__student_profile", "lifted_by"
    ).order_by("ends_at", "pk")
    if active_only:
        rows = rows.filter(lifted_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    return rows


def current_policy() -> NoShowPolicy:
    return NoShowPolicy.current()


# The attendance report -------------------------------------------------------------------


@dataclass
class ReportRow:
    label: str
    booked: int = 0
    attended: int = 0
    no_shows: int = 0
    waiting: int = 0


# Groups of fewer people than this are combined in what employers receive: "Year 4: 1
# booked, 1 attended" beside the programme and faculty rows can name the student.
SMALLEST_GROUP = 5
COMBINED_LABEL = f"Other groups (each under {SMALLEST_GROUP} people), combined"


@dataclass
class AttendanceReport:
    event: Event
    counts: Counts
    closed: bool
    sections: dict[str, list[ReportRow]]

    def for_employers(self) -> "AttendanceReport":
        """The same figures with each section's small groups combined into one row.

        The combined row is itself at least `SMALLEST_GROUP` people (the next smallest
        groups join it until it is), so neither it nor, by subtracting from the totals,
        any group inside it can be one person's figures.
        """

        def size(row: ReportRow) -> int:
            return row.booked + row.waiting

        sections = {}
        for name, rows in self.sections.items():
            kept = sorted(rows, key=size, reverse=True)
            small: list[ReportRow] = []
            while kept and (
                size(kept[-1]) < SMALLEST_GROUP
                or (small and sum(size(r) for r in small) < SMALLEST_GROUP)
            ):
                small.append(kept.pop())
            if small:
                combined = ReportRow(label=COMBINED_LABEL)
                for row in small:
                    combined.booked += row.booked
                    combined.attended += row.attended
                    combined.no_shows += row.no_shows
                    combined.waiting += row.waiting
                kept = [*sorted(kept, key=lambda r: r.label), combined]
            sections[name] = kept
        return dataclasses.replace(self, sections=sections)

    @property
    def waiting_total(self) -> int:
        """People on the waiting list who never got a place."""
        return sum(row.waiting for row in self.sections["Faculty"])

    @property
    def attendance_rate(self) -> int | None:
        """Who came, of who booked, once attendance is closed (None before: those not yet
        checked in are neither, and the rate would count only who came)."""
        if not self.closed:
            return None
        settled = self.counts.attended + self.counts.no_shows
        return round(100 * self.counts.attended / settled) if settled else None


def attendance_report(event: Event) -> AttendanceReport:
    """Booked, waiting, attended and no-shows, by faculty, programme and year: no names."""
    settings = settings_of(event)
    counts = counts_for(event, settings)
    tree = UnitTree.load()
    faculty_of: dict[int | None, str] = {}

    def faculty(unit_id: int | None) -> str:
        if unit_id not in faculty_of:
            chain = tree.chain(unit_id)
            top = next(
                (u for u in chain if tree.kind[u] == "faculty"), chain[-1] if chain else None
            )
            faculty_of[unit_id] = tree.name[top] if top is not None else "Not recorded"
        return faculty_of[unit_id]

    sections: dict[str, dict[str, ReportRow]] = {
        "Faculty": {},
        "Degree programme": {},
        "Year of study": {},
    }

    def add(unit_id, programme, year, column):
        keys = {
            "Faculty": faculty(unit_id),
            "Degree programme": programme or "Not recorded",
            "Year of study": f"Year {year}" if year else "Not recorded",
        }
        for section, key in keys.items():
            row = sections[section].setdefault(key, ReportRow(label=key))
            setattr(row, column, getattr(row, column) + 1)

    profile = "student__student_profile__"
    for unit_id, programme, year, status in Booking.objects.filter(
        event=event, status__in=HOLDING
    ).values_list(
        f"{profile}unit_id", f"{profile}programme__name", f"{profile}year_of_study", "status"
    ):
        add(unit_id, programme, year, "booked")
        if status == Booking.Status.ATTENDED:
            add(unit_id, programme, year, "attended")
        elif status == Booking.Status.NO_SHOW:
            add(unit_id, programme, year, "no_shows")
    # Who waited and never got a place: each person once (an offer that ran out, then the
    # list joined again), and nobody who booked after all (the place freed again).
    placed = Booking.objects.filter(event=event, status__in=HOLDING).values("student_id")
    waited = (
        WaitlistEntry.objects.filter(
            event=event, status__in=[*QUEUED, WaitlistEntry.Status.EXPIRED]
        )
        .exclude(student_id__in=placed)
        .values_list(
            "student_id",
            f"{profile}unit_id",
            f"{profile}programme__name",
            f"{profile}year_of_study",
        )
    )
    for unit_id, programme, year in {row[0]: row[1:] for row in waited}.values():
        add(unit_id, programme, year, "waiting")
    return AttendanceReport(
        event=event,
        counts=counts,
        closed=settings.attendance_closed,
        sections={
            name: sorted(rows.values(), key=lambda r: r.label) for name, rows in sections.items()
        },
    )


def report_csv_rows(report: AttendanceReport) -> list[list]:
    event = report.event
    rows: list[list] = [
        ["Event", event.title],
        ["Date", day_text(event.starts_at)],
        ["Booked", report.counts.booked],
        ["Waiting list (no place)", report.waiting_total],
        ["Attended", report.counts.attended],
        ["Did not attend", report.counts.no_shows],
        ["Walk-ins", report.counts.walk_ins],
        [],
        ["Group", "Value", "Booked", "Attended", "Did not attend", "Waiting list"],
    ]
    for section, section_rows in report.sections.items():
        for row in section_rows:
            rows.append([section, row.label, row.booked, row.attended, row.no_shows, row.waiting])
    return rows


# Registries: feeds, cancellation notices, organisation timelines ---------------------------


def booked_events_for_feed(user) -> QuerySet[Event]:
    """The events this person holds a place at, for their private iCalendar feed.

    Events cancelled while they had a place stay too (as cancelled, for a while), so
    their calendar removes the event rather than keeping it.
    """
    held = Booking.objects.filter(event=OuterRef("pk"), student=user)
    return Event.objects.filter(
        Exists(held.filter(status__in=HOLDING)) | Exists(held.filter(ENDED_WITH_EVENT))
    )


def cancellation_figures(event: Event) -> list[tuple[int, str]]:
    """What cancelling the event would end: places, and places on the waiting list."""
    places = Booking.objects.filter(event=event, status__in=PLACED).aggregate(
        booked=Count("pk"), arrived=Count("pk", filter=Q(status=Booking.Status.ATTENDED))
    )
    booked, arrived = places["booked"], places["arrived"]
    queued = WaitlistEntry.objects.filter(event=event, status__in=QUEUED).count()
    have = f"{booked} {pluralize(booked, 'person has,people have')} a place"
    if arrived:
        have += f" ({arrived} already checked in)"
    return [
        (booked, have),
        (queued, f"{queued} {pluralize(queued, 'person is,people are')} on the waiting list"),
    ]


WAITING_PLACE = "a place on the waiting list"


def people_at(event: Event) -> list[tuple[User, str]]:
    """Who has a place or waits for one: each is told when the event's time or place changes
    (someone already checked in too, as a room can change while people arrive)."""
    bookings = Booking.objects.filter(event=event, status__in=PLACED)
    entries = WaitlistEntry.objects.filter(event=event, status__in=QUEUED)
    return [(booking.student, PLACE) for booking in bookings.select_related("student")] + [
        (
            entry.student,
            # Its deadline may have moved with the event (`services.offers_follow_start`).
            f"a place offered to you until {when_text(entry.offer_expires_at)}"
            if entry.is_offered
            else WAITING_PLACE,
        )
        for entry in entries.select_related("student")
    ]


def bookings_timeline_source(organisation, *, viewer, limit: int) -> list[TimelineEntry]:
    """Each event the organisation took part in that had bookings, as aggregate figures."""
    events = (
        with_counts(
            event_selectors.visible_events(viewer)
            .filter(
                Exists(
                    Event.organisations.through.objects.filter(
                        event_id=OuterRef("pk"), organisation_id=organisation.pk
                    )
                )
            )
            .filter(Exists(Booking.objects.filter(event=OuterRef("pk"))))
        )
        # The latest report's date in the same query: the timeline needs nothing else.
        .annotate(
            last_report_at=Subquery(
                EmployerReport.objects.filter(event=OuterRef("pk"))
                .order_by("-created_at")
                .values("created_at")[:1]
            )
        )
        .order_by("-starts_at", "-pk")[:limit]
    )
    entries = []
    for event in events:
        settings = getattr(event, "booking_settings", None)
        closed = settings is not None and settings.attendance_closed
        figures = f"{event.n_booked} booked"
        if closed:
            figures += f", {event.n_attended} attended"
        elif event.n_waiting:
            figures += f", {event.n_waiting} on the waiting list"
        details = []
        if event.last_report_at:
            details.append(f"Attendance report sent on {day_text(event.last_report_at)}")
        entries.append(
            TimelineEntry(
                when=event.starts_at,
                kind="Bookings",
                title=f"{event.title}: {figures}",
                text=f"{event.get_type_display()}: {figures}",
                url=reverse("bookings:event", args=[event.pk]),
                details=details,
            )
        )
    return entries
