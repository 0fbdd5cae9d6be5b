"""Reading the student record system's nightly file and deciding what it would change.

`plan_feed` reads the whole file (CSV or Excel, one person per row: students with their
programme, staff with their units) and decides, writing nothing, what each row would do:
create a login, update one, or leave it unchanged. People are matched by the stable
identifier the university's systems agree on (`User.university_id`), staff without one
by email; never by a name. A row MyCareer cannot use (an unknown programme or unit, a
bad date, an email that is another person's) is reported with its reason and skipped:
one new programme must not stop a whole university's update, and nothing is invented
to make a row fit. People fed before and not in this file (or withdrawn) start to leave;
after the grace period they become inactive. `services.feed_apply` writes the plan.
"""

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone

from mycareer.accounts.erased import erased_on_many
from mycareer.accounts.models import (
    DegreeProgramme,
    StaffMembership,
    StudentProfile,
    Unit,
    User,
)
from mycareer.audit.personal_data import in_words
from mycareer.core import tables
from mycareer.core.tables import Column, ImportFileError, Limits
from mycareer.core.text import single_line
from mycareer.people.models import FeedRecord

Kind = FeedRecord.Kind
Status = FeedRecord.Status

COLUMNS = [
    Column("kind", "Kind", True, "student or staff.", ("role", "person type", "type")),
    Column(
        "university_id",
        "Stable id",
        False,
        "The person's identifier in the university's systems, the one single sign-on "
        "also releases (for example their eduPersonPrincipalName). Required for students.",
        ("stable identifier", "university id", "person id", "id"),
    ),
    Column("email", "Email", True, "Their university email address.", ("email address",)),
    Column("given_name", "Given name", False, "First name.", ("first name", "forename")),
    Column("family_name", "Family name", False, "Surname.", ("surname", "last name")),
    Column("student_number", "Student number", False, "Students: their student number."),
    Column(
        "programme",
        "Programme code",
        False,
        "Students: the code of their degree programme, as MyCareer has it.",
        ("programme", "course code"),
    ),
    Column(
        "year_of_study",
        "Year of study",
        False,
        "Students: a number from 1 to 10 (1 if blank).",
        ("year",),
    ),
    Column(
        "unit",
        "Faculty or school",
        False,
        "Students: the code of their school or faculty (their programme's if blank).",
        ("school", "faculty", "school or faculty", "faculty/school"),
    ),
    Column(
        "expected_graduation",
        "Expected graduation",
        False,
        "Students: a date, 2027-06-30 or 30/06/2027.",
        ("expected graduation date", "graduation date"),
    ),
    Column(
        "status",
        "Status",
        False,
        "Students: enrolled, suspended, withdrawn or graduated (enrolled if blank).",
        ("enrolment status",),
    ),
    Column(
        "units",
        "Units",
        False,
        "Staff: the codes of the units they work in, separated by ; (for example mech; eps).",
        ("staff units", "departments"),
    ),
]
HEADINGS = {column.key: column.heading for column in COLUMNS}
# A university sends every student and member of staff each night: tens of thousands.
MAX_ROWS = 100_000
MAX_BYTES = 40 * 1024 * 1024
LIMITS = Limits(max_rows=MAX_ROWS, max_bytes=MAX_BYTES, columns=len(COLUMNS))
# The problems kept with an import's record (all are listed by a dry run).
MAX_PROBLEMS_KEPT = 500
# Queries that name many people at once go in batches (SQLite's limit on parameters).
BATCH = 500

_email_validator = EmailValidator()


@dataclass
class Problem:
    row: int
    who: str
    message: str


@dataclass
class PersonPlan:
    """One row of the file and what it would do to MyCareer."""

    row: int
    kind: str
    university_id: str
    email: str
    full_name: str
    status: str = ""
    student_number: str = ""
    programme: DegreeProgramme | None = None
    unit: Unit | None = None
    year_of_study: int = 1
    expected_graduation: datetime.date | None = None
    unit_ids: list[int] = field(default_factory=list)
    existing: User | None = None
    changes: list[str] = field(default_factory=list)
    returns: bool = False

    @property
    def outcome(self) -> str:
        if self.existing is None:
            return "create"
        return "update" if self.changes else "unchanged"

    @property
    def who(self) -> str:
        return self.university_id or self.email


@dataclass
class LeaverPlan:
    record: FeedRecord
    # "missing": the grace period starts now; "waiting": it is running; "leaves": it is
    # over, so they become inactive.
    action: str


@dataclass
class ErasedRow:
    """A row of a person erased at their request: skipped, named only by its number."""

    row: int
    erased_on: datetime.date


