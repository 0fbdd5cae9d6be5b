"""Bookings: places at events, the waiting list, attendance and the no-show policy.

Capacity is never stored as a counter: services count confirmed bookings under a lock
on the event's `BookingSettings` row (see `services._lock`).
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.core.text import counted
from mycareer.events.models import Event
from mycareer.organisations.models import Contact

# Statuses of a booking that hold a place. A cancelled booking does not, so the same
# student can book again after cancelling (the unique constraint covers only these).
HOLDING = ("confirmed", "attended", "no_show")
# A place for someone who may still come or is there: not yet marked as missed.
PLACED = ("confirmed", "attended")
# Statuses of a waiting-list entry that is still in the queue (or holds an offer).
QUEUED = ("waiting", "offered")


class BookingSettings(models.Model):
    """How one event takes bookings. An event without a row takes unlimited bookings."""

    class Promotion(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic: the next person is booked and told"
        OFFER = "offer", "Offer: the next person is offered the place and must accept"

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, primary_key=True, related_name="booking_settings"
    )
    # None means no limit.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    # None: bookings open as soon as the event is published / stay open until it starts.
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    waiting_list = models.BooleanField(default=True)
    promotion = models.CharField(max_length=10, choices=Promotion.choices, default="automatic")
    offer_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(168)]
    )
    attendance_closed_at = models.DateTimeField(null=True, blank=True)
    attendance_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "booking settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="booking_closes_after_it_opens",
                violation_error_message="Booking must close after it opens.",
            )
        ]

    def __str__(self) -> str:
        return f"Bookings for {self.event}"

    @property
    def is_unlimited(self) -> bool:
        return self.capacity is None

    @property
    def offers(self) -> bool:
        return self.promotion == self.Promotion.OFFER

    @property
    def attendance_closed(self) -> bool:
        return self.attendance_closed_at is not None


class NoShowFollowUp(models.Model):
    """One email to everyone who booked an event and did not come."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="noshow_followups")
    subject = SingleLineCharField(max_length=200)
    body = MultiLineTextField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"No-show email for {self.event}"


