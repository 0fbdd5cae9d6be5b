"""The subject access letter: what MyCareer holds about a person, as the ICO expects it.

Who we are, what we hold (profile, bookings and attendance, messages, notes that mention
them, consent and opt-outs…), why and on what lawful basis, where it came from, who it is
shared with, how long it is kept (the retention schedule) and the person's rights. Each
app says what it holds through its `PersonalDataHandler.letter`; the records that
mention the person are the ones erasure would find. Dates are in words and there are no
internal ids or secrets: entries list chosen fields, never whole rows.

The same document is given as JSON for machines (dates in ISO 8601).

What it quotes is redacted (UK GDPR Article 15(4): a copy must not adversely affect the
rights and freedoms of others). A note that names the person may name others too, and
the person's copy must not give them what it says about anyone else: in every quoted
text (`LetterEntry.text`, the letter and the JSON alike) the full names, email addresses
and phone numbers of the other people MyCareer knows, its logins and contact records,
are replaced by "[another person]", while the person's own, now and before, are kept
(`redaction.py` says how they are found and matched). The letter says that it was done;
which entries were changed (`Letter.redactions`) is for the staff who send it, on the
page around the letter, never in the letter or its JSON.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from mycareer.audit.erasure import AUDIT_PLACES, Earlier, earlier_details, find_mentions
from mycareer.audit.models import AuditEntry
from mycareer.audit.personal_data import (
    LETTER_CATEGORIES,
    LetterEntry,
    Subject,
    contact_model,
    in_words,
    personal_data_handlers,
)
from mycareer.audit.redaction import KIND_NAMES, OTHER_PERSON, Redactor
from mycareer.audit.retention import retention_rules

LAWFUL_BASES = {
    "contact": (
        "As a contact at an employer",
        "To keep the university's shared record of its work with employers (who we spoke "
        "to, when and about what), to invite you to events, to tell you about chances to "
        "work with students, and to send attendance figures to organisations taking part.",
        "Legitimate interests (UK GDPR Article 6(1)(f)): working with employers is how the "
        "university's careers service helps its students. Email about events and "
        "opportunities stops for each kind you opt out of.",
    ),
    "employer": (
        "As an employer using MyCareer",
        "To let you keep your organisation's profile, people and vacancies, and to check "
        "new registrations before an organisation is shown to students.",
        "Legitimate interests (UK GDPR Article 6(1)(f)); the checks protect students and "
        "the university from impersonation and fraud.",
    ),
    "student": (
        "As a student",
        "To provide careers services: events for your programme, bookings, waiting lists, "
        "attendance, and vacancies.",
        "Public task (UK GDPR Article 6(1)(e)): supporting students' careers is part of "
        "the university's function as a place of education.",
    ),
    "staff": (
        "As a member of staff",
        "To give you access to MyCareer after training, and to record what you do in it so "
        "that personal data is handled accountably.",
        "Contract (UK GDPR Article 6(1)(b)), your employment; legitimate interests (Article "
        "6(1)(f)) for the audit trail.",
    ),
}

SHARING = {
    "all": (
        "University staff who use MyCareer, after the Careers Centre's data protection "
        "training, and only as far as their access allows."
    ),
    "contact": (
        "Students see your email address and phone only if you allowed it (see your "
        "choices above). We do not pass your contact details to anyone outside the "
        "university without your permission."
    ),
    "student": (
        "Organisations taking part in events you book may receive attendance figures: "
        "numbers by faculty, programme and year, never your name."
    ),
    "staff": (
        "Your name is shown to colleagues, and to employers and students on events you "
        "organise and on relationships you look after."
    ),
    "processors": (
        "The university's email service delivers the emails MyCareer sends. No one else "
        "receives your data, and none of it leaves the United Kingdom through MyCareer."
    ),
}

RIGHTS = [
    ("Access", "You may have a copy of your personal data: this letter is that copy."),
    ("Rectification", "You may have anything inaccurate or incomplete corrected."),
    (
        "Erasure",
        "You may ask us to erase your data. We erase it unless we must keep some of it "
        "(for example figures the university reports), and we tell you what we kept.",
    ),
    ("Restriction", "You may ask us to stop using your data while a concern is resolved."),
    (
        "Objection",
        "You may object to our use of your data for legitimate interests or a public task, "
        "and you may stop any kind of email from us at any time.",
    ),
    (
        "Portability",
        "You may have the data you gave us in a machine-readable form: ask for this letter "
        "as JSON.",
    ),
    (
        "Automated decisions",
        "We make no decision about you by automated means alone: checks on employer "
        "registrations are shown to a member of staff, who decides.",
    ),
    (
        "Complaint",
        "If you are unhappy with how we handle your data, please tell our data protection "
        "officer. You may also complain to the Information Commissioner's Office "
        "(ico.org.uk/make-a-complaint, 0303 123 1113).",
    ),
]


PLURALS = {
    KIND_NAMES["name"]: "names",
    KIND_NAMES["email"]: "email addresses",
    KIND_NAMES["phone"]: "phone numbers",
}
OTHERS_WITHHELD = (
    "Where a record we quote names other people, their names, email addresses and phone "
    f"numbers are replaced by “{OTHER_PERSON}”: the law protects their personal data as it "
    "protects yours (UK GDPR Article 15(4))."
)


@dataclass(frozen=True)
class Redaction:
    """A quoted text of the letter in which other people's details were replaced: for the
    staff who check the letter before sending it, never part of the letter."""

    section: str
    title: str
    anchor: str  # the entry's id on the letter's page
    kinds: tuple[str, ...]  # what each replaced passage was: "name", "email address"…

    @property
    def count(self) -> int:
        return len(self.kinds)

    @property
    def described(self) -> str:
        """What was replaced, in words: "2 names and 1 email address"."""
        counts = {kind: self.kinds.count(kind) for kind in dict.fromkeys(self.kinds)}
        parts = [f"{n} {kind if n == 1 else PLURALS[kind]}" for kind, n in counts.items()]
        return " and ".join(parts) if len(parts) < 3 else f"{', '.join(parts[:-1])} and {parts[-1]}"


@dataclass
class LetterSection:
    key: str
    heading: str
    entries: list[LetterEntry] = field(default_factory=list)


@dataclass
class Letter:
    """A subject access response for one person; `as_json()` is its machine form."""

    names: list[str]
    written_on: datetime.date
    controller: dict[str, str]
    held: list[LetterSection]
    purposes: list[tuple[str, str, str]]
    origins: list[tuple[str, str]]
    sharing: list[str]
    retention: list[tuple[str, str]]
    rights: list[tuple[str, str]]
    # Staff only: never in the letter nor in `as_json()`.
    redactions: list[Redaction] = field(default_factory=list)

    @property
    def entry_count(self) -> int:
        return sum(len(section.entries) for section in self.held)

    @property
    def redacted_passages(self) -> int:
        """How many names, addresses and phones of other people were replaced."""
        return sum(redaction.count for redaction in self.redactions)

    @property
    def others_withheld(self) -> str:
        """What the letter tells the person about the redaction, when there was one."""
        return OTHERS_WITHHELD if self.redactions else ""

    def as_json(self) -> dict:
        return {
            "document": "Response to a subject access request",
            "written_on": self.written_on.isoformat(),
            "about": self.names,
            "controller": self.controller,
            "held": [
                {
                    "section": section.heading,
                    "entries": [_entry_json(entry) for entry in section.entries],
                }
                for section in self.held
            ],
            **({"other_people": self.others_withheld} if self.others_withheld else {}),
            "purposes_and_lawful_basis": [
                {"as": who, "purpose": purpose, "lawful_basis": basis}
                for who, purpose, basis in self.purposes
            ],
            "where_it_came_from": [
                {"record": record, "source": source} for record, source in self.origins
            ],
            "shared_with": self.sharing,
            "how_long_we_keep_it": [
                {"records": records, "kept_for": kept} for records, kept in self.retention
            ],
            "your_rights": [{"right": right, "what": what} for right, what in self.rights],
        }


def _machine(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def shown(value: Any) -> str:
    """A fact's value as the letter prints it: dates in words, Yes and No."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value)
        return f"{in_words(local)} at {local:%H:%M}"
    if isinstance(value, datetime.date):
        return in_words(value)
    return str(value)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _entry_json(entry: LetterEntry) -> dict:
    data: dict[str, Any] = {"title": entry.title}
    if entry.when:
        data["date"] = _machine(entry.when)
    data["facts"] = [
        {"label": label, "value": _machine(value)}
        for label, value in entry.facts
        if not _empty(value)
    ]
    if entry.text:
        data["text"] = entry.text
    if entry.origin:
        data["source"] = entry.origin
    return data


