"""Erasure that removes exactly one person.

1. Review: every app says where the person can be named (`TextPlace`s: the notes and
   records of the organisations and events they are linked to, emails sent to them) and
   the audit trail of those records is added. Their full name, first name, surname,
   email and phone are looked for there as whole words: a first name or surname alone
   only with its capital ("Grace", "Bank"), never inside a longer name the database
   knows (an organisation, a unit, an event, another person). Each mention comes back
   with its context for an administrator to tick or untick, beside the plan for the
   person's own rows.
2. Erase: in one transaction, the review is made again and must be the one the
   administrator saw (its digest); the ticked mentions are replaced, the apps anonymise
   the person's own rows, and the report (what changed, never the erased values) is
   kept in the audit trail.

Nothing else is touched: names of organisations, units, events and other people are
never in a place's searched fields, and a mention inside one of them is never proposed.
"""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import (
    ERASED_CONTACT,
    ERASED_PERSON,
    Change,
    Subject,
    TextPlace,
    contacts_they_became,
    in_words,
    personal_data_handlers,
)

REPLACEMENTS = {"email": "[email erased]", "phone": "[phone erased]", "name": "[name erased]"}
# The person's own details as an audit entry about their record holds them: `{"name": …}`
# when it was made, `{"changed": {"email": [earlier, later]}}` when it changed. Each key
# with the kind of term it is ("" for details that are not looked for elsewhere).
RECORDED_DETAILS = {
    "full_name": "name",
    "name": "name",
    "email": "email",
    "phone": "phone",
    "job_title": "",
    "university_id": "",
    "student_number": "",
    "about": "",
}
ERASED_DETAIL = "[erased]"
WORD_BEFORE, WORD_AFTER = r"(?<!\w)", r"(?!\w)"
# A name part alone is a whole word only if no hyphen joins it to letters either side:
# "Grace" in "a Grace-period agreement" or "Lee" in "Smith-Lee" is not the person.
PART_BEFORE = WORD_BEFORE + r"(?<![^\W\d_]-)"
PART_AFTER = WORD_AFTER + r"(?!-[^\W\d_])"
SNIPPET_CHARACTERS = 70
AUDIT_PLACE = "Audit trail of the person and of these records"
WIDER_AUDIT_PLACE = "Elsewhere in the audit trail"
AUDIT_PLACES = (AUDIT_PLACE, WIDER_AUDIT_PLACE)
# Looked for only in records tied to the person ("first name in context").
NAME_PARTS = ("first name", "surname", "name")
# Big enough for any database's limit on query parameters, small enough to stay fast.
CHUNK = 500

KIND_PHRASES = {
    "organisation": "an organisation",
    "unit": "a part of the university",
    "programme": "a degree programme",
    "sector": "a sector",
    "event": "an event",
    "venue": "a venue",
    "topic": "an event topic",
    "vacancy": "a vacancy",
    "person": "another person in MyCareer",
}


class StaleReview(Exception):
    """The records changed after the administrator reviewed them: review again."""


@dataclass(frozen=True)
class Term:
    """Something that identifies the person, and how to find it as a whole word."""

    kind: str  # "full name", "first name", "surname", "name", "email", "phone"
    pattern: re.Pattern
    word: str = ""  # a name as written, to look up the longer names that contain it
    rank: int = 0  # the lower wins when two terms match overlapping text
    earlier: bool = False  # a value their record held before (perhaps a predecessor's)

    @property
    def replacement(self) -> str:
        return REPLACEMENTS.get(self.kind, REPLACEMENTS["name"])


def _words(parts: list[str]) -> str:
    return r"\s+".join(re.escape(part) for part in parts)


def _capitalised(word: str) -> re.Pattern:
    """A name part as a name: "Grace" and "GRACE", but not "grace" (a common word)."""
    spellings = {word[:1].upper() + word[1:], word.upper()}
    body = "|".join(re.escape(s) for s in sorted(spellings))
    return re.compile(f"{PART_BEFORE}(?:{body}){PART_AFTER}")


