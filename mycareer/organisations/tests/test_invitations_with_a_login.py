"""An invitation to an address that already has a login: they sign in, and join.

Its link was a dead end: signed in, it went home without a word; signed out, the
registration form ended on "check your email" and the email said the account existed.
So a colleague removed and invited again (as the removal tells them to be), or someone
who moved from one employer to another, could never join.
"""

import datetime
import html
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from mycareer.audit.models import AuditEntry
from mycareer.organisations import registration as reg
from mycareer.organisations.models import (
    EmployerInvitation,
    EmployerMembership,
    Organisation,
    RegistrationRequest,
)
from mycareer.vacancies.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ravi(brightwave):
    return MembershipFactory(
        organisation=brightwave, is_admin=False, user__email="ravi@demo-employer.com"
    )


def invite_link(invitation: EmployerInvitation) -> str:
    """The link in the invitation email."""
    return f"{reverse('employer:register')}?invite={invitation.token}"


def test_a_colleague_removed_and_invited_again_signs_in_and_joins(client, laura, brightwave, ravi):
    colleague = ravi.user
    reg.membership_end(membership=ravi, by=laura)
    invitation = reg.invitation_create(organisation=brightwave, email=colleague.email, by=laura)
    accept = reverse("employer:invitation_accept", args=[invitation.token])

    # Signed out, the email's link asks them to sign in, and comes back to the invitation.
    response = client.get(invite_link(invitation), follow=True)
    assert response.redirect_chain[0][0] == accept
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    page = response.content.decode()
    assert "ravi@demo-employer.com has a MyCareer login: sign in with it to accept" in page

    client.force_login(colleague)
    assert client.get(invite_link(invitation)).url == accept
    page = client.get(accept).content.decode()
    assert "Join Brightwave Digital" in page and "A MyCareer login signs in for one" not in page
    assert not EmployerMembership.objects.filter(user=colleague).exists()  # a page first

    done = client.post(accept, follow=True)
    assert "You now sign in for Brightwave Digital." in done.content.decode()
    membership = EmployerMembership.objects.get(user=colleague, organisation=brightwave)
    assert membership.status == "active" and not membership.is_admin
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert brightwave.contacts.get(email=colleague.email).user == colleague
    assert client.get(reverse("employer:contacts")).status_code == 200
    # Pressed twice: nothing more, and said so.
    again = client.post(accept, follow=True).content.decode()
    assert "You sign in for Brightwave Digital." in again
    assert EmployerMembership.objects.filter(user=colleague).count() == 1
    assert AuditEntry.objects.filter(action="organisations.invitation.accepted").count() == 1


def test_someone_who_moved_employer_leaves_the_old_one_on_accepting(
    client, laura, brightwave, employer_b
):
    rival = EmployerMembership.objects.get(user=employer_b).organisation
    invitation = reg.invitation_create(organisation=brightwave, email=employer_b.email, by=laura)
    accept = reverse("employer:invitation_accept", args=[invitation.token])
    client.force_login(employer_b)

    # The only administrator of their old organisation, where a colleague still signs in,
    # must hand it on first, and is told so before any button (it was said only after
    # they pressed "Join").
    MembershipFactory(
        organisation=rival, is_admin=False, user__email="member@rival-recruitment.example.com"
    )
    opened = client.get(accept)
    assert opened.status_code == 403
    assert "You are the only administrator of Rival Recruitment Ltd" in opened.content.decode()
    assert "<button" not in opened.content.decode().split("<main", 1)[-1].split("</main>")[0]
    refused = client.post(accept)
    assert refused.status_code == 403
    assert "You are the only administrator of Rival Recruitment Ltd" in refused.content.decode()
    assert EmployerMembership.objects.get(user=employer_b).organisation == rival
    with pytest.raises(ValidationError, match="You are the only administrator"):
        reg.invitation_accept(invitation=invitation, user=employer_b)

    MembershipFactory(organisation=rival, user__email="second@rival-recruitment.example.com")
    page = client.get(accept).content.decode()
    assert "Accepting ends your membership of Rival Recruitment Ltd" in page
    client.post(accept)
    memberships = EmployerMembership.objects.filter(user=employer_b)
    assert [(m.organisation, m.status) for m in memberships] == [(brightwave, "active")]
    ended = AuditEntry.objects.get(action="organisations.membership.ended")
    assert ended.data["joined"] == brightwave.pk


