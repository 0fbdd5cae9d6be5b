"""The student record feed: dry run, idempotence, unknown programmes, matching, leavers."""

import csv
import datetime
import io
import itertools

import pytest
import time_machine
from django.core.management import CommandError, call_command

from mycareer.accounts.models import DegreeProgramme, StaffMembership, StudentProfile, Unit, User
from mycareer.audit.models import AuditEntry
from mycareer.people.feed import COLUMNS, plan_feed
from mycareer.people.models import FeedImport, FeedRecord
from mycareer.people.services import feed_import

HEADINGS = [column.heading for column in COLUMNS]
_numbers = itertools.count(1)


def student(uid, email, *, given="Sam", family="Lee", number=None, programme="bsc-cs", **extra):
    row = {
        "Kind": "student",
        "Stable id": uid,
        "Email": email,
        "Given name": given,
        "Family name": family,
        "Student number": number or f"7{next(_numbers):08d}",
        "Programme code": programme,
        "Year of study": "2",
        "Faculty or school": "",
        "Expected graduation": "2027-06-30",
        "Status": "enrolled",
    }
    row.update(extra)
    return row


def staff(email, *, units="mech", uid="", given="Jo", family="Smith"):
    return {
        "Kind": "staff",
        "Stable id": uid,
        "Email": email,
        "Given name": given,
        "Family name": family,
        "Units": units,
    }


