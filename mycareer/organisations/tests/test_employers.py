"""Employer self-service: registration with risk checks, moderation, profile, contacts."""

import html
import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from mycareer.accounts.models import User
from mycareer.audit.models import AuditEntry
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.core.tests.queries import assert_no_more_queries, steady_queries
from mycareer.organisations import registration as reg
from mycareer.organisations import services
from mycareer.organisations.models import (
    EmailOptOut,
    EmployerMembership,
    Organisation,
    RegistrationRequest,
)
from mycareer.organisations.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def register(**overrides):
    data = {
        "full_name": "Nia Evans",
        "email": "nia@sparrowhawk.co.uk",
        "password": "a-long-Password-9",
        "organisation_name": "Sparrowhawk Robotics",
        "website": "https://sparrowhawk.co.uk",
        "ip_address": "198.51.100.7",
    }
    return reg.employer_register(**{**data, **overrides})


def test_a_clean_registration_scores_low_and_waits_for_approval(cast):
    registration = register()
    assert registration.risk_score == 0
    assert registration.risk_reasons == []
    org = registration.organisation
    assert org.status == Organisation.Status.PENDING
    membership = EmployerMembership.objects.get(user=registration.user)
    assert membership.is_admin and membership.status == EmployerMembership.Status.ACTIVE
    assert org.contacts.get(user=registration.user).visible_to_students is False


def test_free_mail_and_mismatched_domains_raise_the_risk_with_reasons(cast):
    free = register(email="nia.evans@gmail.com")
    assert "Free email address (gmail.com), not an organisation's own" in free.risk_reasons
    mismatched = register(email="nia@otherplace.com", organisation_name="Otter Analytics")
    assert (
        "Email domain otherplace.com differs from the website's sparrowhawk.co.uk"
        in mismatched.risk_reasons
    )
    no_site = register(email="x@y.com", website="", organisation_name="Quiet Co")
    assert "No website given" in no_site.risk_reasons


@pytest.mark.usefixtures("brightwave")
def test_a_name_close_to_an_existing_organisation_is_flagged(cast):
    registration = register(organisation_name="Brightwave Digital Limited", email="a@brightwave.io")
    assert any(
        "Very close to existing organisations: Brightwave Digital" in r
        for r in registration.risk_reasons
    )
    assert registration.risk_level in {"medium", "high"}


def test_many_registrations_from_one_address_are_flagged(cast):
    register(email="a@sparrowhawk.co.uk")
    register(email="b@sparrowhawk.co.uk", organisation_name="Second Org Ltd")
    third = register(email="c@sparrowhawk.co.uk", organisation_name="Third Org Ltd")
    assert any("registrations from one address in a day" in r for r in third.risk_reasons)


def test_registration_form_offers_the_existing_organisation_to_join(client, brightwave):
    url = reverse("employer:register")
    data = {
        "organisation_name": "Brightwave Digital Limited",
        "website": "",
        "full_name": "Sam New",
        "job_title": "Recruiter",
        "email": "sam@demo-employer.com",
        "password1": "a-long-Password-9",
        "password2": "a-long-Password-9",
    }
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Is your organisation already on MyCareer?" in body
    assert "Join Brightwave Digital" in body
    assert 'value="Sam New"' in body
    assert not User.objects.filter(email="sam@demo-employer.com").exists()
    existing = brightwave
    response = client.post(url, {**data, "organisation_choice": f"join:{existing.pk}"})
    assert response.status_code == 302
    user = User.objects.get(email="sam@demo-employer.com")
    request = RegistrationRequest.objects.get(user=user)
    assert request.kind == RegistrationRequest.Kind.JOIN
    assert request.organisation == existing
    assert EmployerMembership.objects.get(user=user).status == EmployerMembership.Status.PENDING
    assert Organisation.objects.filter(name="Brightwave Digital Limited").count() == 0


def test_registration_needs_email_verification_before_login(client, cast, mailoutbox):
    client.post(
        reverse("employer:register"),
        {
            "organisation_name": "Kittiwake Studio",
            "website": "https://kittiwake.studio",
            "full_name": "Kim Lee",
            "email": "kim@kittiwake.studio",
            "password1": "a-long-Password-9",
            "password2": "a-long-Password-9",
        },
    )
    assert any("kim@kittiwake.studio" in m.to for m in mailoutbox)
    response = client.post(
        reverse("account_login"), {"login": "kim@kittiwake.studio", "password": "a-long-Password-9"}
    )
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]


