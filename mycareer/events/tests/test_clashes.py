"""The clash check: what scores, what does not, how it is worded, and free slots."""

import datetime

import pytest

from mycareer.events import services
from mycareer.events.clashes import find_clashes, find_clashes_for_many, suggest_slots
from mycareer.events.models import Event
from mycareer.events.tests.factories import (
    EventFactory,
    at,
    far_monday,
    make_event,
    organisation,
    programme,
    unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tom(persona):
    return persona("operator")


@pytest.fixture
def helen(persona):
    return persona("manager")


@pytest.fixture
def monday():
    return far_monday()


def test_the_reasons_read_like_the_policy(tom, helen, monday):
    theirs = make_event(
        by=helen,
        title="Stratos presentation",
        type=Event.Type.EMPLOYER_PRESENTATION,
        unit=unit("eps"),
        starts_at=at(monday, 12),
        minutes=90,
        organisations=[organisation("Skyward Jets", "Engineering and manufacturing")],
        audience_units=[unit("mech")],
        audience_years=[3],
        publish=True,
    )
    mine = make_event(
        by=tom,
        title="Northbridge workshop",
        type=Event.Type.WORKSHOP,
        starts_at=at(monday, 12, 30),
        minutes=60,
        organisations=[organisation("Gearwheel Ltd", "Engineering and manufacturing")],
        audience_programmes=[programme("meng-mech")],
        audience_years=[3],
    )
    [clash] = find_clashes(mine)
    assert clash.other == theirs
    assert clash.summary == (
        "Same audience: MEng Mechanical Engineering year 3; "
        "same sector: Engineering and manufacturing; 1 hour overlap"
    )
    assert clash.reasons[0] == "same audience: MEng Mechanical Engineering year 3"


def _score(event) -> int:
    clashes = find_clashes(event)
    return clashes[0].score if clashes else 0


def test_each_likeness_and_the_overlap_raise_the_score(tom, helen, monday):
    acme = organisation("Acme Turbines", "Engineering and manufacturing", tags=["Placements"])
    other_org = organisation("Bolt Motors", "Engineering and manufacturing", tags=["Placements"])
    make_event(
        by=helen,
        title="Theirs",
        type=Event.Type.WORKSHOP,
        unit=unit("eps"),
        starts_at=at(monday, 10),
        minutes=120,
        audience_programmes=[programme("meng-mech")],
        audience_years=[3],
        organisations=[acme],
        topics=["Interviews"],
        publish=True,
    )
    # Same audience only, at the same time: a clash through the overlap.
    mine = make_event(
        by=tom,
        title="Mine",
        type=Event.Type.NETWORKING,
        starts_at=at(monday, 11),
        audience_programmes=[programme("meng-mech")],
    )
    audience_and_time = _score(mine)
    assert audience_and_time > 0

    services.event_update(event=mine, by=tom, audience_years=[3])
    with_years = _score(mine)
    assert with_years > audience_and_time

    services.event_update(event=mine, by=tom, organisations=[other_org])
    with_sector_and_tags = _score(mine)
    assert with_sector_and_tags > with_years
    assert "same sector: Engineering and manufacturing" in find_clashes(mine)[0].reasons
    assert "shared tags: Placements" in find_clashes(mine)[0].reasons

    services.event_update(event=mine, by=tom, organisations=[acme])
    with_same_org = _score(mine)
    assert with_same_org > with_sector_and_tags
    assert "same organisation: Acme Turbines" in find_clashes(mine)[0].reasons

    services.event_update(event=mine, by=tom, type=Event.Type.WORKSHOP)
    with_type = _score(mine)
    assert with_type > with_same_org

    services.event_update(event=mine, by=tom, topics=["interviews"])  # case does not matter
    with_topic = _score(mine)
    assert with_topic > with_type
    assert "shared topics: Interviews" in find_clashes(mine)[0].reasons

    # Moving it apart in time lowers the score: overlap > same day > next day.
    services.event_update(event=mine, by=tom, starts_at=at(monday, 15), ends_at=at(monday, 16))
    same_day = _score(mine)
    assert 0 < same_day < with_topic
    assert find_clashes(mine)[0].reasons[-1] == "same day"
    next_day = monday + datetime.timedelta(days=1)
    services.event_update(event=mine, by=tom, starts_at=at(next_day, 15), ends_at=at(next_day, 16))
    assert 0 < _score(mine) < same_day
    assert find_clashes(mine)[0].reasons[-1] == "1 day apart"


def test_unrelated_events_in_the_window_do_not_clash(tom, persona, monday):
    grace = persona("mailer")
    make_event(
        by=grace,
        title="Finance evening",
        type=Event.Type.NETWORKING,
        unit=unit("lubs"),
        starts_at=at(monday, 12),
        organisations=[organisation("Coins plc", "Finance and accounting")],
        audience_units=[unit("lubs")],
        publish=True,
    )
    # Different students, employer, sector and type, at the very same time.
    mine = make_event(
        by=tom,
        title="Welding workshop",
        type=Event.Type.WORKSHOP,
        starts_at=at(monday, 12),
        organisations=[organisation("Sparks Ltd", "Engineering and manufacturing")],
        audience_units=[unit("mech")],
    )
    assert find_clashes(mine) == []


def test_the_same_students_on_another_day_with_nothing_alike_do_not_clash(tom, helen, monday):
    make_event(
        by=helen,
        title="Chemistry careers",
        type=Event.Type.EMPLOYER_PRESENTATION,
        unit=unit("eps"),
        starts_at=at(monday, 12),
        audience_units=[unit("eps")],
        publish=True,
    )
    mine = make_event(
        by=tom,
        title="CV clinic",
        type=Event.Type.SKILLS_SESSION,
        starts_at=at(monday + datetime.timedelta(days=1), 12),
    )
    assert find_clashes(mine) == []


def test_a_faculty_audience_takes_in_its_departments(tom, helen, monday):
    make_event(
        by=helen,
        title="Faculty fair",
        type=Event.Type.CAREERS_FAIR,
        unit=unit("eps"),
        starts_at=at(monday, 10),
        minutes=240,
        audience_units=[unit("eps")],
        publish=True,
    )
    mine = make_event(
        by=tom,
        title="Design talk",
        type=Event.Type.WORKSHOP,
        unit=unit("mech-design"),
        starts_at=at(monday, 11),
        audience_units=[unit("mech-design")],
    )
    [clash] = find_clashes(mine)
    assert clash.reasons[0] == "same audience: Department of Design and Manufacturing"
    assert clash.reasons[-1] == "1 hour overlap"


def test_the_same_employer_clashes_even_for_other_students(tom, persona, monday):
    acme = organisation("Acme Everywhere", "Consulting")
    make_event(
        by=persona("mailer"),
        title="Acme for business",
        unit=unit("lubs"),
        starts_at=at(monday, 9),
        organisations=[acme],
        audience_units=[unit("lubs")],
        publish=True,
    )
    mine = make_event(
        by=tom,
        title="Acme for engineers",
        starts_at=at(monday + datetime.timedelta(days=2), 15),
        organisations=[acme],
    )
    [clash] = find_clashes(mine)
    assert clash.summary == "Same organisation: Acme Everywhere; same type: Other; 2 days apart"


def test_the_window_is_the_days_of_the_event_plus_two_either_side(tom, helen, monday):
    acme = organisation("Acme Window", "Consulting")
    for days in (2, 3):
        make_event(
            by=helen,
            title=f"{days} days later",
            unit=unit("eps"),
            starts_at=at(monday + datetime.timedelta(days=days), 23),
            minutes=30,
            organisations=[acme],
            publish=days == 2,
        )
    third = Event.objects.get(title="3 days later")
    services.event_publish(event=third, by=helen, override_reason="Next to the other one")
    mine = make_event(by=tom, title="Mine", starts_at=at(monday, 0, 30), organisations=[acme])
    assert [c.other.title for c in find_clashes(mine)] == ["2 days later"]
    assert {c.other.title for c in find_clashes(mine, window_days=3)} == {
        "2 days later",
        "3 days later",
    }
    assert find_clashes(mine, window_days=1) == []


def test_clashes_are_ranked_worst_first_and_drafts_and_cancelled_do_not_count(tom, helen, monday):
    common = {
        "unit": unit("eps"),
        "audience_units": [unit("mech")],
        "by": helen,
        "override_reason": "Testing",
    }
    close = make_event(title="Overlapping", starts_at=at(monday, 10), publish=True, **common)
    near = make_event(title="Same afternoon", starts_at=at(monday, 15), publish=True, **common)
    make_event(title="Draft", starts_at=at(monday, 10), **common)
    cancelled = make_event(title="Cancelled", starts_at=at(monday, 10), **common)
    services.event_publish(event=cancelled, by=helen, override_reason="Testing")
    services.event_cancel(event=cancelled, by=helen, reason="Testing")
    mine = make_event(by=tom, title="Mine", starts_at=at(monday, 10, 30))
    clashes = find_clashes(mine)
    assert [c.other for c in clashes] == [close, near]
    assert clashes[0].score > clashes[1].score
    assert clashes[1].reasons == [
        "same audience: School of Mechanical Engineering",
        "same type: Other",
        "same day",
    ]


def test_open_to_all_overlaps_every_audience(tom, persona, monday):
    make_event(
        by=persona("admin"),
        title="Everyone",
        unit=unit("careers"),
        starts_at=at(monday, 10),
        open_to_all=True,
        audience_years=[2, 3],
        publish=True,
    )
    mine = make_event(by=tom, title="Mine", starts_at=at(monday, 10), audience_years=[3, 4])
    [clash] = find_clashes(mine)
    assert clash.reasons[0] == "same audience: School of Mechanical Engineering year 3"
    # Years that do not meet keep the audiences apart.
    services.event_update(event=mine, by=tom, audience_years=[1])
    assert find_clashes(mine) == []


def test_free_slots_avoid_known_clashes(tom, helen, monday):
    tuesday = monday + datetime.timedelta(days=1)
    make_event(
        by=helen,
        title="Busy Tuesday",
        unit=unit("eps"),
        starts_at=at(tuesday, 10),
        minutes=120,
        audience_units=[unit("mech")],
        publish=True,
    )
    mine = make_event(by=tom, title="Mine", starts_at=at(tuesday, 10), minutes=60)
    assert find_clashes(mine)
    slots = suggest_slots(mine, week_start=tuesday, limit=5)
    assert len(slots) == 5
    scores = [slot.score for slot in slots]
    assert scores == sorted(scores)
    # Friday is three days away, out of the window: the best slots are there, and
    # they are real alternatives (no overlap, at most two a day).
    assert [s.starts_at for s in slots[:2]] == [
        at(tuesday, 9) + datetime.timedelta(days=3),
        at(tuesday, 10) + datetime.timedelta(days=3),
    ]
    assert slots[0].score == 0 and slots[0].clashes == []
    assert not any(s.starts_at.date() == tuesday and s.starts_at.hour in (10, 11) for s in slots)
    # With the same day as the only window, the whole of Tuesday is avoided.
    slots = suggest_slots(mine, week_start=monday, window_days=0, limit=8)
    assert [s for s in slots if s.starts_at.date() == tuesday] == []
    assert all(s.score == 0 for s in slots)
    everything = suggest_slots(mine, week_start=monday, window_days=0, limit=500, per_day=None)
    ranks = {s.starts_at: n for n, s in enumerate(everything)}
    overlapping = ranks[at(tuesday, 10, 30)]
    same_day = ranks[at(tuesday, 14)]
    assert overlapping > same_day > ranks[at(monday, 9)]
    assert all(s.starts_at.time() >= datetime.time(9) for s in everything)
    assert all(s.ends_at.time() <= datetime.time(17) for s in everything)
    assert {s.starts_at.weekday() for s in everything} == {0, 1, 2, 3, 4}


def test_one_check_takes_a_fixed_number_of_queries(tom, monday):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mine = make_event(by=tom, title="Mine", starts_at=at(monday, 11))
    counts = []
    for _ in range(2):
        EventFactory.create_batch(60, starts_at=at(monday, 11))
        with CaptureQueriesContext(connection) as queries:
            found = find_clashes(mine)
        counts.append(len(queries))
    assert len(found) == 120
    assert counts[0] == counts[1] <= 15  # the same however many events there are
    with CaptureQueriesContext(connection) as queries:
        assert len(find_clashes_for_many([mine])[mine.pk]) == 120
    assert len(queries) <= 15
