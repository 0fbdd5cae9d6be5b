import datetime
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.core.validators import IMAGE_EXTENSIONS, validate_phone, validate_photo


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("kind", User.Kind.STAFF)
        return self._create_user(email, password, **extra)


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


def photo_path(instance, filename: str) -> str:
    """Photos get a random name: the address of one says nothing about whose it is."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"people/{secrets.token_urlsafe(16)}.{extension}"


class NotificationMode(models.TextChoices):
    IMMEDIATE = "immediate", "As things happen"
    DIGEST = "digest", "In one daily digest"


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: university staff, a student, or an employer contact."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        STUDENT = "student", "Student"
        EMPLOYER = "employer", "Employer contact"

    email = models.EmailField("email address", unique=True)
    # The identifier the university's systems agree on (the student record system's
    # person id, which single sign-on also releases): people are matched by it, never
    # by a name, and an email changed at the university follows it. Employers have none.
    university_id = models.CharField(
        "university identifier", max_length=100, unique=True, null=True, blank=True
    )
    full_name = SingleLineCharField(max_length=150)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STUDENT)
    phone = SingleLineCharField(max_length=40, blank=True, validators=[validate_phone])
    job_title = SingleLineCharField(max_length=150, blank=True)
    # is_staff only opens Django's admin site; MyCareer's own staff are kind=staff.
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Private iCalendar feeds use this token; the person can reset it.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    # Staff profiles: shown to colleagues beside key accounts and liaison requests.
    photo = models.ImageField(
        upload_to=photo_path,
        blank=True,
        validators=[FileExtensionValidator(IMAGE_EXTENSIONS), validate_photo],
        help_text="A head-and-shoulders photo; without one, colleagues see your initials.",
    )
    about = MultiLineTextField(
        "how to reach me and what I work on",
        max_length=600,
        blank=True,
        help_text="For example: the best times to call, and the employers and topics you cover.",
    )
    notification_mode = models.CharField(
        "when to email me",
        max_length=10,
        choices=NotificationMode.choices,
        default=NotificationMode.IMMEDIATE,
    )
    # The kinds of staff notification (codes) this person chose not to receive.
    notifications_off = models.JSONField(default=list, blank=True)
    # Home page panels (their template names) in the order this person chose.
    dashboard_order = models.JSONField(default=list, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_university_staff(self) -> bool:
        return self.kind == self.Kind.STAFF

    @property
    def is_student(self) -> bool:
        return self.kind == self.Kind.STUDENT

    @property
    def is_employer(self) -> bool:
        return self.kind == self.Kind.EMPLOYER


class Unit(models.Model):
    """A part of the university: faculty > school > department."""

    class Kind(models.TextChoices):
        FACULTY = "faculty", "Faculty"
        SCHOOL = "school", "School"
        DEPARTMENT = "department", "Department"
        SERVICE = "service", "Central service"

    name = SingleLineCharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list["Unit"]:
        """This unit's parents, nearest first (the tree is three levels deep)."""
        chain, unit = [], self.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return chain

    @property
    def faculty(self) -> "Unit":
        chain = [self, *self.ancestors()]
        for unit in chain:
            if unit.kind == Unit.Kind.FACULTY:
                return unit
        return chain[-1]


class DegreeProgramme(models.Model):
    name = SingleLineCharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="programmes")
    level = models.CharField(
        max_length=20,
        choices=[("ug", "Undergraduate"), ("pgt", "Postgraduate taught"), ("pgr", "Research")],
        default="ug",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """A member of staff works in a unit. The student record feed removes only the
    memberships it made itself: a unit an administrator added stays."""

    class Source(models.TextChoices):
        HAND = "hand", "Added by an administrator"
        FEED = "feed", "From the student record feed"
        SIGN_IN = "sign_in", "From the university sign-in"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    # db_default too: the running release's code, which knows nothing of the column, can
    # still add memberships while the new release's migration is applied (docs/deployment.md).
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.HAND, db_default=Source.HAND
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="unique_staff_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.unit}"


class StudentProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="student_profile")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="students")
    programme = models.ForeignKey(
        DegreeProgramme, on_delete=models.PROTECT, related_name="students"
    )
    year_of_study = models.PositiveSmallIntegerField(default=1)
    student_number = models.CharField(max_length=20, unique=True)
    expected_graduation = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.student_number})"


