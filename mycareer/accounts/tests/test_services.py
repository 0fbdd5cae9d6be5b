import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.accounts import services
from mycareer.accounts.models import AccessGrant, AccessLevel, TrainingRecord, User
from mycareer.accounts.permissions import Action, compute_access
from mycareer.audit.models import AuditEntry
from mycareer.audit.selectors import audit_for_person


@pytest.mark.django_db
def test_granting_a_level_replaces_the_current_grant_and_is_audited(persona, cast):
    user, admin = persona("viewer"), cast["admin"]
    services.access_grant(user=user, level=AccessLevel.OPERATOR, by=admin, note="Trained")
    current = AccessGrant.objects.get(user=user, revoked_at__isnull=True)
    assert current.level == AccessLevel.OPERATOR
    assert AccessGrant.objects.filter(user=user).count() == 2
    entry = audit_for_person(user).filter(action="accounts.access.granted").first()
    assert entry.actor == admin
    assert entry.data["level"] == "Operator"
    assert entry.data["previous"] == "Viewer"


@pytest.mark.django_db
def test_revoking_access_removes_every_staff_action(persona, cast):
    user = persona("manager")
    services.access_revoke(user=user, by=cast["admin"], note="Left the university")
    access = compute_access(user)
    assert access.allowed == frozenset()
    assert AuditEntry.objects.filter(action="accounts.access.revoked", person=user).exists()


@pytest.mark.django_db
def test_a_person_whose_access_was_revoked_is_told_so_not_to_get_trained(persona, cast):
    user = persona("manager")
    services.access_revoke(user=user, by=cast["admin"], note="Left the university")
    access = compute_access(user)
    today = date_format(timezone.localdate(), "j F Y")
    assert access.why_not(Action.VIEW) == (
        f"Your access to MyCareer's staff pages was withdrawn on {today}: ask the Careers "
        "Centre if you still need it."
    )
    assert access.reasons_about[Action.EDIT] == (
        f"Helen's access to MyCareer's staff pages was withdrawn on {today}."
    )


@pytest.mark.django_db
def test_a_person_never_granted_access_is_told_to_attend_the_training(cast):
    newcomer = User.objects.create_user(
        email="newcomer@demo.ac.uk", full_name="New Comer", kind=User.Kind.STAFF
    )
    assert "not been given access to MyCareer's staff pages yet" in compute_access(
        newcomer
    ).why_not(Action.VIEW)


@pytest.mark.django_db
def test_the_only_administrator_cannot_lose_the_level_while_another_can(persona, cast):
    """Revoked or lowered, nobody could grant access again without the server's shell."""
    admin = cast["admin"]
    for change in (
        lambda: services.access_revoke(user=admin, by=admin, note="Oops"),
        lambda: services.access_grant(user=admin, level=AccessLevel.VIEWER, by=admin),
    ):
        with pytest.raises(
            ValidationError,
            match="You are the only administrator whose operator training is in date",
        ):
            change()
        assert AccessGrant.objects.get(user=admin, revoked_at__isnull=True).level == (
            AccessLevel.ADMIN
        )
    # A second administrator whose operator training has lapsed cannot record it again
    # (only administrators record training), so they do not count.
    manager = persona("manager")
    services.access_grant(user=manager, level=AccessLevel.ADMIN, by=admin)
    trained = list(TrainingRecord.objects.filter(user=manager).values_list("pk", "expires_on"))
    TrainingRecord.objects.filter(user=manager).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(
        ValidationError, match="You are the only administrator whose operator training is in date"
    ):
        services.access_revoke(user=admin, by=admin)
    for pk, expires_on in trained:
        TrainingRecord.objects.filter(pk=pk).update(expires_on=expires_on)
    # With a second administrator, either may step down.
    services.access_grant(user=admin, level=AccessLevel.OPERATOR, by=admin)
    assert compute_access(admin).granted == AccessLevel.OPERATOR


@pytest.mark.django_db
def test_students_cannot_be_granted_staff_access(persona, cast):
    with pytest.raises(ValidationError):
        services.access_grant(user=persona("student"), level=AccessLevel.VIEWER, by=cast["admin"])