def test_the_last_person_of_an_organisation_may_accept_and_is_told_what_it_leaves(
    client, laura, brightwave, employer_b
):
    """Nobody else signs in for their old organisation: as they may leave it, they may
    accept, and the page says first that nobody will sign in for it."""
    rival = EmployerMembership.objects.get(user=employer_b).organisation
    assert rival.memberships.count() == 1
    invitation = reg.invitation_create(organisation=brightwave, email=employer_b.email, by=laura)
    accept = reverse("employer:invitation_accept", args=[invitation.token])
    client.force_login(employer_b)
    page = client.get(accept)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Accepting ends your membership of Rival Recruitment Ltd" in text
    assert "Rival Recruitment Ltd will have no administrator on MyCareer: nobody will" in text
    client.post(accept)
    memberships = EmployerMembership.objects.filter(user=employer_b)
    assert [(m.organisation, m.status) for m in memberships] == [(brightwave, "active")]
    assert not rival.memberships.exists()


def test_a_registration_still_waiting_is_withdrawn_on_accepting(client, laura, brightwave):
    registration = reg.employer_register(
        full_name="Kim Park",
        email="kim@kittiwake.studio",
        password="a-long-Password-9",
        organisation_name="Kittiwake Studio",
    )
    kim = registration.user
    invitation = reg.invitation_create(organisation=brightwave, email=kim.email, by=laura)
    accept = reverse("employer:invitation_accept", args=[invitation.token])
    client.force_login(kim)
    page = client.get(accept).content.decode()
    assert "Accepting withdraws your registration of Kittiwake Studio" in page
    client.post(accept)
    registration.refresh_from_db()
    assert registration.status == RegistrationRequest.Status.DECLINED
    assert registration.decision_reason.startswith("Withdrawn: Kim Park accepted an invitation")
    assert registration.organisation.status == Organisation.Status.ARCHIVED
    assert registration.organisation.contacts.get(email=kim.email).user is None
    assert brightwave.contacts.get(email=kim.email).user == kim
    assert [m.organisation for m in EmployerMembership.objects.filter(user=kim)] == [brightwave]


def test_an_invitation_opens_only_for_its_address_and_for_an_employer(
    client, persona, laura, brightwave
):
    invitation = reg.invitation_create(
        organisation=brightwave, email="ravi@demo-employer.com", by=laura
    )
    accept = reverse("employer:invitation_accept", args=[invitation.token])
    client.force_login(persona("operator"))
    refused = client.post(accept)
    assert refused.status_code == 403
    assert "This invitation was sent to ravi@demo-employer.com" in refused.content.decode()
    assert "<form" not in refused.content.decode().split("<main")[1]

    student = persona("student")
    to_student = reg.invitation_create(organisation=brightwave, email=student.email, by=laura)
    client.force_login(student)
    refused = client.post(reverse("employer:invitation_accept", args=[to_student.token]))
    assert refused.status_code == 403
    assert "not for an employer: ask Laura" in refused.content.decode()
    assert not EmployerMembership.objects.filter(user=student).exists()
    # A token that was never sent, or was withdrawn, opens nothing.
    reg.invitation_withdraw(invitation=to_student, by=laura)
    assert (
        client.get(reverse("employer:invitation_accept", args=[to_student.token])).status_code
        == 404
    )


