"""People as the student record system (and the staff list beside it) sends them.

A `FeedRecord` marks a login as fed: the nightly file says who they are, and when they
stop appearing in it they leave, after a grace period, by becoming inactive (their
bookings stay). People MyCareer made otherwise (employers, staff added by hand) have none
and the feed never touches them. A `FeedImport` is one file read: who sent it, when,
and what it did.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class FeedRecord(models.Model):
    class Kind(models.TextChoices):
        STUDENT = "student", "Student"
        STAFF = "staff", "Staff"

    class Status(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled"
        SUSPENDED = "suspended", "Suspended"
        WITHDRAWN = "withdrawn", "Withdrawn"
        GRADUATED = "graduated", "Graduated"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_record"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The student's status in the record system; blank for staff.
    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # The first import that did not list them (or listed them as withdrawn); cleared
    # when they appear again. They leave once this is older than the grace period.
    missing_since = models.DateTimeField(null=True, blank=True)
    # When the feed made them inactive as a leaver (so it may make them active again).
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "missing_since"], name="feed_kind_missing_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()} in the feed)"


class FeedImport(models.Model):
    """One file of the feed: checked on the upload page, confirmed, then written."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Being checked"
        CHECKED = "checked", "Checked, waiting to be confirmed"
        QUEUED = "queued", "Confirmed, being imported"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed: nothing was imported"
        EXPIRED = "expired", "Not confirmed"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded by an administrator"
        COMMAND = "command", "manage.py import_people"

    filename = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The uploaded file in storage until it is imported (the upload page's two steps).
    stored_file = models.CharField(max_length=100, blank=True)
    # The summary: created, updated, unchanged, left, unknown codes and the first
    # problems (see feed.FeedPlan.summary).
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"