def feed_file(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADINGS, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def run(rows, **kwargs) -> dict:
    return feed_import(
        data=feed_file(rows), filename="feed.csv", by=None, source="command", **kwargs
    ).counts


def state() -> list:
    """Everything the feed writes, to compare before and after."""
    return [
        list(
            User.objects.order_by("pk").values_list(
                "pk", "email", "full_name", "kind", "university_id", "is_active"
            )
        ),
        list(StudentProfile.objects.order_by("pk").values()),
        list(StaffMembership.objects.order_by("user_id", "unit_id").values_list("user", "unit")),
        list(
            FeedRecord.objects.order_by("pk").values_list(
                "user", "kind", "status", "missing_since", "left_at"
            )
        ),
    ]


ROWS = [
    student("s1@uni", "s1@demo.ac.uk", given="Ada", family="Byron"),
    student("s2@uni", "s2@demo.ac.uk", given="Ben", family="Okri", programme="meng-mech"),
    staff("lecturer@demo.ac.uk", units="mech; eps"),
]


def test_a_dry_run_writes_nothing_and_says_what_would_change(cast, capsys):
    before = state()
    path = _write(ROWS)
    call_command("import_people", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run: nothing was written. 3 rows read." in out
    assert "Created: 3. Updated: 0. Unchanged: 0. Left: 0." in out
    assert state() == before
    assert not FeedImport.objects.exists()


def test_the_summary_of_skipped_rows_reads_as_english_in_a_dry_run_and_for_real(cast, capsys):
    path = _write([*ROWS, student("s3@uni", "s3@demo.ac.uk", programme="no-such-course")])
    with pytest.raises(CommandError):
        call_command("import_people", str(path), "--dry-run")
    assert "Rows that would be skipped (not imported): 1." in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_people", str(path))
    assert "Rows skipped (not imported): 1." in capsys.readouterr().out


def _write(rows):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "feed.csv"
    path.write_bytes(feed_file(rows))
    return path


def test_it_creates_students_and_staff_without_passwords_or_access(cast):
    counts = run(ROWS)
    assert counts["created"] == 3
    ada = User.objects.get(university_id="s1@uni")
    assert (ada.email, ada.full_name, ada.kind) == ("s1@demo.ac.uk", "Ada Byron", "student")
    assert not ada.has_usable_password()
    profile = ada.student_profile
    assert profile.programme.code == "bsc-cs"
    assert profile.unit.code == "computing"  # the programme's, as no school was given
    assert profile.expected_graduation == datetime.date(2027, 6, 30)
    assert ada.feed_record.status == "enrolled"
    lecturer = User.objects.get(email="lecturer@demo.ac.uk")
    assert lecturer.kind == "staff" and lecturer.university_id is None
    assert {m.unit.code for m in lecturer.memberships.all()} == {"mech", "eps"}
    assert not lecturer.access_grants.exists()
    assert AuditEntry.objects.filter(action="people.person.created").count() == 3


def test_the_same_file_twice_changes_nothing(cast):
    run(ROWS)
    before = state()
    audits = AuditEntry.objects.count()
    counts = run(ROWS)
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 0, 3)
    assert state() == before
    # Only the import itself is audited the second time.
    assert AuditEntry.objects.count() == audits + 1


def test_unknown_programmes_and_units_are_reported_and_never_invented(cast, capsys):
    rows = [
        *ROWS,
        student("s3@uni", "s3@demo.ac.uk", programme="bsc-astro"),
        student("s4@uni", "s4@demo.ac.uk", programme="bsc-astro"),
        staff("new@demo.ac.uk", units="mech; physics"),
    ]
    programmes, units = DegreeProgramme.objects.count(), Unit.objects.count()
    with pytest.raises(CommandError, match="3 row"):
        call_command("import_people", str(_write(rows)))
    out = capsys.readouterr().out
    assert "Unknown programme “bsc-astro” (2 rows)" in out
    assert "Unknown unit “physics” (1 row)" in out
    assert "Row 5 (s3@uni): The programme “bsc-astro” is not in MyCareer." in out
    assert (DegreeProgramme.objects.count(), Unit.objects.count()) == (programmes, units)
    assert not User.objects.filter(email__in=["s3@demo.ac.uk", "new@demo.ac.uk"]).exists()
    # The good rows went in; the record says what was left out.
    assert User.objects.filter(university_id="s1@uni").exists()
    record = FeedImport.objects.get()
    assert record.counts["unknown_programmes"] == {"bsc-astro": 2}
    assert record.counts["skipped"] == 3


def test_a_person_already_in_mycareer_is_linked_by_email_not_duplicated(cast, persona):
    aisha = persona("student")
    assert aisha.university_id is None
    rows = [
        student(
            "ak123@uni",
            "student@demo.ac.uk",
            given="Aisha",
            family="Khan",
            number=aisha.student_profile.student_number,
            programme="meng-mech",
        )
    ]
    counts = run(rows)
    assert (counts["created"], counts["updated"]) == (0, 1)
    aisha.refresh_from_db()
    assert aisha.university_id == "ak123@uni"
    assert User.objects.filter(full_name="Aisha Khan").count() == 1
    # Next night the university has changed her email: the stable id finds her.
    rows[0]["Email"] = "a.khan@demo.ac.uk"
    run(rows)
    aisha.refresh_from_db()
    assert aisha.email == "a.khan@demo.ac.uk"


def test_an_employer_email_or_another_persons_number_is_refused(cast, persona):
    rows = [
        student("x1@uni", "employer@demo-employer.com"),
        student(
            "x2@uni", "x2@demo.ac.uk", number=persona("student").student_profile.student_number
        ),
    ]
    plan = plan_feed(data=feed_file(rows), filename="feed.csv")
    messages = {problem.message for problem in plan.problems}
    assert "This email belongs to an employer's login." in messages
    assert any("belongs to another student" in message for message in messages)
    assert plan.counts["created"] == 0


def test_bad_rows_say_why_and_the_file_as_a_whole_is_checked(cast):
    rows = [
        student("b1@uni", "not-an-email"),
        student("b2@uni", "b2@demo.ac.uk", **{"Expected graduation": "soon"}),
        student("", "b3@demo.ac.uk"),
        student("b1@uni", "b4@demo.ac.uk"),
        {"Kind": "visitor", "Email": "v@demo.ac.uk", "Given name": "V"},
    ]
    plan = plan_feed(data=feed_file(rows), filename="feed.csv")
    messages = [(p.row, p.message) for p in plan.problems]
    assert (2, "“not-an-email” is not an email address.") in messages
    assert (3, "“soon” is not a date: write 2027-06-30 or 30/06/2027.") in messages
    assert (4, "A student needs their stable id: MyCareer matches people by it.") in messages
    assert (5, "This stable id is also on row 2.") in messages
    assert (6, "“Kind” must be student or staff, not “visitor”.") in messages
    with pytest.raises(Exception, match="does not know the column “Shoe size”"):
        plan_feed(data=b"Kind,Email,Shoe size\nstaff,a@demo.ac.uk,9\n", filename="feed.csv")


def test_a_name_too_long_names_the_columns_it_comes_from(cast):
    rows = [student("long@uni", "long@demo.ac.uk", given="G" * 150, family="Lee")]
    plan = plan_feed(data=feed_file(rows), filename="feed.csv")
    assert [(p.row, p.message) for p in plan.problems] == [
        (
            2,
            "The name (“Given name” and “Family name” together) is 154 characters; at most "
            "150 fit.",
        )
    ]


def test_leavers_become_inactive_after_the_grace_period_and_keep_their_bookings(cast, settings):
    from mycareer.bookings.models import Booking
    from mycareer.bookings.tests.factories import make_event

    settings.MYCAREER["PEOPLE_LEAVER_GRACE_DAYS"] = 30
    start = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        run(ROWS)
        ben = User.objects.get(university_id="s2@uni")
        event = make_event(title="Careers fair")
        Booking.objects.create(event=event, student=ben)
    without_ben = [ROWS[0], ROWS[2]]
    with time_machine.travel(start + datetime.timedelta(days=1), tick=False):
        counts = run(without_ben)
    assert (counts["missing"], counts["left"]) == (1, 0)
    ben.refresh_from_db()
    assert ben.is_active and ben.feed_record.missing_since is not None
    with time_machine.travel(start + datetime.timedelta(days=31), tick=False):
        counts = run(without_ben)
    assert counts["left"] == 1
    ben.refresh_from_db()
    assert not ben.is_active
    assert ben.bookings.count() == 1
    assert AuditEntry.objects.filter(action="people.person.left", person=ben).exists()
    # He comes back (re-enrolled): active again, and counted as an update.
    with time_machine.travel(start + datetime.timedelta(days=40), tick=False):
        counts = run(ROWS)
    assert counts["updated"] == 1
    ben.refresh_from_db()
    assert ben.is_active and ben.feed_record.left_at is None


def test_a_missing_file_for_one_kind_says_nothing_about_the_other(cast):
    run(ROWS)
    counts = run([staff("lecturer@demo.ac.uk", units="mech; eps")])
    assert counts["missing"] == 0
    assert FeedRecord.objects.filter(missing_since__isnull=False).count() == 0


def test_a_person_with_a_faulty_row_is_not_taken_for_a_leaver(cast):
    run(ROWS)
    faulty = [ROWS[0], {**ROWS[1], "Year of study": "eleven"}, ROWS[2]]
    counts = run(faulty)
    assert (counts["skipped"], counts["missing"]) == (1, 0)


def test_people_made_by_hand_are_never_leavers(cast, persona):
    run(ROWS)
    counts = run(ROWS[:1] + ROWS[2:])
    # Only Ben (fed) is missing; the demo's students, never in the feed, are not.
    assert counts["missing"] == 1
    assert persona("student2").is_active


def test_a_withdrawn_student_starts_to_leave_and_a_new_one_is_not_added(cast, settings):
    run(ROWS)
    rows = [
        {**ROWS[0], "Status": "withdrawn"},
        ROWS[1],
        ROWS[2],
        student("w9@uni", "w9@demo.ac.uk", Status="withdrawn"),
    ]
    counts = run(rows)
    assert counts["withdrawn_not_added"] == 1
    assert counts["missing"] == 1
    ada = User.objects.get(university_id="s1@uni")
    assert ada.feed_record.status == "withdrawn" and ada.feed_record.missing_since
    assert not User.objects.filter(university_id="w9@uni").exists()


def test_an_excel_workbook_reads_like_csv(cast):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    row = student("x@uni", "x@demo.ac.uk")
    sheet.append(
        [
            datetime.datetime(2027, 6, 30) if h == "Expected graduation" else row.get(h, "")  # noqa: DTZ001
            for h in HEADINGS
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan = plan_feed(data=buffer.getvalue(), filename="feed.xlsx")
    assert plan.problems == []
    assert plan.people[0].expected_graduation == datetime.date(2027, 6, 30)


def test_a_withdrawn_students_grace_period_runs_from_the_first_file_that_said_so(cast, settings):
    settings.MYCAREER["PEOPLE_LEAVER_GRACE_DAYS"] = 30
    start = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.UTC)
    withdrawn = {**ROWS[0], "Status": "withdrawn"}
    with time_machine.travel(start, tick=False):
        run(ROWS)
        run([withdrawn, *ROWS[1:]])
    # A later file changes her name: she is still withdrawn, the clock does not restart.
    with time_machine.travel(start + datetime.timedelta(days=20), tick=False):
        counts = run([{**withdrawn, "Family name": "Lovelace"}, *ROWS[1:]])
    assert counts["updated"] == 1
    with time_machine.travel(start + datetime.timedelta(days=31), tick=False):
        counts = run([{**withdrawn, "Family name": "Lovelace"}, *ROWS[1:]])
    assert counts["left"] == 1
    ada = User.objects.get(university_id="s1@uni")
    assert not ada.is_active
    # Still listed as withdrawn the next night: she stays inactive.
    with time_machine.travel(start + datetime.timedelta(days=32), tick=False):
        counts = run([{**withdrawn, "Family name": "Lovelace"}, *ROWS[1:]])
    ada.refresh_from_db()
    assert not ada.is_active and counts["updated"] == 0
