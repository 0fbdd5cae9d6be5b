"""A student signs in through the university's SAML IdP for the first time, in a browser."""

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import assert_accessible, open_menu_link
from mycareer.accounts.models import User
from mycareer.accounts.tests.factories import StudentProfileFactory
from mycareer.accounts.tests.idp_saml import Person, fetch, use_identity_provider
from mycareer.events.tests.factories import at, far_monday, make_event

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_student_signs_in_through_the_university_and_sees_their_programmes_events(
    page, live_server, cast, saml_idp, settings, viewport
):
    settings.SITE_URL = live_server.url
    use_identity_provider(settings, saml_idp.settings_env())
    saml_idp.trust(fetch(f"{live_server.url}/accounts/saml/university/metadata/"))
    # The student record feed brought her in: MChem Chemistry, year 2, no login used yet.
    profile = StudentProfileFactory(
        user__email="r.franklin@students.demo.ac.uk",
        user__full_name="Rosalind Franklin",
        user__university_id="rf1920@demo.ac.uk",
        user__password="!",
        programme=cast["programmes"]["mchem"],
    )
    operator = User.objects.get(email="operator@demo.ac.uk")
    day = far_monday(weeks=2)
    make_event(
        by=operator,
        title="Chemistry industry night",
        unit=cast["units"]["chemistry"],
        audience_programmes=[cast["programmes"]["mchem"]],
        starts_at=at(day, 18),
        publish=True,
    )
    make_event(
        by=operator,
        title="Computing careers fair",
        unit=cast["units"]["computing"],
        audience_programmes=[cast["programmes"]["bsc-cs"]],
        starts_at=at(day, 12),
        publish=True,
    )
    saml_idp.person = Person(
        uid="rf1920@demo.ac.uk",
        email="r.franklin@students.demo.ac.uk",
        given_name="Rosalind",
        family_name="Franklin",
        affiliation=["student", "member"],
    )

    page.goto(f"{live_server.url}/accounts/login/")
    # The login page with its university button is accessible too.
    assert_accessible(page)
    page.get_by_role("button", name="Sign in with your university account").click()
    # The university's own page (the loopback IdP), then back to MyCareer.
    expect(page.get_by_role("heading", name="University sign-in")).to_be_visible()
    page.get_by_role("button", name="Continue to MyCareer").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Welcome, Rosalind")).to_be_visible()
    # Her home page already lists the events for her programme, and not the others.
    for_you = page.get_by_role("region", name="Events for you")
    expect(for_you.get_by_role("link", name="Chemistry industry night")).to_be_visible()
    expect(for_you.get_by_text("Computing careers fair")).to_have_count(0)

    open_menu_link(page, "Events")
    page.wait_for_url(re.compile(r"/events/$"))
    # The list from the week of the events (a fortnight ahead).
    page.goto(f"{live_server.url}/events/list/?from={day.isoformat()}")
    expect(page.get_by_role("link", name="Chemistry industry night")).to_be_visible()
    expect(page.get_by_text("Computing careers fair")).to_have_count(0)

    # One login: the feed's, now linked to the university's sign-in.
    assert User.objects.filter(university_id="rf1920@demo.ac.uk").count() == 1
    assert profile.user.socialaccount_set.count() == 1


def test_a_person_the_university_does_not_call_staff_or_student_is_told_why(
    page, live_server, cast, saml_idp, settings
):
    settings.SITE_URL = live_server.url
    use_identity_provider(settings, saml_idp.settings_env())
    saml_idp.trust(fetch(f"{live_server.url}/accounts/saml/university/metadata/"))
    saml_idp.person = Person(
        uid="visitor@demo.ac.uk", email="visitor@demo.ac.uk", affiliation=["affiliate"]
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with your university account").click()
    page.get_by_role("button", name="Continue to MyCareer").click()

    expect(page.get_by_role("heading", name="MyCareer could not sign you in")).to_be_visible()
    expect(
        page.get_by_text("does not say that you are a member of staff or a student")
    ).to_be_visible()
    assert_accessible(page)
    assert not User.objects.filter(email="visitor@demo.ac.uk").exists()
