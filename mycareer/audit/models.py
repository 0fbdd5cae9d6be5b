import json

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from mycareer.audit.registry import label_for

SENSITIVE_SUFFIXES = (".exported", ".merged", ".erased", ".imported")
DETAIL_CHARACTERS = 120


class AuditEntry(models.Model):
    """One thing someone did: a change or an export, written in the same transaction."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries_made",
    )
    action = models.CharField(max_length=100, db_index=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    # The person the entry is about (a user whose access changed, a contact
    # exported), so each person's trail can be read without parsing data.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries_about",
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"]),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    @property
    def label(self) -> str:
        return label_for(self.action)

    @property
    def is_sensitive(self) -> bool:
        """Exports of personal data, merges and erasures stand out in the trail."""
        return self.action.endswith(SENSITIVE_SUFFIXES)

    @property
    def details(self) -> list[tuple[str, str]]:
        """The entry's data as short (label, text) pairs for a table row."""
        if not isinstance(self.data, dict):
            return []
        shown = []
        for key, value in self.data.items():
            if value in (None, "", [], {}):
                continue
            if isinstance(value, bool):
                text = "yes" if value else "no"
            elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
                # A value that holds a comma is quoted, or "Engineering, Civil" reads as two.
                text = ", ".join(f"“{v}”" if "," in str(v) else str(v) for v in value)
            elif isinstance(value, dict | list):
                text = json.dumps(value, ensure_ascii=False)
            else:
                text = str(value)
            if len(text) > DETAIL_CHARACTERS:
                text = text[: DETAIL_CHARACTERS - 1] + "…"
            shown.append((key.replace("_", " "), text))
        return shown
