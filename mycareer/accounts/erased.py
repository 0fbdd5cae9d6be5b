"""People erased at their request stay erased: the feed and single sign-on skip them.

Erasure removes a login's university identifier and email, but the university's student
record system and identity provider still send them, so the next nightly import or the
person's next university sign-in would make a new login. Erasing a member of the
university therefore keeps a keyed hash (HMAC-SHA256) of each identifier, never the
identifier itself: enough to recognise it when it comes again, nothing to read it back
from. The key is MYCAREER["ERASED_IDENTIFIER_KEY"], or else the SECRET_KEY; the
SECRET_KEY's fallbacks are tried too, so rotating it does not forget anyone.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.utils.crypto import salted_hmac

from mycareer.accounts.models import ErasedIdentifier, User

Kind = ErasedIdentifier.Kind
# Lookups that name many identifiers at once go in batches (SQLite's limit on parameters).
BATCH = 500


def _normal(kind: str, value: str) -> str:
    value = (value or "").strip()
    return value.lower() if kind in (Kind.EMAIL, Kind.CONTACT_EMAIL) else value


def _keys() -> list[str]:
    own = settings.MYCAREER.get("ERASED_IDENTIFIER_KEY")
    if own:
        return [own]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _digests(kind: str, value: str) -> list[str]:
    """The hashes of one identifier, with the current key first."""
    value = _normal(kind, value)
    if not value:
        return []
    salt = f"mycareer.accounts.erased.{kind}"
    return [salted_hmac(salt, value, secret=key, algorithm="sha256").hexdigest() for key in _keys()]


def identifiers_of(user: User) -> list[tuple[str, str]]:
    """What the university's systems know a staff member or student by; nothing for
    employers, whom neither the feed nor single sign-on makes."""
    if user.kind not in (User.Kind.STAFF, User.Kind.STUDENT):
        return []
    found = [(Kind.UNIVERSITY_ID, user.university_id or ""), (Kind.EMAIL, user.email)]
    return [(kind, value) for kind, value in found if _normal(kind, value)]


def erased_identifiers_remember(*, user: User, on: datetime.date) -> int:
    """Keep the hashes of `user`'s identifiers before erasure removes them; how many new."""
    rows = [
        ErasedIdentifier(kind=kind, digest=_digests(kind, value)[0], erased_on=on)
        for kind, value in identifiers_of(user)
    ]
    before = ErasedIdentifier.objects.count()
    ErasedIdentifier.objects.bulk_create(rows, ignore_conflicts=True)
    return ErasedIdentifier.objects.count() - before


def erased_on_many(people: Iterable[tuple[str, str]]) -> dict[tuple[str, str], datetime.date]:
    """For (university_id, email) pairs, the date each erased person was erased.

    A person is recognised by either identifier: a member of staff fed by email before
    they had a stable id is still the same person when their id arrives.
    """
    people = list(people)
    wanted: dict[str, list[tuple[str, str]]] = {}
    for university_id, email in people:
        for kind, value in ((Kind.UNIVERSITY_ID, university_id), (Kind.EMAIL, email)):
            for digest in _digests(kind, value):
                wanted.setdefault(digest, []).append((university_id, email))
    found: dict[tuple[str, str], datetime.date] = {}
    digests = sorted(wanted)
    for start in range(0, len(digests), BATCH):
        rows = ErasedIdentifier.objects.filter(digest__in=digests[start : start + BATCH])
        for digest, erased_on in rows.values_list("digest", "erased_on"):
            for person in wanted[digest]:
                found[person] = min(erased_on, found.get(person, erased_on))
    return found


def erased_on(*, university_id: str, email: str) -> datetime.date | None:
    """When the person with this identifier or email was erased, or None."""
    return erased_on_many([(university_id, email)]).get((university_id, email))


def erased_values_remember(*, kind: str, values: Iterable[str], on: datetime.date) -> int:
    """Keep the hashes of identifiers of one kind before erasure removes them; how many new.
    One already kept keeps its first date."""
    rows = [
        ErasedIdentifier(kind=kind, digest=digests[0], erased_on=on)
        for value in values
        if (digests := _digests(kind, value))
    ]
    before = ErasedIdentifier.objects.count()
    ErasedIdentifier.objects.bulk_create(rows, ignore_conflicts=True)
    return ErasedIdentifier.objects.count() - before


def erased_on_by_value(*, kind: str, values: Iterable[str]) -> dict[str, datetime.date]:
    """For identifiers of one kind, the date each erased one was erased, by the value as
    given; identifiers never erased are left out."""
    wanted: dict[str, list[str]] = {}
    for value in set(values):
        for digest in _digests(kind, value):
            wanted.setdefault(digest, []).append(value)
    found: dict[str, datetime.date] = {}
    digests = sorted(wanted)
    for start in range(0, len(digests), BATCH):
        rows = ErasedIdentifier.objects.filter(
            kind=kind, digest__in=digests[start : start + BATCH]
        ).values_list("digest", "erased_on")
        for digest, erased_on in rows:
            for value in wanted[digest]:
                found[value] = min(erased_on, found.get(value, erased_on))
    return found


def erased_identifiers_release(*, university_id: str = "", email: str = "") -> int:
    """Forget that these identifiers were erased (the person asked to come back); how many."""
    digests = [
        digest
        for kind, value in ((Kind.UNIVERSITY_ID, university_id), (Kind.EMAIL, email))
        for digest in _digests(kind, value)
    ]
    deleted, _ = ErasedIdentifier.objects.filter(digest__in=digests).delete()
    return deleted
