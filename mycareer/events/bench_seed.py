"""Benchmark data for the calendar: 10,000 events over two academic years, with audiences.

The two years are the academic year under way on the plan's day (from 1 September)
and the next, so the calendar, the student's list and the feeds all have a realistic
load around today. Events cluster in term time and on weekdays, belong to every unit,
and carry organisations, topics and audiences (open to all, units, programmes, years).
Published, draft and cancelled events are mixed as on a real calendar.
"""

import datetime
import uuid
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mycareer.accounts.models import DegreeProgramme, StaffMembership, Unit
from mycareer.core.benchseed import (
    BENCH_DOMAIN,
    FULL,
    BenchPlan,
    BenchSeedStep,
    chunks,
    register_bench_seed,
    weighted_picker,
)
from mycareer.events.models import Audience, Event, Topic
from mycareer.organisations.models import Organisation

EVENTS = 10_000
# Relative weight of each month (September first): busy autumn and spring terms.
MONTH_WEIGHTS = {9: 8, 10: 15, 11: 15, 12: 6, 1: 8, 2: 13, 3: 13, 4: 6, 5: 7, 6: 5, 7: 2, 8: 1}
TYPES = [
    (Event.Type.EMPLOYER_PRESENTATION, 35),
    (Event.Type.WORKSHOP, 20),
    (Event.Type.SKILLS_SESSION, 15),
    (Event.Type.NETWORKING, 12),
    (Event.Type.CAREERS_FAIR, 5),
    (Event.Type.OTHER, 13),
]
# Type -> (title patterns, minutes it may last, how many organisations take part).
SHAPES = {
    Event.Type.EMPLOYER_PRESENTATION: (
        ["{org}: graduate opportunities", "{org}: placements explained", "A day at {org}"],
        (60, 90),
        (1, 1),
    ),
    Event.Type.WORKSHOP: (
        ["CV writing workshop", "Assessment centres: what to expect",
         "Applications that stand out", "Writing a cover letter", "{topic} workshop"],
        (60, 90, 120),
        (0, 1),
    ),
    Event.Type.SKILLS_SESSION: (
        ["Interview skills", "Presenting with confidence", "Networking for beginners",
         "Psychometric tests: practice session", "{topic} skills session"],
        (60, 120),
        (0, 0),
    ),
    Event.Type.NETWORKING: (
        ["{topic} networking evening", "Meet the employers: {topic}", "Alumni evening"],
        (90, 120, 150),
        (2, 4),
    ),
    Event.Type.CAREERS_FAIR: (
        ["{topic} careers fair", "Placements and internships fair", "Part-time jobs fair"],
        (240, 300, 360),
        (6, 15),
    ),
    Event.Type.OTHER: (
        ["Alumni panel: careers in {topic}", "Drop-in careers advice", "Employer lunch"],
        (30, 60, 90),
        (0, 2),
    ),
}  # fmt: skip
TOPICS = [
    "Graduate jobs", "Placements", "Internships", "Interviews", "Applications", "CVs",
    "Finance", "Consulting", "Law", "Engineering", "Data science", "Software", "Aerospace",
    "Robotics", "Healthcare", "Teaching", "Creative careers", "Heritage", "Sustainability",
    "Public service", "Science", "Further study", "Start-ups", "Volunteering",
    "Insight days", "Marketing", "Media", "Research careers", "Charities", "Retail",
]  # fmt: skip
BUILDINGS = [
    "Careers Centre, Seminar Room 1", "Careers Centre, Seminar Room 2",
    "Students' Union, Riley Hall", "Engineering Building, Lecture Theatre A",
    "Business School, Atrium", "Arts Building, Room 2.04", "Library, Training Room 3",
    "School of Computing, Room 1.10", "Great Hall", "Mechanical Engineering, Room G.12",
]  # fmt: skip
CANCEL_REASONS = [
    "The speaker is unwell; we will offer a new date.",
    "The room is closed for maintenance that week.",
    "Too few bookings; the session joins next month's.",
]


