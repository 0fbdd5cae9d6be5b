"""Personal data: how every app takes part in subject access and erasure.

A person may be a login (staff, student, employer) and employer contact records. Each app
that holds personal data registers one `PersonalDataHandler` in its `AppConfig.ready()`:

- `letter`: what it holds about the person, as entries of the subject access letter;
- `places`: the free text where the person may be named (notes of the organisations they
  are linked to, emails sent to them…), which erasure searches for whole-word mentions;
- `protected`: names in its tables that contain a given word (organisations, units,
  events, other people); erasure never changes them, in structured fields or in text;
- `anonymise`: what it does to the person's own rows, planned first (`apply=False`),
  then done (`apply=True`), each line said without the erased value;
- `covers`: the relations to a person (`app_label.Model.field`) it accounts for, so a test
  can insist that every relation to a login or a contact is covered by some handler.

`erasure.py` puts the handlers together for the review and the erasure, `letter.py` for
the letter. The audit app only knows the contract; it never imports the apps above it.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import dateformat, timezone

# What anonymised records are called (the names erasure gives a login and a contact).
ERASED_PERSON = "Erased person"
ERASED_CONTACT = "Erased contact"


def in_words(value: datetime.date | datetime.datetime | None) -> str:
    """A date as people write it ("4 March 2026"), for letters and reports."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return dateformat.format(value, "j F Y")


def contact_model():
    return apps.get_model("organisations", "Contact")


def contacts_merged_into(contact_ids: Iterable[int]) -> dict[int, int]:
    """Contacts folded into these by a merge (the same email at both records, one kept):
    each folded contact's number, with the one it became. A later merge moves the rows on,
    so a contact folded into one that was folded in turn leads to the last."""
    merged = apps.get_model("organisations", "MergedContact")
    ids = list(contact_ids)
    if not ids:
        return {}
    return dict(merged.objects.filter(merged_into__in=ids).values_list("pk", "merged_into"))


def contacts_they_became(contact_ids: Iterable[int]) -> dict[int, int]:
    """Of these contact numbers, those folded into another by a merge, with the one each
    became (the inverse of `contacts_merged_into`)."""
    merged = apps.get_model("organisations", "MergedContact")
    ids = list(contact_ids)
    if not ids:
        return {}
    return dict(merged.objects.filter(pk__in=ids).values_list("pk", "merged_into"))


@dataclass
class Subject:
    """The person: the logins and contact records an administrator said are theirs.

    `former_contact_ids` are contacts a merge folded into theirs and deleted (the same
    email at both records): gone as rows, but their audit trail is the person's history,
    told in the letter and erased with the rest (`own_contact_ids`)."""

    users: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    former_contact_ids: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.users or self.contacts)

    @property
    def user_ids(self) -> list[int]:
        return [u.pk for u in self.users]

    @property
    def contact_ids(self) -> list[int]:
        return [c.pk for c in self.contacts]

    @property
    def own_contact_ids(self) -> list[int]:
        """Their contact records now, and those merged into them: whose audit trail is theirs."""
        return [*self.contact_ids, *self.former_contact_ids]

    @property
    def people(self) -> list:
        return [*self.users, *self.contacts]

    @property
    def emails(self) -> set[str]:
        return {
            p.email.strip().lower()
            for p in self.people
            if p.email and not p.email.lower().endswith("@erased.invalid")
        }

    @property
    def names(self) -> list[str]:
        """Each distinct full name, as written on their records."""
        seen: dict[str, str] = {}
        for person in self.people:
            name = " ".join((person.full_name or "").split())
            if name and name not in (ERASED_PERSON, ERASED_CONTACT):
                seen.setdefault(name.casefold(), name)
        return list(seen.values())

    def records(self) -> list[str]:
        """Each record in words, without the person's details (for reports and logs)."""
        described = [f"Login ({u.get_kind_display().lower()})" for u in self.users]
        described += [f"Contact record at {c.organisation}" for c in self.contacts]
        return described


def subject_from_ids(user_ids: Iterable[int], contact_ids: Iterable[int]) -> Subject:
    """The chosen records, with the contact records that belong to a chosen login."""
    user_ids, contact_ids = list(user_ids), list(contact_ids)
    users = list(get_user_model().objects.filter(pk__in=user_ids).order_by("pk"))
    contacts = list(
        contact_model()
        .objects.filter(Q(pk__in=contact_ids) | Q(user_id__in=[u.pk for u in users]))
        .select_related("organisation")
        .order_by("pk")
    )
    former = sorted(contacts_merged_into(c.pk for c in contacts))
    return Subject(users=users, contacts=contacts, former_contact_ids=former)


