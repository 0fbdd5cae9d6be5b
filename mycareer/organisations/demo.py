"""Demo organisations: a believable spread of employers with contacts, tags and notes."""

import datetime
import random

from django.utils import timezone
from django.utils.text import slugify

from mycareer.organisations import services
from mycareer.organisations.models import Contact, EmployerMembership, Note, Organisation, Sector

SECTORS = [
    "Charity and third sector",
    "Construction and property",
    "Consulting",
    "Creative arts and media",
    "Education",
    "Energy and utilities",
    "Engineering and manufacturing",
    "Finance and accounting",
    "Healthcare",
    "Law",
    "Public sector",
    "Retail and consumer goods",
    "Science and pharmaceuticals",
    "Technology and software",
    "Transport and logistics",
]

# name, website, sector, size, locations, tags, description
ORGANISATIONS = [
    (
        "Northbridge Engineering Ltd",
        "northbridge-eng.co.uk",
        "Engineering and manufacturing",
        "large",
        "Leeds, Sheffield",
        ["Graduate recruiter", "Placements", "Industrial advisory board"],
        "Designs and builds precision components for aerospace and rail.",
    ),
    (
        "Aire Valley Health NHS Trust",
        "airevalleyhealth.nhs.uk",
        "Healthcare",
        "enterprise",
        "Bradford, Keighley",
        ["NHS", "Volunteering", "Placements"],
        "Acute and community hospital trust serving West Yorkshire.",
    ),
    (
        "Pennine Analytics",
        "pennineanalytics.com",
        "Technology and software",
        "small",
        "Leeds, remote",
        ["Start-up", "Data science", "Internships"],
        "Data science consultancy for retailers and housing associations.",
    ),
    (
        "Calder & Wharfe LLP",
        "calderwharfe.law",
        "Law",
        "medium",
        "Leeds, Manchester",
        ["Law fair", "Mentoring"],
        "Commercial law firm with a strong trainee programme.",
    ),
    (
        "Brightwave Digital",
        "demo-employer.com",
        "Technology and software",
        "medium",
        "Leeds, London",
        ["Graduate recruiter", "Internships", "Careers fair exhibitor"],
        "Builds digital services for public bodies and charities.",
    ),
    (
        "Harrowgate Financial Group PLC",
        "harrowgatefinancial.co.uk",
        "Finance and accounting",
        "enterprise",
        "Leeds, Edinburgh, London",
        ["Graduate recruiter", "Times Top 100", "Insight days"],
        "Retail bank and wealth manager.",
    ),
    (
        "Kirkstall Robotics",
        "kirkstallrobotics.io",
        "Engineering and manufacturing",
        "small",
        "Leeds",
        ["Start-up", "Knowledge transfer partnership", "Placements"],
        "Warehouse automation spun out of university research.",
    ),
    (
        "Ouse Water Services",
        "ousewater.co.uk",
        "Energy and utilities",
        "large",
        "York, Leeds",
        ["Graduate recruiter", "Sustainability"],
        "Water and wastewater company for the region.",
    ),
    (
        "Meridian Consulting UK Ltd",
        "meridian-consulting.co.uk",
        "Consulting",
        "enterprise",
        "London, Leeds, Birmingham",
        ["Times Top 100", "Careers fair exhibitor", "Insight days"],
        "Management and technology consultancy.",
    ),
    (
        "Leodis Theatre Company",
        "leodistheatre.org.uk",
        "Creative arts and media",
        "micro",
        "Leeds",
        ["Volunteering", "Arts"],
        "Touring theatre company making new work with young people.",
    ),
    (
        "Holbeck Housing Association",
        "holbeckhousing.org.uk",
        "Charity and third sector",
        "medium",
        "Leeds",
        ["Volunteering", "Social impact"],
        "Affordable homes and community support across south Leeds.",
    ),
    (
        "Stratos Aerospace Systems",
        "stratos-aero.com",
        "Engineering and manufacturing",
        "enterprise",
        "Derby, Bristol",
        ["Times Top 100", "Graduate recruiter", "Placements", "Industrial advisory board"],
        "Engines and power systems for civil aviation.",
    ),
    (
        "Greenfield Pharmaceuticals",
        "greenfieldpharma.co.uk",
        "Science and pharmaceuticals",
        "large",
        "Macclesfield, Cambridge",
        ["Graduate recruiter", "Research collaboration"],
        "Develops and manufactures generic medicines.",
    ),
    (
        "Yorkshire Civic Council",
        "yorkshirecivic.gov.uk",
        "Public sector",
        "enterprise",
        "Wakefield",
        ["Public sector", "Placements"],
        "Local authority delivering services to 350,000 residents.",
    ),
    (
        "Ridings Accountancy Partners",
        "ridingsaccountancy.co.uk",
        "Finance and accounting",
        "medium",
        "Harrogate, Leeds",
        ["Graduate recruiter", "Insight days"],
        "Audit, tax and advisory for owner-managed businesses.",
    ),
    (
        "Chapel Allerton Studios",
        "chapelallertonstudios.com",
        "Creative arts and media",
        "small",
        "Leeds",
        ["Arts", "Internships"],
        "Animation and games studio.",
    ),
    (
        "Trans-Pennine Freight",
        "tpfreight.co.uk",
        "Transport and logistics",
        "large",
        "Huddersfield, Warrington",
        ["Graduate recruiter"],
        "Road and rail freight across the north of England.",
    ),
    (
        "Quarry Hill Building Contractors",
        "quarryhillbuild.co.uk",
        "Construction and property",
        "medium",
        "Leeds",
        ["Placements", "Sustainability"],
        "Builds schools, health centres and homes.",
    ),
    (
        "Nidderdale Foods Ltd",
        "nidderdalefoods.co.uk",
        "Retail and consumer goods",
        "large",
        "Ripon, Skipton",
        ["Graduate recruiter", "Sustainability"],
        "Dairy and bakery brands sold across the UK.",
    ),
    (
        "Code First Collective",
        "codefirst.org.uk",
        "Charity and third sector",
        "micro",
        "Leeds, remote",
        ["Volunteering", "Social impact", "Data science"],
        "Teaches programming to young people from under-represented groups.",
    ),
    (
        "Hyde Park Research Ltd",
        "hydeparkresearch.co.uk",
        "Science and pharmaceuticals",
        "small",
        "Leeds",
        ["Research collaboration", "Start-up", "Knowledge transfer partnership"],
        "Contract research laboratory for biotechnology firms.",
    ),
    (
        "Atlas Global Bank",
        "atlasglobalbank.com",
        "Finance and accounting",
        "enterprise",
        "London, Glasgow",
        ["Times Top 100", "Graduate recruiter", "Insight days"],
        "International investment bank.",
    ),
    (
        "Roundhay Schools Trust",
        "roundhayschools.org.uk",
        "Education",
        "medium",
        "Leeds",
        ["Teaching", "Volunteering", "Mentoring"],
        "Multi-academy trust of eleven primary and secondary schools.",
    ),
    (
        "Fenwick Marsh Architects",
        "fenwickmarsh.co.uk",
        "Construction and property",
        "small",
        "York",
        ["Placements", "Arts"],
        "Award-winning practice for civic and cultural buildings.",
    ),
    (
        "Ember Energy",
        "emberenergy.co.uk",
        "Energy and utilities",
        "medium",
        "Leeds, Hull",
        ["Sustainability", "Graduate recruiter", "Start-up"],
        "Offshore wind operations and maintenance.",
    ),
    (
        "Sentinel Cyber Security",
        "sentinelcyber.co.uk",
        "Technology and software",
        "medium",
        "Leeds, Manchester",
        ["Internships", "Careers fair exhibitor"],
        "Security testing and incident response.",
    ),
    (
        "The Headrow Gallery",
        "headrowgallery.org.uk",
        "Creative arts and media",
        "micro",
        "Leeds",
        ["Arts", "Volunteering"],
        "Contemporary art gallery and learning centre.",
    ),
    (
        "Wharfedale Legal Services",
        "wharfedalelegal.co.uk",
        "Law",
        "small",
        "Ilkley, Otley",
        ["Mentoring", "Law fair"],
        "High-street practice for families and small businesses.",
    ),
    (
        "Mercia Rail",
        "merciarail.co.uk",
        "Transport and logistics",
        "enterprise",
        "Birmingham, Leeds, York",
        ["Times Top 100", "Graduate recruiter", "Placements"],
        "Operates regional and intercity passenger rail services.",
    ),
    (
        "Cottingley Outdoor Education Centre",
        "cottingleyoutdoor.org.uk",
        "Education",
        "micro",
        "Bingley",
        ["Volunteering"],
        "Outdoor learning for schools and youth groups.",
    ),
    (
        "Nova Biologics",
        "novabiologics.com",
        "Science and pharmaceuticals",
        "medium",
        "Cambridge, Leeds",
        ["Research collaboration", "Placements"],
        "Antibody therapies for rare diseases.",
    ),
    (
        "Parkside Retail Group",
        "parksideretail.co.uk",
        "Retail and consumer goods",
        "enterprise",
        "Leeds, Nottingham",
        ["Graduate recruiter", "Times Top 100", "Careers fair exhibitor"],
        "Department stores and online fashion.",
    ),
    (
        "Armley Mills Heritage Trust",
        "armleymills.org.uk",
        "Charity and third sector",
        "micro",
        "Leeds",
        ["Volunteering", "Arts"],
        "Industrial heritage museum and archive.",
    ),
    (
        "Sterling Actuarial",
        "sterlingactuarial.co.uk",
        "Finance and accounting",
        "small",
        "Leeds",
        ["Insight days", "Internships"],
        "Pensions and insurance actuarial consultancy.",
    ),
    (
        "Vale of York Clinical Commissioning",
        "valeofyorkcc.nhs.uk",
        "Healthcare",
        "medium",
        "York",
        ["NHS", "Public sector"],
        "Plans and buys health services for the Vale of York.",
    ),
    (
        "Kestrel Games",
        "kestrelgames.co.uk",
        "Creative arts and media",
        "small",
        "Leeds",
        ["Start-up", "Internships"],
        "Independent studio making narrative games.",
    ),
    (
        "Millshaw Precision Castings",
        "millshawcastings.co.uk",
        "Engineering and manufacturing",
        "medium",
        "Leeds, Castleford",
        ["Placements", "Knowledge transfer partnership"],
        "Investment castings for energy and defence.",
    ),
    (
        "Civic Data Lab",
        "civicdatalab.org",
        "Public sector",
        "micro",
        "Leeds, remote",
        ["Data science", "Social impact", "Internships"],
        "Open data and research for local government.",
    ),
    (
        "Beckett & Rowe Solicitors",
        "beckettrowe.co.uk",
        "Law",
        "medium",
        "Leeds, Sheffield",
        ["Law fair", "Graduate recruiter"],
        "Employment and commercial law.",
    ),
    (
        "Sunrise Care Homes",
        "sunrisecare.co.uk",
        "Healthcare",
        "large",
        "Leeds, Wakefield, Halifax",
        ["Volunteering", "Graduate recruiter"],
        "Residential and nursing care for older people.",
    ),
]  # noqa: E501

