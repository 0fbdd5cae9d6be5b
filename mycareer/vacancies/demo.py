"""Demo vacancies: the demo employer's in every state, and live ones aimed at various faculties.

Idempotent: a vacancy whose organisation already has one of the same title is left alone.
"""

import datetime

from django.utils import timezone

from mycareer.organisations.models import Organisation
from mycareer.vacancies import services
from mycareer.vacancies.models import Vacancy

BRIGHTWAVE = "Brightwave Digital"

# state: (title, type, location, remote, salary, closes in days, unit codes, programme codes, description)
BRIGHTWAVE_VACANCIES = {
    "draft": (
        "Junior Content Designer",
        Vacancy.Type.GRADUATE_JOB,
        "Leeds",
        True,
        "£26,500 a year",
        60,
        ["ahc"],
        [],
        "Write clear, plain-English content for public services used by millions of people. You will work with user researchers and developers to make government forms easier to fill in.",
    ),
    "submitted": (
        "Graduate Software Developer",
        Vacancy.Type.GRADUATE_JOB,
        "Leeds",
        False,
        "£30,000 a year",
        45,
        ["computing"],
        ["bsc-cs", "msc-ai"],
        "Join a team of twelve building accessible web services for charities and public bodies. We use Python, Django and TypeScript, pair programme most days and support you through a two-year graduate programme.",
    ),
    "live": (
        "Summer Internship: User Research",
        Vacancy.Type.INTERNSHIP,
        "Leeds",
        True,
        "£11.44 an hour",
        30,
        [],
        [],
        "Ten weeks over the summer helping our researchers plan and run interviews and usability tests with real users. Open to students of any subject who are curious about people.",
    ),
    "pending_edit": (
        "Placement Year: Front-end Developer",
        Vacancy.Type.PLACEMENT,
        "London",
        False,
        "£22,000 a year",
        40,
        ["eps"],
        [],
        "A twelve-month placement building accessible front ends with HTML, CSS and a little JavaScript. You will ship real work to production from your first month.",
    ),
    "rejected": (
        "Sales Executive (Commission Only)",
        Vacancy.Type.PART_TIME,
        "Leeds",
        False,
        "Commission only",
        25,
        [],
        [],
        "Sell our digital services to local businesses. Earn uncapped commission on every contract you close.",
    ),
    "withdrawn": (
        "Digital Marketing Assistant",
        Vacancy.Type.PART_TIME,
        "Leeds",
        True,
        "£12.00 an hour",
        20,
        ["lubs"],
        [],
        "Twelve hours a week helping our marketing lead with newsletters, social media and case studies.",
    ),
    "closed": (
        "Spring Internship: Accessibility Testing",
        Vacancy.Type.INTERNSHIP,
        "Leeds",
        False,
        "£11.44 an hour",
        10,
        [],
        ["bsc-cs"],
        "Test our services with screen readers and keyboard-only navigation, and write up what you find for the developers.",
    ),
}

REJECTION_REASON = (
    "The university cannot advertise commission-only roles: every paid vacancy must pay at "
    "least the National Minimum Wage. Please add the basic pay and send it again."
)

