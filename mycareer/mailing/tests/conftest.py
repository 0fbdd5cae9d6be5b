import pytest

from mycareer.organisations import services as org_services
from mycareer.organisations.models import Organisation


@pytest.fixture
def tagged(persona):
    """Three organisations with a tag nobody else has, so a search selects exactly them;
    and one without it (and without contacts), so that search is not every organisation."""
    operator = persona("operator")
    org_services.organisation_create(
        by=operator, name="Elsewhere Ltd", confirm_duplicates=True, website="https://else.test"
    )
    orgs = []
    for name in ["Aurora Optics", "Birchwood Foods", "Cobalt Systems"]:
        org = org_services.organisation_create(
            by=operator,
            name=name,
            tags=["Mailing test"],
            confirm_duplicates=True,
            website=f"https://{name.split()[0].lower()}.example.com",
        )
        for n in range(2):
            org_services.contact_create(
                organisation=org,
                by=operator,
                full_name=f"Person{n} {name.split()[0]}",
                email=f"p{n}@{name.split()[0].lower()}.example.com",
            )
        orgs.append(org)
    return orgs


FILTERS = {"tags_all": ["Mailing test"]}


@pytest.fixture
def filters():
    """The recipient search that selects exactly the three `tagged` organisations."""
    return dict(FILTERS)


@pytest.fixture
def make_campaign(persona, cast, filters, tagged):
    """A draft from the bulk mailer to the `tagged` organisations' contacts."""
    from mycareer.mailing import services

    def make(**extra):
        values = {
            "sender": persona("mailer"),
            "unit": cast["units"]["lubs"],
            "purpose": "events",
            "subject": "Fair for {{ organisation }}",
            "body": "Dear {{ first_name }},\n\nCome to our fair, {{ organisation }}!",
            "recipient_filters": filters,
        }
        return services.campaign_create(**(values | extra))

    return make


@pytest.fixture
def send_now(persona, django_capture_on_commit_callbacks):
    """Queue a draft for as many recipients as it has now, as the sender confirms it.

    What runs after commit (starting the sending chain) runs here too, also in tests
    that roll back instead of committing.
    """
    from mycareer.mailing import services

    def send(campaign, by=None):
        by = by or campaign.sender
        confirmed = len(services.campaign_recipients(campaign).included)
        with django_capture_on_commit_callbacks(execute=True):
            return services.campaign_send(campaign=campaign, by=by, confirmed=confirmed)

    return send


@pytest.fixture
def pending(persona, tagged):
    """One of them still waits for approval: its contacts are not emailed."""
    org = tagged[2]
    Organisation.objects.filter(pk=org.pk).update(status=Organisation.Status.PENDING)
    return org


@pytest.fixture
def northbridge(persona):
    """One more employer, with two contacts, that a free-text search finds by name."""
    operator = persona("operator")
    org = org_services.organisation_create(
        by=operator,
        name="Northbridge Engineering Ltd",
        confirm_duplicates=True,
        website="https://northbridge-eng.example.com",
    )
    for name in ("David Okoro", "Sarah Lees"):
        org_services.contact_create(
            organisation=org,
            by=operator,
            full_name=name,
            email=f"{name.split()[0].lower()}@northbridge-eng.example.com",
        )
    return org


@pytest.fixture
def shared_events(persona) -> list:
    """Two coming events employers may attend, and one for students only (last)."""
    from mycareer.events.tests.factories import at, far_monday, make_event

    helen = persona("manager")
    return [
        make_event(
            by=helen,
            title=title,
            starts_at=at(far_monday(weeks), 10),
            open_to_employers=shared,
            publish=True,
        )
        for title, weeks, shared in (
            ("Engineering and technology careers fair", 4, True),
            ("Robotics industry evening", 5, True),
            ("Placements: how to apply", 6, False),
        )
    ]
