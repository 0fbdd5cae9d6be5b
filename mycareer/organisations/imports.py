"""Importing organisations, their contacts and tags from a CSV or Excel file.

Two steps. `plan_import` reads and checks the whole file and decides, without writing
anything, what each organisation in it would become: a new record, an update of one
already in MyCareer, a likely duplicate that waits for the operator's word, or a
rejection with the row numbers and reasons. `import_apply` then writes the plan in one
transaction through the ordinary services, so every change is audited and any failure
leaves nothing behind. Between the two steps the file waits in storage, found again
through a signed token that only its uploader can use.
"""

import dataclasses
import datetime
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field

from django import forms
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import User
from mycareer.core import tables
from mycareer.core.forms import DESCRIPTION_MAX_LENGTH
from mycareer.core.logs import log_event, logged_job
from mycareer.core.tables import Column, ImportFileError, Limits
from mycareer.core.text import newlines_only, single_line
from mycareer.core.validators import validate_phone
from mycareer.organisations import services
from mycareer.organisations.erased import erased_address_text, erased_addresses
from mycareer.organisations.matching import domain_from_url, name_key
from mycareer.organisations.models import (
    Contact,
    EmployerMembership,
    Organisation,
    Sector,
    TaggedOrganisation,
    search_document_of,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Long enough to read the check page and confirm; abandoned files are removed after a day.
TOKEN_MAX_AGE = 2 * 60 * 60
STALE_AFTER = datetime.timedelta(days=1)
STORAGE_DIR = "imports"
# More writes than this (organisations and contacts) go to the background worker: a full
# file takes several seconds to write, longer than a web request should wait.
INLINE_LIMIT = 300
# Files larger than this are read and checked by the background worker, never in a web
# request: a full file takes seconds to check, and a workbook is a zip that unpacks to
# many times its size.
INLINE_CHECK_BYTES = 200 * 1024
INLINE_CHECK_WORKBOOK_BYTES = 50 * 1024
CHANGED = (
    "MyCareer's records changed since you checked this file, so nothing was imported. "
    "Look at what the file would do now before you confirm."
)
TOKEN_SALT = "mycareer.organisations.import"
logger = logging.getLogger(__name__)


COLUMNS = [
    Column(
        "name",
        "Organisation name",
        True,
        "The organisation's name. Repeat it on every row of its contacts.",
        ("organisation", "name"),
    ),
    Column("website", "Website", False, "A web address, e.g. www.example.co.uk.", ("url",)),
    Column("sector", "Sector", False, "One of MyCareer's sectors, listed below."),
    Column("size", "Size", False, "One of the sizes listed below."),
    Column("locations", "Locations", False, "Towns or cities, separated by commas.", ("location",)),
    Column("description", "Description", False, "What the organisation does."),
    Column("tags", "Tags", False, "Separated by ; or |, e.g. Placements; NHS.", ("tag",)),
    Column("full_name", "Contact name", False, "The person's full name.", ("contact",)),
    Column("job_title", "Contact job title", False, "Their role.", ("job title",)),
    Column("email", "Contact email", False, "Their email address.", ("email",)),
    Column("phone", "Contact phone", False, "Their phone number.", ("phone",)),
    Column(
        "visible_to_students",
        "Contact visible to students",
        False,
        "yes or no (no if blank): may students see this person's email and phone?",
        ("visible to students",),
    ),
    Column(
        "email_consent",
        "Contact email consent",
        False,
        "yes or no (no if blank): did the person agree to receive email from the university?",
        ("email consent",),
    ),
]
LIMITS = Limits(max_rows=MAX_ROWS, max_bytes=MAX_BYTES, columns=len(COLUMNS))
ORGANISATION_COLUMNS = ["website", "sector", "size", "locations", "description"]
HEADINGS = {column.key: column.heading for column in COLUMNS}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}

_email_validator = EmailValidator()
_url_field = forms.URLField(max_length=200, assume_scheme="https")
_token_pattern = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class Outcome(models.TextChoices):
    CREATE = "create", "New organisation"
    UPDATE = "update", "Update existing"
    UNCHANGED = "unchanged", "Already up to date"
    DUPLICATE = "duplicate", "Likely duplicate"
    REJECTED = "rejected", "Rejected"


@dataclass
class Problem:
    row: int
    organisation: str
    message: str


@dataclass
class Candidate:
    """A record that a new organisation in the file looks like, and why."""

    name: str
    reasons: list[str]
    organisation_id: int | None = None
    file_row: int | None = None


@dataclass
class ContactPlan:
    row: int
    full_name: str
    job_title: str = ""
    email: str = ""
    phone: str = ""
    visible_to_students: bool | None = None
    email_consent: bool | None = None
    existing_id: int | None = None
    fill: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.existing_id is None:
            return "add"
        return "update" if self.fill else "unchanged"

    def create_data(self) -> dict:
        return {
            "full_name": self.full_name,
            "job_title": self.job_title,
            "email": self.email,
            "phone": self.phone,
            "visible_to_students": bool(self.visible_to_students),
            "email_consent": bool(self.email_consent),
        }


