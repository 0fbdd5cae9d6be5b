"""API tokens: a secret shown once, kept only as its hash, acting as its owner does now."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.core.fields import SingleLineCharField


class Scope(models.TextChoices):
    """What a token may be used for; the owner's own permissions still decide each call."""

    READ = "read", "Read organisations, notes, events, vacancies and figures"
    WRITE_ORGANISATIONS = "write-organisations", "Create and change organisations, contacts, notes"
    WRITE_EVENTS = "write-events", "Create and change draft events, record attendance"
    BOOKINGS = "bookings", "Book and cancel places for yourself"


# What reading means for those who are not staff: only what their pages show them.
READ_FOR_KIND = {
    "student": "Read the events and vacancies open to you, and employers’ profiles one by one",
    "employer": "Read your organisation, its vacancies and the events you may see",
}


def scope_label(scope: str, kind: str = "") -> str:
    """A scope in words, for a person of this kind of account (staff read more)."""
    if scope == Scope.READ and kind in READ_FOR_KIND:
        return READ_FOR_KIND[kind]
    return str(Scope(scope).label)


def digest_of(secret: str) -> str:
    """The stored form of a token's secret (a SHA-256: secrets are long and random)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal or service-account token for the JSON API."""

    name = SingleLineCharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    # A service account's unit: set when an administrator made the token for a system.
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    # The first characters of the secret, to tell tokens apart in lists and logs.
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_api_token_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_service_account(self) -> bool:
        return self.unit_id is not None

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > timezone.now() else "expired"

    def scope_labels(self) -> list[str]:
        kind = "" if self.unit_id else self.owner.kind
        return [scope_label(s, kind) for s in self.scopes if s in Scope.values]
