"""Writing the student record feed: every change of one file in one transaction, audited."""

import logging

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import StaffMembership, StudentProfile, User
from mycareer.core.locks import hold_lock
from mycareer.core.logs import logged_job
from mycareer.people.feed import BATCH, FeedPlan, PersonPlan, plan_feed
from mycareer.people.models import FeedImport, FeedRecord

# Two imports at once (the nightly command and an upload) would each decide who left
# from what the other is changing: they take turns.
FEED_LOCK = 7_021_118
logger = logging.getLogger(__name__)
FEED = StaffMembership.Source.FEED


def _write_student(person: PersonPlan, user: User) -> None:
    assert person.programme is not None and person.unit is not None  # checked by the plan
    StudentProfile.objects.update_or_create(
        user=user,
        defaults={
            "programme": person.programme,
            "unit": person.unit,
            "year_of_study": person.year_of_study,
            "student_number": person.student_number,
            "expected_graduation": person.expected_graduation,
        },
    )


def _write_units(person: PersonPlan, user: User) -> None:
    """The units the row lists; of the others, only those the feed gave are removed."""
    wanted = set(person.unit_ids)
    current = set(user.memberships.values_list("unit_id", flat=True))
    StaffMembership.objects.filter(user=user, source=FEED).exclude(unit_id__in=wanted).delete()
    StaffMembership.objects.bulk_create(
        [
            StaffMembership(user=user, unit_id=unit_id, source=FEED)
            for unit_id in sorted(wanted - current)
        ]
    )


def _missing_since(person: PersonPlan, now):
    # A withdrawn student starts to leave from the first file that says so.
    return now if person.status == FeedRecord.Status.WITHDRAWN else None


def _create_people(people: list[PersonPlan], now) -> list[User]:
    """New logins with their student details or units, a few queries for thousands."""
    users = [
        User(
            email=person.email,
            full_name=person.full_name,
            kind=person.kind,
            university_id=person.university_id or None,
            # They sign in through the university (single sign-on), never with a password.
            password=make_password(None),
        )
        for person in people
    ]
    User.objects.bulk_create(users, batch_size=BATCH)
    StudentProfile.objects.bulk_create(
        [
            StudentProfile(
                user=user,
                programme=person.programme,
                unit=person.unit,
                year_of_study=person.year_of_study,
                student_number=person.student_number,
                expected_graduation=person.expected_graduation,
            )
            for person, user in zip(people, users, strict=True)
            if person.kind == FeedRecord.Kind.STUDENT
        ],
        batch_size=BATCH,
    )
    StaffMembership.objects.bulk_create(
        [
            StaffMembership(user=user, unit_id=unit_id, source=FEED)
            for person, user in zip(people, users, strict=True)
            for unit_id in person.unit_ids
        ],
        batch_size=BATCH,
    )
    FeedRecord.objects.bulk_create(
        [
            FeedRecord(
                user=user,
                kind=person.kind,
                status=person.status,
                first_seen_at=now,
                last_seen_at=now,
                missing_since=_missing_since(person, now),
            )
            for person, user in zip(people, users, strict=True)
        ],
        batch_size=BATCH,
    )
    return users


def _update_person(person: PersonPlan, now) -> User:
    user = person.existing
    assert user is not None
    record = FeedRecord.objects.filter(user=user).first()
    missing_since = _missing_since(person, now)
    if missing_since and record is not None and record.missing_since is not None:
        # Still withdrawn: the grace period runs from the first file that said so.
        missing_since = record.missing_since
    user.email = person.email
    user.full_name = person.full_name
    user.kind = person.kind
    if person.university_id:
        user.university_id = person.university_id
    if person.returns:
        user.is_active = True
    user.save(update_fields=["email", "full_name", "kind", "university_id", "is_active"])
    if person.kind == FeedRecord.Kind.STUDENT:
        _write_student(person, user)
    else:
        _write_units(person, user)
    FeedRecord.objects.update_or_create(
        user=user,
        defaults={
            "kind": person.kind,
            "status": person.status,
            "last_seen_at": now,
            "left_at": None if person.returns or record is None else record.left_at,
            "missing_since": missing_since,
        },
        create_defaults={
            "kind": person.kind,
            "status": person.status,
            "first_seen_at": now,
            "last_seen_at": now,
            "missing_since": _missing_since(person, now),
        },
    )
    return user


def _write(plan: FeedPlan, by: User | None, now) -> None:
    entries = []
    unchanged = []
    new = [person for person in plan.people if person.outcome == "create"]
    for user in _create_people(new, now):
        entries.append(audit.build_entry(user, "people.person.created", by=by))
    for person in plan.people:
        if person.existing is not None and person.outcome == "unchanged":
            unchanged.append(person.existing.pk)
        elif person.outcome == "update":
            user = _update_person(person, now)
            action = "people.person.returned" if person.returns else "people.person.updated"
            entries.append(audit.build_entry(user, action, by=by, data={"changed": person.changes}))
    # Seen again, nothing else to write. A withdrawn student stays missing since the
    # first file that said so (the grace period runs from then).
    for start in range(0, len(unchanged), BATCH):
        seen = FeedRecord.objects.filter(user_id__in=unchanged[start : start + BATCH])
        seen.update(last_seen_at=now)
        seen.exclude(status=FeedRecord.Status.WITHDRAWN).update(missing_since=None)
    for leaver in plan.leavers:
        record = leaver.record
        if leaver.action == "missing" and record.missing_since is None:
            FeedRecord.objects.filter(pk=record.pk).update(missing_since=now)
        elif leaver.action == "leaves":
            # Inactive: they can no longer sign in; their bookings and history stay.
            User.objects.filter(pk=record.user_id).update(is_active=False)
            FeedRecord.objects.filter(pk=record.pk).update(left_at=now)
            entries.append(
                audit.build_entry(
                    record.user,
                    "people.person.left",
                    by=by,
                    data={"missing_since": str(record.missing_since)},
                )
            )
    entries.append(
        audit.build_entry(
            None, "people.feed.imported", by=by, data={"file": plan.filename, **plan.counts}
        )
    )
    audit.log_many(entries)


def feed_import(
    *,
    data: bytes,
    filename: str,
    by: User | None,
    source: str,
    feed_import: FeedImport | None = None,
) -> FeedImport:
    """Check the file against MyCareer as it is now and write what it changes, all or nothing.

    The outcome is recorded on `feed_import` (a new one if not given): its counts, or
    the error that stopped it.
    """
    if feed_import is None:
        feed_import = FeedImport(filename=filename[:200], source=source, by=by)
    fields = {"source": source, "by": by.pk if by else None}
    with logged_job(logger, "people.import", **fields) as outcome:
        with transaction.atomic():
            hold_lock(FEED_LOCK)
            now = timezone.now()
            plan = plan_feed(data=data, filename=filename, now=now)
            _write(plan, by, now)
            feed_import.status = FeedImport.Status.DONE
            feed_import.counts = plan.summary()
            feed_import.finished_at = now
            feed_import.error = ""
            feed_import.save()
        outcome.update(plan.counts)
    return feed_import