@dataclass
class GroupPlan:
    """One organisation in the file, with every row that belongs to it."""

    number: int
    name: str
    key: str
    rows: list[int] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    value_rows: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    contacts: list[ContactPlan] = field(default_factory=list)
    outcome: str = Outcome.CREATE
    existing_id: int | None = None
    existing_name: str = ""
    match_reason: str = ""
    fill: dict = field(default_factory=dict)
    new_tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label

    @property
    def row_label(self) -> str:
        return _row_label(self.rows)

    @property
    def website(self) -> str:
        return self.values.get("website", "")

    @property
    def fill_summary(self) -> list[str]:
        """The blank fields an update fills in, as a person reads them."""
        return [f"{HEADINGS[name]}: {_shown(name, value)}" for name, value in self.fill.items()]

    @property
    def value_summary(self) -> list[str]:
        return [f"{HEADINGS[name]}: {_shown(name, value)}" for name, value in self.values.items()]

    def create_fields(self) -> dict:
        return {name: value for name, value in self.values.items() if value}


@dataclass
class ImportPlan:
    filename: str
    row_count: int
    groups: list[GroupPlan]
    problems: list[Problem]

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(Outcome.values, 0)
        for group in self.groups:
            counts[group.outcome] += 1
        contacts = [c for g in self.groups if g.outcome != Outcome.REJECTED for c in g.contacts]
        counts["contacts_add"] = sum(c.action == "add" for c in contacts)
        counts["contacts_update"] = sum(c.action == "update" for c in contacts)
        counts["bad_rows"] = len({p.row for p in self.problems})
        return counts

    def write_count(self, create_anyway: set[int] | frozenset[int] = frozenset()) -> int:
        """How many organisations and contacts confirming would create or change."""
        count = 0
        for group in self.groups:
            if group.outcome == Outcome.DUPLICATE and group.number not in create_anyway:
                continue
            if group.outcome in {Outcome.CREATE, Outcome.UPDATE, Outcome.DUPLICATE}:
                count += 1 + sum(c.action != "unchanged" for c in group.contacts)
        return count

    @property
    def has_work(self) -> bool:
        """Whether confirming could change anything at all."""
        writes = {Outcome.CREATE, Outcome.UPDATE, Outcome.DUPLICATE}
        return any(group.outcome in writes for group in self.groups)

    @property
    def duplicates(self) -> list[GroupPlan]:
        return [g for g in self.groups if g.outcome == Outcome.DUPLICATE]

    @property
    def fingerprint(self) -> str:
        """What the plan would do; if MyCareer changes in between, confirming must stop."""
        summary = [
            [
                g.key,
                g.outcome,
                g.existing_id,
                sorted(g.fill),
                g.new_tags,
                [[c.row, c.existing_id, sorted(c.fill)] for c in g.contacts],
            ]
            for g in self.groups
        ]
        return hashlib.sha256(json.dumps(summary, default=str).encode()).hexdigest()[:32]


@dataclass
class ImportResult:
    created: list[Organisation] = field(default_factory=list)
    updated: list[Organisation] = field(default_factory=list)
    contacts_created: int = 0
    contacts_updated: int = 0
    duplicates_created: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The result as plain data, for the background worker to hand back."""
        return {
            "created": [{"id": o.pk, "name": o.name} for o in self.created],
            "updated": [{"id": o.pk, "name": o.name} for o in self.updated],
            "contacts_created": self.contacts_created,
            "contacts_updated": self.contacts_updated,
            "duplicates_created": self.duplicates_created,
            "skipped": self.skipped,
        }


def _shown(name: str, value) -> str:
    return Organisation.Size(value).label if name == "size" else str(value)


def _row_label(rows: list[int]) -> str:
    if not rows:
        return ""
    if rows == list(range(rows[0], rows[-1] + 1)) and len(rows) > 1:
        return f"{rows[0]}–{rows[-1]}"
    return ", ".join(str(r) for r in rows)


# Reading the file ------------------------------------------------------------------


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refused before reading if it is too big."""
    return tables.read_upload(upload, LIMITS)


def read_table(*, data: bytes, filename: str) -> list[list[str]]:
    """The file's rows as text, checked by content as well as by name."""
    return tables.read_table(data=data, filename=filename, limits=LIMITS)


def map_headings(headings: list[str]) -> dict[str, int]:
    """Which column holds what; unknown or repeated headings refuse the whole file."""
    return tables.map_headings(
        headings,
        COLUMNS,
        required={
            "name": ("The first row must hold the column headings, including “Organisation name”.")
        },
    )


# Checking rows ---------------------------------------------------------------------


def _yes_no(value: str, heading: str, problems: list[str]) -> bool | None:
    lowered = value.lower()
    if not lowered:
        return None
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    problems.append(f"“{heading}” must be yes or no, not “{value}”.")
    return None


def _size_lookup() -> dict[str, str]:
    lookup = {}
    for value, label in Organisation.Size.choices:
        for text in (value, label, label.split("(")[0]):
            lookup[" ".join(text.lower().replace("–", "-").split())] = value
    return lookup


def _too_long(value: str, model, name: str, heading: str, problems: list[str]) -> None:
    limit = model._meta.get_field(name).max_length
    if limit and len(value) > limit:
        problems.append(f"“{heading}” is {len(value)} characters long; at most {limit} fit.")