def _phone_pattern(phone: str) -> re.Pattern | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return None
    national = None
    if digits.startswith("44") and phone.strip().startswith("+"):
        national = "0" + digits[2:]
    elif digits.startswith("0"):
        national = digits
    gap = r"[\s\-.()]*"
    spellings = [gap.join(digits)]
    if national:
        spellings.append(gap.join(national))
        spellings.append(r"\+\s*44" + gap + r"(?:\(0\)" + gap + ")?" + gap.join(national[1:]))
    return re.compile(r"(?<![\d+])(?:" + "|".join(spellings) + r")(?!\d)")


@dataclass(frozen=True)
class Earlier:
    """Names, emails and phones the person's records held before, from their audit trail."""

    names: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()

    @property
    def words(self) -> set[str]:
        return {*self.names, *self.emails, *self.phones}

    def __str__(self) -> str:
        """The details in words, for the review page: "name Orla Pennington; email a@x.example"."""
        kinds = (("name", self.names), ("email", self.emails), ("phone", self.phones))
        return "; ".join(
            f"{kind}{'s' if len(found) > 1 else ''} {', '.join(sorted(found))}"
            for kind, found in kinds
            if found
        )


def _recorded_details(data: Any) -> Iterator[tuple[tuple, str, str]]:
    """(path, key, value) for each of the person's own details an audit entry records."""
    for path, text in _leaves(data):
        key = _recorded_key(path)
        if key and text.strip() and not _is_placeholder(text):
            yield path, key, text


def _recorded_key(path: tuple) -> str | None:
    """The detail a place in an entry's data holds ("email"), if it is one of the person's."""
    key = path[1] if len(path) > 1 and path[0] == "changed" else path[0] if path else None
    return key if key in RECORDED_DETAILS else None


def _is_placeholder(text: str) -> bool:
    return text in (ERASED_DETAIL, ERASED_PERSON, ERASED_CONTACT, *REPLACEMENTS.values())


def _own_entries(subject: Subject):
    own = Q(pk__in=[])
    for ct, ids, _ in _own_rows(subject):
        own |= Q(content_type=ct, object_id__in=ids)
    return AuditEntry.objects.filter(own)


def once_held(text: str, *, most: int = 500) -> dict[tuple[str, int], str]:
    """Logins and contact records whose audit trail holds a name or email containing
    `text` ("user" or "contact", id): that earlier detail. A person asking for their data
    may give the name or address they had then (a married name, an old employer's)."""
    from django.contrib.auth import get_user_model

    from mycareer.audit.personal_data import contact_model

    needle = " ".join(text.split()).casefold()
    kinds = {
        ContentType.objects.get_for_model(get_user_model()).pk: "user",
        ContentType.objects.get_for_model(contact_model()).pk: "contact",
    }
    # JSON may keep an accented letter escaped ("Zo\u00eb"): look for both spellings.
    escaped = json.dumps(text.strip())[1:-1]
    entries = (
        AuditEntry.objects.filter(content_type_id__in=kinds)
        .filter(Q(data__icontains=text.strip()) | Q(data__icontains=escaped))
        .order_by("-at")
        .values_list("content_type_id", "object_id", "data")[:most]
    )
    held: dict[tuple[str, int], str] = {}
    for content_type_id, object_id, data in entries:
        if not object_id.isdigit():
            continue
        for _, key, value in _recorded_details(data):
            if RECORDED_DETAILS[key] in ("name", "email") and needle in (
                " ".join(value.split()).casefold()
            ):
                held.setdefault((kinds[content_type_id], int(object_id)), value)
    # A contact a merge folded into another is gone: the one it became held it before.
    became = contacts_they_became(pk for kind, pk in held if kind == "contact")
    found: dict[tuple[str, int], str] = {}
    for (kind, pk), value in held.items():
        if kind == "contact":
            pk = became.get(pk, pk)
        found.setdefault((kind, pk), value)
    return found


def earlier_details(subject: Subject) -> Earlier:
    """What the person's records were called and reached at before, by their audit trail."""
    found: dict[str, set[str]] = {"name": set(), "email": set(), "phone": set()}
    for data in _own_entries(subject).exclude(data={}).values_list("data", flat=True):
        for _, key, text in _recorded_details(data):
            if kind := RECORDED_DETAILS[key]:
                found[kind].add(" ".join(text.split()))
    current_names = {name.casefold() for name in subject.names}
    current_phones = {re.sub(r"\D", "", getattr(p, "phone", "") or "") for p in subject.people}
    return Earlier(
        names=frozenset(n for n in found["name"] if n.casefold() not in current_names),
        emails=frozenset(
            e.lower()
            for e in found["email"]
            if e.lower() not in subject.emails and not e.lower().endswith("@erased.invalid")
        ),
        phones=frozenset(p for p in found["phone"] if re.sub(r"\D", "", p) not in current_phones),
    )