def test_approval_makes_the_organisation_visible_to_students(client, persona, cast):
    registration = register()
    org = registration.organisation
    client.force_login(persona("student"))
    assert client.get(org.get_absolute_url()).status_code == 404
    reg.registration_decide(registration=registration, approve=True, by=persona("operator"))
    org.refresh_from_db()
    assert org.status == Organisation.Status.ACTIVE
    assert client.get(org.get_absolute_url()).status_code == 200


def test_declining_needs_a_reason(persona, cast):
    from django.core.exceptions import ValidationError

    registration = register()
    with pytest.raises(ValidationError):
        reg.registration_decide(registration=registration, approve=False, by=persona("operator"))
    reg.registration_decide(
        registration=registration, approve=False, by=persona("operator"), reason="Not an employer"
    )
    registration.organisation.refresh_from_db()
    assert registration.organisation.status == Organisation.Status.ARCHIVED


def test_a_declined_registration_says_what_was_declined_and_why(
    client, persona, brightwave, settings
):
    """The home page called a declined registration of a new organisation "your request
    to join", and gave no reason nor anything to do; then it ran the reason into its own
    sentence, and named no address to write to."""
    settings.DEFAULT_FROM_EMAIL = "The Careers Centre <careers@demo.ac.uk>"
    new = register()
    joining = register(
        email="ola@demo-employer.com", organisation_name="", join=brightwave, full_name="Ola Ode"
    )
    for registration in (new, joining):
        reg.registration_decide(
            registration=registration,
            approve=False,
            by=persona("operator"),
            reason="Already registered: ask its administrator to invite you.",
        )
    assert reg.declined_registration(new.user, new.organisation) == new
    assert reg.declined_registration(joining.user, brightwave) == joining
    assert reg.declined_registration(joining.user, new.organisation) is None

    client.force_login(new.user)
    body = client.get("/").content.decode()
    assert "<strong>Sparrowhawk Robotics</strong>:" in body
    assert "your registration of it was declined" in body
    assert "request to join" not in body
    # The reason stands apart from the page's own words, and the way on is concrete.
    assert (
        "<blockquote><p>Already registered: ask its administrator to invite you.</p></blockquote>"
        in body
    )
    assert "If your organisation is already on MyCareer, ask one of its administrators" in body
    assert f"to invite {new.user.email}: accepting the invitation signs you in" in body
    assert '<a href="mailto:careers@demo.ac.uk">careers@demo.ac.uk</a>' in body
    client.force_login(joining.user)
    body = client.get("/").content.decode()
    assert "your request to join was declined" in body
    assert (
        "<blockquote><p>Already registered: ask its administrator to invite you.</p></blockquote>"
        in body
    )
    assert f"Ask one of {brightwave.name}'s administrators on MyCareer to invite" in body
    assert '<a href="mailto:careers@demo.ac.uk">careers@demo.ac.uk</a>' in body


@pytest.mark.django_db(transaction=True)
def test_decisions_are_emailed_with_the_reason(persona, cast, smtp_server, run_worker):
    approved, declined = register(), register(email="z@zz.com", organisation_name="Zed Holdings")
    reg.registration_decide(registration=approved, approve=True, by=persona("operator"))
    reg.registration_decide(
        registration=declined,
        approve=False,
        by=persona("operator"),
        reason="We could not verify you",
    )
    run_worker()
    messages = {m["To"]: m for m in smtp_server.wait_for(2) if "registration" in m["Subject"]}
    assert "is approved" in messages["nia@sparrowhawk.co.uk"]["Subject"]
    assert "We could not verify you" in messages["z@zz.com"].get_content()


