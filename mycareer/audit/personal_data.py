"""Personal data: find everything MyCareer holds about a person, export it, erase it.

A person may be a login (staff, student, employer) and/or an employer contact record.
Collection is generic: every row of every model that points at the person (foreign key,
one-to-one or many-to-many) is included, so data added by later apps is covered
without code here. Erasure is two passes: apps register handlers that anonymise their
structured fields (an email column, a student number), then every text column of every
table is scanned for the person's name, email and phone, which are redacted where they
appear (notes that name them, audit entries, free text).
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Q

REDACTED = "[erased]"


@dataclass
class Subject:
    """The person: their logins and contact records, and the words that identify them."""

    users: list = field(default_factory=list)
    contacts: list = field(default_factory=list)

    @property
    def identifiers(self) -> list[str]:
        """Full names, email addresses and phone numbers, longest first."""
        words = set()
        for person in [*self.users, *self.contacts]:
            for value in (person.full_name, person.email, getattr(person, "phone", "")):
                value = (value or "").strip()
                # A single short word would redact too much of other people's text.
                if len(value) >= 5 or ("@" in value and len(value) >= 3):
                    words.add(value)
        return sorted(words, key=len, reverse=True)


ErasureHandler = Callable[[Subject], int]
_erasure_handlers: dict[str, ErasureHandler] = {}


def register_erasure_handler(name: str, handler: ErasureHandler) -> None:
    """An app's way of anonymising its structured personal fields; returns rows changed."""
    _erasure_handlers[name] = handler


def contact_model():
    return apps.get_model("organisations", "Contact")


def find_subjects(text: str) -> tuple[list, list]:
    """Logins and contact records whose name or email contains `text`."""
    text = text.strip()
    if len(text) < 3:
        return [], []
    users = list(
        get_user_model()
        .objects.filter(Q(full_name__icontains=text) | Q(email__icontains=text))
        .order_by("full_name")[:50]
    )
    contacts = list(
        contact_model()
        .objects.filter(Q(full_name__icontains=text) | Q(email__icontains=text))
        .select_related("organisation")
        .order_by("full_name")[:50]
    )
    return users, contacts


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if hasattr(value, "name") and not isinstance(value, str | int | float | bool | dict | list):
        return getattr(value, "name", "") or ""  # files
    return value


def _row(obj: models.Model) -> dict:
    data = {"id": obj.pk}
    for f in obj._meta.concrete_fields:
        if f.name == "password":
            continue
        data[f.attname] = _plain(getattr(obj, f.attname))
    return data


def _pointing_fields(model, targets: dict) -> list[tuple[str, str]]:
    """(field path, target key) for each relation of `model` to a person model."""
    found = []
    for f in model._meta.get_fields():
        if not (f.is_relation and f.concrete) and not f.many_to_many:
            continue
        if f.auto_created and not f.concrete:
            continue
        related = getattr(f, "related_model", None)
        for key, target in targets.items():
            if related is target:
                found.append((f.name, key))
    return found


def collect(subject: Subject) -> dict[str, list[dict]]:
    """Every row that points at the person, grouped by the kind of record."""
    user_model, contact = get_user_model(), contact_model()
    ids = {"user": [u.pk for u in subject.users], "contact": [c.pk for c in subject.contacts]}
    targets = {"user": user_model, "contact": contact}
    result: dict[str, list[dict]] = {}
    if subject.users:
        result["Logins"] = [_row(u) for u in subject.users]
    if subject.contacts:
        result["Contact records"] = [_row(c) for c in subject.contacts]
    for model in apps.get_models():
        if model in (user_model, contact):
            continue
        condition = Q()
        for name, key in _pointing_fields(model, targets):
            if ids[key]:
                condition |= Q(**{f"{name}__in": ids[key]})
        if not condition:
            continue
        rows = model._base_manager.filter(condition).distinct().order_by("pk")
        label = f"{model._meta.app_config.verbose_name}: {model._meta.verbose_name_plural}"
        collected = [_row(obj) for obj in rows.iterator(chunk_size=1000)]
        if collected:
            result[label] = collected
    return result


def _text_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not f.primary_key
        and f.name != "password"
    ]


def _redact(value, pattern: re.Pattern):
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, pattern) for k, v in value.items()}
    return value


def redact_everywhere(subject: Subject) -> int:
    """Replace the person's name, email and phone wherever they appear in text; rows changed."""
    words = subject.identifiers
    if not words:
        return 0
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    changed = 0
    for model in apps.get_models():
        fields = _text_fields(model)
        if not fields:
            continue
        condition = Q()
        for f in fields:
            lookup = "icontains"
            for word in words:
                if isinstance(f, models.JSONField):
                    # JSON is matched on its text form below, row by row.
                    continue
                condition |= Q(**{f"{f.name}__{lookup}": word})
        json_fields = [f for f in fields if isinstance(f, models.JSONField)]
        candidates = (
            model._base_manager.filter(condition) if condition else model._base_manager.none()
        )
        rows = list(candidates)
        if json_fields:
            seen = {r.pk for r in rows}
            for obj in model._base_manager.exclude(pk__in=seen).iterator(chunk_size=2000):
                if any(pattern.search(str(getattr(obj, f.attname))) for f in json_fields):
                    rows.append(obj)
        for obj in rows:
            updates = {}
            for f in fields:
                before = getattr(obj, f.attname)
                after = _redact(before, pattern)
                if after != before:
                    updates[f.attname] = after
            if updates:
                model._base_manager.filter(pk=obj.pk).update(**updates)
                changed += 1
    return changed


@transaction.atomic
def erase(subject: Subject) -> dict[str, int]:
    """Anonymise the person everywhere; aggregate figures (counts) stay right."""
    # Structured fields first (unique emails become unique placeholders), then free text.
    counts = {name: handler(subject) for name, handler in _erasure_handlers.items()}
    counts["rows with text redacted"] = redact_everywhere(subject)
    return counts