def _check_row(values: dict[str, str], sectors: dict, sizes: dict) -> tuple[dict, list[str]]:
    """Turn one row's text into clean values, with a plain-English reason for each fault."""
    problems: list[str] = []
    clean: dict = {}
    # Every column but the description is one line: a line break in a name could reach
    # an email header later, so control characters go here, before anything is checked.
    values = {k: v if k == "description" else single_line(v) for k, v in values.items()}
    name = values.get("name", "")
    if not name:
        problems.append("The organisation name is missing.")
    _too_long(name, Organisation, "name", "Organisation name", problems)
    clean["name"] = name

    website = values.get("website", "")
    clean["website"] = ""
    if website:
        try:
            clean["website"] = _url_field.clean(website)
        except ValidationError:
            problems.append(f"The website “{website}” is not a web address.")
    sector = values.get("sector", "")
    clean["sector"] = None
    if sector:
        clean["sector"] = sectors.get(sector.lower())
        if clean["sector"] is None:
            problems.append(
                f"“{sector}” is not one of MyCareer's sectors (see the list on the import page)."
            )
    size = values.get("size", "")
    clean["size"] = ""
    if size:
        clean["size"] = sizes.get(" ".join(size.lower().replace("–", "-").split()), "")
        if not clean["size"]:
            problems.append(f"“{size}” is not a size MyCareer knows (see the import page).")
    # As the profile keeps them (each place once, ", " between), so that a file that
    # writes them another way neither stores them untidily nor counts as a change.
    clean["locations"] = Organisation.tidy_locations(values.get("locations", ""))
    _too_long(clean["locations"], Organisation, "locations", "Locations", problems)
    clean["description"] = newlines_only(values.get("description", ""))
    if len(clean["description"]) > DESCRIPTION_MAX_LENGTH:
        # The edit page takes no more: imported longer, the record could not be saved there.
        problems.append(
            f"The description is {len(clean['description']):,} characters: keep it to "
            f"{DESCRIPTION_MAX_LENGTH:,}."
        )
    tags = [t.strip() for t in re.split(r"[;|]", values.get("tags", "")) if t.strip()]
    for tag in tags:
        if len(tag) > 100:
            problems.append(f"The tag “{tag[:30]}…” is longer than 100 characters.")
    clean["tags"] = tags

    contact = {name: values.get(name, "") for name in services.CONTACT_FIELDS}
    clean["contact"] = None
    if any(contact.values()):
        if not contact["full_name"]:
            problems.append("The contact's name is missing, but other contact columns are filled.")
        email = contact["email"].lower()
        if email:
            try:
                _email_validator(email)
            except ValidationError:
                problems.append(f"“{contact['email']}” is not a valid email address.")
        try:
            validate_phone(contact["phone"])
        except ValidationError as error:
            # The contact form's rule: caught here, not when the import is confirmed.
            problems.append(f"“{contact['phone']}”: {error.messages[0]}")
        for name, heading in [
            ("full_name", "Contact name"),
            ("job_title", "Contact job title"),
            ("email", "Contact email"),
            ("phone", "Contact phone"),
        ]:
            _too_long(contact[name], Contact, name, heading, problems)
        clean["contact"] = {
            "full_name": contact["full_name"],
            "job_title": contact["job_title"],
            "email": email,
            "phone": contact["phone"],
            "visible_to_students": _yes_no(
                contact["visible_to_students"], "Contact visible to students", problems
            ),
            "email_consent": _yes_no(contact["email_consent"], "Contact email consent", problems),
        }
    return clean, problems


def _group_key(name: str) -> str:
    # A name made only of legal words ("The Company Ltd") reduces to nothing; fall back
    # to the plain name so that it still matches only itself.
    return name_key(name) or f"={' '.join(name.lower().split())}"


def plan_import(*, data: bytes, filename: str) -> ImportPlan:
    """Read and check the whole file and decide what each organisation would become.

    Nothing is written. Raises ImportFileError when the file itself cannot be used.
    """
    table = read_table(data=data, filename=filename)
    headings = map_headings(table[0])
    sectors = {s.name.lower(): s for s in Sector.objects.all()}
    sizes = _size_lookup()
    problems: list[Problem] = []
    groups: dict[str, GroupPlan] = {}
    emails_seen: dict[str, int] = {}
    row_count = 0
    for index, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        row_count += 1
        values = {key: cells[i] if i < len(cells) else "" for key, i in headings.items()}
        clean, row_problems = _check_row(values, sectors, sizes)
        extra = [c for i, c in enumerate(cells) if c and i not in headings.values()]
        if extra:
            row_problems.append(
                "This row has values in columns without a heading (often a comma inside a "
                "value that is not in quotes)."
            )
        name = clean["name"]
        group = None
        if name:
            key = _group_key(name)
            group = groups.get(key)
            if group is None:
                group = groups[key] = GroupPlan(number=len(groups) + 1, name=name, key=key)
            group.rows.append(index)
            for column in ORGANISATION_COLUMNS:
                value = clean[column]
                if not value:
                    continue
                earlier = group.values.get(column)
                if earlier and earlier != value:
                    row_problems.append(
                        f"“{HEADINGS[column]}” differs from row {group.value_rows[column]} "
                        "of the same organisation: give it once, or the same on every row."
                    )
                elif not earlier:
                    group.values[column] = value
                    group.value_rows[column] = index
            for tag in clean["tags"]:
                if tag.lower() not in {t.lower() for t in group.tags}:
                    group.tags.append(tag)
        contact = clean["contact"]
        if contact and contact["email"]:
            first = emails_seen.setdefault(contact["email"], index)
            if first != index:
                row_problems.append(
                    f"The contact email {contact['email']} is also on row {first}; "
                    "give each person once."
                )
        for message in row_problems:
            problem = Problem(index, name, message)
            problems.append(problem)
            if group is not None:
                group.problems.append(problem)
        if group is not None and contact:
            group.contacts.append(ContactPlan(row=index, **contact))
    if row_count == 0:
        raise ImportFileError("This file has headings but no rows to import.")
    problems.extend(_erased_rows(emails_seen, groups))
    plan_groups = list(groups.values())
    problems.extend(_match(plan_groups))
    problems.sort(key=lambda p: p.row)
    for group in plan_groups:
        if group.problems:
            group.outcome = Outcome.REJECTED
    return ImportPlan(filename=filename, row_count=row_count, groups=plan_groups, problems=problems)


