"""Staff appoint an organisation's administrators; nobody leaves one without, unseen.

An organisation whose only administrator left, or was erased, could change nothing (its
profile, people, vacancies) and invite nobody, and no page let the Careers Centre
appoint someone: its members were told that nobody could change the profile.
"""

import html
import logging
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from mycareer.audit.models import AuditEntry
from mycareer.organisations import registration as reg
from mycareer.organisations.models import EmployerMembership
from mycareer.organisations.tasks import send_administrator_appointed_email

pytestmark = pytest.mark.django_db


def appoint(brightwave, member) -> str:
    return reverse("organisations:administrator_appoint", args=[brightwave.pk, member.pk])


def stand_down(brightwave, member) -> str:
    return reverse("organisations:administrator_stand_down", args=[brightwave.pk, member.pk])


def membership_of(user, organisation) -> EmployerMembership:
    return EmployerMembership.objects.get(user=user, organisation=organisation)


def flat(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


# The rule -------------------------------------------------------------------------------


def test_staff_leave_nobody_to_administer_only_when_they_confirm_how_many_are_left_so(
    persona, laura, brightwave, ravi
):
    operator = persona("operator")
    mine = membership_of(laura, brightwave)
    assert reg.left_without_an_administrator(mine, ending=False) == 2
    with pytest.raises(ValidationError, match="needs at least one administrator"):
        reg.membership_set_admin(membership=mine, is_admin=False, by=operator)
    with pytest.raises(ValidationError, match="2 people now sign in") as changed:
        reg.membership_set_admin(membership=mine, is_admin=False, by=operator, left_confirmed=3)
    assert changed.value.code == "changed"
    mine.refresh_from_db()
    assert mine.is_admin
    reg.membership_set_admin(membership=mine, is_admin=False, by=operator, left_confirmed=2)
    mine.refresh_from_db()
    assert not mine.is_admin
    entry = AuditEntry.objects.get(action="organisations.membership.admin_removed")
    assert entry.data["left_without_an_administrator"] == 2
    # With a second administrator, nothing needs confirming.
    reg.membership_set_admin(membership=ravi, is_admin=True, by=operator)
    ravi.refresh_from_db()
    assert reg.left_without_an_administrator(ravi, ending=False) == 2
    reg.membership_set_admin(membership=mine, is_admin=True, by=operator)
    assert reg.left_without_an_administrator(ravi, ending=False) is None


def test_only_staff_and_the_organisations_administrators_change_who_administers_it(
    persona, laura, brightwave, ravi, employer_b
):
    """The service checks who asks, not only the pages: a member, another organisation's
    administrator or a student is refused, and only staff may leave none."""
    from django.core.exceptions import PermissionDenied

    mine = membership_of(laura, brightwave)
    for stranger in (ravi.user, employer_b, persona("student")):
        with pytest.raises(PermissionDenied):
            reg.membership_set_admin(membership=ravi, is_admin=True, by=stranger)
        with pytest.raises(PermissionDenied):
            reg.membership_end(membership=mine, by=stranger)
    with pytest.raises(PermissionDenied):  # an administrator may not leave none
        reg.membership_set_admin(membership=mine, is_admin=False, by=laura, left_confirmed=2)
    ravi.refresh_from_db()
    assert not ravi.is_admin and EmployerMembership.objects.filter(pk=mine.pk).exists()
    reg.membership_set_admin(membership=ravi, is_admin=True, by=laura)  # their own people
    ravi.refresh_from_db()
    assert ravi.is_admin
    reg.membership_end(membership=ravi, by=ravi.user)  # anyone may leave


def test_whoever_is_made_an_administrator_is_emailed_links_that_open_for_them(
    client, persona, laura, brightwave, ravi, mailoutbox, settings, caplog
):
    settings.SITE_URL = "https://mycareer.example.ac.uk"
    operator = persona("operator")
    with caplog.at_level(logging.INFO, logger="mycareer.organisations.registration"):
        reg.membership_set_admin(membership=ravi, is_admin=True, by=operator)
    [line] = [
        r for r in caplog.records if "organisations.membership.admin_granted" in r.getMessage()
    ]
    assert f"by={operator.pk}" in line.getMessage()
    [entry] = AuditEntry.objects.filter(action="organisations.membership.admin_granted")
    assert (entry.actor, entry.person, entry.object_id) == (
        operator,
        ravi.user,
        str(brightwave.pk),
    )

    send_administrator_appointed_email.call(ravi.pk, operator.pk)
    [email] = mailoutbox
    assert email.to == [ravi.user.email]
    assert email.subject == (
        "[MyCareer] You are now an administrator of Brightwave Digital on MyCareer"
    )
    assert f"{operator} of the university's Careers Centre has made you an administrator" in (
        " ".join(email.body.split())
    )
    links = re.findall(r"https://mycareer\.example\.ac\.uk(\S+)", email.body)
    assert links == [reverse("employer:profile"), reverse("employer:contacts")]
    client.force_login(ravi.user)
    for link in links:
        page = client.get(link)
        assert page.status_code == 200, link
    assert "Save the profile" in client.get(links[0]).content.decode()
    # Made a member only again before the email went: it is not sent.
    mailoutbox.clear()
    reg.membership_set_admin(membership=ravi, is_admin=False, by=operator)
    assert send_administrator_appointed_email.call(ravi.pk, operator.pk) == 0
    assert mailoutbox == []


def test_the_email_is_sent_after_the_change_is_saved(
    persona, brightwave, ravi, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        reg.membership_set_admin(membership=ravi, is_admin=True, by=persona("operator"))
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "mycareer.organisations.tasks.send_administrator_appointed_email"
    ]


# The staff pages -------------------------------------------------------------------------


def test_staff_appoint_an_administrator_from_the_organisations_page(
    client, persona, laura, brightwave, ravi
):
    EmployerMembership.objects.filter(user=laura).delete()  # erased, say
    client.force_login(persona("operator"))
    page = flat(client.get(brightwave.get_absolute_url()))
    assert "Who signs in for Brightwave Digital" in page
    assert "None of them is its administrator" in page
    assert f'href="{appoint(brightwave, ravi)}"' in page
    confirm = flat(client.get(appoint(brightwave, ravi)))
    assert f"Make {ravi.user.full_name} an administrator of Brightwave Digital?" in confirm
    assert "We email them to tell them" in confirm
    ravi.refresh_from_db()
    assert not ravi.is_admin  # a page, not the act
    done = client.post(appoint(brightwave, ravi), follow=True)
    assert f"{ravi.user} is now an administrator of Brightwave Digital: we emailed them." in (
        flat(done)
    )
    ravi.refresh_from_db()
    assert ravi.is_admin
    # Pressed twice: said so, and nothing more recorded.
    again = client.post(appoint(brightwave, ravi), follow=True)
    assert "is already an administrator" in flat(again)
    assert AuditEntry.objects.filter(action="organisations.membership.admin_granted").count() == 1
    client.force_login(ravi.user)
    profile = flat(client.get(reverse("employer:profile")))
    assert "has no administrator on MyCareer just now" not in profile


def test_standing_down_the_only_administrator_asks_for_the_number_left_without_one(
    client, persona, laura, brightwave, ravi
):
    mine = membership_of(laura, brightwave)
    client.force_login(persona("manager"))
    url = stand_down(brightwave, mine)
    page = flat(client.get(url))
    assert (
        "Brightwave Digital will have no administrator on MyCareer: 2 people will still sign "
        "in for it, but nobody will be able to change its profile, people or vacancies"
    ) in page
    assert "Staff of the Careers Centre who edit organisations can make one of them its" in page
    assert "Type the number of people to confirm" in page
    for typed, said in (("", "Type the number of people shown above."), ("1", "You typed 1.")):
        refused = client.post(url, {"confirmed": typed})
        assert refused.status_code == 400
        assert said in flat(refused)
        mine.refresh_from_db()
        assert mine.is_admin
    done = client.post(url, {"confirmed": "2"}, follow=True)
    assert f"{laura} is now a member of Brightwave Digital" in flat(done)
    mine.refresh_from_db()
    assert not mine.is_admin
    # With another administrator there is nothing to confirm.
    reg.membership_set_admin(membership=mine, is_admin=True, by=persona("admin"))
    reg.membership_set_admin(membership=ravi, is_admin=True, by=persona("admin"))
    page = flat(client.get(stand_down(brightwave, ravi)))
    assert "will have no administrator" not in page and "Type the number" not in page
    client.post(stand_down(brightwave, ravi))
    ravi.refresh_from_db()
    assert not ravi.is_admin


@pytest.mark.parametrize("who", ["employer@demo-employer.com", "student", "viewer", "untrained"])
def test_only_staff_who_edit_organisations_appoint_administrators(
    client, persona, laura, brightwave, ravi, who
):
    client.force_login(persona(who) if who != "employer@demo-employer.com" else laura)
    assert (
        f'href="{appoint(brightwave, ravi)}"'
        not in client.get(brightwave.get_absolute_url()).content.decode()
    )
    for method in ("get", "post"):
        response = getattr(client, method)(appoint(brightwave, ravi))
        assert response.status_code in (403, 404), (method, response.status_code)
        response = getattr(client, method)(stand_down(brightwave, membership_of(laura, brightwave)))
        assert response.status_code in (403, 404)
    ravi.refresh_from_db()
    assert not ravi.is_admin and membership_of(laura, brightwave).is_admin


def test_another_organisations_member_and_a_forged_post_are_refused(
    persona, brightwave, ravi, employer_b
):
    from mycareer.organisations.tests.factories import make_organisation

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(persona("operator"))
    other = make_organisation("Elsewhere Ltd", by=persona("operator"))
    rival = EmployerMembership.objects.get(user=employer_b)
    assert browser.get(appoint(other, ravi)).status_code == 404
    assert browser.get(appoint(brightwave, rival)).status_code == 404
    forged = browser.post(appoint(brightwave, ravi))
    assert forged.status_code == 403
    ravi.refresh_from_db()
    assert not ravi.is_admin


def test_someone_who_left_while_the_page_was_open_is_said_to_have_left_not_a_404(
    client, persona, brightwave, ravi
):
    """The confirmation page was open when they left (or were erased): pressing its
    button said "Not Found"; it says they left and that nothing changed."""
    client.force_login(persona("operator"))
    url = appoint(brightwave, ravi)
    assert client.get(url).status_code == 200
    reg.membership_end(membership=ravi, by=ravi.user)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302, method
        assert response["Location"] == brightwave.get_absolute_url() + "#people"
    page = flat(client.get(brightwave.get_absolute_url()))
    assert "That person no longer signs in for Brightwave Digital, so nothing was changed." in (
        page
    )
    assert not AuditEntry.objects.filter(action="organisations.membership.admin_granted")


# Employers and erasure: the page says so first ----------------------------------------


def test_the_last_person_of_all_may_leave_after_a_page_that_says_what_it_leaves(
    client, laura, brightwave
):
    """The only administrator, and nobody else signing in for it, could never leave."""
    mine = membership_of(laura, brightwave)
    client.force_login(laura)
    leave = reverse("employer:member_remove", args=[mine.pk])
    page = flat(client.get(leave))
    assert (
        "Brightwave Digital will have no administrator on MyCareer: nobody will sign in for it."
    ) in page
    assert "A colleague can register to join it: the Careers Centre's staff approve" in page
    done = client.post(leave, follow=True)
    assert "You are no longer a member of Brightwave Digital." in flat(done)
    assert not EmployerMembership.objects.filter(user=laura).exists()
    entry = AuditEntry.objects.get(action="organisations.membership.ended")
    assert entry.data["left_without_an_administrator"] == 0


def test_a_member_of_an_organisation_with_no_administrator_is_not_told_to_ask_one(
    client, persona, laura, brightwave, ravi
):
    """Its people page told a member to "tell an administrator" when there was none, and
    its leave page that "a colleague who is an administrator can invite you again"."""
    mine = membership_of(laura, brightwave)
    client.force_login(ravi.user)
    page = flat(client.get(reverse("employer:contacts")))
    assert "If someone has left, tell an administrator" in page
    assert "has no administrator on MyCareer just now" not in page
    leave = flat(client.get(reverse("employer:member_remove", args=[ravi.pk])))
    assert "A colleague who is an administrator can invite you again." in leave
    reg.membership_set_admin(
        membership=mine, is_admin=False, by=persona("operator"), left_confirmed=2
    )
    page = flat(client.get(reverse("employer:contacts")))
    assert "tell an administrator" not in page
    assert (
        "Brightwave Digital has no administrator on MyCareer just now, so nobody can change "
        "its profile, people or vacancies, or invite colleagues: ask the Careers Centre, "
        "whose staff can make one of you its administrator."
    ) in page
    leave = flat(client.get(reverse("employer:member_remove", args=[ravi.pk])))
    assert "A colleague who is an administrator can invite you again" not in leave
    assert "Nobody there can invite you again until it has an administrator" in leave


def test_erasing_the_only_administrator_says_first_that_the_organisation_is_left_without(
    client, persona, laura, brightwave, ravi
):
    from mycareer.audit.erasure import review_erasure
    from mycareer.audit.personal_data import subject_from_ids

    review = review_erasure(subject_from_ids([laura.pk], []))
    [line] = [c for c in review.removals if c.what == "Membership of Brightwave Digital"]
    assert line.how.startswith(
        "removed; Brightwave Digital will have no administrator on MyCareer: 1 person will "
        "still sign in for it"
    )
    assert "Memberships of an employer's organisation" not in [c.what for c in review.changes]
    client.force_login(persona("admin"))
    ticked = sorted(review.default_selection())
    data = {"user": [laura.pk], "digest": review.digest, "match": ticked}
    confirm = flat(client.post(reverse("audit:erase"), {**data, "step": "confirm"}))
    assert "Brightwave Digital will have no administrator on MyCareer" in confirm
    # One person is left: "them", not "one of them".
    assert "who edit organisations can make them its administrator, from its page" in confirm

    # Erased, the organisation's own record says why nobody there can change anything,
    # without naming the person erased.
    from mycareer.audit.erasure import erase

    erase(subject_from_ids([laura.pk], []), by=persona("admin"), digest=review.digest)
    entry = AuditEntry.objects.get(action="organisations.membership.erased_last_administrator")
    assert entry.object_id == str(brightwave.pk)
    assert entry.data == {"left_without_an_administrator": 1}
    assert not EmployerMembership.objects.filter(user=laura).exists()


def test_a_second_administrator_leaves_nothing_to_say_on_erasure(
    client, persona, laura, brightwave, ravi
):
    from mycareer.audit.erasure import review_erasure
    from mycareer.audit.personal_data import subject_from_ids

    # With a second administrator, nothing is said.
    reg.membership_set_admin(membership=ravi, is_admin=True, by=persona("operator"))
    review = review_erasure(subject_from_ids([laura.pk], []))
    assert not any("will have no administrator" in c.how for c in review.changes)
