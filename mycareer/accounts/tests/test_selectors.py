"""The access list reads training and terms validity from the query `compute_access` uses."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts import selectors, services
from mycareer.accounts.models import AccessLevel, TrainingCourse, TrainingRecord
from mycareer.accounts.permissions import (
    Action,
    compute_access,
    current_terms,
    staff_bound_by_terms,
)
from mycareer.accounts.tests.factories import TrainingSessionFactory

pytestmark = pytest.mark.django_db


def _expire_operator_training(user, *, days_ago: int) -> datetime.date:
    expired = timezone.localdate() - datetime.timedelta(days=days_ago)
    TrainingRecord.objects.filter(
        user=user, course__code=TrainingCourse.OPERATOR, status=TrainingRecord.Status.COMPLETED
    ).update(expires_on=expired)
    return expired


def test_the_access_list_agrees_with_compute_access_for_every_member_of_staff(persona, cast):
    _expire_operator_training(persona("operator"), days_ago=1)
    services.terms_publish(
        version="9.9", title="Terms", body="New.", by=None, confirmed=staff_bound_by_terms().count()
    )
    services.terms_accept(user=persona("manager"), terms=current_terms())
    for person in selectors.staff_with_access():
        access = compute_access(person)
        if person.operator_done:
            assert person.operator_valid == (
                access.operator_training_expires >= timezone.localdate()
            )
        assert person.terms_ok == access.terms_accepted, person.email
        if person.grant_level and person.grant_level >= AccessLevel.OPERATOR:
            assert access.can(Action.EDIT) == (person.operator_valid and person.terms_ok)


def test_training_that_ends_today_is_still_valid_and_yesterday_is_not(persona, cast):
    operator = persona("operator")
    _expire_operator_training(operator, days_ago=0)
    assert selectors.staff_with_access().get(pk=operator.pk).operator_valid
    assert compute_access(operator).can(Action.EDIT)
    _expire_operator_training(operator, days_ago=1)
    assert not selectors.staff_with_access().get(pk=operator.pk).operator_valid
    assert not compute_access(operator).can(Action.EDIT)


def test_the_access_list_page_shows_expired_training_and_unaccepted_terms(client, persona, cast):
    expired = _expire_operator_training(persona("operator"), days_ago=1)
    terms = services.terms_publish(
        version="9.9", title="Terms", body="New.", by=None, confirmed=staff_bound_by_terms().count()
    )
    services.terms_accept(user=persona("admin"), terms=terms)
    client.force_login(persona("admin"))
    response = client.get(reverse("accounts:access_list"), {"q": "operator@demo.ac.uk"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Ran out after {expired:%-d %b %Y}" in body
    assert "Not accepted" in body


def test_upcoming_training_sessions_come_soonest_first_whatever_order_they_were_scheduled(db):
    now = timezone.now()
    later = TrainingSessionFactory(starts_at=now + datetime.timedelta(days=40))
    sooner = TrainingSessionFactory(starts_at=now + datetime.timedelta(days=2))
    assert list(selectors.training_sessions_upcoming()) == [sooner, later]


def test_a_session_under_way_is_upcoming_but_no_longer_offered_to_book(client, persona, cast):
    now = timezone.now()
    under_way = TrainingSessionFactory(
        starts_at=now - datetime.timedelta(minutes=5), place="Room under way"
    )
    later = TrainingSessionFactory(starts_at=now + datetime.timedelta(days=2), place="Room later")
    assert under_way in selectors.training_sessions_upcoming()
    assert list(selectors.training_sessions_bookable()) == [later]
    assert list(selectors.training_sessions_under_way()) == [under_way]
    client.force_login(persona("untrained"))
    body = client.get(reverse("accounts:my_access")).content.decode()
    assert "Room later" in body
    assert "Room under way" not in body
