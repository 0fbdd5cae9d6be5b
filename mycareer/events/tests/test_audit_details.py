"""An event's entries in the audit trail read in words: labels, years, no bare ids."""

import pytest

from mycareer.audit.models import AuditEntry
from mycareer.events import services
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def tom(persona):
    return persona("operator")


@pytest.fixture
def monday():
    return far_monday()


def latest(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


def test_a_new_event_reads_its_type_status_and_years_in_words(tom, monday):
    make_event(
        by=tom,
        title="Robots",
        type=Event.Type.EMPLOYER_PRESENTATION,
        starts_at=at(monday, 10),
        audience_years=[2, 3],
    )
    details = dict(latest("events.event.created").details)
    assert details["type"] == "Employer presentation"
    assert details["status"] == "Draft"
    assert details["audience years"] == "Year 2, Year 3"


def test_a_change_of_type_and_years_reads_in_words(tom, monday):
    event = make_event(by=tom, title="Robots", starts_at=at(monday, 10))
    services.event_update(event=event, by=tom, type=Event.Type.WORKSHOP, audience_years=[1])
    details = dict(latest("events.event.changed").details)
    assert details["type"] == "Other → Workshop"
    assert details["audience years"] == "every year → Year 1"


def test_an_opening_names_the_unit_not_the_request_number(tom, persona, monday):
    event = make_event(by=tom, title="Open me", starts_at=at(monday, 10), publish=True)
    services.opening_request_create(event=event, unit=unit("ahc"), by=tom, message="Please")
    details = latest("events.opening.requested").details
    assert [key for key, _ in details] == ["unit", "message"]


def test_a_change_to_a_long_audience_says_what_it_gained_and_lost(tom, persona, monday):
    # "A, B, C → A, B, C, D" was cut short at the row's end before reaching D.
    units = [unit(code) for code in ("mech", "mech-design")]
    event = make_event(by=tom, title="Robots", starts_at=at(monday, 10), audience_units=units)
    wider = [unit("mech"), unit("ahc")]
    services.event_update(event=event, by=persona("admin"), audience_units=wider)
    details = dict(latest("events.event.changed").details)
    assert details["audience units"] == (
        f"added “{unit('ahc').name}”; removed {unit('mech-design').name}"
    )
