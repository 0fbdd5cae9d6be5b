import datetime
import html

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts import services
from mycareer.accounts.forms import TrainingSessionForm
from mycareer.accounts.models import (
    AccessGrant,
    AccessLevel,
    TrainingCourse,
    TrainingRecord,
    TrainingSession,
)
from mycareer.accounts.permissions import Action, compute_access
from mycareer.accounts.tests.factories import TrainingSessionFactory
from mycareer.core.tests.html_forms import repeated_ids


@pytest.mark.django_db
def test_demo_logins_work_with_email_and_password(client, cast):
    response = client.post(
        reverse("account_login"),
        {"login": "operator@demo.ac.uk", "password": "demo-password-1"},
    )
    assert response.status_code == 302
    home = client.get("/")
    assert "Welcome, Tom" in home.content.decode()


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_message(client, cast):
    response = client.post(
        reverse("account_login"), {"login": "operator@demo.ac.uk", "password": "nope"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


@pytest.mark.django_db
def test_the_login_page_offers_one_password_reset_link_in_the_sites_words(client):
    """It showed "Forgot your password?" under the field and "Forgotten your password?"
    beside the button, and a "Remember Me" box in the sign-up library's capitals."""
    page = client.get(reverse("account_login")).content.decode()
    assert page.count(f'href="{reverse("account_reset_password")}"') == 1
    assert "Forgot your password" not in page
    assert "Remember Me" not in page
    assert "Keep me logged in on this device" in page


@pytest.mark.django_db
def test_administrator_grants_a_level_through_the_page(client, persona):
    client.force_login(persona("admin"))
    viewer = persona("viewer")
    url = reverse("accounts:access_edit", args=[viewer.pk])
    response = client.post(url, {"do": "grant", "level": AccessLevel.OPERATOR, "note": "Trained"})
    assert response.status_code == 302
    assert (
        AccessGrant.objects.get(user=viewer, revoked_at__isnull=True).level == AccessLevel.OPERATOR
    )
    page = client.get(url).content.decode()
    assert "Operator" in page
    assert "Trained" in page


@pytest.mark.django_db
def test_granting_the_level_they_have_says_nothing_changed(client, persona):
    """It said "now has the Viewer level", and the reason typed was silently not kept."""
    client.force_login(persona("admin"))
    viewer = persona("viewer")
    url = reverse("accounts:access_edit", args=[viewer.pk])
    before = list(AccessGrant.objects.filter(user=viewer).values_list("pk", "note"))
    page = client.post(
        url, {"do": "grant", "level": AccessLevel.VIEWER, "note": "Trained"}, follow=True
    ).content.decode()
    assert "now has the Viewer level" not in page
    assert (
        f"{viewer} already has the Viewer level: nothing was changed, and the reason was not "
        "recorded."
    ) in html.unescape(page)
    assert list(AccessGrant.objects.filter(user=viewer).values_list("pk", "note")) == before


@pytest.mark.django_db
def test_the_access_page_has_each_id_once_so_each_reason_label_names_its_own_box(client, persona):
    client.force_login(persona("admin"))
    page = client.get(reverse("accounts:access_edit", args=[persona("viewer").pk]))
    page = page.content.decode()
    assert "Revoke access" in page  # both forms, each with a "note"
    assert repeated_ids(page) == []
    assert '<label for="id_grant_note">Reason (kept in the audit trail)' in page
    assert '<label for="id_revoke_note">Reason' in page


@pytest.mark.django_db
def test_an_invalid_grant_is_refused_and_nothing_changes(client, persona):
    client.force_login(persona("admin"))
    viewer = persona("viewer")
    url = reverse("accounts:access_edit", args=[viewer.pk])
    response = client.post(url, {"do": "grant", "level": "99", "note": "kept text"})
    assert response.status_code == 200
    assert "kept text" in response.content.decode()
    assert AccessGrant.objects.get(user=viewer, revoked_at__isnull=True).level == AccessLevel.VIEWER


@pytest.mark.django_db
def test_the_only_administrator_is_told_why_they_cannot_step_down(client, persona):
    admin = persona("admin")
    client.force_login(admin)
    url = reverse("accounts:access_edit", args=[admin.pk])
    for asked in (
        {"do": "revoke", "note": "Leaving in May"},
        {"do": "grant", "level": AccessLevel.OPERATOR, "note": "Leaving in May"},
    ):
        response = client.post(url, asked)
        assert response.status_code == 200
        page = html.unescape(response.content.decode())
        assert "You are the only administrator whose operator training is in date" in page
        assert 'value="Leaving in May"' in page
    assert AccessGrant.objects.get(user=admin, revoked_at__isnull=True).level == AccessLevel.ADMIN


@pytest.mark.django_db
def test_a_closed_login_is_told_why_and_whom_to_ask(client, persona):
    """allauth's page said only "This account is inactive."."""
    leaver = persona("operator")
    leaver.set_password("demo-password-1")
    leaver.is_active = False
    leaver.save(update_fields=["password", "is_active"])
    response = client.post(
        reverse("account_login"),
        {"login": leaver.email, "password": "demo-password-1"},
        follow=True,
    )
    page = html.unescape(response.content.decode())
    assert response.redirect_chain[-1][0] == reverse("account_inactive")
    assert "Your MyCareer login is closed" in page
    assert "the university's records show that someone has left" in page
    assert 'write to the Careers Centre at <a href="mailto:mycareer@demo.ac.uk">' in page


@pytest.mark.django_db
def test_operator_cannot_grant_access(client, persona):
    client.force_login(persona("operator"))
    viewer = persona("viewer")
    url = reverse("accounts:access_edit", args=[viewer.pk])
    response = client.post(url, {"do": "grant", "level": AccessLevel.ADMIN})
    assert response.status_code == 403
    assert AccessGrant.objects.get(user=viewer, revoked_at__isnull=True).level == AccessLevel.VIEWER


@pytest.mark.django_db
def test_staff_book_a_session_and_the_administrator_records_attendance(client, persona):
    untrained = persona("untrained")
    session = TrainingSessionFactory()
    client.force_login(untrained)
    assert client.post(session.get_absolute_url(), {"do": "book"}).status_code == 302
    assert TrainingRecord.objects.filter(session=session, user=untrained).exists()
    client.force_login(persona("admin"))
    session.starts_at = timezone.now() - datetime.timedelta(hours=3)
    session.save()
    response = client.post(
        session.get_absolute_url(), {"do": "attendance", "attended": [untrained.pk]}
    )
    assert response.status_code == 302
    record = TrainingRecord.objects.get(session=session, user=untrained)
    assert record.status == TrainingRecord.Status.COMPLETED


@pytest.mark.django_db
def test_attendance_of_a_session_still_to_come_is_refused_and_not_offered(client, persona):
    untrained = persona("untrained")
    session = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=5))
    client.force_login(untrained)
    client.post(session.get_absolute_url(), {"do": "book"})
    client.force_login(persona("admin"))
    page = client.get(session.get_absolute_url())
    assert "Record attendance" not in page.text
    assert "once the session has started" in page.text
    response = client.post(
        session.get_absolute_url(), {"do": "attendance", "attended": [untrained.pk]}, follow=True
    )
    assert "once the session has started" in response.text
    record = TrainingRecord.objects.get(session=session, user=untrained)
    assert record.status == TrainingRecord.Status.BOOKED
    assert not compute_access(untrained).can(Action.EDIT)


