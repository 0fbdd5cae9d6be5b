"""API tokens in subject access and erasure: a person's tokens are theirs alone; and how
long the record of each call is kept."""

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from mycareer.api.models import ApiToken
from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import Change, LetterEntry, PersonalDataHandler


def anonymise_tokens(subject, *, apply: bool, by=None) -> list[Change]:
    tokens = ApiToken.objects.filter(owner_id__in=subject.user_ids)
    count = tokens.count()
    if not count:
        return []
    if apply:
        tokens.delete()
    return [Change("API tokens", "deleted (they stop working)", count)]


def token_letter(subject):
    for token in ApiToken.objects.filter(owner_id__in=subject.user_ids).select_related("unit"):
        facts = [
            ("Made", token.created_at),
            ("Works until", token.expires_at),
            ("Last used", token.last_used_at),
            ("Last used from (internet address)", token.last_used_from or ""),
        ]
        if token.unit_id:
            facts.append(("For the systems of", str(token.unit)))
        yield LetterEntry("activity", f"API token “{token.name}”", facts, when=token.created_at)


personal_data = PersonalDataHandler(
    anonymise=anonymise_tokens, letter=token_letter, covers=("api.ApiToken.owner",)
)


def calls_kept_days() -> int:
    return settings.MYCAREER["API_CALLS_KEPT_DAYS"]


def old_calls_due() -> QuerySet[AuditEntry]:
    """The records of API calls older than the schedule keeps (every call, reads too, is
    recorded: who, with which token, from where). What a call changed is recorded by the
    service it went through, under its own action, and kept as long as the rest."""
    cutoff = timezone.now() - datetime.timedelta(days=calls_kept_days())
    return AuditEntry.objects.filter(action="api.call", at__lt=cutoff)


def remove_calls(rows: QuerySet[AuditEntry]) -> int:
    return rows.delete()[0]
