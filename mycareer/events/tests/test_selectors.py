"""Who sees which event: the audience, and the places a student has had."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mycareer.bookings.models import Booking, WaitlistEntry
from mycareer.events import selectors
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event

pytestmark = pytest.mark.django_db

ROWS = [
    (Booking, status)
    for status in (
        Booking.Status.CONFIRMED,
        Booking.Status.ATTENDED,
        Booking.Status.NO_SHOW,
        Booking.Status.CANCELLED,
    )
] + [(WaitlistEntry, status) for status in WaitlistEntry.Status.values]


@pytest.fixture
def talk(persona) -> Event:
    """A published talk for mechanical engineering students only."""
    return make_event(
        by=persona("operator"),
        title="Gas turbines for mechanical engineers",
        starts_at=at(far_monday(), 10),
        publish=True,
    )


@pytest.mark.parametrize(("model", "status"), ROWS)
def test_a_student_outside_the_audience_sees_an_event_they_had_a_place_at(
    persona, talk, model, status
):
    james = persona("student4")  # history: not in the talk's audience
    assert not selectors.can_see_event(james, talk)
    model.objects.create(event=talk, student=james, status=status)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.can_see_event(james, talk)
    assert len(queries) == 1  # one question (their units were read by the first)


def test_a_cancelled_event_stays_open_to_those_who_had_a_place(persona, talk):
    from mycareer.events import services

    james = persona("student4")
    Booking.objects.create(event=talk, student=james, status=Booking.Status.CANCELLED)
    services.event_cancel(event=talk, by=persona("operator"), reason="The speaker is ill")
    talk.refresh_from_db()
    assert talk.status == Event.Status.CANCELLED
    assert selectors.can_see_event(james, talk)


def test_a_draft_stays_unknown_even_to_a_student_with_a_place(persona):
    james = persona("student4")
    draft = make_event(by=persona("operator"), title="Draft", starts_at=at(far_monday(), 10))
    Booking.objects.create(event=draft, student=james)
    assert not selectors.can_see_event(james, draft)


def test_another_students_place_opens_nothing(persona, talk):
    Booking.objects.create(event=talk, student=persona("student3"))
    assert not selectors.can_see_event(persona("student4"), talk)


def test_a_deactivated_student_sees_nothing_despite_a_place(persona, talk):
    james = persona("student4")
    Booking.objects.create(event=talk, student=james)
    james.is_active = False
    james.save(update_fields=["is_active"])
    assert not selectors.can_see_event(james, talk)


def test_lists_and_calendars_keep_to_the_audience(persona, talk):
    james = persona("student4")
    Booking.objects.create(event=talk, student=james)
    assert talk not in selectors.visible_events(james)
    assert not selectors.is_for(james, talk)  # the page opens; the audience is unchanged
    assert selectors.is_for(persona("student"), talk)


# The organisations taking part, one a line -------------------------------------------------


@pytest.fixture
def namesakes(persona):
    from mycareer.events.tests.factories import organisation

    return organisation("Acme Ltd"), organisation("Acme Ltd"), organisation("Brightwave Digital")


def test_only_a_name_two_organisations_share_is_numbered_in_one_query(persona, namesakes):
    first, second, brightwave = namesakes
    event = make_event(
        by=persona("operator"),
        title="Open day",
        starts_at=at(far_monday(), 10),
        organisations=[second, brightwave],
    )
    with CaptureQueriesContext(connection) as queries:
        lines = selectors.organisation_lines(event)
    assert len(queries) == 1
    assert lines == [f"Acme Ltd (no. {second.pk})", "Brightwave Digital"]
    assert selectors.organisations_named(lines).found == [second, brightwave]


def test_a_number_names_only_a_live_organisation_of_that_name(namesakes):
    first, second, brightwave = namesakes
    second.merged_into = first
    second.save(update_fields=["merged_into"])
    lines = [f"Acme Ltd (no. {second.pk})", f"Acme Ltd (no. {brightwave.pk})", "acme ltd"]
    named = selectors.organisations_named(lines)
    assert named.found == [first]  # the only live Acme Ltd, by its name
    assert named.wrong_number == {lines[0]: second, lines[1]: brightwave}
    assert named.several == {} and named.missing == {}


def test_the_same_organisation_named_twice_is_taken_once(namesakes):
    first, _, _ = namesakes
    named = selectors.organisations_named([f"Acme Ltd (no. {first.pk})"] * 2)
    assert named.found == [first]
