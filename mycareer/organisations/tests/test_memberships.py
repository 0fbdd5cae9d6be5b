"""Who signs in for an organisation: its administrators choose, and one always remains.

A colleague who left kept the organisation's login, with its people's phone numbers and
its vacancies, and nobody but the university could take it away; and an organisation
whose only administrator left could change nothing.
"""

import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mycareer.audit.models import AuditEntry
from mycareer.core.tests.concurrency import at_once
from mycareer.organisations import registration as reg
from mycareer.organisations.models import EmployerInvitation, EmployerMembership

pytestmark = pytest.mark.django_db


def membership_of(laura, brightwave) -> EmployerMembership:
    return EmployerMembership.objects.get(user=laura, organisation=brightwave)


def test_an_administrator_makes_a_colleague_one_and_back(client, laura, brightwave, ravi):
    client.force_login(ravi.user)
    assert "Save the profile" not in client.get(reverse("employer:profile")).content.decode()
    client.force_login(laura)
    role = reverse("employer:member_role", args=[ravi.pk])
    response = client.post(role, {"role": "admin"}, follow=True)
    assert f"{ravi.user} is now an administrator." in response.content.decode()
    # Pressed twice: the role asked for, not a toggle.
    client.post(role, {"role": "admin"})
    ravi.refresh_from_db()
    assert ravi.is_admin
    client.force_login(ravi.user)
    assert "Save the profile" in client.get(reverse("employer:profile")).content.decode()
    reg.membership_set_admin(membership=ravi, is_admin=False, by=laura)
    assert "Save the profile" not in client.get(reverse("employer:profile")).content.decode()
    actions = AuditEntry.objects.filter(action__startswith="organisations.membership.")
    assert sorted(actions.values_list("action", flat=True)) == [
        "organisations.membership.admin_granted",
        "organisations.membership.admin_removed",
    ]


def test_the_last_administrator_can_neither_step_down_nor_leave(client, laura, brightwave, ravi):
    mine = membership_of(laura, brightwave)
    # Her "Leave" page says so first, with nothing to press.
    client.force_login(laura)
    page = client.get(reverse("employer:member_remove", args=[mine.pk])).content.decode()
    assert "Brightwave Digital needs at least one administrator on MyCareer" in page
    assert "<form" not in page.split("<main")[1].split("</main>")[0]
    with pytest.raises(ValidationError, match="needs at least one administrator"):
        reg.membership_set_admin(membership=mine, is_admin=False, by=laura)
    with pytest.raises(ValidationError, match="needs at least one administrator"):
        reg.membership_end(membership=mine, by=laura)
    mine.refresh_from_db()
    assert mine.is_admin
    # With a second administrator, she may leave.
    reg.membership_set_admin(membership=ravi, is_admin=True, by=laura)
    reg.membership_end(membership=mine, by=laura)
    assert not EmployerMembership.objects.filter(user=laura).exists()


@pytest.mark.django_db(transaction=True)
def test_two_administrators_stepping_down_at_once_leave_one(cast, laura, brightwave, ravi):
    reg.membership_set_admin(membership=ravi, is_admin=True, by=laura)
    mine = membership_of(laura, brightwave)
    results, _ = at_once(
        [
            lambda: reg.membership_set_admin(membership=mine, is_admin=False, by=laura),
            lambda: reg.membership_set_admin(membership=ravi, is_admin=False, by=ravi.user),
        ]
    )
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert brightwave.memberships.filter(is_admin=True).count() == 1


def test_a_colleague_who_left_is_removed_after_a_page_that_says_what_it_ends(
    client, laura, brightwave, ravi
):
    client.force_login(laura)
    people = client.get(reverse("employer:contacts")).content.decode()
    assert "Who can sign in for Brightwave Digital" in people
    assert "ravi@demo-employer.com" in people
    remove = reverse("employer:member_remove", args=[ravi.pk])
    page = client.get(remove).content.decode()
    assert "will no longer be able to sign in for Brightwave Digital" in page
    assert "Their entry under Contacts stays" in page
    assert EmployerMembership.objects.filter(pk=ravi.pk).exists()  # a page, not the act
    response = client.post(remove, follow=True)
    assert "can no longer sign in for Brightwave Digital" in response.content.decode()
    assert not EmployerMembership.objects.filter(pk=ravi.pk).exists()
    # Pressed twice: nothing more to do, and said so.
    again = client.post(remove, follow=True)
    assert "That person is no longer a member." in again.content.decode()

    client.force_login(ravi.user)
    home = client.get(reverse("home")).content.decode()
    assert "Your login is not linked to an organisation: ask one of its administrators" in home
    mine = client.get(reverse("vacancies:mine")).content.decode()
    assert "Your login is not linked to an organisation: ask one of its administrators" in mine
    for name in ("contacts", "activity"):
        response = client.get(reverse(f"employer:{name}"))
        assert response.status_code == 403
        assert "Your login is not linked to an organisation" in response.content.decode()


