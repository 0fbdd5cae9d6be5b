"""Writes through the services and their rules: duplicates, liaison, clashes, If-Match,
bookings with a student's own token, attendance."""

import datetime

import pytest
from django.utils import timezone

from mycareer.api import routes
from mycareer.api.models import Scope
from mycareer.audit.models import AuditEntry
from mycareer.bookings.models import Booking
from mycareer.bookings.tests.factories import make_event as bookable_event
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, unit
from mycareer.organisations import services as organisations
from mycareer.organisations.models import Contact, Note, Organisation
from mycareer.organisations.tests.factories import (
    brightwave_digital,
    key_account_with_contact,
    make_organisation,
)

pytestmark = pytest.mark.django_db


def test_a_likely_duplicate_is_409_with_reasons_until_confirmed(call, token_for):
    existing = make_organisation(
        "Northbridge Engineering Ltd", website="https://northbridge.example"
    )
    secret = token_for("operator")
    body = {"name": "Northbridge Engineering", "website": "https://www.northbridge.example"}
    refused = call(secret, "post", "/organisations", body)
    assert refused.status_code == 409
    answer = refused.json()
    assert answer["code"] == "likely_duplicate"
    [duplicate] = answer["duplicates"]
    assert duplicate["id"] == existing.pk and duplicate["reasons"]
    assert Organisation.objects.count() == 1
    created = call(secret, "post", "/organisations", {**body, "confirm_duplicate": True})
    assert created.status_code == 201
    assert AuditEntry.objects.filter(
        action="organisations.organisation.created", object_id=str(created.json()["id"])
    ).exists()