def terms_for(subject: Subject, earlier: Earlier | None = None) -> list[Term]:
    """The person's full names, first names, surnames, emails and phones as whole words;
    and the full names, emails and phones their records held before (`earlier`)."""
    terms: dict[tuple[str, str], Term] = {}

    def add(term: Term) -> None:
        terms.setdefault((term.kind, term.pattern.pattern), term)

    for name in subject.names:
        parts = name.split()
        whole = re.compile(WORD_BEFORE + _words(parts) + WORD_AFTER, re.I)
        if len(parts) == 1:
            # A one-word name is as ambiguous as a first name ("Engineering"): only as a
            # name, with its capital, and only in context.
            if len(parts[0]) >= 2:
                add(Term("name", _capitalised(parts[0]), name, 2))
            continue
        add(Term("full name", whole, name, 2))
        for kind, part, rank in (("surname", parts[-1], 3), ("first name", parts[0], 4)):
            if len(part) >= 2:
                add(Term(kind, _capitalised(part), part, rank))
    for email in sorted(subject.emails):
        pattern = re.compile(r"(?<![\w.+@-])" + re.escape(email) + r"(?![\w@-]|\.\w)", re.I)
        add(Term("email", pattern, "", 0))
    for person in subject.people:
        pattern = _phone_pattern(getattr(person, "phone", "") or "")
        if pattern is not None:
            add(Term("phone", pattern, "", 1))
    earlier = earlier or Earlier()
    for name in sorted(earlier.names):
        if len(parts := name.split()) > 1:
            add(
                Term(
                    "full name",
                    re.compile(WORD_BEFORE + _words(parts) + WORD_AFTER, re.I),
                    name,
                    2,
                    True,
                )
            )
    for email in sorted(earlier.emails):
        pattern = re.compile(r"(?<![\w.+@-])" + re.escape(email) + r"(?![\w@-]|\.\w)", re.I)
        add(Term("email", pattern, "", 0, True))
    for phone in sorted(earlier.phones):
        if (pattern := _phone_pattern(phone)) is not None:
            add(Term("phone", pattern, "", 1, True))
    return list(terms.values())


def typed_words_erased(subject: Subject) -> Callable[[str], str]:
    """What replaces the person in words someone typed to search by (a saved search, a
    bulk email's recipients): each full name, email and phone of theirs, now or before,
    by its marker ("[name erased]"). Not a record of theirs, so a first name or surname
    alone is left, as anywhere else not tied to them. Terms are read once, before the
    erasure changes the person's records.

    A name that is also another's (another contact, a unit, an organisation) is left, as
    the review leaves such a mention unticked: the words find that other one too, and a
    colleague's search for them, or a draft's recipients, would change under them."""
    terms = [t for t in terms_for(subject, earlier_details(subject)) if t.kind not in NAME_PARTS]
    protected = ProtectedNames(subject, terms)

    def erased(text: str) -> str:
        for start, end, term in reversed(_find(text, terms)):
            if protected.around(text, start, end, term):
                continue
            text = text[:start] + term.replacement + text[end:]
        return text

    return erased


