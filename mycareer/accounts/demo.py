"""The demo university: units, programmes, staff of every level, students and training.

Idempotent: running it again updates the same rows. Later apps add their own part of
the story through the seed registry (`mycareer.core.seed`).
"""

import datetime
import functools

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from mycareer.accounts import services
from mycareer.accounts.models import (
    AccessGrant,
    AccessLevel,
    DegreeProgramme,
    StaffMembership,
    StudentProfile,
    TermsVersion,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
    Unit,
    User,
)
from mycareer.accounts.permissions import staff_bound_by_terms

DEMO_PASSWORD = "demo-password-1"
# Administrators sign in with two steps. The demo administrator's authenticator key is
# public (it is in this file and the README): add it to an authenticator app, or run
# `manage.py demo_code` for the current code. A real site never loads the demo story.
DEMO_TOTP_SECRET = "DEMOADMINMYCAREERTWOSTEPSIGNINKE"

# (code, name, kind, parent code)
UNITS = [
    ("careers", "Careers Centre", Unit.Kind.SERVICE, None),
    ("eps", "Faculty of Engineering and Physical Sciences", Unit.Kind.FACULTY, None),
    ("mech", "School of Mechanical Engineering", Unit.Kind.SCHOOL, "eps"),
    ("mech-design", "Department of Design and Manufacturing", Unit.Kind.DEPARTMENT, "mech"),
    ("computing", "School of Computing", Unit.Kind.SCHOOL, "eps"),
    ("chemistry", "School of Chemistry", Unit.Kind.SCHOOL, "eps"),
    ("business", "Faculty of Business", Unit.Kind.FACULTY, None),
    ("lubs", "Business School", Unit.Kind.SCHOOL, "business"),
    ("accounting", "Department of Accounting and Finance", Unit.Kind.DEPARTMENT, "lubs"),
    ("management", "Department of Management", Unit.Kind.DEPARTMENT, "lubs"),
    ("ahc", "Faculty of Arts, Humanities and Cultures", Unit.Kind.FACULTY, None),
    ("english", "School of English", Unit.Kind.SCHOOL, "ahc"),
    ("history", "School of History", Unit.Kind.SCHOOL, "ahc"),
    ("music", "School of Music", Unit.Kind.SCHOOL, "ahc"),
]

PROGRAMMES = [
    ("meng-mech", "MEng Mechanical Engineering", "mech", "ug"),
    ("beng-mech", "BEng Mechanical Engineering", "mech", "ug"),
    ("bsc-cs", "BSc Computer Science", "computing", "ug"),
    ("msc-ai", "MSc Artificial Intelligence", "computing", "pgt"),
    ("mchem", "MChem Chemistry", "chemistry", "ug"),
    ("bsc-acc", "BSc Accounting and Finance", "accounting", "ug"),
    ("ba-mgmt", "BA Business Management", "management", "ug"),
    ("msc-mgmt", "MSc International Business", "lubs", "pgt"),
    ("ba-english", "BA English Literature", "english", "ug"),
    ("ba-history", "BA History", "history", "ug"),
    ("bmus", "BMus Music", "music", "ug"),
]

# email, name, job title, unit codes, level, operator training (days ago), bulk (days ago)
STAFF = [
    (
        "admin@demo.ac.uk",
        "Priya Shah",
        "Employer Engagement Manager",
        ["careers"],
        AccessLevel.ADMIN,
        60,
        60,
    ),
    (
        "operator@demo.ac.uk",
        "Tom Bennett",
        "Industrial Liaison Officer",
        ["mech"],
        AccessLevel.OPERATOR,
        120,
        None,
    ),
    (
        "manager@demo.ac.uk",
        "Helen Marsh",
        "Faculty Employability Lead",
        ["eps"],
        AccessLevel.OPERATOR_DELETE,
        200,
        None,
    ),
    (
        "mailer@demo.ac.uk",
        "Grace Okafor",
        "Employer Relations Officer",
        ["lubs"],
        AccessLevel.BULK_MAILER,
        90,
        90,
    ),
    (
        "viewer@demo.ac.uk",
        "Daniel Hughes",
        "Academic Personal Tutor",
        ["history"],
        AccessLevel.VIEWER,
        None,
        None,
    ),
    (
        "untrained@demo.ac.uk",
        "Sam Whitfield",
        "Placements Administrator",
        ["computing"],
        AccessLevel.OPERATOR,
        430,
        None,
    ),
    (
        "expiring@demo.ac.uk",
        "Rachel Moore",
        "Enterprise Officer",
        ["ahc", "english"],
        AccessLevel.OPERATOR,
        350,
        None,
    ),
]

# email, name, programme code, year, student number
STUDENTS = [
    ("student@demo.ac.uk", "Aisha Khan", "meng-mech", 3, "201912345"),
    ("student2@demo.ac.uk", "Oliver Price", "bsc-cs", 2, "202054321"),
    ("student3@demo.ac.uk", "Mei Lin", "bsc-acc", 3, "201967890"),
    ("student4@demo.ac.uk", "James O'Connor", "ba-history", 2, "202011223"),
    ("student5@demo.ac.uk", "Fatima Begum", "meng-mech", 3, "201933445"),
    ("student6@demo.ac.uk", "Lucas Schmidt", "msc-ai", 1, "202399887"),
]