def _erased_rows(emails: dict[str, int], groups: dict[str, GroupPlan]) -> list[Problem]:
    """Rows adding a person erased at their request: a file is not someone deciding they
    are back (one query for the whole file)."""
    erased = erased_addresses(emails)
    if not erased:
        return []
    by_row = {row: group for group in groups.values() for row in group.rows}
    problems = []
    for email, on in erased.items():
        row = emails[email]
        group = by_row.get(row)
        problem = Problem(row, group.name if group else "", erased_address_text(email, on))
        problems.append(problem)
        if group is not None:
            group.problems.append(problem)
    log_event(logger, "import.refused_erased", rows=",".join(str(emails[e]) for e in erased))
    return problems


def _match(groups: list[GroupPlan]) -> list[Problem]:
    """Decide each organisation's outcome against what MyCareer holds; one load for all."""
    finder = services.duplicate_finder()
    by_key: dict[str, list[int]] = {}
    by_domain: dict[str, list[int]] = {}
    names: dict[int, str] = {}
    for row in finder.rows:
        names[row.pk] = row.name
        by_key.setdefault(row.key or _group_key(row.name), []).append(row.pk)
        if row.domain:
            by_domain.setdefault(row.domain, []).append(row.pk)
    problems: list[Problem] = []
    claimed: dict[int, GroupPlan] = {}
    new_domains: dict[str, GroupPlan] = {}
    for group in groups:
        domain = domain_from_url(group.website)
        key_ids = by_key.get(group.key, [])
        domain_ids = by_domain.get(domain, []) if domain else []
        # Several records on one domain means a shared host (a social network, a
        # council's site), which says nothing about which organisation this is.
        if len(domain_ids) > 1:
            domain_ids = []
        matches = set(key_ids) | set(domain_ids)
        if len(key_ids) > 1 and domain_ids and domain_ids[0] in key_ids:
            matches = set(domain_ids)
        if len(matches) > 1:
            listed = ", ".join(sorted(names[pk] for pk in matches))
            problem = Problem(
                group.rows[0],
                group.name,
                f"This matches more than one organisation in MyCareer ({listed}): merge "
                "them first, or change the name or website in the file.",
            )
            group.problems.append(problem)
            problems.append(problem)
        elif matches:
            pk = matches.pop()
            if pk in claimed:
                problem = Problem(
                    group.rows[0],
                    group.name,
                    f"This matches the same organisation in MyCareer ({names[pk]}) as row "
                    f"{claimed[pk].rows[0]}: use one name for it throughout the file.",
                )
                group.problems.append(problem)
                problems.append(problem)
                continue
            claimed[pk] = group
            group.existing_id = pk
            group.existing_name = names[pk]
            group.match_reason = "same name" if pk in key_ids else f"same web domain: {domain}"
        else:
            emails = [c.email for c in group.contacts if c.email]
            found = finder.find(name=group.name, website=group.website, emails=emails)
            group.candidates = [
                Candidate(c.name, c.reasons, organisation_id=c.organisation_id) for c in found
            ]
            twin = new_domains.get(domain) if domain else None
            if twin is not None:
                group.candidates.append(
                    Candidate(
                        twin.name,
                        [f"Same web domain ({domain}) in this file"],
                        file_row=twin.rows[0],
                    )
                )
            elif domain:
                new_domains[domain] = group
            group.outcome = Outcome.DUPLICATE if group.candidates else Outcome.CREATE
    _plan_updates([g for g in groups if g.existing_id])
    return problems


