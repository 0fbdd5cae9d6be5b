"""API tokens in subject access and erasure: a person's tokens are theirs alone."""

from mycareer.api.models import ApiToken
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
