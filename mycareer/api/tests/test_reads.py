"""Reads through the pages' selectors and rules: what each person sees, paging, ETags."""

import base64

import pytest

from mycareer.core.tests.queries import assert_no_more_queries, steady_queries
from mycareer.events.tests.factories import at, far_monday, make_event, unit
from mycareer.organisations import services as organisations
from mycareer.organisations.tests.factories import key_account_with_contact, make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def northbridge(persona, cast):
    """Northbridge with Tom's key contact David and an ordinary contact Ana (visible to
    students), tagged Placements, with a note Helen wrote."""
    tom, helen = persona("operator"), persona("manager")
    org = make_organisation("Northbridge Engineering Ltd", by=tom, tags=["Placements"])
    david = organisations.contact_create(
        organisation=org, by=tom, full_name="David Okoro", email="david@northbridge.example"
    )
    organisations.contact_create(
        organisation=org,
        by=tom,
        full_name="Ana Silva",
        email="ana@northbridge.example",
        visible_to_students=True,
    )
    key_account_with_contact(
        contact=david,
        operator=tom,
        unit=cast["units"]["mech"],
        by=persona("admin"),
        guidance="Ask Tom first.",
    )
    organisations.note_create(organisation=org, by=helen, text="Met about the advisory board.")
    return org


def test_search_uses_the_search_pages_filters(call, token_for, northbridge):
    make_organisation("Kestrel Games", tags=["Games"])
    secret = token_for("viewer")
    found = call(secret, "get", "/organisations?tags_any=Placements").json()
    assert [o["name"] for o in found["items"]] == ["Northbridge Engineering Ltd"]
    item = found["items"][0]
    assert item["tags"] == ["Placements"]
    assert item["key_accounts"][0]["operator"] == "Tom Bennett"
    assert call(secret, "get", "/organisations?key_account=yes").json()["items"][0]["id"] == (
        northbridge.pk
    )
    assert len(call(secret, "get", "/organisations").json()["items"]) == 2


def test_a_tag_nobody_was_ever_given_is_refused_as_the_search_page_refuses_it(
    call, token_for, northbridge
):
    """A slip in tags_none left nobody out: the export it fed held the very organisations
    meant to be left out, as the search page, exports and bulk email no longer allow."""
    secret = token_for("viewer")
    slip = call(secret, "get", "/organisations?tags_none=Placemnts")
    assert slip.status_code == 400 and slip.json()["code"] == "invalid"
    assert "No organisation has ever been tagged “Placemnts”" in slip.json()["message"]
    kept = call(secret, "get", "/organisations?tags_none=placements").json()["items"]
    assert northbridge.pk not in [o["id"] for o in kept]


def test_an_unknown_filter_is_refused_not_ignored(call, token_for, northbridge):
    response = call(token_for("viewer"), "get", "/organisations?tag=Placements")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_filter"
    assert body["fields"] == {"tag": ["Not a filter of the search."]}


def test_every_list_refuses_a_parameter_it_does_not_take_not_ignores_it(
    call, token_for, persona, northbridge
):
    """`/events?untis=3` (a typo for `unit`) listed every event as if filtered."""
    event = make_event(by=persona("operator"), starts_at=at(far_monday(), 10), publish=True)
    secret = token_for("operator")
    taken = {
        "/events": "limit=5",
        "/vacancies": "limit=5",
        f"/organisations/{northbridge.pk}/notes": "limit=5",
        f"/events/{event.pk}/bookings": "limit=5",
        "/communication-chart": "months=2",
    }
    for path, known in taken.items():
        response = call(secret, "get", f"{path}?{known}&untis=3")
        assert response.status_code == 400, path
        body = response.json()
        assert body["code"] == "unknown_filter", path
        assert body["message"] == "This list has a filter it does not know: “untis”.", path
        assert body["fields"] == {"untis": ["Not a filter of this list."]}, path
        # What the list does take still works.
        assert call(secret, "get", f"{path}?{known}").status_code == 200, path
    # Someone the list is refused to is told that, whatever else the address holds.
    notes = f"/organisations/{northbridge.pk}/notes?untis=3"
    assert call(token_for("student"), "get", notes).status_code == 403
    # A path's id is not a filter either.
    assert call(secret, "get", f"/events/{event.pk}/bookings?pk=1").status_code == 400
    found = call(secret, "get", f"/events?unit={unit('lubs').pk}").json()["items"]
    assert found == []