def kinds_of(subject: Subject) -> list[str]:
    """What the person is to the university: a contact, an employer, a student, staff."""
    kinds = []
    if subject.contacts:
        kinds.append("contact")
    for kind in ("employer", "student", "staff"):
        if any(user.kind == kind for user in subject.users) and kind not in kinds:
            kinds.append(kind)
    return kinds


def _mentions(subject: Subject, listed: set[str]) -> Iterable[LetterEntry]:
    """Records that name the person, where erasure would look (not the audit trail), but
    not those an app listed already (`listed`: their keys)."""
    by_record: dict[tuple[str, Any], list] = {}
    for match in find_mentions(subject):
        if match.ticked and match.place not in AUDIT_PLACES:
            by_record.setdefault((match.model, match.pk), []).append(match)
    for (label, pk), matches in by_record.items():
        if f"{label}:{pk}" in listed:
            continue
        model = apps.get_model(label)
        texts = []
        for name in dict.fromkeys(m.field for m in matches):
            value = model._base_manager.filter(pk=pk).values_list(name, flat=True).first()
            if isinstance(value, str):
                texts.append(value)
            else:
                texts.extend(f"…{m.before}{m.found}{m.after}…" for m in matches if m.field == name)
        yield LetterEntry(
            "notes",
            matches[0].record,
            [("Found in", _to_you(matches[0].place))],
            text="\n\n".join(texts),
            key=f"{label}:{pk}",
        )