class ProtectedNames:
    """Names the database knows that contain one of the person's names: never changed."""

    def __init__(self, subject: Subject, terms: Iterable[Term]):
        self._by_word: dict[str, tuple[re.Pattern, dict[str, tuple[str, str]], int]] = {}
        handlers = [h for h in personal_data_handlers().values() if h.protected]
        for term in terms:
            if not term.word or term.word.casefold() in self._by_word:
                continue
            contains = re.compile(WORD_BEFORE + _words(term.word.split()) + WORD_AFTER, re.I)
            names: dict[str, tuple[str, str]] = {}
            for handler in handlers:
                for kind, name in handler.protected(subject, term.word):
                    name = " ".join((name or "").split())
                    if name and contains.search(name):
                        names.setdefault(name.casefold(), (kind, name))
            if not names:
                continue
            longest_first = sorted(names.values(), key=lambda kn: len(kn[1]), reverse=True)
            body = "|".join(_words(name.split()) for _, name in longest_first)
            pattern = re.compile(f"(?={WORD_BEFORE}({body}){WORD_AFTER})", re.I)
            width = len(longest_first[0][1]) + 10
            self._by_word[term.word.casefold()] = (pattern, names, width)

    def around(self, text: str, start: int, end: int, term: Term) -> list[tuple]:
        """Known names in `text` that overlap [start, end): (start, end, kind, name)."""
        if not term.word or term.word.casefold() not in self._by_word:
            return []
        pattern, names, width = self._by_word[term.word.casefold()]
        offset = max(0, start - width)
        window = text[offset : end + width]
        found = []
        for m in pattern.finditer(window):
            s, e = offset + m.start(1), offset + m.end(1)
            if s < end and e > start:
                kind, name = names[" ".join(m.group(1).split()).casefold()]
                found.append((s, e, kind, name))
        return found