def academic_years(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """1 September of the academic year under way on `day`, and two years later."""
    first = datetime.date(day.year if day.month >= 9 else day.year - 1, 9, 1)
    return first, first.replace(year=first.year + 2)


def event_days(day: datetime.date) -> tuple[list[datetime.date], list[int]]:
    """Weekdays of the two years, weighted by how busy their month is."""
    first, end = academic_years(day)
    days, weights = [], []
    current = first
    while current < end:
        if current.weekday() < 5:
            days.append(current)
            weights.append(MONTH_WEIGHTS[current.month])
        current += datetime.timedelta(days=1)
    return days, weights


def _topics() -> list[int]:
    ids = []
    for name in TOPICS:
        topic = Topic.objects.filter(name__iexact=name).first()
        if topic is None:
            topic = Topic.objects.create(name=name, slug=slugify(name))
        ids.append(topic.pk)
    return ids


def seed_events(plan: BenchPlan) -> None:
    """10,000 events across every unit, each with an audience."""
    rng = plan.rng("events")
    unit_rows = list(Unit.objects.order_by("pk").values_list("pk", "kind", "parent_id"))
    if not unit_rows:
        plan.say("  no units: no events made")
        return
    unit_ids = [pk for pk, _, _ in unit_rows]
    parent = {pk: parent_id for pk, _, parent_id in unit_rows}
    # Schools and departments run most events; faculties and services fewer each.
    unit_weights = [
        1 if kind in (Unit.Kind.FACULTY, Unit.Kind.SERVICE) else 3 for _, kind, _ in unit_rows
    ]
    pick_unit = weighted_picker(rng, unit_ids, unit_weights)
    programmes = list(DegreeProgramme.objects.order_by("pk").values_list("pk", flat=True))
    organisers: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in StaffMembership.objects.order_by("pk").values_list(
        "user_id", "unit_id"
    ):
        organisers[unit_id].append(user_id)
    topic_ids = _topics()
    topic_names = dict(zip(topic_ids, TOPICS, strict=True))
    organisation_ids = plan.shared.get("organisation_ids") or list(
        Organisation.objects.order_by("pk").values_list("pk", flat=True)
    )
    days, day_weights = event_days(plan.shared["today"])
    type_values = [t for t, _ in TYPES]
    type_weights = [w for _, w in TYPES]
    now = timezone.now()
    with plan.timed("events and audiences") as counter:
        for part in chunks(EVENTS, plan.batch_size):
            specs = []
            for _ in part:
                kind = rng.choices(type_values, weights=type_weights)[0]
                patterns, lengths, (least, most) = SHAPES[kind]
                orgs = (
                    rng.sample(
                        organisation_ids, min(rng.randint(least, most), len(organisation_ids))
                    )
                    if organisation_ids
                    else []
                )
                specs.append((kind, rng.choice(patterns), rng.choice(lengths), orgs))
            names = Organisation.objects.in_bulk({o for *_, orgs in specs for o in orgs})
            events, audiences, links = [], [], []
            for kind, pattern, minutes, orgs in specs:
                day = rng.choices(days, weights=day_weights)[0]
                start = timezone.make_aware(
                    datetime.datetime.combine(
                        day, datetime.time(rng.randint(9, 17), rng.choice((0, 0, 30)))
                    )
                )
                unit_id = pick_unit(1)[0]
                topics = rng.sample(topic_ids, rng.choice((0, 1, 1, 2)))
                topic = topic_names[topics[0]] if topics else rng.choice(TOPICS)
                title = pattern.format(org=names[orgs[0]].name if orgs else "Employer", topic=topic)
                created = start - datetime.timedelta(days=rng.randint(14, 120))
                roll = rng.random()
                status = (
                    Event.Status.PUBLISHED
                    if roll < 0.85
                    else Event.Status.DRAFT
                    if roll < 0.93
                    else Event.Status.CANCELLED
                )
                online = rng.random() < 0.2
                people = organisers.get(unit_id) or organisers.get(parent.get(unit_id)) or [None]
                event = Event(
                    uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                    title=title,
                    type=kind,
                    unit_id=unit_id,
                    organiser_id=rng.choice(people),
                    starts_at=start,
                    ends_at=start + datetime.timedelta(minutes=minutes),
                    venue="" if online else rng.choice(BUILDINGS),
                    online_url=f"https://meet.bench.{BENCH_DOMAIN}/{rng.getrandbits(32):08x}"
                    if online
                    else "",
                    description=f"{title}. Book your place through MyCareer.",
                    status=status,
                    published_at=created if status != Event.Status.DRAFT else None,
                    cancelled_at=min(start, now) if status == Event.Status.CANCELLED else None,
                    cancelled_reason=rng.choice(CANCEL_REASONS)
                    if status == Event.Status.CANCELLED
                    else "",
                    created_at=created,
                )
                events.append(event)
                audiences.append(_audience(rng, unit_id, parent, programmes))
                links.append((orgs, topics))
            with transaction.atomic():
                Event.objects.bulk_create(events, batch_size=plan.batch_size)
                counter["rows"] += len(events) + _links(plan, events, audiences, links)
    plan.shared["event_count"] = EVENTS


def _audience(rng, unit_id: int, parent: dict, programmes: list[int]) -> dict:
    """Whom one event is for: open to all, or units (often its own), programmes, years."""
    years = sorted(rng.sample(range(1, 5), rng.randint(1, 3))) if rng.random() < 0.35 else []
    if rng.random() < 0.15:
        return {"open_to_all": True, "units": [], "programmes": [], "years": years}
    own = unit_id if rng.random() < 0.7 else (parent.get(unit_id) or unit_id)
    units = {own}
    if rng.random() < 0.2:
        units.add(rng.choice(list(parent)))
    chosen = rng.sample(programmes, rng.randint(1, 2)) if programmes and rng.random() < 0.25 else []
    return {"open_to_all": False, "units": sorted(units), "programmes": chosen, "years": years}


def _links(plan: BenchPlan, events, audiences, links) -> int:
    """Audiences and the many-to-many rows of one chunk of events; returns rows made."""
    rows = [
        Audience(
            event_id=event.pk,
            open_to_all=spec["open_to_all"],
            years=Audience.years_text(spec["years"]),
        )
        for event, spec in zip(events, audiences, strict=True)
    ]
    Audience.objects.bulk_create(rows, batch_size=plan.batch_size)
    through = [
        (
            Audience.units.through,
            [
                Audience.units.through(audience_id=e.pk, unit_id=u)
                for e, spec in zip(events, audiences, strict=True)
                for u in spec["units"]
            ],
        ),
        (
            Audience.programmes.through,
            [
                Audience.programmes.through(audience_id=e.pk, degreeprogramme_id=p)
                for e, spec in zip(events, audiences, strict=True)
                for p in spec["programmes"]
            ],
        ),
        (
            Event.organisations.through,
            [
                Event.organisations.through(event_id=e.pk, organisation_id=o)
                for e, (orgs, _) in zip(events, links, strict=True)
                for o in orgs
            ],
        ),
        (
            Event.topics.through,
            [
                Event.topics.through(event_id=e.pk, topic_id=t)
                for e, (_, topics) in zip(events, links, strict=True)
                for t in topics
            ],
        ),
    ]
    for model, objects in through:
        model.objects.bulk_create(objects, batch_size=plan.batch_size)
    return len(rows) + sum(len(objects) for _, objects in through)


register_bench_seed(BenchSeedStep("events", seed_events, order=30, shapes=(FULL,)))