@pytest.mark.django_db
def test_someone_who_came_without_booking_is_added_and_completes_the_course(client, persona):
    """An ad-hoc session: nobody booked, Sam came; the page only offered people who booked."""
    sam = persona("untrained")
    session = TrainingSessionFactory(
        kind="ad_hoc", starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert not compute_access(sam).can(Action.EDIT)
    client.force_login(persona("admin"))
    page = client.get(session.get_absolute_url()).text
    assert "Nobody booked this session" in page
    assert "Also attended, without booking" in page
    response = client.post(
        session.get_absolute_url(), {"do": "attendance", "walk_in": "sam whitfield"}, follow=True
    )
    assert "Attendance recorded: 1 completed the course." in response.text
    record = TrainingRecord.objects.get(session=session, user=sam)
    assert record.status == TrainingRecord.Status.COMPLETED
    assert record.expires_on is not None
    assert compute_access(sam).can(Action.EDIT)
    assert "Sam Whitfield" in client.get(session.get_absolute_url()).text


@pytest.mark.django_db
def test_a_walk_in_is_recorded_with_those_who_booked(client, persona):
    viewer, sam = persona("viewer"), persona("untrained")
    session = TrainingSessionFactory()
    client.force_login(viewer)
    client.post(session.get_absolute_url(), {"do": "book"})
    session.starts_at = timezone.now() - datetime.timedelta(hours=1)
    session.save()
    client.force_login(persona("admin"))
    response = client.post(
        session.get_absolute_url(),
        {"do": "attendance", "attended": [viewer.pk], "walk_in": sam.email.upper()},
    )
    assert response.status_code == 302
    statuses = dict(
        TrainingRecord.objects.filter(session=session).values_list("user__email", "status")
    )
    assert statuses == {
        viewer.email: TrainingRecord.Status.COMPLETED,
        sam.email: TrainingRecord.Status.COMPLETED,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("Nobody Atall", "No member of staff with a MyCareer login has the name or email"),
        ("student@demo.ac.uk", "No member of staff with a MyCareer login has the name or email"),
        ("a", "Several members of staff match “a” ("),
    ],
)
def test_a_walk_in_who_is_not_one_member_of_staff_is_refused_and_kept(client, persona, typed, said):
    session = TrainingSessionFactory(starts_at=timezone.now() - datetime.timedelta(hours=1))
    client.force_login(persona("admin"))
    response = client.post(session.get_absolute_url(), {"do": "attendance", "walk_in": typed})
    assert response.status_code == 200
    body = html.unescape(response.text)
    assert said in body
    assert f'value="{typed}"' in body
    assert not TrainingRecord.objects.filter(session=session).exists()