def test_members_and_strangers_cannot_change_who_signs_in(
    client, laura, brightwave, ravi, employer_b
):
    mine = membership_of(laura, brightwave)
    client.force_login(ravi.user)  # a member, not an administrator
    assert (
        client.post(reverse("employer:member_role", args=[mine.pk]), {"role": "member"}).status_code
        == 403
    )
    assert client.post(reverse("employer:member_remove", args=[mine.pk])).status_code == 403
    page = client.get(reverse("employer:contacts")).content.decode()
    assert "Who can sign in for Brightwave Digital" in page and "Make an administrator" not in page
    client.force_login(employer_b)  # another organisation's administrator: told so
    refused = client.post(reverse("employer:member_role", args=[ravi.pk]), {"role": "admin"})
    assert refused.status_code == 403
    assert "This person is another organisation's" in html.unescape(refused.content.decode())
    assert "Ravi" not in html.unescape(refused.content.decode())
    assert client.get(reverse("employer:member_remove", args=[ravi.pk])).status_code == 403
    assert client.post(reverse("employer:member_remove", args=[ravi.pk])).status_code == 403
    # A number that is nobody's membership is not found.
    assert client.get(reverse("employer:member_remove", args=[99999])).status_code == 404
    ravi.refresh_from_db()
    mine.refresh_from_db()
    assert not ravi.is_admin and mine.is_admin


def test_a_member_is_told_when_nobody_can_change_the_profile(
    client, laura, brightwave, ravi, persona
):
    """Its only administrator erased at their request: the page named nobody ("You see the
    profile as a member:  can change it.")."""
    from mycareer.audit.personal_data import subject_from_ids
    from mycareer.audit.services import personal_data_erase

    personal_data_erase(subject=subject_from_ids([laura.pk], []), by=persona("admin"))
    client.force_login(ravi.user)
    page = client.get(reverse("employer:profile")).content.decode()
    assert ": can change it" not in page and ":  can change it" not in page
    assert (
        f"{brightwave.name} has no administrator on MyCareer just now, so nobody can change "
        "it: ask the Careers Centre."
    ) in page


def test_a_member_sees_the_profile_they_were_promised_but_does_not_change_it(
    client, laura, brightwave, ravi
):
    """The menu offered "Our profile" to members, and the page refused them."""
    client.force_login(ravi.user)
    page = client.get(reverse("employer:profile")).content.decode()
    assert f"You see the profile as a member: {laura.full_name} can change it." in page
    # Read as facts, not as a greyed-out form with a file chooser and Clear box.
    assert brightwave.name in page and "What students read about you" in page
    assert 'type="file"' not in page and "<textarea" not in page and " disabled" not in page
    assert "If someone has left, tell an administrator" in (
        client.get(reverse("employer:contacts")).content.decode()
    )
    refused = client.post(reverse("employer:profile"), {"name": "Renamed by a member"})
    assert refused.status_code == 403
    brightwave.refresh_from_db()
    assert brightwave.name == "Brightwave Digital"


def test_an_administrator_stepping_down_is_spoken_to_as_you(client, laura, brightwave, ravi):
    reg.membership_set_admin(membership=ravi, is_admin=True, by=laura)
    client.force_login(laura)
    mine = membership_of(laura, brightwave)
    done = client.post(
        reverse("employer:member_role", args=[mine.pk]), {"role": "member"}, follow=True
    )
    assert "You are now a member: you see but do not change." in done.content.decode()


def test_inviting_an_address_says_nothing_of_who_has_a_login(laura, brightwave, persona):
    """Refusing a student's address told any employer that its owner studies here."""
    invitation = reg.invitation_create(
        organisation=brightwave, email="Student@demo.ac.uk", by=laura
    )
    assert invitation.email == "student@demo.ac.uk"