class AccessLevel(models.IntegerChoices):
    """Rights by level of engagement; each level includes those below it."""

    VIEWER = 10, "Viewer"
    OPERATOR = 20, "Operator"
    OPERATOR_DELETE = 30, "Operator with delete"
    BULK_MAILER = 40, "Bulk mailer"
    ADMIN = 50, "Administrator"


class AccessGrant(models.Model):
    """A level granted by an administrator; the current grant is the one not revoked."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_grants")
    level = models.PositiveSmallIntegerField(choices=AccessLevel.choices)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="one_current_grant_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_level_display()}"


class TrainingCourse(models.Model):
    """A course run by the Careers Centre (operator training, bulk email training)."""

    OPERATOR = "operator"
    BULK_EMAIL = "bulk-email"

    code = models.SlugField(max_length=40, unique=True)
    name = SingleLineCharField(max_length=200)
    description = MultiLineTextField(blank=True)
    valid_days = models.PositiveIntegerField(default=365)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TrainingSession(models.Model):
    class Kind(models.TextChoices):
        ANNUAL = "annual", "Annual (scheduled)"
        AD_HOC = "ad_hoc", "Ad hoc"

    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="sessions")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ANNUAL)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = SingleLineCharField(max_length=200)
    # Sent to each person who books, and shown to them and administrators only.
    # db_default too: the running release's code, which knows nothing of the column, can
    # still schedule sessions while the new release's migration is applied.
    online_url = models.URLField(
        "joining link", max_length=500, blank=True, default="", db_default=""
    )
    capacity = models.PositiveIntegerField(default=20)
    trainer = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.course} — {local:%a %-d %b %Y, %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:training_session", args=[self.pk])


class TrainingRecord(models.Model):
    """One person's place on a session and, once recorded, their completion."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        COMPLETED = "completed", "Attended and completed"
        ABSENT = "absent", "Did not attend"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="training_records")
    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="records")
    session = models.ForeignKey(
        TrainingSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    completed_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True, db_index=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-completed_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "session"],
                condition=Q(session__isnull=False),
                name="one_record_per_session_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.course} ({self.get_status_display()})"

    def is_valid_on(self, day: datetime.date) -> bool:
        return (
            self.status == self.Status.COMPLETED
            and self.expires_on is not None
            and self.expires_on >= day
        )


class TermsVersion(models.Model):
    """The usage terms staff accept (data protection); the newest published one is current."""

    version = models.CharField(max_length=20, unique=True)
    title = SingleLineCharField(max_length=200)
    body = MultiLineTextField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class TermsAcceptance(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="terms_acceptances")
    terms = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "terms"], name="unique_terms_acceptance")
        ]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.terms.version}"


def training_valid_days() -> int:
    return settings.MYCAREER["TRAINING_VALID_DAYS"]


class PendingNotification(models.Model):
    """A staff notification waiting for its person's daily digest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pending_notifications")
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=300)
    body = MultiLineTextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="pending_notification_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} (for {self.user})"


class ErasedIdentifier(models.Model):
    """A person erased at their request, as a keyed hash of an identifier the university's
    systems may still send (their stable id, their email): the student record feed and
    single sign-on look here so the person is not made again. The identifier itself is
    never kept (accounts/erased.py)."""

    class Kind(models.TextChoices):
        UNIVERSITY_ID = "university_id", "University identifier"
        EMAIL = "email", "Email address"
        # An employer contact's address: the organisation import and the API look here
        # so that a file or a script does not add the person again. Hashed apart from
        # EMAIL, so that it never keeps a student or member of staff out of the feed.
        CONTACT_EMAIL = "contact_email", "Employer contact's email address"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)
    erased_on = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["-erased_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of a person erased on {self.erased_on}"


class UnknownDepartmentCode(models.Model):
    """A department code the university sign-in sent that names no unit in MyCareer.

    Never made into a unit: the administrators' page of the student record feed lists
    it, so someone adds the unit (or corrects the identity provider)."""

    code = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=30)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    sign_ins = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