FIRST = [
    "Amelia",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Farid",
    "Georgia",
    "Harry",
    "Imogen",
    "Jack",
    "Kiran",
    "Laura",
    "Mohammed",
    "Niamh",
    "Owen",
    "Poppy",
    "Rajesh",
    "Sophie",
    "Thomas",
    "Zara",
]  # noqa: E501
LAST = [
    "Ahmed",
    "Bailey",
    "Clarke",
    "Dawson",
    "Evans",
    "Fletcher",
    "Gupta",
    "Holmes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nolan",
    "Patel",
    "Quinn",
    "Robinson",
    "Singh",
    "Turner",
    "Walsh",
]  # noqa: E501
TITLES = [
    "Early Careers Manager",
    "Graduate Recruitment Lead",
    "HR Business Partner",
    "Head of Talent",
    "Engineering Director",
    "Community Partnerships Officer",
    "Volunteer Coordinator",
    "Chief Executive",
]  # noqa: E501

NOTE_TEXTS = [
    ("meeting", "Met to plan next year's graduate intake; they want more applicants from {unit}."),
    ("call", "Call about a guest lecture in the spring term. Agreed to send dates."),
    ("email", "Sent the careers fair booking pack and exhibitor prices."),
    ("visit", "Site visit with six students; strong interest in summer placements."),
    ("event", "Exhibited at the autumn careers fair; 140 conversations, 35 CVs collected."),
    ("meeting", "Discussed a knowledge transfer partnership on {tag} with the research office."),
    ("call", "Feedback on last year's placement students: excellent; will take three again."),
    ("other", "Sponsored a prize for the best final-year project in {unit}."),
]