def test_a_member_leaves_the_organisation_themselves(client, laura, brightwave, ravi):
    """Only administrators could end a membership, so a member could never leave."""
    client.force_login(ravi.user)
    leave = reverse("employer:member_remove", args=[ravi.pk])
    assert leave in client.get(reverse("employer:contacts")).content.decode()
    assert "Leave Brightwave Digital" in client.get(leave).content.decode()
    done = client.post(leave, follow=True)
    assert "You are no longer a member of Brightwave Digital." in done.content.decode()
    assert not EmployerMembership.objects.filter(pk=ravi.pk).exists()


def test_an_address_invited_twice_is_not_left_waiting_once_it_joins(client, laura, brightwave):
    first = reg.invitation_create(organisation=brightwave, email="nia@demo-employer.com", by=laura)
    # A second invitation is refused now; one made before that rule may still be there.
    with pytest.raises(ValidationError, match="that link still works"):
        reg.invitation_create(organisation=brightwave, email="Nia@demo-employer.com", by=laura)
    second = EmployerInvitation.objects.create(
        organisation=brightwave, email="nia@demo-employer.com", token="second", invited_by=laura
    )
    reg.employer_register(
        full_name="Nia Evans",
        email="nia@demo-employer.com",
        password="a-long-Password-9",
        invitation=second,
    )
    first.refresh_from_db()
    assert first.accepted_at is not None
    client.force_login(laura)
    page = client.get(reverse("employer:contacts")).content.decode()
    assert "Invitations not yet accepted" not in page
    assert "nia@demo-employer.com" in page  # among who can sign in


def test_who_joins_an_organisation_left_without_an_administrator_becomes_one(
    client, persona, laura, brightwave, ravi
):
    """The only administrator left: nobody could change the profile or invite anyone, and
    every colleague approved to join was a member only."""
    EmployerMembership.objects.filter(user=laura).delete()  # erased, say
    joining = reg.employer_register(
        full_name="Sam New",
        email="sam@demo-employer.com",
        password="a-long-Password-9",
        join=brightwave,
    )
    operator = persona("operator")
    client.force_login(operator)
    page = client.get(reverse("organisations:registration", args=[joining.pk])).content.decode()
    assert "Brightwave Digital has no administrator on MyCareer" in page
    assert "Approving makes Sam New its administrator." in page
    reg.registration_decide(registration=joining, approve=True, by=operator)
    assert EmployerMembership.objects.get(user=joining.user).is_admin
    # With an administrator, the next one to join is a member.
    later = reg.employer_register(
        full_name="Ola Next",
        email="ola@demo-employer.com",
        password="a-long-Password-9",
        join=brightwave,
    )
    page = client.get(reverse("organisations:registration", args=[later.pk])).content.decode()
    assert "has no administrator" not in page
    reg.registration_decide(registration=later, approve=True, by=operator)
    assert not EmployerMembership.objects.get(user=later.user).is_admin
    ravi.refresh_from_db()
    assert not ravi.is_admin


def test_an_administrator_removes_a_person_who_left_and_their_no_to_email_stays(
    client, persona, cast, laura, brightwave
):
    from mycareer.mailing.recipients import recipient_list
    from mycareer.organisations import services
    from mycareer.organisations.models import Contact, EmailOptOut
    from mycareer.organisations.optouts import opt_outs_by_address

    left = services.contact_create(
        organisation=brightwave,
        by=laura,
        full_name="Imogen Nolan",
        email="imogen@demo-employer.com",
    )
    services.contact_opt_out(contact=left, purpose="all", method="link", by=None)
    client.force_login(laura)
    edit = client.get(reverse("employer:contact_edit", args=[left.pk])).content.decode()
    remove = reverse("employer:contact_remove", args=[left.pk])
    assert f'href="{remove}"' in edit
    page = client.get(remove).content.decode()
    assert "their name, job title, email address and phone" in page
    assert Contact.objects.filter(pk=left.pk).exists()  # a page, not the act
    done = client.post(remove, follow=True).content.decode()
    assert "Imogen Nolan is removed from Brightwave Digital." in done
    assert not Contact.objects.filter(pk=left.pk).exists()
    assert not EmailOptOut.objects.filter(contact_id=left.pk).exists()
    assert opt_outs_by_address(["imogen@demo-employer.com"]) == {
        "imogen@demo-employer.com": {"all"}
    }
    again = client.post(remove, follow=True).content.decode()
    assert "That person was already removed." in again
    back = services.contact_create(
        organisation=brightwave,
        by=laura,
        full_name="Imogen Nolan",
        email="imogen@demo-employer.com",
    )
    result = recipient_list([back], sender=persona("admin"), purpose="events")
    assert result.included == []