@pytest.mark.django_db
def test_recording_attendance_completes_the_course_for_a_year(persona, cast):
    from mycareer.accounts.models import TrainingCourse

    admin, untrained = cast["admin"], persona("untrained")
    course = TrainingCourse.objects.get(code=TrainingCourse.OPERATOR)
    start = timezone.now() + datetime.timedelta(days=1)
    session = services.training_session_create(
        course=course,
        kind="ad_hoc",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        place="Room 1",
        capacity=2,
        by=admin,
    )
    services.training_book(session=session, user=untrained, by=untrained)
    viewer = persona("viewer")
    services.training_book(session=session, user=viewer, by=viewer)
    with pytest.raises(ValidationError, match="full"):
        services.training_book(session=session, user=persona("operator"), by=admin)
    with pytest.raises(ValidationError, match="once the session has started"):
        services.training_attendance_record(session=session, attended=[untrained], by=admin)
    assert not TrainingRecord.objects.filter(
        session=session, status=TrainingRecord.Status.COMPLETED
    ).exists()
    with time_machine.travel(start + datetime.timedelta(hours=1)):
        recorded = services.training_attendance_record(
            session=session, attended=[untrained], by=admin
        )
    by_user = {r.user: r for r in recorded.records}
    assert recorded.changed == 2
    day = timezone.localtime(start).date()
    assert by_user[untrained].status == TrainingRecord.Status.COMPLETED
    assert by_user[untrained].expires_on == day + datetime.timedelta(days=365)
    assert by_user[viewer].status == TrainingRecord.Status.ABSENT
    assert compute_access(untrained, today=day).can(Action.EDIT)
    assert AuditEntry.objects.filter(action="accounts.training.recorded", person=untrained).exists()
    # The same ticks sent again, by someone else, change nothing: not even who recorded it.
    entries = AuditEntry.objects.filter(action="accounts.training.recorded").count()
    with time_machine.travel(start + datetime.timedelta(hours=3)):
        again = services.training_attendance_record(
            session=session, attended=[untrained], by=persona("manager")
        )
    assert again.changed == 0
    assert {r.recorded_by for r in TrainingRecord.objects.filter(session=session)} == {admin}
    assert AuditEntry.objects.filter(action="accounts.training.recorded").count() == entries


@pytest.mark.django_db
def test_only_staff_can_be_recorded_as_attending_training(persona, cast):
    from mycareer.accounts.tests.factories import TrainingSessionFactory

    session = TrainingSessionFactory(starts_at=timezone.now() - datetime.timedelta(hours=1))
    with pytest.raises(ValidationError, match="for university staff"):
        services.training_attendance_record(
            session=session, attended=[persona("student")], by=cast["admin"]
        )
    assert not TrainingRecord.objects.filter(session=session).exists()


@pytest.mark.django_db
def test_a_session_must_end_after_it_starts(cast):
    from mycareer.accounts.models import TrainingCourse

    start = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="must end after it starts"):
        services.training_session_create(
            course=TrainingCourse.objects.first(),
            kind="annual",
            starts_at=start,
            ends_at=start,
            place="Room",
            capacity=5,
            by=cast["admin"],
        )


@pytest.mark.django_db
def test_an_online_session_needs_its_joining_link(cast):
    """It cannot be edited afterwards: those who booked would never learn how to join."""
    from mycareer.accounts.models import TrainingCourse, TrainingSession

    start = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="needs its joining link"):
        services.training_session_create(
            course=TrainingCourse.objects.first(),
            kind="ad_hoc",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
            place="Online",
            capacity=5,
            by=cast["admin"],
        )
    assert not TrainingSession.objects.filter(place="Online").exists()


@pytest.mark.django_db
def test_a_session_cannot_be_scheduled_to_start_in_the_past(cast, caplog):
    """Today 09:00 to 12:00, scheduled in the afternoon: nobody could book it, so nobody's
    attendance could be recorded either."""
    from mycareer.accounts.models import TrainingCourse, TrainingSession

    afternoon = datetime.datetime(2027, 1, 12, 14, 30, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(afternoon, tick=False), pytest.raises(ValidationError) as refused:
        services.training_session_create(
            course=TrainingCourse.objects.first(),
            kind="ad_hoc",
            starts_at=afternoon.replace(hour=9, minute=0),
            ends_at=afternoon.replace(hour=12, minute=0),
            place="Room",
            capacity=5,
            by=cast["admin"],
        )
    assert refused.value.message_dict["starts_at"] == [
        "A session cannot start in the past: it is already 14:30 on 12 January 2027. "
        "Choose a later start."
    ]
    assert not TrainingSession.objects.exists()
    assert "event=accounts.training_session.refused" in caplog.text


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # about the demo data itself: seeding it twice adds nothing
def test_seed_demo_is_idempotent(cast):
    from django.core.management import call_command

    counts = (User.objects.count(), AccessGrant.objects.count(), TrainingRecord.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (
        User.objects.count(),
        AccessGrant.objects.count(),
        TrainingRecord.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_one_place_on_a_course_at_a_time(persona):
    """Booked on the 10th, one could book the 20th too, keeping a place from a colleague."""
    from mycareer.accounts.tests.factories import TrainingSessionFactory

    untrained = persona("untrained")
    TrainingRecord.objects.filter(user=untrained, status=TrainingRecord.Status.BOOKED).delete()
    first, second = (
        TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=days))
        for days in (5, 15)
    )
    booked = services.training_book(session=first, user=untrained, by=untrained)
    with pytest.raises(ValidationError, match="You are already booked on this training"):
        services.training_book(session=second, user=untrained, by=untrained)
    assert not TrainingRecord.objects.filter(session=second).exists()
    services.training_cancel(record=booked, by=untrained)
    services.training_book(session=second, user=untrained, by=untrained)


@pytest.mark.django_db
def test_a_place_cannot_be_cancelled_once_the_session_has_started(persona, client):
    """Cancelled after the session, a place left the trainer no one to mark absent."""
    from mycareer.accounts.tests.factories import TrainingSessionFactory

    sam = persona("untrained")
    TrainingRecord.objects.filter(user=sam, status=TrainingRecord.Status.BOOKED).delete()
    session = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=1))
    booked = services.training_book(session=session, user=sam, by=sam, notify=False)
    session.starts_at = timezone.now() - datetime.timedelta(hours=3)
    session.ends_at = timezone.now() - datetime.timedelta(hours=1)
    session.save(update_fields=["starts_at", "ends_at"])
    booked.refresh_from_db()
    with pytest.raises(ValidationError, match="already started"):
        services.training_cancel(record=booked, by=sam)
    assert TrainingRecord.objects.filter(pk=booked.pk, status="booked").exists()
    client.force_login(sam)
    page = client.get(f"/training/{session.pk}/").content.decode()
    assert "Your place: Booked" in page and "Cancel my place" not in page


