"""Demo events: a term's worth across units, relative to today so the calendar is alive.

Two events clash (Stratos and Northbridge talks to the same mechanical engineers at
lunchtime; the second went ahead with a recorded reason), one business event was
opened to the engineering faculty, one engineering fair waits for the business
faculty's answer, one event was cancelled and one draft clashes with the fair.
Events are placed so that no other pair clashes: at most two a week, three or more
days apart unless their audiences and organisations differ.
"""

import datetime
from typing import NamedTuple

from django.utils import timezone

from mycareer.events import services
from mycareer.events.models import Event

FIRST_TITLE = "Campus careers fair"

T = Event.Type


class Plan(NamedTuple):
    week: int  # weeks from this one
    weekday: int  # 0 is Monday
    clock: str  # "HH:MM", local time
    minutes: int
    title: str
    kind: str
    unit: str  # unit code
    organiser: str  # email
    orgs: list[str]
    topics: list[str]
    audience: str | dict  # "all", or units / programmes / years
    venue: str
    status: str


# The table reads best one event to a line or two, so the formatter leaves it alone.
# fmt: off
EVENTS = [
    (-3, 0, "12:00", 180, FIRST_TITLE, T.CAREERS_FAIR, "careers", "admin@demo.ac.uk",
     ["Meridian Consulting UK Ltd", "Harrowgate Financial Group PLC", "Aire Valley Health NHS Trust", "Brightwave Digital"], ["Graduate jobs"], "all", "Students' Union, Riley Hall", "published"),
    (-3, 3, "14:00", 60, "Engineering placements: how to apply", T.WORKSHOP, "mech", "operator@demo.ac.uk",
     [], ["Placements", "Applications"], {"units": ["mech"], "years": [2]}, "Mechanical Engineering, Room G.12", "published"),
    (-2, 1, "18:00", 120, "Finance networking evening", T.NETWORKING, "lubs", "mailer@demo.ac.uk",
     ["Harrowgate Financial Group PLC"], ["Finance"], {"units": ["accounting"]}, "Business School, Atrium", "published"),
    (-2, 4, "13:00", 60, "CVs for humanities students", T.SKILLS_SESSION, "ahc", "expiring@demo.ac.uk",
     [], ["CVs"], {"units": ["ahc"]}, "Arts Building, Room 2.04", "published"),
    (-1, 0, "13:00", 60, "Kirkstall Robotics: automation in practice", T.EMPLOYER_PRESENTATION, "mech", "operator@demo.ac.uk",
     ["Kirkstall Robotics"], ["Robotics"], {"units": ["mech"]}, "Mechanical Engineering, Lecture Theatre B", "published"),
    (-1, 0, "16:00", 60, "Pennine Analytics: a day in data science", T.EMPLOYER_PRESENTATION, "computing", "manager@demo.ac.uk",
     ["Pennine Analytics"], ["Data science"], {"programmes": ["bsc-cs", "msc-ai"]}, "School of Computing, Room 1.10", "published"),
    (-1, 3, "10:00", 120, "Assessment centres: what to expect", T.WORKSHOP, "careers", "admin@demo.ac.uk",
     [], ["Interviews"], {"open_to_all": True, "years": [3]}, "Careers Centre, Seminar Room 1", "published"),
    (0, 0, "12:00", 60, "Stratos Aerospace: graduate scheme presentation", T.EMPLOYER_PRESENTATION, "eps", "manager@demo.ac.uk",
     ["Stratos Aerospace Systems"], ["Aerospace", "Graduate jobs"], {"programmes": ["meng-mech", "beng-mech"], "years": [3]}, "Engineering Building, Lecture Theatre A", "published"),
    (0, 0, "12:30", 60, "Northbridge Engineering: industrial placement talk", T.EMPLOYER_PRESENTATION, "mech", "operator@demo.ac.uk",
     ["Northbridge Engineering Ltd"], ["Placements"], {"units": ["mech"], "years": [3]}, "Mechanical Engineering, Lecture Theatre B", "published"),
    (0, 3, "17:00", 120, "History in the heritage sector: alumni panel", T.NETWORKING, "history", "expiring@demo.ac.uk",
     ["Yorkshire Civic Council"], ["Heritage"], {"units": ["history"]}, "Parkinson Building, Room 1.08", "published"),
    (1, 1, "12:00", 60, "Harrowgate Financial Group: insight day briefing", T.EMPLOYER_PRESENTATION, "lubs", "mailer@demo.ac.uk",
     ["Harrowgate Financial Group PLC"], ["Insight days", "Finance"], {"units": ["lubs"]}, "Business School, Room 1.08", "published"),
    (1, 3, "18:00", 120, "Robotics industry evening", T.NETWORKING, "mech", "operator@demo.ac.uk",
     ["Kirkstall Robotics"], ["Robotics"], {"units": ["mech"]}, "Mechanical Engineering, Foyer", "draft"),
    (1, 4, "10:00", 360, "Engineering and technology careers fair", T.CAREERS_FAIR, "eps", "manager@demo.ac.uk",
     ["Northbridge Engineering Ltd", "Stratos Aerospace Systems", "Kirkstall Robotics", "Pennine Analytics", "Ouse Water Services"], ["Graduate jobs", "Placements"], {"units": ["eps"]}, "Engineering Building, Main Hall", "published"),
    (2, 0, "14:00", 120, "Interview skills", T.SKILLS_SESSION, "careers", "admin@demo.ac.uk",
     [], ["Interviews"], "all", "Careers Centre, Seminar Room 2", "published"),
    (2, 2, "12:00", 60, "Kirkstall Robotics lab tour", T.EMPLOYER_PRESENTATION, "mech", "operator@demo.ac.uk",
     ["Kirkstall Robotics"], ["Robotics"], {"units": ["mech"]}, "Kirkstall Robotics, Leeds Dock", "cancelled"),
    (2, 3, "13:00", 60, "Greenfield Pharmaceuticals: careers in chemistry", T.EMPLOYER_PRESENTATION, "chemistry", "manager@demo.ac.uk",
     ["Greenfield Pharmaceuticals"], ["Science"], {"programmes": ["mchem"]}, "School of Chemistry, Lecture Theatre 1", "published"),
    (3, 1, "12:00", 60, "Brightwave Digital: building public services", T.EMPLOYER_PRESENTATION, "computing", "manager@demo.ac.uk",
     ["Brightwave Digital"], ["Software"], {"units": ["computing"]}, "School of Computing, Room 1.10", "published"),
    (3, 4, "14:00", 90, "Writing for the web", T.WORKSHOP, "english", "expiring@demo.ac.uk",
     [], ["Writing"], {"units": ["english"]}, "School of English, Room 3.02", "published"),
    (4, 0, "12:00", 60, "Meridian Consulting: case study workshop", T.WORKSHOP, "lubs", "mailer@demo.ac.uk",
     ["Meridian Consulting UK Ltd"], ["Consulting"], {"programmes": ["ba-mgmt", "msc-mgmt"]}, "Business School, Room 2.15", "published"),
    (5, 2, "11:00", 60, "Ouse Water Services: sustainability in engineering", T.EMPLOYER_PRESENTATION, "mech", "operator@demo.ac.uk",
     ["Ouse Water Services"], ["Sustainability"], {"units": ["mech"], "years": [2, 3]}, "Mechanical Engineering, Lecture Theatre B", "published"),
    (6, 1, "13:00", 60, "Law careers: training contracts explained", T.EMPLOYER_PRESENTATION, "careers", "admin@demo.ac.uk",
     ["Calder & Wharfe LLP"], ["Law"], "all", "Careers Centre, Seminar Room 1", "published"),
    (6, 4, "10:00", 120, "Volunteering fair", T.CAREERS_FAIR, "careers", "admin@demo.ac.uk",
     ["Holbeck Housing Association", "Aire Valley Health NHS Trust", "Leodis Theatre Company"], ["Volunteering"], "all", "Students' Union, Foyer", "published"),
    (7, 0, "14:00", 60, "Music industry: portfolio careers", T.WORKSHOP, "music", "expiring@demo.ac.uk",
     [], ["Creative careers"], {"units": ["music"]}, "School of Music, Clothworkers Hall", "published"),
    (7, 3, "12:00", 60, "Accounting firms: questions and answers", T.NETWORKING, "accounting", "mailer@demo.ac.uk",
     ["Harrowgate Financial Group PLC"], ["Finance"], {"units": ["accounting"], "years": [2]}, "Business School, Room G.03", "published"),
    (8, 1, "13:00", 120, "Applying for master's study", T.SKILLS_SESSION, "careers", "admin@demo.ac.uk",
     [], ["Further study"], {"open_to_all": True, "years": [3]}, "", "published"),
    (9, 0, "10:00", 60, "Summer internships: last call", T.WORKSHOP, "computing", "manager@demo.ac.uk",
     [], ["Internships"], {"programmes": ["bsc-cs"], "years": [2]}, "School of Computing, Room 1.10", "published"),
]
# fmt: on