def test_contacts_are_shown_as_the_pages_show_them(call, token_for, northbridge):
    staff = call(token_for("viewer"), "get", f"/organisations/{northbridge.pk}").json()
    david = next(c for c in staff["contacts"] if c["full_name"] == "David Okoro")
    assert david["display_name"] == "David Okoro *"
    assert david["key_contact"] is True
    assert david["owners"] == [
        {
            "name": "Tom Bennett",
            "email": "operator@demo.ac.uk",
            "left": False,
            "unit": "School of Mechanical Engineering",
            "guidance": "Ask Tom first.",
        }
    ]
    assert david["email"] == "david@northbridge.example"
    # A student sees only the contact the employer let students see.
    student = call(token_for("student"), "get", f"/organisations/{northbridge.pk}").json()
    assert [c["full_name"] for c in student["contacts"]] == ["Ana Silva"]
    assert student["contacts"][0]["visible_to_students"] is None


def test_reads_give_no_address_of_a_key_account_operator_who_left(
    call, token_for, persona, northbridge
):
    """The refusal to note a key contact gave `"email": null` and `"left": true` for Tom
    once he left, while reading the organisation or the contact still gave his address,
    which nobody reads."""
    tom = persona("operator")
    tom.is_active = False
    tom.save(update_fields=["is_active"])
    secret = token_for("viewer")
    owner = {
        "name": "Tom Bennett",
        "email": None,
        "left": True,
        "unit": "School of Mechanical Engineering",
        "guidance": "Ask Tom first.",
    }
    whole = call(secret, "get", f"/organisations/{northbridge.pk}")
    assert whole.status_code == 200
    david = next(c for c in whole.json()["contacts"] if c["full_name"] == "David Okoro")
    assert david["owners"] == [owner]
    assert whole.json()["key_accounts"] == [
        {
            "operator": "Tom Bennett",
            "operator_email": None,
            "left": True,
            "unit": "School of Mechanical Engineering",
        }
    ]
    assert call(secret, "get", f"/contacts/{david['id']}").json()["owners"] == [owner]
    found = call(secret, "get", "/organisations?key_account=yes").json()["items"]
    assert [a["operator_email"] for a in found[0]["key_accounts"]] == [None]
    for read in (f"/organisations/{northbridge.pk}", f"/contacts/{david['id']}", "/organisations"):
        assert "operator@demo.ac.uk" not in call(secret, "get", read).content.decode(), read


def test_notes_are_for_staff_only(call, token_for, northbridge):
    notes = call(token_for("viewer"), "get", f"/organisations/{northbridge.pk}/notes").json()
    assert [n["text"] for n in notes["items"]] == ["Met about the advisory board."]
    refused = call(token_for("student"), "get", f"/organisations/{northbridge.pk}/notes")
    assert refused.status_code == 403
    assert set(refused.json()) >= {"code", "message", "fields"}


def test_a_record_merged_away_is_410_naming_the_survivor_its_page_redirects_to(
    call, token_for, northbridge
):
    """Answered as it was, it read as a live organisation with nothing on it: its
    contacts and notes had moved to the survivor."""
    old = make_organisation("Northbridge Eng (old record)")
    organisations.organisation_merge(survivor=northbridge, other=old, keep={}, by=None)
    # Merged in its turn: the answer names the record everything lives on now.
    final = make_organisation("Northbridge Group")
    organisations.organisation_merge(survivor=final, other=northbridge, keep={}, by=None)
    secret = token_for("viewer")
    for path in (f"/organisations/{old.pk}", f"/organisations/{old.pk}/notes"):
        answer = call(secret, "get", path)
        assert answer.status_code == 410
        assert answer.json()["code"] == "merged"
        assert answer.json()["merged_into"] == final.pk
        assert f"/organisations/{final.pk}" in answer.json()["message"]
    assert call(secret, "get", f"/organisations/{final.pk}").status_code == 200
    # A student reads profiles, so is sent on as well (an employer: test_employer_tokens).
    assert call(token_for("student"), "get", f"/organisations/{old.pk}").status_code == 410