def test_a_decision_on_a_registration_changed_since_the_page_showed_it_is_refused(persona, cast):
    from django.core.exceptions import ValidationError

    registration = register()
    seen = reg.registration_version(registration)
    org = registration.organisation
    org.name = "Sparrowhawk Robotics and Drones"  # the employer edits their draft
    org.save()
    with pytest.raises(ValidationError, match="changed after you opened it"):
        reg.registration_decide(
            registration=registration, approve=True, by=persona("operator"), seen=seen
        )
    registration.refresh_from_db()
    assert registration.status == RegistrationRequest.Status.PENDING
    reg.registration_decide(
        registration=registration,
        approve=True,
        by=persona("operator"),
        seen=reg.registration_version(registration),
    )
    registration.refresh_from_db()
    assert registration.status == RegistrationRequest.Status.APPROVED


def test_confirming_the_address_or_new_details_change_the_version(cast):
    from allauth.account.models import EmailAddress

    registration = register()
    user = registration.user
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    unconfirmed = reg.registration_version(registration)
    assert reg.registration_version(registration) == unconfirmed  # stable while nothing changes
    EmailAddress.objects.filter(user=user).update(verified=True)
    confirmed = reg.registration_version(registration)
    assert confirmed != unconfirmed
    user.job_title = "Chief Executive"
    user.save()
    assert reg.registration_version(registration) != confirmed


def test_a_decision_on_a_registration_merged_since_the_page_showed_it_is_refused(
    persona, brightwave
):
    from django.core.exceptions import ValidationError

    registration = register(organisation_name="Brightwave Digital Ltd")
    seen = reg.registration_version(registration)
    services.organisation_merge(
        survivor=brightwave, other=registration.organisation, keep={}, by=persona("manager")
    )
    registration.refresh_from_db()
    assert registration.kind == RegistrationRequest.Kind.JOIN  # no longer what was shown
    with pytest.raises(ValidationError, match="changed after you opened it"):
        reg.registration_decide(
            registration=registration, approve=True, by=persona("operator"), seen=seen
        )


def test_a_join_approved_after_its_last_administrator_left_is_a_new_version(persona, brightwave):
    """Approving a request to join an organisation nobody administers makes the person its
    administrator; the page said so only if it was so when the moderator read it."""
    from django.core.exceptions import ValidationError

    registration = register(organisation_name="Brightwave Digital Ltd")
    services.organisation_merge(
        survivor=brightwave, other=registration.organisation, keep={}, by=persona("manager")
    )
    registration.refresh_from_db()
    seen = reg.registration_version(registration)
    EmployerMembership.objects.filter(organisation=brightwave).exclude(
        user=registration.user
    ).update(is_admin=False)
    with pytest.raises(ValidationError, match="changed after you opened it"):
        reg.registration_decide(
            registration=registration, approve=True, by=persona("operator"), seen=seen
        )
    assert not EmployerMembership.objects.get(user=registration.user).is_admin


def test_a_second_moderator_is_told_who_decided_and_nothing_is_decided_twice(persona, cast):
    from django.core.exceptions import ValidationError

    registration = register()
    seen = reg.registration_version(registration)
    first, second = persona("operator"), persona("manager")
    reg.registration_decide(registration=registration, approve=True, by=first, seen=seen)
    with pytest.raises(ValidationError) as refused:
        reg.registration_decide(
            registration=registration, approve=False, by=second, reason="Spam", seen=seen
        )
    assert f"{first} already approved this registration on" in refused.value.messages[0]
    registration.refresh_from_db()
    assert registration.status == RegistrationRequest.Status.APPROVED
    assert registration.decided_by == first
    assert (
        AuditEntry.objects.filter(action__startswith="organisations.registration.")
        .exclude(action="organisations.registration.created")
        .count()
        == 1
    )


def test_the_moderation_page_decides_on_the_version_it_showed(client, persona, cast):
    registration = register()
    client.force_login(persona("operator"))
    url = reverse("organisations:registration", args=[registration.pk])
    opened = as_post(form_fields(client.get(url).content.decode(), containing="seen"))
    assert opened["seen"] == [reg.registration_version(registration)]
    org = registration.organisation
    org.name = "Sparrowhawk Robotics and Drones"
    org.save()
    refused = client.post(url, {**opened, "decision": "approve"})
    assert refused.status_code == 200
    page = html.unescape(refused.content.decode())
    assert "changed after you opened it" in page
    assert "Sparrowhawk Robotics and Drones" in page  # the version to read again
    registration.refresh_from_db()
    assert registration.status == RegistrationRequest.Status.PENDING
    again = as_post(form_fields(page, containing="seen"))
    assert again["decision"] == ["approve"]  # what was chosen is kept
    assert client.post(url, again).status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationRequest.Status.APPROVED
    # A second moderator with the page still open is told who decided, not shown a form.
    client.force_login(persona("manager"))
    late = client.post(url, {**opened, "decision": "approve"})
    page = html.unescape(late.content.decode())
    assert f"{persona('operator')} already approved this registration on" in page
    assert 'name="decision"' not in page


