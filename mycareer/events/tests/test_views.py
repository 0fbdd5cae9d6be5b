"""Calendar pages and organiser pages: who may do what, what students see, bounded queries."""

import datetime
import html
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.audit.models import AuditEntry
from mycareer.events import services
from mycareer.events.clashes import find_clashes
from mycareer.events.models import ClashOverride, Event, OpeningRequest
from mycareer.events.tests.factories import (
    EventFactory,
    at,
    far_monday,
    make_event,
    unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tom(persona):
    return persona("operator")


@pytest.fixture
def mech_draft(tom):
    return make_event(by=tom, title="Mech draft", starts_at=at(far_monday(), 10))


@pytest.fixture
def mech_published(tom):
    """A published event everyone signed in may see: every student, and employers."""
    return make_event(
        by=tom,
        title="Mech for all",
        starts_at=at(far_monday() + datetime.timedelta(days=3), 10),
        open_to_all=True,
        audience_units=[],
        open_to_employers=True,
        publish=True,
    )


@pytest.fixture
def taking_part(tom):
    """Organisations an operator names as taking part in an event, made as operators make
    them (so they are in the search index that offers close names)."""
    from mycareer.organisations.services import organisation_create

    return [
        organisation_create(by=tom, name=name, confirm_duplicates=True)
        for name in ("Northbridge Engineering Ltd", "Stratos Aerospace Systems")
    ]


def login(client, persona, who):
    if who != "anonymous":
        client.force_login(persona(who))


def form_data(**overrides) -> dict:
    day = far_monday() + datetime.timedelta(days=7)
    data = {
        "title": "Careers in rail",
        "type": Event.Type.WORKSHOP,
        "unit": str(unit("mech").pk),
        "starts_at": f"{day:%Y-%m-%d}T10:00",
        "ends_at": f"{day:%Y-%m-%d}T11:30",
        "venue": "Room 2",
        "online_url": "",
        "description": "All about rail.",
        "organisations": "",
        "new_topics": "Rail, Signalling",
        "audience_units": [str(unit("mech").pk)],
        "audience_years": ["2", "3"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# Who may do what -----------------------------------------------------------------------

CREATE = [
    ("anonymous", 302),
    ("student", 403),
    ("employer", 403),
    ("viewer", 403),
    ("untrained", 403),
    ("operator", 200),
    ("mailer", 200),  # an operator of another unit creates for their own units
    ("admin", 200),
]


@pytest.mark.parametrize(("who", "status"), CREATE)
def test_who_reaches_the_create_page(client, persona, who, status):
    login(client, persona, who)
    assert client.get(reverse("events:create")).status_code == status


# On a published event that everyone can see: only its unit's operators (a faculty
# member counts for its schools) and administrators may change it.
ORGANISE = [
    ("anonymous", 302),
    ("student", 403),
    ("employer", 403),
    ("viewer", 403),
    ("untrained", 403),
    ("operator", 200),
    ("manager", 200),
    ("mailer", 403),
    ("admin", 200),
]


@pytest.mark.parametrize(("who", "status"), ORGANISE)
@pytest.mark.parametrize("view", ["events:edit", "events:cancel", "events:opening_create"])
def test_who_may_organise_a_published_event(client, persona, mech_published, view, who, status):
    login(client, persona, who)
    assert client.get(reverse(view, args=[mech_published.pk])).status_code == status


@pytest.mark.parametrize(("who", "status"), [(w, 403) for w in ("student", "mailer", "viewer")])
def test_refused_people_cannot_post_either(client, persona, mech_published, who, status):
    login(client, persona, who)
    response = client.post(
        reverse("events:cancel", args=[mech_published.pk]), {"reason": "Because I can"}
    )
    assert response.status_code == status
    mech_published.refresh_from_db()
    assert mech_published.status == Event.Status.PUBLISHED
    response = client.post(reverse("events:edit", args=[mech_published.pk]), form_data())
    assert response.status_code == status
    mech_published.refresh_from_db()
    assert mech_published.title == "Mech for all"


@pytest.mark.parametrize("who", ["student", "mailer", "viewer", "untrained", "employer"])
def test_only_its_organisers_can_publish_a_draft(client, persona, mech_draft, who):
    login(client, persona, who)
    response = client.post(
        reverse("events:publish", args=[mech_draft.pk]), {"override_reason": "Let me"}
    )
    assert response.status_code == 404  # they cannot even know the draft exists
    mech_draft.refresh_from_db()
    assert mech_draft.is_draft


# Drafts: only staff of the unit (or above it) and administrators know they exist.
DRAFT = [
    ("anonymous", 302, 302),
    ("student", 404, 404),
    ("employer", 404, 404),
    ("viewer", 404, 200),  # a viewer in History reads History's drafts
    ("untrained", 404, 404),
    ("operator", 200, 404),
    ("manager", 200, 404),
    ("mailer", 404, 404),
    ("admin", 200, 200),
]


@pytest.mark.parametrize(("who", "mech_status", "history_status"), DRAFT)
def test_who_sees_drafts(client, persona, mech_draft, who, mech_status, history_status):
    history_draft = make_event(
        by=persona("expiring"),
        title="History draft",
        unit=unit("history"),
        starts_at=at(far_monday(), 14),
    )
    login(client, persona, who)
    assert client.get(mech_draft.get_absolute_url()).status_code == mech_status
    assert client.get(history_draft.get_absolute_url()).status_code == history_status
    publish = client.get(reverse("events:publish", args=[mech_draft.pk])).status_code
    assert publish == {200: 200, 302: 302}.get(mech_status, 404)


def test_an_organisation_taking_part_is_linked_only_for_who_can_open_its_profile(
    client, persona, tom, brightwave
):
    from mycareer.events.tests.factories import organisation
    from mycareer.organisations.permissions import public_profiles_open_to

    other = organisation("Kirkstall Robotics")
    archived = organisation("Old Works Ltd")
    archived.status = "archived"
    archived.save()
    event = make_event(
        by=tom,
        title="Meet the makers",
        starts_at=at(far_monday(), 10),
        open_to_all=True,
        audience_units=[],
        open_to_employers=True,
        organisations=[brightwave, other, archived],
        publish=True,
    )

    def linked(who: str) -> dict[str, int]:
        client.force_login(persona(who))
        body = client.get(event.get_absolute_url()).content.decode()
        found = {}
        for org in (brightwave, other, archived):
            assert org.name in body, (who, org.name)
            href = f'href="{org.get_absolute_url()}"'
            if href in body:
                found[org.name] = client.get(org.get_absolute_url()).status_code
        return found

    # Every link on the page opens for the person reading it.
    assert linked("employer") == {"Brightwave Digital": 200}
    assert linked("student") == {"Brightwave Digital": 200, "Kirkstall Robotics": 200}
    assert linked("operator") == {
        "Brightwave Digital": 200,
        "Kirkstall Robotics": 200,
        "Old Works Ltd": 200,
    }
    # The page asks for all of them at once; the answer is the rule's for each.
    orgs = [brightwave, other, archived]
    for who in ("employer", "student", "operator", "viewer", "mailer"):
        user = persona(who)
        assert public_profiles_open_to(user, orgs) == {
            org.pk for org in orgs if user.has_perm("organisations.view_public_profile", org)
        }, who


def test_a_draft_is_marked_and_hidden_from_students_on_the_calendar(client, persona, mech_draft):
    url = f"{reverse('events:month')}?month={mech_draft.starts_at:%Y-%m}"
    client.force_login(persona("operator"))
    body = client.get(url).content.decode()
    assert "Mech draft" in body and "Draft</span>" in body
    client.force_login(persona("student"))
    assert "Mech draft" not in client.get(url).content.decode()


# What students see ---------------------------------------------------------------------


@pytest.mark.usefixtures("term")
def test_a_student_sees_own_and_opened_events_but_not_drafts_or_closed_ones(
    client, persona, term_monday
):
    client.force_login(persona("student"))  # MEng Mechanical Engineering, year 3
    seen = ""
    for week in (term_monday, term_monday + datetime.timedelta(days=7)):
        response = client.get(f"{reverse('events:week')}?week={week:%Y-%m-%d}")
        assert response.status_code == 200
        seen += response.content.decode()
    assert "Stratos Aerospace: graduate scheme presentation" in seen  # their programme
    assert "Engineering and technology careers fair" in seen  # their faculty
    assert "Harrowgate Financial Group: insight day briefing" in seen  # opened to them
    assert "Robotics industry evening" not in seen  # a draft
    assert "History in the heritage sector" not in seen  # another faculty's, not opened
    history = Event.objects.get(title="History in the heritage sector: alumni panel")
    response = client.get(history.get_absolute_url())
    assert response.status_code == 403
    assert "This event is for other students" in response.content.decode()
    draft = Event.objects.get(title="Robotics industry evening")
    assert client.get(draft.get_absolute_url()).status_code == 404


@pytest.mark.usefixtures("term")
def test_the_history_student_does_not_see_engineering_events(client, persona):
    client.force_login(persona("student4"))
    response = client.get(f"{reverse('events:list')}?from=2000-01-01")
    body = response.content.decode()
    assert "History in the heritage sector" in body
    assert "Stratos Aerospace" not in body  # neither the event nor, in the filter, its employer
    assert "Campus careers fair" in body  # open to all


# The calendar pages ---------------------------------------------------------------------


def test_the_month_is_an_accessible_table_with_navigation(client, persona):
    client.force_login(persona("student"))
    response = client.get(reverse("events:month"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('<th scope="col">') >= 7
    assert '<th scope="row" class="calendar__week">' in body
    assert 'aria-current="date"' in body
    assert 'rel="prev"' in body and 'rel="next"' in body
    assert '<label for="id_type">Type</label>' in body
    assert 'aria-current="page">Events</a>' in body  # the navigation item
    next_month = re.search(r'href="\?month=(\d{4}-\d{2})[^"]*" rel="next"', body).group(1)
    assert client.get(f"{reverse('events:month')}?month={next_month}").status_code == 200


def test_an_event_past_midnight_shows_on_its_second_day_as_going_on_not_starting(
    client, persona, tom
):
    """An event from Sunday 23:30 to Monday 00:30 showed on Monday at "23:30" (the month)
    and "23:30–00:30" (the week), which a student reads as Monday night."""
    monday = far_monday()
    make_event(
        by=tom,
        title="Late hackathon",
        starts_at=at(monday - datetime.timedelta(days=1), 23, 30),
        publish=True,
    )
    client.force_login(persona("student"))
    body = client.get(reverse("events:week"), {"week": monday.isoformat()}).content.decode()
    monday_part = body[body.index(f"{monday:%A} {monday.day} {monday:%B}") :]
    monday_part = monday_part[: monday_part.index("</li>")]
    assert "Late hackathon" in monday_part
    assert ">23:30</time>–" not in monday_part
    assert "Until <time" in monday_part and ">00:30</time>, from <time" in monday_part
    sunday = client.get(
        reverse("events:week"), {"week": (monday - datetime.timedelta(days=7)).isoformat()}
    ).content.decode()
    assert ">23:30</time> to <time" in sunday and f"{monday:%A} {monday.day}" in sunday
    body = client.get(reverse("events:month"), {"month": f"{monday:%Y-%m}"}).content.decode()
    items = re.findall(r'<span class="calendar-item[^"]*"><a [^>]*>(.*?)</a>', body)
    shown = [html.unescape(re.sub("<[^>]+>", "", item)) for item in items]
    hackathon = [text for text in shown if "hackathon" in text]
    if monday.day > 1:  # Sunday is in the same month's grid either way
        assert hackathon == ["23:30 Late hackathon", "Until 00:30 Late hackathon"]


def test_an_event_over_days_ending_at_midnight_is_on_all_day_on_its_last_day():
    """Friday 18:00 to Sunday 00:00 read "Until 00:00" on Saturday, the start of that day;
    one evening ending at midnight stays on its one day, from its start."""
    from types import SimpleNamespace

    from mycareer.events.grids import WeekGrid

    friday = far_monday() + datetime.timedelta(days=4)
    saturday, sunday = friday + datetime.timedelta(days=1), friday + datetime.timedelta(days=2)
    weekend = SimpleNamespace(pk=1, starts_at=at(friday, 18), ends_at=at(sunday, 0))
    evening = SimpleNamespace(pk=2, starts_at=at(friday, 20), ends_at=at(saturday, 0))
    grid = WeekGrid(friday, today=friday)
    grid.place([weekend, evening])
    days = {day.date: day for day in grid.days}
    assert [e.pk for e in days[friday].events] == [1, 2]
    assert days[friday].ends_after == {1} and days[friday].started_before == set()
    assert [e.pk for e in days[saturday].events] == [1]
    assert days[saturday].started_before == {1} and days[saturday].ends_after == {1}
    assert days[sunday].events == []


@pytest.mark.parametrize("query", ["unit=nowhere", "year=9", "type=party"])
def test_bad_filter_values_still_show_a_calendar(client, persona, query):
    client.force_login(persona("operator"))
    assert client.get(f"{reverse('events:month')}?{query}").status_code == 200


@pytest.mark.parametrize(
    ("page", "name", "value", "back"),
    [
        ("events:month", "month", "2026-99", "Show this month"),
        ("events:month", "month", "nonsense", "Show this month"),
        ("events:month", "month", "9999-12", "Show this month"),
        ("events:week", "week", "zzz", "Show this week"),
        ("events:week", "week", "2026-02-31", "Show this week"),
        ("events:list", "from", "2026-13-45", "Show the events from today"),
        ("events:list", "from", "0001-01-01", "Show the events from today"),
    ],
)
def test_a_date_the_calendar_cannot_read_is_refused_by_name_not_ignored(
    client, persona, mech_published, page, name, value, back
):
    """`?month=2026-99`, `?week=zzz` or `?from=2026-13-45` showed the current month, week or
    day with no word, which a person takes for the one they asked for."""
    client.force_login(persona("operator"))
    response = client.get(reverse(page), {name: value, "unit": "mech", "page": "2"})
    body = response.content.decode()
    assert response.status_code == 400
    assert f"“{value}” is not a" in body and "the calendar can show: write" in body
    assert "Mech for all" not in body
    # A link back to the calendar, keeping the filters but not the date or page.
    assert f'<a class="button" href="{reverse(page)}?unit=mech">{back}</a>' in body
    # An empty date is no date: the page shows the current period, as without one.
    assert client.get(reverse(page), {name: ""}).status_code == 200


@pytest.mark.usefixtures("term")
def test_filters_narrow_the_list_and_carry_into_navigation(client, persona):
    client.force_login(persona("admin"))
    url = f"{reverse('events:list')}?from=2000-01-01&type=careers_fair"
    body = client.get(url).content.decode()
    assert "Engineering and technology careers fair" in body
    assert "Interview skills" not in body
    body = client.get(f"{reverse('events:month')}?type=careers_fair&unit=eps").content.decode()
    assert re.search(r'\?month=\d{4}-\d{2}&amp;unit=eps&amp;type=careers_fair" rel="next"', body)
    body = client.get(
        f"{reverse('events:list')}?from=2000-01-01&programme=meng-mech&year=3"
    ).content.decode()
    assert "Stratos Aerospace" in body and "Finance networking evening" not in body


@pytest.mark.usefixtures("term")
def test_the_organisation_filter_matches_part_of_a_name(client, persona):
    client.force_login(persona("admin"))
    body = client.get(
        f"{reverse('events:list')}?from=2000-01-01&organisation=robotic"
    ).content.decode()
    assert "Kirkstall Robotics: automation in practice" in body
    assert "Interview skills" not in body
    # A name, not a list of every employer: the page stays small however many there are.
    assert 'name="organisation"' in body and "Any organisation" not in body


def test_a_filter_the_calendar_does_not_know_is_refused_by_name_not_ignored(
    client, persona, mech_published
):
    """A mistyped link (`?untis=lubs`) showed every event, as if they were the filtered ones."""
    client.force_login(persona("operator"))
    day = mech_published.local_start.date()
    own_parameters = {
        reverse("events:month"): {"month": f"{day:%Y-%m}"},
        reverse("events:week"): {"week": day.isoformat()},
        reverse("events:list"): {"from": day.isoformat(), "page": "1", "count": "exact"},
    }
    for url, own in own_parameters.items():
        refused = client.get(url, {**own, "untis": "lubs"})
        body = refused.content.decode()
        assert refused.status_code == 200, url
        assert "The calendar has a filter it does not know: “untis”." in body, url
        assert "No events are shown until the filters are corrected." in body, url
        assert "Mech for all" not in body, url
        # The page's own parameters are not filters, and a filter it knows still works.
        known = client.get(url, {**own, "unit": "mech"}).content.decode()
        assert "does not know" not in known and "Mech for all" in known, url
        assert "Mech for all" not in client.get(url, {**own, "unit": "lubs"}).content.decode()


def test_a_bad_filter_value_shows_why_and_no_events(client, persona, mech_published):
    client.force_login(persona("operator"))
    day = mech_published.local_start.date()
    body = client.get(
        reverse("events:list"), {"from": day.isoformat(), "type": "party"}
    ).content.decode()
    assert "Select a valid choice" in body
    assert "Mech for all" not in body


def test_pages_use_no_inline_scripts_or_styles(client, persona, mech_draft):
    client.force_login(persona("operator"))
    for url in (
        reverse("events:month"),
        reverse("events:week"),
        reverse("events:list"),
        reverse("events:create"),
        mech_draft.get_absolute_url(),
        reverse("events:publish", args=[mech_draft.pk]),
        reverse("events:free_slots", args=[mech_draft.pk]) + "?week=2030-01-07&duration=60",
        reverse("events:subscribe"),
    ):
        body = client.get(url).content.decode()
        assert " style=" not in body, url
        # Scripts come from static files (a strict CSP): no script element without src.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url


@pytest.mark.parametrize("who", ["student", "operator", "admin"])
def test_calendar_queries_stay_bounded_with_many_events(
    client, persona, who, django_assert_max_num_queries
):
    first = far_monday().replace(day=1)
    for n in range(150):
        EventFactory(starts_at=at(first + datetime.timedelta(days=n % 28), 9 + n % 8))
    client.force_login(persona(who))
    with django_assert_max_num_queries(16):
        response = client.get(f"{reverse('events:month')}?month={first:%Y-%m}")
    body = response.content.decode()
    # 150 events over 28 days: each day shows four, and links to the rest.
    assert body.count("Factory event") == 28 * 4
    assert body.count(">2 more<") == 10 and body.count(">1 more<") == 18
    assert f'href="{reverse("events:list")}?from={first:%Y-%m-%d}"' in body
    with django_assert_max_num_queries(16):
        response = client.get(f"{reverse('events:week')}?week={first:%Y-%m-%d}")
    assert response.status_code == 200
    with django_assert_max_num_queries(16):
        response = client.get(f"{reverse('events:list')}?from={first:%Y-%m-%d}")
    assert response.content.decode().count("Factory event") == 20


# Making and changing events -------------------------------------------------------------


@pytest.mark.usefixtures("taking_part")
def test_an_operator_creates_a_draft(client, tom):
    client.force_login(tom)
    response = client.post(
        reverse("events:create"),
        form_data(organisations="northbridge engineering ltd\nStratos Aerospace Systems"),
    )
    assert response.status_code == 302
    event = Event.objects.get(title="Careers in rail")
    assert response["Location"] == event.get_absolute_url()
    assert event.status == Event.Status.DRAFT
    assert event.audience.year_list == [2, 3]
    assert sorted(o.name for o in event.organisations.all()) == [
        "Northbridge Engineering Ltd",
        "Stratos Aerospace Systems",
    ]
    assert sorted(t.name for t in event.topics.all()) == ["Rail", "Signalling"]
    assert timezone.localtime(event.starts_at).hour == 10


def test_an_event_on_the_night_the_clocks_go_back_says_why_its_time_is_refused(client, tom):
    client.force_login(tom)
    response = client.post(
        reverse("events:create"),
        form_data(starts_at="2027-10-31T01:30", ends_at="2027-10-31T03:00"),
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "01:30 on 31 October 2027 happens twice in UK time" in body
    assert "may be ambiguous" not in body
    assert not Event.objects.filter(title="Careers in rail").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_at": None}, "This field is required"),
        ({"title": ""}, "This field is required"),
        ({"venue": ""}, "Give a venue, an online link, or both"),
        ({"audience_units": []}, "Choose who the event is for"),
        ({"organisations": "Nobody Ltd"}, "“Nobody Ltd” is not in MyCareer"),
        ({"online_url": "not a link at all"}, "Enter a valid URL"),
        ({"starts_at": "9999-12-31T10:00"}, "Check the year"),
    ],
)
def test_bad_input_is_refused_and_what_was_typed_is_kept(client, tom, overrides, message):
    client.force_login(tom)
    response = client.post(reverse("events:create"), form_data(**overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert "All about rail." in body
    assert not Event.objects.filter(title="Careers in rail").exists()


def test_the_form_offers_the_students_its_organiser_reaches_without_asking(client, persona):
    """Policy 2.4: other schools and faculties are asked from the event's page."""
    choices = {}
    for who in ("operator", "manager", "admin"):
        client.force_login(persona(who))
        form = client.get(reverse("events:create")).context["form"]
        choices[who] = (
            "open_to_all" in form.fields,
            {u.code for u in form.fields["audience_units"].queryset},
            {p.code for p in form.fields["audience_programmes"].queryset},
        )
    assert choices["operator"] == (False, {"mech", "mech-design"}, {"meng-mech", "beng-mech"})
    client.force_login(persona("operator"))
    page = client.get(reverse("events:create")).content.decode()
    assert "Open to all students" not in page and "use “Open to another unit”" in page
    refused = client.post(
        reverse("events:create"), form_data(audience_units=[str(unit("computing").pk)])
    ).content.decode()
    assert "is not one of the available choices" in refused and "All about rail." in refused
    assert choices["manager"][0] is False
    assert {"eps", "mech", "computing", "chemistry"} <= choices["manager"][1]
    assert "lubs" not in choices["manager"][1] and "mchem" in choices["manager"][2]
    assert choices["admin"][0] is True and "history" in choices["admin"][1]
    client.force_login(persona("admin"))
    both = client.post(
        reverse("events:create"), form_data(open_to_all="on", unit=str(unit("careers").pk))
    ).content.decode()
    assert "Either open the event to all students" in both
    assert not Event.objects.filter(title="Careers in rail").exists()


def test_an_opened_event_s_form_keeps_what_its_audience_holds(client, tom, persona):
    event = make_event(
        by=tom, title="Opened", starts_at=at(far_monday(), 10), audience_units=[unit("mech")]
    )
    asked = services.opening_request_create(event=event, unit=unit("lubs"), by=tom)
    services.opening_request_decide(request=asked, accept=True, by=persona("mailer"))
    client.force_login(tom)
    url = reverse("events:edit", args=[event.pk])
    form = client.get(url).context["form"]
    offered = {u.code for u in form.fields["audience_units"].queryset}
    assert {"mech", "lubs", "accounting"} <= offered and "history" not in offered
    assert {u.code for u in form.initial["audience_units"]} == {"mech", "lubs"}
    data = form_data(
        title="Opened",
        starts_at=f"{event.local_start:%Y-%m-%dT%H:%M}",
        ends_at=f"{event.local_end:%Y-%m-%dT%H:%M}",
        venue=event.venue,
        description="",
        new_topics="",
        audience_years=[],
        audience_units=[str(unit("mech").pk), str(unit("lubs").pk)],
        type=event.type,
    )
    response = client.post(url, data, follow=True)
    assert "Nothing was changed" in response.content.decode()


def test_an_end_before_the_start_is_refused(client, tom):
    client.force_login(tom)
    day = far_monday() + datetime.timedelta(days=7)
    response = client.post(
        reverse("events:create"),
        form_data(starts_at=f"{day:%Y-%m-%d}T14:00", ends_at=f"{day:%Y-%m-%d}T13:00"),
    )
    body = response.content.decode()
    assert "The event must end after it starts." in body
    assert f'value="{day:%Y-%m-%d}T14:00"' in body
    assert 'value="Careers in rail"' in body


def test_a_time_that_does_not_exist_in_london_is_refused(client, tom):
    client.force_login(tom)
    year = timezone.localdate().year + 1
    march = datetime.date(year, 4, 1) - datetime.timedelta(days=1)
    sunday = march - datetime.timedelta(days=(march.weekday() + 1) % 7)
    response = client.post(
        reverse("events:create"),
        form_data(starts_at=f"{sunday:%Y-%m-%d}T01:30", ends_at=f"{sunday:%Y-%m-%d}T03:30"),
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert f"01:30 on {sunday.day} March {year} does not exist in UK time" in body
    assert "may be ambiguous" not in body


def test_clashes_are_checked_on_a_draft_and_shown_with_reasons(client, tom, term):
    draft = term["Robotics industry evening"]  # a draft that clashes with the fair
    client.force_login(tom)
    body = client.get(reverse("events:clashes", args=[draft.pk])).content.decode()
    assert "Engineering and technology careers fair" in body
    assert "Same audience: School of Mechanical Engineering; same organisation: Kirkstall" in body


def test_the_time_of_an_event_sits_in_its_sentence_without_a_stray_space(client, tom, term):
    """The clash check read "15:00–17:00 ), compared" and the cancel page "17:00 ."."""
    draft = term["Robotics industry evening"]
    client.force_login(tom)
    for name, follows in (("events:clashes", "), compared"), ("events:cancel", ". Cancelling")):
        body = client.get(reverse(name, args=[draft.pk])).content.decode()
        assert f"</time>{follows}" in body, name


def test_publishing_despite_a_clash_needs_a_reason(client, tom, term):
    draft = term["Robotics industry evening"]
    client.force_login(tom)
    url = reverse("events:publish", args=[draft.pk])
    body = client.get(url).content.decode()
    assert "Publish despite the clashes" in body
    assert 'name="override_reason"' in body and "required" in body
    response = client.post(url, {"override_reason": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Give a reason to publish despite the clashes" in body
    # The box to type the reason in is still there, not hidden.
    assert "<textarea" in body and 'name="override_reason"' in body
    draft.refresh_from_db()
    assert draft.is_draft
    response = client.post(url, {"override_reason": "The society booked the room a year ago"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    override = ClashOverride.objects.get(event=draft)
    assert override.reason == "The society booked the room a year ago"
    fair = override.other
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert told == [f"{draft} is published. {fair.organiser} will be told your reason by email."]
    # The other organiser sees the reason on their event's page.
    client.force_login(fair.organiser)
    body = client.get(fair.get_absolute_url()).content.decode()
    assert "The society booked the room a year ago" in body
    assert "went ahead despite clashing with this event" in body


def test_the_publish_page_names_whom_the_reason_is_emailed_to_and_never_the_publisher(
    client, tom, term
):
    """The page said "the organisers" and the message "the organiser will be told" when
    the clashing event was the publisher's own, and nobody was emailed."""
    draft = term["Robotics industry evening"]
    [fair] = [clash.other for clash in find_clashes(draft)]
    url = reverse("events:publish", args=[draft.pk])
    client.force_login(tom)
    organiser = fair.organiser
    assert organiser != tom
    body = client.get(url).content.decode()
    assert f"emailed to {organiser} ({organiser.email})" in body
    assert "emailed to the clashing events&#39; organisers (never to you)" in body
    Event.objects.filter(pk=fair.pk).update(organiser=tom)
    body = client.get(url).content.decode()
    assert "nobody else is emailed, as the clashing events are yours" in body
    # The box's help said the reason was emailed to the organisers, against the words above.
    assert "organisers (never to you)" not in body
    assert "Recorded on the event; nobody is emailed." in body
    done = client.post(url, {"override_reason": "Room booked a year ago"}, follow=True)
    message = [str(m) for m in done.context["messages"]]
    assert message == [f"{draft} is published."]


def test_publishing_without_clashes_is_one_step(client, tom, mech_draft):
    client.force_login(tom)
    response = client.post(reverse("events:publish", args=[mech_draft.pk]), {})
    assert response.status_code == 302
    mech_draft.refresh_from_db()
    assert mech_draft.is_published


def test_moving_a_published_event_into_a_clash_asks_for_a_reason(client, tom, persona):
    monday = far_monday()
    make_event(
        by=persona("manager"),
        title="Faculty talk",
        unit=unit("eps"),
        starts_at=at(monday, 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    mine = make_event(
        by=tom,
        title="Careers in rail",
        starts_at=at(monday + datetime.timedelta(days=7), 12),
        publish=True,
    )
    client.force_login(tom)
    url = reverse("events:edit", args=[mine.pk])
    moved = form_data(starts_at=f"{monday:%Y-%m-%d}T12:00", ends_at=f"{monday:%Y-%m-%d}T13:00")
    response = client.post(url, moved)
    body = response.content.decode()
    assert response.status_code == 200
    assert "The changed event now clashes with published events" in body
    assert "Faculty talk" in body and "1 hour overlap" in body
    mine.refresh_from_db()
    assert mine.starts_at == at(monday + datetime.timedelta(days=7), 12)
    response = client.post(url, {**moved, "override_reason": "Only free lecture theatre"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.starts_at == at(monday, 12)
    assert ClashOverride.objects.filter(event=mine, reason="Only free lecture theatre").exists()


def test_a_clash_gone_ahead_with_says_it_was_when_recorded_once_an_event_moves(
    client, tom, persona
):
    """Moved away from the clash, the event's page still said it clashed, with the overlap
    of the old times."""
    monday = far_monday()
    talk = make_event(
        by=persona("manager"),
        title="Faculty talk",
        unit=unit("eps"),
        starts_at=at(monday, 12),
        audience_units=[unit("mech")],
        publish=True,
    )
    mine = make_event(
        by=tom,
        title="Careers in rail",
        starts_at=at(monday, 12),
        publish=True,
        override_reason="Only free lecture theatre",
    )
    client.force_login(tom)
    page = client.get(mine.get_absolute_url()).content.decode()
    assert "Clashes with" in page and "1 hour overlap." in page
    assert "when this was recorded" not in page and "moved since" not in page
    later = monday + datetime.timedelta(days=7)
    moved = form_data(starts_at=f"{later:%Y-%m-%d}T12:00", ends_at=f"{later:%Y-%m-%d}T13:00")
    assert client.post(reverse("events:edit", args=[mine.pk]), moved).status_code == 302
    page = html.unescape(client.get(mine.get_absolute_url()).content.decode())
    assert "Clashes with" not in page
    assert re.search(r"Clashed with <a [^>]*>Faculty talk</a> when this was recorded \(score", page)
    assert "1 hour overlap. One of the events has moved since; they are now 7 days apart." in page
    client.force_login(persona("manager"))
    theirs = html.unescape(client.get(talk.get_absolute_url()).content.decode())
    assert "went ahead despite clashing with this event when this was recorded" in theirs
    assert "One of the events has moved since; they are now 7 days apart." in theirs
    # Moved to another overlap, the words still make a sentence.
    overlap = form_data(starts_at=f"{monday:%Y-%m-%d}T12:30", ends_at=f"{monday:%Y-%m-%d}T13:30")
    client.force_login(tom)
    client.post(reverse("events:edit", args=[mine.pk]), {**overlap, "override_reason": "Rooms"})
    page = html.unescape(client.get(mine.get_absolute_url()).content.decode())
    assert "One of the events has moved since; they now overlap by 30 minutes." in page


def test_moving_an_event_into_a_clash_with_your_own_says_nobody_is_emailed(client, tom):
    monday = far_monday()
    make_event(by=tom, title="Faculty talk", starts_at=at(monday, 12), publish=True)
    mine = make_event(
        by=tom,
        title="Careers in rail",
        starts_at=at(monday + datetime.timedelta(days=7), 12),
        publish=True,
    )
    client.force_login(tom)
    moved = form_data(starts_at=f"{monday:%Y-%m-%d}T12:00", ends_at=f"{monday:%Y-%m-%d}T13:00")
    body = client.post(reverse("events:edit", args=[mine.pk]), moved).content.decode()
    assert "Faculty talk" in body and "1 hour overlap" in body
    assert "Recorded on the event; nobody is emailed." in body
    assert "organisers (never to you)" not in body


def test_the_free_slot_finder_proposes_and_moves(client, tom, mech_draft):
    client.force_login(tom)
    url = reverse("events:free_slots", args=[mech_draft.pk])
    assert "Least-clashing slots" not in client.get(url).content.decode()
    week = far_monday() + datetime.timedelta(days=14)
    body = client.get(f"{url}?week={week + datetime.timedelta(days=2):%Y-%m-%d}&duration=90")
    body = body.content.decode()
    assert "Least-clashing slots" in body
    assert "No clash" in body
    target = at(week, 9)
    response = client.post(
        url,
        {
            "starts_at": target.isoformat(),
            "ends_at": (target + datetime.timedelta(minutes=90)).isoformat(),
        },
    )
    assert response.status_code == 302
    mech_draft.refresh_from_db()
    assert mech_draft.starts_at == target
    assert client.post(url, {"starts_at": "soon", "ends_at": "later"}).status_code == 302
    assert "Check the year" in client.get(f"{url}?week=9999-12-31&duration=60").content.decode()
    bad = client.get(f"{url}?week=never&duration=5").content.decode()
    assert "Enter a valid date" in bad and "Enter a number from 15 to 480." in bad


def test_cancelling_needs_a_reason(client, tom, mech_published):
    client.force_login(tom)
    url = reverse("events:cancel", args=[mech_published.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert client.post(url, {"reason": "Room flooded"}).status_code == 302
    mech_published.refresh_from_db()
    assert mech_published.is_cancelled
    body = client.get(mech_published.get_absolute_url()).content.decode()
    assert "This event is cancelled." in body and "Room flooded" in body
    assert client.get(reverse("events:edit", args=[mech_published.pk])).status_code == 302
    # Publishing it again says when it was cancelled, not that it "is already" so.
    day = date_format(timezone.localtime(mech_published.cancelled_at), "j F Y")
    publish = client.get(reverse("events:publish", args=[mech_published.pk]), follow=True)
    assert f"{mech_published.title} was cancelled on {day}: it cannot be published." in (
        html.unescape(publish.content.decode())
    )


def test_an_event_that_has_started_offers_no_cancelling(client, tom, mech_published):
    started = timezone.now() - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=mech_published.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    client.force_login(tom)
    url = reverse("events:cancel", args=[mech_published.pk])
    assert url not in client.get(mech_published.get_absolute_url()).content.decode()
    response = client.post(url, {"reason": "Room flooded"}, follow=True)
    assert "has started: it can no longer be cancelled" in response.content.decode()
    mech_published.refresh_from_db()
    assert not mech_published.is_cancelled


def test_an_event_that_has_started_offers_no_opening_to_another_unit(client, tom):
    event = make_event(by=tom, title="For mech only", starts_at=at(far_monday(), 16))
    started = timezone.now() - datetime.timedelta(minutes=5)
    Event.objects.filter(pk=event.pk).update(
        starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    client.force_login(tom)
    url = reverse("events:opening_create", args=[event.pk])
    assert url not in client.get(event.get_absolute_url()).content.decode()
    response = client.post(url, {"unit": unit("lubs").pk, "message": "Late"}, follow=True)
    assert "has started: its students can no longer book" in response.content.decode()
    assert not OpeningRequest.objects.filter(event=event).exists()


def test_opening_an_event_through_the_pages(client, persona, tom, mech_published):
    client.force_login(tom)
    response = client.post(
        reverse("events:opening_create", args=[mech_published.pk]),
        {"unit": unit("lubs").pk, "message": "Engineering finance"},
    )
    # Open to all already: there is nobody to open it to.
    assert response.status_code == 200
    assert "already open to all students" in response.content.decode()

    event = make_event(by=tom, title="For mech only", starts_at=at(far_monday(), 16))
    offered = client.get(reverse("events:opening_create", args=[event.pk])).context["form"]
    names = {u.name for u in offered.fields["unit"].queryset}
    assert "Careers Centre" not in names and "Business School" in names
    # Its own students' units: it reaches them already.
    assert not names & {
        "School of Mechanical Engineering",
        "Department of Design and Manufacturing",
    }
    response = client.post(
        reverse("events:opening_create", args=[event.pk]),
        {"unit": unit("lubs").pk, "message": "Engineering finance"},
    )
    assert response.status_code == 302
    request = OpeningRequest.objects.get(event=event)
    # The operator of the unit asked finds it and answers it.
    client.force_login(persona("mailer"))
    assert "For mech only" in client.get(reverse("events:openings")).content.decode()
    url = reverse("events:opening", args=[request.pk])
    assert "Your answer" in client.get(url).content.decode()
    response = client.post(url, {"decision": "accept", "comment": "Welcome"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == OpeningRequest.Status.ACCEPTED
    assert unit("lubs") in event.audience.units.all()
    # The consultation is shown on the event.
    client.force_login(tom)
    body = client.get(event.get_absolute_url()).content.decode()
    assert "Business School" in body and "Accepted" in body and "Welcome" in body
    # Someone else's operator cannot answer; a student cannot even see the request.
    client.force_login(persona("expiring"))
    assert client.post(url, {"decision": "decline"}).status_code == 404
    client.force_login(persona("student"))
    assert client.get(url).status_code == 404


@pytest.fixture
def asked_lubs(tom):
    """Tom's event for his school, and his pending request to open it to the Business School."""
    event = make_event(by=tom, title="For mech only", starts_at=at(far_monday(), 16))
    return services.opening_request_create(event=event, unit=unit("lubs"), by=tom)


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("mailer", 403), ("viewer", 403), ("operator", 302)],
)
def test_who_may_withdraw_a_request(client, persona, asked_lubs, who, status):
    """Only the event's organisers: not the unit asked (it answers), nor anyone else."""
    login(client, persona, who)
    response = client.post(reverse("events:opening_withdraw", args=[asked_lubs.pk]))
    assert response.status_code == status
    if who == "anonymous":
        assert "/login" in response["Location"] or "next=" in response["Location"]
    asked_lubs.refresh_from_db()
    withdrawn = asked_lubs.status == OpeningRequest.Status.WITHDRAWN
    assert withdrawn == (who == "operator")


def test_withdrawing_a_request_through_the_pages(client, persona, tom, asked_lubs):
    url = reverse("events:opening", args=[asked_lubs.pk])
    withdraw = reverse("events:opening_withdraw", args=[asked_lubs.pk])
    grace = persona("mailer")
    # The unit asked answers; it is not offered the organiser's button.
    client.force_login(grace)
    page = client.get(url).content.decode()
    assert "Your answer" in page and withdraw not in page
    # The organiser is offered it while the request waits, with what it does in words.
    client.force_login(tom)
    page = client.get(url).content.decode()
    assert withdraw in page and "Withdraw the request" in page
    assert "may ask Business School again later" in page
    too_long = "Wrong school. " * 1500
    response = client.post(withdraw, {"reason": too_long})
    assert response.status_code == 200 and "Keep it to 20,000 characters" in (
        page := response.content.decode()
    )
    assert too_long.strip() in page
    assert OpeningRequest.objects.get(pk=asked_lubs.pk).status == OpeningRequest.Status.PENDING
    response = client.post(withdraw, {"reason": "Wrong school"}, follow=True)
    assert "The request to Business School is withdrawn" in response.content.decode()
    page = response.content.decode()
    assert f"Withdrawn by {tom} on " in page and withdraw not in page
    body = client.get(asked_lubs.event.get_absolute_url()).content.decode()
    assert f"Withdrawn by {tom} on " in body and "Wrong school" in body
    # Pressed again (a second tab): refused with who withdrew it, nothing changes.
    response = client.post(withdraw, follow=True)
    assert f"This request was already withdrawn by {tom} on " in response.content.decode()
    assert AuditEntry.objects.filter(action="events.opening.withdrawn").count() == 1

    # The unit asked sees who withdrew it and no form; an answer sent from a page opened
    # before is refused with that, not an error page.
    client.force_login(grace)
    page = client.get(url).content.decode()
    assert f"Withdrawn by {tom} on " in page and "Your answer" not in page
    response = client.post(url, {"decision": "accept", "comment": "Welcome"}, follow=True)
    assert response.status_code == 200
    assert f"Withdrawn by {tom} on " in response.content.decode()
    assert "there is nothing to answer" in response.content.decode()
    asked_lubs.refresh_from_db()
    assert asked_lubs.status == OpeningRequest.Status.WITHDRAWN
    assert unit("lubs") not in asked_lubs.event.audience.units.all()


def test_a_withdrawal_refused_from_a_stale_page_says_the_request_was_answered(
    client, persona, tom, asked_lubs
):
    """Too long a reason, sent after the unit answered in another tab: why, not a blank."""
    grace = persona("mailer")
    services.opening_request_decide(request=asked_lubs, accept=True, by=grace)
    client.force_login(tom)
    withdraw = reverse("events:opening_withdraw", args=[asked_lubs.pk])
    response = client.post(withdraw, {"reason": "Wrong school. " * 1500})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f"This request was already accepted by {grace} on " in page
    assert "change the event's audience" in page and withdraw not in page


def test_an_administrator_refused_a_withdrawal_keeps_the_text_and_the_answer_form(
    client, persona, asked_lubs
):
    """Who may both answer and withdraw sees both forms again, what was typed kept."""
    client.force_login(persona("admin"))
    url = reverse("events:opening", args=[asked_lubs.pk])
    withdraw = reverse("events:opening_withdraw", args=[asked_lubs.pk])
    page = client.get(url).content.decode()
    assert "Your answer" in page and withdraw in page
    too_long = "Wrong school. " * 1500
    response = client.post(withdraw, {"reason": too_long})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Keep it to 20,000 characters" in page and too_long.strip() in page
    assert "Your answer" in page and "Send the answer" in page
    assert OpeningRequest.objects.get(pk=asked_lubs.pk).status == OpeningRequest.Status.PENDING


def test_the_openings_list_puts_waiting_requests_first_and_says_who_withdrew(
    client, persona, tom, asked_lubs
):
    """Sorted on the status text, a withdrawn request came above the ones still waiting."""
    services.opening_request_withdraw(request=asked_lubs, by=tom)
    later = make_event(by=tom, title="Still asking", starts_at=at(far_monday(), 18))
    services.opening_request_create(event=later, unit=unit("lubs"), by=tom)
    client.force_login(persona("mailer"))
    page = client.get(reverse("events:openings")).content.decode()
    assert f"Withdrawn by {tom} on " in page
    assert page.index("Still asking") < page.index("For mech only")


def test_the_openings_list_no_longer_waits_on_a_cancelled_event(client, persona, tom, asked_lubs):
    services.event_cancel(event=asked_lubs.event, by=tom, reason="The speaker is ill")
    client.force_login(persona("mailer"))
    page = client.get(reverse("events:openings")).content.decode()
    assert "For mech only" in page
    assert "Waiting for an answer" not in page
    assert f"Withdrawn by {tom} on " in page


def test_an_accepted_opening_offers_no_withdrawal(client, persona, tom, asked_lubs):
    services.opening_request_decide(request=asked_lubs, accept=True, by=persona("mailer"))
    client.force_login(tom)
    withdraw = reverse("events:opening_withdraw", args=[asked_lubs.pk])
    page = client.get(reverse("events:opening", args=[asked_lubs.pk])).content.decode()
    assert withdraw not in page
    response = client.post(withdraw, follow=True)
    assert "already accepted by" in response.content.decode()
    asked_lubs.refresh_from_db()
    assert asked_lubs.status == OpeningRequest.Status.ACCEPTED


# Dashboard, timeline, subscribe -----------------------------------------------------------


@pytest.mark.usefixtures("term")
def test_dashboard_panels(client, persona):
    client.force_login(persona("student"))
    body = client.get("/").content.decode()
    assert "Events for you" in body
    client.force_login(persona("operator"))
    body = client.get("/").content.decode()
    assert "Your units' events" in body
    assert "Drafts with clashes" in body and "Robotics industry evening" in body
    client.force_login(persona("mailer"))
    assert "to open an event to your students" in client.get("/").content.decode()


@pytest.mark.usefixtures("term")
def test_the_organisation_timeline_shows_its_events(client, persona):
    from mycareer.organisations.models import Organisation

    org = Organisation.objects.get(name="Kirkstall Robotics")
    client.force_login(persona("operator"))
    body = client.get(org.get_absolute_url()).content.decode()
    assert "Event: Employer presentation" in body
    assert "Kirkstall Robotics: automation in practice" in body
    assert "Robotics industry evening (Draft)" in body


def test_the_subscribe_page_gives_private_addresses(client, persona):
    aisha = persona("student")
    client.force_login(aisha)
    body = client.get(reverse("events:subscribe")).content.decode()
    assert f"/events/feed/{aisha.feed_token}.ics" in body
    assert f"/events/feed.ics?token={aisha.feed_token}" in body
    assert "webcal://" in body
    assert client.get(reverse("events:subscribe")).status_code == 200
    client.logout()
    assert client.get(reverse("events:subscribe")).status_code == 302


@pytest.mark.parametrize(
    ("who", "mine"),
    [
        ("student", "The events you have a place at."),
        ("employer", "The events your organisation takes part in."),
        ("operator", "Your units' events, and those you organise."),
    ],
)
def test_the_subscribe_page_says_what_my_events_holds_for_each_kind_of_person(
    client, persona, who, mine
):
    """Employers read that "My events" held their units' events and any they booked: they
    have no units and cannot book; their feed holds their organisation's events."""
    client.force_login(persona(who))
    body = client.get(reverse("events:subscribe")).content.decode()
    assert mine in body
    assert "any you book" not in body
    if who == "employer":
        assert "Your units" not in body
        assert "open to employers or the public" in body


@pytest.mark.parametrize("who", ["student", "employer", "operator", "untrained"])
def test_the_filters_the_subscribe_page_suggests_work_on_the_calendar_page(client, persona, who):
    """Students were told to add `&programme=…&year=3`, which their calendar page refuses."""
    import re

    client.force_login(persona(who))
    body = client.get(reverse("events:subscribe")).content.decode()
    examples = re.findall(r"<code>&amp;([^<]+)</code>", body)
    assert examples
    for example in examples:
        shown = client.get(f"{reverse('events:list')}?{example.replace('&amp;', '&')}")
        assert shown.status_code == 200, (example, shown.status_code)
        assert "filters it does not know" not in shown.content.decode(), example


@pytest.mark.usefixtures("term")
def test_employers_see_the_calendar_with_their_organisations_events(client, persona):
    client.force_login(persona("employer"))
    body = client.get(f"{reverse('events:list')}?from=2000-01-01").content.decode()
    assert "Brightwave Digital: building public services" in body
    assert "Stratos Aerospace" not in body
    assert "Add an event" not in body


def test_a_published_event_can_be_opened_with_no_change(client, tom, mech_published):
    services.event_update(event=mech_published, by=tom, venue="Room 9")
    client.force_login(tom)
    body = client.get(mech_published.get_absolute_url()).content.decode()
    assert "Room 9" in body
    assert "Event changed" in body  # the history section


# Places and the waiting list on the event form --------------------------------------------


def places(**values) -> dict:
    data = {"capacity": "", "waiting_list": "on", "promotion": "automatic", "offer_hours": "24"}
    data.update(values)
    return {f"places-{k}": v for k, v in data.items() if v is not None}


def test_places_and_the_waiting_list_are_set_on_the_event_form(client, tom):
    from mycareer.bookings.models import BookingSettings

    client.force_login(tom)
    page = client.get(reverse("events:create")).content.decode()
    assert "Number of places" in page and "If places are limited: when the event is full" in page
    response = client.post(
        reverse("events:create"),
        {**form_data(), **places(capacity="40", promotion="offer", offer_hours="48")},
    )
    assert response.status_code == 302
    event = Event.objects.get(title="Careers in rail")
    rules = BookingSettings.objects.get(event=event)
    assert (rules.capacity, rules.waiting_list, rules.promotion, rules.offer_hours) == (
        40,
        True,
        "offer",
        48,
    )
    # The edit form shows them, and saving it unchanged changes nothing.
    edit = client.get(reverse("events:edit", args=[event.pk])).content.decode()
    assert 'name="places-capacity" value="40"' in edit
    assert (
        client.post(
            reverse("events:edit", args=[event.pk]),
            {**form_data(), **places(capacity="40", promotion="offer", offer_hours="48")},
        ).status_code
        == 302
    )
    assert BookingSettings.objects.get(event=event).updated_at == rules.updated_at
    # No limit again, through the same form.
    client.post(reverse("events:edit", args=[event.pk]), {**form_data(), **places()})
    assert BookingSettings.objects.get(event=event).capacity is None


def test_a_bad_number_of_places_keeps_everything_typed_and_saves_nothing(client, tom):
    client.force_login(tom)
    response = client.post(
        reverse("events:create"),
        {**form_data(), **places(capacity="99999999999999999999999")},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Number of places: Enter a number from 0 to 100,000." in body
    assert 'value="Careers in rail"' in body and "All about rail." in body
    assert not Event.objects.filter(title="Careers in rail").exists()


def test_both_parts_of_the_event_form_refused_at_once_are_listed_in_one_summary(client, tom):
    """Each form had its own "Please correct…" heading: two on the page, and only the
    first was focused, so the second's problems went unread."""
    client.force_login(tom)
    response = client.post(
        reverse("events:create"),
        {**form_data(title=""), **places(capacity="99999999999999999999999")},
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert body.count("Please correct what is shown below") == 1
    assert body.count('class="error-summary"') == 1
    [summary] = re.findall(
        r'<div class="error-summary" role="alert" tabindex="-1">(.*?)</div>', body, re.S
    )
    assert 'href="#id_title"' in summary
    assert "Number of places: Enter a number from 0 to 100,000." in summary
    assert 'href="#id_places-capacity"' in summary


def test_a_refused_part_of_the_form_undoes_the_whole_change(client, tom):
    from django import forms
    from django.core.exceptions import ValidationError

    from mycareer.events import registry

    class Part(forms.Form):
        note = forms.CharField(required=False)

    def refuse(form, *, event, by):
        raise ValidationError({"note": "Refused on purpose."})

    registry.register_event_form_part(
        registry.EventFormPart(
            form=lambda data, *, event, user: Part(data, prefix="refuser"),
            save=refuse,
            template="bookings/includes/event_form_places.html",
            order=99,
        ),
        name="test-refuser",
    )
    try:
        client.force_login(tom)
        response = client.post(reverse("events:create"), {**form_data(), "refuser-note": "x"})
    finally:
        registry._form_parts.pop("test-refuser")
    assert response.status_code == 200
    assert "Refused on purpose." in response.content.decode()
    assert not Event.objects.filter(title="Careers in rail").exists()


# Organisations taking part ------------------------------------------------------------------


@pytest.mark.usefixtures("taking_part")
def test_organisations_are_suggested_as_you_type(client, persona):
    url = reverse("organisations:suggestions")
    client.force_login(persona("operator"))
    names = [o["name"] for o in client.get(url, {"q": "north"}).json()["organisations"]]
    assert names[0] == "Northbridge Engineering Ltd"
    assert client.get(url, {"q": ""}).json() == {"organisations": []}
    client.force_login(persona("student"))
    assert client.get(url, {"q": "north"}).status_code == 403


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("Northbridge Engineering", ["Northbridge Engineering Ltd"]),  # Ltd left out
        ("northbridge engineering ltd", ["Northbridge Engineering Ltd"]),
        (
            "Northbridge Engg",
            "“Northbridge Engg” is not in MyCareer. Did you mean Northbridge Engineering Ltd?",
        ),
        ("Zzyzx Quantum Widgets", "“Zzyzx Quantum Widgets” is not in MyCareer: check the spelling"),
    ],
)
@pytest.mark.usefixtures("taking_part")
def test_organisations_taking_part_are_matched_or_close_names_offered(client, tom, typed, outcome):
    client.force_login(tom)
    response = client.post(reverse("events:create"), form_data(organisations=typed))
    if isinstance(outcome, list):
        assert response.status_code == 302
        event = Event.objects.get(title="Careers in rail")
        assert [o.name for o in event.organisations.all()] == outcome
    else:
        assert response.status_code == 200
        body = response.content.decode()
        assert outcome in body
        assert typed in body  # what was typed is kept
        assert not Event.objects.filter(title="Careers in rail").exists()


# Two organisations of one name ----------------------------------------------------------------


def typed_in(page: str) -> str:
    """What the organisations field holds on the page, as the browser would send it."""
    from mycareer.core.tests.html_forms import form_fields

    return dict(form_fields(page, containing="title"))["organisations"]


@pytest.fixture
def two_acmes(tom):
    """Two organisations called Acme Ltd, as the CRM allows (different web addresses)."""
    from mycareer.organisations.services import organisation_create

    return [
        organisation_create(by=tom, name="Acme Ltd", website=site, confirm_duplicates=True)
        for site in ("https://acme.example.com", "https://acme-uk.example.com")
    ]


def test_the_edit_form_saved_unchanged_keeps_the_same_of_two_namesakes(client, tom, two_acmes):
    from mycareer.audit.models import AuditEntry
    from mycareer.core.tests.html_forms import as_post, form_fields

    first, second = two_acmes
    event = make_event(
        by=tom, title="Acme open day", starts_at=at(far_monday(), 10), organisations=[second]
    )
    client.force_login(tom)
    url = reverse("events:edit", args=[event.pk])
    page = client.get(url).content.decode()
    response = client.post(url, as_post(form_fields(page, containing="title")))
    assert response.status_code == 302
    assert list(event.organisations.values_list("pk", flat=True)) == [second.pk]
    assert typed_in(page) == f"Acme Ltd (no. {second.pk})"  # the name says which one
    assert not AuditEntry.objects.filter(
        action="events.event.changed", object_id=str(event.pk)
    ).exists()


def test_close_names_offered_for_a_name_two_organisations_share_are_numbered(
    client, tom, two_acmes
):
    """ "Acme" is Acme Ltd in its reduced form, which names two: each offered name must
    be one the form takes, so the two are offered with their numbers."""
    first, second = two_acmes
    client.force_login(tom)
    response = client.post(reverse("events:create"), form_data(organisations="Acme"))
    assert response.status_code == 200
    assert (
        f"“Acme” is not in MyCareer. Did you mean Acme Ltd (no. {first.pk}) or "
        f"Acme Ltd (no. {second.pk})?"
    ) in response.content.decode()
    # The offered line is taken as written.
    response = client.post(
        reverse("events:create"), form_data(organisations=f"Acme Ltd (no. {second.pk})")
    )
    assert response.status_code == 302
    event = Event.objects.get(title="Careers in rail")
    assert list(event.organisations.values_list("pk", flat=True)) == [second.pk]


def test_a_name_two_organisations_have_is_refused_asking_which_one(client, tom, two_acmes):
    first, second = two_acmes
    client.force_login(tom)
    response = client.post(reverse("events:create"), form_data(organisations="acme ltd"))
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "“acme ltd” is the name of 2 organisations in MyCareer. Which one do you mean? "
        f"Write it with its number: “Acme Ltd (no. {first.pk})” (acme.example.com) or "
        f"“Acme Ltd (no. {second.pk})” (acme-uk.example.com)."
    ) in body
    assert typed_in(body) == "acme ltd"  # what was typed is kept
    assert not Event.objects.filter(title="Careers in rail").exists()

    typed = f"acme  LTD (no. {second.pk})"
    response = client.post(reverse("events:create"), form_data(organisations=typed))
    assert response.status_code == 302
    event = Event.objects.get(title="Careers in rail")
    assert list(event.organisations.values_list("pk", flat=True)) == [second.pk]


@pytest.mark.usefixtures("taking_part")
def test_a_number_that_does_not_go_with_the_name_is_refused(client, tom, two_acmes):
    from mycareer.organisations.models import Organisation

    first, second = two_acmes
    northbridge = Organisation.objects.get(name="Northbridge Engineering Ltd")
    client.force_login(tom)
    for typed, message in (
        (
            f"Acme Ltd (no. {northbridge.pk})",
            f"organisation no. {northbridge.pk} is Northbridge Engineering Ltd. Check the "
            "name and the number, or write just the name.",
        ),
        ("Acme Ltd (no. 999999999)", "MyCareer has no organisation with that number."),
        (
            f"Acme Ltd (no. {second.pk})",
            f"it was merged into another organisation. Write “Acme Ltd (no. {first.pk})” instead.",
        ),
    ):
        if typed.endswith(f"(no. {second.pk})"):
            Organisation.objects.filter(pk=second.pk).update(merged_into=first)
        response = client.post(reverse("events:create"), form_data(organisations=typed))
        assert response.status_code == 200
        body = response.content.decode()
        assert f"“{typed}”: {message}" in body
        assert typed_in(body) == typed
    assert not Event.objects.filter(title="Careers in rail").exists()


def test_swapping_one_namesake_for_the_other_is_a_recorded_change(tom, two_acmes):
    from mycareer.audit.models import AuditEntry

    first, second = two_acmes
    event = make_event(
        by=tom, title="Acme open day", starts_at=at(far_monday(), 10), organisations=[first]
    )
    services.event_update(event=event, by=tom, organisations=[second])
    entry = AuditEntry.objects.get(action="events.event.changed", object_id=str(event.pk))
    assert entry.data["changed"]["organisations"] == [
        [f"Acme Ltd (no. {first.pk})"],
        [f"Acme Ltd (no. {second.pk})"],
    ]


def test_the_organisations_field_offers_suggestions_and_works_without_them(client, tom):
    client.force_login(tom)
    page = client.get(reverse("events:create")).content.decode()
    assert 'data-suggest-url="/organisations/suggest/"' in page
    assert 'src="/static/core/suggest.js"' in page


# Cancelling an event -------------------------------------------------------------------------


def test_the_cancel_page_gives_the_numbers_first(client, tom, persona):
    from mycareer.bookings import services as booking_services
    from mycareer.bookings.tests.factories import make_students

    event = make_event(
        by=tom,
        title="Soon full",
        starts_at=at(far_monday(), 10),
        open_to_all=True,
        audience_units=[],
        publish=True,
    )
    booking_services.capacity_change(event=event, capacity=2, by=tom)
    for student in make_students(5):
        booking_services.booking_create(event=event, student=student, by=student)
    client.force_login(tom)
    page = re.sub(
        r"\s+", " ", client.get(reverse("events:cancel", args=[event.pk])).content.decode()
    )
    assert "2 people have a place" in page
    assert "3 people are on the waiting list" in page
    assert "Cancel the event and email 5 people" in page
    response = client.post(reverse("events:cancel", args=[event.pk]), {"reason": "Speaker ill"})
    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages] == [
        "Soon full is cancelled. 5 people will be emailed once each."
    ]


def test_the_cancel_page_speaks_of_one_person_as_one(client, tom):
    from mycareer.bookings import services as booking_services
    from mycareer.bookings.tests.factories import make_students

    event = make_event(
        by=tom, title="Quiet talk", starts_at=at(far_monday(), 10), open_to_all=True, publish=True
    )
    (student,) = make_students(1)
    booking_services.booking_create(event=event, student=student, by=student)
    client.force_login(tom)
    page = re.sub(
        r"\s+", " ", client.get(reverse("events:cancel", args=[event.pk])).content.decode()
    )
    assert "each of these 1" not in page
    assert "Every place and waiting-list place ends, and 1 person is emailed, with" in page
    response = client.post(reverse("events:cancel", args=[event.pk]), {"reason": "Speaker ill"})
    assert [str(m) for m in response.wsgi_request._messages] == [
        "Quiet talk is cancelled. 1 person will be emailed."
    ]


def test_cancelling_refuses_when_more_people_booked_since_the_page_gave_the_number(
    client, tom, persona
):
    """The button said "email 2 people"; a third booked meanwhile: nothing is cancelled
    until the organiser has seen the new number."""
    from mycareer.bookings import services as booking_services
    from mycareer.bookings.tests.factories import make_students

    event = make_event(
        by=tom,
        title="Filling up",
        starts_at=at(far_monday(), 10),
        open_to_all=True,
        audience_units=[],
        publish=True,
    )
    first, second, third = make_students(3)
    for student in (first, second):
        booking_services.booking_create(event=event, student=student, by=student)
    client.force_login(tom)
    url = reverse("events:cancel", args=[event.pk])
    page = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert "Cancel the event and email 2 people" in page
    assert 'name="people" value="2"' in page
    booking_services.booking_create(event=event, student=third, by=third)

    response = client.post(url, {"reason": "Speaker ill", "people": "2"})
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", response.content.decode())
    assert "cancelling now emails 3 people, not 2" in page
    assert "Cancel the event and email 3 people" in page
    assert "Speaker ill" in page  # what was typed is kept
    event.refresh_from_db()
    assert not event.is_cancelled

    response = client.post(url, {"reason": "Speaker ill", "people": "3"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.is_cancelled


def test_the_cancel_page_promises_no_email_to_people_who_can_no_longer_sign_in(client, tom):
    """Their places end, but no email goes to them: the page said "each of these 3 people
    is emailed" and the button "email 3 people" while only 2 were."""
    from mycareer.bookings import services as booking_services
    from mycareer.bookings.tests.factories import make_students

    event = make_event(
        by=tom,
        title="Leavers booked",
        starts_at=at(far_monday(), 10),
        open_to_all=True,
        audience_units=[],
        publish=True,
    )
    staying, also_staying, leaver = make_students(3)
    for student in (staying, also_staying, leaver):
        booking_services.booking_create(event=event, student=student, by=student)
    leaver.is_active = False
    leaver.save(update_fields=["is_active"])
    client.force_login(tom)
    url = reverse("events:cancel", args=[event.pk])
    page = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert "3 people have a place" in page  # the places that end
    assert "and 2 people are emailed, each once, with your reason." in page
    assert "1 place ends without an email: it belongs to someone who can no longer sign in." in page
    assert "Cancel the event and email 2 people" in page
    assert 'name="people" value="2"' in page

    # The number confirmed is the number emailed, so the stale-figures check accepts it.
    response = client.post(url, {"reason": "Speaker ill", "people": "2"})
    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages] == [
        "Leavers booked is cancelled. 2 people will be emailed once each."
    ]


# The month calendar ----------------------------------------------------------------------------


@pytest.mark.usefixtures("term")
def test_the_month_colours_events_by_type_with_a_label_and_a_key(client, persona, term_monday):
    client.force_login(persona("operator"))
    month = f"{reverse('events:month')}?month={term_monday:%Y-%m}"  # Stratos's presentation
    body = client.get(month).content.decode()
    assert "Key to the colours" in body
    for value, label in Event.Type.choices:
        assert f'calendar-key__swatch calendar-item--{value}"' in body
        assert f"</span>{label}</li>" in body
    assert '<span class="calendar-item calendar-item--employer_presentation">' in body
    assert '<span class="calendar-item__type">Employer presentation</span>' in body


@pytest.mark.parametrize("left_as", ["removed", "waiting to join"])
def test_only_an_active_member_sees_their_organisations_private_events(
    client, persona, tom, brightwave, left_as
):
    """A colleague removed from the organisation stays among its contacts, and still saw
    its events for students only (calendar, event page, own feed) because the calendar
    took the organisation from the contact; so did someone whose request to join waits."""
    from mycareer.organisations.models import EmployerMembership
    from mycareer.organisations.registration import membership_end
    from mycareer.organisations.tests.factories import ContactFactory
    from mycareer.vacancies.tests.factories import EmployerFactory, MembershipFactory

    colleague = EmployerFactory(email="sam.lee@demo-employer.com")
    ContactFactory(organisation=brightwave, user=colleague, email=colleague.email)
    membership = MembershipFactory(organisation=brightwave, user=colleague, is_admin=False)
    private = make_event(
        by=tom,
        title="Brightwave for mechanical engineers",
        starts_at=at(far_monday(), 10),
        organisations=[brightwave],
        publish=True,
    )

    def sees(person) -> dict[str, bool]:
        client.force_login(person)
        listed = client.get(reverse("events:list"), {"from": far_monday().isoformat()})
        page = client.get(private.get_absolute_url())
        feed = client.get(reverse("events:personal_feed", args=[person.feed_token]))
        return {
            "list": private.title in listed.content.decode(),
            "page": page.status_code == 200,
            "feed": private.ical_uid in feed.content.decode(),
        }

    assert sees(colleague) == {"list": True, "page": True, "feed": True}
    if left_as == "removed":
        membership_end(membership=membership, by=persona("employer"))
    else:
        membership.status = EmployerMembership.Status.PENDING
        membership.save()
    assert sees(colleague) == {"list": False, "page": False, "feed": False}
    # Their colleagues who still sign in for the organisation keep seeing it.
    assert sees(persona("employer")) == {"list": True, "page": True, "feed": True}


@pytest.mark.parametrize("who", ["employer", "registering"])
def test_an_event_for_all_students_is_not_shown_to_employers(client, persona, tom, brightwave, who):
    """Employers, even one whose organisation was not approved yet, saw events meant for
    every student (calendar, page, feed): "all students" is an audience of students."""
    from mycareer.organisations.models import EmployerMembership, Organisation
    from mycareer.organisations.tests.factories import OrganisationFactory
    from mycareer.vacancies.tests.factories import MembershipFactory

    if who == "registering":
        person = MembershipFactory(
            organisation=OrganisationFactory(
                name="New Starters Ltd", status=Organisation.Status.PENDING
            ),
            status=EmployerMembership.Status.PENDING,
        ).user
    else:
        person = persona("employer")
    monday = far_monday()
    for_students = make_event(
        by=tom, title="Interview skills", starts_at=at(monday, 10), open_to_all=True, publish=True
    )
    shared = make_event(
        by=tom,
        title="Meet the engineers",
        starts_at=at(monday + datetime.timedelta(days=1), 10),
        open_to_all=True,
        open_to_employers=True,
        publish=True,
        override_reason="Different students",
    )
    client.force_login(person)
    listed = client.get(reverse("events:list"), {"from": monday.isoformat()}).content.decode()
    assert "Meet the engineers" in listed and "Interview skills" not in listed
    assert client.get(shared.get_absolute_url()).status_code == 200
    assert client.get(for_students.get_absolute_url()).status_code == 403
    feed = client.get(reverse("events:feed"), {"token": person.feed_token}).content.decode()
    assert shared.ical_uid in feed and for_students.ical_uid not in feed


def test_an_employer_is_told_an_event_is_not_open_to_employers(client, persona, tom):
    """An employer opening a link to an event for students got "Page not found", as if the
    link were wrong; a student in their place is told the event is for other students."""
    monday = far_monday()
    for_students = make_event(
        by=tom,
        title="Interview skills for engineers",
        starts_at=at(monday, 10),
        venue="Room 4.21",
        open_to_all=True,
        publish=True,
    )
    draft = make_event(by=tom, title="Draft for students", starts_at=at(monday, 14))
    client.force_login(persona("employer"))
    places = reverse("bookings:event", args=[for_students.pk])
    for page in (for_students.get_absolute_url(), places):
        response = client.get(page)
        body = response.content.decode()
        assert response.status_code == 403, page
        assert "This event is not open to employers" in body
        # Nothing else of the event: not its name, place, time or organiser.
        for detail in ("Interview skills", "Room 4.21", str(tom), str(for_students.unit)):
            assert detail not in body, (page, detail)
    # A draft, and a number no event has, stay unknown.
    assert client.get(draft.get_absolute_url()).status_code == 404
    missing = Event.objects.order_by("-pk").first().pk + 1
    assert client.get(reverse("events:detail", args=[missing])).status_code == 404
    assert client.get(reverse("bookings:event", args=[missing])).status_code == 404


def test_a_cancelled_online_event_offers_no_way_to_join(client, persona, tom):
    """A cancelled online event still said "Join online" with its link, on its page, its
    public page, its places page and the calendar feeds, as if it were going ahead."""
    from icalendar import Calendar

    link = "https://teams.example.ac.uk/careers/rail"
    event = make_event(
        by=tom,
        title="Careers in rail, online",
        starts_at=at(far_monday(), 10),
        venue="",
        online_url=link,
        open_to_all=True,
        open_to_employers=True,
        publish=True,
    )
    pages = {
        "page": (tom, event.get_absolute_url()),
        "public page": (None, reverse("events:public", args=[event.uid])),
        "feed": (tom, f"{reverse('events:feed')}?token={tom.feed_token}"),
        "places": (tom, reverse("bookings:event", args=[event.pk])),
    }

    def offers_joining() -> dict[str, bool]:
        found = {}
        for name, (person, url) in pages.items():
            client.logout()
            if person is not None:
                client.force_login(person)
            response = client.get(url)
            assert response.status_code == 200, name
            if name == "feed":  # unfolded: long iCalendar lines are split
                found[name] = any(
                    link in str(e.get("DESCRIPTION", "")) + str(e.get("LOCATION", ""))
                    for e in Calendar.from_ical(response.content).walk("VEVENT")
                )
            else:
                found[name] = link in response.content.decode()
        return found

    assert set(offers_joining().values()) == {True}
    services.event_cancel(event=event, by=tom, reason="The speaker is ill.")
    assert offers_joining() == dict.fromkeys(pages, False)
    event.refresh_from_db()
    assert event.online_url == link  # kept on the record


# Saving the edit form unchanged -----------------------------------------------------------


def _edit_page_as_sent(client, event) -> dict:
    from mycareer.core.tests.html_forms import as_post, form_fields

    page = client.get(reverse("events:edit", args=[event.pk])).content.decode()
    return as_post(form_fields(page, containing="title"))


def _changes_recorded(event) -> list[str]:
    from mycareer.audit.models import AuditEntry

    return list(
        AuditEntry.objects.filter(object_id=str(event.pk))
        .filter(action__in=["events.event.changed", "bookings.settings.changed"])
        .values_list("action", flat=True)
    )


def test_an_edit_saved_unchanged_says_nothing_changed_and_tells_nobody(
    client, tom, persona, django_capture_on_commit_callbacks
):
    from mycareer.bookings import services as booking_services

    event = make_event(by=tom, title="Rail day", starts_at=at(far_monday(), 10), publish=True)
    booking_services.capacity_change(event=event, capacity=5, by=tom)
    booking_services.staff_book_student(
        event=event, student=persona("student"), by=tom, notify=False
    )
    stamp, recorded = Event.objects.get(pk=event.pk).updated_at, _changes_recorded(event)
    client.force_login(tom)
    data = _edit_page_as_sent(client, event)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("events:edit", args=[event.pk]), data)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Nothing was changed."]
    assert _changes_recorded(event) == recorded
    assert callbacks == []  # no change email to the person with a place, nothing queued
    assert Event.objects.get(pk=event.pk).updated_at == stamp


def test_a_new_event_records_its_places_as_set_with_it_not_as_a_change(client, tom):
    """Its history said "Booking settings changed" from no limit next to "Event created":
    a change nobody made, as the event never had other settings."""
    from mycareer.core.tests.html_forms import as_post, form_fields

    client.force_login(tom)
    page = client.get(reverse("events:create")).content.decode()
    sent = as_post(form_fields(page, containing="title"))
    client.post(reverse("events:create"), {**sent, **form_data()})
    assert _changes_recorded(Event.objects.get(title="Careers in rail")) == []
    client.post(
        reverse("events:create"), {**sent, **form_data(title="Rail day"), "places-capacity": "30"}
    )
    event = Event.objects.get(title="Rail day")
    assert _changes_recorded(event) == []
    [set_with] = AuditEntry.objects.filter(object_id=str(event.pk), action="bookings.settings.set")
    assert set_with.data == {"set": {"capacity": 30}}
    history = client.get(event.get_absolute_url()).content.decode()
    assert "Booking settings set with the event" in history
    assert "Booking settings changed" not in history


def test_an_edit_changing_one_field_says_it_is_saved(client, tom):
    event = make_event(by=tom, title="Rail day", starts_at=at(far_monday(), 10))
    client.force_login(tom)
    data = {**_edit_page_as_sent(client, event), "description": "Bring a CV."}
    response = client.post(reverse("events:edit", args=[event.pk]), data)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Rail day is saved."]
    assert _changes_recorded(event) == ["events.event.changed"]


def test_a_renamed_event_is_saved_under_its_new_name(client, tom):
    event = make_event(by=tom, title="Rail day", starts_at=at(far_monday(), 10))
    client.force_login(tom)
    data = {**_edit_page_as_sent(client, event), "title": "Rail and road day"}
    response = client.post(reverse("events:edit", args=[event.pk]), data)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Rail and road day is saved."]


def test_changing_only_the_places_on_the_edit_form_says_it_is_saved(client, tom):
    event = make_event(by=tom, title="Rail day", starts_at=at(far_monday(), 10))
    client.force_login(tom)
    data = {**_edit_page_as_sent(client, event), "places-capacity": "30"}
    response = client.post(reverse("events:edit", args=[event.pk]), data)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Rail day is saved."]
    assert _changes_recorded(event) == ["bookings.settings.changed"]


def test_an_event_whose_times_have_seconds_is_saved_unchanged_as_it_was(client, tom):
    """The form shows times to the minute: a time stored with seconds (from the API, or an
    import) must not move to the minute, and email everyone, when the form is saved."""
    starts = at(far_monday(), 10) + datetime.timedelta(seconds=42, microseconds=5)
    event = make_event(by=tom, title="Rail day", starts_at=starts, publish=True)
    client.force_login(tom)
    response = client.post(
        reverse("events:edit", args=[event.pk]), _edit_page_as_sent(client, event)
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Nothing was changed."]
    assert Event.objects.get(pk=event.pk).starts_at == starts
    assert _changes_recorded(event) == []


def test_the_service_returns_what_changed_and_writes_nothing_when_nothing_did(tom):
    event = make_event(by=tom, title="Rail day", starts_at=at(far_monday(), 10))
    stamp = Event.objects.get(pk=event.pk).updated_at
    assert services.event_update(event=event, by=tom, title="Rail day", venue=event.venue) == {}
    assert Event.objects.get(pk=event.pk).updated_at == stamp
    assert _changes_recorded(event) == []
    changed = services.event_update(event=event, by=tom, topics=["Signalling"])
    assert changed == {"topics": [[], ["Signalling"]]}
    assert Event.objects.get(pk=event.pk).updated_at > stamp


def test_a_past_draft_says_why_it_cannot_be_published_and_links_to_its_date(client, persona, tom):
    starts = timezone.now().replace(microsecond=0) - datetime.timedelta(days=1)
    draft = make_event(by=tom, title="Yesterday's talk", starts_at=starts)
    login(client, persona, "operator")
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "only an event still to come can be published" in page
    assert f'href="{reverse("events:edit", args=[draft.pk])}">Change its date' in page
    publish = reverse("events:publish", args=[draft.pk])
    assert f'href="{publish}"' not in page
    for method in ("get", "post"):
        response = getattr(client, method)(publish, follow=True)
        assert response.redirect_chain[-1][0] == draft.get_absolute_url()
        assert "Yesterday&#x27;s talk was on " in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft


def test_an_event_s_description_from_a_browser_unchanged_is_no_change(client, tom, mech_published):
    """A browser sends the text box's line breaks as "\\r\\n"; the description stored
    through the API has "\\n". Saved unchanged, nothing is written, recorded or emailed."""
    from mycareer.audit.models import AuditEntry
    from mycareer.core.tests.html_forms import as_post, form_fields

    Event.objects.filter(pk=mech_published.pk).update(description="Bring a CV.\n\nDoors at 9.")
    client.force_login(tom)
    url = reverse("events:edit", args=[mech_published.pk])
    page = client.get(url).content.decode()
    data = as_post(form_fields(page, containing="title", pressing_enter=True, line_breaks="\r\n"))
    assert data["description"] == ["Bring a CV.\r\n\r\nDoors at 9."]
    changes = AuditEntry.objects.filter(action="events.event.changed")

    response = client.post(url, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    assert not changes.exists()

    data["description"] = ["Bring a CV.\r\n\r\nDoors at 9.30."]
    response = client.post(url, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Mech for all is saved."]
    assert Event.objects.get(pk=mech_published.pk).description == "Bring a CV.\n\nDoors at 9.30."
    assert changes.count() == 1
