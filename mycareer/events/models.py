import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import DegreeProgramme, Unit
from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.organisations.models import Organisation

# Bounding an event's length bounds the clash check's time-range query on both sides
# (starts_at between window start minus this and window end), so the index is used.
MAX_EVENT_LENGTH = datetime.timedelta(days=14)
YEARS_OF_STUDY = range(1, 8)
# Dates stay well inside what `datetime` can step through (clash windows, calendars).
SENSIBLE_YEARS = range(1900, 3000)


class Topic(models.Model):
    """A subject an event is about ("Interviews", "Aerospace").

    A small managed model rather than free taggit tags: topics are compared between
    events by the clash check, so one shared spelling per topic matters, and taggit's
    tag table already holds organisation tags, which mean something else.
    """

    name = SingleLineCharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="unique_topic_name_ci")]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """An employability event on the combined calendar."""

    class Type(models.TextChoices):
        CAREERS_FAIR = "careers_fair", "Careers fair"
        EMPLOYER_PRESENTATION = "employer_presentation", "Employer presentation"
        WORKSHOP = "workshop", "Workshop"
        NETWORKING = "networking", "Networking"
        SKILLS_SESSION = "skills_session", "Skills session"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    # Calendars know the event by this forever (iCalendar UID), whatever else changes.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = SingleLineCharField(max_length=200)
    type = models.CharField(max_length=24, choices=Type.choices, default=Type.OTHER)
    topics = models.ManyToManyField(Topic, blank=True, related_name="events")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="events")
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events_organised",
    )
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="events")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    venue = SingleLineCharField(max_length=200, blank=True)
    online_url = models.URLField("online link", blank=True)
    description = MultiLineTextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = MultiLineTextField(blank=True)
    # iCalendar SEQUENCE: raised on each change a subscribed calendar must pick up.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="event_status_start_idx"),
            models.Index(fields=["starts_at", "ends_at"], name="event_start_end_idx"),
            models.Index(fields=["unit", "starts_at"], name="event_unit_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="event_ends_after_it_starts",
                violation_error_message="The event must end after it starts.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.pk])

    def get_public_url(self) -> str:
        """The page anybody can open: for events shared beyond students (see Audience)."""
        return reverse("events:public", args=[self.uid])

    @property
    def ical_uid(self) -> str:
        return f"{self.uid}@mycareer"

    @property
    def organiser_has_left(self) -> bool:
        """Its organiser's login is closed: nobody reads their inbox, so emails about the
        event name the Careers Centre to contact instead."""
        return self.organiser is not None and not self.organiser.is_active

    def reply_to(self) -> list[str] | None:
        """Where replies to an email about the event go: its organiser while they are here;
        otherwise None, the address the email comes from (the Careers Centre)."""
        if self.organiser is None or self.organiser_has_left:
            return None
        return [self.organiser.email]

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def join_url(self) -> str:
        """The online link to join by, while the event goes ahead: a cancelled event has
        none to offer (its link is kept, for the record and for the organiser's edits)."""
        return "" if self.is_cancelled else self.online_url

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def local_start(self) -> datetime.datetime:
        return timezone.localtime(self.starts_at)

    @property
    def local_end(self) -> datetime.datetime:
        return timezone.localtime(self.ends_at)

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at


class Audience(models.Model):
    """Whom an event is for: units, degree programmes and years of study.

    An explicit `open_to_all` flag says "every student", so that an audience left
    empty by mistake shows the event to no student rather than to all of them.
    Units reach down the tree: a faculty includes its schools and departments.
    Units that accepted an opening request are added here.
    """

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, primary_key=True, related_name="audience"
    )
    open_to_all = models.BooleanField("open to all students", default=False)
    units = models.ManyToManyField(Unit, blank=True, related_name="event_audiences")
    programmes = models.ManyToManyField(DegreeProgramme, blank=True, related_name="event_audiences")
    # Beyond students: an event employers take part in (a fair's stands, a panel) or one
    # anybody may attend gets a public page, and only such events may be promoted to
    # employers in bulk email (its links must open for them).
    open_to_employers = models.BooleanField("employers take part or attend", default=False)
    open_to_public = models.BooleanField("open to the public", default=False)
    # Years of study as digits separated by commas ("2,3"); empty means every year.
    # Years are 1-7, one digit each, so `years__contains="3"` is an exact, portable
    # database test (SQLite has no JSON containment lookup).
    years = models.CharField(max_length=13, blank=True)

    def __str__(self) -> str:
        return f"Audience of {self.event}"

    @property
    def is_shared_beyond_students(self) -> bool:
        return self.open_to_employers or self.open_to_public

    @property
    def year_list(self) -> list[int]:
        return [int(y) for y in self.years.split(",") if y]

    @staticmethod
    def years_text(years) -> str:
        return ",".join(str(y) for y in sorted({int(y) for y in years}))


class ClashOverride(models.Model):
    """An organiser's recorded decision to publish (or move) an event despite a clash."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="clash_overrides")
    other = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="clash_overrides_against"
    )
    reason = MultiLineTextField()
    score = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Set by `selectors.clash_overrides_of` for the event's page: how the two events'
    # times stand now, and whether one moved since the clash was recorded.
    times_now: str = ""
    moved_since: bool = False
    # The same, as the end of a sentence: "they now overlap by 1 hour".
    times_now_clause: str = ""

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} despite {self.other}"

    @property
    def summary(self) -> str:
        text = "; ".join(self.reasons)
        return text[:1].upper() + text[1:]


class OpeningRequest(models.Model):
    """The organiser asks another unit's operators to open an event to their students."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="opening_requests")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="opening_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = MultiLineTextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = MultiLineTextField(blank=True)
    # The organiser took the request back before it was answered (asked the wrong unit,
    # or plans changed); the unit asked may be asked again.
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # db_default too: the running release's code, which knows nothing of the column, can
    # still ask units while the new release's migration is applied.
    withdrawn_reason = MultiLineTextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "unit"],
                condition=Q(status="pending"),
                name="one_pending_opening_per_unit",
                violation_error_message="This unit has already been asked.",
            )
        ]

    def __str__(self) -> str:
        return f"Open {self.event} to {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("events:opening", args=[self.pk])


class CancellationNotice(models.Model):
    """One person to tell that an event is cancelled, and what ended for them.

    Made in the cancelling transaction; the task sends each unsent notice and marks it
    sent, so everyone is told once even if the worker restarts or the task is retried.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="cancellation_notices")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cancellation_notices"
    )
    # What ended for them, as the email says it: "your place", "your place on the waiting list".
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "person"], name="one_cancellation_notice_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} told {self.event} is cancelled"
