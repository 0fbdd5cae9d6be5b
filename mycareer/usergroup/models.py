from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.core.validators import IMAGE_EXTENSIONS, validate_screenshot


class Representative(models.Model):
    """A faculty's member of the Super User Group, who passes on updates and gathers faults."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="representative")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="representing"
    )
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    appointed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit__name"]

    def __str__(self) -> str:
        return f"{self.user} for {self.unit}"


class Announcement(models.Model):
    """A system update or policy change for staff, shown on their home page until dismissed."""

    class Kind(models.TextChoices):
        SYSTEM_UPDATE = "update", "System update"
        POLICY_CHANGE = "policy", "Policy change"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SYSTEM_UPDATE)
    title = SingleLineCharField(max_length=200)
    body = MultiLineTextField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now, db_index=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.title


class AnnouncementDismissal(models.Model):
    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="dismissals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["announcement", "user"], name="dismiss_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} dismissed {self.announcement}"


class Feedback(models.Model):
    """A fault or an improvement request, logged by anyone on staff and triaged by the group."""

    class Kind(models.TextChoices):
        FAULT = "fault", "Fault"
        IMPROVEMENT = "improvement", "Improvement request"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        DUPLICATE = "duplicate", "Duplicate"
        DONE = "done", "Done"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = SingleLineCharField(max_length=200)
    description = MultiLineTextField()
    page = models.CharField(
        "page it concerns", max_length=500, blank=True, help_text="The address or name of the page."
    )
    screenshot = models.ImageField(
        upload_to="feedback/%Y/",
        blank=True,
        validators=[FileExtensionValidator(IMAGE_EXTENSIONS), validate_screenshot],
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    faculty = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("usergroup:feedback", args=[self.pk])


class FeedbackComment(models.Model):
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = MultiLineTextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.feedback}"


class FeedbackVote(models.Model):
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feedback", "user"], name="vote_once")]

    def __str__(self) -> str:
        return f"{self.user} votes for {self.feedback}"