@pytest.mark.django_db(transaction=True)
def test_invitations_are_emailed_and_let_a_colleague_join(
    client, laura, brightwave, smtp_server, run_worker
):
    org = brightwave
    client.force_login(laura)
    assert (
        client.post(reverse("employer:contacts"), {"email": "ravi@demo-employer.com"}).status_code
        == 302
    )
    run_worker()
    [message] = [m for m in smtp_server.wait_for(1) if m["To"] == "ravi@demo-employer.com"]
    link = next(line for line in message.get_content().splitlines() if "invite=" in line)
    token = link.split("invite=")[1].strip()
    client.logout()
    opened = client.get(f"{reverse('employer:register')}?invite={token}").content.decode()
    assert "<title>Join Brightwave Digital" in opened  # the tab says what the page does
    response = client.post(
        reverse("employer:register"),
        {
            "invite": token,
            "full_name": "Ravi Patel",
            "email": "ravi@demo-employer.com",
            "password1": "a-long-Password-9",
            "password2": "a-long-Password-9",
        },
    )
    assert response.status_code == 302
    ravi = User.objects.get(email="ravi@demo-employer.com")
    membership = EmployerMembership.objects.get(user=ravi)
    assert membership.organisation == org and membership.status == EmployerMembership.Status.ACTIVE
    assert not RegistrationRequest.objects.filter(user=ravi).exists()
    # Neither email promises what a member cannot do, nor a check of a live organisation.
    invited = " ".join(message.get_content().split())
    assert "its administrators on MyCareer, Laura Chen among them, can let you" in invited
    # The link came to his address: he is not asked to confirm it again, and is signed in.
    run_worker()
    assert not [m for m in smtp_server.messages() if "Confirm" in m["Subject"]]
    assert client.get(reverse("employer:profile")).status_code == 200


