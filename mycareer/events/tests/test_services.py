"""Event services: validation, audit, publishing despite a clash, cancelling, opening."""

import datetime

import icalendar
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.core.tests.concurrency import at_once, row_locks
from mycareer.events import registry, selectors, services, tasks
from mycareer.events.clashes import ClashesFound
from mycareer.events.models import ClashOverride, Event, OpeningRequest
from mycareer.events.tests.factories import (
    at,
    far_monday,
    make_event,
    organisation,
    programme,
    unit,
)
from mycareer.organisations import services as organisation_services
from mycareer.organisations.models import Organisation


@pytest.fixture
def tom(persona):
    return persona("operator")


@pytest.fixture
def helen(persona):
    return persona("manager")


@pytest.fixture
def monday():
    return far_monday()


def actions(event) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=str(event.pk), content_type__model="event")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


@pytest.fixture
def clashing_pair(tom, helen, monday):
    """Helen's published talk, and Tom's draft for the same students at the same time."""
    theirs = make_event(
        by=helen,
        title="Helen's talk",
        unit=unit("eps"),
        starts_at=at(monday, 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    mine = make_event(by=tom, title="Tom's talk", starts_at=at(monday, 12, 30))
    return theirs, mine


@pytest.mark.django_db
def test_creating_an_event_makes_an_audited_draft_with_its_audience(tom, monday):
    event = make_event(
        by=tom,
        title="  Careers in rail  ",
        starts_at=at(monday, 10),
        topics=["Rail", "rail", "Placements"],
        audience_years=[3, 2],
    )
    assert event.status == Event.Status.DRAFT
    assert event.title == "Careers in rail"
    assert event.organiser == tom
    assert event.audience.years == "2,3"
    assert sorted(t.name for t in event.topics.all()) == ["Placements", "Rail"]
    assert actions(event) == ["events.event.created"]
    assert event.ical_uid.endswith("@mycareer")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"minutes": 0}, "must end after it starts"),
        ({"minutes": -60}, "must end after it starts"),
        ({"minutes": 15 * 24 * 60}, "at most 14 days"),
        ({"audience_years": [8]}, "from 1 to 7"),
        ({"audience_units": [], "open_to_all": True, "audience_programmes": []}, None),
        ({"open_to_all": True, "audience_units": ["mech"]}, "not both"),
        ({"title": "   "}, "title"),
    ],
)
def test_bad_events_are_refused_with_a_reason(tom, monday, fields, message):
    fields = dict(fields)
    if fields.get("audience_units"):
        fields["audience_units"] = [unit(c) for c in fields["audience_units"]]
    if message is None:
        make_event(by=tom, starts_at=at(monday, 10), **fields)
        return
    with pytest.raises(ValidationError) as raised:
        make_event(by=tom, starts_at=at(monday, 10), **fields)
    assert message in str(raised.value)


@pytest.mark.django_db
def test_an_event_needs_someone_to_be_for(tom, monday):
    with pytest.raises(ValidationError, match="Choose who the event is for"):
        services.event_create(
            by=tom,
            title="For nobody",
            venue="Room 1",
            unit=unit("mech"),
            starts_at=at(monday, 10),
            ends_at=at(monday, 11),
        )


@pytest.mark.django_db
def test_an_event_says_where_whichever_way_it_is_made(tom, monday):
    """The web form asked for a venue or an online link; the API made events with neither."""
    with pytest.raises(ValidationError, match="Give a venue, an online link, or both"):
        services.event_create(
            by=tom,
            title="Nowhere",
            unit=unit("mech"),
            starts_at=at(monday, 10),
            ends_at=at(monday, 11),
            open_to_all=True,
        )
    event = services.event_create(
        by=tom,
        title="Somewhere",
        venue="Room 1",
        unit=unit("mech"),
        starts_at=at(monday, 10),
        ends_at=at(monday, 11),
        audience_units=[unit("mech")],
    )
    with pytest.raises(ValidationError, match="Give a venue"):
        services.event_update(event=event, by=tom, venue="")
    services.event_update(event=event, by=tom, venue="", online_url="https://meet.example/x")


@pytest.mark.django_db
def test_an_event_that_fails_half_way_is_not_made(tom, monday):
    """The event, its organisers, topics and audience are made together or not at all."""
    mech = unit("mech")
    unsaved = programme("meng-mech")
    unsaved.pk = None
    with pytest.raises(ValueError):
        services.event_create(
            by=tom,
            title="Half made",
            venue="Room 1",
            unit=mech,
            starts_at=at(monday, 10),
            ends_at=at(monday, 11),
            topics=["Careers fairs"],
            audience_programmes=[unsaved],
        )
    assert not Event.objects.filter(title="Half made").exists()


@pytest.mark.django_db
def test_naive_times_are_a_programming_error(tom, monday):
    with pytest.raises(ValueError, match="timezone-aware"):
        services.event_create(
            by=tom,
            title="Naive",
            unit=unit("mech"),
            starts_at=datetime.datetime(2030, 1, 1, 10),
            ends_at=datetime.datetime(2030, 1, 1, 11),
            open_to_all=True,
        )


@pytest.mark.django_db
def test_publishing_without_clashes(tom, monday):
    event = make_event(by=tom, starts_at=at(monday, 10))
    assert services.event_publish(event=event, by=tom) == []
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and event.published_at is not None
    assert event.sequence == 0
    assert actions(event) == ["events.event.created", "events.event.published"]
    with pytest.raises(ValidationError, match="Only a draft"):
        services.event_publish(event=event, by=tom)


@pytest.mark.django_db
def test_a_clash_stops_publishing_until_a_reason_is_given(clashing_pair, tom):
    theirs, mine = clashing_pair
    with pytest.raises(ClashesFound) as raised:
        services.event_publish(event=mine, by=tom)
    assert [c.other for c in raised.value.clashes] == [theirs]
    assert isinstance(raised.value, ValidationError)
    mine.refresh_from_db()
    assert mine.status == Event.Status.DRAFT
    with pytest.raises(ClashesFound):
        services.event_publish(event=mine, by=tom, override_reason="   ")

    services.event_publish(event=mine, by=tom, override_reason="The employer can only come then")
    mine.refresh_from_db()
    assert mine.status == Event.Status.PUBLISHED
    [override] = ClashOverride.objects.filter(event=mine)
    assert override.other == theirs
    assert override.reason == "The employer can only come then"
    assert override.by == tom
    assert override.summary.startswith("Same audience: School of Mechanical Engineering")
    assert actions(mine)[-2:] == [
        "events.event.published",
        "events.event.published_despite_clash",
    ]
    assert actions(theirs)[-1] == "events.event.clash_overridden"
    entry = AuditEntry.objects.get(
        action="events.event.published_despite_clash", object_id=str(mine.pk)
    )
    assert entry.data["reason"] == "The employer can only come then"
    assert entry.data["clashes"][0]["event"] == theirs.pk


