"""A token without `read` is no way to read: each of its writes answers with the record's
id (and its ETag), never the record, so a leaked write-only token (an import script's)
shows nobody the contacts' emails and phones. A token that may read gets the record."""

import datetime

import pytest

from mycareer.api.models import Scope
from mycareer.bookings import services as bookings
from mycareer.bookings.tests.factories import make_event as bookable_event
from mycareer.events.tests.factories import at, far_monday, make_event, unit
from mycareer.organisations import services as organisations
from mycareer.organisations.tests.factories import make_organisation

pytestmark = pytest.mark.django_db

WRITERS = [Scope.WRITE_ORGANISATIONS, Scope.WRITE_EVENTS]
EMAIL, PHONE = "amir@calder.example", "0113 496 0123"


def _event_body(**extra):
    monday = far_monday()
    return {
        "title": "Tom's talk",
        "venue": "Room 1",
        "unit": unit("mech").pk,
        "starts_at": at(monday, 12, 30).isoformat(),
        "ends_at": at(monday, 13, 30).isoformat(),
        "audience_units": [unit("mech").pk],
        **extra,
    }


@pytest.fixture
def writes(persona):
    """Each write a token of Tom's may send, as (method, path, body), with what the
    records hold: an organisation whose contact has an email and a phone."""
    tom = persona("operator")
    org = make_organisation("Calder Widgets", by=tom)
    contact = organisations.contact_create(
        organisation=org, by=tom, full_name="Amir Khan", email=EMAIL, phone=PHONE
    )
    event = make_event(by=tom, title="Careers fair", starts_at=at(far_monday(), 16), venue="Hall")
    return {
        "organisation_create": ("post", "/organisations", {"name": "Wharfedale Optics"}),
        "organisation_update": ("patch", f"/organisations/{org.pk}", {}),
        "contact_create": (
            "post",
            f"/organisations/{org.pk}/contacts",
            {"full_name": "Ruth Key", "email": "ruth@calder.example", "phone": PHONE},
        ),
        "contact_update": ("patch", f"/contacts/{contact.pk}", {}),
        "note_create": (
            "post",
            f"/organisations/{org.pk}/notes",
            {"text": "Called Amir.", "contacts": [contact.pk]},
        ),
        "event_create": ("post", "/events", _event_body()),
        "event_update": ("patch", f"/events/{event.pk}", {}),
        "event_publish": ("post", f"/events/{event.pk}/publish", {}),
    }


@pytest.mark.parametrize(
    ("write", "brief"),
    [
        ("organisation_create", {"id"}),
        ("organisation_update", {"id"}),
        ("contact_create", {"id"}),
        ("contact_update", {"id"}),
        ("note_create", {"id"}),
        ("event_create", {"id", "clashes"}),
        ("event_update", {"id", "clashes"}),
        ("event_publish", {"id", "clashes"}),
    ],
)
def test_a_write_only_token_is_answered_with_the_id_never_the_record(
    call, token_for, writes, write, brief
):
    method, path, body = writes[write]
    writer = token_for("operator", scopes=WRITERS)
    answer = call(writer, method, path, body, HTTP_IF_MATCH="*")
    assert answer.status_code in (200, 201), answer.content
    assert set(answer.json()) == brief
    assert "ruth" not in answer.text.lower() and "amir" not in answer.text.lower()
    assert EMAIL not in answer.text and PHONE not in answer.text
    if method == "patch" or write in (
        "organisation_create",
        "contact_create",
        "event_create",
        "event_publish",
    ):
        assert answer["ETag"]


@pytest.mark.parametrize(
    "write",
    ["organisation_update", "contact_update", "note_create", "event_update", "event_publish"],
)
def test_a_token_that_may_read_is_answered_with_the_record_as_before(
    call, token_for, writes, write
):
    method, path, body = writes[write]
    both = token_for("operator", scopes=[Scope.READ, *WRITERS])
    answer = call(both, method, path, body, HTTP_IF_MATCH="*")
    assert answer.status_code in (200, 201), answer.content
    assert len(answer.json()) > 2
    if write in ("organisation_update", "contact_update"):
        assert EMAIL in answer.text and PHONE in answer.text


