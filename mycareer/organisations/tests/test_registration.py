"""Registration as strangers use it: found from the home page, safe to probe, rate-limited."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError

from mycareer.accounts.models import User
from mycareer.organisations import registration as reg
from mycareer.organisations.models import (
    EmployerInvitation,
    EmployerMembership,
    Organisation,
    RegistrationRequest,
)
from mycareer.organisations.selectors import administrators_of
from mycareer.vacancies import services as vacancy_services

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Password-9"
REGISTER = "/employer/register/"


def form(**overrides) -> dict:
    data = {
        "organisation_name": "Kittiwake Studio",
        "website": "https://kittiwake.studio",
        "full_name": "Kim Lee",
        "job_title": "Studio Manager",
        "email": "kim@kittiwake.studio",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    return {**data, **overrides}


# Finding it -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/password/reset/"])
def test_strangers_find_register_your_organisation(client, cast, path):
    body = client.get(path).content.decode()
    assert re.search(
        r'<a [^>]*href="/employer/register/"[^>]*>Register your organisation</a>', body
    ), path


def test_the_home_page_and_the_login_page_link_to_it_in_their_content(client, cast):
    for path in ("/", "/accounts/login/"):
        main = client.get(path).content.decode().split('<main id="main"', 1)[1].split("</main>")[0]
        assert 'href="/employer/register/"' in main, path


# Joining a pending organisation (issue 15, 3) ----------------------------------------


@pytest.fixture
def tidewater(cast):
    """A registration waiting for approval, with a draft vacancy only its registrant may see."""
    from mycareer.vacancies.tests.factories import vacancy_fields

    registration = reg.employer_register(
        full_name="Priyanka Rao",
        email="priyanka.rao@tidewaterlabs.co.uk",
        password=PASSWORD,
        job_title="Talent Partner",
        organisation_name="Tidewater Labs",
        website="https://www.tidewaterlabs.co.uk",
        ip_address="192.0.2.10",
    )
    organisation, registrant = registration.organisation, registration.user
    assert organisation.status == Organisation.Status.PENDING
    vacancy_services.vacancy_create(
        organisation=organisation,
        by=registrant,
        **vacancy_fields(title="Tidewater secret draft"),
    )
    return organisation


def test_a_stranger_cannot_join_a_pending_organisation(client, tidewater):
    data = form(
        organisation_name="Tidewater Labs",
        email="stranger@example.net",
        organisation_choice=f"join:{tidewater.pk}",
    )
    response = client.post(REGISTER, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose one of the organisations listed, or register yours as new." in body
    assert f"join:{tidewater.pk}" not in body  # not offered as a choice either
    assert not User.objects.filter(email="stranger@example.net").exists()
    assert not tidewater.memberships.exclude(user__email__startswith="priyanka").exists()
    with pytest.raises(Exception, match="cannot be joined"):
        reg.employer_register(
            full_name="Stranger", email="s2@example.net", password=PASSWORD, join=tidewater
        )


def test_a_pending_member_never_sees_the_drafts_of_a_pending_organisation(client, tidewater):
    stranger = User.objects.create_user(
        "stranger@example.net", PASSWORD, full_name="Stan Ger", kind=User.Kind.EMPLOYER
    )
    # A request to join made before this rule (or by any other route) reveals nothing.
    EmployerMembership.objects.create(user=stranger, organisation=tidewater)
    client.force_login(stranger)
    mine = client.get("/vacancies/yours/").content.decode()
    assert "Tidewater secret draft" not in mine
    draft = tidewater.vacancies.get()
    refused = client.get(f"/vacancies/{draft.pk}/")
    assert refused.status_code == 403  # refused as another organisation's, naming nothing
    assert "Tidewater" not in refused.content.decode()
    # Its registrant still drafts and reads it.
    client.force_login(User.objects.get(email="priyanka.rao@tidewaterlabs.co.uk"))
    assert "Tidewater secret draft" in client.get("/vacancies/yours/").content.decode()


# Invitations (issue 15, 3) ---------------------------------------------------------------


def test_an_invitation_is_good_only_for_the_address_it_was_sent_to(client, laura, brightwave):
    invitation = reg.invitation_create(
        organisation=brightwave, email="sam.colleague@demo-employer.com", by=laura
    )
    data = form(email="someone.else@example.net", invite=invitation.token)
    del data["organisation_name"], data["website"]
    response = client.post(REGISTER, data)
    assert response.status_code == 200
    assert "This invitation was sent to another email address" in response.content.decode()
    assert not User.objects.filter(email="someone.else@example.net").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    response = client.post(REGISTER, {**data, "email": "Sam.Colleague@demo-employer.com"})
    assert response.status_code == 302
    joined = User.objects.get(email="sam.colleague@demo-employer.com")
    assert EmployerMembership.objects.get(user=joined).organisation == brightwave
    assert EmployerInvitation.objects.get(pk=invitation.pk).accepted_at is not None


def test_the_invitations_link_confirms_the_address_it_was_sent_to(
    client, laura, brightwave, mailoutbox
):
    """Arriving from the invitation sent to their address, a colleague was asked to
    confirm that address again before they could log in."""
    invitation = reg.invitation_create(
        organisation=brightwave, email="sam.colleague@demo-employer.com", by=laura
    )
    data = form(email="sam.colleague@demo-employer.com", invite=invitation.token)
    del data["organisation_name"], data["website"]
    mailoutbox.clear()
    response = client.post(REGISTER, data)
    sam = User.objects.get(email="sam.colleague@demo-employer.com")
    assert reg.email_confirmed(sam)
    assert EmailAddress.objects.get(user=sam).verified
    # Signed in at once, with no email asking to confirm the address.
    assert response.status_code == 302
    assert response["Location"] != "/accounts/confirm-email/"
    assert client.get("/employer/profile/").status_code == 200
    assert not [m for m in mailoutbox if "Confirm" in m.subject]


def test_an_address_registered_without_its_invitation_is_confirmed_as_any_other(
    client, laura, brightwave, mailoutbox
):
    """The invitation proves only the address it went to: another one, registered by a
    stranger or by the colleague without the link, waits for its own confirmation."""
    invitation = reg.invitation_create(
        organisation=brightwave, email="sam.colleague@demo-employer.com", by=laura
    )
    with pytest.raises(ValidationError, match="This invitation was sent to another email address"):
        reg.employer_register(
            full_name="Sam Colleague",
            email="sam@elsewhere.example.net",
            password=PASSWORD,
            invitation=invitation,
        )
    assert not User.objects.filter(email="sam@elsewhere.example.net").exists()
    data = form(
        email="sam@elsewhere.example.net",
        organisation_name="Brightwave Digital",
        organisation_choice=f"join:{brightwave.pk}",
    )
    mailoutbox.clear()
    assert client.post(REGISTER, data).status_code == 302
    other = User.objects.get(email="sam@elsewhere.example.net")
    assert not reg.email_confirmed(other)
    assert [m for m in mailoutbox if "Confirm" in m.subject and m.to == [other.email]]


# An address that already has an account (issue 15, 3) --------------------------------


def test_registering_an_existing_address_looks_the_same_and_emails_its_owner(
    client, cast, mailoutbox, settings
):
    settings.SITE_URL = "https://mycareer.example.ac.uk"
    new = client.post(REGISTER, form())
    fresh_page = client.get(new["Location"])
    mailoutbox.clear()
    before = (User.objects.count(), RegistrationRequest.objects.count())
    existing = client.post(
        REGISTER, form(email="employer@demo-employer.com", organisation_choice="new")
    )
    assert (existing.status_code, existing["Location"]) == (new.status_code, new["Location"])
    existing_page = client.get(existing["Location"]).content.decode()
    assert existing_page.replace("employer@demo-employer.com", "ADDRESS") == (
        fresh_page.content.decode().replace("kim@kittiwake.studio", "ADDRESS")
    )
    assert "Check your email" in existing_page
    assert (User.objects.count(), RegistrationRequest.objects.count()) == before
    [message] = mailoutbox
    assert message.to == ["employer@demo-employer.com"]
    assert message.subject == "[MyCareer] You already have a MyCareer account"
    assert "https://mycareer.example.ac.uk/accounts/login/" in message.body
    assert "https://mycareer.example.ac.uk/accounts/password/reset/" in message.body


def test_register_pressed_twice_sends_the_confirmation_only(client, cast, mailoutbox):
    """The second press is the same registration: no email saying the address is taken."""
    first = client.post(REGISTER, form())
    again = client.post(REGISTER, form())
    assert (again.status_code, again["Location"]) == (first.status_code, first["Location"])
    assert User.objects.filter(email="kim@kittiwake.studio").count() == 1
    assert RegistrationRequest.objects.filter(user__email="kim@kittiwake.studio").count() == 1
    assert [m.subject for m in mailoutbox] == [
        "[MyCareer] Confirm your email address to complete your registration"
    ]


def test_registering_again_with_another_password_still_tells_the_owner(client, cast, mailoutbox):
    """Not the same form sent twice: someone else may be trying the address."""
    client.post(REGISTER, form())
    client.post(REGISTER, form(password1="another-Password-8", password2="another-Password-8"))
    assert [m.subject for m in mailoutbox][-1] == "[MyCareer] You already have a MyCareer account"


def test_a_phone_number_of_twenty_digits_is_refused_keeping_what_was_typed(client, cast):
    before = (User.objects.count(), RegistrationRequest.objects.count())
    response = client.post(REGISTER, form(phone="12345678901234567890"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a phone number of 7 to 15 digits" in body
    assert "kim@kittiwake.studio" in body and "12345678901234567890" in body
    assert (User.objects.count(), RegistrationRequest.objects.count()) == before
    assert client.post(REGISTER, form(phone="+44 (0)113 496 0000 ext 204")).status_code == 302


# Rate limits (issue 15, 3) ---------------------------------------------------------------


def test_registration_is_limited_per_address_keeping_what_was_typed(client, cast, settings):
    settings.MYCAREER = {**settings.MYCAREER, "REGISTRATIONS_PER_EMAIL_PER_HOUR": 2}
    for n in range(2):
        client.post(REGISTER, form(organisation_name=f"Kittiwake {n}", website=""))
    refused = client.post(REGISTER, form(organisation_name="Kittiwake 3", website=""))
    body = refused.content.decode()
    assert refused.status_code == 429
    assert "too many registrations from here in the last hour" in body
    assert 'value="Kittiwake 3"' in body and 'value="Kim Lee"' in body
    assert not Organisation.objects.filter(name="Kittiwake 3").exists()


def test_registration_is_limited_per_network_across_addresses(client, cast, settings):
    settings.MYCAREER = {**settings.MYCAREER, "REGISTRATIONS_PER_NETWORK_PER_HOUR": 2}
    for n in range(2):
        response = client.post(
            REGISTER,
            form(email=f"kim{n}@kittiwake.studio", organisation_name=f"Org {n}", website=""),
            REMOTE_ADDR=f"203.0.113.{n + 1}",
        )
        assert response.status_code == 302
    same_network = client.post(
        REGISTER, form(email="kim9@kittiwake.studio", website=""), REMOTE_ADDR="203.0.113.200"
    )
    assert same_network.status_code == 429
    elsewhere = client.post(
        REGISTER, form(email="kim8@kittiwake.studio", website=""), REMOTE_ADDR="198.51.100.4"
    )
    assert elsewhere.status_code == 302


def test_the_counters_live_in_the_shared_database_cache(cast):
    import time

    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    from mycareer.core import ratelimit

    limit = ratelimit.Limit("test", 1, 3600)
    now = time.time()
    assert isinstance(caches["default"], DatabaseCache)
    assert ratelimit.hit(limit, "x", now=now) is False
    assert ratelimit.hit(limit, "x", now=now) is True
    # Another process builds a cache object of its own and reads the same counter.
    other_process = caches.create_connection("default")
    assert other_process.get(ratelimit._key(limit, "x", int(now // 3600))) == 2


def test_networks_group_nearby_addresses():
    from mycareer.core.ratelimit import network_of

    assert network_of("203.0.113.7") == network_of("203.0.113.250") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2::1") == network_of("2001:db8:1:2:ffff::9")
    assert network_of(None) == network_of("not an address") == "unknown"


def test_merging_a_registration_nobody_approved_makes_its_registrant_ask_to_join(
    laura, brightwave, persona
):
    """A stranger registered "Brightwave Digital Ltd"; staff merged it into the real
    Brightwave Digital, and the stranger became its administrator, seeing every
    contact's details, without anyone approving them."""
    from mycareer.organisations import services
    from mycareer.organisations.models import RegistrationRequest

    for n in (1, 2):  # the same address registered two others that day
        reg.employer_register(
            full_name=f"Kim Lee {n}",
            email=f"kim{n}@kittiwake{n}.studio",
            password=PASSWORD,
            organisation_name=f"Kittiwake Studio {n}",
            website=f"https://kittiwake{n}.studio",
            ip_address="192.0.2.50",
        )
    registration = reg.employer_register(
        full_name="Jay Smith",
        email="brightwave.recruitment@example.net",
        password=PASSWORD,
        organisation_name="Brightwave Digital Ltd",
        ip_address="192.0.2.50",
    )
    assert registration.risk_reasons == [
        "No website given",
        "Very close to existing organisations: Brightwave Digital",
        "3 registrations from one address in a day",
    ]
    stranger, copy = registration.user, registration.organisation
    summary = services.organisation_merge(
        survivor=brightwave, other=copy, keep={}, by=persona("manager")
    )
    assert summary["employer logins now waiting for approval to join"] == 1
    assert "employer logins" not in summary  # counted once, as waiting
    membership = EmployerMembership.objects.get(user=stranger, organisation=brightwave)
    assert (membership.status, membership.is_admin) == ("pending", False)
    registration.refresh_from_db()
    assert (registration.kind, registration.organisation) == ("join", brightwave)
    assert stranger not in administrators_of(brightwave)
    # Scored as what it now is, a request to join Brightwave, not as a new organisation.
    assert registration.risk_reasons == [
        "Email domain example.net differs from the website's demo-employer.com",
        "3 registrations from one address in a day",  # those before it, as it was made
    ]
    assert registration.risk_score == 55
    # Not yet among its contacts (who are its people, and its bulk email's recipients).
    assert not brightwave.contacts.filter(user=stranger).exists()
    # Approved, they join as a member: Brightwave already has its administrator.
    EmailAddress.objects.filter(user=stranger).update(verified=True)
    reg.registration_decide(registration=registration, approve=True, by=persona("manager"))
    membership.refresh_from_db()
    assert (membership.status, membership.is_admin) == ("active", False)
    assert RegistrationRequest.objects.get(pk=registration.pk).status == "approved"
    assert brightwave.contacts.filter(user=stranger).exists()


