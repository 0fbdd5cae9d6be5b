"""A body field an endpoint does not take is refused, never ignored: a misspelt field
(`visible_to_student`) answered 200 and changed nothing, so what the caller meant to
change (a contact's details shown to students) stayed as it was."""

import datetime

import pytest

from mycareer.bookings.models import Booking
from mycareer.bookings.tests.factories import make_event as bookable_event
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, unit
from mycareer.organisations import services as organisations
from mycareer.organisations.models import Contact, Note, Organisation
from mycareer.organisations.tests.factories import make_organisation

pytestmark = pytest.mark.django_db


def _refused(answer, *names: str) -> None:
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == set(names)
    assert all("Not a field" in m for name in names for m in body["fields"][name])


def test_a_misspelt_field_of_a_contact_is_refused_and_changes_nothing(call, token_for, persona):
    org = make_organisation("Aire Valley Robotics")
    contact = organisations.contact_create(
        organisation=org, by=persona("operator"), full_name="Ruth Key", visible_to_students=True
    )
    secret = token_for("operator")
    etag = call(secret, "get", f"/contacts/{contact.pk}")["ETag"]
    answer = call(
        secret,
        "patch",
        f"/contacts/{contact.pk}",
        {"visible_to_student": False},
        HTTP_IF_MATCH=etag,
    )
    _refused(answer, "visible_to_student")
    assert Contact.objects.get(pk=contact.pk).visible_to_students


def test_a_field_an_update_does_not_take_is_refused(call, token_for):
    org = make_organisation("Aire Valley Robotics")
    secret = token_for("operator")
    etag = call(secret, "get", f"/organisations/{org.pk}")["ETag"]
    answer = call(
        secret,
        "patch",
        f"/organisations/{org.pk}",
        {"unit": 2, "locations": "Leeds"},
        HTTP_IF_MATCH=etag,
    )
    _refused(answer, "unit")
    assert Organisation.objects.get(pk=org.pk).locations == ""


def test_unknown_fields_of_a_new_record_are_refused_and_nothing_is_made(call, token_for):
    org = make_organisation("Aire Valley Robotics")
    secret = token_for("operator")
    _refused(call(secret, "post", "/organisations", {"name": "Kestrel", "bogus": 1}), "bogus")
    _refused(
        call(
            secret,
            "post",
            f"/organisations/{org.pk}/notes",
            {"text": "A call.", "unknownfield": True, "other": 2},
        ),
        "unknownfield",
        "other",
    )
    _refused(
        call(secret, "post", f"/organisations/{org.pk}/contacts", {"full_name": "A", "mail": ""}),
        "mail",
    )
    assert list(Organisation.objects.all()) == [org]
    assert not Note.objects.exists() and not Contact.objects.exists()


def test_unknown_fields_of_an_event_are_refused(call, token_for, persona):
    secret = token_for("operator")
    monday = far_monday()
    body = {
        "title": "Talk",
        "unit": unit("mech").pk,
        "starts_at": at(monday, 10).isoformat(),
        "ends_at": at(monday, 11).isoformat(),
        "open_to_all": True,
    }
    _refused(call(secret, "post", "/events", {**body, "capacity": 10}), "capacity")
    assert not Event.objects.exists()
    event = make_event(by=persona("operator"), starts_at=at(monday, 10))
    etag = call(secret, "get", f"/events/{event.pk}")["ETag"]
    changed = call(secret, "patch", f"/events/{event.pk}", {"vneue": "Room 2"}, HTTP_IF_MATCH=etag)
    _refused(changed, "vneue")
    published = call(secret, "post", f"/events/{event.pk}/publish", {"reason": "Why not"})
    _refused(published, "reason")
    assert Event.objects.get(pk=event.pk).status == Event.Status.DRAFT


def test_a_body_sent_where_none_is_taken_is_refused(call, token_for, persona):
    from mycareer.bookings import services as bookings

    tom, aisha = persona("operator"), persona("student")
    event = bookable_event(organiser=tom, starts_in=datetime.timedelta(minutes=30))
    booking = bookings.booking_create(event=event, student=aisha, by=aisha)
    path = f"/bookings/{booking.pk}/attendance"
    _refused(call(token_for("operator"), "post", path, {"x": 1}), "x")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    # Nothing, or an empty object, is what these endpoints take.
    assert call(token_for("operator"), "post", path, {}).status_code == 200
    student = token_for("student", scopes=["read", "bookings"])
    _refused(call(student, "delete", f"/bookings/{booking.pk}", {"reason": "ill"}), "reason")
    other = bookable_event(organiser=tom)
    _refused(call(student, "post", f"/events/{other.pk}/bookings", {"seats": 2}), "seats")
    assert call(student, "post", f"/events/{other.pk}/bookings").status_code == 201


def test_the_schema_says_bodies_take_no_other_fields(call, token_for):
    schemas = call(token_for("operator"), "get", "/openapi.json").json()["components"]["schemas"]
    bodies = [name for name in schemas if name.endswith(("In", "Change"))]
    assert bodies
    assert all(schemas[name].get("additionalProperties") is False for name in bodies)