def test_the_clashes_a_write_only_token_is_told_are_those_the_clash_page_shows(
    call, token_for, persona
):
    theirs = make_event(
        by=persona("manager"),
        title="Helen's talk",
        unit=unit("eps"),
        starts_at=at(far_monday(), 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    answer = call(token_for("operator", scopes=WRITERS), "post", "/events", _event_body())
    [clash] = answer.json()["clashes"]
    assert set(clash) == {"event", "title", "starts_at", "score", "reasons"}
    assert (clash["event"], clash["title"]) == (theirs.pk, "Helen's talk")


def test_a_likely_duplicate_is_named_to_a_write_only_token_without_its_details(
    call, token_for, persona
):
    existing = make_organisation("Calder Widgets Ltd", website="https://calder.example")
    organisations.contact_create(
        organisation=existing, by=persona("operator"), full_name="Amir Khan", email=EMAIL
    )
    body = {"name": "Calder Widgets", "website": "https://www.calder.example"}
    refused = call(token_for("operator", scopes=WRITERS), "post", "/organisations", body)
    assert refused.status_code == 409 and refused.json()["code"] == "likely_duplicate"
    assert refused.json()["duplicates"] == [{"id": existing.pk, "name": "Calder Widgets Ltd"}]
    assert "calder.example" not in refused.text and "Amir" not in refused.text
    # A token that may read is told why, as before.
    told = call(token_for("operator"), "post", "/organisations", body)
    assert told.status_code == 409
    assert "Contacts with email at calder.example" in told.json()["duplicates"][0]["reasons"]


def test_attendance_recorded_by_a_write_only_token_names_nobody(call, token_for, persona):
    tom, aisha = persona("operator"), persona("student")
    event = bookable_event(organiser=tom, starts_in=datetime.timedelta(minutes=30))
    booking = bookings.booking_create(event=event, student=aisha, by=aisha)
    path = f"/bookings/{booking.pk}/attendance"
    recorded = call(token_for("operator", scopes=WRITERS), "post", path)
    assert recorded.status_code == 200
    assert recorded.json() == {"id": booking.pk}
    again = call(token_for("operator", scopes=[Scope.READ, *WRITERS]), "post", path)
    assert again.json()["student"] == str(aisha)


def test_a_booking_token_without_read_is_told_the_outcome_not_the_event(call, token_for):
    event = bookable_event(capacity=1, title="Meet the Atlas graduates")
    secret = token_for("student", scopes=[Scope.BOOKINGS])
    booked = call(secret, "post", f"/events/{event.pk}/bookings")
    assert booked.status_code == 201
    place = booked.json()["booking"]
    assert booked.json() == {
        "event": event.pk,
        "outcome": "booked",
        "booking": place,
        "waiting_list": None,
    }
    cancelled = call(secret, "delete", f"/bookings/{place}")
    assert cancelled.status_code == 200 and cancelled.json() == {"id": place}
    # With `read`, the same answers as before.
    reader = token_for("student", scopes=[Scope.READ, Scope.BOOKINGS])
    again = call(reader, "post", f"/events/{event.pk}/bookings")
    assert "Meet the Atlas graduates" in again.json()["message"]
    assert call(reader, "delete", f"/bookings/{again.json()['booking']}").json()["status"]


def test_the_schema_declares_both_answers_of_every_write():
    from mycareer.api import routes  # noqa: F401 (registers the endpoints)
    from mycareer.api.api import api

    briefs = {"Written", "EventWritten", "Placed"}
    paths = api.get_openapi_schema(path_prefix="/api/v1")["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method not in ("post", "patch", "put", "delete"):
                continue
            [ok] = [status for status in operation["responses"] if int(status) < 300]
            shapes = operation["responses"][ok]["content"]["application/json"]["schema"]
            declared = {option["$ref"].rsplit("/", 1)[-1] for option in shapes["anyOf"]}
            assert len(declared) == 2 and declared & briefs, f"{method} {path}: {declared}"