def seed_organisations(cast: dict) -> None:
    """About forty organisations with contacts, tags and a history of notes."""
    for name in SECTORS:
        Sector.objects.get_or_create(slug=slugify(name), defaults={"name": name})
    if Organisation.objects.filter(name=ORGANISATIONS[0][0]).exists():
        cast["organisations"] = {o.name: o for o in Organisation.objects.all()}
        return
    rng = random.Random(2026)
    staff = cast["staff"]
    authors = [
        staff["operator@demo.ac.uk"],
        staff["manager@demo.ac.uk"],
        staff["mailer@demo.ac.uk"],
        cast["admin"],
        staff["expiring@demo.ac.uk"],
    ]
    today = timezone.localdate()
    sectors = {s.name: s for s in Sector.objects.all()}
    organisations = {}
    for index, (name, domain, sector, size, locations, tags, description) in enumerate(
        ORGANISATIONS
    ):
        author = authors[index % len(authors)]
        unit = author.memberships.first().unit
        org = services.organisation_create(
            by=author,
            name=name,
            unit=unit,
            website=f"https://www.{domain}",
            sector=sectors[sector],
            size=size,
            locations=locations,
            description=description,
            tags=tags,
            confirm_duplicates=True,
        )
        organisations[name] = org
        contacts = []
        for n in range(rng.randint(2, 4)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}@{domain}".lower()
            if org.contacts.filter(email=email).exists():
                continue
            contacts.append(
                services.contact_create(
                    organisation=org,
                    by=author,
                    full_name=f"{first} {last}",
                    job_title=TITLES[(index + n) % len(TITLES)],
                    email=email,
                    phone=f"0113 496 {rng.randint(0, 9999):04d}",
                    visible_to_students=n == 0 and index % 3 == 0,
                    email_consent=True,
                )
            )
        for n in range(rng.randint(1, 5)):
            kind, text = NOTE_TEXTS[(index + n) % len(NOTE_TEXTS)]
            note_author = authors[(index + n) % len(authors)]
            on = today - datetime.timedelta(days=rng.randint(3, 420))
            named = contacts[: rng.randint(0, min(2, len(contacts)))]
            due = None
            if n == 0 and index % 4 == 0:
                # Some follow-ups are overdue, never due before the note's own day.
                due = max(on, today + datetime.timedelta(days=rng.randint(-5, 20)))
            services.note_create(
                organisation=org,
                by=note_author,
                kind=kind,
                date=on,
                text=text.format(unit=note_author.memberships.first().unit, tag=tags[0].lower()),
                contacts=named,
                follow_up_on=due,
            )
    employer_org = organisations["Brightwave Digital"]
    employer = cast["employer"]
    contact = Contact.objects.filter(organisation=employer_org, email=employer.email).first()
    if contact is None:
        contact = services.contact_create(
            organisation=employer_org,
            by=employer,  # her own choice that students may reach her
            full_name=employer.full_name,
            job_title=employer.job_title,
            email=employer.email,
            phone="0113 496 0001",
            visible_to_students=True,
            email_consent=True,
        )
    contact.user = employer
    contact.save(update_fields=["user"])
    EmployerMembership.objects.get_or_create(
        user=employer,
        organisation=employer_org,
        defaults={"is_admin": True, "status": EmployerMembership.Status.ACTIVE},
    )
    colleague = cast.get("employer_colleague")
    if colleague is not None:
        Contact.objects.filter(organisation=employer_org, email=colleague.email).update(
            user=colleague
        )
        EmployerMembership.objects.get_or_create(
            user=colleague,
            organisation=employer_org,
            defaults={"is_admin": False, "status": EmployerMembership.Status.ACTIVE},
        )
    cast["organisations"] = organisations


