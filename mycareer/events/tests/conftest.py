import datetime

import pytest
from django.utils import timezone

from mycareer.events import services
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, make_event, organisation, programme, unit

T = Event.Type


@pytest.fixture
def brightwave(cast):
    """The demo employer's organisation: the demo employer is its contact and admin."""
    from mycareer.organisations.tests.factories import ContactFactory
    from mycareer.vacancies.tests.factories import MembershipFactory

    org = organisation("Brightwave Digital")
    employer = cast["employer"]
    ContactFactory(
        organisation=org, user=employer, full_name=employer.full_name, email=employer.email
    )
    MembershipFactory(organisation=org, user=employer)
    return org


@pytest.fixture
def term_monday() -> datetime.date:
    """Next Monday: the small term below starts then, so its events are coming up."""
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


@pytest.fixture
def term(persona, brightwave, term_monday) -> dict[str, Event]:
    """A few events over three weeks, by title, each there for what tests look for.

    Stratos's talk is for third-year mechanical engineers only; Harrowgate's was opened
    to the engineering faculty; the engineering fair is shared with employers and waits
    for the business school's answer; the Robotics evening is a draft that clashes with
    the fair (same audience, same organisation); the history panel is another faculty's;
    two events are open to all students; one is in the past.
    """
    people = {name: persona(name) for name in ("operator", "manager", "mailer", "admin")}
    people["expiring"] = persona("expiring")
    orgs = {
        name: organisation(name)
        for name in (
            "Stratos Aerospace Systems",
            "Northbridge Engineering Ltd",
            "Kirkstall Robotics",
            "Harrowgate Financial Group PLC",
            "Ouse Water Services",
            "Yorkshire Civic Council",
        )
    }
    orgs["Brightwave Digital"] = brightwave

    # (week, weekday, hour, minutes, title, type, unit, organiser, orgs, audience, shared, status)
    plans = [
        (-1, 0, 13, 60, "Kirkstall Robotics: automation in practice", T.EMPLOYER_PRESENTATION,
         "mech", "operator", ["Kirkstall Robotics"], {"units": ["mech"]}, False, "published"),
        (0, 0, 12, 60, "Stratos Aerospace: graduate scheme presentation", T.EMPLOYER_PRESENTATION,
         "eps", "manager", ["Stratos Aerospace Systems"],
         {"programmes": ["meng-mech", "beng-mech"], "years": [3]}, False, "published"),
        (0, 1, 12, 60, "Harrowgate Financial Group: insight day briefing",
         T.EMPLOYER_PRESENTATION, "lubs", "mailer", ["Harrowgate Financial Group PLC"],
         {"units": ["lubs"]}, False, "published"),
        (0, 3, 18, 120, "Robotics industry evening", T.NETWORKING, "mech", "operator",
         ["Kirkstall Robotics"], {"units": ["mech"]}, True, "draft"),
        (0, 4, 10, 360, "Engineering and technology careers fair", T.CAREERS_FAIR, "eps",
         "manager", ["Northbridge Engineering Ltd", "Stratos Aerospace Systems",
                     "Kirkstall Robotics"], {"units": ["eps"]}, True, "published"),
        (1, 0, 18, 120, "Finance networking evening", T.NETWORKING, "lubs", "mailer",
         ["Harrowgate Financial Group PLC"], {"units": ["accounting"]}, True, "published"),
        (1, 1, 12, 180, "Campus careers fair", T.CAREERS_FAIR, "careers", "admin",
         ["Brightwave Digital"], {"open_to_all": True}, False, "published"),
        (1, 3, 17, 120, "History in the heritage sector: alumni panel", T.NETWORKING, "history",
         "expiring", ["Yorkshire Civic Council"], {"units": ["history"]}, True, "published"),
        (2, 0, 14, 120, "Interview skills", T.SKILLS_SESSION, "careers", "admin", [],
         {"open_to_all": True}, False, "published"),
        (2, 2, 11, 60, "Ouse Water Services: sustainability in engineering",
         T.EMPLOYER_PRESENTATION, "mech", "operator", ["Ouse Water Services"],
         {"units": ["mech"], "years": [2, 3]}, False, "published"),
        (2, 3, 12, 60, "Brightwave Digital: building public services", T.EMPLOYER_PRESENTATION,
         "computing", "manager", ["Brightwave Digital"], {"units": ["computing"]}, False,
         "published"),
    ]  # fmt: skip
    events = {}
    for n, plan in enumerate(plans):
        week, weekday, hour, minutes, title, kind, unit_code, who, names, audience = plan[:10]
        shared, status = plan[10:]
        day = term_monday + datetime.timedelta(weeks=week, days=weekday)
        events[title] = make_event(
            by=people[who],
            title=title,
            type=kind,
            unit=unit(unit_code),
            starts_at=at(day, hour),
            minutes=minutes,
            venue=f"Lecture Theatre {n + 1}",
            organisations=[orgs[name] for name in names],
            open_to_all=audience.get("open_to_all", False),
            audience_units=[unit(code) for code in audience.get("units", [])],
            audience_programmes=[programme(code) for code in audience.get("programmes", [])],
            audience_years=audience.get("years", []),
            open_to_employers=shared,
            publish=status == "published",
        )
    opened = services.opening_request_create(
        event=events["Harrowgate Financial Group: insight day briefing"],
        unit=unit("eps"),
        by=people["mailer"],
    )
    services.opening_request_decide(request=opened, accept=True, by=people["manager"])
    services.opening_request_create(
        event=events["Engineering and technology careers fair"],
        unit=unit("lubs"),
        by=people["manager"],
    )
    for event in events.values():
        event.refresh_from_db()
    return events
