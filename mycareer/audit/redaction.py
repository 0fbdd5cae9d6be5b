"""Other people in the letter's quoted texts (UK GDPR Article 15(4)).

A note that names the person may name others too: the person's copy of it must not give
them what it says about anyone else. In each quoted text, the full names, email
addresses and phone numbers of the other people MyCareer knows (logins and contact
records) are replaced by `OTHER_PERSON`; the person's own names, addresses and phones,
now and before, are kept.

Who is named is found from the texts, not by reading everyone: the texts' runs of two to
five words and their email addresses and phone numbers are looked up in one query for
each kind of record (more only for very long texts, in chunks the database accepts).
Names are then matched as whole words and in any case ("Ann Lee" is not in "Annual"),
the longest name winning an overlap, and the person's own name winning a tie (a
namesake's name is theirs too). A one-word name, or a first name alone, is as
ambiguous as any word and is left: the staff who send the letter read it first.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Lower, Replace

from mycareer.audit.erasure import WORD_AFTER, WORD_BEFORE, Earlier, _phone_pattern, _words
from mycareer.audit.personal_data import ERASED_CONTACT, ERASED_PERSON, Subject, contact_model

OTHER_PERSON = "[another person]"
KIND_NAMES = {"name": "name", "email": "email address", "phone": "phone number"}
# A name of up to five words ("Jean-Luc van der Berg" is five runs of letters).
MOST_WORDS = 5
# Names never run across these: a run of words that crosses one is not looked up. A line
# break alone is not one ("Bob\nMarchetti" wrapped in a pasted email is Bob Marchetti,
# as the patterns that replace him read it); a blank line between paragraphs is.
_BREAKS = re.compile(r"[,;:()\[\]{}!?\"“”<>|]|\s[-–—]\s|\n[ \t\r]*\n")
_WORD = re.compile(r"[^\W_]+")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\d+])\+?\d[\d\s\-.()/]{5,}\d(?!\d)")
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x)\s*\d{1,6}\s*$", re.IGNORECASE)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "/", "+")


def _folded(text: str) -> set[str]:
    """`text` as the database lowers it: fully on PostgreSQL, ASCII only on SQLite."""
    collapsed = " ".join(text.split())
    return {collapsed.lower(), collapsed.translate(_ASCII_LOWER)}


def _runs_of_words(text: str) -> Iterator[str]:
    """Each run of two to five words in `text` as written, punctuation inside kept."""
    for piece in _BREAKS.split(text):
        words = list(_WORD.finditer(piece))
        for i, first in enumerate(words):
            for last in words[i + 1 : i + MOST_WORDS]:
                yield piece[first.start() : last.end()]
                if piece[last.end() : last.end() + 1] == ".":
                    yield piece[first.start() : last.end() + 1]  # "Tom Hale Jr."


def _phone_digits(text: str) -> set[str]:
    """The phone numbers in `text` as digits, in their national and +44 spellings."""
    found: set[str] = set()
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if not 7 <= len(digits) <= 15:
            continue
        found.add(digits)
        national = ""
        if digits.startswith("440"):  # +44 (0)113…
            national = digits[2:]
        elif digits.startswith("44"):
            national = "0" + digits[2:]
        elif digits.startswith("0"):
            national = digits
        if national:
            found |= {national, "44" + national[1:], "440" + national[1:]}
    return found


@dataclass(frozen=True)
class _Looked:
    """What the texts could name someone by: runs of words, addresses, phone digits."""

    names: frozenset[str]
    emails: frozenset[str]
    phones: frozenset[str]

    @classmethod
    def in_texts(cls, texts: Iterable[str]) -> "_Looked":
        names: set[str] = set()
        emails: set[str] = set()
        phones: set[str] = set()
        for text in texts:
            for run in _runs_of_words(text):
                names |= _folded(run)
            for email in _EMAIL.findall(text):
                emails |= _folded(email.strip(".'"))
            phones |= _phone_digits(text)
        return cls(frozenset(names), frozenset(emails), frozenset(phones))


def _batches(looked: _Looked, most: int) -> Iterator[Q]:
    """Conditions on `_name`, `_email` and `_digits`, each with at most `most` values."""
    parts: list[tuple[str, str]] = [("_name__in", name) for name in sorted(looked.names)]
    parts += [("_email__in", email) for email in sorted(looked.emails)]
    parts += [("_digits__startswith", digits) for digits in sorted(looked.phones)]
    for i in range(0, len(parts), most):
        values: dict[str, list[str]] = {}
        for lookup, value in parts[i : i + most]:
            values.setdefault(lookup, []).append(value)
        condition = Q(pk__in=[])
        for lookup, chosen in values.items():
            if lookup.endswith("__in"):
                condition |= Q(**{lookup: chosen})
            else:
                for value in chosen:
                    condition |= Q(**{lookup: value})
        yield condition


@dataclass(frozen=True)
class Other:
    """Another person MyCareer knows whom the texts may name."""

    name: str
    email: str
    phone: str


def others_named(subject: Subject, texts: Iterable[str]) -> list[Other]:
    """The logins and contact records, not the person's, whose full name, email address or
    phone number appears in `texts`: one query for each kind of record (or one for each
    chunk of a very long text), however many people the database holds."""
    looked = _Looked.in_texts(texts)
    if not (looked.names or looked.emails or looked.phones):
        return []
    # Room for the other parameters of the query (the person's own ids, the separators).
    most = max(100, (connection.features.max_query_params or 10000) - 100)
    digits: Any = F("phone")
    for separator in _PHONE_SEPARATORS:
        digits = Replace(digits, Value(separator), Value(""))
    found: dict[tuple[str, str, str], Other] = {}
    records = (
        get_user_model().objects.exclude(pk__in=subject.user_ids),
        contact_model()
        .objects.exclude(pk__in=subject.contact_ids)
        .exclude(user_id__in=subject.user_ids),
    )
    for rows in records:
        rows = rows.alias(_name=Lower("full_name"), _email=Lower("email"), _digits=digits)
        for condition in _batches(looked, most):
            for name, email, phone in (
                rows.filter(condition).order_by().values_list("full_name", "email", "phone")
            ):
                found.setdefault((name, email, phone), Other(name, email or "", phone or ""))
    return list(found.values())


@dataclass(frozen=True)
class _Term:
    pattern: re.Pattern
    kind: str
    own: bool  # the person's: kept, and wins a tie


def _email_pattern(email: str) -> re.Pattern:
    return re.compile(r"(?<![\w.+@-])" + re.escape(email) + r"(?![\w@-]|\.\w)", re.I)


def _name_pattern(name: str) -> re.Pattern:
    return re.compile(WORD_BEFORE + _words(name.split()) + WORD_AFTER, re.I)


def _without_extension(phone: str) -> str:
    return _EXTENSION.sub("", phone).strip()


@dataclass
class Redactor:
    """Replaces other people's names, addresses and phones in a text, keeping the person's."""

    terms: list[_Term]

    @classmethod
    def for_texts(
        cls, subject: Subject, texts: list[str], earlier: Earlier | None = None
    ) -> "Redactor":
        """A redactor for `texts`: the person's details, and those of the others they name."""
        earlier = earlier or Earlier()
        names = {" ".join(n.split()) for n in (*subject.names, *earlier.names)}
        emails = {e.strip().lower() for e in (*subject.emails, *earlier.emails)}
        phones = {getattr(p, "phone", "") or "" for p in subject.people} | set(earlier.phones)
        phones = {_without_extension(p) for p in phones} - {""}
        own_names = {n.casefold() for n in names}
        own_digits = {re.sub(r"\D", "", p) for p in phones}
        terms: dict[str, _Term] = {}

        def add(pattern: re.Pattern | None, kind: str, own: bool) -> None:
            if pattern is not None:
                # The person's own detail is kept when another has the very same one.
                terms.setdefault(pattern.pattern, _Term(pattern, kind, own))

        for name in sorted(names):
            add(_name_pattern(name), "name", True)
        for email in sorted(emails):
            add(_email_pattern(email), "email", True)
        for phone in sorted(phones):
            add(_phone_pattern(phone), "phone", True)
        for other in others_named(subject, texts):
            name = " ".join(other.name.split())
            if (
                len(name.split()) > 1
                and name not in (ERASED_PERSON, ERASED_CONTACT)
                and name.casefold() not in own_names
            ):
                add(_name_pattern(name), "name", False)
            email = other.email.strip().lower()
            if email and email not in emails and not email.endswith("@erased.invalid"):
                add(_email_pattern(email), "email", False)
            phone = _without_extension(other.phone)
            if phone and re.sub(r"\D", "", phone) not in own_digits:
                add(_phone_pattern(phone), "phone", False)
        return cls(list(terms.values()))

    def redact(self, text: str) -> tuple[str, list[str]]:
        """`text` with other people's details replaced, and the kind of each replaced."""
        if not text or not any(not t.own for t in self.terms):
            return text, []
        spans = [
            (m.start(), m.end(), term)
            for term in self.terms
            for m in term.pattern.finditer(text)
            if m.end() > m.start()
        ]
        # The longest wins an overlap ("Ann Lee Jones" over "Ann Lee"); the person's own
        # detail wins a tie (their namesake's name is their name too).
        spans.sort(key=lambda s: (s[0] - s[1], not s[2].own, s[0]))
        chosen: list[tuple[int, int, _Term]] = []
        for start, end, term in spans:
            if all(end <= s or start >= e for s, e, _ in chosen):
                chosen.append((start, end, term))
        replaced = sorted((s for s in chosen if not s[2].own), key=lambda s: s[0], reverse=True)
        for start, end, _ in replaced:
            text = text[:start] + OTHER_PERSON + text[end:]
        return text, [KIND_NAMES[term.kind] for _, _, term in reversed(replaced)]