def test_key_contacts_and_colleagues_who_sign_in_are_not_removed_from_the_employer_side(
    client, persona, cast, laura, brightwave, ravi, employer_b
):
    from mycareer.organisations import keyaccounts, services
    from mycareer.organisations.models import Contact

    tom = persona("operator")
    key = services.contact_create(
        organisation=brightwave, by=tom, full_name="Amelia Turner", email="amelia@demo-employer.com"
    )
    account = keyaccounts.key_account_create(
        organisation=brightwave, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(account=account, contact=key, guidance="", by=tom)
    own = Contact.objects.get(organisation=brightwave, user=laura)
    client.force_login(laura)
    for contact, why in (
        (key, "is a key contact of Tom Bennett at the university"),
        (own, "can still sign in for Brightwave Digital"),
    ):
        response = client.post(reverse("employer:contact_remove", args=[contact.pk]), follow=True)
        assert why in response.content.decode()
        assert Contact.objects.filter(pk=contact.pk).exists()
    # A member who does not administer, and another organisation's administrator.
    client.force_login(ravi.user)
    assert client.post(reverse("employer:contact_remove", args=[key.pk])).status_code == 403
    client.force_login(employer_b)
    refused = client.get(reverse("employer:contact_remove", args=[key.pk]))
    assert refused.status_code == 403
    assert "This person is another organisation's" in html.unescape(refused.content.decode())
    assert "Amelia" not in html.unescape(refused.content.decode())
    assert client.post(reverse("employer:contact_remove", args=[key.pk])).status_code == 403
    assert Contact.objects.filter(pk=key.pk).exists()


def test_an_invitation_sent_to_a_wrong_address_is_withdrawn_and_its_link_stops_working(
    client, laura, brightwave, employer_b
):
    invitation = reg.invitation_create(
        organisation=brightwave, email="laura.chen@gmail.example.com", by=laura
    )
    withdraw = reverse("employer:invitation_withdraw", args=[invitation.pk])
    client.force_login(employer_b)  # another organisation's administrator
    refused = client.post(withdraw)
    assert refused.status_code == 403
    assert "This invitation is another organisation's" in html.unescape(refused.content.decode())
    assert "laura.chen@gmail" not in html.unescape(refused.content.decode())
    client.force_login(laura)
    page = client.get(reverse("employer:contacts")).content.decode()
    assert "laura.chen@gmail.example.com" in page and f'action="{withdraw}"' in page
    done = client.post(withdraw, follow=True).content.decode()
    assert "The invitation to laura.chen@gmail.example.com is withdrawn" in done
    assert "Invitations not yet accepted" not in done
    again = client.post(withdraw, follow=True).content.decode()  # pressed twice
    assert "That invitation was already used, withdrawn or out of date." in again
    client.logout()
    link = client.get(reverse("employer:register"), {"invite": invitation.token}, follow=True)
    assert "This invitation has expired, was withdrawn or was already used" in link.content.decode()
    response = client.post(
        reverse("employer:register"),
        {
            "invite": invitation.token,
            "full_name": "Not Laura",
            "email": "laura.chen@gmail.example.com",
            "password1": "a-long-Password-9",
            "password2": "a-long-Password-9",
        },
    )
    assert not EmployerMembership.objects.filter(
        user__email="laura.chen@gmail.example.com", status="active"
    ).exists(), response.status_code


def test_staff_see_who_signs_in_for_an_organisation_and_when_nobody_administers_it(
    client, persona, laura, brightwave, ravi
):
    from mycareer.organisations.models import Contact

    Contact.objects.create(
        organisation=brightwave, full_name="Ravi Patel", email=ravi.user.email, user=ravi.user
    )
    client.force_login(persona("operator"))
    page = " ".join(client.get(brightwave.get_absolute_url()).content.decode().split())
    assert "Signs in for Brightwave Digital as its administrator" in page
    assert "Signs in for Brightwave Digital as a member" in page
    assert "Nobody signs in for Brightwave Digital as its administrator" not in page
    EmployerMembership.objects.filter(user=laura).delete()  # erased, say
    page = " ".join(client.get(brightwave.get_absolute_url()).content.decode().split())
    # Said once, where the people who sign in are listed (it was said twice).
    assert page.count("None of them is its administrator") == 1
    assert page.count("The next colleague approved to join becomes its administrator.") == 1
    assert "Nobody signs in for Brightwave Digital as its administrator" not in page


def test_asking_to_join_makes_no_contact_until_the_university_approves(persona, laura, brightwave):
    """A stranger who asked to join Brightwave was at once one of its contacts, and stayed
    one when declined: a campaign to Brightwave's contacts would have reached them."""
    from mycareer.organisations.models import Contact

    operator = persona("operator")
    declined = reg.employer_register(
        full_name="Mallory Evil",
        email="mallory@example.net",
        password="a-long-Password-9",
        join=brightwave,
    )
    approved = reg.employer_register(
        full_name="Sam New",
        email="sam@demo-employer.com",
        password="a-long-Password-9",
        join=brightwave,
    )
    emails = set(brightwave.contacts.values_list("email", flat=True))
    assert not {"mallory@example.net", "sam@demo-employer.com"} & emails
    reg.registration_decide(registration=declined, approve=False, by=operator, reason="Unknown")
    reg.registration_decide(registration=approved, approve=True, by=operator)
    assert not Contact.objects.filter(email="mallory@example.net").exists()
    assert brightwave.contacts.get(email="sam@demo-employer.com").user == approved.user


def test_a_registration_is_approved_only_once_its_address_is_confirmed(client, persona, cast):
    """Anyone can type someone else's address; an approved registration put an organisation
    live in the name of whoever owned it, though they never opened the link."""
    from allauth.account.models import EmailAddress

    from mycareer.organisations.models import Organisation, RegistrationRequest
    from mycareer.organisations.tests.test_registration import form

    client.post(reverse("employer:register"), form())
    registration = RegistrationRequest.objects.get(user__email="kim@kittiwake.studio")
    operator = persona("operator")
    client.force_login(operator)
    detail = reverse("organisations:registration", args=[registration.pk])
    assert "Not confirmed yet" in client.get(detail).content.decode()
    refused = client.post(detail, {"decision": "approve"}).content.decode()
    assert "has not confirmed their email address yet" in refused
    registration.refresh_from_db()
    assert registration.status == "pending"
    assert registration.organisation.status == Organisation.Status.PENDING
    EmailAddress.objects.filter(user=registration.user).update(verified=True)
    assert "Confirmed" in client.get(detail).content.decode()
    assert client.post(detail, {"decision": "approve"}).status_code == 302
    registration.refresh_from_db()
    assert registration.status == "approved"


def test_a_refused_form_does_not_show_what_was_typed_as_if_it_were_saved(client, laura, brightwave):
    from mycareer.organisations.models import Contact

    client.force_login(laura)
    before = " ".join(client.get(reverse("employer:profile")).content.decode().split())
    percent = before.split("Your profile is ")[1].split("%")[0]
    refused = client.post(
        reverse("employer:profile"),
        {"description": "A new description", "locations": "Leeds", "website": "not a url"},
    ).content.decode()
    assert f"Your profile is {percent}% complete" in " ".join(refused.split())
    contact = Contact.objects.get(organisation=brightwave, user=laura)
    page = client.post(
        reverse("employer:contact_edit", args=[contact.pk]),
        {"full_name": "Renamed Person", "email": contact.email, "phone": "1"},
    ).content.decode()
    assert "Edit Renamed Person" not in page and f"Edit {contact.full_name}" in page
    assert 'value="Renamed Person"' in page  # what was typed is kept in the field


def test_the_menu_offers_our_pages_only_to_those_who_sign_in_for_an_organisation(
    client, laura, brightwave, ravi
):
    """A removed colleague kept "Our profile", "Our people" and "Our activity" in the menu,
    each answering that they were not a member."""
    client.force_login(ravi.user)
    home = client.get("/").content.decode()
    assert reverse("employer:profile") in home and reverse("employer:activity") in home
    reg.membership_end(membership=ravi, by=laura)
    client.force_login(ravi.user)
    home = client.get("/").content.decode()
    for name in ("employer:profile", "employer:contacts", "employer:activity"):
        assert f'href="{reverse(name)}"' not in home, name
        assert client.get(reverse(name)).status_code == 403
