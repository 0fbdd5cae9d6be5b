"""Benchmark data for organisations: names, sectors, sizes, places, tags, contacts, notes.

Rows go in a chunk of organisations at a time, so memory stays flat, and in bulk:
organisations with `bulk_create` (their ids are needed), contacts, tag links and
notes as plain rows (`insert_rows`); no service runs per row. What the services
would keep in step is computed here before the insert, exactly as they compute it:
`name_key` and `domain` (Organisation.save), `search_document`
(refresh_search_document: name, description, then contact names in the contacts'
default order), `tag_document` (the tag links' triggers: tokens in tag id order) and
`last_engaged_on` (Organisation.refresh_last_engaged: the latest note's date).
On SQLite the substring index follows through its insert triggers, and the kept counts
of organisations on both engines through theirs (PostgreSQL's folded at the end);
`repair_sqlite_search_index` runs at the end in case a trigger was missing.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag

from mycareer.accounts.models import StaffMembership, Unit
from mycareer.core.benchseed import (
    BENCH_DOMAIN,
    PEER,
    BenchPlan,
    BenchSeedStep,
    chunks,
    insert_rows,
    register_bench_seed,
    weighted_picker,
)
from mycareer.organisations import kept_counts
from mycareer.organisations.matching import domain_from_url, name_key
from mycareer.organisations.models import (
    Contact,
    Note,
    Organisation,
    Sector,
    TaggedOrganisation,
    search_document_of,
    tag_token,
)
from mycareer.organisations.search_index import repair_sqlite_search_index

CHUNK = 5000

PLACES = [
    "Northbridge", "Aire", "Pennine", "Kirkstall", "Harrowgate", "Wharfe", "Calder",
    "Ouse", "Meridian", "Stratos", "Greenfield", "Brightwave", "Riverside", "Moorland",
    "Castleford", "Headingley", "Roundhay", "Chapeltown", "Holbeck", "Armley", "Hunslet",
    "Otley", "Ilkley", "Skipton", "Malton", "Whitby", "Ripon", "Selby", "Tadcaster",
    "Wetherby", "Dales", "Humber", "Tees", "Tyne", "Mersey", "Severn", "Trent", "Derwent",
    "Swale", "Nidd", "Cheviot", "Mendip", "Cotswold", "Chiltern", "Weald", "Fenland",
    "Broadland", "Solent", "Thames", "Avon", "Tamar", "Clyde", "Forth", "Usk", "Wye",
    "Lune", "Eden", "Kennet", "Lakeland", "Peak",
]  # fmt: skip
SECOND = [
    "", "Valley", "Bridge", "Park", "Gate", "Point", "Vale", "Cross", "Field", "Hill",
    "Dock", "Works", "Mill", "Square", "Wharf", "Green", "Moor", "Head", "Water",
    "Stone", "Brook", "Ford", "Haven", "North", "South", "East", "West", "Central",
    "Royal", "Heath", "Meadow",
]  # fmt: skip
# Sector -> the words its organisations' names end in, and what they do.
SECTOR_WORDS = {
    "Engineering and manufacturing": (
        ["Engineering", "Robotics", "Precision Components", "Manufacturing", "Automation",
         "Aerospace Systems", "Fabrication", "Motors"],
        "an engineering firm that designs and builds parts for aerospace, rail and energy",
    ),
    "Technology and software": (
        ["Digital", "Software", "Analytics", "Data", "Cloud Services", "Cyber Security",
         "Technologies", "Labs"],
        "a technology company building software and data services for retailers and councils",
    ),
    "Finance and accounting": (
        ["Financial Group", "Capital", "Accountants", "Insurance", "Wealth Management",
         "Building Society"],
        "a finance firm offering audit, tax, banking and insurance services",
    ),
    "Consulting": (
        ["Consulting", "Advisory", "Partners", "Strategy"],
        "a consultancy advising public and private clients on strategy and change",
    ),
    "Healthcare": (
        ["Health", "Care", "Medical", "Dental Practice", "Clinics", "Health NHS Trust"],
        "a healthcare provider running hospitals, clinics and community care",
    ),
    "Law": (
        ["Solicitors", "Law", "Legal Services", "Chambers"],
        "a law firm handling commercial, family and employment law",
    ),
    "Public sector": (
        ["Council", "Housing Association", "Fire and Rescue Service", "Civic Trust"],
        "a public body delivering housing, planning and community services",
    ),
    "Retail and consumer goods": (
        ["Retail", "Foods", "Brewery", "Stores", "Fashion", "Home Goods"],
        "a retailer selling food, clothing and home goods in shops and online",
    ),
    "Science and pharmaceuticals": (
        ["Pharmaceuticals", "Biosciences", "Laboratories", "Chemicals"],
        "a science company researching and making medicines and speciality chemicals",
    ),
    "Energy and utilities": (
        ["Energy", "Water Services", "Power", "Renewables"],
        "an energy and utilities company supplying water, gas and renewable power",
    ),
    "Construction and property": (
        ["Construction", "Homes", "Surveyors", "Architects", "Property"],
        "a construction and property firm building homes, schools and offices",
    ),
    "Transport and logistics": (
        ["Logistics", "Freight", "Rail", "Transport", "Haulage"],
        "a transport and logistics operator moving freight and passengers",
    ),
    "Creative arts and media": (
        ["Media", "Studios", "Design", "Publishing", "Theatre"],
        "a creative business making television, games, books and live shows",
    ),
    "Education": (
        ["Academy Trust", "College", "Tutoring", "Learning"],
        "an education provider running schools, colleges and tutoring",
    ),
    "Charity and third sector": (
        ["Trust", "Foundation", "Community Action", "Charity"],
        "a charity supporting young people, older people and local communities",
    ),
}  # fmt: skip
# Sector weights: a careers service sees far more engineering firms than theatres.
SECTOR_WEIGHTS = {
    "Engineering and manufacturing": 14, "Technology and software": 16,
    "Finance and accounting": 10, "Consulting": 7, "Healthcare": 8, "Law": 6,
    "Public sector": 6, "Retail and consumer goods": 8, "Science and pharmaceuticals": 5,
    "Energy and utilities": 4, "Construction and property": 6, "Transport and logistics": 4,
    "Creative arts and media": 5, "Education": 5, "Charity and third sector": 6,
}  # fmt: skip
SUFFIXES = ["Ltd", "Ltd", "Ltd", "Limited", "PLC", "Group", "UK", ""]
LLP_SECTORS = {"Law", "Consulting", "Finance and accounting"}
SIZES = [
    (Organisation.Size.MICRO, 25),
    (Organisation.Size.SMALL, 35),
    (Organisation.Size.MEDIUM, 22),
    (Organisation.Size.LARGE, 12),
    (Organisation.Size.ENTERPRISE, 6),
]
TOWNS = [
    "Leeds", "Bradford", "Sheffield", "York", "Hull", "Wakefield", "Huddersfield",
    "Harrogate", "Manchester", "Liverpool", "Newcastle", "Sunderland", "Middlesbrough",
    "Durham", "Lancaster", "Preston", "Birmingham", "Nottingham", "Derby", "Leicester",
    "Coventry", "London", "Reading", "Oxford", "Cambridge", "Bristol", "Cardiff",
    "Swansea", "Edinburgh", "Glasgow", "Aberdeen", "Belfast", "Norwich", "Ipswich",
    "Southampton", "Portsmouth", "Brighton", "Exeter", "Plymouth", "Milton Keynes",
]  # fmt: skip
FIRST = [
    "Aisha", "Oliver", "Mei", "James", "Fatima", "Lucas", "Priya", "Tom", "Helen",
    "Grace", "Daniel", "Sam", "Rachel", "Laura", "Amir", "Chloe", "David", "Emma",
    "Farah", "George", "Hannah", "Imran", "Jack", "Katie", "Liam", "Maryam", "Nathan",
    "Olivia", "Paul", "Rosie", "Sophie", "Tariq", "Uma", "Victoria", "William", "Yusuf",
    "Zara", "Adam", "Bethany", "Callum", "Deepa", "Ethan", "Freya", "Gareth", "Isla",
    "Joseph", "Kiran", "Lewis", "Megan", "Niamh", "Owen", "Poppy", "Rhys", "Sana",
    "Thomas", "Ursula", "Vikram", "Wei", "Xavier", "Yasmin",
]  # fmt: skip
LAST = [
    "Khan", "Price", "Lin", "O'Connor", "Begum", "Schmidt", "Shah", "Bennett", "Marsh",
    "Okafor", "Hughes", "Whitfield", "Moore", "Chen", "Smith", "Jones", "Taylor", "Brown",
    "Wilson", "Evans", "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Robinson",
    "Thompson", "White", "Hall", "Green", "Wood", "Harris", "Clarke", "Patel", "Jackson",
    "Turner", "Hill", "Cooper", "Ward", "Morris", "King", "Baker", "Harrison", "Morgan",
    "Ali", "Hussain", "Singh", "Kaur", "Nowak", "Kowalski", "Murphy", "Kelly", "Campbell",
    "Stewart", "Anderson", "Scott", "Young", "Mitchell", "Carter", "Phillips", "Parker",
    "Edwards", "Collins", "Davies", "Lewis", "Adeyemi", "Mensah", "Nguyen", "Rossi",
    "Fernandes", "Ahmed", "Igwe", "Lee", "Wong", "Kim", "Sato", "Novak", "Silva",
    "Costa", "Haddad",
]  # fmt: skip
TITLES = [
    "Early Careers Lead", "Graduate Recruitment Manager", "HR Business Partner",
    "Talent Acquisition Partner", "Head of People", "Engineering Manager",
    "Managing Director", "Operations Director", "Placements Coordinator",
    "Emerging Talent Adviser", "Community Engagement Officer", "Office Manager",
]  # fmt: skip
# Tags in order of popularity: a few very common, then a long tail.
THEME_TAGS = [
    "Graduate jobs", "Placements", "Internships", "Insight days", "Year in industry",
    "Apprenticeships", "Part-time jobs", "Volunteering", "Mentoring", "Sponsorship",
    "Alumni employer", "Careers fair exhibitor", "Guest lecturer", "Project partner",
    "Research partner", "Diversity and inclusion", "Social mobility", "Disability confident",
    "Living wage", "Sustainability", "Start-up", "SME", "Multinational", "Public body",
    "Recruits internationally", "Visa sponsor", "Hybrid working", "Remote working",
    "Summer internships", "Spring weeks", "Degree apprenticeships", "Case study provider",
    "Employer presentation", "Mock interviews", "CV clinic", "Hackathon sponsor",
    "Prize sponsor", "Scholarship provider", "KTP partner", "Advisory board",
]  # fmt: skip
SUBJECTS = [
    "Mechanical Engineering", "Civil Engineering", "Electrical Engineering",
    "Chemical Engineering", "Aerospace", "Computing", "Data science",
    "Artificial intelligence", "Cyber security", "Mathematics", "Physics", "Chemistry",
    "Biology", "Biochemistry", "Pharmacology", "Medicine", "Nursing", "Dentistry",
    "Psychology", "Sociology", "Economics", "Accounting", "Finance", "Management",
    "Marketing", "Law", "History", "English", "Languages", "Philosophy", "Music",
    "Fine Art", "Design", "Architecture", "Geography", "Environmental science",
    "Education", "Politics", "Journalism", "Media", "Sport science", "Food science",
    "Textiles", "Linguistics", "Classics", "Theology", "Statistics", "Geology",
    "Earth sciences", "Product design",
]  # fmt: skip
REGIONS = [
    "Yorkshire", "North East", "North West", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales", "Scotland",
    "Northern Ireland",
]  # fmt: skip
TAG_NAMES = (
    THEME_TAGS
    + [f"{subject} recruiter" for subject in SUBJECTS]
    + [f"{region} employer" for region in REGIONS]
    + [f"Office in {town}" for town in TOWNS]
    + [f"{sector} network" for sector in SECTOR_WORDS]
    + [f"{subject} placements" for subject in SUBJECTS[:43]]
)
assert len(TAG_NAMES) == len({t.lower() for t in TAG_NAMES}) == 200
# Zipf-like popularity: the first tags are on a large share of organisations.
TAG_WEIGHTS = [1 / (rank + 1) ** 1.1 for rank in range(len(TAG_NAMES))]
NOTE_TEXTS = [
    (Note.Kind.MEETING, "Met {first} to plan next year's placements."),
    (Note.Kind.CALL, "Call with {first} about graduate vacancies in {town}."),
    (Note.Kind.EMAIL, "{first} sent the job description for the summer internship."),
    (Note.Kind.VISIT, "Visited the {town} office with six second-year students."),
    (Note.Kind.EVENT, "{first} presented at the careers fair; a busy stand."),
    (Note.Kind.MEETING, "Discussed a project partnership for final-year students."),
    (Note.Kind.CALL, "Feedback on last year's placement students: will take more."),
    (Note.Kind.OTHER, "Sponsored a prize for the best final-year project."),
    (Note.Kind.EMAIL, "Agreed dates for mock interviews with {first}'s team."),
    (Note.Kind.MEETING, "Advisory board meeting: skills gaps in data and design."),
]
NOTES_PER_ORGANISATION = 10
CONTACTS_PER_ORGANISATION = 3


def seed_tags(plan: BenchPlan) -> list[int]:
    """The 200 tags, reusing any that exist under another case; ids in popularity order."""
    existing = {tag.name.lower(): tag for tag in Tag.objects.all()}
    slugs = {tag.slug for tag in existing.values()}
    new = []
    for name in TAG_NAMES:
        if name.lower() in existing:
            continue
        slug = base = slugify(name)
        n = 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        new.append(Tag(name=name, slug=slug))
    Tag.objects.bulk_create(new)
    by_name = {tag.name.lower(): tag.pk for tag in Tag.objects.all()}
    return [by_name[name.lower()] for name in TAG_NAMES]


def _authors() -> list[tuple[int, int | None]]:
    """Staff who write notes, with a unit of theirs; none in an empty database."""
    rows = StaffMembership.objects.order_by("user_id", "unit_id").values_list("user_id", "unit_id")
    seen: dict[int, int] = {}
    for user_id, unit_id in rows:
        seen.setdefault(user_id, unit_id)
    return sorted(seen.items())


class NameMaker:
    """Distinct, plausible organisation names ("Wharfe Valley Robotics Ltd")."""

    def __init__(self, rng):
        self.rng = rng
        self.used: set[str] = set()
        self.sectors = list(SECTOR_WEIGHTS)
        self.pick_sector = weighted_picker(rng, self.sectors, list(SECTOR_WEIGHTS.values()))

    def make(self) -> tuple[str, str]:
        """A (name, sector name) pair whose reduced name no earlier organisation has."""
        rng = self.rng
        sector = self.pick_sector(1)[0]
        words = SECTOR_WORDS[sector][0]
        for attempt in range(50):
            parts = [rng.choice(PLACES), rng.choice(SECOND), rng.choice(words)]
            if attempt >= 20:
                parts.insert(1, rng.choice(PLACES))
            core = " ".join(p for p in parts if p)
            if core.lower() not in self.used:
                break
        else:
            core = f"{core} {len(self.used)}"
        self.used.add(core.lower())
        suffixes = SUFFIXES + (["LLP", "LLP"] if sector in LLP_SECTORS else [])
        if core.endswith(("Trust", "Council", "Service", "Foundation", "Charity", "College")):
            suffix = ""
        else:
            suffix = rng.choice(suffixes)
        return (f"{core} {suffix}".strip(), sector)


CONTACT_FIELDS = [
    "organisation", "full_name", "job_title", "email", "phone", "visible_to_students",
    "email_consent", "created_at", "updated_at",
]  # fmt: skip
NOTE_FIELDS = [
    "organisation", "kind", "date", "author", "unit", "text", "follow_up_on",
    "follow_up_done", "created_at", "updated_at", "started_by",
]  # fmt: skip


def seed_organisations(plan: BenchPlan) -> None:
    """N organisations with tags and contacts (and, in the full shape, notes)."""
    rng = plan.rng("organisations")
    tag_ids = seed_tags(plan)
    pick_tags = weighted_picker(plan.rng("tags"), tag_ids, TAG_WEIGHTS)
    sectors = {s.name: s.pk for s in Sector.objects.all()}
    for name in SECTOR_WORDS:
        if name not in sectors:
            sectors[name] = Sector.objects.create(name=name, slug=slugify(name)).pk
    unit_ids = list(Unit.objects.order_by("pk").values_list("pk", flat=True))
    authors = _authors()
    names = NameMaker(plan.rng("names"))
    size_values = [s for s, _ in SIZES]
    size_weights = [w for _, w in SIZES]
    today = plan.shared["today"]
    now = timezone.now()
    peer = plan.shape == PEER
    contacts_each = 1 if peer else CONTACTS_PER_ORGANISATION
    organisation_ids: list[int] = []
    totals = dict.fromkeys(("organisations", "tags", "contacts", "notes"), 0)
    with plan.timed("organisations, tags, contacts and notes") as counter:
        for part in chunks(plan.organisations, CHUNK):
            # Per organisation: its contacts, tag ids and notes, as rows without its id.
            organisations, contacts, tags, notes = [], [], [], []
            for _ in part:
                name, sector = names.make()
                key = name_key(name)
                website = f"https://www.{slugify(key)}.{BENCH_DOMAIN}"
                domain = domain_from_url(website)
                towns = rng.sample(TOWNS, rng.choice((1, 1, 1, 2, 3)))
                phrase = SECTOR_WORDS[sector][1]
                description = (
                    f"Based in {towns[0]}."
                    if peer
                    else f"{phrase[:1].upper()}{phrase[1:]}, based in {towns[0]}."
                )
                people: list[tuple[str, str]] = []
                while len(people) < contacts_each:
                    person = (rng.choice(FIRST), rng.choice(LAST))
                    if person not in people:
                        people.append(person)
                created = _noon(today - datetime.timedelta(days=rng.randint(30, 3650)))
                org_contacts = [
                    (
                        f"{first} {last}",
                        rng.choice(TITLES),
                        f"{first}.{last}@{domain}".lower().replace("'", ""),
                        f"0113 496 {rng.randint(0, 999):04d}",
                        rng.random() < 0.2,
                        rng.random() < 0.7,
                        created,
                        now,
                    )
                    for first, last in people
                ]
                org_notes = []
                if not peer:
                    for n in range(NOTES_PER_ORGANISATION):
                        kind, text = NOTE_TEXTS[rng.randrange(len(NOTE_TEXTS))]
                        author_id, unit_id = (
                            authors[rng.randrange(len(authors))] if authors else (None, None)
                        )
                        date = today - datetime.timedelta(days=int(rng.expovariate(1 / 300)))
                        follow_up = (
                            today + datetime.timedelta(days=rng.randint(1, 30))
                            if rng.random() < 0.01
                            else None
                        )
                        text = text.format(first=people[n % len(people)][0], town=towns[0])
                        org_notes.append(
                            (
                                kind,
                                date,
                                author_id,
                                unit_id,
                                text,
                                follow_up,
                                False,
                                _noon(date),
                                now,
                                Note.StartedBy.US,
                            )
                        )
                contact_names = sorted(row[0] for row in org_contacts)
                organisations.append(
                    Organisation(
                        name=name,
                        name_key=key,
                        website=website,
                        domain=domain,
                        sector_id=sectors[sector],
                        size=rng.choices(size_values, weights=size_weights)[0],
                        locations=", ".join(towns),
                        description=description,
                        status=(
                            Organisation.Status.ARCHIVED
                            if not peer and rng.random() < 0.02
                            else Organisation.Status.ACTIVE
                        ),
                        unit_id=rng.choice(unit_ids) if unit_ids and not peer else None,
                        created_at=created,
                        last_engaged_on=max((row[1] for row in org_notes), default=None),
                        search_document=search_document_of(name, description, contact_names),
                        multi_touch=not peer and rng.random() < 0.01,
                    )
                )
                contacts.append(org_contacts)
                tags.append(pick_tags(3 if peer else rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))))
                # As the tag links' triggers will write it: indexed once, with the row.
                organisations[-1].tag_document = " ".join(map(tag_token, sorted(tags[-1])))
                notes.append(org_notes)
            with transaction.atomic():
                # Organisations through the ORM, for their ids; the rest as plain rows.
                Organisation.objects.bulk_create(organisations, batch_size=plan.batch_size)
                ids = [org.pk for org in organisations]
                made = {
                    "organisations": len(ids),
                    "contacts": insert_rows(
                        Contact, CONTACT_FIELDS, _rows(ids, contacts), batch_size=plan.batch_size
                    ),
                    "tags": insert_rows(
                        TaggedOrganisation,
                        ["content_object", "tag"],
                        (
                            (pk, tag_id)
                            for pk, group in zip(ids, tags, strict=True)
                            for tag_id in group
                        ),
                        batch_size=plan.batch_size,
                        together=True,
                    ),
                    "notes": insert_rows(
                        Note, NOTE_FIELDS, _rows(ids, notes), batch_size=plan.batch_size
                    ),
                }
            organisation_ids.extend(ids)
            for name, count in made.items():
                totals[name] += count
            counter["rows"] = sum(totals.values())
    repair_sqlite_search_index()
    # PostgreSQL's kept counts gained rows for each batch of organisations and links.
    kept_counts.compact()
    plan.say(
        "  made {organisations:,} organisations, {tags:,} tag links, "
        "{contacts:,} contacts, {notes:,} notes".format(**totals)
    )
    plan.shared["organisation_ids"] = organisation_ids


def _rows(ids: list[int], groups: list[list[tuple]]):
    """Each organisation's rows with its id in front."""
    for pk, group in zip(ids, groups, strict=True):
        for row in group:
            yield (pk, *row)


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


register_bench_seed(BenchSeedStep("organisations", seed_organisations, order=20))