# Organisations whose demo profile has a logo (the others show their initials).
LOGOS = {
    "Northbridge Engineering Ltd": "#1d6b36",
    "Brightwave Digital": "#5b2a86",
    "Ouse Water Services": "#00467f",
    "Kirkstall Robotics": "#8a4b00",
    "Pennine Analytics": "#a4161a",
    "Aire Valley Health NHS Trust": "#005eb8",
    "Stratos Aerospace Systems": "#1b1f24",
}


def _demo_logo(name: str, colour: str) -> bytes:
    """A simple emblem: a ring and the organisation's initials on its colour."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    from mycareer.organisations.templatetags.logos import initials

    size = 192
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, size - 16, size - 16), outline="white", width=8)
    font = ImageFont.load_default(size=64)
    draw.text((size / 2, size / 2), initials(name), font=font, fill="white", anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed_logos(cast: dict) -> None:
    """Logos for a few demo organisations, written once and reused by later seeds."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    for name, colour in LOGOS.items():
        organisation = Organisation.objects.filter(name=name, merged_into__isnull=True).first()
        if organisation is None or organisation.logo:
            continue
        path = f"logos/demo/{slugify(name)}.png"
        if not default_storage.exists(path):
            path = default_storage.save(path, ContentFile(_demo_logo(name, colour)))
        Organisation.objects.filter(pk=organisation.pk).update(logo=path)


