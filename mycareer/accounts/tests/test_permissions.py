"""The access rules as a matrix: each demo persona x each staff action."""

import datetime
import html

import pytest
import rules
import time_machine
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts import services
from mycareer.accounts.models import AccessLevel, TrainingCourse
from mycareer.accounts.permissions import (
    Action,
    access_for,
    compute_access,
    staff_bound_by_terms,
)

V, E, D, B, A = Action.VIEW, Action.EDIT, Action.DELETE, Action.BULK_EMAIL, Action.ADMINISTER

# persona -> the actions they may do today
EXPECTED = {
    "admin": {V, E, D, B, A},
    "operator": {V, E},
    "manager": {V, E, D},
    "mailer": {V, E, D, B},
    "viewer": {V},
    "untrained": {V},
    "student": set(),
    "employer@demo-employer.com": set(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("action", Action.ALL)
def test_each_persona_may_do_exactly_what_their_level_and_training_allow(persona, name, action):
    user = persona(name)
    assert access_for(user).can(action) == (action in EXPECTED[name])
    # The levels that pages ask about directly are permissions too (deleting is always
    # asked about a kind of record, "organisations.delete_note").
    if rules.perm_exists(f"mycareer.{action}"):
        assert user.has_perm(f"mycareer.{action}") == (action in EXPECTED[name])


# Pages that exist now, by the action they need.
PAGES = {
    V: "accounts:training_sessions",
    A: "accounts:access_list",
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("action", list(PAGES))
def test_the_server_refuses_pages_to_people_who_may_not_see_them(client, persona, name, action):
    client.force_login(persona(name))
    response = client.get(reverse(PAGES[action]))
    assert response.status_code == (200 if action in EXPECTED[name] else 403)


@pytest.mark.django_db
def test_anonymous_people_are_sent_to_log_in(client):
    response = client.get(reverse("accounts:access_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_untrained_operator_is_refused_editing_with_the_reason(persona):
    user = persona("untrained")
    access = compute_access(user)
    assert access.granted == AccessLevel.OPERATOR
    assert not access.can(Action.EDIT)
    assert "operator training ran out after" in access.why_not(Action.EDIT)
    assert "book a training session" in access.why_not(Action.EDIT)


@pytest.mark.django_db
def test_an_operator_never_trained_is_asked_to_book_not_to_come_back(persona):
    """A new operator was told to book training to edit records "again"."""
    daniel = persona("viewer")
    services.access_grant(user=daniel, level=AccessLevel.OPERATOR, by=persona("admin"))
    said = compute_access(daniel).why_not(Action.EDIT)
    assert said == (
        "You have not completed the operator training yet: "
        "book a training session to create and edit records."
    )


@pytest.mark.django_db
def test_the_reason_is_shown_on_the_refusal_page(client, persona):
    client.force_login(persona("untrained"))
    response = client.get(reverse("accounts:my_access"))
    assert response.status_code == 200
    assert "Your operator training ran out after" in response.content.decode()
    client.force_login(persona("viewer"))
    response = client.get(reverse("accounts:access_list"))
    assert response.status_code == 403
    assert "Your access level is Viewer" in response.content.decode()
    # Administrators' pages other than access and training are refused for what they are.
    client.force_login(persona("operator"))
    for name in ("audit:list", "operations:status", "people:import"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "to use the administrators' pages you need the Administrator level" in (
            response.content.decode().replace("&#x27;", "'")
        )


@pytest.mark.django_db
def test_someone_booked_on_a_session_is_told_to_wait_for_it_not_to_book_one(client, persona):
    """After booking, the refusal still said "book a training session" while the same page
    listed the booking."""
    from mycareer.accounts.tests.factories import TrainingSessionFactory

    sam = persona("untrained")
    later = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=40))
    session = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=5))
    expired = compute_access(sam).operator_training_expires
    client.force_login(sam)
    assert client.post(session.get_absolute_url(), {"do": "book"}).status_code == 302
    # One place on a course at a time: a second is refused, saying which they hold.
    second = client.post(later.get_absolute_url(), {"do": "book"})
    assert "You are already booked on this training" in second.content.decode()
    day = timezone.localtime(session.starts_at)
    said = (
        f"Your operator training ran out after {expired:%-d %B %Y}: you are booked on the "
        f"session on {day:%-d %B %Y}; access returns once your attendance is recorded."
    )
    assert compute_access(sam).why_not(Action.EDIT) == said
    for path in (reverse("accounts:my_access"), reverse("organisations:create")):
        body = html.unescape(client.get(path).content.decode())
        assert said in body, path
        assert "book a training session" not in body, path
    # An administrator reads it about Sam.
    client.force_login(persona("admin"))
    body = html.unescape(
        client.get(reverse("accounts:access_edit", args=[sam.pk])).content.decode()
    )
    assert (
        f"so they cannot create and edit records until they attend the session on "
        f"{day:%-d %B %Y}, which they are booked on." in body
    )


@pytest.mark.django_db
def test_someone_booked_on_bulk_email_training_is_told_to_wait_for_it(persona, cast):
    from mycareer.accounts.tests.factories import TrainingSessionFactory, training_courses

    tom = persona("operator")
    services.access_grant(user=tom, level=AccessLevel.BULK_MAILER, by=cast["admin"])
    session = TrainingSessionFactory(course=training_courses()[TrainingCourse.BULK_EMAIL])
    services.training_book(session=session, user=tom, by=tom)
    day = timezone.localtime(session.starts_at)
    assert compute_access(tom).why_not(Action.BULK_EMAIL) == (
        "You have not completed the bulk email training yet: you are booked on the bulk "
        f"email session on {day:%-d %B %Y}; you can send bulk email to employer contacts "
        "once your attendance is recorded."
    )


@pytest.mark.django_db
def test_operator_access_lapses_a_year_after_training(persona, cast):
    user = persona("operator")
    completed = timezone.localdate() - datetime.timedelta(days=120)
    expires = completed + datetime.timedelta(days=365)
    assert compute_access(user, today=expires).can(Action.EDIT)
    after = expires + datetime.timedelta(days=1)
    with time_machine.travel(
        datetime.datetime.combine(after, datetime.time(12), tzinfo=datetime.UTC)
    ):
        access = compute_access(user)
        assert not access.can(Action.EDIT)
        assert access.can(Action.VIEW)
        assert f"ran out after {expires:%-d %B %Y}" in access.why_not(Action.EDIT)


@pytest.mark.django_db
def test_completing_training_restores_editing(persona, cast):
    user = persona("untrained")
    course = TrainingCourse.objects.get(code=TrainingCourse.OPERATOR)
    services.training_completion_record(
        user=user, course=course, completed_on=timezone.localdate(), by=cast["admin"]
    )
    assert compute_access(user).can(Action.EDIT)


@pytest.mark.django_db
def test_bulk_mailer_needs_the_bulk_email_training_too(persona, cast):
    user = persona("operator")
    services.access_grant(user=user, level=AccessLevel.BULK_MAILER, by=cast["admin"])
    access = compute_access(user)
    assert access.can(Action.DELETE)
    assert not access.can(Action.BULK_EMAIL)
    assert "not completed the bulk email training" in access.why_not(Action.BULK_EMAIL)


@pytest.mark.django_db
def test_a_new_terms_version_must_be_accepted_again(client, persona, cast):
    user = persona("operator")
    client.force_login(user)
    assert client.get(reverse("accounts:training_sessions")).status_code == 200
    new = services.terms_publish(
        version="2.2",
        title="Terms",
        body="New rules",
        by=cast["admin"],
        confirmed=staff_bound_by_terms().count(),
    )
    access = compute_access(user)
    assert not access.can(Action.VIEW)
    assert "Accept the current terms" in access.why_not(Action.EDIT)
    response = client.get(reverse("accounts:training_sessions"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:terms"))
    response = client.post(reverse("accounts:terms"), {"accept": "yes", "next": "/training/"})
    assert response.status_code == 302
    assert response["Location"] == "/training/"
    assert user.terms_acceptances.filter(terms=new).exists()
    assert compute_access(user).can(Action.EDIT)


@pytest.mark.django_db
def test_accepting_terms_without_ticking_the_box_is_refused(client, persona, cast):
    user = persona("operator")
    services.terms_publish(
        version="2.2",
        title="Terms",
        body="New rules",
        by=cast["admin"],
        confirmed=staff_bound_by_terms().count(),
    )
    client.force_login(user)
    response = client.post(reverse("accounts:terms"), {})
    assert response.status_code == 200
    assert "Tick the box" in response.content.decode()
    assert not compute_access(user).terms_accepted


@pytest.mark.django_db
def test_students_and_employers_are_not_asked_for_staff_terms(client, persona, cast):
    services.terms_publish(
        version="2.2",
        title="Terms",
        body="New rules",
        by=cast["admin"],
        confirmed=staff_bound_by_terms().count(),
    )
    client.force_login(persona("student"))
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_a_persons_access_takes_one_query(persona, django_assert_num_queries):
    mailer = persona("mailer")
    with django_assert_num_queries(1):
        access = compute_access(mailer)
    assert access.can(Action.BULK_EMAIL) and access.bulk_training_expires


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["student", "operator"])
def test_refused_own_permissions_ask_no_more_backends(persona, name, django_assert_num_queries):
    person = persona(name)
    access_for(person)  # what every page has worked out already
    with django_assert_num_queries(0):
        assert not person.has_perm("mycareer.send_bulk_email")


@pytest.mark.django_db
def test_refused_permissions_with_a_rule_ask_no_more_backends(persona, django_assert_num_queries):
    """A permission with a rule ("organisations.change_organisation") ends at the rule:
    the model backends loaded the person's Django permissions (two queries) to refuse
    again, and a model permission given in the admin must not get round the policy."""
    from django.contrib.auth.models import Permission

    viewer = persona("viewer")
    viewer.user_permissions.add(
        Permission.objects.get(
            codename="change_organisation", content_type__app_label="organisations"
        )
    )
    viewer = type(viewer).objects.get(pk=viewer.pk)
    access_for(viewer)
    with django_assert_num_queries(0):
        assert not viewer.has_perm("organisations.change_organisation")