def test_a_live_organisation_is_never_merged_into_a_registration_nobody_approved(
    client, laura, brightwave, persona
):
    """The registration page's "merge" link kept the stranger's copy and merged the real
    Brightwave Digital into it: the copy went live with its contacts and vacancies, and
    the stranger administered them, with their registration still waiting."""
    from django.core.exceptions import ValidationError

    from mycareer.organisations import services

    for n in (1, 2):  # the same address registered two others that day
        reg.employer_register(
            full_name=f"Kim Lee {n}",
            email=f"kim{n}@kittiwake{n}.studio",
            password=PASSWORD,
            organisation_name=f"Kittiwake Studio {n}",
            website=f"https://kittiwake{n}.studio",
            ip_address="192.0.2.50",
        )
    registration = reg.employer_register(
        full_name="Jay Smith",
        email="brightwave.recruitment@example.net",
        password=PASSWORD,
        organisation_name="Brightwave Digital Ltd",
        ip_address="192.0.2.50",
    )
    assert registration.risk_reasons == [
        "No website given",
        "Very close to existing organisations: Brightwave Digital",
        "3 registrations from one address in a day",
    ]
    stranger, copy = registration.user, registration.organisation
    with pytest.raises(ValidationError, match="nobody has approved yet: merge it into") as refused:
        services.organisation_merge(survivor=copy, other=brightwave, keep={}, by=persona("manager"))
    # What happens next is the registration's, not something the registrant must do.
    assert refused.value.messages[0].endswith(
        "; their registration then becomes a request to join it, for you to decide under "
        "Registrations."
    )
    copy.refresh_from_db()
    brightwave.refresh_from_db()
    assert copy.status == Organisation.Status.PENDING
    assert brightwave.merged_into_id is None
    assert not copy.contacts.exclude(user=stranger).exists()
    assert stranger not in administrators_of(brightwave)

    # The page offers the merge the safe way round: the registration into the live record.
    client.force_login(persona("manager"))
    body = client.get(f"/organisations/registrations/{registration.pk}/").content.decode()
    assert f'href="/organisations/{brightwave.pk}/merge/?other={copy.pk}"' in body
    assert f'href="/organisations/{copy.pk}/merge/"' not in body
    assert "decline and tell the employer to ask to join" not in body
    assert "then asks to join it" not in body
    assert "their registration becomes a request to join it, for you to decide" in body
    # The wrong way round, typed in, says so before offering any choice to make.
    refused = client.get(f"/organisations/{copy.pk}/merge/?other={brightwave.pk}", follow=True)
    assert refused.redirect_chain == [(f"/organisations/{copy.pk}/merge/", 302)]
    body = refused.content.decode()
    assert "nobody has approved yet: merge it into" in body
    assert "asks to join" not in body
    # Where it lands offers each duplicate the right way round, not the refused one again.
    assert f'href="/organisations/{brightwave.pk}/merge/?other={copy.pk}"' in body
    assert f'href="?other={brightwave.pk}"' not in body