def _plan_updates(groups: list[GroupPlan]) -> None:
    """For matched organisations: which blank fields to fill, tags to add, contacts to change."""
    ids = [g.existing_id for g in groups]
    if not ids:
        return
    existing = Organisation.objects.select_related("sector").in_bulk(ids)
    tags: dict[int, set[str]] = {}
    for org_id, tag in TaggedOrganisation.objects.filter(content_object_id__in=ids).values_list(
        "content_object_id", "tag__name"
    ):
        tags.setdefault(org_id, set()).add(tag.lower())
    contacts: dict[int, list[Contact]] = {}
    # An erased person's record is never matched: a row named "Erased contact" would
    # otherwise fill in its job title and phone.
    for contact in Contact.objects.filter(organisation_id__in=ids, erased_at__isnull=True):
        contacts.setdefault(contact.organisation_id, []).append(contact)
    # Organisations whose administrator signs in decide what students see themselves.
    deciding = set(
        EmployerMembership.objects.filter(
            organisation_id__in=ids,
            status=EmployerMembership.Status.ACTIVE,
            is_admin=True,
            user__is_active=True,
        ).values_list("organisation_id", flat=True)
    )
    for group in groups:
        organisation = existing[group.existing_id]
        for name, value in group.values.items():
            current = getattr(organisation, name)
            if name == "locations":  # as kept since they are tidied; older rows may not be
                current = Organisation.tidy_locations(current)
            if not current:
                group.fill[name] = value
            elif current != value:
                shown = organisation.get_size_display() if name == "size" else current
                wanted = Organisation.Size(value).label if name == "size" else value
                group.notes.append(f"{HEADINGS[name]} stays “{shown}”; the file has “{wanted}”.")
        have = tags.get(organisation.pk, set())
        group.new_tags = [t for t in group.tags if t.lower() not in have]
        by_email = {c.email.lower(): c for c in contacts.get(organisation.pk, []) if c.email}
        by_name = {c.full_name.lower(): c for c in contacts.get(organisation.pk, []) if not c.email}
        for plan in group.contacts:
            if plan.email:
                contact = by_email.get(plan.email)
            else:
                # Without an email, the same name is the best sign it is the same person,
                # so importing the same file twice adds nobody twice.
                contact = by_name.get(plan.full_name.lower())
            if contact is None:
                if plan.visible_to_students and organisation.pk in deciding:
                    plan.visible_to_students = False
                    group.notes.append(
                        f"{plan.full_name}'s details stay hidden from students: "
                        f"{organisation} decides that itself, through its own login."
                    )
                continue
            plan.existing_id = contact.pk
            for name in ("job_title", "phone"):
                value = getattr(plan, name)
                if value and not getattr(contact, name):
                    plan.fill[name] = value
            for name, label in [
                ("visible_to_students", "visibility to students"),
                ("email_consent", "email consent"),
            ]:
                wanted = getattr(plan, name)
                if wanted is not None and wanted != getattr(contact, name):
                    plan.notes.append(
                        f"{contact.full_name}'s {label} stays as it is: change it on their "
                        "page, where the person's own choice is recorded."
                    )
        changes = (
            group.fill or group.new_tags or any(c.action != "unchanged" for c in group.contacts)
        )
        group.outcome = Outcome.UPDATE if changes else Outcome.UNCHANGED


# Keeping the file between the check and the confirmation ----------------------------


@dataclass
class PendingImport:
    file: str
    filename: str
    fingerprint: str
    data: bytes


