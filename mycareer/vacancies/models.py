import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import DegreeProgramme, Unit
from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.organisations.models import Organisation

# The fields an employer writes on a vacancy, in the order pages show them and a change
# is listed; the last two are its audiences (many-to-many), the others plain values.
SIMPLE_FIELDS = [
    "title",
    "type",
    "description",
    "location",
    "remote",
    "salary",
    "closing_date",
    "apply_url",
    "apply_email",
]
TARGET_FIELDS: dict[str, type[Unit] | type[DegreeProgramme]] = {
    "target_units": Unit,
    "target_programmes": DegreeProgramme,
}
EDITABLE_FIELDS = [*SIMPLE_FIELDS, *TARGET_FIELDS]
# Neither a link nor an email address to apply to: said on the link's field.
HOW_TO_APPLY = "Say how to apply: give a link, an email address, or both."
# A vacancy aimed at no faculty, school or programme is shown to every student.
EVERY_STUDENT = "Every student"
# One kind of target left empty while the other is chosen widens nothing.
NO_TARGET = {"target_units": "No faculty or school", "target_programmes": "No degree programme"}


def targets_in_words(name: str, labels: Iterable[str], *, other_chosen: bool) -> str:
    """One kind of a vacancy's targets (`name`), as the names chosen. Empty, it reads
    "Every student" when the other kind is empty too, as the vacancy's page says: a
    change that clears every target read "None", as if nobody would see it."""
    chosen = sorted(labels)
    if chosen:
        return ", ".join(chosen)
    return NO_TARGET[name] if other_chosen else EVERY_STUDENT


class Vacancy(models.Model):
    """A job, placement or volunteering role an organisation advertises to students.

    The fields students see are the live ones. An employer's edit of an approved
    vacancy waits in `pending_changes` until a moderator decides (see services).
    """

    class Type(models.TextChoices):
        GRADUATE_JOB = "graduate_job", "Graduate job"
        INTERNSHIP = "internship", "Internship"
        PLACEMENT = "placement", "Placement"
        PART_TIME = "part_time", "Part-time job"
        VOLUNTEERING = "volunteering", "Volunteering"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for moderation"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved"
        WITHDRAWN = "withdrawn", "Withdrawn"
        CLOSED = "closed", "Closed"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vacancies"
    )
    title = SingleLineCharField(max_length=200)
    type = models.CharField("type of vacancy", max_length=20, choices=Type.choices)
    description = MultiLineTextField(
        help_text="The role, what the person will do and who you are looking for."
    )
    location = SingleLineCharField(
        max_length=200, blank=True, help_text="Town or city, e.g. Leeds. Leave empty if remote."
    )
    remote = models.BooleanField("remote working possible", default=False)
    salary = SingleLineCharField(
        max_length=120, blank=True, help_text="For example “£28,000 a year” or “£12.50 an hour”."
    )
    closing_date = models.DateField(help_text="The last day to apply.")
    apply_url = models.URLField(
        "link to apply",
        max_length=500,
        blank=True,
        # Only web links: students follow this link from MyCareer.
        validators=[URLValidator(schemes=["http", "https"])],
    )
    apply_email = models.EmailField("email address to apply to", blank=True)
    target_units = models.ManyToManyField(
        Unit,
        blank=True,
        related_name="targeted_vacancies",
        verbose_name="faculties and schools",
        help_text="Leave empty to show the vacancy to every student.",
    )
    target_programmes = models.ManyToManyField(
        DegreeProgramme,
        blank=True,
        related_name="targeted_vacancies",
        verbose_name="degree programmes",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    rejection_reason = MultiLineTextField(blank=True)
    # An employer's edit of an approved vacancy: {field: proposed value} for the fields
    # that differ from the live ones (dates as ISO text, targets as lists of ids).
    pending_changes = models.JSONField(null=True, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edit_rejection_reason = MultiLineTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_by_staff = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["closing_date", "title"]
        verbose_name_plural = "vacancies"
        indexes = [
            models.Index(fields=["status", "closing_date"]),
            models.Index(fields=["organisation", "status"]),
        ]
        constraints = [
            # Only a live vacancy can have an edit waiting: the state machine relies on it.
            models.CheckConstraint(
                condition=Q(pending_since__isnull=True) | Q(status="approved"),
                name="pending_edit_only_when_approved",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} at {self.organisation}" if self.organisation_id else self.title

    def get_absolute_url(self) -> str:
        return reverse("vacancies:detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if not self.apply_url and not self.apply_email:
            errors["apply_url"] = HOW_TO_APPLY
        if not self.location.strip() and not self.remote:
            errors["location"] = "Give a location, or tick “remote working possible”."
        if errors:
            raise ValidationError(errors)

    @property
    def aimed_at(self) -> str:
        """Who the vacancy is for, as its page says: the units and programmes it targets,
        or every student."""
        units = [unit.name for unit in self.target_units.all()]
        programmes = [programme.name for programme in self.target_programmes.all()]
        return "; ".join(units + programmes) or EVERY_STUDENT

    @property
    def has_pending_edit(self) -> bool:
        return self.pending_since is not None

    def has_closed_by(self, day: datetime.date) -> bool:
        """Whether it is closed on `day`: closed by the daily job, or approved with its
        closing date gone by, which that job closes only the next morning."""
        return self.status == self.Status.CLOSED or (
            self.status == self.Status.APPROVED and self.closing_date < day
        )

    @property
    def has_closed(self) -> bool:
        return self.has_closed_by(timezone.localdate())

    def is_open_on(self, day: datetime.date) -> bool:
        """Whether students may see it on `day` (the organisation must be active too)."""
        return (
            self.status == self.Status.APPROVED
            and self.closing_date >= day
            and self.organisation.status == Organisation.Status.ACTIVE
        )

    @property
    def stage(self) -> tuple[str, str]:
        """Where the vacancy stands, in the employer's words, and a status colour."""
        if self.status == self.Status.DRAFT:
            return "Draft: not sent for moderation yet", "warn"
        if self.status == self.Status.SUBMITTED:
            return "Waiting for moderation", "warn"
        if self.status == self.Status.REJECTED:
            return "Not approved", "bad"
        if self.status == self.Status.WITHDRAWN:
            return "Withdrawn", "bad"
        if self.has_closed:
            return "Closed", "bad"
        if self.organisation.status != Organisation.Status.ACTIVE:
            return "Approved: students see it once the organisation is approved", "warn"
        if self.has_pending_edit:
            return "Live, with changes waiting for moderation", "ok"
        return "Live", "ok"