@dataclass
class FeedPlan:
    filename: str
    row_count: int
    people: list[PersonPlan]
    problems: list[Problem]
    leavers: list[LeaverPlan]
    unknown_programmes: Counter
    unknown_units: Counter
    withdrawn_not_added: int
    kinds: set[str]
    erased: list[ErasedRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        outcomes = Counter(person.outcome for person in self.people)
        actions = Counter(leaver.action for leaver in self.leavers)
        return {
            "rows": self.row_count,
            "created": outcomes["create"],
            "updated": outcomes["update"],
            "unchanged": outcomes["unchanged"],
            "skipped": len({problem.row for problem in self.problems}),
            "left": actions["leaves"],
            "missing": actions["missing"] + actions["waiting"],
            "withdrawn_not_added": self.withdrawn_not_added,
            "erased": len(self.erased),
        }

    def summary(self, shown: int = 200) -> dict:
        """What the file does, as plain data to keep: the counts, the unknown codes, and
        the first `shown` problems, changed people and leavers."""
        return {
            **self.counts,
            "has_work": self.has_work,
            "unknown_programmes": dict(sorted(self.unknown_programmes.items())),
            "unknown_units": dict(sorted(self.unknown_units.items())),
            # Never who they were: the row number and the date say enough to the
            # administrator, and the summary is kept.
            "erased_rows": [
                {"row": e.row, "erased_on": in_words(e.erased_on)}
                for e in self.erased[:MAX_PROBLEMS_KEPT]
            ],
            "problems": [
                {"row": p.row, "who": p.who, "message": p.message}
                for p in self.problems[:MAX_PROBLEMS_KEPT]
            ],
            "changes": [
                {
                    "row": p.row,
                    "name": p.full_name,
                    "email": p.email,
                    "outcome": p.outcome,
                    "kind": p.kind,
                    "changes": p.changes,
                }
                for p in self.changed[:shown]
            ],
            "leaving": [
                {
                    "name": str(leaver.record.user),
                    "action": leaver.action,
                    "missing_since": leaver.record.missing_since.date().isoformat()
                    if leaver.record.missing_since
                    else "",
                }
                for leaver in self.leavers
                if leaver.action != "waiting"
            ][:shown],
        }

    @property
    def changed(self) -> list[PersonPlan]:
        return [person for person in self.people if person.outcome != "unchanged"]

    @property
    def has_work(self) -> bool:
        return bool(self.changed) or any(
            leaver.action in {"missing", "leaves"} for leaver in self.leavers
        )


# Reading rows ---------------------------------------------------------------------


def _date(text: str) -> datetime.date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    raise ValueError(text)


def _codes(text: str) -> list[str]:
    return [code.strip().lower() for code in re.split(r"[;|,]", text) if code.strip()]


def _too_long(value: str, model, name: str, problems: list[str], *, what: str = "") -> None:
    limit = model._meta.get_field(name).max_length
    if limit and len(value) > limit:
        what = what or f"“{HEADINGS.get(name, name)}”"
        problems.append(f"{what} is {len(value)} characters; at most {limit} fit.")


def _check_row(
    row: int,
    values: dict[str, str],
    programmes: dict[str, DegreeProgramme],
    units: dict[str, Unit],
    unknown_programmes: Counter,
    unknown_units: Counter,
) -> tuple[PersonPlan | None, list[str]]:
    """One row's text as a PersonPlan, or the reasons it cannot be used."""
    problems: list[str] = []
    values = {key: single_line(value).strip() for key, value in values.items()}
    kind = values.get("kind", "").lower()
    if kind not in Kind.values:
        problems.append(f"“Kind” must be student or staff, not “{values.get('kind', '')}”.")
    email = values.get("email", "").lower()
    try:
        _email_validator(email)
    except ValidationError:
        problems.append(f"“{email}” is not an email address." if email else "The email is missing.")
    university_id = values.get("university_id", "")
    _too_long(university_id, User, "university_id", problems)
    full_name = " ".join(
        part for part in (values.get("given_name", ""), values.get("family_name", "")) if part
    )
    if not full_name:
        problems.append("The name is missing: give a given name, a family name or both.")
    # The file has no column of that name: say which ones make it up.
    what = "The name (“Given name” and “Family name” together)"
    _too_long(full_name, User, "full_name", problems, what=what)
    plan = PersonPlan(row, kind, university_id, email, full_name)
    if kind == Kind.STUDENT:
        _check_student(plan, values, programmes, units, problems, unknown_programmes, unknown_units)
    elif kind == Kind.STAFF:
        for code in _codes(values.get("units", "")):
            unit = units.get(code)
            if unit is None:
                unknown_units[code] += 1
                problems.append(f"The unit “{code}” is not in MyCareer.")
            elif unit.pk not in plan.unit_ids:
                plan.unit_ids.append(unit.pk)
    return (None if problems else plan), problems


def _check_student(plan, values, programmes, units, problems, unknown_programmes, unknown_units):
    if not plan.university_id:
        problems.append("A student needs their stable id: MyCareer matches people by it.")
    plan.student_number = values.get("student_number", "")
    if not plan.student_number:
        problems.append("The student number is missing.")
    _too_long(plan.student_number, StudentProfile, "student_number", problems)
    code = values.get("programme", "").lower()
    plan.programme = programmes.get(code)
    if not code:
        problems.append("The programme code is missing.")
    elif plan.programme is None:
        unknown_programmes[code] += 1
        problems.append(f"The programme “{code}” is not in MyCareer.")
    unit_code = values.get("unit", "").lower()
    if unit_code:
        plan.unit = units.get(unit_code)
        if plan.unit is None:
            unknown_units[unit_code] += 1
            problems.append(f"The school or faculty “{unit_code}” is not in MyCareer.")
    elif plan.programme is not None:
        plan.unit = plan.programme.unit
    year = values.get("year_of_study", "") or "1"
    if not year.isdigit() or not 1 <= int(year) <= 10:
        problems.append(f"“Year of study” must be a number from 1 to 10, not “{year}”.")
    else:
        plan.year_of_study = int(year)
    graduation = values.get("expected_graduation", "")
    if graduation:
        try:
            plan.expected_graduation = _date(graduation)
        except ValueError:
            problems.append(f"“{graduation}” is not a date: write 2027-06-30 or 30/06/2027.")
    status = values.get("status", "").lower() or Status.ENROLLED
    if status not in Status.values:
        problems.append(
            f"“Status” must be enrolled, suspended, withdrawn or graduated, not “{status}”."
        )
    plan.status = status


# Matching and comparing -------------------------------------------------------------


def _in_batches(values: list):
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


def _users(field_name: str, values: set) -> dict:
    """Logins by `field_name` (university_id or pk), with what comparing reads."""
    found: dict = {}
    for batch in _in_batches(sorted(values)):
        users = User.objects.filter(**{f"{field_name}__in": batch}).select_related(
            "student_profile", "feed_record"
        )
        for user in users:
            found[getattr(user, field_name)] = user
    return found


@dataclass(frozen=True)
class _Holder:
    pk: int
    kind: str
    university_id: str | None


def _email_holders(emails: set[str]) -> dict[str, _Holder]:
    """Who holds each email now (emails are unique), read light: most are the row's own."""
    found: dict[str, _Holder] = {}
    for batch in _in_batches(sorted(emails)):
        rows = User.objects.filter(email__in=batch).values_list(
            "email", "pk", "kind", "university_id"
        )
        for email, pk, kind, university_id in rows:
            found[email.lower()] = _Holder(pk, kind, university_id)
    return found


def _units_of(user_ids: list[int]) -> dict[int, dict[int, str]]:
    """Each member of staff's units, with where each came from (StaffMembership.Source)."""
    units: dict[int, dict[int, str]] = {}
    for batch in _in_batches(user_ids):
        rows = StaffMembership.objects.filter(user_id__in=batch).values_list(
            "user_id", "unit_id", "source"
        )
        for user_id, unit_id, source in rows:
            units.setdefault(user_id, {})[unit_id] = source
    return units


def _profile(user: User):
    try:
        return user.student_profile
    except User.student_profile.RelatedObjectDoesNotExist:
        return None


def _record(user: User) -> FeedRecord | None:
    try:
        return user.feed_record
    except User.feed_record.RelatedObjectDoesNotExist:
        return None


def _changes(person: PersonPlan, user: User, units: dict[int, str]) -> list[str]:
    """What importing this row would change on `user`, in words."""
    changes = []
    if person.university_id and user.university_id != person.university_id:
        changes.append("linked to the student record system by their stable id")
    if user.email.lower() != person.email:
        changes.append("email")
    if user.full_name != person.full_name:
        changes.append("name")
    if user.kind != person.kind:
        changes.append(f"now {Kind(person.kind).label.lower()}")
    record = _record(user)
    if record is None:
        if not person.university_id or user.university_id == person.university_id:
            changes.append("now kept up to date by the student record system")
    elif record.left_at is not None and person.status != Status.WITHDRAWN:
        person.returns = True
        changes.append("back in the student record system: made active again")
    if record is not None and record.status != person.status:
        changes.append("status")
    if person.kind == Kind.STUDENT:
        profile = _profile(user)
        if profile is None:
            changes.append("student details added")
        else:
            for name, label in (
                ("programme_id", "programme"),
                ("unit_id", "school or faculty"),
                ("year_of_study", "year of study"),
                ("student_number", "student number"),
                ("expected_graduation", "expected graduation"),
            ):
                wanted = getattr(person, name.removesuffix("_id"))
                wanted = wanted.pk if name.endswith("_id") and wanted is not None else wanted
                if getattr(profile, name) != wanted:
                    changes.append(label)
    else:
        # The feed owns the units it gave; a unit added by hand stays (and is not its).
        wanted = set(person.unit_ids)
        given = {unit for unit, source in units.items() if source == StaffMembership.Source.FEED}
        if wanted - set(units) or given - wanted:
            changes.append("units")
    return changes


def _match(people: list[PersonPlan], problems: list[Problem]) -> list[PersonPlan]:
    """Find each row's person in MyCareer; rows that clash with someone else are dropped."""
    by_id = _users("university_id", {p.university_id for p in people if p.university_id})
    holders = _email_holders({p.email for p in people})
    numbers: dict[str, int] = {}
    wanted_numbers = sorted({p.student_number for p in people if p.student_number})
    for batch in _in_batches(wanted_numbers):
        rows = StudentProfile.objects.filter(student_number__in=batch).values_list(
            "student_number", "user_id"
        )
        numbers.update(rows)
    matched: list[tuple[PersonPlan, int | None]] = []
    for person in people:
        user = by_id.get(person.university_id) if person.university_id else None
        user_id: int | None = user.pk if user is not None else None
        holder = holders.get(person.email)
        problem = ""
        if user is None and holder is not None:
            # Not yet linked: the login with this email is theirs if it is a member of
            # the university's with no other stable id (a person added by hand, or met
            # before the feed began).
            if holder.kind == User.Kind.EMPLOYER:
                problem = "This email belongs to an employer's login."
            elif holder.university_id and holder.university_id != person.university_id:
                problem = (
                    "This email belongs to another person in MyCareer (a different stable id)."
                )
            user_id = holder.pk
        elif user is not None and holder is not None and holder.pk != user.pk:
            problem = (
                "The new email belongs to another person in MyCareer; "
                "nothing was changed for this person."
            )
        owner = numbers.get(person.student_number)
        if not problem and owner is not None and owner != user_id:
            problem = f"The student number {person.student_number} belongs to another student."
        if problem:
            problems.append(Problem(person.row, person.who, problem))
        else:
            matched.append((person, user_id))
    linked = _users(
        "pk",
        {user_id for _, user_id in matched if user_id is not None}
        - {user.pk for user in by_id.values()},
    )
    users = {**{user.pk: user for user in by_id.values()}, **linked}
    units = _units_of(
        sorted(found for person, found in matched if found and person.kind == Kind.STAFF)
    )
    for person, found in matched:
        if found is not None:
            person.existing = users[found]
            person.changes = _changes(person, person.existing, units.get(found, {}))
    return [person for person, _ in matched]


def _leavers(kinds: set[str], present: set[int], now: datetime.datetime) -> list[LeaverPlan]:
    """People fed before who are not in this file (or are withdrawn), and what happens."""
    grace = datetime.timedelta(days=settings.MYCAREER["PEOPLE_LEAVER_GRACE_DAYS"])
    plans = []
    records = (
        FeedRecord.objects.filter(kind__in=kinds, left_at__isnull=True)
        .exclude(user_id__in=present)
        .select_related("user")
        .order_by("pk")
    )
    for record in records.iterator(chunk_size=2000):
        if record.missing_since is None:
            action = "missing"
        elif record.missing_since <= now - grace:
            action = "leaves"
        else:
            action = "waiting"
        plans.append(LeaverPlan(record, action))
    return plans


def plan_feed(*, data: bytes, filename: str, now: datetime.datetime | None = None) -> FeedPlan:
    """Read and check the whole file and decide what it would change; nothing is written.

    Raises ImportFileError when the file as a whole cannot be used (unknown headings,
    not a spreadsheet, too big).
    """
    now = now or timezone.now()
    table = tables.read_table(data=data, filename=filename, limits=LIMITS)
    columns = tables.map_headings(
        table[0],
        COLUMNS,
        required={
            "kind": "The first row must hold the column headings, including “Kind”.",
            "email": "The first row must hold the column headings, including “Email”.",
        },
    )
    programmes = {p.code.lower(): p for p in DegreeProgramme.objects.select_related("unit")}
    units = {u.code.lower(): u for u in Unit.objects.all()}
    problems: list[Problem] = []
    unknown_programmes: Counter = Counter()
    unknown_units: Counter = Counter()
    people: list[PersonPlan] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    # Every stable id and email in the file, good rows or not: a person whose row has a
    # fault this time is still in the feed, so does not start to leave.
    mentioned_ids: set[str] = set()
    mentioned_emails: set[str] = set()
    withdrawn: set[str] = set()
    kinds: set[str] = set()
    row_count = 0
    rows = [
        (number, {key: cells[i] if i < len(cells) else "" for key, i in columns.items()})
        for number, cells in enumerate(table[1:], start=2)
        if any(cells)
    ]
    erased_rows = _erased_rows(rows)
    for number, values in rows:
        row_count += 1
        if number in erased_rows:
            continue
        person, reasons = _check_row(
            number, values, programmes, units, unknown_programmes, unknown_units
        )
        university_id, email = _identifiers(values)
        kind = values.get("kind", "").strip().lower()
        if kind in Kind.values:
            kinds.add(kind)
        mentioned_ids.add(university_id)
        mentioned_emails.add(email)
        who = university_id or email
        if university_id and university_id in seen_ids:
            reasons.append(f"This stable id is also on row {seen_ids[university_id]}.")
        elif email and email in seen_emails:
            reasons.append(f"This email is also on row {seen_emails[email]}.")
        if university_id:
            seen_ids.setdefault(university_id, number)
        if email:
            seen_emails.setdefault(email, number)
        if reasons:
            problems.extend(Problem(number, who, reason) for reason in reasons)
            continue
        assert person is not None
        if person.status == Status.WITHDRAWN:
            withdrawn.add(person.university_id)
        people.append(person)
    if row_count == 0:
        raise ImportFileError("This file has headings but no rows to import.")
    people = _match(people, problems)
    withdrawn_not_added = sum(
        1 for p in people if p.existing is None and p.status == Status.WITHDRAWN
    )
    people = [p for p in people if not (p.existing is None and p.status == Status.WITHDRAWN)]
    present = _present(mentioned_ids - withdrawn - {""})
    present |= _present_by_email(mentioned_emails - {""}, withdrawn)
    problems.sort(key=lambda problem: problem.row)
    return FeedPlan(
        filename=filename,
        row_count=row_count,
        people=people,
        problems=problems,
        leavers=_leavers(kinds, present, now),
        unknown_programmes=unknown_programmes,
        unknown_units=unknown_units,
        withdrawn_not_added=withdrawn_not_added,
        kinds=kinds,
        erased=[ErasedRow(number, on) for number, on in sorted(erased_rows.items())],
    )


def _identifiers(values: dict[str, str]) -> tuple[str, str]:
    """A row's stable id and email as matching reads them."""
    return (
        single_line(values.get("university_id", "")).strip(),
        single_line(values.get("email", "")).strip().lower(),
    )


def _erased_rows(rows: list[tuple[int, dict[str, str]]]) -> dict[int, datetime.date]:
    """Rows of people erased at their request (by stable id or email), with the date.

    They are skipped before anything else is read from them: the person must not come
    back, and their row is not even checked (its problems would name them)."""
    erased = erased_on_many(_identifiers(values) for _, values in rows)
    return {
        number: erased[_identifiers(values)]
        for number, values in rows
        if _identifiers(values) in erased
    }


def _present(ids: set[str]) -> set[int]:
    found: set[int] = set()
    for batch in _in_batches(sorted(ids)):
        found.update(User.objects.filter(university_id__in=batch).values_list("pk", flat=True))
    return found


def _present_by_email(emails: set[str], withdrawn: set[str]) -> set[int]:
    """Logins named in the file by email (staff without a stable id), not withdrawn."""
    found: set[int] = set()
    for batch in _in_batches(sorted(emails)):
        rows = User.objects.filter(email__in=batch).values_list("pk", "university_id")
        found.update(pk for pk, university_id in rows if university_id not in withdrawn)
    return found


def template_rows() -> list[list[str]]:
    """A file to start from: the headings, a student and a member of staff."""
    return [
        [column.heading for column in COLUMNS],
        [
            "student",
            "ak123@demo.ac.uk",
            "aisha.khan@demo.ac.uk",
            "Aisha",
            "Khan",
            "201912345",
            "meng-mech",
            "3",
            "mech",
            "2027-06-30",
            "enrolled",
            "",
        ],
        ["staff", "", "j.smith@demo.ac.uk", "Jo", "Smith", "", "", "", "", "", "", "mech; eps"],
    ]