def test_a_registration_page_offers_merges_only_while_it_waits_and_only_into_live_records(
    client, laura, brightwave, persona
):
    """The merge links stayed on a registration already decided, and offered merging it
    into another registration nobody had approved either."""
    first = reg.employer_register(
        full_name="Jay Smith",
        email="brightwave.recruitment@example.net",
        password=PASSWORD,
        organisation_name="Brightwave Digital Ltd",
    )
    second = reg.employer_register(
        full_name="Kim Lee",
        email="kim@brightwave-digital.example.org",
        password=PASSWORD,
        organisation_name="Brightwave Digital Ltd",
    )
    client.force_login(persona("manager"))
    page = f"/organisations/registrations/{second.pk}/"
    body = client.get(page).content.decode()
    copy, other = second.organisation, first.organisation
    assert f'href="/organisations/{brightwave.pk}/merge/?other={copy.pk}"' in body
    assert f">{other.name}</a> (a registration waiting too)" in body
    assert f'href="/organisations/{other.pk}/merge/' not in body
    assert "their registration becomes a request to join it" in body

    reg.registration_decide(
        registration=second, approve=False, by=persona("manager"), reason="A copy"
    )
    body = client.get(page).content.decode()
    assert "Possible duplicates" in body
    assert "/merge/" not in body
    assert "their registration becomes a request to join it" not in body