class Booking(models.Model):
    """A student's place at an event."""

    # Set by selectors.cancelled_for on places ended with their event: "place".
    ended: str
    # Set by services.check_in when correcting a no-show lifted the restriction it started.
    lifted_ban: "BookingBan | None" = None
    # Set by services.check_in_undo on a walk-in taken off: the waiting-list place (or
    # offer) it used, given back, and who the freed place went to.
    restored_entry: "WaitlistEntry | None" = None
    passed_on: "list[Booking | WaitlistEntry] | None" = None
    # Set by the staff services that give a place (booking in, moving, a walk-in) when the
    # student was restricted from booking and the place was given all the same.
    overridden_ban: "BookingBan | None" = None
    # Set by services.walk_in on someone who already held a place and was checked in on it
    # before: the walk-in changed nothing.
    already_checked_in: bool = False

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Booked"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "Did not attend"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        STUDENT = "student", "Booked by the student"
        STAFF = "staff", "Booked in by staff"
        WAITING_LIST = "waiting_list", "From the waiting list"
        MOVED = "moved", "Moved from another event"
        WALK_IN = "walk_in", "Walk-in"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="bookings")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookings"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.STUDENT)
    booked_at = models.DateTimeField(default=timezone.now)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when a no-show follow-up is queued for this person, and when it was sent:
    # the sending task skips anyone already sent, so a restarted worker sends once.
    followup = models.ForeignKey(
        NoShowFollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    followed_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["booked_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "student"],
                condition=Q(status__in=HOLDING),
                name="one_place_per_student_and_event",
                violation_error_message="This student already has a place at this event.",
            )
        ]
        indexes = [
            models.Index(fields=["event", "status"], name="booking_event_status_idx"),
            models.Index(fields=["student", "status"], name="booking_student_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.student} at {self.event}"

    def get_absolute_url(self) -> str:
        return reverse("bookings:event", args=[self.event_id])

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDING

    @property
    def is_walk_in(self) -> bool:
        return self.source == self.Source.WALK_IN

    @property
    def is_checked_in(self) -> bool:
        return self.status == self.Status.ATTENDED


class WaitlistEntry(models.Model):
    """A student's place in an event's queue; the queue runs in order of joining."""

    # Set by selectors.cancelled_for on places ended with their event: "waiting list".
    ended: str

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a place"
        ACCEPTED = "accepted", "Booked from the waiting list"
        EXPIRED = "expired", "Offer not taken up"
        LEFT = "left", "Left the waiting list"
        CANCELLED = "cancelled", "Event cancelled"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="waitlist")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Joining order; the id breaks ties between entries made in the same microsecond.
        ordering = ["joined_at", "pk"]
        verbose_name_plural = "waiting-list entries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "student"],
                condition=Q(status__in=QUEUED),
                name="one_queue_place_per_student_and_event",
                violation_error_message="This student is already on the waiting list.",
            )
        ]
        indexes = [
            models.Index(fields=["event", "status", "joined_at"], name="waitlist_queue_idx"),
            models.Index(fields=["status", "offer_expires_at"], name="waitlist_offer_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.student} waiting for {self.event}"

    def get_absolute_url(self) -> str:
        return reverse("bookings:event", args=[self.event_id])

    @property
    def is_queued(self) -> bool:
        return self.status in QUEUED

    @property
    def is_offered(self) -> bool:
        return self.status == self.Status.OFFERED


class NoShowPolicy(models.Model):
    """The site's no-show rule: N no-shows within a term stop a student booking for M weeks.

    One row (pk 1). Off until the Careers Centre switches it on.
    """

    enabled = models.BooleanField("policy in force", default=False)
    no_shows = models.PositiveSmallIntegerField(
        "no-shows that start a restriction",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    window_weeks = models.PositiveSmallIntegerField(
        "counted over (weeks)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="A term is about 12 weeks.",
    )
    ban_weeks = models.PositiveSmallIntegerField(
        "restriction lasts (weeks)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "no-show policy"

    def __str__(self) -> str:
        if not self.enabled:
            return "No-show policy: off"
        return ngettext(
            "%(no_shows)s within %(window)s stops booking for %(ban)s",
            "%(no_shows)s within %(window)s stop booking for %(ban)s",
            self.no_shows,
        ) % {
            "no_shows": counted(self.no_shows, "no-show", "no-shows"),
            "window": counted(self.window_weeks, "week", "weeks"),
            "ban": counted(self.ban_weeks, "week", "weeks"),
        }

    @classmethod
    def current(cls) -> "NoShowPolicy":
        """The policy in force; the defaults (off) when it was never saved."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def window(self) -> datetime.timedelta:
        return datetime.timedelta(weeks=self.window_weeks)

    @property
    def ban_length(self) -> datetime.timedelta:
        return datetime.timedelta(weeks=self.ban_weeks)


class BookingBan(models.Model):
    """A period in which a student may not book, started by the no-show policy."""

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="booking_bans"
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    reason = MultiLineTextField()
    no_shows = models.PositiveSmallIntegerField(default=0)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lift_reason = MultiLineTextField(blank=True)
    # Lifted because attendance was corrected and the no-shows left fell below the limit:
    # it should never have started, so it is not the restriction no-shows are counted from.
    # db_default too: the running release's code, which knows nothing of the column, can
    # still start restrictions while the migration is applied.
    lifted_by_correction = models.BooleanField(default=False, db_default=False)
    # When the student was emailed that they are restricted (tasks.send_ban_notice). Only
    # a student who was told of a restriction is told that it is lifted: one lifted before
    # its email went out was never mentioned to them.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["student", "ends_at"], name="ban_student_end_idx")]

    def __str__(self) -> str:
        return f"{self.student} may not book until {self.ends_at:%Y-%m-%d}"

    def is_active(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.lifted_at is None and self.starts_at <= now < self.ends_at


class EmployerReport(models.Model):
    """An attendance report sent to contacts of the organisations taking part."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="employer_reports")
    contacts = models.ManyToManyField(Contact, related_name="attendance_reports")
    message = MultiLineTextField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Attendance report for {self.event}"