def test_a_rename_to_a_likely_duplicate_is_409_until_confirmed(call, token_for):
    """The rename skipped the check that creating the organisation would have met."""
    atlas = make_organisation("Atlas Global Bank", website="https://atlas.example")
    kestrel = make_organisation("Kestrel Games", website="https://kestrel.example")
    secret = token_for("operator")
    path = f"/organisations/{kestrel.pk}"
    etag = call(secret, "get", path)["ETag"]
    for change in ({"name": "Atlas Global Bank"}, {"website": "https://www.atlas.example"}):
        refused = call(secret, "patch", path, change, HTTP_IF_MATCH=etag)
        assert refused.status_code == 409
        assert refused.json()["code"] == "likely_duplicate"
        assert [d["id"] for d in refused.json()["duplicates"]] == [atlas.pk]
        assert "confirm_duplicate" in refused.json()["message"]
    kestrel.refresh_from_db()
    assert (kestrel.name, kestrel.website) == ("Kestrel Games", "https://kestrel.example")
    # Other changes, and its own name sent again, are not checked.
    same = {"name": "Kestrel Games", "locations": "Leeds"}
    changed = call(secret, "patch", path, same, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    confirmed = call(
        secret,
        "patch",
        path,
        {"name": "Atlas Global Bank", "confirm_duplicate": True},
        HTTP_IF_MATCH=changed["ETag"],
    )
    assert confirmed.status_code == 200 and confirmed.json()["name"] == "Atlas Global Bank"


def test_bad_input_is_a_400_in_the_one_shape(call, token_for, client):
    secret = token_for("operator")
    missing = call(secret, "post", "/organisations", {"website": "x"})
    assert missing.status_code == 400
    assert set(missing.json()) == {"code", "message", "fields"}
    assert "name" in missing.json()["fields"]
    broken = client.post(
        "/api/v1/organisations",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert broken.status_code == 400 and broken.json()["code"]
    huge = call(secret, "get", "/organisations/99999999999999999999999")
    assert huge.status_code == 400


def test_an_organisation_for_a_unit_that_does_not_exist_is_a_400_not_made_for_ones_own(
    call, token_for
):
    """It was made, owned by the sender's own unit, and answered 201."""
    answer = call(token_for("operator"), "post", "/organisations", {"name": "Kestrel", "unit": 999})
    assert answer.status_code == 400
    why = "No unit has the id 999: send a unit's id, or leave “unit” out for your own unit."
    assert answer.json()["fields"] == {"unit": [why]} and answer.json()["message"] == why
    assert not Organisation.objects.filter(name="Kestrel").exists()
    named = call(token_for("operator"), "post", "/organisations", {"name": "Kestrel", "unit": 0})
    assert named.status_code == 400 and list(named.json()["fields"]) == ["unit"]


@pytest.mark.parametrize(
    "field", ["organisations", "audience_units", "audience_programmes", "contacts"]
)
def test_an_id_in_a_list_that_no_record_could_have_is_a_400_not_a_500(call, token_for, field):
    """Ids beyond any database integer once reached the database (and failed there)."""
    org = make_organisation("Northbridge Engineering Ltd")
    path, body = (
        (f"/organisations/{org.pk}/notes", {"text": "A call."})
        if field == "contacts"
        else (
            "/events",
            {
                "title": "Talk",
                "unit": unit("mech").pk,
                "starts_at": "2030-03-04T10:00:00Z",
                "ends_at": "2030-03-04T11:00:00Z",
            },
        )
    )
    answer = call(token_for("operator"), "post", path, {**body, field: [10**30]})
    assert answer.status_code == 400
    assert [name.split(".")[0] for name in answer.json()["fields"]] == [field]


@pytest.mark.parametrize(
    ("record", "field"),
    [("organisations", "description"), ("contacts", "phone"), ("events", "venue")],
)
def test_a_null_for_a_field_that_cannot_be_empty_is_a_400_not_a_500(
    call, token_for, persona, record, field
):
    """Found by the stateful fuzz: `"phone": null` reached the database and failed there."""
    tom = persona("operator")
    org = make_organisation("Aire Valley Robotics", by=tom)
    pk = {
        "organisations": lambda: org.pk,
        "contacts": lambda: (
            organisations.contact_create(organisation=org, by=tom, full_name="Ana Silva").pk
        ),
        "events": lambda: make_event(by=tom, starts_at=at(far_monday(), 10)).pk,
    }[record]()
    secret = token_for("operator")
    etag = call(secret, "get", f"/{record}/{pk}")["ETag"]
    answer = call(secret, "patch", f"/{record}/{pk}", {field: None}, HTTP_IF_MATCH=etag)
    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == [field]


def test_updates_need_the_current_etag(call, token_for):
    org = make_organisation("Aire Valley Robotics")
    secret = token_for("operator")
    etag = call(secret, "get", f"/organisations/{org.pk}")["ETag"]
    no_tag = call(secret, "patch", f"/organisations/{org.pk}", {"locations": "Leeds"})
    assert no_tag.status_code == 428
    first = call(
        secret, "patch", f"/organisations/{org.pk}", {"locations": "Leeds"}, HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200 and first.json()["locations"] == ["Leeds"]
    # A second editor working from the same copy is stopped: nothing is overwritten.
    stale = call(
        token_for("manager"),
        "patch",
        f"/organisations/{org.pk}",
        {"locations": "York"},
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale"
    assert stale["ETag"] == first["ETag"]
    assert Organisation.objects.get(pk=org.pk).locations == "Leeds"


def test_a_token_that_may_not_read_chains_updates_with_the_etags_its_writes_answer(call, token_for):
    """A token without `read` could never GET the version If-Match needs."""
    writer = token_for("operator", scopes=[Scope.WRITE_ORGANISATIONS])
    reader = token_for("manager", scopes=[Scope.READ])
    made = call(writer, "post", "/organisations", {"name": "Wharfedale Optics"})
    assert made.status_code == 201
    path = f"/organisations/{made.json()['id']}"
    assert call(writer, "get", path).json()["code"] == "scope_missing"
    assert made["ETag"] == call(reader, "get", path)["ETag"]  # the version a read gives
    first = call(writer, "patch", path, {"locations": "Leeds"}, HTTP_IF_MATCH=made["ETag"])
    assert first.status_code == 200
    second = call(writer, "patch", path, {"locations": "York"}, HTTP_IF_MATCH=first["ETag"])
    assert second.status_code == 200
    # The ETag of a version since replaced is refused, with the reason and the version now.
    stale = call(writer, "patch", path, {"locations": "Hull"}, HTTP_IF_MATCH=made["ETag"])
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale"
    assert "since the version you sent in If-Match" in stale.json()["message"]
    assert stale["ETag"] == second["ETag"] == call(reader, "get", path)["ETag"]
    assert Organisation.objects.get(pk=made.json()["id"]).locations == "York"
    unsure = call(writer, "patch", path, {"locations": "Hull"})
    assert unsure.status_code == 428 and "ETag" not in unsure


def test_contacts_and_events_made_answer_with_the_etag_a_read_gives(call, token_for, persona):
    org = make_organisation("Calder Widgets")
    writer = token_for("operator", scopes=[Scope.WRITE_ORGANISATIONS, Scope.WRITE_EVENTS])
    reader = token_for("operator", scopes=[Scope.READ])
    body = {"full_name": "Amir Khan", "email": "amir@calder.example"}
    contact = call(writer, "post", f"/organisations/{org.pk}/contacts", body)
    assert contact.status_code == 201
    path = f"/contacts/{contact.json()['id']}"
    assert contact["ETag"] == call(reader, "get", path)["ETag"]
    changed = call(writer, "patch", path, {"job_title": "Recruiter"}, HTTP_IF_MATCH=contact["ETag"])
    assert changed.status_code == 200
    event = call(writer, "post", "/events", _event_body())
    assert event.status_code == 201
    path = f"/events/{event.json()['id']}"
    assert event["ETag"] == call(reader, "get", path)["ETag"]
    moved = call(writer, "patch", path, {"venue": "Room 2"}, HTTP_IF_MATCH=event["ETag"])
    assert moved.status_code == 200


def test_contacts_are_added_and_changed_with_if_match(call, token_for):
    org = make_organisation("Aire Valley Robotics")
    secret = token_for("operator")
    made = call(
        secret,
        "post",
        f"/organisations/{org.pk}/contacts",
        {"full_name": "Ruth Key", "email": "Ruth@aire.example"},
    )
    assert made.status_code == 201 and made.json()["email"] == "ruth@aire.example"
    contact = made.json()["id"]
    etag = call(secret, "get", f"/contacts/{contact}")["ETag"]
    changed = call(
        secret, "patch", f"/contacts/{contact}", {"job_title": "Head of HR"}, HTTP_IF_MATCH=etag
    )
    assert changed.json()["job_title"] == "Head of HR"
    again = call(
        secret, "patch", f"/contacts/{contact}", {"phone": "0113 496 0999"}, HTTP_IF_MATCH=etag
    )
    assert again.status_code == 412
    etag = call(secret, "get", f"/contacts/{contact}")["ETag"]
    bad = call(secret, "patch", f"/contacts/{contact}", {"phone": "1" * 20}, HTTP_IF_MATCH=etag)
    assert bad.status_code in (400, 422) and "7 to 15 digits" in bad.content.decode()


def test_staff_cannot_show_students_an_employers_contact_through_the_api(call, token_for, cast):
    brightwave = brightwave_digital(cast["employer"])
    contact = brightwave.contacts.filter(visible_to_students=False).first()
    secret = token_for("mailer")
    etag = call(secret, "get", f"/contacts/{contact.pk}")["ETag"]
    refused = call(
        secret,
        "patch",
        f"/contacts/{contact.pk}",
        {"visible_to_students": True},
        HTTP_IF_MATCH=etag,
    )
    assert refused.status_code == 400
    assert "Brightwave Digital decides this itself" in refused.content.decode()
    contact.refresh_from_db()
    assert contact.visible_to_students is False


def test_a_corrected_address_is_no_longer_left_out_for_the_old_ones_bounce(call, token_for):
    org = make_organisation("Aire Valley Robotics")
    contact = organisations.contact_create(
        organisation=org, by=None, full_name="Ruth Key", email="ruth@aire.example"
    )
    Contact.objects.filter(pk=contact.pk).update(email_bounced_at=timezone.now())
    secret = token_for("operator")
    etag = call(secret, "get", f"/contacts/{contact.pk}")["ETag"]
    body = {"email": "ruth.key@aire.example"}
    changed = call(secret, "patch", f"/contacts/{contact.pk}", body, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    assert Contact.objects.get(pk=contact.pk).email_bounced_at is None


def test_a_note_naming_a_key_contact_is_refused_with_who_to_ask(call, token_for, persona, cast):
    tom = persona("operator")
    org = make_organisation("Northbridge Engineering Ltd")
    david = organisations.contact_create(organisation=org, by=tom, full_name="David Okoro")
    key_account_with_contact(
        contact=david, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    body = {"text": "Called David about a talk.", "contacts": [david.pk]}
    refused = call(token_for("manager"), "post", f"/organisations/{org.pk}/notes", body)
    assert refused.status_code == 403
    answer = refused.json()
    assert answer["code"] == "liaison_needed"
    assert answer["ask"] == [
        {
            "contact": david.pk,
            "owners": [{"name": "Tom Bennett", "email": "operator@demo.ac.uk", "left": False}],
        }
    ]
    assert "Tom Bennett" in answer["message"]
    assert not Note.objects.exists()
    # The owner records it; and so may anyone when David called first.
    assert (
        call(token_for("operator"), "post", f"/organisations/{org.pk}/notes", body).status_code
        == 201
    )
    inbound = {**body, "started_by": "them"}
    assert (
        call(token_for("manager"), "post", f"/organisations/{org.pk}/notes", inbound).status_code
        == 201
    )


def test_a_refusal_gives_no_address_of_a_key_account_operator_who_left(
    call, token_for, persona, cast
):
    """`ask` gave Tom's address after he left: a client wrote to a mailbox nobody reads."""
    tom = persona("operator")
    org = make_organisation("Northbridge Engineering Ltd")
    david = organisations.contact_create(organisation=org, by=tom, full_name="David Okoro")
    key_account_with_contact(
        contact=david, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    tom.is_active = False
    tom.save(update_fields=["is_active"])
    body = {"text": "Called David about a talk.", "contacts": [david.pk]}
    refused = call(token_for("manager"), "post", f"/organisations/{org.pk}/notes", body)
    assert refused.status_code == 403
    answer = refused.json()
    assert answer["ask"] == [
        {"contact": david.pk, "owners": [{"name": "Tom Bennett", "email": None, "left": True}]}
    ]
    assert "operator@demo.ac.uk" not in refused.content.decode()
    assert "will be told" not in answer["message"]


def test_writes_to_a_record_merged_away_are_410_naming_the_survivor_as_reads_are(call, token_for):
    """A note, a contact or a change sent to it was a 400 "invalid", as if the body were
    wrong, while a read of the same address was a 410 with `merged_into`: a client that
    follows the survivor on reads could not do so on writes."""
    survivor = make_organisation("Calder Systems")
    old = make_organisation("Calder Systems (old record)")
    secret = token_for("operator")
    etag = call(secret, "get", f"/organisations/{old.pk}")["ETag"]  # read before the merge
    organisations.organisation_merge(survivor=survivor, other=old, keep={}, by=None)
    # Merged in its turn: the answer names the record everything lives on now.
    final = make_organisation("Calder Group")
    organisations.organisation_merge(survivor=final, other=survivor, keep={}, by=None)

    for method, path, body, headers in [
        ("post", f"/organisations/{old.pk}/notes", {"text": "Met"}, {}),
        ("post", f"/organisations/{old.pk}/contacts", {"full_name": "Ana Silva"}, {}),
        ("patch", f"/organisations/{old.pk}", {"locations": "Leeds"}, {"HTTP_IF_MATCH": etag}),
    ]:
        answer = call(secret, method, path, body, **headers)
        assert answer.status_code == 410, path
        assert answer.json()["code"] == "merged"
        assert answer.json()["merged_into"] == final.pk
        assert f"/organisations/{final.pk}" in answer.json()["message"]
    assert not Note.objects.exists()
    assert not Contact.objects.filter(full_name="Ana Silva").exists()
    old.refresh_from_db()
    assert old.locations != "Leeds"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/organisations/{pk}/notes", {"text": "Met"}),
        ("post", "/organisations/{pk}/contacts", {"full_name": "Ana Silva"}),
        # Read again under the route's own lock before the ETag is compared.
        ("patch", "/organisations/{pk}", {"locations": "Leeds"}),
    ],
)
def test_a_merge_landing_during_a_write_is_410_naming_the_survivor_as_one_before_it_is(
    call, token_for, monkeypatch, method, path, body
):
    """The route found the record live, then the merge committed before the service read
    it under its lock: the service's refusal was a 400 "invalid", as if the body were
    wrong, where a merge a moment earlier was a 410 naming the survivor."""
    survivor = make_organisation("Calder Systems")
    old = make_organisation("Calder Systems (old record)")
    secret = token_for("operator")
    path = path.format(pk=old.pk)
    etag = call(secret, "get", path)["ETag"] if method == "patch" else ""
    not_merged_away = routes._not_merged_away

    def then_merged(user, organisation):
        not_merged_away(user, organisation)
        organisations.organisation_merge(survivor=survivor, other=old, keep={}, by=None)

    monkeypatch.setattr(routes, "_not_merged_away", then_merged)
    answer = call(secret, method, path, body, HTTP_IF_MATCH=etag)
    assert answer.status_code == 410, answer.json()
    assert answer.json()["code"] == "merged"
    assert answer.json()["merged_into"] == survivor.pk
    assert not Note.objects.exists()
    assert not Contact.objects.filter(full_name="Ana Silva").exists()
    old.refresh_from_db()
    assert old.locations != "Leeds"


def test_a_note_dated_to_come_1900_or_followed_up_before_it_is_a_400_saying_why(call, token_for):
    org = make_organisation("Northbridge Engineering Ltd")
    secret = token_for("operator")
    path = f"/organisations/{org.pk}/notes"
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    for body, field, reason in [
        ({"date": "1900-01-01"}, "date", "before 1 January 2000: check the year"),
        ({"date": tomorrow.isoformat()}, "date", "choose today"),
        (
            {"date": "2025-01-10", "follow_up_on": "2025-01-09"},
            "follow_up_on",
            "cannot come before the note's date (10 January 2025)",
        ),
    ]:
        refused = call(secret, "post", path, {"text": "A call.", **body})
        assert refused.status_code == 400
        answer = refused.json()
        assert answer["code"] == "invalid"
        assert reason in answer["fields"][field][0]
    assert not Note.objects.exists()
    body = {"text": "A call.", "date": "2025-01-10", "follow_up_on": "2025-01-10"}
    assert call(secret, "post", path, body).status_code == 201


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


def test_an_event_reaches_other_schools_by_asking_not_through_the_api(call, token_for):
    """Policy 2.4: the API takes the audience the event form takes, no wider."""
    secret = token_for("operator")
    for wider, field in [
        ({"audience_units": [unit("computing").pk]}, "audience_units"),
        ({"audience_units": [], "open_to_all": True}, "open_to_all"),
    ]:
        answer = call(secret, "post", "/events", _event_body(**wider))
        assert answer.status_code == 400
        assert list(answer.json()["fields"]) == [field]
        assert "Open to another unit" in str(answer.json()["fields"][field])
    assert not Event.objects.exists()
    made = call(secret, "post", "/events", _event_body())
    path = f"/events/{made.json()['id']}"
    widened = call(
        secret,
        "patch",
        path,
        {"audience_units": [unit("mech").pk, unit("history").pk]},
        HTTP_IF_MATCH=made["ETag"],
    )
    assert widened.status_code == 400
    assert "School of History is not yours" in str(widened.json()["fields"]["audience_units"])
    assert [u.code for u in Event.objects.get().audience.units.all()] == ["mech"]


def test_an_event_names_an_organisation_merged_away_by_its_survivor_not_through_the_api(
    call, token_for
):
    """The event form finds no organisation merged into another: the API took its id,
    and the event went onto the archived record its timeline no longer shows."""
    secret = token_for("operator")
    survivor = make_organisation("Calder Systems")
    old = make_organisation("Calder Systems (old record)")
    organisations.organisation_merge(survivor=survivor, other=old, keep={}, by=None)

    answer = call(secret, "post", "/events", _event_body(organisations=[old.pk]))

    assert answer.status_code == 400
    assert answer.json()["fields"]["organisations"] == [
        "Calder Systems (old record) was merged into Calder Systems: name Calder Systems instead."
    ]
    assert not Event.objects.exists()
    made = call(secret, "post", "/events", _event_body(organisations=[survivor.pk]))
    path = f"/events/{made.json()['id']}"
    moved = call(secret, "patch", path, {"organisations": [old.pk]}, HTTP_IF_MATCH=made["ETag"])
    assert moved.status_code == 400
    assert list(Event.objects.get().organisations.all()) == [survivor]


def test_publishing_answers_with_the_version_the_next_change_sends(call, token_for):
    """A token without read creates, publishes, then changes: each answer's ETag is the
    version a read would give, and none is a plain hash of what a read shows."""
    import hashlib

    writer = token_for("operator", scopes=[Scope.WRITE_EVENTS])
    reader = token_for("operator", scopes=[Scope.READ])
    made = call(writer, "post", "/events", _event_body())
    path = f"/events/{made.json()['id']}"
    published = call(writer, "post", f"{path}/publish", {})
    assert published.status_code == 200
    read = call(reader, "get", path)
    assert published["ETag"] == read["ETag"] != made["ETag"]
    assert read["ETag"].strip('"') not in hashlib.sha256(read.content).hexdigest()
    moved = call(writer, "patch", path, {"venue": "Room 2"}, HTTP_IF_MATCH=published["ETag"])
    assert moved.status_code == 200


def test_a_draft_event_answers_with_its_clashes_and_publishing_needs_a_reason(
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
    secret = token_for("operator")
    created = call(secret, "post", "/events", _event_body())
    assert created.status_code == 201
    draft = created.json()
    assert draft["status"] == "draft"
    assert [c["event"] for c in draft["clashes"]] == [theirs.pk]
    assert draft["clashes"][0]["reasons"]
    refused = call(secret, "post", f"/events/{draft['id']}/publish", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "clashes"
    assert Event.objects.get(pk=draft["id"]).status == "draft"
    published = call(
        secret,
        "post",
        f"/events/{draft['id']}/publish",
        {"override_reason": "Only date the speaker has"},
    )
    assert published.status_code == 200
    assert published.json()["status"] == "published"


def test_a_draft_whose_start_has_passed_is_refused_with_the_reason(call, token_for, persona):
    past = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=10)
    draft = make_event(by=persona("operator"), title="Under way", starts_at=past, minutes=60)
    refused = call(token_for("operator"), "post", f"/events/{draft.pk}/publish", {})
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "started"
    assert "is under way: only an event still to come can be published" in body["message"]
    assert body["fields"] == {"starts_at": [body["message"]]}
    assert Event.objects.get(pk=draft.pk).status == "draft"


def test_events_are_made_only_for_ones_own_units_and_changed_with_if_match(call, token_for):
    refused = call(token_for("mailer"), "post", "/events", _event_body())
    assert refused.status_code == 403
    assert not Event.objects.exists()
    secret = token_for("operator")
    event = call(secret, "post", "/events", _event_body()).json()
    etag = call(secret, "get", f"/events/{event['id']}")["ETag"]
    changed = call(
        secret, "patch", f"/events/{event['id']}", {"venue": "Room 2"}, HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200 and changed.json()["venue"] == "Room 2"
    assert (
        call(
            secret, "patch", f"/events/{event['id']}", {"venue": "Room 3"}, HTTP_IF_MATCH=etag
        ).status_code
        == 412
    )


def test_moving_a_published_event_through_the_api_emails_who_has_a_place(
    call, token_for, persona, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from mycareer.bookings import services as booking_services

    tom = persona("operator")
    event = make_event(by=tom, title="Tom's talk", starts_at=at(far_monday(), 10), publish=True)
    booking_services.staff_book_student(
        event=event, student=persona("student"), by=tom, notify=False
    )
    secret = token_for("operator")
    etag = call(secret, "get", f"/events/{event.pk}")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        moved = call(
            secret, "patch", f"/events/{event.pk}", {"venue": "Room 9"}, HTTP_IF_MATCH=etag
        )
    assert moved.status_code == 200
    queued = DBTaskResult.objects.filter(task_path__endswith="send_change_emails")
    assert queued.count() == 1


def test_an_event_moved_to_start_before_its_booking_opens_is_400_with_why(call, token_for, persona):
    from mycareer.bookings import services as booking_services

    tom = persona("operator")
    event = make_event(by=tom, title="Tom's talk", starts_at=at(far_monday(), 10), publish=True)
    opens = event.starts_at - datetime.timedelta(days=2)
    booking_services.booking_settings_update(event=event, by=tom, opens_at=opens)
    secret = token_for("operator")
    path = f"/events/{event.pk}"
    start = opens - datetime.timedelta(days=1)
    moved = call(
        secret,
        "patch",
        path,
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + datetime.timedelta(hours=1)).isoformat(),
        },
        HTTP_IF_MATCH=call(secret, "get", path)["ETag"],
    )
    assert moved.status_code == 400
    assert "Booking opens on " in str(moved.json())
    event.refresh_from_db()
    assert event.starts_at > opens


def test_the_same_text_sent_again_with_other_line_breaks_changes_nothing(
    call, token_for, persona, django_capture_on_commit_callbacks
):
    """Text sent through the API kept its "\r\n": the same description sent again, or
    saved unchanged from the event's page, counted as a change and emailed its people."""
    from django_tasks_db.models import DBTaskResult

    from mycareer.bookings import services as booking_services

    tom = persona("operator")
    event = make_event(by=tom, title="Tom's talk", starts_at=at(far_monday(), 10), publish=True)
    booking_services.staff_book_student(
        event=event, student=persona("student"), by=tom, notify=False
    )
    secret = token_for("operator")
    path = f"/events/{event.pk}"
    written = {"description": "Bring a CV.\r\nDoors at 6.", "venue": "Room 9"}
    first = call(secret, "patch", path, written, HTTP_IF_MATCH=call(secret, "get", path)["ETag"])
    assert first.json()["description"] == "Bring a CV.\nDoors at 6."
    event.refresh_from_db()
    assert event.description == "Bring a CV.\nDoors at 6."
    changes = AuditEntry.objects.filter(action="events.event.changed").count()
    emails = DBTaskResult.objects.filter(task_path__endswith="send_change_emails").count()
    with django_capture_on_commit_callbacks(execute=True):
        again = call(secret, "patch", path, written, HTTP_IF_MATCH=first["ETag"])
    assert again.status_code == 200
    assert AuditEntry.objects.filter(action="events.event.changed").count() == changes
    assert DBTaskResult.objects.filter(task_path__endswith="send_change_emails").count() == emails
    # An organisation's description too.
    org = organisations.organisation_create(by=tom, name="Linebreak Labs", description="A\nB")
    path = f"/organisations/{org.pk}"
    before = AuditEntry.objects.filter(action="organisations.organisation.changed").count()
    same = call(
        secret,
        "patch",
        path,
        {"description": "A\r\nB"},
        HTTP_IF_MATCH=call(secret, "get", path)["ETag"],
    )
    assert same.status_code == 200 and same.json()["description"] == "A\nB"
    assert AuditEntry.objects.filter(action="organisations.organisation.changed").count() == before


def test_a_student_books_and_cancels_with_their_own_token(call, token_for, persona):
    event = bookable_event(capacity=1)
    secret = token_for("student", scopes=["read", "bookings"])
    booked = call(secret, "post", f"/events/{event.pk}/bookings")
    assert booked.status_code == 201 and booked.json()["outcome"] == "booked"
    booking = booked.json()["booking"]
    # Nobody else cancels it, whatever their token.
    other = persona("student2")
    from mycareer.api import services

    _t, theirs = services.token_create(owner=other, by=other, name="Theirs", scopes=["bookings"])
    assert call(theirs, "delete", f"/bookings/{booking}").status_code == 404
    assert call(token_for("operator"), "delete", f"/bookings/{booking}").status_code == 403
    cancelled = call(secret, "delete", f"/bookings/{booking}")
    assert cancelled.json()["status"] == "cancelled"
    # A token without the bookings scope cannot book.
    reader = token_for("student", scopes=["read"])
    assert call(reader, "post", f"/events/{event.pk}/bookings").json()["code"] == "scope_missing"


def test_booking_or_cancelling_again_is_refused_with_the_reason_as_its_message(call, token_for):
    """The message was "Some of what was sent is not valid." for a call that sent nothing,
    the reason only in `fields`: what a student's app shows said nothing of the place."""
    event = bookable_event(capacity=5)
    secret = token_for("student", scopes=["read", "bookings"])
    booking = call(secret, "post", f"/events/{event.pk}/bookings").json()["booking"]

    again = call(secret, "post", f"/events/{event.pk}/bookings")
    assert again.status_code == 400
    assert again.json()["message"] == "You already have a place at this event."
    assert Booking.objects.filter(event=event).count() == 1
    assert call(secret, "delete", f"/bookings/{booking}").status_code == 200
    twice = call(secret, "delete", f"/bookings/{booking}")
    assert twice.status_code == 400
    assert twice.json()["message"].startswith("You cancelled this place on ")
    assert twice.json()["fields"] == {"__all__": [twice.json()["message"]]}


def test_attendance_is_recorded_by_the_events_organisers(call, token_for, persona):
    tom, aisha = persona("operator"), persona("student")
    event = bookable_event(organiser=tom, starts_in=datetime.timedelta(minutes=30))
    from mycareer.bookings import services as bookings

    booking = bookings.booking_create(event=event, student=aisha, by=aisha)
    refused = call(token_for("mailer"), "post", f"/bookings/{booking.pk}/attendance")
    assert refused.status_code in (403, 404)
    recorded = call(token_for("operator"), "post", f"/bookings/{booking.pk}/attendance")
    assert recorded.status_code == 200
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.ATTENDED
    assert Booking.objects.get(pk=booking.pk).checked_in_at <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_a_write_that_meets_a_locked_database_is_a_503_in_the_one_shape(call, token_for):
    from mycareer.organisations.tests.test_import_concurrency import (
        another_writer_holds_the_lock,
    )

    secret = token_for("operator")
    org = make_organisation("Northbridge Engineering Ltd")
    body = {"text": "Called about a talk in June."}
    with another_writer_holds_the_lock():
        busy = call(secret, "post", f"/organisations/{org.pk}/notes", body)
    assert busy.status_code == 503 and busy["Retry-After"] == "5"
    assert busy.json()["code"] == "busy"
    assert not Note.objects.exists()
    assert call(secret, "post", f"/organisations/{org.pk}/notes", body).status_code == 201