def test_a_registration_is_not_merged_into_an_archived_organisation(
    client, laura, brightwave, persona
):
    """A registration merged into an archived record became a request to join an
    organisation nobody works with any more, which nobody would answer."""
    from django.core.exceptions import ValidationError

    from mycareer.organisations import services

    services.organisation_archive(organisation=brightwave, by=persona("manager"))
    registration = reg.employer_register(
        full_name="Jay Smith",
        email="brightwave.recruitment@example.net",
        password=PASSWORD,
        organisation_name="Brightwave Digital Ltd",
    )
    copy = registration.organisation
    with pytest.raises(ValidationError, match="is archived, so .* Restore Brightwave"):
        services.organisation_merge(survivor=brightwave, other=copy, keep={}, by=persona("manager"))
    registration.refresh_from_db()
    assert (registration.kind, registration.organisation) == ("new", copy)

    client.force_login(persona("manager"))
    body = client.get(f"/organisations/registrations/{registration.pk}/").content.decode()
    assert f">{brightwave.name}</a> (archived: restore it first to merge into it)" in body
    assert "/merge/" not in body
    assert "their registration becomes a request to join it" not in body
    refused = client.get(f"/organisations/{brightwave.pk}/merge/?other={copy.pk}", follow=True)
    assert "is archived, so" in refused.content.decode()

    # Restored, the merge goes ahead as for any live record.
    services.organisation_restore(organisation=brightwave, by=persona("manager"))
    services.organisation_merge(survivor=brightwave, other=copy, keep={}, by=persona("manager"))
    registration.refresh_from_db()
    assert (registration.kind, registration.organisation) == ("join", brightwave)


