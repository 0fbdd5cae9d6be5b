"""Benchmark data for people: a university to hang data on, and 20,000 students.

The demo university (`seed_demo`) is used when it is there; an empty database gets a
small tree of faculties, schools and programmes of its own. Students are made in bulk
with an unusable password: a benchmark database must never gain 20,000 accounts
anyone can log in to. A benchmark that needs students to log in sets passwords on the
few it uses, in its own throwaway database.
"""

from django.contrib.auth.hashers import make_password
from django.db import transaction

from mycareer.accounts.models import DegreeProgramme, StudentProfile, Unit, User
from mycareer.core.benchseed import (
    FULL,
    STUDENT_EMAIL_DOMAIN,
    BenchPlan,
    BenchSeedStep,
    chunks,
    register_bench_seed,
)

STUDENTS = 20_000
# (faculty, [(school, [programmes])]) for a database that has no units yet.
UNIVERSITY = [
    ("Engineering", [("Mechanical Engineering", ["MEng Mechanical Engineering"]),
                     ("Computing", ["BSc Computer Science", "MSc Data Science"])]),
    ("Business", [("Business School", ["BSc Accounting and Finance", "BA Management"])]),
    ("Arts", [("English", ["BA English Literature"]), ("History", ["BA History"])]),
]  # fmt: skip
FIRST = [
    "Aisha", "Oliver", "Mei", "James", "Fatima", "Lucas", "Amelia", "Noah", "Isla",
    "Leo", "Ava", "Arthur", "Mia", "Muhammad", "Ivy", "Harry", "Freya", "Jacob", "Lily",
    "Theo", "Zainab", "Kwame", "Anya", "Rohan", "Ella", "Finn", "Niamh", "Ewan", "Sienna",
    "Tomasz",
]  # fmt: skip
LAST = [
    "Khan", "Price", "Lin", "Begum", "Schmidt", "Smith", "Jones", "Taylor", "Brown",
    "Williams", "Patel", "Ali", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Murphy",
    "Okoro", "Nguyen", "Kowalski", "Singh", "Davies", "Clarke", "Green", "Hall", "Young",
    "Ahmed", "Campbell", "Lewis",
]  # fmt: skip


def ensure_university(plan: BenchPlan) -> None:
    """Units and programmes exist (the demo's, or a small set of our own)."""
    if not Unit.objects.exists():
        for faculty_name, schools in UNIVERSITY:
            faculty = Unit.objects.create(
                name=f"Faculty of {faculty_name}",
                code=f"bench-{faculty_name.lower()}",
                kind=Unit.Kind.FACULTY,
            )
            for school_name, programmes in schools:
                school = Unit.objects.create(
                    name=f"School of {school_name}",
                    code=f"bench-{school_name.lower().replace(' ', '-')}",
                    kind=Unit.Kind.SCHOOL,
                    parent=faculty,
                )
                for programme in programmes:
                    DegreeProgramme.objects.create(
                        name=programme,
                        code=f"bench-{programme.lower().replace(' ', '-')}",
                        unit=school,
                        level="pgt" if programme.startswith("MSc") else "ug",
                    )
    plan.shared["unit_ids"] = list(Unit.objects.order_by("pk").values_list("pk", flat=True))
    plan.shared["programmes"] = list(
        DegreeProgramme.objects.order_by("pk").values_list("pk", "unit_id", "level")
    )


def seed_students(plan: BenchPlan) -> None:
    """20,000 students with profiles spread over every programme and year."""
    ensure_university(plan)
    programmes = plan.shared["programmes"]
    if not programmes:
        plan.say("  no degree programmes: no students made")
        return
    rng = plan.rng("students")
    # Numbering carries on from any earlier run, so emails and numbers stay unique.
    start = User.objects.filter(email__endswith=f"@{STUDENT_EMAIL_DOMAIN}").count()
    unusable = make_password(None)
    student_ids: list[int] = []
    with plan.timed("students") as counter:
        for part in chunks(STUDENTS, plan.batch_size * 2):
            users, profiles = [], []
            for index in part:
                n = start + index
                first, last = rng.choice(FIRST), rng.choice(LAST)
                programme_id, unit_id, level = rng.choice(programmes)
                users.append(
                    User(
                        email=f"student{n:06d}@{STUDENT_EMAIL_DOMAIN}",
                        full_name=f"{first} {last}",
                        kind=User.Kind.STUDENT,
                        password=unusable,
                    )
                )
                profiles.append(
                    StudentProfile(
                        unit_id=unit_id,
                        programme_id=programme_id,
                        year_of_study=1 if level != "ug" else rng.randint(1, 4),
                        student_number=f"B{n:08d}",
                    )
                )
            with transaction.atomic():
                User.objects.bulk_create(users, batch_size=plan.batch_size)
                for user, profile in zip(users, profiles, strict=True):
                    profile.user_id = user.pk
                StudentProfile.objects.bulk_create(profiles, batch_size=plan.batch_size)
            student_ids.extend(user.pk for user in users)
            counter["rows"] += len(users) + len(profiles)
    plan.shared["student_ids"] = student_ids


register_bench_seed(BenchSeedStep("students", seed_students, order=10, shapes=(FULL,)))
