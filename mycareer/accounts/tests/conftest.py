import pytest


@pytest.fixture
def key_accounts(persona, cast) -> dict:
    """Tom holds Northbridge's key account and Helen holds Stratos's, each with a key
    contact; Grace waits for Tom's agreement to contact his."""
    from mycareer.organisations import keyaccounts
    from mycareer.organisations.tests.factories import (
        ContactFactory,
        OrganisationFactory,
        key_account_with_contact,
    )

    made = {}
    for name, owner, unit, contact_name in (
        ("Northbridge Engineering Ltd", persona("operator"), "mech", "David Okoro"),
        ("Stratos Aerospace Systems", persona("manager"), "eps", "Priti Raman"),
    ):
        made[name] = key_account_with_contact(
            contact=ContactFactory(
                organisation=OrganisationFactory(name=name), full_name=contact_name
            ),
            operator=owner,
            unit=cast["units"][unit],
            by=persona("admin"),
        )
    [made["liaison"]] = keyaccounts.liaison_request_create(
        requester=persona("mailer"),
        contact=made["Northbridge Engineering Ltd"].key_contacts.get().contact,
        reason="To invite David to the Business School's masterclass.",
        proposed_engagement="An email invitation",
    )
    return made