# Where erasure looks is named for the administrator ("Notes they recorded"); the letter
# speaks to the person.
_THIRD_PERSON = {"they": "you", "them": "you", "their": "your"}


def _to_you(place: str) -> str:
    return re.sub(r"\b(they|them|their)\b", lambda m: _THIRD_PERSON[m.group(1)], place)


def _earlier(earlier: Earlier) -> Iterable[LetterEntry]:
    """The names, addresses and phones their records held before, kept in the audit trail."""
    facts = [
        (label, ", ".join(sorted(values)))
        for label, values in (
            ("Names", earlier.names),
            ("Email addresses", earlier.emails),
            ("Phone numbers", earlier.phones),
        )
    ]
    if any(values for _, values in facts):
        yield LetterEntry(
            "profile",
            "Names and contact details your records held before (in their history)",
            facts,
        )


def _audit_entries(subject: Subject) -> Iterable[LetterEntry]:
    condition = Q(person_id__in=subject.user_ids)
    # Contacts merged into theirs are gone, but their history is the person's.
    records = ((get_user_model(), subject.user_ids), (contact_model(), subject.own_contact_ids))
    for model, ids in records:
        if ids:
            ct = ContentType.objects.get_for_model(model)
            condition |= Q(content_type=ct, object_id__in=[str(i) for i in ids])
    entries = AuditEntry.objects.filter(condition).select_related("actor").order_by("at", "pk")
    for entry in entries:
        yield LetterEntry(
            "audit",
            entry.label,
            [("When", entry.at), ("By", str(entry.actor) if entry.actor else "MyCareer itself")],
            when=entry.at,
        )


def controller() -> dict[str, str]:
    data_protection = settings.MYCAREER["DATA_PROTECTION"]
    return {
        "name": data_protection["CONTROLLER"],
        "address": data_protection["ADDRESS"],
        "data_protection_officer": data_protection["DPO_EMAIL"],
        "ico_registration": data_protection["ICO_REGISTRATION"],
    }


def _redact(
    subject: Subject, sections: Iterable[LetterSection], earlier: Earlier
) -> list[Redaction]:
    """Other people's details replaced in each quoted text; what was replaced, and where."""
    sections = list(sections)
    texts = [text for section in sections for entry in section.entries for text in _quoted(entry)]
    if not texts:
        return []
    redactor = Redactor.for_texts(subject, texts, earlier)
    redactions = []
    for section in sections:
        for number, entry in enumerate(section.entries, 1):
            entry.text, kinds = redactor.redact(entry.text)
            facts = []
            for label, value in entry.facts:
                if label in entry.quoted and isinstance(value, str):
                    value, found = redactor.redact(value)
                    kinds.extend(found)
                facts.append((label, value))
            entry.facts = facts
            if kinds:
                anchor = f"entry-{section.key}-{number}"
                redactions.append(Redaction(section.heading, entry.title, anchor, tuple(kinds)))
    return redactions


def _quoted(entry: LetterEntry) -> list[str]:
    """The free text an entry quotes: its text, and the facts it names as quoted."""
    facts = [v for label, v in entry.facts if label in entry.quoted and isinstance(v, str)]
    return [text for text in (entry.text, *facts) if text]


def letter_for(subject: Subject) -> Letter:
    """The letter for `subject`, other people's details replaced in what it quotes; reads
    only."""
    earlier = earlier_details(subject)
    entries: list[LetterEntry] = []
    for handler in personal_data_handlers().values():
        if handler.letter:
            entries.extend(handler.letter(subject))
    keys = {entry.key for entry in entries if entry.key}
    entries.extend(_mentions(subject, keys))
    entries.extend(_earlier(earlier))
    entries.extend(_audit_entries(subject))
    sections = {key: LetterSection(key, heading) for key, heading in LETTER_CATEGORIES.items()}
    for entry in entries:
        entry.facts = [(label, value) for label, value in entry.facts if not _empty(value)]
        sections[entry.category].entries.append(entry)
    held = [section for section in sections.values() if section.entries]
    redactions = _redact(subject, held, earlier)
    kinds = kinds_of(subject)
    origins: dict[tuple[str, str], None] = {}
    for entry in entries:
        if entry.origin:
            origins[(entry.title, entry.origin)] = None
    return Letter(
        names=subject.names,
        written_on=timezone.localdate(),
        controller=controller(),
        held=held,
        purposes=[LAWFUL_BASES[kind] for kind in kinds],
        origins=list(origins),
        sharing=[SHARING["all"], *(SHARING[k] for k in kinds if k in SHARING)]
        + [SHARING["processors"]],
        retention=[(rule.name, rule.keep_for) for rule in retention_rules()],
        rights=RIGHTS,
        redactions=redactions,
    )
