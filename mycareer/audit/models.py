import json
import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

from mycareer.audit.registry import Details, details_writer, label_for

SENSITIVE_SUFFIXES = (".exported", ".merged", ".erased", ".imported")
DETAIL_CHARACTERS = 120
# A moment as the code records it (`isoformat()`), shown in the trail in local time.
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")


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
    # The details worked out for a page of entries together (`selectors.with_details`).
    shown_details: Details | None = None

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
    def details(self) -> Details:
        """The entry's data as short (label, text) pairs for a table row: as the app that
        recorded it registered (`register_details`), else one pair per key, a change as
        one pair per field, "before → after". A page of entries is shown with
        `selectors.with_details`, which reads what they name once for all of them."""
        pairs = self.shown_details
        if pairs is None:
            writer = details_writer(self.action)
            pairs = writer([self])[0] if writer else details_in_words(self.data)
        return [
            (key, text if len(text) <= DETAIL_CHARACTERS else text[: DETAIL_CHARACTERS - 1] + "…")
            for key, text in pairs
        ]


def details_in_words(data) -> Details:
    """Recorded data as (label, text) pairs, key by key; a change ({"changed": {field:
    [before, after]}}) as one pair per field, "before → after"."""
    if not isinstance(data, dict):
        return []
    pairs = []
    for key, value in data.items():
        if key == "changed" and isinstance(value, dict) and all(map(_is_pair, value.values())):
            pairs += [
                (field, f"{readable(before) or 'none'} → {readable(after) or 'none'}")
                for field, (before, after) in value.items()
            ]
        elif text := readable(value):
            pairs.append((key, text))
    return [(key.replace("_", " "), text) for key, text in pairs]


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2


def readable(value) -> str:
    """One recorded value in words: yes/no, a list joined, a flat dict as "key: value"
    pairs, a timestamp in local time."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        # A value that holds a comma is quoted, or "Engineering, Civil" reads as two.
        return ", ".join(f"“{v}”" if "," in str(v) else str(v) for v in value)
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        # Counts by reason, flags by name: "no email address: 1, …", not JSON.
        return ", ".join(
            f"{str(key).replace('_', ' ')}: {readable(v) or 'none'}" for key, v in value.items()
        )
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        moment = parse_datetime(value)
        if moment is not None and timezone.is_aware(moment):
            return date_format(timezone.localtime(moment), "j M Y H:i")
    return str(value)
