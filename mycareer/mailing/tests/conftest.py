import pytest

from mycareer.organisations import services as org_services
from mycareer.organisations.models import Organisation


@pytest.fixture
def tagged(persona):
    """Three organisations with a tag nobody else has, so a search selects exactly them."""
    operator = persona("operator")
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


QUERY = "tags_all=Mailing+test"


@pytest.fixture
def query():
    return QUERY


@pytest.fixture
def pending(persona, tagged):
    """One of them still waits for approval: its contacts are not emailed."""
    org = tagged[2]
    Organisation.objects.filter(pk=org.pk).update(status=Organisation.Status.PENDING)
    return org
