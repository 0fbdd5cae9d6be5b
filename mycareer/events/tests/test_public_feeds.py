"""The public events feed for the website: what appears, what never does, and caching."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from mycareer.core.tests.queries import assert_no_more_queries, queries_of
from mycareer.events import services
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, unit

pytestmark = pytest.mark.django_db

SHARED = {
    "Engineering and technology careers fair",
    "Finance networking evening",
    "History in the heritage sector: alumni panel",
}
ATOM = "{http://www.w3.org/2005/Atom}"


def feed(client, kind: str = "json", /, **query):
    return client.get(reverse(f"feeds:events_{kind}"), query)


def titles(client, **query) -> list[str]:
    response = feed(client, **query)
    assert response.status_code == 200, response.content[:300]
    return [item["title"] for item in response.json()["items"]]


@pytest.fixture
def manager(persona):
    return persona("manager")


@pytest.fixture
def fair(term) -> Event:
    return term["Engineering and technology careers fair"]


def test_the_feed_lists_upcoming_published_events_shared_beyond_students_soonest_first(
    client, term
):
    listed = titles(client)
    assert set(listed) == SHARED
    starts = [term[title].starts_at for title in listed]
    assert starts == sorted(starts)


def test_drafts_student_only_events_and_cancelled_events_never_appear(client, term, persona):
    draft = term["Robotics industry evening"]
    assert draft.is_draft and draft.audience.open_to_employers
    services.event_cancel(
        event=term["Finance networking evening"], by=persona("mailer"), reason="Speaker ill."
    )
    listed = titles(client)
    assert draft.title not in listed
    assert "Finance networking evening" not in listed
    # For students only, even those open to all students.
    for title in (
        "Campus careers fair",
        "Interview skills",
        "Ouse Water Services: sustainability in engineering",
    ):
        assert title not in listed


def test_an_event_that_has_ended_leaves_the_feed_but_one_under_way_stays(client, persona):
    admin = persona("admin")
    now = timezone.now()
    over = make_event(
        by=admin,
        title="Yesterday's open fair",
        unit=unit("careers"),
        starts_at=now - datetime.timedelta(days=1),
        open_to_public=True,
    )
    under_way = make_event(
        by=admin,
        title="A fair under way",
        unit=unit("careers"),
        starts_at=now - datetime.timedelta(hours=1),
        minutes=240,
        open_to_public=True,
    )
    # Publishing checks nothing about dates: set them as an event that ran would have them.
    for event in (over, under_way):
        Event.objects.filter(pk=event.pk).update(
            status=Event.Status.PUBLISHED, published_at=now - datetime.timedelta(days=7)
        )
    assert titles(client) == ["A fair under way"]


def test_each_item_shows_what_the_public_page_shows_and_no_contact_details(client, fair, manager):
    [item] = [i for i in feed(client).json()["items"] if i["title"] == fair.title]
    assert item["id"] == str(fair.uid)
    assert item["url"] == f"http://127.0.0.1:8000{fair.get_public_url()}"
    assert item["ics_url"].endswith(reverse("events:public_ics", args=[fair.uid]))
    assert item["type"] == {"code": "careers_fair", "label": "Careers fair"}
    assert item["unit"] == {"code": "eps", "name": fair.unit.name}
    assert item["audience"] == {"public": False, "employers": True}
    assert item["organisations"] == sorted(o.name for o in fair.organisations.all())
    assert datetime.datetime.fromisoformat(item["starts_at"]) == fair.starts_at
    body = feed(client).content.decode()
    assert manager.email not in body and manager.full_name not in body
    assert "bookings" not in body.lower()


def test_the_json_has_a_stable_documented_shape(client, term):
    document = feed(client, limit=2).json()
    assert document["version"] == 1
    assert document["feed"] == "events"
    assert document["count"] == len(document["items"]) == 2
    assert document["filters"] == {"limit": "2"}
    assert set(document["links"]) == {"json", "rss", "atom", "ics"}
    assert document["links"]["rss"].endswith("/feeds/events.rss?limit=2")
    assert set(document["items"][0]) == {
        "id", "title", "type", "starts_at", "ends_at", "venue", "online", "online_url",
        "description", "unit", "audience", "organisations", "topics", "url", "ics_url",
        "updated_at",
    }  # fmt: skip


def test_filters_narrow_by_audience_type_and_unit(client, term, persona):
    admin = persona("admin")
    make_event(
        by=admin,
        title="Open lecture: careers in the arts",
        type=Event.Type.WORKSHOP,
        unit=unit("careers"),
        starts_at=at(far_monday(), 18),
        open_to_all=True,
        open_to_public=True,
        publish=True,
    )
    assert titles(client, audience="public") == ["Open lecture: careers in the arts"]
    assert "Open lecture: careers in the arts" not in titles(client, audience="employers")
    assert titles(client, type="careers_fair") == ["Engineering and technology careers fair"]
    # A faculty's events include its schools'.
    assert set(titles(client, unit="eps")) == {"Engineering and technology careers fair"}
    assert titles(client, unit="lubs") == ["Finance networking evening"]
    assert len(titles(client, limit=1)) == 1


@pytest.mark.parametrize(
    "query, code",
    [
        ({"audiance": "public"}, "unknown_filter"),
        ({"format": "xml"}, "unknown_filter"),
        ({"audience": "students"}, "bad_filter_value"),
        ({"type": "party"}, "bad_filter_value"),
        ({"unit": "no-such-unit"}, "bad_filter_value"),
        ({"unit": "eps\x00"}, "bad_filter_value"),
        ({"limit": "0"}, "bad_filter_value"),
        ({"limit": "99999999999999999999999"}, "bad_filter_value"),
        ({"limit": ""}, "bad_filter_value"),
        ({"type": ["workshop", "networking"]}, "repeated_filter"),
    ],
)
@pytest.mark.parametrize("format", ["json", "rss", "atom", "ics"])
def test_a_filter_the_feed_does_not_take_is_refused_with_a_json_reason(client, query, code, format):
    response = feed(client, format, **query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert set(error["filters"]) == {"audience", "type", "unit", "limit"}


def test_the_refusal_is_logged_as_one_structured_line(client, caplog):
    with caplog.at_level("INFO", logger="mycareer.core.public_feeds"):
        feed(client, colour="red")
    [line] = [r.getMessage() for r in caplog.records if r.name == "mycareer.core.public_feeds"]
    assert line == "event=feeds.refused feed=events reason=unknown_filter parameter=colour"


def test_rss_is_valid_xml_and_escapes_a_title_that_looks_like_markup(client, persona):
    title = 'Careers <script>alert("x")</script> & "networking"'
    make_event(
        by=persona("admin"),
        title=title,
        unit=unit("careers"),
        starts_at=at(far_monday(), 12),
        open_to_public=True,
        description="Bring <b>your</b> CV",
        publish=True,
    )
    response = feed(client, "rss")
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    body = response.content.decode()
    assert "<script>" not in body and "<b>" not in body
    channel = ET.fromstring(response.content).find("channel")
    [item] = channel.findall("item")
    assert item.findtext("title") == title  # escaped once: the reader sees the real title
    # The description is HTML whose text is escaped: markup in it stays text.
    assert "&lt;b&gt;your&lt;/b&gt;" in item.findtext("description")
    assert item.findtext("link").endswith("/events/public/" + item.findtext("guid")[9:] + "/")


def test_atom_is_valid_xml_with_its_own_self_link(client, term):
    response = feed(client, "atom", audience="employers")
    root = ET.fromstring(response.content)
    assert {e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")} == SHARED
    self_link = [x for x in root.findall(f"{ATOM}link") if x.get("rel") == "self"][0]
    assert self_link.get("href").endswith("/feeds/events.atom?audience=employers")


def test_the_ics_form_is_the_public_calendar_of_the_same_events(client, term):
    response = feed(client, "ics")
    calendar = Calendar.from_ical(response.content)
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert summaries == SHARED
    assert "/events/public/" in response.content.decode().replace("\r\n ", "")


def test_etag_last_modified_and_public_caching_headers_and_304(client, term, fair):
    response = feed(client)
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "*"
    latest = max(term[title].updated_at for title in SHARED)
    assert response["Last-Modified"] == latest.strftime("%a, %d %b %Y %H:%M:%S GMT")
    etag = response["ETag"]
    again = client.get(reverse("feeds:events_json"), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Access-Control-Allow-Origin"] == "*"
    other = client.get(reverse("feeds:events_json"), headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_last_modified_moves_when_an_organisation_in_the_feed_is_renamed(
    client, fair, django_capture_on_commit_callbacks
):
    import time_machine

    first = feed(client)
    organisation = fair.organisations.get(name="Northbridge Engineering Ltd")
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        organisation.name = "Northbridge Engineering Group"
        organisation.save()
    after = feed(client)
    assert after["ETag"] != first["ETag"]
    organisation.refresh_from_db()
    assert after["Last-Modified"] == organisation.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert after["Last-Modified"] != first["Last-Modified"]
    # A reader that revalidates by date is told it changed.
    since = client.get(
        reverse("feeds:events_json"), headers={"If-Modified-Since": first["Last-Modified"]}
    )
    assert since.status_code == 200


def test_everybody_gets_the_same_bytes_signed_in_or_not(client, term, persona):
    anonymous = feed(client)
    client.force_login(persona("admin"))
    assert feed(client).content == anonymous.content


def test_the_feed_comes_from_the_shared_cache_until_an_event_changes(
    client, fair, manager, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    first = feed(client)
    with django_assert_max_num_queries(3):  # the generation and the cached feed, no events
        assert feed(client).content == first.content
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=fair, by=manager, title="Engineering careers fair 2027")
    changed = feed(client)
    assert changed["ETag"] != first["ETag"]
    assert "Engineering careers fair 2027" in titles(client)
    stale = client.get(reverse("feeds:events_json"), headers={"If-None-Match": first["ETag"]})
    assert stale.status_code == 200


@pytest.mark.parametrize("change", ["cancel", "unshare", "rename_organisation"])
def test_each_kind_of_change_reaches_the_feed_at_once(
    client, fair, manager, change, django_capture_on_commit_callbacks
):
    assert fair.title in titles(client)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "cancel":
            services.event_cancel(event=fair, by=manager, reason="The hall flooded.")
        elif change == "unshare":
            services.event_update(event=fair, by=manager, open_to_employers=False)
        else:
            organisation = fair.organisations.get(name="Northbridge Engineering Ltd")
            organisation.name = "Northbridge Engineering Group"
            organisation.save()
    items = {i["title"]: i for i in feed(client).json()["items"]}
    if change == "rename_organisation":
        assert "Northbridge Engineering Group" in items[fair.title]["organisations"]
    else:
        assert fair.title not in items


def test_a_cold_feed_of_many_events_is_built_in_a_few_queries(
    client, persona, django_assert_max_num_queries
):
    from mycareer.events.tests.factories import EventFactory

    for n in range(30):
        event = EventFactory(title=f"Public talk {n}", starts_at=at(far_monday(), 9 + n % 8))
        event.audience.open_to_public = True
        event.audience.save()
    feed(client, limit=1)  # makes the cache's generation for events
    # Reading: the generation, the cache, the events, their organisations and topics;
    # keeping: the database cache's five statements. None of them per event.
    for format in ("json", "rss", "atom", "ics"):
        with django_assert_max_num_queries(10):
            response = feed(client, format)
        assert response.status_code == 200
    assert feed(client).json()["count"] == 30


def test_post_is_not_allowed(client):
    assert client.post(reverse("feeds:events_json")).status_code == 405


def test_staff_find_the_feeds_addresses_and_filters_from_the_calendar(client, persona):
    client.force_login(persona("viewer"))
    calendar = client.get(reverse("events:month")).content.decode()
    assert reverse("events:public_feeds") in calendar
    page = client.get(reverse("events:public_feeds"))
    body = page.content.decode()
    assert page.status_code == 200
    for name in ("events_json", "events_rss", "events_atom", "events_ics", "vacancies_json",
                 "vacancies_rss", "vacancies_atom"):  # fmt: skip
        assert f"http://127.0.0.1:8000{reverse(f'feeds:{name}')}" in body
    assert "<code>audience</code>" in body and "<code>remote</code>" in body


def test_students_neither_see_the_link_nor_open_the_page(client, persona):
    client.force_login(persona("student"))
    assert (
        reverse("events:public_feeds") not in client.get(reverse("events:month")).content.decode()
    )
    assert client.get(reverse("events:public_feeds")).status_code == 403


def test_the_rss_and_atom_feeds_cost_the_same_with_more_events(client, cast):
    """Built cold (a limit not asked before is another cache entry), with each event's
    unit, organisations and topics in the entry."""
    from mycareer.events.models import Topic
    from mycareer.events.tests.factories import EventFactory
    from mycareer.organisations.tests.factories import OrganisationFactory

    def shared(n: int, unit: str) -> None:
        for i in range(n):
            event = EventFactory(
                title=f"Public talk {unit} {i}",
                unit=cast["units"][unit],
                starts_at=at(far_monday(), 9 + i % 8),
            )
            event.audience.open_to_public = True
            event.audience.save()
            event.organisations.add(*OrganisationFactory.create_batch(2))
            topic, _ = Topic.objects.get_or_create(name=f"Topic {unit}", slug=f"topic-{unit}")
            event.topics.add(topic)

    shared(1, "mech")
    feed(client, limit=1)  # makes the cache's generation for events
    before = {
        kind: queries_of(lambda kind=kind: feed(client, kind, limit=50)) for kind in ("rss", "atom")
    }
    shared(4, "mech")
    shared(3, "computing")
    for kind in ("rss", "atom"):
        after = queries_of(lambda kind=kind: feed(client, kind, limit=49))
        assert feed(client, kind, limit=49).content.decode().count("Public talk") >= 8
        assert_no_more_queries(before[kind], after)
