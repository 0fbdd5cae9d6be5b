"""Who sees which event: the audience, and the places a student has had."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mycareer.bookings.models import Booking, WaitlistEntry
from mycareer.bookings.tests.factories import make_students
from mycareer.events import selectors, services
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, programme, unit

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


def test_the_audience_line_says_who_may_book_once_the_event_is_opened_to_another_school(
    persona, client
):
    """The line "For: School of Computing, School of Mechanical Engineering; MEng
    Mechanical Engineering; all years" read as if Computing's students had to be on the
    MEng too. Units and programmes are alternatives (`audience_includes`); years hold
    for all."""

    tom = persona("operator")
    aisha, oliver, james = persona("student"), persona("student2"), persona("student4")
    [beng] = make_students(1, programme="beng-mech", year=1)
    event = make_event(
        by=tom,
        starts_at=at(far_monday(), 10),
        audience_units=[unit("mech")],
        audience_programmes=[programme("meng-mech")],
        publish=True,
    )
    request = services.opening_request_create(event=event, unit=unit("computing"), by=tom)
    services.opening_request_decide(request=request, accept=True, by=persona("manager"))
    event.refresh_from_db()
    said = selectors.audience_text(event)
    assert said == (
        "Students of School of Mechanical Engineering, and students on MEng Mechanical "
        "Engineering, in any year; also open to students of School of Computing, in any year"
    )
    # What it says holds: Oliver (BSc Computer Science) may book, as may a first-year on
    # the BEng (of the school, not on the MEng), and Aisha (MEng); James (history) not.
    assert [selectors.is_for(s, event) for s in (oliver, beng, aisha, james)] == [
        True,
        True,
        True,
        False,
    ]
    client.force_login(oliver)
    assert said in client.get(event.get_absolute_url()).content.decode()

    # Years hold for every group, the school asked included: Oliver is in year 2.
    services.event_update(event=event, by=tom, audience_years=[3])
    event = Event.objects.get(pk=event.pk)
    assert selectors.audience_text(event).endswith(
        "in year 3; also open to students of School of Computing, in year 3"
    )
    assert [selectors.is_for(s, event) for s in (oliver, aisha)] == [False, True]
    services.event_update(event=event, by=tom, audience_years=[1, 3])
    event = Event.objects.get(pk=event.pk)
    assert selectors.audience_text(event).endswith("School of Computing, in years 1 or 3")


def test_the_audience_line_of_an_event_for_every_student(persona):
    admin = persona("admin")
    event = make_event(by=admin, starts_at=at(far_monday(), 10), open_to_all=True)
    assert selectors.audience_text(event) == "All students"

    services.event_update(event=event, by=admin, audience_years=[2])
    event = Event.objects.get(pk=event.pk)
    assert selectors.audience_text(event) == "All students in year 2"