@pytest.mark.django_db
def test_staff_list_query_count_does_not_grow_with_staff(
    client, persona, django_assert_max_num_queries
):
    client.force_login(persona("admin"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("accounts:access_list"))
    assert response.status_code == 200
    assert "Sam Whitfield" in response.content.decode()


@pytest.mark.django_db
def test_a_level_the_staff_list_does_not_know_lists_nobody(client, persona):
    """It showed the error above every member of staff, as if they matched."""
    client.force_login(persona("admin"))
    page = html.unescape(client.get(reverse("accounts:access_list"), {"level": "99"}).text)
    assert "Select a valid choice. 99 is not one of the available choices." in page
    assert "Nobody shown until the filter is corrected." in page
    assert "Sam Whitfield" not in page and "Tom Bennett" not in page


@pytest.mark.django_db
def test_expiring_page_lists_people_whose_training_is_running_out(client, persona):
    client.force_login(persona("admin"))
    page = client.get(reverse("accounts:training_expiring")).content.decode()
    assert "Rachel Moore" in page  # completed 350 days ago
    assert "Sam Whitfield" in page  # expired
    assert "Tom Bennett" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        ("days=abc", "Enter a whole number."),
        ("days=12345678901234567890", "Enter a number from 0 to 365."),
        ("dayz=7", "The page has a filter it does not know"),
    ],
)
def test_the_expiring_page_refuses_a_period_it_cannot_read(client, persona, query, refusal):
    """It showed the usual 30 days, under a heading the person may not read."""
    client.force_login(persona("admin"))
    page = client.get(f"{reverse('accounts:training_expiring')}?{query}").content.decode()
    assert refusal in page
    assert "Nobody is shown until the period is corrected." in page
    assert "Rachel Moore" not in page and "Sam Whitfield" not in page


