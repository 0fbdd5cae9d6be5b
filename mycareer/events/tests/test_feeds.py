"""iCalendar feeds: valid, stable, DST-proof, cached with ETags, private by token."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from mycareer.core.tests.queries import assert_no_more_queries, steady_queries
from mycareer.events import registry, services
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, organisation, unit

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")


def last_sunday(year: int, month: int) -> datetime.date:
    day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
    return day - datetime.timedelta(days=(day.weekday() + 1) % 7)


def parse(response) -> Calendar:
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    for component in calendar.walk():
        assert component.errors == [], (component.name, component.errors)
    return calendar


def vevents(calendar: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def tom(persona):
    return persona("operator")


def feed_url(user, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": user.feed_token, **params}.items())
    return f"{reverse('events:feed')}?{query}"


def test_the_feed_is_one_valid_published_calendar(client, tom):
    event = make_event(by=tom, title="Feed me", starts_at=at(far_monday(4), 10), publish=True)
    draft = make_event(by=tom, title="Not yet", starts_at=at(far_monday(4), 14))
    response = client.get(feed_url(tom))
    calendar = parse(response)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["PRODID"] == "-//MyCareer//Events calendar//EN"
    assert calendar["X-WR-CALNAME"] == "MyCareer events"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    events = vevents(calendar)
    assert event.ical_uid in events and draft.ical_uid not in events
    mine = events[event.ical_uid]
    assert mine["SUMMARY"] == "Feed me"
    assert mine["STATUS"] == "CONFIRMED"
    assert mine["SEQUENCE"] == 0
    assert "DTSTAMP" in mine
    assert mine.start == at(far_monday(4), 10)
    assert b"DTSTART;TZID=Europe/London:" in response.content
    assert response["ETag"] and response["Last-Modified"]


def test_uids_are_stable_and_sequence_rises_with_each_change(client, tom):
    event = make_event(by=tom, title="Stable", starts_at=at(far_monday(4), 10), publish=True)
    first = client.get(feed_url(tom))
    again = client.get(feed_url(tom))
    assert first.content == again.content  # regenerating changes nothing
    assert first["ETag"] == again["ETag"]
    services.event_update(event=event, by=tom, venue="Great Hall")
    services.event_update(
        event=event, by=tom, starts_at=at(far_monday(4), 11), ends_at=at(far_monday(4), 12)
    )
    changed = client.get(feed_url(tom))
    assert changed["ETag"] != first["ETag"]
    before = vevents(parse(first))[event.ical_uid]
    after = vevents(parse(changed))[event.ical_uid]
    assert after["SEQUENCE"] == before["SEQUENCE"] + 2 == 2
    assert after["LOCATION"] == "Great Hall"
    assert after.start == at(far_monday(4), 11)


@pytest.mark.parametrize("month", [3, 10])
def test_clock_changes_keep_the_local_time(client, tom, month):
    """Events on the last Sundays of March and October stay at 10:00 London time."""
    year = timezone.localdate().year + 1
    sunday = last_sunday(year, month)
    saturday = sunday - datetime.timedelta(days=1)
    on_the_day = make_event(
        by=tom,
        title="Sunday morning",
        starts_at=at(sunday, 10),
        publish=True,
    )
    across = make_event(
        by=tom,
        title="Overnight",
        starts_at=at(saturday, 23),
        minutes=240,  # real time: 23:00 to 04:00 in March, to 02:00 in October
        type=Event.Type.NETWORKING,
        override_reason="Testing",
        publish=True,
    )
    the_week_before = make_event(
        by=tom,
        title="A week before",
        starts_at=at(sunday - datetime.timedelta(days=7), 10),
        type=Event.Type.WORKSHOP,
        publish=True,
    )
    response = client.get(feed_url(tom))
    text = response.content.decode()
    assert f"DTSTART;TZID=Europe/London:{sunday:%Y%m%d}T100000" in text
    events = vevents(parse(response))
    start = events[on_the_day.ical_uid].start
    assert (start.hour, start.minute) == (10, 0)
    assert start.tzinfo.key == "Europe/London"
    # 10:00 is 09:00 UTC in summer time (after March's change), 10:00 UTC after October's.
    assert start.astimezone(datetime.UTC).hour == (9 if month == 3 else 10)
    before = events[the_week_before.ical_uid].start
    assert before.astimezone(datetime.UTC).hour == (10 if month == 3 else 9)
    overnight = events[across.ical_uid]
    elapsed = overnight.end.astimezone(datetime.UTC) - overnight.start.astimezone(datetime.UTC)
    assert elapsed == datetime.timedelta(hours=4)
    assert overnight.end.astimezone(LONDON).hour == (4 if month == 3 else 2)
    # The time zone definition covers the change itself.
    [vtimezone] = parse(response).walk("VTIMEZONE")
    changes = {c.name: c for c in vtimezone.walk() if c.name in ("STANDARD", "DAYLIGHT")}
    assert set(changes) == {"STANDARD", "DAYLIGHT"}


def test_a_matching_etag_gets_not_modified(client, tom):
    make_event(by=tom, title="Cached", starts_at=at(far_monday(4), 10), publish=True)
    url = feed_url(tom)
    first = client.get(url)
    etag = first["ETag"]
    cached = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=f'W/{etag}, "x"').status_code == 304


def test_an_unchanged_feed_is_not_built_again(client, tom, monkeypatch):
    from mycareer.events import feeds

    make_event(by=tom, title="Built once", starts_at=at(far_monday(4), 10), publish=True)
    built = []
    real = feeds.build_calendar
    monkeypatch.setattr(feeds, "build_calendar", lambda *a, **k: built.append(1) or real(*a, **k))
    url = feed_url(tom)
    first = client.get(url)
    again = client.get(url)
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert len(built) == 1
    assert again.content == first.content and not_modified.status_code == 304


def test_renaming_an_organisation_changes_the_feed(client, tom):
    kirkstall = organisation("Kirkstall Robotics")
    make_event(
        by=tom,
        title="Robots",
        starts_at=at(far_monday(4), 10),
        organisations=[kirkstall],
        publish=True,
    )
    url = feed_url(tom)
    first = client.get(url)
    type(kirkstall).objects.filter(pk=kirkstall.pk).update(name="Kirkstall Automation")
    renamed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert renamed.status_code == 200
    assert b"With Kirkstall Automation" in renamed.content.replace(b"\r\n ", b"")


def test_cancelled_events_stay_for_thirty_days_as_cancelled(client, tom):
    event = make_event(by=tom, title="Called off", starts_at=at(far_monday(4), 10), publish=True)
    services.event_cancel(event=event, by=tom, reason="Speaker ill")
    cancelled = vevents(parse(client.get(feed_url(tom))))[event.ical_uid]
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["SEQUENCE"] == 1
    assert cancelled["SUMMARY"] == "Cancelled: Called off"
    assert "Speaker ill" in cancelled["DESCRIPTION"]
    Event.objects.filter(pk=event.pk).update(
        cancelled_at=timezone.now() - datetime.timedelta(days=31)
    )
    assert event.ical_uid not in vevents(parse(client.get(feed_url(tom))))


def test_feeds_need_a_token_or_a_session(client, persona, tom):
    make_event(by=tom, title="Private", starts_at=at(far_monday(4), 10), publish=True)
    refused = client.get(reverse("events:feed"))
    assert refused.status_code == 403
    # Read in a calendar program, the refusal gives the page's address, not only its name.
    subscribe = f"{settings.SITE_URL}{reverse('events:subscribe')}"
    assert refused.content.decode().endswith(f"'Subscribe to events' page, {subscribe}")
    assert client.get(f"{reverse('events:feed')}?token=wrong").status_code == 404
    assert client.get(reverse("events:personal_feed", args=["wrong"])).status_code == 404
    client.force_login(persona("student"))
    parse(client.get(reverse("events:feed")))


def test_students_feeds_follow_their_audience(client, persona, tom):
    monday = far_monday(4)
    mech = make_event(by=tom, title="For mech", starts_at=at(monday, 10), publish=True)
    history = make_event(
        by=persona("expiring"),
        title="For history",
        unit=unit("history"),
        starts_at=at(monday, 10),
        publish=True,
    )
    aisha = persona("student")
    uids = vevents(parse(client.get(feed_url(aisha))))
    assert mech.ical_uid in uids and history.ical_uid not in uids
    # Her own feed holds what she has a place at, not every event open to her.
    uids = vevents(parse(client.get(reverse("events:personal_feed", args=[aisha.feed_token]))))
    assert mech.ical_uid not in uids and history.ical_uid not in uids


def test_unit_and_audience_feeds(client, persona, tom, settings):
    monday = far_monday(4)
    mech = make_event(
        by=tom, title="Mech year 3", starts_at=at(monday, 10), audience_years=[3], publish=True
    )
    design = make_event(
        by=tom,
        title="Design",
        unit=unit("mech-design"),
        starts_at=at(monday + datetime.timedelta(days=3), 10),
        audience_units=[unit("mech-design")],
        publish=True,
    )
    lubs = make_event(
        by=persona("mailer"),
        title="Business",
        unit=unit("lubs"),
        starts_at=at(monday, 10),
        publish=True,
    )
    admin = persona("admin")
    url = reverse("events:unit_feed", args=["mech"]) + f"?token={admin.feed_token}"
    calendar = parse(client.get(url))
    assert calendar["X-WR-CALNAME"] == "MyCareer: School of Mechanical Engineering"
    uids = set(vevents(calendar))
    assert {mech.ical_uid, design.ical_uid} <= uids and lubs.ical_uid not in uids
    # A unit's calendar takes no filters: one added is refused, not quietly ignored.
    refused = client.get(f"{url}&type=workshop")
    assert refused.status_code == 400 and "type" in refused.content.decode()
    assert refused.content.decode().startswith("MyCareer cannot make this calendar: ")
    assert f"open {settings.SITE_URL}{reverse('events:subscribe')} " in refused.content.decode()
    personal = reverse("events:personal_feed", args=[admin.feed_token])
    assert client.get(f"{personal}?unit=mech").status_code == 400
    # Events for students of MEng Mechanical Engineering in year 3.
    uids = set(vevents(parse(client.get(feed_url(admin, programme="meng-mech", year=3)))))
    assert mech.ical_uid in uids and lubs.ical_uid not in uids
    assert design.ical_uid not in uids  # a department the programme is not in
    uids = set(vevents(parse(client.get(feed_url(admin, programme="meng-mech", year=2)))))
    assert mech.ical_uid not in uids


def test_a_feed_address_with_a_filter_it_does_not_know_is_refused_not_everything(
    client, persona, tom, settings
):
    make_event(by=tom, title="Any", starts_at=at(far_monday(4), 10), publish=True)
    admin = persona("admin")
    for bad in ({"type": "nonsense"}, {"programme": "nope"}, {"year": "abc"}, {"year": 99}):
        response = client.get(feed_url(admin, **bad))
        assert response.status_code == 400, bad
        # Plainly, with the full address of the page to copy the calendar's address from.
        assert response.text.startswith("MyCareer cannot make this calendar: ")
        subscribe = f"{settings.SITE_URL}{reverse('events:subscribe')}"
        assert response.text.endswith(f" Open {subscribe} and copy the calendar's address again.")
        assert "BEGIN:VCALENDAR" not in response.text


def test_a_feed_address_with_a_filter_name_it_does_not_know_is_refused_by_name(
    client, persona, tom
):
    """`&untis=lubs` (a typo for `unit`) gave the whole calendar, as if filtered."""
    mech = make_event(by=tom, title="Mech only", starts_at=at(far_monday(4), 10), publish=True)
    admin = persona("admin")
    for unknown in ({"untis": "lubs"}, {"month": "2026-03"}):
        response = client.get(feed_url(admin, **unknown))
        assert response.status_code == 400, unknown
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        name = next(iter(unknown))
        assert f"The calendar has a filter it does not know: “{name}”." in response.text
        assert "Its filters are: unit, type, organisation, programme, year." in response.text
        assert "BEGIN:VCALENDAR" not in response.text
    # The token is not a filter, and the filters it knows still narrow the calendar.
    assert mech.ical_uid in vevents(parse(client.get(feed_url(admin, unit="mech"))))
    assert mech.ical_uid not in vevents(parse(client.get(feed_url(admin, unit="lubs"))))


def test_the_personal_feed_takes_events_from_registered_sources(client, persona, tom):
    viewer = persona("viewer")  # history: Tom's mech events are not theirs
    event = make_event(by=tom, title="Booked", starts_at=at(far_monday(4), 10), publish=True)
    url = reverse("events:personal_feed", args=[viewer.feed_token])
    assert event.ical_uid not in vevents(parse(client.get(url)))

    def bookings(person):
        return Event.objects.filter(pk=event.pk) if person == viewer else []

    registry.register_personal_feed_source(bookings, name="test-bookings")
    try:
        assert event.ical_uid in vevents(parse(client.get(url)))
    finally:
        registry.unregister_personal_feed_source(bookings, name="test-bookings")


def test_resetting_the_token_retires_the_old_address(client, persona):
    aisha = persona("student")
    old = reverse("events:personal_feed", args=[aisha.feed_token])
    assert client.get(old).status_code == 200
    client.force_login(aisha)
    response = client.post(reverse("events:reset_token"))
    assert response.status_code == 302
    aisha.refresh_from_db()
    assert client.get(old).status_code == 404
    assert client.get(reverse("events:personal_feed", args=[aisha.feed_token])).status_code == 200
    assert client.get(reverse("events:reset_token")).status_code == 405


def test_one_event_downloads_as_an_ics_file(client, persona, tom):
    event = make_event(by=tom, title="Take me", starts_at=at(far_monday(4), 10), publish=True)
    draft = make_event(by=tom, title="Draft", starts_at=at(far_monday(4), 15))
    client.force_login(persona("student"))
    response = client.get(reverse("events:ics", args=[event.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="take-me.ics"'
    [only] = parse(response).walk("VEVENT")
    assert only["UID"] == event.ical_uid
    assert client.get(reverse("events:ics", args=[draft.pk])).status_code == 404
    client.force_login(persona("student4"))  # history: not open to them
    assert client.get(reverse("events:ics", args=[event.pk])).status_code == 404


@pytest.mark.parametrize("reader", ["student", "operator"])
def test_a_units_calendar_costs_the_same_with_more_events(client, persona, cast, reader):
    """Its events and those of the units below it, with their organisations and topics, one
    of them called off."""
    from mycareer.events.models import Topic
    from mycareer.events.tests.factories import EventFactory
    from mycareer.organisations.tests.factories import OrganisationFactory

    topic = Topic.objects.create(name="Aerospace", slug="aerospace")

    def events(n: int, code: str) -> None:
        for i in range(n):
            event = EventFactory(
                title=f"Unit talk {code} {i}",
                unit=cast["units"][code],
                starts_at=at(far_monday(), 9 + i % 8),
            )
            event.organisations.add(*OrganisationFactory.create_batch(2))
            event.topics.add(topic)
        services.event_cancel(event=event, by=persona("admin"), reason="The speaker is ill.")

    events(1, "mech")
    token = persona(reader).feed_token
    url = reverse("events:unit_feed", args=["mech"]) + f"?token={token}"
    before = steady_queries(lambda: client.get(url))
    events(4, "mech")
    events(3, "mech-design")
    after = steady_queries(lambda: client.get(url))
    assert len(vevents(parse(client.get(url)))) == 8
    assert_no_more_queries(before, after)