def test_cursor_pages_are_stable_when_records_are_added(call, token_for):
    for n in range(5):
        make_organisation(f"Company {n}")
    secret = token_for("viewer")
    first = call(secret, "get", "/organisations?limit=2").json()
    # A record added mid-way (its name sorts first) does not shift the pages still to read.
    make_organisation("Aardvark Analytics")
    second = call(secret, "get", f"/organisations?limit=2&cursor={first['next_cursor']}").json()
    third = call(secret, "get", f"/organisations?limit=2&cursor={second['next_cursor']}").json()
    names = [o["name"] for page in (first, second, third) for o in page["items"]]
    assert names[:5] == [f"Company {n}" for n in range(5)]
    assert len(names) == len(set(names))


def test_a_cursor_it_did_not_give_is_refused(call, token_for):
    response = call(token_for("viewer"), "get", "/organisations?cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "values",
    [
        # Well formed, but with no UTC equivalent: it reached the filter and answered 500.
        '["0001-01-01T00:00:00+05:00", 1]',
        '["9999-12-31T23:00:00-05:00", 1]',
        # MyCareer's cursors always carry the offset.
        '["2030-01-01T10:00:00", 1]',
    ],
)
def test_a_cursor_with_a_time_it_could_not_have_given_is_refused(call, token_for, values):
    cursor = base64.urlsafe_b64encode(values.encode()).decode().rstrip("=")
    response = call(token_for("student"), "get", f"/events?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert list(response.json()["fields"]) == ["cursor"]


def test_etag_and_if_none_match_answer_304(call, token_for, northbridge):
    secret = token_for("viewer")
    first = call(secret, "get", f"/organisations/{northbridge.pk}")
    etag = first["ETag"]
    again = call(secret, "get", f"/organisations/{northbridge.pk}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    organisations.organisation_update(
        organisation=northbridge, by=None, description="Now with a description."
    )
    changed = call(secret, "get", f"/organisations/{northbridge.pk}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    lists = call(secret, "get", "/organisations")
    assert (
        call(secret, "get", "/organisations", HTTP_IF_NONE_MATCH=lists["ETag"]).status_code == 304
    )


def test_events_follow_the_calendar_and_its_filters(call, token_for, persona):
    tom = persona("operator")
    monday = far_monday()
    talk = make_event(by=tom, title="Rail careers", starts_at=at(monday, 10), publish=True)
    make_event(by=tom, title="Draft only", starts_at=at(monday, 14))
    make_event(
        by=persona("admin"),
        title="Business breakfast",
        unit=unit("lubs"),
        starts_at=at(monday, 8),
        audience_units=[unit("lubs")],
        publish=True,
    )
    # Aisha studies mechanical engineering: she sees her school's talk, not drafts.
    seen = call(token_for("student"), "get", "/events").json()["items"]
    assert [e["title"] for e in seen] == ["Rail careers"]
    staff = call(token_for("operator"), "get", f"/events?unit={unit('mech').pk}").json()
    assert [e["title"] for e in staff["items"]] == ["Rail careers", "Draft only"]
    assert staff["items"][0]["audience"]["units"] == ["School of Mechanical Engineering"]
    hidden = call(token_for("student"), "get", "/events?type=workshop").json()["items"]
    assert hidden == []
    assert call(token_for("student"), "get", "/events?type=party").status_code == 400
    assert call(token_for("student"), "get", f"/events/{talk.pk}").status_code == 200


def test_a_cancelled_events_online_link_is_given_only_to_those_who_may_change_it(
    call, token_for, persona
):
    from mycareer.bookings import services as bookings
    from mycareer.events import services as events

    tom, aisha = persona("operator"), persona("student")
    link = "https://meet.example.ac.uk/rail-careers"
    event = make_event(by=tom, starts_at=at(far_monday(), 10), online_url=link, publish=True)
    bookings.booking_create(event=event, student=aisha, by=aisha)
    assert call(token_for("student"), "get", f"/events/{event.pk}").json()["online_url"] == link
    events.event_cancel(event=event, by=tom, reason="The speaker is ill.")
    # Aisha's page, emails and calendar no longer offer the link: nor does the API.
    seen = call(token_for("student"), "get", f"/events/{event.pk}").json()
    assert (seen["status"], seen["online_url"]) == ("cancelled", "")
    listed = call(token_for("student"), "get", "/events").json()["items"]
    assert all(item["online_url"] == "" for item in listed)
    other_staff = call(token_for("viewer"), "get", f"/events/{event.pk}").json()
    assert other_staff["online_url"] == ""
    # Its organiser keeps it, as the event's page keeps it for their edits.
    kept = call(token_for("operator"), "get", f"/events/{event.pk}").json()
    assert kept["online_url"] == link
    listed = call(token_for("operator"), "get", "/events").json()["items"]
    assert [item["online_url"] for item in listed] == [link]


def test_cancelled_events_with_links_cost_no_query_each(call, token_for, persona):
    """Each cancelled event with a link asked its organiser's rule, which read the unit
    tree again: one query per event in the list."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mycareer.events import services as events

    tom = persona("operator")
    secret = token_for("operator")

    def cancelled(n: int) -> None:
        event = make_event(
            by=tom,
            title=f"Called off {n}",
            starts_at=at(far_monday(), 8 + n),
            online_url=f"https://meet.example.ac.uk/{n}",
            publish=True,
            override_reason="Volume test",
        )
        events.event_cancel(event=event, by=tom, reason="The speaker is ill.")

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            listed = call(secret, "get", "/events").json()["items"]
        assert all(item["online_url"] for item in listed)
        return len(seen)

    cancelled(0)
    queries()  # the rate limit's first call of its minute costs less than the next
    one = queries()
    for n in range(1, 6):
        cancelled(n)
    assert queries() == one


def test_bookings_of_an_event_are_for_its_organisers(call, token_for, persona):
    from mycareer.bookings import services as bookings

    event = make_event(by=persona("operator"), starts_at=at(far_monday(), 10), publish=True)
    bookings.booking_create(event=event, student=persona("student"), by=persona("student"))
    answer = call(token_for("operator"), "get", f"/events/{event.pk}/bookings").json()
    assert [b["student"] for b in answer["items"]] == ["Aisha Khan"]
    assert answer["counts"]["confirmed"] == 1
    refused = call(token_for("mailer"), "get", f"/events/{event.pk}/bookings")
    assert refused.status_code == 403
    assert "run by its organiser" in refused.json()["message"]


def test_the_communication_chart_figures(call, token_for):
    answer = call(token_for("viewer"), "get", "/communication-chart?period=week&months=2").json()
    assert answer["period"] == "week"
    assert len(answer["periods"]) == len(answer["totals"])
    assert call(token_for("student"), "get", "/communication-chart").status_code == 403
    assert call(token_for("viewer"), "get", "/communication-chart?period=day").status_code == 400


def test_list_endpoints_cost_a_few_queries_however_many_rows(
    call, token_for, persona, django_assert_max_num_queries
):
    tom = persona("operator")
    for n in range(12):
        org = make_organisation(f"Firm {n}", by=tom, tags=["Placements", f"T{n}"])
        organisations.contact_create(organisation=org, by=tom, full_name=f"Person {n}")
        organisations.note_create(organisation=org, by=tom, text=f"Note {n}")
        make_event(
            by=tom,
            title=f"Talk {n}",
            starts_at=at(far_monday(), 8 + n % 10),
            publish=True,
            organisations=[org],
            override_reason="Volume test",
        )
    secret = token_for("operator")
    for path in ("/organisations", "/events", "/vacancies", f"/organisations/{org.pk}/notes"):
        # About twenty are the cost of any call (token, its use, the rate limit in the
        # database cache with its counter locked, the access check, the audit); none grows
        # with the rows.
        with django_assert_max_num_queries(32):
            response = call(secret, "get", path)
        assert response.status_code == 200, path


# Lists cost the same however many rows they show ------------------------------------------


@pytest.mark.parametrize("reader", ["operator", "student", "admin"])
def test_the_events_cost_the_same_with_more_of_them(call, token_for, persona, cast, reader):
    """Each with its unit, organisations, audience units and programmes and an online
    link, some of them cancelled."""
    from mycareer.events import services as events
    from mycareer.events.tests.factories import programme

    tom = persona("operator")
    made = iter(range(100))

    def more(n: int) -> None:
        for _ in range(n):
            number = next(made)
            event = make_event(
                by=tom,
                title=f"Listed {number}",
                starts_at=at(far_monday(), 8 + number % 10),
                online_url=f"https://meet.example.ac.uk/{number}",
                audience_units=[unit("mech"), unit("mech-design")],
                audience_programmes=[programme("meng-mech"), programme("beng-mech")],
                publish=True,
                override_reason="Volume test",
            )
            event.organisations.add(
                make_organisation(f"Listed Partner {number}", by=tom),
                make_organisation(f"Listed Sponsor {number}", by=tom),
            )
            if number % 3 == 2:
                events.event_cancel(event=event, by=tom, reason="The speaker is ill.")

    more(1)
    secret = token_for(reader)

    def listed():
        return call(secret, "get", "/events?limit=50")

    before = steady_queries(listed)
    more(7)
    after = steady_queries(listed)
    assert len(listed().json()["items"]) >= 6
    assert_no_more_queries(before, after)


def test_an_events_bookings_cost_the_same_with_more_of_them(call, token_for, persona):
    from mycareer.bookings import services as bookings
    from mycareer.bookings.tests.factories import make_students

    tom = persona("operator")
    event = make_event(by=tom, starts_at=at(far_monday(), 10), publish=True)

    def book(n: int) -> None:
        for student in make_students(n):
            bookings.booking_create(event=event, student=student, by=student, notify=False)

    book(1)
    secret = token_for("operator")

    def listed():
        return call(secret, "get", f"/events/{event.pk}/bookings?limit=50")

    before = steady_queries(listed)
    book(12)
    after = steady_queries(listed)
    assert len(listed().json()["items"]) == 13
    assert_no_more_queries(before, after)


@pytest.mark.parametrize("reader", ["student", "operator", "employer"])
def test_the_vacancies_cost_the_same_with_more_of_them(call, token_for, persona, cast, reader):
    """Each of another organisation (the employer's: of their own), some aimed at a
    programme or a unit."""
    from mycareer.organisations.tests.factories import brightwave_digital
    from mycareer.vacancies.tests.factories import VacancyFactory

    own = brightwave_digital(persona("employer"))

    def posted(n: int) -> None:
        for i in range(n):
            organisation = own if reader == "employer" else make_organisation(f"Poster {i} {n}")
            vacancy = VacancyFactory(organisation=organisation)
            if i % 3 == 1:
                vacancy.target_programmes.set([cast["programmes"]["meng-mech"]])
            elif i % 3 == 2:
                vacancy.target_units.set([cast["units"]["eps"]])

    posted(1)
    secret = token_for(reader)

    def listed():
        return call(secret, "get", "/vacancies?limit=50")

    before = steady_queries(listed)
    posted(8)
    after = steady_queries(listed)
    assert len(listed().json()["items"]) >= 7
    assert_no_more_queries(before, after)


def test_an_organisations_notes_cost_the_same_with_more_of_them(
    call, token_for, persona, cast, northbridge
):
    """Each with its author, unit and contacts (one a key contact)."""
    contacts = list(northbridge.contacts.all())
    authors = [persona(name) for name in ("operator", "manager", "mailer")]

    def noted(n: int) -> None:
        for i in range(n):
            organisations.note_create(
                organisation=northbridge,
                by=authors[i % len(authors)],
                text=f"Spoke about placements {i}",
                unit=cast["units"]["mech"],
                contacts=contacts,
                started_by="them",  # a key contact may be answered, not approached
            )

    noted(1)
    secret = token_for("viewer")

    def listed():
        return call(secret, "get", f"/organisations/{northbridge.pk}/notes?limit=50")

    before = steady_queries(listed)
    noted(8)
    after = steady_queries(listed)
    assert len(listed().json()["items"]) == 10
    assert_no_more_queries(before, after)


def _same_but_the_body(get, head) -> None:
    assert head.status_code == get.status_code
    assert head.content == b""
    for header in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Allow"):
        assert head.get(header) == get.get(header), header


def test_a_head_answers_as_the_get_would_without_the_body(call, token_for, northbridge):
    """HEAD is GET without the body (RFC 9110): it was 405 on every read."""
    secret = token_for("operator")
    for path, status in (
        ("/organisations", 200),  # a list
        (f"/organisations/{northbridge.pk}", 200),  # one record
        ("/organisations/999999", 404),
        ("/events?untis=3", 400),  # a filter the list does not take
        ("/nowhere", 404),  # an address the API does not have
    ):
        get, head = call(secret, "get", path), call(secret, "head", path)
        assert get.status_code == status, path
        _same_but_the_body(get, head)
    # Refusals too: no token, a token without the scope, a rule.
    for secret, path, status in (
        (None, "/organisations", 401),
        (token_for("operator", scopes=["write-events"]), "/organisations", 403),
        (token_for("student"), f"/organisations/{northbridge.pk}/notes", 403),
    ):
        get, head = call(secret, "get", path), call(secret, "head", path)
        assert get.status_code == status, path
        _same_but_the_body(get, head)
    # A write's address still refuses HEAD, saying what it answers.
    refused = call(secret, "head", "/bookings/1/attendance")
    assert refused.status_code == 405 and refused["Allow"] == "POST"


def test_every_read_answers_head(call, token_for):
    """Each GET in the schema answers HEAD: one registered without it would be 405."""
    from mycareer.api.api import api

    secret = token_for("operator")
    paths = api.get_openapi_schema(path_prefix="")["paths"]
    reads = [path for path, methods in paths.items() if "get" in methods]
    assert len(reads) >= 10
    for path in reads:
        answer = call(secret, "head", path.replace("{pk}", "1"))
        assert answer.status_code != 405, path


def test_a_head_leaves_the_body_out_itself(rf, token_for, northbridge):
    """The test client drops a HEAD's body on its own, as servers do: the API does not
    count on it."""
    from django.urls import resolve

    secret = token_for("operator")
    path = f"/api/v1/organisations/{northbridge.pk}"
    answers = {}
    for method in ("get", "head"):
        request = getattr(rf, method)(path, HTTP_AUTHORIZATION=f"Bearer {secret}")
        answers[method] = resolve(path).func(request, pk=str(northbridge.pk))
    get, head = answers["get"], answers["head"]
    assert (head.status_code, head.content) == (200, b"")
    assert head["Content-Length"] == str(len(get.content)) and head["ETag"] == get["ETag"]


def test_an_answer_not_modified_claims_no_length(client, token_for, northbridge):
    """A 304 said "Content-Length: 0", a length a cache could take for the record's (RFC
    9110 allows a length on a 304 only if it is the full answer's); through every
    middleware, as a server answers, for a GET and a HEAD."""
    secret = token_for("operator")
    path = f"/api/v1/organisations/{northbridge.pk}"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    etag = client.get(path, **auth)["ETag"]
    for method in (client.get, client.head):
        answer = method(path, HTTP_IF_NONE_MATCH=etag, **auth)
        assert answer.status_code == 304
        assert not answer.has_header("Content-Length")