def find_subjects(text: str) -> tuple[list, list]:
    """Logins and contact records whose name or email contains `text`, now or before.

    A record found by a name or email it held before (its audit trail says so) carries
    that detail as `once_held`, for the page to say why it was found.
    """
    from mycareer.audit.erasure import once_held

    text = text.strip()
    if len(text) < 3:
        return [], []
    earlier = once_held(text)
    now = Q(full_name__icontains=text) | Q(email__icontains=text)
    before = {kind: [pk for k, pk in earlier if k == kind] for kind in ("user", "contact")}
    users: list[Any] = list(
        get_user_model().objects.filter(now | Q(pk__in=before["user"])).order_by("full_name")[:50]
    )
    contacts = list(
        contact_model()
        .objects.filter(now | Q(pk__in=before["contact"]))
        .select_related("organisation", "user")
        .order_by("full_name")[:50]
    )
    folded = text.casefold()
    for kind, records in (("user", users), ("contact", contacts)):
        for record in records:
            held_now = f"{record.full_name} {record.email}".casefold()
            if folded not in held_now:
                record.once_held = earlier.get((kind, record.pk), "")
    return users, contacts


@dataclass(frozen=True)
class Change:
    """One line of an erasure plan or report: what and how, never the erased value.

    `kept` lines say what is deliberately kept (attendance figures, message counts) and why.
    """

    what: str
    how: str
    count: int = 1
    kept: bool = False

    def as_dict(self) -> dict:
        return {"what": self.what, "how": self.how, "count": self.count, "kept": self.kept}


@dataclass(frozen=True)
class TextPlace:
    """Free text where the person may be named: some rows, some of their text fields.

    `describe` says which record a row is without quoting the person (no names, emails
    or free text): the erasure report keeps these descriptions. A first name or a surname
    alone is looked for only `in_context`, in records tied to the person; elsewhere only
    their full name, email and phone are. In the audit trail of the person's own records
    (`own_records`), the details those entries record (`{"changed": {"email": […]}}`) are
    not searched: erasure replaces them whole.
    """

    label: str
    rows: QuerySet
    fields: tuple[str, ...]
    describe: Callable[[Any], str]
    in_context: bool = True
    own_records: bool = False


@dataclass
class LetterEntry:
    """One thing held about the person, for the subject access letter.

    `facts` are (label, value) pairs; values are text, numbers, booleans or dates (shown
    in words in the letter). Nothing secret and no internal id belongs here. `key`
    ("app_label.Model:pk") keeps a record from being listed twice; it is never shown.
    `quoted` names the facts whose values are free text someone wrote (a reason given),
    which the letter redacts as it does `text`; the others are structured (who acted,
    when), and kept.
    """

    category: str
    title: str
    facts: list[tuple[str, Any]] = field(default_factory=list)
    text: str = ""
    quoted: tuple[str, ...] = ()
    when: datetime.date | datetime.datetime | None = None
    origin: str = ""
    key: str = ""


# The letter's sections for what is held, in the order the letter gives them.
LETTER_CATEGORIES = {
    "profile": "Your profile and account",
    "bookings": "Bookings and attendance",
    "messages": "Messages we sent you",
    "notes": "Notes and records that mention you",
    "consent": "Your consent and email choices",
    "activity": "Your work in MyCareer",
    "other": "Other records about you",
    "audit": "Who changed or exported your data",
}


@dataclass(frozen=True)
class PersonalDataHandler:
    """One app's part in subject access and erasure (see the module docstring)."""

    anonymise: Callable[..., list[Change]] | None = None
    places: Callable[[Subject], Iterable[TextPlace]] | None = None
    protected: Callable[[Subject, str], Iterable[tuple[str, str]]] | None = None
    letter: Callable[[Subject], Iterable[LetterEntry]] | None = None
    covers: tuple[str, ...] = ()


_handlers: dict[str, PersonalDataHandler] = {}


def register_personal_data(name: str, handler: PersonalDataHandler) -> None:
    """Register an app's personal-data handler (called from its AppConfig.ready)."""
    if not isinstance(handler, PersonalDataHandler):
        raise TypeError(f"{name}: register a PersonalDataHandler, not {type(handler).__name__}")
    _handlers[name] = handler


# The name apps registered under before the handler did more than erase.
register_erasure_handler = register_personal_data


def personal_data_handlers() -> dict[str, PersonalDataHandler]:
    return dict(_handlers)