def _sweep_stale_uploads() -> None:
    """Remove files of imports that were checked but never confirmed."""
    try:
        _, files = default_storage.listdir(STORAGE_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - STALE_AFTER
    for name in files:
        path = f"{STORAGE_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue


def store_upload(*, data: bytes, filename: str, user: User, plan: ImportPlan) -> str:
    """Keep the file until the operator confirms; returns a signed token only they can use."""
    _sweep_stale_uploads()
    file = secrets.token_urlsafe(32)
    default_storage.save(f"{STORAGE_DIR}/{file}", ContentFile(data))
    return _token(user_id=user.pk, file=file, filename=filename, plan=plan)


def load_upload(*, token: str, user: User) -> PendingImport:
    """The pending import behind a token; PermissionDenied if it is not this person's."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as error:
        raise ImportFileError(
            "This check has expired: upload the file again to check it afresh."
        ) from error
    except signing.BadSignature as error:
        raise PermissionDenied("This import cannot be confirmed: it is not valid.") from error
    if payload.get("user") != user.pk or not _token_pattern.match(payload.get("file", "")):
        raise PermissionDenied("This import was uploaded by someone else.")
    return PendingImport(
        payload["file"], payload["name"], payload["plan"], _read_stored(payload["file"])
    )


def _read_stored(file: str) -> bytes:
    try:
        with default_storage.open(f"{STORAGE_DIR}/{file}", "rb") as stored:
            return stored.read()
    except FileNotFoundError as error:
        raise ImportFileError(
            "This file was already imported, or its check expired: upload it again."
        ) from error


def discard_upload(pending: PendingImport) -> None:
    default_storage.delete(f"{STORAGE_DIR}/{pending.file}")


def checked_in_worker(data: bytes) -> bool:
    """Whether a file is big enough that only the background worker reads it."""
    limit = INLINE_CHECK_WORKBOOK_BYTES if data.startswith(b"PK\x03\x04") else INLINE_CHECK_BYTES
    return len(data) > limit


def store_for_check(*, data: bytes) -> str:
    """Keep an uploaded file for the worker to check; returns the stored file's name."""
    _sweep_stale_uploads()
    file = secrets.token_urlsafe(32)
    default_storage.save(f"{STORAGE_DIR}/{file}", ContentFile(data))
    return file


def _token(*, user_id: int, file: str, filename: str, plan: ImportPlan) -> str:
    return signing.dumps(
        {"user": user_id, "file": file, "name": filename, "plan": plan.fingerprint},
        salt=TOKEN_SALT,
    )


def check_pending(*, user_id: int, file: str, filename: str) -> dict:
    """Read and check a stored file; the background worker's part of an upload.

    Returns the plan as data for the check page and, if it can be imported, the token
    that confirms it; a file that cannot be read gives the reasons instead.
    """
    if not _token_pattern.match(file):
        return {"ok": False, "errors": ["This upload cannot be found: upload it again."]}
    try:
        data = _read_stored(file)
        plan = plan_import(data=data, filename=filename)
    except ValidationError as error:
        default_storage.delete(f"{STORAGE_DIR}/{file}")
        log_event(logger, "import.refused", file=filename, by=user_id, reason=error.messages[0])
        return {"ok": False, "errors": error.messages}
    token = ""
    if plan.is_valid and plan.has_work:
        token = _token(user_id=user_id, file=file, filename=filename, plan=plan)
    else:
        default_storage.delete(f"{STORAGE_DIR}/{file}")
    log_event(logger, "import.checked", file=filename, by=user_id, rows=plan.row_count)
    return {"ok": True, "plan": plan_to_data(plan), "token": token}


def plan_to_data(plan: ImportPlan) -> dict:
    """The plan as JSON-ready data (sectors by id), to hand back from the worker."""
    data = dataclasses.asdict(plan)
    for group in data["groups"]:
        for key in ("values", "fill"):
            if isinstance(group[key].get("sector"), Sector):
                group[key]["sector"] = group[key]["sector"].pk
    return data


def plan_from_data(data: dict) -> ImportPlan:
    """The plan again from `plan_to_data`'s output, to show the check page."""
    sectors = Sector.objects.in_bulk()
    groups = []
    for raw in data["groups"]:
        group = dict(raw)
        for key in ("values", "fill"):
            group[key] = dict(group[key])
            if "sector" in group[key]:
                group[key]["sector"] = sectors.get(group[key]["sector"])
        group["contacts"] = [ContactPlan(**c) for c in group["contacts"]]
        group["candidates"] = [Candidate(**c) for c in group["candidates"]]
        group["problems"] = [Problem(**p) for p in group["problems"]]
        groups.append(GroupPlan(**group))
    return ImportPlan(
        filename=data["filename"],
        row_count=data["row_count"],
        groups=groups,
        problems=[Problem(**p) for p in data["problems"]],
    )


# Writing ---------------------------------------------------------------------------
#
# A file of 5,000 rows written through the services one row at a time held the database's
# write lock for half a minute, long enough for colleagues saving notes to give up. So
# everything that can be done without writing (reading, checking, matching, building each
# record and validating it) is done first, outside any transaction; then the prepared
# records are written in bulk, in one transaction of a second or two. The writes are the
# ones the services make (the same fields, search text and audit entries).


@dataclass
class _NewOrganisation:
    organisation: Organisation
    tags: list[str]
    contacts: list[Contact]
    duplicate_confirmed: bool


@dataclass
class _Update:
    organisation_id: int
    fill: dict
    new_tags: list[str]
    new_contacts: list[Contact]
    contact_fills: list[tuple[int, dict]]


@dataclass
class _Prepared:
    new: list[_NewOrganisation] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates_created: int = 0


def _refused(group: GroupPlan, error: ValidationError) -> ValidationError:
    return ValidationError(
        f"Nothing was imported: row {group.row_label} ({group.name}) was refused: "
        f"{'; '.join(error.messages)}"
    )


def _new_contact(plan: ContactPlan, by: User, now) -> Contact:
    contact = Contact(**plan.create_data())
    if contact.visible_to_students:
        contact.visibility_changed_at, contact.visibility_changed_by = now, by
    contact.full_clean(exclude=["organisation"], validate_unique=False)
    return contact


def _prepare(
    plan: ImportPlan, by: User, unit, create_anyway: set[int] | frozenset[int]
) -> _Prepared:
    """Every record the plan writes, built and validated, nothing saved."""
    prepared = _Prepared()
    now = timezone.now()
    for group in plan.groups:
        if group.outcome in {Outcome.UNCHANGED, Outcome.REJECTED}:
            continue
        if group.outcome == Outcome.DUPLICATE and group.number not in create_anyway:
            prepared.skipped.append(group.name)
            continue
        try:
            if group.existing_id is None:
                organisation = Organisation(
                    name=group.name, unit=unit, created_by=by, **group.create_fields()
                )
                organisation.full_clean(exclude=["logo"], validate_unique=False)
                organisation.name_key = name_key(organisation.name)
                organisation.domain = domain_from_url(organisation.website)
                contacts = [_new_contact(c, by, now) for c in group.contacts]
                # The search text as refresh_search_document makes it, made here.
                organisation.search_document = search_document_of(
                    organisation.name, organisation.description, [c.full_name for c in contacts]
                )
                duplicate = group.outcome == Outcome.DUPLICATE
                prepared.duplicates_created += duplicate
                prepared.new.append(_NewOrganisation(organisation, group.tags, contacts, duplicate))
            else:
                prepared.updates.append(
                    _Update(
                        group.existing_id,
                        dict(group.fill),
                        list(group.new_tags),
                        [_new_contact(c, by, now) for c in group.contacts if c.existing_id is None],
                        [(c.existing_id, dict(c.fill)) for c in group.contacts if c.fill],
                    )
                )
        except ValidationError as error:
            raise _refused(group, error) from error
    return prepared


def _tag_ids(names: set[str]) -> dict[str, int]:
    """Tag ids by lower-cased name, reusing an existing tag's spelling; new ones made."""
    from taggit.models import Tag

    return {
        name.lower(): Tag.objects.get_or_create(name=name)[0].pk
        for name in services.normalise_tags(names)
    }


def _search_documents(ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    for org_id, full_name in (
        Contact.objects.filter(organisation_id__in=ids)
        .order_by("pk")
        .values_list("organisation_id", "full_name")
    ):
        names.setdefault(org_id, []).append(full_name)
    return {
        org_id: search_document_of(name, description, names.get(org_id, []))
        for org_id, name, description in Organisation.objects.filter(pk__in=ids).values_list(
            "pk", "name", "description"
        )
    }


def _write(prepared: _Prepared, by: User, filename: str) -> ImportResult:
    """Write prepared records in bulk; call inside the one short transaction."""
    result = ImportResult(skipped=prepared.skipped)
    entries = []
    tag_ids = _tag_ids(
        {t for n in prepared.new for t in n.tags}
        | {t for u in prepared.updates for t in u.new_tags}
    )
    taggings = []

    Organisation.objects.bulk_create([n.organisation for n in prepared.new], batch_size=500)
    new_contacts = []
    for item in prepared.new:
        organisation = item.organisation
        result.created.append(organisation)
        taggings += [(organisation.pk, tag_ids[t.lower()]) for t in item.tags]
        entries.append(
            audit.build_entry(
                organisation,
                "organisations.organisation.created",
                by=by,
                data={
                    "name": organisation.name,
                    # Only one ticked "Create anyway": the others had no likely duplicate.
                    "duplicates_confirmed": item.duplicate_confirmed,
                    "tags": sorted(item.tags),
                },
            )
        )
        for contact in item.contacts:
            contact.organisation = organisation
            new_contacts.append(contact)

    existing = Organisation.objects.select_for_update().in_bulk(
        [u.organisation_id for u in prepared.updates]
    )
    changed_organisations = []
    changed_contacts = []
    contacts_by_id = Contact.objects.in_bulk(
        [pk for u in prepared.updates for pk, _ in u.contact_fills]
    )
    old_tags: dict[int, list[str]] = {}
    for org_id, name in TaggedOrganisation.objects.filter(
        content_object_id__in=list(existing)
    ).values_list("content_object_id", "tag__name"):
        old_tags.setdefault(org_id, []).append(name)
    for update in prepared.updates:
        organisation = existing[update.organisation_id]
        if update.fill:
            changes = services.apply_changes(organisation, list(update.fill), update.fill)
            changed_organisations.append(organisation)
            entries.append(
                audit.build_entry(
                    organisation,
                    "organisations.organisation.changed",
                    by=by,
                    data={"changed": changes},
                )
            )
        if update.new_tags:
            old = sorted(old_tags.get(organisation.pk, []))
            taggings += [(organisation.pk, tag_ids[t.lower()]) for t in update.new_tags]
            entries.append(
                audit.build_entry(
                    organisation,
                    "organisations.organisation.tagged",
                    by=by,
                    data={"from": old, "to": sorted([*old, *update.new_tags])},
                )
            )
        for contact in update.new_contacts:
            contact.organisation = organisation
            new_contacts.append(contact)
        for contact_id, fill in update.contact_fills:
            contact = contacts_by_id[contact_id]
            changes = services.apply_changes(contact, list(fill), fill)
            changed_contacts.append(contact)
            entries.append(
                audit.build_entry(
                    contact, "organisations.contact.changed", by=by, data={"changed": changes}
                )
            )
            result.contacts_updated += 1
        result.updated.append(organisation)

    Contact.objects.bulk_create(new_contacts, batch_size=500)
    result.contacts_created = len(new_contacts)
    entries += [
        audit.build_entry(
            contact,
            "organisations.contact.created",
            by=by,
            data={"organisation": contact.organisation_id, "name": contact.full_name},
        )
        for contact in new_contacts
    ]
    now = timezone.now()
    for organisation in changed_organisations:
        organisation.updated_at = now
    Organisation.objects.bulk_update(
        changed_organisations,
        sorted({f for u in prepared.updates for f in u.fill} | {"updated_at"}),
        batch_size=500,
    )
    for contact in changed_contacts:
        contact.updated_at = now
    Contact.objects.bulk_update(
        changed_contacts,
        sorted({f for u in prepared.updates for _, fill in u.contact_fills for f in fill})
        + ["updated_at"],
        batch_size=500,
    )
    TaggedOrganisation.objects.bulk_create(
        [TaggedOrganisation(content_object_id=o, tag_id=t) for o, t in taggings],
        batch_size=500,
        ignore_conflicts=True,
    )
    documents = _search_documents(list(existing))
    Organisation.objects.bulk_update(
        [Organisation(pk=pk, search_document=text) for pk, text in documents.items()],
        ["search_document"],
        batch_size=500,
    )
    result.duplicates_created = prepared.duplicates_created
    entries.append(
        audit.build_entry(
            None,
            "organisations.organisation.imported",
            by=by,
            data={
                "file": filename,
                "created": len(result.created),
                "updated": len(result.updated),
                "contacts": result.contacts_created,
                "contacts_updated": result.contacts_updated,
                "duplicates_created": result.duplicates_created,
                "duplicates_skipped": len(result.skipped),
            },
        )
    )
    audit.log_many(entries)
    return result


def _changed_since(started, plan: ImportPlan) -> bool:
    """Whether records the plan depends on changed after it was made (cheap, indexed)."""
    matched = [g.existing_id for g in plan.groups if g.existing_id]
    if Organisation.objects.filter(pk__in=matched).count() != len(set(matched)):
        return True
    # A new or renamed organisation could be a duplicate or a match of a row.
    if Organisation.objects.filter(updated_at__gte=started).exists():
        return True
    return Contact.objects.filter(organisation_id__in=matched, updated_at__gte=started).exists()


def import_apply(
    *,
    plan: ImportPlan,
    by: User,
    create_anyway: set[int] | frozenset[int] = frozenset(),
    started=None,
) -> ImportResult:
    """Write a checked plan: every row or, if anything fails, none at all.

    `started` is when the plan was made: if records it depends on changed since then,
    PlanChanged is raised and nothing is written.
    """
    if not plan.is_valid:
        raise ValidationError("Nothing was imported: the file has rows that need correcting.")
    membership = by.memberships.select_related("unit").first()
    unit = membership.unit if membership else None
    prepared = _prepare(plan, by, unit, create_anyway)
    # One line for the write, whatever its outcome, with how long the lock was held.
    fields = {"file": plan.filename, "by": by.pk, "rows": plan.row_count}
    with logged_job(logger, "import.write", **fields) as outcome:
        try:
            with transaction.atomic():
                # Two confirmations of one file (a double click) must not both write: the
                # second waits here for the first to commit, then finds its records
                # changed. On SQLite the IMMEDIATE transaction already serialises writers.
                User.objects.select_for_update().filter(pk=by.pk).exists()
                if started is not None and _changed_since(started, plan):
                    raise PlanChanged(plan)
                result = _write(prepared, by, plan.filename)
        except DatabaseError as error:
            raise ValidationError(
                "Nothing was imported: the database refused part of the file. "
                "Check it and try again."
            ) from error
        outcome.update(
            created=len(result.created),
            updated=len(result.updated),
            contacts=result.contacts_created,
        )
    return result


class PlanChanged(ValidationError):
    """Checked again just before writing, the file would now do something else."""

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        super().__init__(CHANGED)


def import_confirmed(
    *, pending: PendingImport, by: User, create_anyway: set[int] | frozenset[int] = frozenset()
) -> ImportResult:
    """Check a confirmed file again and write it, all or nothing; PlanChanged if it differs.

    The check runs outside any transaction; if records change between it and the write,
    it runs once more (a colleague adding an organisation meanwhile), then gives up.
    """
    for _ in range(3):
        started = timezone.now()
        plan = plan_import(data=pending.data, filename=pending.filename)
        if not plan.is_valid or plan.fingerprint != pending.fingerprint:
            raise PlanChanged(plan)
        try:
            return import_apply(plan=plan, by=by, create_anyway=create_anyway, started=started)
        except PlanChanged:
            continue
    raise PlanChanged(plan)


def run_pending(
    *, user_id: int, file: str, filename: str, fingerprint: str, create_anyway: list[int]
) -> dict:
    """Check a confirmed file once more and write it; the background worker's part."""
    try:
        pending = PendingImport(file, filename, fingerprint, _read_stored(file))
    except ImportFileError as error:
        return {"ok": False, "error": error.messages[0]}
    try:
        by = User.objects.get(pk=user_id)
        result = import_confirmed(pending=pending, by=by, create_anyway=set(create_anyway))
    except PlanChanged:
        return {"ok": False, "error": CHANGED + " Upload the file again to check it."}
    except ValidationError as error:
        return {"ok": False, "error": " ".join(error.messages)}
    finally:
        discard_upload(pending)
    return {"ok": True, **result.as_dict()}


def template_rows() -> list[list[str]]:
    """A file to start from: the headings and one organisation with two contacts."""
    return [
        [c.heading for c in COLUMNS],
        [
            "Example Engineering Ltd",
            "www.example-engineering.co.uk",
            "Engineering and manufacturing",
            "Medium",
            "Leeds, Sheffield",
            "Designs pumps and valves for the water industry.",
            "Placements; Graduate recruiter",
            "Sam Taylor",
            "Graduate recruitment manager",
            "sam.taylor@example-engineering.co.uk",
            "0113 496 0000",
            "no",
            "yes",
        ],
        [
            "Example Engineering Ltd",
            *[""] * 6,
            "Alex Morgan",
            "Head of engineering",
            "alex.morgan@example-engineering.co.uk",
            "",
            "no",
            "no",
        ],
    ]
