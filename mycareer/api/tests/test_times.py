"""A time sent without an offset is read in the site's time zone, as the event form reads
what people type; it once reached the events service naive and answered a 500."""

import datetime
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event, unit

pytestmark = pytest.mark.django_db


def _local(day: datetime.date, hour: int) -> str:
    """`2027-03-01T10:00`: a wall-clock time with no offset."""
    return datetime.datetime.combine(day, datetime.time(hour)).isoformat(timespec="minutes")


def _body(starts_at: str, ends_at: str) -> dict:
    return {
        "title": "Talk",
        "venue": "Room 1",
        "unit": unit("mech").pk,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "audience_units": [unit("mech").pk],
    }


@pytest.fixture(autouse=True)
def _uk_time(settings):
    settings.TIME_ZONE = "Europe/London"


@pytest.mark.parametrize("month", [1, 7])  # Winter (GMT) and summer (BST) alike.
def test_a_new_events_times_without_an_offset_are_the_sites_local_time(call, token_for, month):
    day = far_monday().replace(month=month, day=10)
    made = call(token_for("operator"), "post", "/events", _body(_local(day, 10), _local(day, 11)))
    assert made.status_code == 201, made.content
    event = Event.objects.get(pk=made.json()["id"])
    assert timezone.localtime(event.starts_at) == at(day, 10)
    assert timezone.localtime(event.ends_at) == at(day, 11)


def test_a_changed_time_without_an_offset_is_the_sites_local_time(call, token_for, persona):
    day = far_monday().replace(month=7, day=10)
    event = make_event(by=persona("operator"), starts_at=at(day, 10))
    secret = token_for("operator")
    etag = call(secret, "get", f"/events/{event.pk}")["ETag"]
    moved = call(
        secret,
        "patch",
        f"/events/{event.pk}",
        {"starts_at": _local(day, 14), "ends_at": _local(day, 15)},
        HTTP_IF_MATCH=etag,
    )
    assert moved.status_code == 200, moved.content
    event.refresh_from_db()
    assert (event.starts_at, event.ends_at) == (at(day, 14), at(day, 15))


def test_a_time_with_an_offset_keeps_it(call, token_for):
    day = far_monday()
    made = call(
        token_for("operator"),
        "post",
        "/events",
        _body(f"{_local(day, 10)}+02:00", f"{_local(day, 11)}+02:00"),
    )
    assert made.status_code == 201
    starts = Event.objects.get(pk=made.json()["id"]).starts_at
    assert starts == datetime.datetime.combine(day, datetime.time(8), tzinfo=datetime.UTC)


def test_a_local_time_the_clocks_skip_is_refused_naming_the_field(call, token_for):
    # 01:30 on the last Sunday of March 2030 does not happen in the UK: the clocks go
    # from 01:00 to 02:00.
    answer = call(
        token_for("operator"),
        "post",
        "/events",
        _body("2030-03-31T01:30", "2030-03-31T03:00"),
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert list(answer.json()["fields"]) == ["starts_at"]
    assert "does not exist in UK time" in answer.json()["fields"]["starts_at"][0]
    assert not Event.objects.exists()


def test_the_calendars_time_filters_read_a_time_without_an_offset_the_same_way(
    call, token_for, persona
):
    day = far_monday().replace(month=7, day=10)
    event = make_event(by=persona("operator"), starts_at=at(day, 10))
    secret = token_for("operator")

    def found(**query) -> list[int]:
        answer = call(secret, "get", f"/events?{urlencode(query)}")
        assert answer.status_code == 200, answer.content
        return [item["id"] for item in answer.json()["items"]]

    half_past = datetime.datetime.combine(day, datetime.time(9, 30)).isoformat()
    # 10:00 in summer is 09:00 UTC: "after 09:30" read as UTC would leave it out.
    assert found(starts_after=half_past, starts_before=_local(day, 11)) == [event.pk]
    assert found(starts_after=_local(day, 11)) == []
    refused = call(secret, "get", "/events?starts_after=2030-03-31T01:30")
    assert refused.status_code == 400
    assert list(refused.json()["fields"]) == ["starts_after"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # With an offset, neither has a UTC equivalent: the filter answered a 500.
        ("starts_after", "0001-01-01T00:00+05:00"),
        ("starts_before", "9999-12-31T23:00-05:00"),
    ],
)
def test_a_time_filter_with_no_utc_equivalent_is_refused_naming_it(call, token_for, name, value):
    answer = call(token_for("student"), "get", f"/events?{urlencode({name: value})}")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    [reason] = answer.json()["fields"][name]
    assert reason.startswith("Check the year:") and "has no equivalent in UTC" in reason


def test_a_far_time_filter_means_no_limit_as_it_always_has(call, token_for):
    """Scripts give 9999-12-31 for "no upper limit": refusing years past events' own
    broke them for nothing."""
    for query in ("starts_before=9999-12-31T00:00:00", "starts_after=1800-01-01T00:00"):
        assert call(token_for("student"), "get", f"/events?{query}").status_code == 200, query


def test_an_events_own_times_keep_to_its_years(call, token_for):
    answer = call(
        token_for("operator"), "post", "/events", _body("3100-01-05T10:00", "3100-01-05T11:00")
    )
    assert answer.status_code == 400, answer.json()
    assert "year" in answer.content.decode()
    assert not Event.objects.filter(title="Talk").exists()