def test_a_profile_too_long_for_students_to_read_is_refused_and_kept(client, laura):
    client.force_login(laura)
    about = "about " * 4000
    response = client.post(
        reverse("employer:profile"),
        {"description": about, "website": "https://demo-employer.com", "locations": "Leeds"},
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Keep it to 20,000 characters (about 3,000 words): it has 23,999." in body
    assert about.strip() in body
    assert Organisation.objects.get(name="Brightwave Digital").description != about.strip()


def test_employer_edits_only_their_own_organisation(client, laura):
    other = ContactFactory(organisation__name="Northbridge Engineering Ltd").organisation
    client.force_login(laura)
    response = client.post(
        reverse("employer:profile"),
        {
            "description": "We build public services",
            "website": "https://demo-employer.com",
            "locations": "Leeds",
        },
    )
    assert response.status_code == 302
    assert (
        Organisation.objects.get(name="Brightwave Digital").description
        == "We build public services"
    )
    for name in ["edit", "contact_create", "note_create", "merge", "delete"]:
        assert client.get(reverse(f"organisations:{name}", args=[other.pk])).status_code == 403, (
            name
        )
    contact = other.contacts.first()
    refused = client.get(reverse("employer:contact_edit", args=[contact.pk]))
    assert refused.status_code == 403
    body = html.unescape(refused.content.decode())
    assert "This person is another organisation's" in body
    assert "You see only Brightwave Digital's people, under “Our people”" in body
    assert contact.email not in body and contact.full_name not in body
    # Another organisation's profile says why too, never its people.
    refused = client.get(other.get_absolute_url())
    assert refused.status_code == 403
    assert "This is another organisation's profile" in html.unescape(refused.content.decode())
    assert contact.email not in html.unescape(refused.content.decode())


def test_employer_never_sees_notes_tags_or_key_accounts(client, persona, laura, brightwave):
    org = brightwave
    services.note_create(organisation=org, by=persona("operator"), text="Internal: budget is tight")
    client.force_login(laura)
    for url in [
        org.get_absolute_url(),
        reverse("employer:activity"),
        reverse("employer:profile"),
        "/",
    ]:
        body = client.get(url).content.decode()
        assert "Internal: budget is tight" not in body, url
        assert "Careers fair exhibitor" not in body, url  # a staff tag on this organisation
    assert client.get(reverse("organisations:search")).status_code == 403


def test_visibility_choice_records_who_and_when(client, laura, brightwave):
    org = brightwave
    contact = services.contact_create(
        organisation=org, by=laura, full_name="Pat", email="pat@demo-employer.com"
    )
    client.force_login(laura)
    client.post(
        reverse("employer:contact_edit", args=[contact.pk]),
        {"full_name": "Pat", "email": "pat@demo-employer.com", "visible_to_students": "on"},
    )
    contact.refresh_from_db()
    assert contact.visible_to_students and contact.visibility_changed_by == laura


def test_preferences_record_opt_outs_per_purpose(client, laura):
    client.force_login(laura)
    assert client.post(reverse("employer:preferences"), {"newsletters": "on"}).status_code == 302
    opt_outs = EmailOptOut.objects.filter(contact__user=laura)
    assert sorted(opt_outs.values_list("purpose", "method")) == [
        ("events", "form"),
        ("other", "form"),
        ("vacancies", "form"),
    ]
    client.post(
        reverse("employer:preferences"),
        {"newsletters": "on", "events": "on", "vacancies": "on", "other": "on"},
    )
    assert not EmailOptOut.objects.filter(contact__user=laura).exists()


def test_preferences_show_what_the_address_chose_through_another_record(client, laura, brightwave):
    """Laura unsubscribed through a link sent to her record at another organisation: her
    preferences said she was still subscribed, and nothing went to her."""
    from mycareer.organisations.tests.factories import ContactFactory

    other = ContactFactory(organisation__name="Her Old Firm Ltd", email=laura.email.upper())
    services.contact_opt_out(contact=other, purpose="events", method="link", by=None)
    client.force_login(laura)
    page = client.get(reverse("employer:preferences")).content.decode()

    def ticked(name: str) -> bool:
        return "checked" in re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)

    assert not ticked("events") and ticked("newsletters")
    # Ticking it again takes her back, at her address.
    client.post(
        reverse("employer:preferences"),
        {"newsletters": "on", "events": "on", "vacancies": "on", "other": "on"},
    )
    assert not EmailOptOut.objects.filter(contact=other).exists()


def test_staff_record_the_bulk_email_a_contact_asked_for(client, persona, brightwave):
    """A contact rang to say "only events, please": staff had no way to record it but
    unticking their consent, which stopped nothing."""
    operator = persona("operator")
    contact = brightwave.contacts.exclude(email="").first()
    url = reverse("organisations:contact_email", args=[brightwave.pk, contact.pk])
    client.force_login(operator)
    opened = as_post(form_fields(client.get(url).content.decode(), containing="events"))
    assert opened["events"] == ["on"] and opened["other"] == ["on"]

    chosen = {k: v for k, v in opened.items() if k not in ("newsletters", "vacancies", "other")}
    done = client.post(url, chosen, follow=True)
    assert f"Recorded: {contact.full_name} receives emails promoting university events." in (
        done.content.decode()
    )
    assert sorted(contact.opt_outs.values_list("purpose", "method")) == [
        ("newsletters", "staff"),
        ("other", "staff"),
        ("vacancies", "staff"),
    ]
    page = client.get(reverse("organisations:contact", args=[brightwave.pk, contact.pk]))
    assert "<dt>Bulk email they receive</dt><dd>Event promotion</dd>" in page.content.decode()
    # Saved unchanged, it records nothing.
    entries = AuditEntry.objects.count()
    unchanged = as_post(form_fields(client.get(url).content.decode(), containing="events"))
    again = client.post(url, unchanged, follow=True).content.decode()
    assert "Nothing was changed." in again and "Recorded:" not in again
    assert AuditEntry.objects.count() == entries

    # They unsubscribe from events by a link while the page is open: saving it, the box
    # left as it was, does not take them back.
    stale = as_post(form_fields(client.get(url).content.decode(), containing="events"))
    services.contact_opt_out(contact=contact, purpose="events", method="link", by=None)
    kept = client.post(url, stale, follow=True).content.decode()
    assert "Nothing was changed." in kept
    assert contact.opt_outs.filter(purpose="events").exists()