# Events employers take part in or may attend: their public pages can be promoted to
# employer contacts in bulk email. The volunteering fair is open to anybody.
SHARED_WITH_EMPLOYERS = {
    FIRST_TITLE,
    "Finance networking evening",
    "History in the heritage sector: alumni panel",
    "Robotics industry evening",
    "Engineering and technology careers fair",
    "Volunteering fair",
    "Accounting firms: questions and answers",
}
OPEN_TO_PUBLIC = {"Volunteering fair"}

CLASH_REASON = (
    "Northbridge can only come this week. We will record the talk and share it with "
    "students who go to the Stratos presentation."
)


def _at(monday: datetime.date, week: int, weekday: int, clock: str) -> datetime.datetime:
    day = monday + datetime.timedelta(weeks=week, days=weekday)
    hour, minute = (int(part) for part in clock.split(":"))
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def seed_events(cast: dict) -> None:
    """About twenty-five events over a term, with a clash, an opening and a cancellation."""
    if Event.objects.filter(title=FIRST_TITLE).exists():
        cast["events"] = {e.title: e for e in Event.objects.all()}
        return
    from mycareer.accounts.models import DegreeProgramme, Unit, User
    from mycareer.organisations.models import Organisation

    units = {u.code: u for u in Unit.objects.all()}
    programmes = {p.code: p for p in DegreeProgramme.objects.all()}
    people = {u.email: u for u in User.objects.filter(email__endswith="@demo.ac.uk")}
    organisations = {o.name: o for o in Organisation.objects.filter(merged_into__isnull=True)}
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    events: dict[str, Event] = {}
    for plan in map(Plan._make, EVENTS):
        starts = _at(monday, plan.week, plan.weekday, plan.clock)
        spec = {"open_to_all": True} if plan.audience == "all" else plan.audience
        person = people[plan.organiser]
        event = services.event_create(
            by=person,
            title=plan.title,
            type=plan.kind,
            unit=units[plan.unit],
            starts_at=starts,
            ends_at=starts + datetime.timedelta(minutes=plan.minutes),
            venue=plan.venue,
            online_url="" if plan.venue else "https://teams.example.ac.uk/careers/masters",
            description=f"{plan.title}. Book your place through MyCareer.",
            organisations=[organisations[name] for name in plan.orgs],
            topics=plan.topics,
            open_to_all=spec.get("open_to_all", False),
            audience_units=[units[code] for code in spec.get("units", [])],
            audience_programmes=[programmes[code] for code in spec.get("programmes", [])],
            audience_years=spec.get("years", []),
            open_to_employers=plan.title in SHARED_WITH_EMPLOYERS,
            open_to_public=plan.title in OPEN_TO_PUBLIC,
        )
        if plan.status in ("published", "cancelled"):
            reason = CLASH_REASON if plan.title.startswith("Northbridge Engineering") else ""
            # Events already held (or under way) were published before they took place.
            published = min(timezone.now(), starts - datetime.timedelta(days=14))
            services.event_publish(event=event, by=person, override_reason=reason, now=published)
        if plan.status == "cancelled":
            services.event_cancel(
                event=event,
                by=person,
                reason="The lab is closed for maintenance that week; we will offer a new date.",
            )
        events[plan.title] = event

    grace, helen = people["mailer@demo.ac.uk"], people["manager@demo.ac.uk"]
    opened = services.opening_request_create(
        event=events["Harrowgate Financial Group: insight day briefing"],
        unit=units["eps"],
        by=grace,
        message="Harrowgate recruit engineers into risk and technology roles; your students would be welcome.",
    )
    services.opening_request_decide(
        request=opened,
        accept=True,
        by=helen,
        comment="Yes please: a good fit for engineers interested in finance.",
    )
    services.opening_request_create(
        event=events["Engineering and technology careers fair"],
        unit=units["lubs"],
        by=helen,
        message="Several exhibitors also recruit business graduates. Shall we open the fair to your students?",
    )
    cast["events"] = {e.title: e for e in Event.objects.all()}