@pytest.mark.django_db
def test_the_expiring_page_shows_the_period_asked_for(client, persona):
    client.force_login(persona("admin"))
    url = reverse("accounts:training_expiring")
    first = client.get(url).content.decode()
    assert "within 30 days" in first and 'value="30"' in first
    page = client.get(f"{url}?days=0").content.decode()
    assert "within 0 days" in page and "Sam Whitfield" in page and "Rachel Moore" not in page


@pytest.mark.django_db
def test_schedule_session_form_keeps_input_on_error(client, persona):
    client.force_login(persona("admin"))
    response = client.post(
        reverse("accounts:training_session_create"),
        {
            "course": "",
            "kind": "annual",
            "starts_at": "2027-01-10T10:00",
            "ends_at": "2027-01-10T09:00",
            "place": "Room 42",
            "capacity": "10",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Room 42" in body
    assert "must end after it starts" in body


@pytest.mark.django_db
def test_a_session_starting_in_the_past_is_refused_and_what_was_typed_is_kept(client, persona):
    afternoon = datetime.datetime(2027, 1, 12, 14, 30, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(afternoon, tick=False):
        client.force_login(persona("admin"))
        response = client.post(
            reverse("accounts:training_session_create"),
            {
                "course": TrainingCourse.objects.get(code=TrainingCourse.OPERATOR).pk,
                "kind": "ad_hoc",
                "starts_at": "2027-01-12T09:00",
                "ends_at": "2027-01-12T12:00",
                "place": "Room 42",
                "capacity": "10",
            },
        )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "A session cannot start in the past: it is already 14:30 on 12 January 2027" in body
    assert "The training session is scheduled" not in body
    assert 'value="Room 42"' in body
    assert 'value="2027-01-12T09:00"' in body
    assert not TrainingSession.objects.exists()


@pytest.mark.django_db
def test_an_online_session_is_scheduled_with_its_joining_link(client, persona):
    client.force_login(persona("admin"))
    starts = timezone.localtime() + datetime.timedelta(days=3)
    response = client.post(
        reverse("accounts:training_session_create"),
        {
            "course": TrainingCourse.objects.get(code=TrainingCourse.OPERATOR).pk,
            "kind": "ad_hoc",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": "Online",
            "online_url": "https://teams.example.ac.uk/careers/t",
            "capacity": "10",
        },
    )
    assert response.status_code == 302
    assert TrainingSession.objects.get().online_url == "https://teams.example.ac.uk/careers/t"


@pytest.mark.django_db
def test_a_capacity_of_twenty_digits_is_refused_in_plain_words(client, persona):
    client.force_login(persona("admin"))
    starts = timezone.localtime() + datetime.timedelta(days=3)
    response = client.post(
        reverse("accounts:training_session_create"),
        {
            "course": TrainingCourse.objects.get(code=TrainingCourse.OPERATOR).pk,
            "kind": "annual",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": "Room 42",
            "capacity": "9" * 20,
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Capacity must be a number of places from 1 to 1,000." in body
    assert "9223372036854775807" not in body
    assert 'value="Room 42"' in body
    assert not TrainingSession.objects.exists()


@pytest.mark.django_db
def test_a_session_that_has_started_saves_unchanged_but_not_moved_into_the_past(persona):
    """An edit form keeps a start that has passed; only a new start is checked."""
    started = TrainingSessionFactory(starts_at=timezone.now() - datetime.timedelta(hours=1))
    unchanged = TrainingSessionForm(
        {
            "course": started.course.pk,
            "kind": started.kind,
            "starts_at": timezone.localtime(started.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(started.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "place": started.place,
            "capacity": started.capacity,
        },
        instance=started,
    )
    assert unchanged.is_valid(), unchanged.errors
    earlier = timezone.localtime(started.starts_at - datetime.timedelta(hours=1))
    moved = TrainingSessionForm(
        {**unchanged.data, "starts_at": earlier.strftime("%Y-%m-%dT%H:%M")}, instance=started
    )
    assert not moved.is_valid()
    assert "cannot start in the past" in moved.errors["starts_at"][0]


def test_an_administrator_reads_someone_elses_access_in_the_third_person(client, persona, cast):
    sam = persona("untrained")
    client.force_login(persona("admin"))
    body = html.unescape(
        client.get(reverse("accounts:access_edit", args=[sam.pk])).content.decode()
    )
    assert "Sam's operator training ran out after" in body
    assert "so they cannot create and edit records until they attend a training session" in body
    assert "Your operator training" not in body
    assert "book a training session" not in body
    # One line per reason: the same expiry is not repeated for each thing it blocks.
    assert body.count("Sam's operator training ran out after") == 1


def test_the_person_themselves_still_reads_your(client, persona, cast):
    client.force_login(persona("untrained"))
    body = html.unescape(client.get(reverse("accounts:my_access")).content.decode())
    assert "Your operator training ran out after" in body
    assert "Sam's" not in body


def test_an_administrator_reads_an_expired_completion_as_expired(client, persona, cast):
    sam = persona("untrained")
    expired = sam.training_records.get(status="completed").expires_on
    client.force_login(persona("admin"))
    body = html.unescape(
        client.get(reverse("accounts:access_edit", args=[sam.pk])).content.decode()
    )
    assert f"ran out after {expired:%-d %B %Y}" in body
    assert f"valid until {expired:%-d %B %Y}" not in body


def test_a_full_session_offers_another_date_rather_than_a_place_it_would_refuse(
    client, persona, cast
):
    session = TrainingSessionFactory(capacity=1)
    client.force_login(persona("viewer"))
    client.post(reverse("accounts:training_session", args=[session.pk]), {"do": "book"})
    client.force_login(persona("untrained"))
    body = client.get(reverse("accounts:training_session", args=[session.pk])).content.decode()
    assert "Book a place" not in body
    assert "This session is full" in body


def test_the_audit_trail_names_a_booked_training_session_not_its_number(client, persona, cast):
    sam = persona("untrained")
    session = TrainingSessionFactory()
    record = services.training_book(session=session, user=sam, by=sam, notify=False)
    services.training_cancel(record=record, by=sam)
    client.force_login(persona("admin"))
    body = html.unescape(client.get(reverse("audit:person", args=[sam.pk])).content.decode())
    assert body.count(str(session)) >= 2
    assert f"session: {session.pk}<" not in body


def test_who_is_expiring_does_not_promise_a_reminder_for_training_already_expired(
    client, persona, cast
):
    sam = persona("untrained")
    expired = sam.training_records.get(status="completed").expires_on
    client.force_login(persona("admin"))
    body = html.unescape(client.get(reverse("accounts:training_expiring")).content.decode())
    row = body[body.index(str(sam)) :].split("</tr>")[0]
    assert f"Ran out after {expired:%-d %B %Y}" in row
    assert "Not yet" not in row
    assert "None sent, and none will be: it has expired" in row


@pytest.mark.django_db
def test_unticking_people_who_completed_asks_first_naming_them_and_keeps_the_ticks(
    client, persona, cast
):
    sam, viewer = persona("untrained"), persona("viewer")
    session = TrainingSessionFactory(starts_at=timezone.now() - datetime.timedelta(hours=1))
    services.training_attendance_record(session=session, attended=[sam, viewer], by=cast["admin"])
    client.force_login(persona("admin"))
    response = client.post(
        session.get_absolute_url(), {"do": "attendance", "attended": [viewer.pk]}
    )
    assert response.status_code == 200
    body = html.unescape(response.text)
    assert (
        "Recording these ticks would take the completion away from 1 person — "
        f"{sam} — and with it their operator access." in body
    )
    assert "Attendance recorded" not in body
    # The ticks as sent: the viewer still ticked, Sam not.
    assert f'name="attended" value="{viewer.pk}" id="id_attended_0" checked>' in body
    assert f'name="attended" value="{sam.pk}" id="id_attended_1">' in body
    assert f'<input type="hidden" name="confirm_removal" value="{sam.pk}">' in body
    assert "Confirm and record attendance as ticked" in body
    assert TrainingRecord.objects.get(session=session, user=sam).status == "completed"
    assert compute_access(sam).can(Action.EDIT)
    response = client.post(
        session.get_absolute_url(),
        {"do": "attendance", "attended": [viewer.pk], "confirm_removal": [sam.pk]},
        follow=True,
    )
    assert "Attendance recorded: 1 completed the course." in response.text
    assert TrainingRecord.objects.get(session=session, user=sam).status == "absent"
    assert not compute_access(sam).can(Action.EDIT)


@pytest.mark.django_db
def test_walk_ins_beyond_the_places_are_not_more_places_taken_than_there_are(client, persona, cast):
    session = TrainingSessionFactory(
        capacity=2, starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    people = [persona("untrained"), persona("viewer"), persona("operator")]
    services.training_attendance_record(session=session, attended=people, by=cast["admin"])
    client.force_login(persona("admin"))
    body = client.get(session.get_absolute_url()).text
    assert "3 of 2 taken" not in body
    assert "3 people for 2 places" in body
    # Under way on the list, where no place is free to take whatever the figures.
    body = client.get(reverse("accounts:training_sessions")).text
    assert "3 of 2 taken" not in body
    assert "3 booked (2 places; booking closed)" in body


@pytest.mark.django_db
def test_a_session_under_way_is_listed_as_under_way_not_coming_up(client, persona):
    under_way = TrainingSessionFactory(
        place="Room Under Way", starts_at=timezone.now() - datetime.timedelta(hours=1)
    )
    TrainingSessionFactory(place="Room To Come")
    client.force_login(persona("viewer"))
    body = client.get(reverse("accounts:training_sessions")).text
    assert body.index("Under way") < body.index("Room Under Way") < body.index("Coming up")
    assert body.index("Coming up") < body.index("Room To Come")
    assert under_way.get_absolute_url() in body
    assert "booking closed" in body
    # "Booked" marks a place still held, not attendance already recorded.
    sam = persona("untrained")
    services.training_attendance_record(session=under_way, attended=[sam], by=persona("admin"))
    client.force_login(sam)
    row = client.get(reverse("accounts:training_sessions")).text.split("Room Under Way")[0]
    assert 'status--ok">Booked' not in row.split("<tr>")[-1]


@pytest.mark.django_db
def test_a_recent_session_says_who_came_not_everyone_it_holds_as_booked(client, persona, cast):
    """ "Recent sessions" said "3 booked" of a session two booked, one attended, and
    someone walked in to: its records hold walk-ins and absentees alike."""
    session = TrainingSessionFactory(
        place="Room Recent",
        starts_at=timezone.now() - datetime.timedelta(hours=3),
        ends_at=timezone.now() - datetime.timedelta(hours=1),
    )
    booked, absent, walk_in = persona("untrained"), persona("viewer"), persona("operator")
    for person in (booked, absent):
        TrainingRecord.objects.create(user=person, course=session.course, session=session)
    client.force_login(persona("admin"))
    body = client.get(reverse("accounts:training_sessions")).text
    row = body[body.index(session.get_absolute_url()) :].split("</li>")[0]
    assert "2 booked" in row
    assert "Attendance not recorded" in row

    services.training_attendance_record(
        session=session, attended=[booked, walk_in], by=cast["admin"]
    )
    body = client.get(reverse("accounts:training_sessions")).text
    row = body[body.index(session.get_absolute_url()) :].split("</li>")[0]
    assert "2 attended, 1 did not attend" in row
    assert "booked" not in row