def test_only_someone_who_signs_in_already_is_refused_an_invitation(laura, brightwave, ravi):
    with pytest.raises(Exception, match="already signs in for your organisation"):
        reg.invitation_create(organisation=brightwave, email="RAVI@demo-employer.com", by=laura)
    reg.membership_end(membership=ravi, by=laura)
    assert reg.invitation_create(organisation=brightwave, email=ravi.user.email, by=laura)


@pytest.mark.django_db(transaction=True)
def test_the_email_to_an_address_with_a_login_says_to_sign_in_and_its_link_opens(
    client, laura, brightwave, employer_b, smtp_server, run_worker
):
    client.force_login(laura)
    client.post(reverse("employer:contacts"), {"email": employer_b.email})
    run_worker()
    [message] = [m for m in smtp_server.wait_for(1) if m["To"] == employer_b.email]
    text = " ".join(message.get_content().split())
    assert "You already have a MyCareer login with this address: sign in with it" in text
    assert "create your login" not in text
    link = next(word for word in text.split() if "invite=" in word)
    client.force_login(employer_b)
    parts = urlsplit(link)
    page = client.get(f"{parts.path}?{parts.query}", follow=True).content.decode()
    # It opens for them, and says first what accepting leaves: nobody signs in for Rival.
    assert "Join Brightwave Digital on MyCareer" in page
    assert "Rival Recruitment Ltd will have no administrator on MyCareer: nobody" in page


@pytest.mark.django_db(transaction=True)
def test_accepting_twice_at_once_joins_once(cast, laura, brightwave, ravi):
    from mycareer.core.tests.concurrency import at_once

    colleague = ravi.user
    reg.membership_end(membership=ravi, by=laura)
    invitation = reg.invitation_create(organisation=brightwave, email=colleague.email, by=laura)
    results, _ = at_once([lambda: reg.invitation_accept(invitation=invitation, user=colleague)] * 2)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[0].pk == results[1].pk
    assert AuditEntry.objects.filter(action="organisations.invitation.accepted").count() == 1
    # Withdrawn meanwhile: refused, not joined.
    again = reg.invitation_create(organisation=brightwave, email="nia@demo-employer.com", by=laura)
    nia = MembershipFactory(user__email="nia@demo-employer.com", is_admin=False).user
    EmployerInvitation.objects.filter(pk=again.pk).delete()
    with pytest.raises(ValidationError, match="withdrawn"):
        reg.invitation_accept(invitation=again, user=nia)


def test_an_accepted_invitations_link_says_so_and_leads_to_logging_in(
    client, laura, brightwave, ravi
):
    """Opened again once accepted, the link showed the registration form with "expired,
    withdrawn or already used", as if its owner had to register or be invited again."""
    colleague = ravi.user
    reg.membership_end(membership=ravi, by=laura)
    invitation = reg.invitation_create(organisation=brightwave, email=colleague.email, by=laura)
    reg.invitation_accept(invitation=invitation, user=colleague)
    invitation.refresh_from_db()
    accepted_on = date_format(timezone.localtime(invitation.accepted_at), "j F Y")
    said = (
        f"This invitation was accepted on {accepted_on}: log in with the address it was sent "
        "to, to sign in for Brightwave Digital."
    )

    response = client.get(invite_link(invitation), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    page = html.unescape(response.content.decode())
    assert said in page
    assert "expired, was withdrawn" not in page and "Full name" not in page
    # Whoever holds the link is not told the address it was sent to.
    assert "ravi" not in page.lower()
    # Logged in as that address, the link says they sign in for the organisation.
    client.force_login(colleague)
    again = client.get(invite_link(invitation), follow=True).content.decode()
    assert "You sign in for Brightwave Digital." in again


def test_an_expired_invitations_link_keeps_saying_so(client, laura, brightwave):
    invitation = reg.invitation_create(
        organisation=brightwave, email="nia@demo-employer.com", by=laura
    )
    EmployerInvitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=reg.INVITATION_DAYS + 1)
    )
    page = client.get(invite_link(invitation)).content.decode()
    assert "This invitation has expired, was withdrawn or was already used" in page
    assert "was accepted on" not in page