TERMS_BODY = """MyCareer holds the university's relationships with employers. By using it you agree:

1. To complete the Careers Centre's operator training before creating or editing records, and to refresh it every year.

2. To comply with the Data Protection Act and the university's data protection code of practice. In particular, you will not pass on employer contact details (email addresses, telephone numbers) to a third party, including students and graduates, without the employer's prior permission. Employers decide whether their details are visible to students.

3. To record every meaningful engagement with an employer in the organisation's notes, so colleagues can build on it.

4. Before contacting a key account contact (marked *), to liaise first with the Key Account Operator who owns the relationship.

5. To send bulk email to employer contacts only if you are a designated sender who has completed the bulk email training."""  # noqa: E501


@functools.cache
def _demo_password_hash() -> str:
    # Hashing is deliberately slow; one hash serves every demo person.
    return make_password(DEMO_PASSWORD)


def demo_totp_code(*, at: float | None = None) -> str:
    """The demo administrator's current authenticator code."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))


def _user(email: str, name: str, kind: str, **extra) -> User:
    user, _ = User.objects.get_or_create(
        email=email,
        defaults={"full_name": name, "kind": kind, "password": _demo_password_hash(), **extra},
    )
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed_university(cast: dict) -> None:
    """Create the demo units, programmes, people, training and terms; add them to the cast."""
    units: dict[str, Unit] = {}
    for code, name, kind, parent in UNITS:
        units[code], _ = Unit.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind, "parent": units.get(parent)}
        )
    programmes: dict[str, DegreeProgramme] = {}
    for code, name, unit, level in PROGRAMMES:
        programmes[code], _ = DegreeProgramme.objects.update_or_create(
            code=code, defaults={"name": name, "unit": units[unit], "level": level}
        )

    today = timezone.localdate()
    # The courses come from a data migration; a flushed test database lacks them.
    operator_course, _ = TrainingCourse.objects.get_or_create(
        code=TrainingCourse.OPERATOR, defaults={"name": "Operator training"}
    )
    bulk_course, _ = TrainingCourse.objects.get_or_create(
        code=TrainingCourse.BULK_EMAIL, defaults={"name": "Bulk email training"}
    )

    admin = _user("admin@demo.ac.uk", "Priya Shah", User.Kind.STAFF)
    if not Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(admin, DEMO_TOTP_SECRET)
    terms = TermsVersion.objects.filter(version="2.1").first() or services.terms_publish(
        version="2.1",
        title="MyCareer terms of use",
        body=TERMS_BODY,
        by=admin,
        confirmed=staff_bound_by_terms().count(),
    )

    staff: dict[str, User] = {}
    for email, name, title, unit_codes, level, operator_days, bulk_days in STAFF:
        user = _user(email, name, User.Kind.STAFF, job_title=title)
        staff[email] = user
        for code in unit_codes:
            StaffMembership.objects.get_or_create(user=user, unit=units[code])
        if not AccessGrant.objects.filter(user=user).exists():
            services.access_grant(user=user, level=level, by=admin, note="Demo set-up")
        services.terms_accept(user=user, terms=terms)
        if not TrainingRecord.objects.filter(user=user).exists():
            for course, days in ((operator_course, operator_days), (bulk_course, bulk_days)):
                if days is not None:
                    services.training_completion_record(
                        user=user,
                        course=course,
                        completed_on=today - datetime.timedelta(days=days),
                        by=admin,
                    )

    students: dict[str, User] = {}
    for email, name, programme_code, year, number in STUDENTS:
        user = _user(email, name, User.Kind.STUDENT)
        programme = programmes[programme_code]
        StudentProfile.objects.update_or_create(
            user=user,
            defaults={
                "unit": programme.unit,
                "programme": programme,
                "year_of_study": year,
                "student_number": number,
            },
        )
        students[email] = user

    employer = _user(
        "employer@demo-employer.com",
        "Laura Chen",
        User.Kind.EMPLOYER,
        job_title="Early Careers Lead",
    )
    # Laura's colleague, who signs in for Brightwave Digital too and sees without changing.
    colleague = _user(
        "imogen.nolan@demo-employer.com",
        "Imogen Nolan",
        User.Kind.EMPLOYER,
        job_title="Community Partnerships Officer",
    )

    _seed_training_sessions(admin, staff, operator_course, bulk_course)
    _seed_signin_troubles()
    cast.update(
        {
            "units": units,
            "programmes": programmes,
            "staff": staff,
            "students": students,
            "employer": employer,
            "employer_colleague": colleague,
            "admin": admin,
        }
    )


def _seed_signin_troubles() -> None:
    """Something on the administrators' failed sign-ins and failed emails pages.

    Rachel mistyped her password six times just now (so her next try waits); the
    expiry reminder email could not be sent. Both are for an administrator to clear.
    """
    from axes.models import AccessAttempt, AccessFailureLog

    from mycareer.core.models import FailedTask

    now = timezone.now()
    where = {"username": "expiring@demo.ac.uk", "ip_address": "192.0.2.10"}
    if not AccessAttempt.objects.filter(**where).exists():
        AccessAttempt.objects.create(
            **where,
            user_agent="Mozilla/5.0 (demo)",
            http_accept="text/html",
            path_info="/accounts/login/",
            get_data="",
            post_data="",
            failures_since_start=6,
        )
        AccessFailureLog.objects.bulk_create(
            [
                AccessFailureLog(
                    **where,
                    user_agent="Mozilla/5.0 (demo)",
                    http_accept="text/html",
                    path_info="/accounts/login/",
                    attempt_time=now - datetime.timedelta(seconds=30 * n),
                    locked_out=n == 0,
                )
                for n in range(6)
            ]
        )
    FailedTask.objects.get_or_create(
        task_path="mycareer.accounts.tasks.send_training_expiry_reminders",
        defaults={
            "description": "Email everyone whose training expires within the reminder window",
            "recipients": "expiring@demo.ac.uk",
            "attempts": 5,
            "error": "ConnectionRefusedError: [Errno 111] Connection refused",
        },
    )


def _seed_training_sessions(admin, staff, operator_course, bulk_course) -> None:
    if TrainingSession.objects.exists():
        return
    now = timezone.localtime()
    base = now.replace(hour=10, minute=0, second=0, microsecond=0)
    plans = [
        (
            operator_course,
            TrainingSession.Kind.ANNUAL,
            14,
            "Careers Centre, Seminar Room 2",
            20,
            "",
        ),
        (
            operator_course,
            TrainingSession.Kind.AD_HOC,
            5,
            "Online (joining link sent on booking)",
            12,
            "https://teams.example.ac.uk/careers/operator-training",
        ),
        (bulk_course, TrainingSession.Kind.ANNUAL, 21, "Careers Centre, Seminar Room 1", 10, ""),
        (operator_course, TrainingSession.Kind.ANNUAL, 45, "Business School, Room 1.08", 25, ""),
    ]
    sessions = []
    for course, kind, days, place, capacity, online_url in plans:
        starts = base + datetime.timedelta(days=days)
        # On a working day, as the Careers Centre runs them (never a Saturday or Sunday).
        if starts.weekday() > 4:
            starts += datetime.timedelta(days=7 - starts.weekday())
        sessions.append(
            services.training_session_create(
                course=course,
                kind=kind,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=2),
                place=place,
                online_url=online_url,
                capacity=capacity,
                by=admin,
                trainer=admin,
            )
        )
    # The expiring operator has booked a refresher; the untrained one has not yet.
    for session, email in (
        (sessions[0], "expiring@demo.ac.uk"),
        (sessions[2], "operator@demo.ac.uk"),
    ):
        services.training_book(session=session, user=staff[email], by=admin, notify=False)


# How demo staff describe themselves on their profiles.
PROFILES = {
    "operator@demo.ac.uk": (
        "0113 343 2101",
        "Best reached by phone on Tuesday and Thursday mornings. I look after industrial "
        "placements and the industrial advisory board for Mechanical Engineering.",
    ),
    "manager@demo.ac.uk": (
        "0113 343 2002",
        "Email me first; I coordinate the faculty's strategic partners (Stratos Aerospace) "
        "and represent the faculty on the Super User Group.",
    ),
    "admin@demo.ac.uk": (
        "0113 343 1000",
        "Access, training and the terms of use. For anything urgent, call the Careers "
        "Centre's front desk.",
    ),
    "mailer@demo.ac.uk": (
        "",
        "I run the Business School's employer masterclasses and its bulk email.",
    ),
}


def _demo_photo(colour: str) -> bytes:
    """A drawn head-and-shoulders picture, standing in for a real photo in the demo."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 160), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((52, 28, 108, 84), fill="#f3d9c4")
    draw.ellipse((24, 92, 136, 200), fill="#1b1f24")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed_staff_profiles(cast: dict) -> None:
    """Profiles, notification choices and a home page order for some demo staff."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from mycareer.accounts.models import NotificationMode

    staff = {**cast["staff"], cast["admin"].email: cast["admin"]}
    for email, (phone, about) in PROFILES.items():
        person = staff[email]
        if not person.about:
            User.objects.filter(pk=person.pk).update(phone=phone or person.phone, about=about)
    helen = staff["manager@demo.ac.uk"]
    if not helen.photo:
        path = "people/demo-helen-marsh.png"
        if not default_storage.exists(path):
            path = default_storage.save(path, ContentFile(_demo_photo("#5b2a86")))
        # Helen wants her units' events first on her home page.
        User.objects.filter(pk=helen.pk).update(
            photo=path,
            dashboard_order=["events/panels/staff.html", "bookings/panels/staff.html"],
        )
    # Priya reads MyCareer's notifications once a day.
    User.objects.filter(pk=cast["admin"].pk, notifications_off=[]).update(
        notification_mode=NotificationMode.DIGEST
    )
