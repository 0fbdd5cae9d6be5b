"""How this app's audit entries read in the trail: a staff profile's changed fields by the
labels the profile page gives them, not their column names; a training session by its
course and start, not its number."""

from collections.abc import Sequence

from django.core.exceptions import FieldDoesNotExist

from mycareer.accounts.models import TrainingSession, User
from mycareer.audit.models import AuditEntry, details_in_words
from mycareer.audit.registry import Details, name_of

# The profile page asks "Email me about" for the emails someone switched off.
PROFILE_FIELD_WORDS = {"notifications_off": "which emails to send"}


def profile_field_words(name: str) -> str:
    if name in PROFILE_FIELD_WORDS:
        return PROFILE_FIELD_WORDS[name]
    try:
        field = User._meta.get_field(name)
    except FieldDoesNotExist:  # a field since removed still reads as its name
        return name.replace("_", " ")
    return str(getattr(field, "verbose_name", name))


def profile_details(entries: Sequence[AuditEntry]) -> list[Details]:
    """A profile change's fields in words: "job title, when to email me"."""
    details = []
    for entry in entries:
        data = dict(entry.data) if isinstance(entry.data, dict) else {}
        if isinstance(data.get("fields"), list):
            data["fields"] = [profile_field_words(str(name)) for name in data["fields"]]
        details.append(details_in_words(data))
    return details


def training_details(entries: Sequence[AuditEntry]) -> list[Details]:
    """A training booking's session by its course and start, not its number (one since
    removed as its number); read once for a page of entries."""
    wanted = {
        entry.data["session"]
        for entry in entries
        if isinstance(entry.data, dict) and isinstance(entry.data.get("session"), int)
    }
    sessions = TrainingSession.objects.filter(pk__in=wanted).select_related("course")
    names = {session.pk: str(session) for session in sessions} if wanted else {}
    details = []
    for entry in entries:
        data = dict(entry.data) if isinstance(entry.data, dict) else {}
        if isinstance(data.get("session"), int):
            data["session"] = name_of(names, data["session"])
        details.append(details_in_words(data))
    return details