MULTI_TOUCH = [
    "Harrowgate Financial Group PLC",
    "Meridian Consulting UK Ltd",
    "Atlas Global Bank",
    "Parkside Retail Group",
    "Mercia Rail",
]


def seed_key_accounts(cast: dict) -> None:
    """Key accounts with protected contacts, multi-touch giants and a pending liaison request."""
    from mycareer.organisations import keyaccounts
    from mycareer.organisations.models import KeyAccount

    if KeyAccount.objects.exists():
        return
    admin, staff, units = cast["admin"], cast["staff"], cast["units"]
    tom, helen, grace = (
        staff["operator@demo.ac.uk"],
        staff["manager@demo.ac.uk"],
        staff["mailer@demo.ac.uk"],
    )
    orgs = {o.name: o for o in Organisation.objects.filter(merged_into__isnull=True)}
    plans = [
        (
            orgs["Northbridge Engineering Ltd"],
            tom,
            units["mech"],
            "Tom meets them each term about the industrial advisory board; ask before inviting them to anything.",
        ),
        (
            orgs["Stratos Aerospace Systems"],
            helen,
            units["eps"],
            "Faculty-level partnership: Helen coordinates all approaches, including placements.",
        ),
        (
            orgs["Kirkstall Robotics"],
            tom,
            units["mech-design"],
            "Knowledge transfer partnership in progress; please do not approach about recruitment until it ends.",
        ),
        # Released when Atlas Global Bank was marked multi-touch below; kept, so marking it
        # "no longer multi-touch" brings Grace's key account and guidance back.
        (
            orgs["Atlas Global Bank"],
            grace,
            units["lubs"],
            "Grace runs the Business School's risk analytics partnership; talk to her before any approach.",
        ),
    ]  # noqa: E501
    links = []
    for organisation, operator, unit, guidance in plans:
        account = keyaccounts.key_account_create(
            organisation=organisation, operator=operator, unit=unit, by=admin
        )
        contact = organisation.contacts.order_by("full_name").first()
        if contact is not None:
            links.append(
                keyaccounts.key_contact_mark(
                    account=account, contact=contact, guidance=guidance, by=operator
                )
            )
    for name in MULTI_TOUCH:
        keyaccounts.organisation_set_multi_touch(
            organisation=orgs[name], multi_touch=True, by=admin
        )
    if links:
        # Helen asked Tom about his Northbridge contact and he agreed: her pages say
        # "You may contact … until … (agreed by Tom Bennett)".
        [agreed] = keyaccounts.liaison_request_create(
            requester=helen,
            contact=links[0].contact,
            reason="The faculty's industrial advisory board wants a speaker on apprenticeships.",
            proposed_engagement="One email inviting them to the board's spring meeting.",
        )
        keyaccounts.liaison_request_decide(
            request=agreed,
            approve=True,
            by=tom,
            comment="Fine: copy me in, please.",
            valid_days=60,
        )
        # Tom's Kirkstall contact rang Grace first: recorded as inbound, and Tom is told.
        services.note_create(
            organisation=links[2].contact.organisation,
            by=grace,
            kind=Note.Kind.CALL,
            started_by=Note.StartedBy.THEM,
            contacts=[links[2].contact],
            text="Rang to ask whether Business School students could join their summer data project.",
        )
        keyaccounts.liaison_request_create(
            requester=grace,
            contact=links[0].contact,
            reason="The Business School is running a supply-chain masterclass and they would be ideal speakers.",
            proposed_engagement="Invite them to speak at the masterclass on 4 March, with an email from me.",
        )