# Signing in for no organisation (yet) ----------------------------------------------


def test_one_who_signs_in_for_no_organisation_is_told_why_not_that_it_has_no_administrator(
    client, laura, brightwave, persona
):
    """Asking to join Brightwave (which has Laura as its administrator), or declined,
    "Add a vacancy" said "yours has none on MyCareer just now: ask the Careers Centre,
    whose staff can make one of you its administrator"."""
    import html

    request = reg.employer_register(
        full_name="Pat Ng", email="pat@demo-employer.com", password=PASSWORD, join=brightwave
    )
    kittiwake = reg.employer_register(
        full_name="Kim Lee",
        email="kim@kittiwake.studio",
        password=PASSWORD,
        organisation_name="Kittiwake Studio",
    )
    reg.registration_decide(
        registration=kittiwake, approve=False, reason="Not an employer.", by=persona("manager")
    )
    cases = [
        (request.user, "Your request to join Brightwave Digital is waiting for the university"),
        (kittiwake.user, "Your registration of Kittiwake Studio was declined: your home page"),
    ]
    for user, why in cases:
        assert reg.why_signed_in_for_none(user).startswith(why)
        client.force_login(user)
        for path in ("/vacancies/new/", "/employer/profile/", "/vacancies/yours/"):
            body = html.unescape(client.get(path).content.decode())
            assert why in body, (user, path)
            assert "has none on MyCareer" not in body
            assert "If you have just registered" not in body