@pytest.mark.parametrize(("name", "status"), [("operator", 200), ("viewer", 403), ("student", 403)])
def test_only_operators_moderate_registrations(client, persona, name, status):
    client.force_login(persona(name))
    assert client.get(reverse("organisations:registrations")).status_code == status


def test_the_registrations_page_refuses_a_list_it_does_not_know(client, persona):
    """`?show=bogus` showed the decided registrations, as if they had been asked for."""
    client.force_login(persona("operator"))
    url = reverse("organisations:registrations")
    refused = client.get(url, {"show": "bogus"})
    assert refused.status_code == 400
    page = html.unescape(refused.content.decode())
    assert "it does not know “bogus”" in page
    assert "registrations waiting" in page and "<table" not in page
    assert client.get(url, {"show": "decided"}).status_code == 200


@pytest.mark.usefixtures("demo")  # about the demo data itself: moderators have work to see
def test_demo_has_a_high_risk_registration_waiting(cast):
    risky = RegistrationRequest.objects.filter(status="pending").order_by("-risk_score").first()
    assert risky.risk_score >= 50
    # Their addresses are confirmed and stay so when one logs in: staff may decide now.
    waiting = RegistrationRequest.objects.filter(status="pending").select_related("user")
    assert all(reg.email_confirmed(r.user) for r in waiting) and waiting.count() == 2
    assert all(
        EmailAddress.objects.filter(user=r.user, verified=True, primary=True).exists()
        for r in waiting
    )


def test_an_employers_home_says_its_organisation_is_live_in_one_sentence(client, laura):
    """It read "Brightwave Digital: live: students can see your profile"."""
    client.force_login(laura)
    page = " ".join(client.get(reverse("home")).content.decode().split())
    assert "live: students" not in page
    assert "Brightwave Digital</strong>: <span" in page
    assert ">live — students can see your profile</span>" in page


def test_a_mistake_while_choosing_keeps_the_organisations_offered_and_the_choice(
    client, brightwave
):
    """The password is asked again on the "already on MyCareer?" step: forgetting it lost
    the list and the choice, and the next press offered the list again from the top."""
    url = reverse("employer:register")
    data = {
        "organisation_name": "Brightwave Digital Limited",
        "full_name": "Sam New",
        "email": "sam@demo-employer.com",
        "password1": "a-long-Password-9",
        "password2": "a-long-Password-9",
    }
    first = client.post(url, data).content.decode()
    assert "Is your organisation already on MyCareer?" in first
    offered = (f"join:{brightwave.pk}", f"choice_{brightwave.pk}")
    for choice, checked in (("new", "choice_new"), offered):
        page = client.post(
            url, {**data, "password1": "", "password2": "", "organisation_choice": choice}
        ).content.decode()
        assert "Is your organisation already on MyCareer?" in page
        assert f'value="join:{brightwave.pk}"' in page
        assert re.search(rf'id="{checked}"[^>]* checked', page), choice
        assert len(re.findall(r'name="organisation_choice"[^>]* checked', page)) == 1
        assert 'value="Sam New"' in page
    assert not User.objects.filter(email="sam@demo-employer.com").exists()