def _completed_on_session(persona, cast, *names):
    """A session that started an hour ago, where each named persona completed the course."""
    from mycareer.accounts.tests.factories import TrainingSessionFactory

    session = TrainingSessionFactory(starts_at=timezone.now() - datetime.timedelta(hours=1))
    people = [persona(name) for name in names]
    services.training_attendance_record(session=session, attended=people, by=cast["admin"])
    return session, people


@pytest.mark.django_db
def test_taking_a_completion_away_is_refused_until_confirmed_and_names_who(persona, cast):
    """Unticking everyone made two trained people absent, and viewers again, unasked."""
    session, (sam, viewer) = _completed_on_session(persona, cast, "untrained", "viewer")
    assert compute_access(sam).can(Action.EDIT)
    with pytest.raises(services.CompletionsToTakeAway) as refused:
        services.training_attendance_record(session=session, attended=[], by=cast["admin"])
    said = refused.value.messages[0]
    assert said.startswith("Recording these ticks would take the completion away from 2 people — ")
    assert str(sam) in said and str(viewer) in said
    # Daniel, granted viewing only, keeps what he has; Sam goes back to viewing.
    assert said.endswith(f"and with it the operator access of {sam}.")
    assert set(refused.value.ids) == {sam.pk, viewer.pk}
    statuses = set(TrainingRecord.objects.filter(session=session).values_list("status", flat=True))
    assert statuses == {TrainingRecord.Status.COMPLETED}
    assert compute_access(sam).can(Action.EDIT)
    # Confirmed for one of them only: still refused, and still nothing saved.
    with pytest.raises(services.CompletionsToTakeAway):
        services.training_attendance_record(
            session=session, attended=[], by=cast["admin"], confirmed_removals=[sam.pk]
        )
    assert TrainingRecord.objects.get(session=session, user=sam).status == "completed"
    recorded = services.training_attendance_record(
        session=session, attended=[], by=cast["admin"], confirmed_removals=[sam.pk, viewer.pk]
    )
    assert recorded.changed == 2
    assert TrainingRecord.objects.get(session=session, user=sam).status == "absent"
    assert not compute_access(sam).can(Action.EDIT)


@pytest.mark.django_db
def test_ticks_that_take_no_completion_away_need_no_confirmation(persona, cast):
    session, (sam, viewer) = _completed_on_session(persona, cast, "untrained", "viewer")
    # One more person, who came without booking: a completion gained, none taken away.
    operator = persona("operator")
    services.training_attendance_record(
        session=session, attended=[sam, viewer, operator], by=cast["admin"]
    )
    assert TrainingRecord.objects.get(session=session, user=operator).status == "completed"


@pytest.mark.django_db
def test_the_refusal_says_whose_access_does_not_rest_on_the_session(persona, cast):
    from mycareer.accounts.tests.factories import completed

    session, (sam,) = _completed_on_session(persona, cast, "untrained")
    completed(sam, "operator", days_ago=10)
    with pytest.raises(services.CompletionsToTakeAway) as refused:
        services.training_attendance_record(session=session, attended=[], by=cast["admin"])
    assert refused.value.messages == [
        f"Recording these ticks would take the completion away from 1 person — {sam}. "
        "None of them loses operator access by it."
    ]


@pytest.mark.django_db(transaction=True)
def test_two_administrators_stepping_down_at_once_leave_one_and_no_error(persona, cast):
    """Each locked their own grant and then the other's: on PostgreSQL one of them was
    ended as a deadlock (a 500), and the rule must still leave one administrator."""
    from mycareer.core.tests.concurrency import at_once

    admin, manager = cast["admin"], persona("manager")
    services.access_grant(user=manager, level=AccessLevel.ADMIN, by=admin)
    results, _ = at_once(
        [
            lambda: services.access_revoke(user=admin, by=admin),
            lambda: services.access_revoke(user=manager, by=manager),
        ]
    )
    refused = [r for r in results if isinstance(r, ValidationError)]
    done = [r for r in results if isinstance(r, AccessGrant)]
    assert len(done) == 1 and len(refused) == 1, results
    assert (
        AccessGrant.objects.filter(
            revoked_at__isnull=True, level=AccessLevel.ADMIN, user__in=[admin, manager]
        ).count()
        == 1
    )