def seed_registrations(cast: dict) -> None:
    """Two employers waiting for approval: one ordinary, one that moderators should question."""
    from allauth.account.models import EmailAddress

    from mycareer.organisations.models import RegistrationRequest
    from mycareer.organisations.registration import employer_register

    if RegistrationRequest.objects.exists():
        return
    employer_register(
        full_name="Priyanka Rao",
        email="priyanka.rao@tidewaterlabs.co.uk",
        password="demo-password-1",
        job_title="Talent Partner",
        organisation_name="Tidewater Labs",
        website="https://www.tidewaterlabs.co.uk",
        ip_address="192.0.2.10",
    )
    employer_register(
        full_name="Jay Smith",
        email="brightwave.recruitment@gmail.com",
        password="demo-password-1",
        job_title="Recruiter",
        organisation_name="Brightwave Digital Ltd",
        website="",
        ip_address="192.0.2.44",
    )
    # Both opened the confirmation link: their registrations wait for staff alone, and
    # logging in as them does not ask to confirm again (nor show them unconfirmed).
    for registration in RegistrationRequest.objects.select_related("user"):
        EmailAddress.objects.update_or_create(
            user=registration.user,
            email=registration.user.email,
            defaults={"primary": True, "verified": True},
        )


def add_priti_raman(ember: Organisation, *, by) -> Contact:
    """Priti Raman of Ember Energy: one note names her in full, another by first name only."""
    today = timezone.localdate()
    priti = services.contact_create(
        organisation=ember,
        by=by,
        full_name="Priti Raman",
        job_title="Operations Manager",
        email="priti.raman@emberenergy.co.uk",
        phone="0113 496 0420",
        email_consent=True,
    )
    services.note_create(
        organisation=ember,
        by=by,
        kind="event",
        date=today - datetime.timedelta(days=40),
        text="Met Priti at the autumn careers fair: she wants two summer interns for the "
        "offshore wind team.",
    )
    services.note_create(
        organisation=ember,
        by=by,
        kind="email",
        date=today - datetime.timedelta(days=12),
        contacts=[priti],
        text="Priti Raman (priti.raman@emberenergy.co.uk) confirmed the internship dates.",
    )
    return priti


def add_grace_bank(atlas: Organisation, *, by) -> Contact:
    """Grace Bank of Atlas Global Bank, named in a note beside Grace Okafor (a colleague)."""
    bank = services.contact_create(
        organisation=atlas,
        by=by,
        full_name="Grace Bank",
        job_title="Head of Early Careers",
        email="grace.bank@atlasglobalbank.com",
        email_consent=True,
    )
    services.note_create(
        organisation=atlas,
        by=by,
        kind="call",
        date=timezone.localdate() - datetime.timedelta(days=20),
        contacts=[bank],
        text="Call with Grace from Atlas Global Bank about the spring insight day; "
        "Grace Okafor will send the Business School's dates.",
    )
    return bank


def seed_privacy_requests(cast: dict) -> None:
    """People for the personal data pages: names that are also words, and a past erasure.

    "Grace Bank" works at Atlas Global Bank (erasing her must leave the bank, and Grace
    Okafor, alone); Priti Raman is named by her first name in a note; Jordan Ellis asked
    to be erased, so the audit trail holds an erasure report.
    """
    from mycareer.audit.erasure import erase
    from mycareer.audit.personal_data import subject_from_ids

    ember = Organisation.objects.get(name="Ember Energy")
    if ember.contacts.filter(full_name="Priti Raman").exists():
        return
    staff, admin = cast["staff"], cast["admin"]
    tom, grace = staff["operator@demo.ac.uk"], staff["mailer@demo.ac.uk"]
    today = timezone.localdate()
    add_priti_raman(ember, by=tom)
    add_grace_bank(Organisation.objects.get(name="Atlas Global Bank"), by=grace)
    armley = Organisation.objects.get(name="Armley Mills Heritage Trust")
    jordan = services.contact_create(
        organisation=armley,
        by=admin,
        full_name="Jordan Ellis",
        job_title="Volunteer Coordinator",
        email="jordan.ellis@armleymills.org.uk",
    )
    services.note_create(
        organisation=armley,
        by=admin,
        kind="email",
        date=today - datetime.timedelta(days=5),
        text="Jordan Ellis asked us to stop contacting them and to erase their details.",
    )
    erase(subject_from_ids([], [jordan.pk]), by=admin)