def _said(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def _preferences_as_sent(client) -> dict:
    page = client.get(reverse("employer:preferences")).content.decode()
    return as_post(form_fields(page, containing="events"))


def test_preferences_saved_unchanged_say_nothing_changed(
    client, laura, django_capture_on_commit_callbacks
):
    client.force_login(laura)
    client.post(reverse("employer:preferences"), {"newsletters": "on", "events": "on"})
    recorded = AuditEntry.objects.count()
    opt_outs = sorted(EmailOptOut.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("employer:preferences"), _preferences_as_sent(client))
    assert response.status_code == 302
    assert _said(response) == ["Nothing was changed."]
    assert AuditEntry.objects.count() == recorded and callbacks == []
    assert sorted(EmailOptOut.objects.values_list("pk", flat=True)) == opt_outs


def test_preferences_with_one_change_say_saved(client, laura):
    client.force_login(laura)
    data = _preferences_as_sent(client)
    data.pop("other", None)  # unticked
    response = client.post(reverse("employer:preferences"), data)
    assert response.status_code == 302
    assert _said(response) == ["Your email preferences are saved."]
    assert list(
        EmailOptOut.objects.filter(contact__user=laura).values_list("purpose", flat=True)
    ) == ["other"]


# Lists cost the same however many rows they show ------------------------------------------


def test_your_people_costs_the_same_with_more_people(client, laura, brightwave, persona):
    from mycareer.vacancies.tests.factories import MembershipFactory

    def more(n: int) -> None:
        for _ in range(n):
            # A person whose visibility a colleague set, one who signs in, one invited.
            contact = ContactFactory(organisation=brightwave, phone="0113 496 0000")
            services.contact_update(contact=contact, by=laura, visible_to_students=True)
            MembershipFactory(organisation=brightwave, is_admin=False)
            reg.invitation_create(
                organisation=brightwave, email=f"{contact.email}.invited.example", by=laura
            )

    more(1)
    client.force_login(laura)
    page = reverse("employer:contacts")
    before = steady_queries(lambda: client.get(page))
    more(5)
    after = steady_queries(lambda: client.get(page))
    assert client.get(page).content.decode().count(f"by {laura}") >= 6
    assert_no_more_queries(before, after)


def _registrations(n: int, *, start: int = 0) -> list[RegistrationRequest]:
    """`n` registrations with several risk reasons (free mail, no website, a name close to
    the others)."""
    return [
        register(
            full_name=f"Kim Lee {n}",
            email=f"kim.lee.{n}@gmail.com",
            website="",
            organisation_name=f"Sparrowhawk Robotics {n}",
        )
        for n in range(start, start + n)
    ]


def test_the_registrations_cost_the_same_with_more_of_them(client, persona, cast):
    manager = persona("manager")
    client.force_login(manager)
    first = _registrations(2)
    reg.registration_decide(registration=first[0], approve=False, by=manager, reason="A copy")
    pages = [f"{reverse('organisations:registrations')}?show={s}" for s in ("pending", "decided")]
    before = [steady_queries(lambda page=page: client.get(page)) for page in pages]
    more = _registrations(6, start=2)
    for registration in more[:3]:
        reg.registration_decide(
            registration=registration, approve=False, by=manager, reason="A copy"
        )
    after = [steady_queries(lambda page=page: client.get(page)) for page in pages]
    body = client.get(pages[0]).content.decode()
    assert body.count("No website given") == 4
    for counted_before, counted_after in zip(before, after, strict=True):
        assert_no_more_queries(counted_before, counted_after)


def test_a_registration_costs_the_same_with_more_reasons_and_matches(client, persona, cast):
    from mycareer.organisations.tests.factories import make_organisation

    make_organisation("Sparrowhawk Robotics", website="https://sparrowhawk.co.uk")
    few = register(email="a@gmail.com", website="https://sparrowhawk.co.uk")
    for n in range(6):
        make_organisation(
            f"Kestrel Robotics {'Ltd' if n % 2 else 'Limited'} {n}",
            website=f"https://kestrel-robotics-{n}.co.uk",
            tags=["Robotics"],
        )
    many = register(
        email="b@gmail.com", organisation_name="Kestrel Robotics Ltd", website="", ip_address=None
    )
    assert len(many.risk_reasons) > len(few.risk_reasons)
    client.force_login(persona("manager"))

    def detail(registration):
        return reverse("organisations:registration", args=[registration.pk])

    before = steady_queries(lambda: client.get(detail(few)))
    after = steady_queries(lambda: client.get(detail(many)))
    assert client.get(detail(many)).content.decode().count("Kestrel Robotics L") >= 4
    assert_no_more_queries(before, after)