@dataclass(frozen=True)
class Match:
    """One mention of the person in free text, with its context, for the review."""

    id: str
    place: str
    model: str
    pk: Any
    field: str
    field_label: str
    path: tuple
    start: int
    end: int
    kind: str
    replacement: str
    record: str
    before: str
    found: str
    after: str
    ticked: bool = True
    caution: str = ""  # why it is not ticked, without names (kept in the report)
    caution_detail: str = ""  # the same with the name that overlaps (shown on the page)
    earlier: bool = False  # found by a name or address their record held before

    def report_line(self, *, removed: bool) -> dict:
        line = {"record": self.record, "field": self.field_label, "kind": self.kind}
        if not removed:
            line["reason"] = self.caution or "Unticked by the administrator"
        return line


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Each piece of text in a value: the value itself, or the strings inside JSON."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _fingerprint(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _find(text: str, terms: list[Term]) -> list[tuple[int, int, Term]]:
    """Non-overlapping whole-word matches; the most specific term wins an overlap."""
    candidates = [(m.start(), m.end(), t) for t in terms for m in t.pattern.finditer(text)]
    candidates.sort(key=lambda c: (c[2].rank, c[0] - c[1], c[0]))
    chosen: list[tuple[int, int, Term]] = []
    for start, end, term in candidates:
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, term))
    return sorted(chosen, key=lambda c: c[0])


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _snippet(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The words around a mention, for the administrator to judge it."""
    before = text[max(0, start - SNIPPET_CHARACTERS) : start]
    after = text[end : end + SNIPPET_CHARACTERS]
    if start > SNIPPET_CHARACTERS and " " in before:
        before = "…" + before.split(" ", 1)[1]
    if end + SNIPPET_CHARACTERS < len(text) and " " in after:
        after = after.rsplit(" ", 1)[0] + "…"
    return _flat(before), _flat(text[start:end]), _flat(after)


# Columns whose own names are the code's ("object repr"), as an administrator reads them.
FIELD_LABELS = {
    ("audit.AuditEntry", "object_repr"): "what it was about",
    ("audit.AuditEntry", "data"): "details",
    ("admin.LogEntry", "object_repr"): "what it was about",
}


def _field_label(model, name: str) -> str:
    return FIELD_LABELS.get(
        (model._meta.label, name), str(model._meta.get_field(name).verbose_name)
    )


@dataclass
class ErasureReview:
    """What erasing the person would change, for an administrator to check first."""

    subject: Subject
    changes: list[Change]
    matches: list[Match]
    searched: list[tuple[str, int]]
    fingerprints: dict[tuple[str, Any, str], str] = field(repr=False, default_factory=dict)
    earlier: Earlier = field(default_factory=Earlier)  # looked for too, and said so

    @cached_property
    def digest(self) -> str:
        """Changes whenever anything the administrator saw would change."""
        h = hashlib.sha256()
        for match_id in sorted(m.id for m in self.matches):
            h.update(match_id.encode())
        for change in self.changes:
            h.update(json.dumps(change.as_dict(), sort_keys=True).encode())
        return h.hexdigest()[:32]

    @property
    def removals(self) -> list[Change]:
        return [c for c in self.changes if not c.kept]

    @property
    def kept(self) -> list[Change]:
        return [c for c in self.changes if c.kept]

    def default_selection(self) -> set[str]:
        return {m.id for m in self.matches if m.ticked}

    def total(self, selected: Iterable[str]) -> int:
        """How many changes erasure makes with these mentions ticked."""
        ids = {m.id for m in self.matches}
        return sum(c.count for c in self.removals) + len(ids & set(selected))

    @property
    def groups(self) -> list[tuple[str, list[Match]]]:
        grouped: dict[str, list[Match]] = {}
        for match in self.matches:
            grouped.setdefault(match.place, []).append(match)
        return list(grouped.items())


def _own_rows(subject: Subject) -> list[tuple[ContentType, list[str], str]]:
    from django.contrib.auth import get_user_model

    from mycareer.audit.personal_data import contact_model

    rows = []
    if subject.users:
        ct = ContentType.objects.get_for_model(get_user_model())
        rows.append((ct, [str(pk) for pk in subject.user_ids], ERASED_PERSON))
    if subject.contacts:
        ct = ContentType.objects.get_for_model(contact_model())
        rows.append((ct, [str(pk) for pk in subject.own_contact_ids], ERASED_CONTACT))
    return rows


def _describe_audit_entry(entry: AuditEntry) -> str:
    return f"Audit trail: {entry.label}, {in_words(entry.at)}"


def _audit_places(
    subject: Subject, searched_rows: dict[str, set], earlier: Earlier
) -> Iterator[TextPlace]:
    """The audit trail: of the person, of every record searched, and wherever it names them.

    Entries about the person and the records searched are their context (first names
    count there); elsewhere in the trail only their full name, email and phone are looked
    for, in entries whose text contains one of them.
    """
    entries = AuditEntry.objects.select_related("content_type")
    own = Q(pk__in=_own_entries(subject).values("pk"))
    # Entries about their own rows: the name they were recorded under, and the names,
    # addresses and other details the entries record, are anonymised as structured
    # fields (`_anonymise_audit_trail`), so only the rest of the details is searched.
    yield TextPlace(
        AUDIT_PLACE, entries.filter(own), ("data",), _describe_audit_entry, own_records=True
    )
    about_them = Q(person_id__in=subject.user_ids) | Q(actor_id__in=subject.user_ids)
    yield TextPlace(
        AUDIT_PLACE,
        entries.filter(about_them).exclude(own),
        ("object_repr", "data"),
        _describe_audit_entry,
    )
    for label, pks in searched_rows.items():
        ct = ContentType.objects.get_for_model(apps.get_model(label))
        ids = sorted(str(pk) for pk in pks)
        for i in range(0, len(ids), CHUNK):
            condition = Q(content_type=ct, object_id__in=ids[i : i + CHUNK])
            yield TextPlace(
                AUDIT_PLACE,
                entries.filter(condition),
                ("object_repr", "data"),
                _describe_audit_entry,
            )
    words = {*subject.names, *subject.emails, *earlier.words}
    words |= {p.phone.strip() for p in subject.people if len(getattr(p, "phone", "") or "") >= 7}
    naming = Q(pk__in=[])
    details = Cast("data", output_field=TextField())
    for word in words:
        # JSON text may hold non-ASCII letters escaped ("Zo\u00eb"): look for both.
        for spelling in {word, json.dumps(word)[1:-1]}:
            naming |= Q(object_repr__icontains=spelling) | Q(details__icontains=spelling)
    yield TextPlace(
        WIDER_AUDIT_PLACE,
        entries.alias(details=details).filter(naming).exclude(own),
        ("object_repr", "data"),
        _describe_audit_entry,
        in_context=False,
    )


class _Scanner:
    def __init__(self, subject: Subject):
        self.subject = subject
        self.earlier = earlier_details(subject)
        self.terms = terms_for(subject, self.earlier)
        self.wide_terms = [t for t in self.terms if t.kind not in NAME_PARTS]
        self.protected = ProtectedNames(subject, self.terms)
        self.matches: list[Match] = []
        self.searched: dict[str, int] = {}
        self.fingerprints: dict[tuple[str, Any, str], str] = {}
        self.rows_by_model: dict[str, set] = defaultdict(set)

    def scan(self, place: TextPlace) -> None:
        model = place.rows.model
        label = model._meta.label
        hits: dict[Any, list] = defaultdict(list)
        terms = self.terms if place.in_context else self.wide_terms
        rows = place.rows.order_by().values_list("pk", *place.fields)
        for pk, *values in rows.iterator(chunk_size=2000):
            # A place without text fields still brings its rows' audit trail in.
            fresh = not place.fields
            for name, value in zip(place.fields, values, strict=True):
                key = (label, pk, name)
                if key in self.fingerprints:
                    continue
                fresh = True
                self.fingerprints[key] = _fingerprint(value)
                if not terms:
                    continue
                for path, text in _leaves(value):
                    if place.own_records and _recorded_key(path):
                        continue  # replaced whole (`_anonymise_audit_trail`)
                    for start, end, term in _find(text, terms):
                        hits[pk].append((name, path, text, start, end, term))
            if fresh:
                self.searched[place.label] = self.searched.get(place.label, 0) + 1
                self.rows_by_model[label].add(pk)
        if not hits:
            return
        objects = {}
        pks = list(hits)
        for i in range(0, len(pks), CHUNK):
            objects.update({o.pk: o for o in place.rows.filter(pk__in=pks[i : i + CHUNK])})
        for pk, found in hits.items():
            record = place.describe(objects[pk])
            for name, path, text, start, end, term in found:
                match = self._match(place, model, pk, record, name, path, text, start, end, term)
                if match is not None:
                    self.matches.append(match)

    def _match(self, place, model, pk, record, name, path, text, start, end, term) -> Match | None:
        label = model._meta.label
        fingerprint = self.fingerprints[(label, pk, name)]
        raw = f"{label}|{pk}|{name}|{json.dumps(path)}|{start}|{end}|{term.kind}|{fingerprint}"
        caution = detail = ""
        for s, e, kind, other in self.protected.around(text, start, end, term):
            if s <= start and end <= e and (s, e) != (start, end):
                return None  # part of a longer name: never proposed
            phrase = KIND_PHRASES.get(kind, "something else")
            caution = f"It is also the name of {phrase}"
            detail = f"“{other}” is also the name of {phrase}"
        before, found, after = _snippet(text, start, end)
        return Match(
            id=hashlib.sha256(raw.encode()).hexdigest()[:20],
            place=place.label,
            model=label,
            pk=pk,
            field=name,
            field_label=_field_label(model, name),
            path=path,
            start=start,
            end=end,
            kind=term.kind,
            replacement=term.replacement,
            record=record,
            before=before,
            found=found,
            after=after,
            ticked=not caution,
            caution=caution,
            caution_detail=detail,
            earlier=term.earlier,
        )


def _places(subject: Subject) -> Iterator[TextPlace]:
    for handler in personal_data_handlers().values():
        if handler.places:
            yield from handler.places(subject)


def _plan(subject: Subject, *, apply: bool, by=None) -> list[Change]:
    changes = []
    for handler in personal_data_handlers().values():
        if handler.anonymise:
            changes.extend(handler.anonymise(subject, apply=apply, by=by))
    changes.extend(_anonymise_audit_trail(subject, apply=apply))
    return changes


def _anonymise_audit_trail(subject: Subject, *, apply: bool) -> list[Change]:
    """Entries about the person's own records keep their action, not the person's name,
    nor the names, addresses and other details the records held then or before."""
    changes = []
    recorded = 0
    for entry in _own_entries(subject).exclude(data={}).only("pk", "data"):
        data = entry.data
        for path, key, _ in _recorded_details(entry.data):
            kind = RECORDED_DETAILS[key]
            data = _replace_at(data, path, REPLACEMENTS[kind] if kind else ERASED_DETAIL)
        if data != entry.data:
            recorded += 1
            if apply:
                AuditEntry.objects.filter(pk=entry.pk).update(data=data)
    if recorded:
        changes.append(
            Change(
                "Details recorded in audit entries about their records",
                "their names, email addresses, phones and other details, then and before, "
                "replaced by “[erased]”",
                recorded,
            )
        )
    for ct, ids, placeholder in _own_rows(subject):
        rows = AuditEntry.objects.filter(content_type=ct, object_id__in=ids).exclude(
            object_repr=placeholder
        )
        count = rows.update(object_repr=placeholder) if apply else rows.count()
        if count:
            changes.append(
                Change(
                    "Audit trail entries about their records",
                    f"the name they were recorded under replaced by “{placeholder}”",
                    count,
                )
            )
    return changes


def _scan(subject: Subject) -> "_Scanner":
    scanner = _Scanner(subject)
    for place in _places(subject):
        scanner.scan(place)
    for place in _audit_places(subject, dict(scanner.rows_by_model), scanner.earlier):
        scanner.scan(place)
    return scanner


def find_mentions(subject: Subject) -> list[Match]:
    """Every mention of the person where they can appear, ticked or not; changes nothing."""
    return _scan(subject).matches


def review_erasure(subject: Subject) -> ErasureReview:
    """Every change erasing `subject` would make; changes nothing."""
    scanner = _scan(subject)
    return ErasureReview(
        subject=subject,
        changes=_plan(subject, apply=False),
        matches=scanner.matches,
        searched=list(scanner.searched.items()),
        fingerprints=scanner.fingerprints,
        earlier=scanner.earlier,
    )


def _replace_at(value: Any, path: tuple, text: str) -> Any:
    """`value` with the text at `path` (inside JSON) replaced by `text`."""
    if not path:
        return text
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace_at(value[head], rest, text)
    return copy


def _replace_in(value: Any, path: tuple, spans: list[Match]) -> Any:
    if path:
        head, rest = path[0], path[1:]
        copy = dict(value) if isinstance(value, dict) else list(value)
        copy[head] = _replace_in(value[head], rest, spans)
        return copy
    for match in sorted(spans, key=lambda m: m.start, reverse=True):
        value = value[: match.start] + match.replacement + value[match.end :]
    return value


def _remove_mentions(review: ErasureReview, chosen: list[Match]) -> None:
    by_field: dict[tuple[str, Any, str], list[Match]] = defaultdict(list)
    for match in chosen:
        by_field[(match.model, match.pk, match.field)].append(match)
    for (label, pk, name), found in by_field.items():
        model = apps.get_model(label)
        rows = model._base_manager.filter(pk=pk)
        value = rows.select_for_update().values_list(name, flat=True).first()
        if _fingerprint(value) != review.fingerprints[(label, pk, name)]:
            raise StaleReview(f"{label} {pk} changed after the review")
        by_path: dict[tuple, list[Match]] = defaultdict(list)
        for match in found:
            by_path[match.path].append(match)
        for path, spans in by_path.items():
            value = _replace_in(value, path, spans)
        rows.update(**{name: value})


def erase(
    subject: Subject, *, by, selected: Iterable[str] | None = None, digest: str | None = None
) -> tuple[dict, list[AuditEntry]]:
    """Erase the person: the ticked mentions, then their own rows; returns the report.

    `selected` are the ids of the mentions to remove (None: those ticked by default) and
    `digest` the review the administrator saw; if anything changed since, nothing is
    done and `StaleReview` is raised. The report lists what changed, never the values.
    """
    from mycareer.audit.services import log
    from mycareer.operations.jobs import wipe_removed_soon

    with transaction.atomic():
        review = review_erasure(subject)
        if digest is not None and digest != review.digest:
            raise StaleReview("The records changed after the review.")
        chosen_ids = review.default_selection() if selected is None else set(selected)
        by_id = {m.id: m for m in review.matches}
        if chosen_ids - by_id.keys():
            raise StaleReview("A ticked mention is no longer there.")
        chosen = [m for m in review.matches if m.id in chosen_ids]
        _remove_mentions(review, chosen)
        records = subject.records()
        changes = _plan(subject, apply=True, by=by)
        report = {
            "records": records,
            "changes": [c.as_dict() for c in changes if not c.kept],
            "kept": [c.as_dict() for c in changes if c.kept],
            "removed": [m.report_line(removed=True) for m in chosen],
            "left": [
                m.report_line(removed=False) for m in review.matches if m.id not in chosen_ids
            ],
            "searched": [{"place": p, "records": n} for p, n in review.searched],
            "total": sum(c.count for c in changes if not c.kept) + len(chosen),
        }
        entries = []
        for person in subject.people:
            person.refresh_from_db()
            entries.append(log(person, "audit.personal_data.erased", by=by, data=report))
        wipe_removed_soon()
    return report, entries