def test_email_preferences_before_approval_say_why_there_is_nothing_to_choose(
    client, brightwave, persona
):
    """Asking to join Brightwave, the email preferences page said "Page not found": they
    are none of its contacts until the university approves the request."""
    import html

    request = reg.employer_register(
        full_name="Pat Ng", email="pat@demo-employer.com", password=PASSWORD, join=brightwave
    )
    declined = reg.employer_register(
        full_name="Sam Roe", email="sam@demo-employer.com", password=PASSWORD, join=brightwave
    )
    reg.registration_decide(
        registration=declined, approve=False, reason="Not one of ours.", by=persona("manager")
    )
    cases = [
        (request.user, "Your request to join Brightwave Digital is waiting for the university"),
        (declined.user, "Your request to join Brightwave Digital was declined"),
    ]
    for user, why in cases:
        assert reg.why_no_email_choices(user).startswith(why)
        assert "You can choose which emails you get here once you sign in for" in (
            reg.why_no_email_choices(user)
        )
        client.force_login(user)
        for response in (
            client.get("/employer/preferences/"),
            client.post("/employer/preferences/", {"newsletters": "on"}),
        ):
            assert response.status_code == 200, user
            body = html.unescape(response.content.decode())
            assert why in body
            assert "Save my preferences" not in body
    assert not EmployerMembership.objects.filter(
        user__in=[request.user, declined.user], status=EmployerMembership.Status.ACTIVE
    ).exists()


def test_a_member_without_a_contact_record_is_told_to_ask_for_one(client, laura):
    from mycareer.organisations.models import Contact

    Contact.objects.filter(user=laura).update(user=None)
    why = reg.why_no_email_choices(laura)
    assert why.startswith("Your contact record at Brightwave Digital is not set up yet")
    client.force_login(laura)
    response = client.get("/employer/preferences/")
    assert response.status_code == 200
    assert "is not set up yet" in response.content.decode()