@pytest.mark.django_db
def test_moving_a_published_event_checks_again(tom, helen, monday):
    make_event(
        by=helen,
        title="Helen's talk",
        unit=unit("eps"),
        starts_at=at(monday, 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    tuesday = monday + datetime.timedelta(days=7)
    mine = make_event(by=tom, title="Tom's talk", starts_at=at(tuesday, 12), publish=True)
    with pytest.raises(ClashesFound):
        services.event_update(event=mine, by=tom, starts_at=at(monday, 12), ends_at=at(monday, 13))
    mine.refresh_from_db()
    assert mine.starts_at == at(tuesday, 12)  # nothing was saved
    assert mine.sequence == 0
    services.event_update(
        event=mine,
        by=tom,
        starts_at=at(monday, 12),
        ends_at=at(monday, 13),
        override_reason="Only room free",
    )
    mine.refresh_from_db()
    assert mine.starts_at == at(monday, 12)
    assert mine.sequence == 1
    assert ClashOverride.objects.filter(event=mine, reason="Only room free").count() == 1
    assert "events.event.changed_despite_clash" in actions(mine)
    # Changing only the description does not need the check, but does raise SEQUENCE.
    services.event_update(event=mine, by=tom, description="Bring a CV")
    mine.refresh_from_db()
    assert mine.sequence == 2


@pytest.mark.django_db
def test_sequence_rises_only_for_changes_calendars_show(tom, monday):
    event = make_event(by=tom, starts_at=at(monday, 10))
    services.event_update(event=event, by=tom, title="Draft title change")
    event.refresh_from_db()
    assert event.sequence == 0  # never published: no calendar holds it yet
    services.event_publish(event=event, by=tom)
    services.event_update(event=event, by=tom, topics=["Rail"])
    event.refresh_from_db()
    assert event.sequence == 0
    services.event_update(event=event, by=tom, venue="Room 2")
    event.refresh_from_db()
    assert event.sequence == 1
    services.event_update(event=event, by=tom, venue="Room 2")  # no change, no entry
    event.refresh_from_db()
    assert event.sequence == 1
    changed = AuditEntry.objects.filter(action="events.event.changed", object_id=str(event.pk))
    assert changed.count() == 3
    assert changed.first().data["changed"]["venue"] == ["Room 1", "Room 2"]


@pytest.mark.django_db
def test_cancelling_needs_a_reason_and_cannot_be_undone_by_editing(tom, monday):
    event = make_event(by=tom, starts_at=at(monday, 10), publish=True)
    with pytest.raises(ValidationError, match="Say why"):
        services.event_cancel(event=event, by=tom, reason=" ")
    services.event_cancel(event=event, by=tom, reason="Speaker ill")
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert event.cancelled_reason == "Speaker ill"
    assert event.sequence == 1
    assert actions(event)[-1] == "events.event.cancelled"
    day = f"{timezone.localtime(event.cancelled_at):%-d %B %Y}"
    assert services.not_a_draft_text(event) == (
        f"{event.title} was cancelled on {day}: it cannot be published."
    )
    with pytest.raises(ValidationError, match="already cancelled"):
        services.event_cancel(event=event, by=tom, reason="Again")
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.event_update(event=event, by=tom, title="Back again")


@pytest.mark.django_db
def test_an_event_that_has_started_cannot_be_cancelled(tom, monday):
    """Its places would end, attendance with them, and people who came be told it is off."""
    event = make_event(by=tom, starts_at=at(monday, 10), publish=True)
    started = timezone.now() - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=event.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    event.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.event_cancel(event=event, by=tom, reason="Too late")
    assert refused.value.code == "started"
    assert "cannot be cancelled once it has started" in refused.value.messages[0]
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and not event.cancellation_notices.exists()


@pytest.mark.django_db
def test_a_published_event_that_has_passed_keeps_its_times(tom, monday):
    """Moved into the future, a finished event would reopen booking beside its
    check-ins and no-shows; a draft may still move, to be published."""
    event = make_event(by=tom, starts_at=at(monday, 10), publish=True)
    draft = make_event(by=tom, title="A draft", starts_at=at(monday, 10))
    finished = timezone.now() - datetime.timedelta(hours=2)
    Event.objects.filter(pk__in=[event.pk, draft.pk]).update(
        starts_at=finished, ends_at=finished + datetime.timedelta(hours=1)
    )
    event.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.event_update(event=event, by=tom, starts_at=at(monday, 10), ends_at=at(monday, 11))
    assert "has ended: its times can no longer change" in str(refused.value)
    with pytest.raises(ValidationError, match="has ended"):
        services.event_update(event=event, by=tom, ends_at=finished + datetime.timedelta(hours=3))
    event.refresh_from_db()
    assert event.starts_at == finished and event.sequence == 0
    # The edit form sends its times to the minute: the same minute is no change.
    services.event_update(
        event=event,
        by=tom,
        starts_at=finished.replace(second=0, microsecond=0),
        ends_at=event.ends_at.replace(second=0, microsecond=0),
        description="Slides are on the website.",
    )
    event.refresh_from_db()
    assert event.starts_at == finished and event.description == "Slides are on the website."
    services.event_update(event=draft, by=tom, starts_at=at(monday, 10), ends_at=at(monday, 11))
    draft.refresh_from_db()
    assert draft.starts_at == at(monday, 10)


@pytest.mark.django_db
def test_a_published_event_still_to_come_cannot_move_to_a_start_that_has_passed(tom, monday):
    """Its people would be told of an event already begun, could no longer cancel, and
    closing attendance would mark them all as not attending."""
    event = make_event(by=tom, starts_at=at(monday, 10), publish=True)
    draft = make_event(by=tom, title="A draft", starts_at=at(monday, 10))
    yesterday = timezone.now() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.event_update(
            event=event,
            by=tom,
            starts_at=yesterday,
            ends_at=yesterday + datetime.timedelta(hours=1),
        )
    assert "can only move to a start that has not passed" in str(refused.value)
    event.refresh_from_db()
    assert event.starts_at == at(monday, 10) and event.sequence == 0
    # Nor to one that began a few minutes ago, however long it runs on.
    started = timezone.now() - datetime.timedelta(minutes=5)
    with pytest.raises(ValidationError, match="has not passed"):
        services.event_update(
            event=event, by=tom, starts_at=started, ends_at=started + datetime.timedelta(hours=2)
        )
    # An event about to start, saved from a form that shows the minute: no change.
    soon = at(monday, 10).replace(second=40)
    Event.objects.filter(pk=event.pk).update(
        starts_at=soon, ends_at=soon + datetime.timedelta(hours=1)
    )
    event.refresh_from_db()
    with time_machine.travel(soon - datetime.timedelta(seconds=20), tick=False):
        services.event_update(
            event=event,
            by=tom,
            starts_at=soon.replace(second=0),
            ends_at=event.ends_at,
            description="Bring a laptop.",
        )
    event.refresh_from_db()
    assert event.starts_at == soon and event.description == "Bring a laptop."
    # A draft was never announced: it may still move anywhere, to be published later.
    services.event_update(
        event=draft, by=tom, starts_at=yesterday, ends_at=yesterday + datetime.timedelta(hours=1)
    )
    draft.refresh_from_db()
    assert draft.starts_at == yesterday


@pytest.mark.django_db
def test_an_event_under_way_may_end_later_but_not_start_again(tom, monday):
    event = make_event(by=tom, starts_at=at(monday, 10), publish=True)
    started = timezone.now() - datetime.timedelta(minutes=30)
    Event.objects.filter(pk=event.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    event.refresh_from_db()
    later = started + datetime.timedelta(hours=2)
    with pytest.raises(ValidationError, match="has started"):
        services.event_update(
            event=event, by=tom, starts_at=later, ends_at=later + datetime.timedelta(hours=1)
        )
    services.event_update(event=event, by=tom, ends_at=later)
    event.refresh_from_db()
    assert event.ends_at == later


@pytest.mark.django_db
def test_opening_an_event_to_another_faculty(tom, persona, monday):
    history_student = persona("student4")
    event = make_event(by=tom, title="Open me", starts_at=at(monday, 10), publish=True)
    assert not selectors.can_see_event(history_student, event)
    request = services.opening_request_create(
        event=event, unit=unit("ahc"), by=tom, message="Good for historians of technology"
    )
    assert request.status == OpeningRequest.Status.PENDING
    with pytest.raises(ValidationError, match="already been asked"):
        services.opening_request_create(event=event, unit=unit("ahc"), by=tom)
    with pytest.raises(ValidationError, match="already open to"):
        services.opening_request_create(event=event, unit=unit("mech-design"), by=tom)
    with pytest.raises(ValidationError, match="Careers Centre has no students of its own"):
        services.opening_request_create(event=event, unit=unit("careers"), by=tom)
    assert not selectors.can_see_event(history_student, event)

    rachel = persona("expiring")
    services.opening_request_decide(request=request, accept=True, by=rachel, comment="Welcome")
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.ACCEPTED
    assert request.decided_by == rachel and request.comment == "Welcome"
    assert unit("ahc") in event.audience.units.all()
    assert selectors.can_see_event(history_student, event)
    with pytest.raises(ValidationError, match="already answered"):
        services.opening_request_decide(request=request, accept=False, by=rachel, comment="No")
    assert actions(event)[-2:] == ["events.opening.requested", "events.opening.accepted"]


def _audience_of(event) -> set[str]:
    audience = Event.objects.get(pk=event.pk).audience
    return {u.code for u in audience.units.all()} | {p.code for p in audience.programmes.all()}


@pytest.mark.django_db
def test_other_schools_students_are_reached_by_asking_their_operators(tom, monday):
    """Policy 2.4: events are opened to other schools and faculties by consultation, so
    the organiser cannot tick another school's units or programmes, nor all students."""
    event = make_event(
        by=tom,
        starts_at=at(monday, 10),
        audience_units=[unit("mech-design")],
        audience_programmes=[programme("meng-mech")],
    )
    assert _audience_of(event) == {"mech-design", "meng-mech"}
    for audience, named in [
        ({"audience_units": [unit("computing")]}, "School of Computing is not yours"),
        ({"audience_units": [unit("eps")]}, "Faculty of Engineering and Physical Sciences is"),
        (
            {"audience_units": [unit("lubs"), unit("history")]},
            "Business School, School of History are not yours",
        ),
        (
            {"audience_programmes": [programme("ba-history")]},
            r"BA History \(School of History\) is not yours",
        ),
    ]:
        with pytest.raises(ValidationError, match=named) as refused:
            services.event_create(
                by=tom,
                title="Too wide",
                unit=unit("mech"),
                venue="Room 1",
                starts_at=at(monday, 10),
                ends_at=at(monday, 11),
                **audience,
            )
        assert "Open to another unit" in str(refused.value)
        with pytest.raises(ValidationError, match=named):
            services.event_update(event=event, by=tom, **audience)
    with pytest.raises(ValidationError) as refused:
        services.event_update(
            event=event,
            by=tom,
            audience_units=[unit("mech"), unit("music")],
            audience_programmes=[programme("ba-history"), programme("bsc-cs")],
        )
    # Each list says what of it is outside, and whom to ask for it.
    assert refused.value.message_dict == {
        "audience_units": [
            "Ask before opening the event beyond School of Mechanical Engineering: School of "
            "Music is not yours to choose. Untick it and save, then use “Open to another "
            "unit” on the event's page to ask the operators of School of Music, whose "
            "students see the event once they accept."
        ],
        "audience_programmes": [
            "Ask before opening the event beyond School of Mechanical Engineering: BA History "
            "(School of History), BSc Computer Science (School of Computing) are not yours to "
            "choose. Untick them and save, then use “Open to another unit” on the event's "
            "page to ask the operators of each of School of Computing, School of History, "
            "whose students see the event once they accept."
        ],
    }
    with pytest.raises(ValidationError, match="an administrator may open it to every student"):
        services.event_update(
            event=event, by=tom, open_to_all=True, audience_units=[], audience_programmes=[]
        )
    assert _audience_of(event) == {"mech-design", "meng-mech"}
    assert not Event.objects.filter(title="Too wide").exists()


@pytest.mark.django_db
def test_who_reaches_every_student_without_asking(tom, helen, persona, monday):
    """A faculty's operator reaches its schools; a central service's events, and
    administrators, reach every student."""
    mech_event = make_event(by=helen, starts_at=at(monday, 10), unit=unit("mech"))
    services.event_update(event=mech_event, by=helen, audience_units=[unit("computing")])
    assert _audience_of(mech_event) == {"computing"}
    faculty_event = make_event(by=helen, starts_at=at(monday, 12), unit=unit("eps"))
    services.event_update(
        event=faculty_event, by=helen, audience_programmes=[programme("mchem")], audience_units=[]
    )
    assert _audience_of(faculty_event) == {"mchem"}

    admin = persona("admin")
    central = make_event(by=admin, starts_at=at(monday, 14), unit=unit("careers"), open_to_all=True)
    assert central.audience.open_to_all
    by_admin = make_event(by=admin, starts_at=at(monday, 16), audience_units=[unit("history")])
    assert _audience_of(by_admin) == {"history"}


@pytest.mark.django_db
def test_only_a_central_service_reaches_everyone_by_its_place_in_the_tree(tom, monday):
    """A unit with no school or faculty above it is not thereby central: its events
    reach its own branch, and a central service's operator (not an administrator)
    reaches every student."""
    from mycareer.accounts.models import StaffMembership, Unit

    lonely = Unit.objects.create(code="lonely", name="Lonely Department", kind="department")
    StaffMembership.objects.create(user=tom, unit=lonely)
    for audience in ({"open_to_all": True}, {"audience_units": [unit("history")]}):
        with pytest.raises(ValidationError, match="Lonely Department"):
            services.event_create(
                by=tom,
                title="Lonely",
                unit=lonely,
                venue="Room 1",
                starts_at=at(monday, 10),
                ends_at=at(monday, 11),
                **audience,
            )
    StaffMembership.objects.create(user=tom, unit=unit("careers"))
    tom = type(tom).objects.get(pk=tom.pk)  # memberships are read once per person
    central = make_event(by=tom, starts_at=at(monday, 12), unit=unit("careers"), open_to_all=True)
    assert central.audience.open_to_all
    assert services.event_update(
        event=central, by=tom, open_to_all=False, audience_units=[unit("history")]
    )


@pytest.mark.django_db
def test_what_an_event_already_reaches_stays_when_it_is_edited(tom, persona, monday):
    """Saved unchanged, narrowed, or given back a unit whose operators accepted: no
    refusal. An administrator's wider audience is kept by an operator's edit."""
    admin = persona("admin")
    event = make_event(
        by=tom, starts_at=at(monday, 10), audience_units=[unit("mech")], publish=True
    )
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_decide(request=request, accept=True, by=persona("mailer"))
    assert _audience_of(event) == {"mech", "lubs"}
    assert (
        services.event_update(event=event, by=tom, audience_units=[unit("mech"), unit("lubs")])
        == {}
    )
    services.event_update(event=event, by=tom, audience_units=[unit("mech")])
    # Asking again is not needed: the edit page takes it back in.
    for asked in ("lubs", "accounting"):
        with pytest.raises(ValidationError, match="Business School accepted on .*tick Business"):
            services.opening_request_create(event=event, unit=unit(asked), by=tom)
    services.event_update(
        event=event,
        by=tom,
        audience_units=[unit("mech"), unit("accounting")],
        audience_programmes=[programme("ba-mgmt")],
    )
    assert _audience_of(event) == {"mech", "accounting", "ba-mgmt"}

    wide = make_event(by=tom, starts_at=at(monday, 14), open_to_all=True)
    assert wide.audience.open_to_all
    services.event_update(event=wide, by=tom, title="Still for everyone")
    services.event_update(event=wide, by=tom, open_to_all=False, audience_units=[unit("music")])
    assert _audience_of(wide) == {"music"}
    named = make_event(by=admin, starts_at=at(monday, 16), audience_units=[unit("history")])
    services.event_update(event=named, by=tom, title="Renamed, same students")
    assert _audience_of(named) == {"history"}
    with pytest.raises(ValidationError, match="School of English is not yours"):
        services.event_update(
            event=named, by=tom, audience_units=[unit("history"), unit("english")]
        )


@pytest.mark.django_db
def test_an_event_that_has_started_is_not_opened_to_another_unit(tom, monday):
    """Its booking closed when it started: the other unit's operators were asked, and their
    students told, of an event they could no longer book."""
    event = make_event(by=tom, title="Under way", starts_at=at(monday, 10), publish=True)
    started = timezone.now() - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=event.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    with pytest.raises(ValidationError) as refused:
        services.opening_request_create(event=event, unit=unit("ahc"), by=tom)
    assert refused.value.code == "started"
    assert "Under way has started: its students can no longer book" in refused.value.messages[0]
    assert not OpeningRequest.objects.filter(event=event).exists()


@pytest.mark.django_db
def test_a_request_made_before_the_start_is_not_accepted_after_it(tom, persona, monday):
    """Asked in time and answered late, accepting would still open a closed booking."""
    event = make_event(by=tom, title="Asked early", starts_at=at(monday, 10), publish=True)
    request = services.opening_request_create(event=event, unit=unit("ahc"), by=tom)
    started = timezone.now() - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=event.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    with pytest.raises(ValidationError) as refused:
        services.opening_request_decide(request=request, accept=True, by=persona("expiring"))
    assert refused.value.code == "started"
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.PENDING
    assert unit("ahc") not in event.audience.units.all()
    # Declining it is still an answer.
    services.opening_request_decide(
        request=request, accept=False, by=persona("expiring"), comment="Too late now"
    )
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.DECLINED


@pytest.mark.django_db
def test_a_declined_opening_changes_nobodys_calendar(tom, persona, monday):
    event = make_event(by=tom, title="Closed", starts_at=at(monday, 10), publish=True)
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_decide(
        request=request, accept=False, by=persona("mailer"), comment="Our own fair that day"
    )
    assert list(event.audience.units.all()) == [unit("mech")]
    assert not selectors.can_see_event(persona("student3"), event)
    assert actions(event)[-1] == "events.opening.declined"


@pytest.mark.django_db
def test_declining_to_open_an_event_says_why(tom, persona, monday):
    """A bare "declined" left the organiser guessing whether to ask again, or when."""
    event = make_event(by=tom, title="Closed", starts_at=at(monday, 10), publish=True)
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    with pytest.raises(ValidationError) as refused:
        services.opening_request_decide(
            request=request, accept=False, by=persona("mailer"), comment=" \n "
        )
    assert refused.value.message_dict == {"comment": [services.DECLINE_NEEDS_A_REASON]}
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.PENDING


@pytest.mark.django_db
def test_an_organiser_withdraws_a_request_and_may_ask_again(tom, persona, monday):
    """Asked the wrong unit, or plans changed: the other unit has nothing left to answer."""
    event = make_event(by=tom, title="Asked by mistake", starts_at=at(monday, 10), publish=True)
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_withdraw(request=request, by=tom, reason=" Wrong school \n")
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.WITHDRAWN
    assert request.withdrawn_by == tom and request.withdrawn_reason == "Wrong school"
    assert request.withdrawn_at is not None and request.decided_by is None
    assert list(event.audience.units.all()) == [unit("mech")]
    assert actions(event)[-1] == "events.opening.withdrawn"
    entry = AuditEntry.objects.get(action="events.opening.withdrawn", object_id=str(event.pk))
    assert entry.data == {
        "request": request.pk,
        "unit": "Business School",
        "comment": "Wrong school",
    }
    assert entry.label == "Request to open the event to another unit withdrawn"

    # Withdrawing twice changes nothing and says who did it first.
    with pytest.raises(ValidationError, match=f"already withdrawn by {tom}"):
        services.opening_request_withdraw(request=request, by=persona("admin"))
    # The unit asked cannot answer it any more.
    with pytest.raises(ValidationError, match=f"Withdrawn by {tom} on .*nothing to answer"):
        services.opening_request_decide(request=request, accept=True, by=persona("mailer"))
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.WITHDRAWN and request.decided_by is None
    assert unit("lubs") not in event.audience.units.all()

    # Only a pending request counts as "already asked": the unit may be asked again.
    again = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    assert again.pk != request.pk and again.status == OpeningRequest.Status.PENDING
    services.opening_request_decide(request=again, accept=True, by=persona("mailer"))
    assert unit("lubs") in event.audience.units.all()


@pytest.mark.django_db
def test_a_person_named_in_a_withdrawal_reason_is_found_for_erasure(tom, persona, monday):
    """The reason is free text the operators read: erasing the organiser named in it finds
    it there, as in the request's message and the answer's comment."""
    from mycareer.audit.erasure import find_mentions
    from mycareer.audit.personal_data import subject_from_ids

    event = make_event(by=tom, title="Asked by mistake", starts_at=at(monday, 10), publish=True)
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_withdraw(
        request=request, by=tom, reason=f"{tom.full_name} is away that week"
    )
    found = find_mentions(subject_from_ids([tom.pk], []))
    assert any(
        m.model == "events.OpeningRequest" and m.field == "withdrawn_reason" for m in found
    ), [(m.model, m.field) for m in found]


@pytest.mark.django_db
def test_an_answered_request_is_not_withdrawn(tom, persona, monday):
    """An accepted opening stays: the organiser narrows the audience on the edit page."""
    grace = persona("mailer")
    event = make_event(by=tom, title="Answered", starts_at=at(monday, 10), publish=True)
    accepted = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_decide(request=accepted, accept=True, by=grace)
    with pytest.raises(ValidationError) as refused:
        services.opening_request_withdraw(request=accepted, by=tom)
    assert refused.value.code == "accepted"
    assert refused.value.messages[0].startswith(f"This request was already accepted by {grace} on ")
    assert "change the event's audience" in refused.value.messages[0]
    accepted.refresh_from_db()
    assert accepted.status == OpeningRequest.Status.ACCEPTED
    assert unit("lubs") in event.audience.units.all()

    declined = services.opening_request_create(event=event, unit=unit("ahc"), by=tom)
    services.opening_request_decide(
        request=declined, accept=False, by=persona("expiring"), comment="Not for us"
    )
    with pytest.raises(ValidationError, match="already declined by .* nothing to withdraw"):
        services.opening_request_withdraw(request=declined, by=tom)
    declined.refresh_from_db()
    assert declined.status == OpeningRequest.Status.DECLINED
    assert "events.opening.withdrawn" not in actions(event)


@pytest.mark.django_db
def test_cancelling_an_event_withdraws_its_waiting_requests_only(tom, persona, monday):
    """A request still waiting stayed "Waiting for an answer" though none could be given."""
    event = make_event(by=tom, title="Soon cancelled", starts_at=at(monday, 10), publish=True)
    declined = services.opening_request_create(event=event, unit=unit("history"), by=tom)
    services.opening_request_decide(
        request=declined, accept=False, by=persona("expiring"), comment="Not for us"
    )
    accepted = services.opening_request_create(event=event, unit=unit("ahc"), by=tom)
    services.opening_request_decide(request=accepted, accept=True, by=persona("expiring"))
    waiting = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    helen = persona("manager")
    services.event_cancel(event=event, by=helen, reason="The speaker is ill")

    waiting.refresh_from_db()
    assert waiting.status == OpeningRequest.Status.WITHDRAWN
    assert waiting.withdrawn_by == helen and waiting.withdrawn_at is not None
    assert waiting.withdrawn_reason == services.EVENT_CANCELLED
    assert waiting.decided_by is None
    assert actions(event)[-2:] == ["events.event.cancelled", "events.opening.withdrawn"]
    entry = AuditEntry.objects.get(action="events.opening.withdrawn", object_id=str(event.pk))
    assert entry.actor == helen
    assert entry.data == {
        "request": waiting.pk,
        "unit": "Business School",
        "comment": "The event was cancelled.",
    }
    # Answered requests keep their answer.
    declined.refresh_from_db()
    accepted.refresh_from_db()
    assert declined.status == OpeningRequest.Status.DECLINED and declined.withdrawn_by is None
    assert accepted.status == OpeningRequest.Status.ACCEPTED and accepted.withdrawn_by is None
    assert unit("ahc") in event.audience.units.all()


@pytest.mark.django_db
def test_a_draft_cancelled_by_nobody_in_particular_withdraws_its_requests(tom, monday):
    """Cancelled from a command, with nobody signed in: withdrawn all the same."""
    event = make_event(by=tom, title="Draft", starts_at=at(monday, 10))
    waiting = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.event_cancel(event=event, by=None, reason="Plans changed")
    waiting.refresh_from_db()
    assert waiting.status == OpeningRequest.Status.WITHDRAWN and waiting.withdrawn_by is None


@pytest.mark.django_db(transaction=True)
def test_withdrawing_and_answering_at_once_have_one_outcome(cast, tom, persona, monday):
    """The organiser withdraws while the other unit accepts: one wins, the other is told."""
    event = make_event(by=tom, title="Raced", starts_at=at(monday, 10), publish=True)
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    grace = persona("mailer")
    results, _ = at_once(
        [
            lambda: services.opening_request_withdraw(request=request, by=tom),
            lambda: services.opening_request_decide(request=request, accept=True, by=grace),
        ]
    )
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    request.refresh_from_db()
    assert request.status in (OpeningRequest.Status.WITHDRAWN, OpeningRequest.Status.ACCEPTED)
    opened = unit("lubs") in Event.objects.get(pk=event.pk).audience.units.all()
    assert opened == (request.status == OpeningRequest.Status.ACCEPTED)


@pytest.mark.django_db
def test_who_is_asked_to_open_an_event_to_a_unit(persona):
    from mycareer.events.tasks import operators_answering_for

    assert operators_answering_for(unit("mech").pk) == [persona("operator")]
    # A department with no operators of its own: the school above it answers.
    assert operators_answering_for(unit("accounting").pk) == [persona("mailer")]
    # History's only member is a viewer; the faculty's operator answers.
    assert operators_answering_for(unit("history").pk) == [persona("expiring")]
    # Nobody at the Faculty of Business itself: the administrators are asked.
    assert operators_answering_for(unit("business").pk) == [persona("admin")]


@pytest.mark.django_db
def test_resetting_the_feed_token_is_audited(persona):
    student = persona("student")
    old = student.feed_token
    new = services.feed_token_reset(user=student, by=student)
    student.refresh_from_db()
    assert student.feed_token == new != old
    assert AuditEntry.objects.filter(action="events.feed_token.reset", person=student).exists()


@pytest.mark.django_db
def test_students_see_their_audience_and_opened_events_only(tom, persona, monday):
    aisha, oliver, james = persona("student"), persona("student2"), persona("student4")
    mine = make_event(by=tom, title="For mech", starts_at=at(monday, 10), publish=True)
    year2 = make_event(
        by=tom,
        title="Mech year 2",
        starts_at=at(monday + datetime.timedelta(days=7), 14),
        audience_years=[2],
        publish=True,
    )
    draft = make_event(by=tom, title="Mech draft", starts_at=at(monday, 16))
    for_all = make_event(
        by=persona("admin"),
        title="All",
        unit=unit("careers"),
        starts_at=at(monday + datetime.timedelta(days=3), 10),
        open_to_all=True,
        publish=True,
    )
    visible = set(selectors.visible_events(aisha))
    assert {mine, for_all} <= visible
    assert year2 not in visible and draft not in visible  # Aisha is in year 3
    assert set(selectors.visible_events(oliver)) >= {for_all}
    assert mine not in set(selectors.visible_events(james))
    # Staff see drafts of their own units only; administrators see all.
    assert draft in set(selectors.visible_events(persona("manager")))  # faculty of mech
    assert draft not in set(selectors.visible_events(persona("viewer")))  # history
    assert draft in set(selectors.visible_events(persona("admin")))
    assert draft not in set(selectors.visible_events(persona("employer")))


@pytest.mark.django_db
def test_employers_see_events_of_their_organisation(tom, persona, monday, brightwave):
    event = make_event(
        by=tom, title="With Brightwave", starts_at=at(monday, 10), organisations=[brightwave]
    )
    employer = persona("employer")
    assert event not in set(selectors.visible_events(employer))  # a draft
    services.event_publish(event=event, by=tom)
    assert event in set(selectors.visible_events(employer))


@pytest.mark.django_db
@pytest.mark.usefixtures("brightwave")
def test_employers_see_the_events_open_to_employers_or_the_public(tom, persona, client):
    """An event marked "Employers take part or may attend" was missing from an employer's
    calendar, and opening it gave a bare 404, though its public page worked."""
    from django.urls import reverse

    def week(n):  # a week apart, so none clashes with another
        return at(far_monday() + datetime.timedelta(weeks=n), 10)

    for_employers = make_event(
        by=tom, title="Meet the engineers", starts_at=week(0), open_to_employers=True
    )
    for_public = make_event(by=tom, title="Open lecture", starts_at=week(1), open_to_public=True)
    students_only = make_event(by=tom, title="Students only", starts_at=week(2))
    for event in (for_employers, for_public, students_only):
        services.event_publish(event=event, by=tom)
    employer = persona("employer")
    visible = set(selectors.visible_events(employer))
    assert {for_employers, for_public} <= visible
    assert students_only not in visible
    client.force_login(employer)
    assert client.get(reverse("events:detail", args=[for_employers.pk])).status_code == 200


@pytest.mark.django_db
def test_merging_organisations_moves_their_events(tom, monday):
    old = organisation("Old Name Ltd")
    survivor = organisation("New Name Ltd")
    event = make_event(by=tom, starts_at=at(monday, 10), organisations=[old])
    organisation_services.organisation_merge(survivor=survivor, other=old, keep={}, by=tom)
    assert list(event.organisations.all()) == [survivor]


@pytest.mark.django_db
def test_an_organisation_merged_away_is_refused_naming_the_one_it_became(tom, monday):
    old = organisation("Old Name Ltd")
    survivor = organisation("New Name Ltd")
    organisation_services.organisation_merge(survivor=survivor, other=old, keep={}, by=tom)
    refusal = "Old Name Ltd was merged into New Name Ltd: name New Name Ltd instead."
    with pytest.raises(ValidationError) as refused:
        make_event(by=tom, starts_at=at(monday, 10), organisations=[old])
    assert refused.value.message_dict == {"organisations": [refusal]}
    event = make_event(by=tom, starts_at=at(monday, 10), organisations=[survivor])
    with pytest.raises(ValidationError) as refused:
        services.event_update(event=event, by=tom, organisations=[survivor, old])
    assert refused.value.message_dict == {"organisations": [refusal]}
    assert list(event.organisations.all()) == [survivor]


@pytest.mark.django_db
def test_the_merged_check_locks_the_organisations_so_a_merge_under_way_is_waited_for(tom, monday):
    """Read unlocked, an event that checked while a merge held both records went onto
    the merged-away one once the merge committed: the check asks for their rows' locks."""
    old = organisation("Old Name Ltd")
    survivor = organisation("New Name Ltd")
    fetched_before = Organisation.objects.get(pk=old.pk)
    organisation_services.organisation_merge(survivor=survivor, other=old, keep={}, by=tom)
    with row_locks() as asked, pytest.raises(ValidationError):
        make_event(by=tom, starts_at=at(monday, 10), organisations=[fetched_before])
    assert Organisation in asked
    event = make_event(by=tom, starts_at=at(monday, 10), organisations=[survivor])
    with row_locks() as asked, pytest.raises(ValidationError):
        services.event_update(event=event, by=tom, organisations=[survivor, fetched_before])
    assert Organisation in asked


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # about the demo data itself: its term tells a story
def test_the_demo_term_has_a_clash_an_opening_and_a_cancellation(cast):
    events = cast["events"]
    assert len(events) >= 20
    [override] = ClashOverride.objects.filter(
        event=events["Northbridge Engineering: industrial placement talk"]
    )
    assert override.other == events["Stratos Aerospace: graduate scheme presentation"]
    assert OpeningRequest.objects.filter(status=OpeningRequest.Status.ACCEPTED).exists()
    assert OpeningRequest.objects.filter(status=OpeningRequest.Status.PENDING).exists()
    assert Event.objects.filter(status=Event.Status.CANCELLED).exists()
    draft = events["Robotics industry evening"]
    assert draft.status == Event.Status.DRAFT
    from mycareer.events.clashes import find_clashes

    assert find_clashes(draft)
    today = timezone.localdate()
    assert Event.objects.filter(starts_at__date__gte=today).count() >= 10
    assert Event.objects.filter(starts_at__date__lt=today).exists()


# Emails: a real SMTP server and the real task worker ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_other_organiser_is_emailed_the_reason(persona, cast, smtp_server, run_worker):
    tom, helen = persona("operator"), persona("manager")
    monday = far_monday()
    make_event(
        by=helen,
        title="Helen's talk",
        unit=unit("eps"),
        starts_at=at(monday, 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    mine = make_event(by=tom, title="Tom's talk", starts_at=at(monday, 12, 30))
    services.event_publish(event=mine, by=tom, override_reason="Only date the speaker has")
    run_worker()
    mails = [
        m
        for m in smtp_server.wait_for(1)
        if m["Subject"] == "[MyCareer] Tom's talk clashes with your event Helen's talk"
    ]
    assert len(mails) == 1
    assert mails[0]["To"] == "manager@demo.ac.uk"
    assert mails[0]["Reply-To"] == "operator@demo.ac.uk"
    body = mails[0].get_content()
    assert "Only date the speaker has" in body
    assert "Same audience: School of Mechanical Engineering" in body


@pytest.mark.django_db
def test_an_organiser_who_switched_clash_emails_off_is_not_said_to_be_emailed(
    clashing_pair, tom, helen
):
    """The publisher read "Helen will be told your reason by email"; she never was."""
    from mycareer.events.clashes import organisers_to_tell

    theirs, _ = clashing_pair
    assert organisers_to_tell([theirs], tom) == [helen]
    helen.notifications_off = ["events.clash_override"]
    helen.save(update_fields=["notifications_off"])
    assert organisers_to_tell([Event.objects.get(pk=theirs.pk)], tom) == []


@pytest.mark.django_db
def test_in_the_daily_digest_the_clash_names_whom_to_write_to(
    clashing_pair, tom, helen, django_capture_on_commit_callbacks
):
    """The digest comes from MyCareer: replying to it would not reach the colleague."""
    from mycareer.accounts.models import NotificationMode, PendingNotification
    from mycareer.events.tasks import send_clash_override_emails

    helen.notification_mode = NotificationMode.DIGEST
    helen.save(update_fields=["notification_mode"])
    theirs, mine = clashing_pair
    services.event_publish(event=mine, by=tom, override_reason="Only date they have")
    send_clash_override_emails.call([ClashOverride.objects.get(event=mine).pk])
    [item] = PendingNotification.objects.filter(user=helen)
    assert f"write to them at {tom.email} to talk it over" in item.body
    assert "reply to this email" not in item.body


@pytest.mark.django_db(transaction=True)
def test_cancelling_emails_each_person_once_even_if_the_task_runs_again(
    persona, cast, smtp_server, run_worker
):
    from mycareer.events.models import CancellationNotice

    tom, ada, bo = persona("operator"), persona("student"), persona("student2")
    event = make_event(by=tom, title="Soon cancelled", starts_at=at(far_monday(), 10), publish=True)

    def ended(cancelled_event, *, by, now):
        assert cancelled_event.pk == event.pk and by == tom
        return [(ada, "your place"), (ada, "your place"), (bo, "your place on the waiting list")]

    registry.register_cancellation_handler(
        registry.CancellationHandler(describe=lambda e: [], end=ended), name="test-booked"
    )
    try:
        services.event_cancel(event=event, by=tom, reason="The speaker is ill")
    finally:
        registry.unregister_cancellation_handler(name="test-booked")
    run_worker()
    # The task again (a retry, a restarted worker): nobody is told twice.
    tasks.send_cancellation_emails.enqueue(event.pk)
    run_worker()
    mails = [
        m for m in smtp_server.wait_for(2) if m["Subject"] == "[MyCareer] Cancelled: Soon cancelled"
    ]
    assert sorted(m["To"] for m in mails) == ["student2@demo.ac.uk", "student@demo.ac.uk"]
    bodies = {m["To"]: m.get_body(preferencelist=("plain",)).get_content() for m in mails}
    assert "The speaker is ill" in bodies["student@demo.ac.uk"]
    assert "has been cancelled, and your place with it." in bodies["student@demo.ac.uk"]
    assert "and your place on the waiting list with it" in bodies["student2@demo.ac.uk"]
    # Each carries a file that marks the event cancelled in a calendar it was added to.
    for mail in mails:
        (ics,) = [a for a in mail.iter_attachments() if a.get_filename() == "event-cancelled.ics"]
        (vevent,) = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
        assert vevent["UID"] == event.ical_uid and vevent["STATUS"] == "CANCELLED"
        assert vevent["SEQUENCE"] == 1  # above the event's own when it was added
    assert not CancellationNotice.objects.filter(event=event, sent_at__isnull=True).exists()
    entry = AuditEntry.objects.get(action="events.event.cancelled", object_id=str(event.pk))
    assert entry.data == {"reason": "The speaker is ill", "people_told": 2}


def test_the_organiser_is_told_when_a_colleague_cancels_their_event(
    tom, helen, persona, mailoutbox, django_capture_on_commit_callbacks
):
    """Helen (the faculty's) cancelled Tom's event: its people were emailed and asked to
    reply to Tom, who heard nothing and learnt of it from their replies."""
    from django_tasks_db.models import DBTaskResult

    ada = persona("student")
    event = make_event(by=tom, title="Soon cancelled", starts_at=at(far_monday(), 10), publish=True)
    registry.register_cancellation_handler(
        registry.CancellationHandler(describe=lambda e: [], end=lambda e, by, now: [(ada, "")]),
        name="test-booked",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.event_cancel(event=event, by=helen, reason="The hall is flooded")
    finally:
        registry.unregister_cancellation_handler(name="test-booked")
    [queued] = DBTaskResult.objects.filter(task_path__endswith="cancelled_by_colleague_email")
    assert queued.args_kwargs["args"] == [event.pk, helen.pk, 0]
    # Tom switched every optional email off: this one still comes, as it happens.
    tom.notifications_off = [tasks.OPENING_DECISION, tasks.CLASH_OVERRIDE]
    tom.save(update_fields=["notifications_off"])
    assert tasks.send_cancelled_by_colleague_email.call(event.pk, helen.pk) == 1
    assert tasks.send_cancelled_by_colleague_email.call(event.pk, helen.pk) == 0  # once
    [email] = [m for m in mailoutbox if "cancelled your event" in m.subject]
    assert email.to == [tom.email] and email.reply_to == [helen.email]
    assert email.subject.endswith("Helen Marsh cancelled your event Soon cancelled")
    assert "Their reason, which everyone with a place or on the waiting list was sent:" in (
        email.body
    )
    assert "The hall is flooded" in email.body
    assert "1 person was emailed, and asked to reply to you" in email.body
    assert f"/events/{event.pk}/" in email.body
    # Their own event: the organiser is not told what they did themselves.
    own = make_event(by=tom, title="Mine", starts_at=at(far_monday(), 14), publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=own, by=tom, reason="Not needed")
    queued = DBTaskResult.objects.filter(task_path__endswith="cancelled_by_colleague_email")
    assert queued.count() == 1


def test_the_organiser_is_not_told_everyone_was_sent_the_reason_when_nobody_was(
    tom, helen, mailoutbox, django_capture_on_commit_callbacks
):
    """With nobody booked or waiting, the email said "Their reason, which everyone with a
    place or on the waiting list was sent", a line below "nobody else was emailed"."""
    event = make_event(by=tom, title="Quiet one", starts_at=at(far_monday(), 10), publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event, by=helen, reason="The hall is flooded")
    assert tasks.send_cancelled_by_colleague_email.call(event.pk, helen.pk) == 1
    [email] = [m for m in mailoutbox if "cancelled your event" in m.subject]
    assert "Their reason:\nThe hall is flooded" in email.body
    assert "was sent" not in email.body
    assert "Nobody had a place or was on the waiting list, so nobody else was emailed." in (
        email.body
    )


def test_the_organiser_is_not_told_nobody_had_a_place_when_those_who_had_one_left(
    tom, helen, persona, mailoutbox, django_capture_on_commit_callbacks
):
    """Only leavers had places: the email said "Nobody had a place or was on the waiting
    list", of an event whose places it had just ended."""
    from django_tasks_db.models import DBTaskResult

    bo = persona("student2")
    bo.is_active = False
    bo.save(update_fields=["is_active"])
    event = make_event(by=tom, title="Left behind", starts_at=at(far_monday(), 10), publish=True)
    registry.register_cancellation_handler(
        registry.CancellationHandler(describe=lambda e: [], end=lambda e, by, now: [(bo, "")]),
        name="test-booked",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.event_cancel(event=event, by=helen, reason="The hall is flooded")
    finally:
        registry.unregister_cancellation_handler(name="test-booked")
    [queued] = DBTaskResult.objects.filter(task_path__endswith="cancelled_by_colleague_email")
    assert queued.args_kwargs["args"] == [event.pk, helen.pk, 1]
    assert tasks.send_cancelled_by_colleague_email.call(event.pk, helen.pk, 1) == 1
    [email] = [m for m in mailoutbox if "cancelled your event" in m.subject]
    assert "Nobody had a place" not in email.body
    assert (
        "1 person who had a place or was on the waiting list can no longer sign in, so was "
        "not emailed." in email.body
    )


def test_cancelling_emails_nobody_who_can_no_longer_sign_in(persona, cast, mailoutbox):
    """As the change emails: a leaver's place ends, but no email goes to them."""
    from mycareer.events.models import CancellationNotice

    tom, ada, bo = persona("operator"), persona("student"), persona("student2")
    event = make_event(by=tom, title="Soon cancelled", starts_at=at(far_monday(), 10), publish=True)
    bo.is_active = False
    bo.save(update_fields=["is_active"])
    registry.register_cancellation_handler(
        registry.CancellationHandler(
            describe=lambda e: [], end=lambda e, by, now: [(ada, "your place"), (bo, "your place")]
        ),
        name="test-booked",
    )
    try:
        services.event_cancel(event=event, by=tom, reason="The speaker is ill")
    finally:
        registry.unregister_cancellation_handler(name="test-booked")
    assert [n.person for n in CancellationNotice.objects.filter(event=event)] == [ada]
    entry = AuditEntry.objects.get(action="events.event.cancelled", object_id=str(event.pk))
    assert entry.data["people_told"] == 1
    # Closed between the cancellation and the email: not sent either.
    ada.is_active = False
    ada.save(update_fields=["is_active"])
    assert tasks.send_cancellation_emails.call(event.pk) == 0
    assert not [m for m in mailoutbox if m.subject.endswith("Cancelled: Soon cancelled")]
    assert not CancellationNotice.objects.filter(event=event, sent_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_other_units_operators_are_asked_and_the_organiser_told(
    persona, cast, smtp_server, run_worker
):
    tom, grace = persona("operator"), persona("mailer")
    event = make_event(by=tom, title="Open to business", starts_at=at(far_monday(), 10))
    request = services.opening_request_create(
        event=event, unit=unit("accounting"), by=tom, message="Finance roles too"
    )
    run_worker()
    asked = [
        m
        for m in smtp_server.wait_for(1)
        if m["Subject"]
        == "[MyCareer] Open Open to business to Department of Accounting and Finance?"
    ]
    # Nobody works in the department itself: the Business School's operator is asked.
    assert [m["To"] for m in asked] == ["mailer@demo.ac.uk"]
    assert "Finance roles too" in asked[0].get_content()
    assert f"/events/openings/{request.pk}/" in asked[0].get_content()
    services.opening_request_decide(request=request, accept=True, by=grace, comment="Gladly")
    run_worker()
    told = [
        m
        for m in smtp_server.wait_for(2)
        if m["Subject"]
        == "[MyCareer] Department of Accounting and Finance accepted opening Open to business"
    ]
    assert [m["To"] for m in told] == ["operator@demo.ac.uk"]
    assert "Gladly" in told[0].get_content()


@pytest.mark.django_db(transaction=True)
def test_the_operators_asked_are_told_when_the_request_is_withdrawn(
    persona, cast, smtp_server, run_worker
):
    tom = persona("operator")
    event = make_event(by=tom, title="Open to business", starts_at=at(far_monday(), 10))
    request = services.opening_request_create(event=event, unit=unit("accounting"), by=tom)
    run_worker()
    assert len(smtp_server.wait_for(1)) == 1
    services.opening_request_withdraw(request=request, by=tom, reason="Asked the wrong school")
    run_worker()
    # The task again (a retry, a restarted worker): nobody is told twice.
    tasks.send_opening_withdrawn_emails.enqueue(request.pk)
    run_worker()
    withdrawn = [
        m
        for m in smtp_server.wait_for(2)
        if m["Subject"]
        == "[MyCareer] Withdrawn: open Open to business to Department of Accounting and Finance?"
    ]
    # The Business School's operator was asked for the department, so she is told.
    assert [m["To"] for m in withdrawn] == ["mailer@demo.ac.uk"]
    assert withdrawn[0]["Reply-To"] == "operator@demo.ac.uk"
    body = withdrawn[0].get_content()
    assert "has withdrawn the request" in body and "Asked the wrong school" in body
    assert f"/events/openings/{request.pk}/" in body


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_reaches_exactly_those_asked_not_who_would_be_asked_now(
    persona, cast, smtp_server, run_worker
):
    """Asked for a unit with no operators of its own: those asked in its place are told,
    at their address now, and an operator who joined the unit since is not."""
    from mycareer.accounts.models import AccessLevel, TermsVersion, User
    from mycareer.accounts.tests.factories import StaffFactory

    tom, grace = persona("operator"), persona("mailer")
    event = make_event(by=tom, title="Open to business", starts_at=at(far_monday(), 10))
    request = services.opening_request_create(event=event, unit=unit("accounting"), by=tom)
    run_worker()
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["mailer@demo.ac.uk"]
    newcomer = StaffFactory(
        email="newcomer@demo.ac.uk",
        units=[unit("accounting")],
        level=AccessLevel.OPERATOR,
        operator_days=10,
        terms=TermsVersion.objects.get(version="2.1"),
    )
    assert tasks.operators_answering_for(unit("accounting").pk) == [newcomer]
    User.objects.filter(pk=grace.pk).update(email="grace.new@demo.ac.uk")
    services.opening_request_withdraw(request=request, by=tom, reason="Asked the wrong school")
    run_worker()
    # The task again (a retry, a restarted worker): nobody is told twice.
    tasks.send_opening_withdrawn_emails.enqueue(request.pk)
    run_worker()
    mails = smtp_server.wait_for(3, timeout=2)
    assert [m["To"] for m in mails[1:]] == ["grace.new@demo.ac.uk"]
    assert mails[1]["Subject"].startswith("[MyCareer] Withdrawn: open Open to business")


@pytest.mark.django_db(transaction=True)
def test_the_operators_asked_are_told_once_when_the_event_is_cancelled(
    persona, cast, smtp_server, run_worker
):
    tom = persona("operator")
    event = make_event(by=tom, title="Open to business", starts_at=at(far_monday(), 10))
    request = services.opening_request_create(event=event, unit=unit("accounting"), by=tom)
    run_worker()
    assert len(smtp_server.wait_for(1)) == 1
    services.event_cancel(event=event, by=tom, reason="The speaker is ill")
    run_worker()
    # The task again (a retry, a restarted worker): nobody is told twice.
    tasks.send_opening_withdrawn_emails.enqueue(request.pk)
    run_worker()
    mails = smtp_server.wait_for(3, timeout=2)
    withdrawn = [
        m
        for m in mails
        if m["Subject"]
        == "[MyCareer] Withdrawn: open Open to business to Department of Accounting and Finance?"
    ]
    assert len(mails) == 2, [m["Subject"] for m in mails]
    assert [m["To"] for m in withdrawn] == ["mailer@demo.ac.uk"]
    assert withdrawn[0]["Reply-To"] == "operator@demo.ac.uk"
    body = withdrawn[0].get_content()
    assert "There is nothing for you to answer" in body
    assert "School of Mechanical Engineering cancelled the event they asked you" in body
    assert "Their reason" not in body


@pytest.mark.django_db(transaction=True)
def test_a_request_withdrawn_before_anyone_was_asked_emails_nobody(
    persona, cast, smtp_server, run_worker
):
    """Withdrawn before the worker sent it: nobody was asked, so nobody is told."""
    tom = persona("operator")
    event = make_event(by=tom, title="Changed my mind", starts_at=at(far_monday(), 10))
    request = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_withdraw(request=request, by=tom)
    run_worker()
    assert smtp_server.wait_for(1, timeout=1) == []


@pytest.mark.django_db(transaction=True)
def test_two_clashing_drafts_published_at_once_cannot_both_skip_the_reason(cast, tom, helen):
    """Each check sees the other's event once it is in the calendar, never before."""
    starts = at(far_monday(), 13)
    robots = organisation("Clashing Robotics Ltd")
    people = (tom, helen)
    drafts = [
        make_event(by=person, starts_at=starts, title=f"Robotics talk {n}", organisations=[robots])
        for n, person in enumerate(people)
    ]
    results, _ = at_once(
        [
            lambda d=d, p=p: services.event_publish(event=d, by=p)
            for d, p in zip(drafts, people, strict=True)
        ]
    )
    published = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, ClashesFound)]
    assert (len(published), len(refused)) == (1, 1), results
    assert Event.objects.filter(pk__in=[d.pk for d in drafts], status="published").count() == 1


@pytest.mark.django_db
def test_a_clash_already_gone_ahead_with_is_not_asked_about_again(
    clashing_pair, tom, persona, monday, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path__endswith="send_clash_override_emails")

    def emails() -> int:
        return queued.count()

    theirs, mine = clashing_pair
    with django_capture_on_commit_callbacks(execute=True):
        services.event_publish(event=mine, by=tom, override_reason="Only date they have")
    assert emails() == 1
    # Moved by half an hour, and retitled: the same clash, so no reason and no email.
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(
            event=mine, by=tom, starts_at=at(monday, 12), ends_at=at(monday, 13), title="Tom's"
        )
    assert emails() == 1
    assert ClashOverride.objects.filter(event=mine).count() == 1
    # Moved to another week, where another organiser's event is: a new clash, asked about.
    week = monday + datetime.timedelta(days=7)
    third = make_event(
        by=persona("admin"),
        title="Careers Centre talk",
        unit=unit("careers"),
        starts_at=at(week, 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    with pytest.raises(ClashesFound) as raised:
        services.event_update(event=mine, by=tom, starts_at=at(week, 12), ends_at=at(week, 13))
    assert [c.other for c in raised.value.clashes] == [third]
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(
            event=mine,
            by=tom,
            starts_at=at(week, 12),
            ends_at=at(week, 13),
            override_reason="The room is only free then",
        )
    assert emails() == 2
    assert [o.other for o in ClashOverride.objects.filter(event=mine).order_by("pk")] == [
        theirs,
        third,
    ]
    # Someone else going ahead against my event also counts as accepted for me.
    mine.refresh_from_db()
    assert services.accepted_clashes(mine) == {theirs.pk, third.pk}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hours_ago", "said"),
    [(3, "Test event was on "), (0.5, "Test event started on ")],
    ids=["over", "under-way"],
)
def test_a_draft_whose_start_has_passed_is_not_published(tom, hours_ago, said):
    """A past date was published as if it were to come: students were told of it, invited
    to book and reminded. An event under way is refused too: nobody can come from its
    start any more."""
    starts = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=hours_ago)
    event = make_event(by=tom, starts_at=starts, minutes=60)
    assert services.publish_refusal(event).startswith(said)
    with pytest.raises(ValidationError, match="only an event still to come can be published") as e:
        services.event_publish(event=event, by=tom)
    assert e.value.code == "started"
    assert ("under way" in e.value.messages[0]) == (hours_ago < 1)
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT and event.published_at is None
    assert actions(event) == ["events.event.created"]
    # Moved to a date to come, it is published.
    services.event_update(
        event=event,
        by=tom,
        starts_at=starts + datetime.timedelta(days=2),
        ends_at=starts + datetime.timedelta(days=2, hours=1),
    )
    event.refresh_from_db()
    assert services.publish_refusal(event) == ""
    services.event_publish(event=event, by=tom)
    event.refresh_from_db()
    assert event.is_published


def test_a_cancellation_email_sends_questions_to_the_careers_centre_when_the_organiser_left(
    persona, cast, mailoutbox
):
    """It named the organiser and said "reply to this email", which went to them."""
    tom, ada = persona("operator"), persona("student")
    event = make_event(by=tom, title="Soon cancelled", starts_at=at(far_monday(), 10), publish=True)
    tom.is_active = False
    tom.save(update_fields=["is_active"])
    registry.register_cancellation_handler(
        registry.CancellationHandler(
            describe=lambda e: [], end=lambda e, by, now: [(ada, "your place")]
        ),
        name="test-booked",
    )
    try:
        services.event_cancel(event=event, by=persona("admin"), reason="The speaker is ill")
    finally:
        registry.unregister_cancellation_handler(name="test-booked")
    assert tasks.send_cancellation_emails.call(event.pk) == 1
    [message] = [m for m in mailoutbox if m.subject.endswith("Cancelled: Soon cancelled")]
    assert message.reply_to == []  # to the address it comes from: the Careers Centre
    assert str(tom) not in message.body and tom.email not in message.body
    assert "Reply to this email with any questions: it goes to the Careers Centre." in message.body