# organisation, title, type, location, remote, salary, closes in days, unit codes, programme codes, description
OTHER_VACANCIES = [
    (
        "Northbridge Engineering Ltd",
        "Graduate Mechanical Engineer",
        Vacancy.Type.GRADUATE_JOB,
        "Leeds",
        False,
        "£31,000 a year",
        35,
        ["mech"],
        [],
        "Design and test precision components for aerospace and rail customers, with a chartership programme supported by IMechE.",
    ),
    (
        "Stratos Aerospace Systems",
        "Summer Internship: Propulsion Engineering",
        Vacancy.Type.INTERNSHIP,
        "Derby",
        False,
        "£2,100 a month",
        5,
        ["eps"],
        [],
        "Twelve weeks in our propulsion test team, analysing engine test data and presenting your findings to senior engineers.",
    ),
    (
        "Kirkstall Robotics",
        "Year in Industry: Robotics Software Placement",
        Vacancy.Type.PLACEMENT,
        "Leeds",
        False,
        "£21,000 a year",
        50,
        [],
        ["meng-mech", "beng-mech", "bsc-cs"],
        "Program and test the robots that move stock around warehouses, from motion planning to safety systems.",
    ),
    (
        "Ouse Water Services",
        "Graduate Process Engineer",
        Vacancy.Type.GRADUATE_JOB,
        "York",
        False,
        "£29,500 a year",
        21,
        ["eps"],
        [],
        "Keep the region's water and wastewater treatment works running efficiently, with rotations in operations, design and asset planning.",
    ),
    (
        "Pennine Analytics",
        "Data Science Intern",
        Vacancy.Type.INTERNSHIP,
        "Leeds",
        True,
        "£12.50 an hour",
        14,
        ["computing"],
        ["msc-ai"],
        "Build forecasting models for retailers and housing associations alongside our data scientists.",
    ),
    (
        "Harrowgate Financial Group PLC",
        "Graduate Accountancy Programme",
        Vacancy.Type.GRADUATE_JOB,
        "Leeds",
        False,
        "£32,000 a year plus ACA study support",
        28,
        ["accounting"],
        ["bsc-acc"],
        "Three years of rotations across audit, tax and finance, studying for the ACA qualification with paid study leave.",
    ),
    (
        "Calder & Wharfe LLP",
        "Summer Vacation Scheme",
        Vacancy.Type.INTERNSHIP,
        "Leeds",
        False,
        "£450 a week",
        6,
        [],
        [],
        "Two weeks in our commercial, property and disputes teams. Open to students of every subject, not only law.",
    ),
    (
        "Code First Collective",
        "Volunteer Coding Mentor",
        Vacancy.Type.VOLUNTEERING,
        "",
        True,
        "Unpaid; travel expenses covered",
        60,
        [],
        [],
        "Two hours a week helping young people from under-represented groups learn to program, online or in our Leeds hub.",
    ),
    (
        "Nidderdale Foods Ltd",
        "Weekend Laboratory Assistant",
        Vacancy.Type.PART_TIME,
        "Ripon",
        False,
        "£12.20 an hour",
        18,
        ["chemistry"],
        [],
        "Run quality checks on dairy and bakery products in our food science laboratory, Saturdays and Sundays.",
    ),
    (
        "Leodis Theatre Company",
        "Youth Theatre Volunteer",
        Vacancy.Type.VOLUNTEERING,
        "Leeds",
        False,
        "",
        40,
        ["ahc"],
        [],
        "Help run weekly youth theatre sessions and our summer touring production.",
    ),
]


def _fields(row, cast: dict, today: datetime.date) -> dict:
    title, kind, location, remote, salary, days, units, programmes, description = row
    slug = "".join(c for c in title.lower() if c.isalnum() or c == " ").replace(" ", "-")
    return {
        "title": title,
        "type": kind,
        "location": location,
        "remote": remote,
        "salary": salary,
        "closing_date": today + datetime.timedelta(days=days),
        "description": description,
        "apply_url": f"https://careers.example.org/{slug}",
        "apply_email": "",
        "target_units": [cast["units"][code] for code in units],
        "target_programmes": [cast["programmes"][code] for code in programmes],
    }


def seed_vacancies(cast: dict) -> None:
    """Every state for the demo employer, and about ten live vacancies elsewhere."""
    titles = [row[0] for row in BRIGHTWAVE_VACANCIES.values()] + [row[1] for row in OTHER_VACANCIES]
    if Vacancy.objects.filter(title__in=titles).count() >= len(titles):
        return
    today = timezone.localdate()
    employer, moderator = cast["employer"], cast["admin"]
    brightwave = Organisation.objects.get(name=BRIGHTWAVE, merged_into__isnull=True)
    for state, row in BRIGHTWAVE_VACANCIES.items():
        if Vacancy.objects.filter(organisation=brightwave, title=row[0]).exists():
            continue
        fields = _fields(row, cast, today)
        if state == "live":
            fields["apply_email"] = "internships@demo-employer.com"
        vacancy = services.vacancy_create(organisation=brightwave, by=employer, **fields)
        if state == "draft":
            continue
        vacancy = services.vacancy_submit(vacancy=vacancy, by=employer)
        if state == "submitted":
            continue
        if state == "rejected":
            services.vacancy_reject(vacancy=vacancy, by=moderator, reason=REJECTION_REASON)
            continue
        vacancy = services.vacancy_approve(vacancy=vacancy, by=moderator)
        if state == "pending_edit":
            services.vacancy_update(
                vacancy=vacancy,
                by=employer,
                salary="£24,000 a year",
                closing_date=fields["closing_date"] + datetime.timedelta(days=14),
                target_units=[],
            )
        elif state == "withdrawn":
            services.vacancy_withdraw(vacancy=vacancy, by=employer)
        elif state == "closed":
            # It ran its course: its closing date passed and the daily job closed it.
            Vacancy.objects.filter(pk=vacancy.pk).update(
                closing_date=today - datetime.timedelta(days=3)
            )
            services.vacancies_close_expired(today=today)

    poster = cast["staff"]["operator@demo.ac.uk"]
    for name, *row in OTHER_VACANCIES:
        organisation = Organisation.objects.filter(name=name, merged_into__isnull=True).first()
        if organisation is None or organisation.vacancies.filter(title=row[0]).exists():
            continue
        services.vacancy_create(organisation=organisation, by=poster, **_fields(row, cast, today))
