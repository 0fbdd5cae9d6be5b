"""The daily closing job and the decision emails, through the real worker and SMTP server."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from mycareer.core.registry import daily_jobs
from mycareer.core.scheduler import enqueue_due_jobs
from mycareer.organisations.tests.factories import OrganisationFactory
from mycareer.vacancies import services
from mycareer.vacancies.jobs import close_expired_vacancies
from mycareer.vacancies.models import Vacancy
from mycareer.vacancies.tests.factories import MembershipFactory, vacancy_fields


def test_closing_is_a_daily_job_run_early_in_the_morning():
    [job] = [j for j in daily_jobs() if j.name == "close-expired-vacancies"]
    assert job.task is close_expired_vacancies
    assert job.hour == 5


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_runs_the_closing_job_the_day_after_the_closing_date(
    brightwave, moderator, run_worker
):
    vacancy = services.vacancy_create(
        organisation=brightwave, by=moderator, **vacancy_fields(title="Closes Soon")
    )
    day_after = vacancy.closing_date + datetime.timedelta(days=1)
    early = timezone.make_aware(datetime.datetime.combine(day_after, datetime.time(5, 30)))
    with time_machine.travel(early):
        assert "close-expired-vacancies" in enqueue_due_jobs()
        run_worker()
    vacancy.refresh_from_db()
    assert vacancy.status == Vacancy.Status.CLOSED


def _messages(smtp_server, subject: str, count: int = 1):
    # The worker also sends whatever else the demo story queued; pick out ours.
    return [m for m in smtp_server.wait_for(count) if subject in m["Subject"]]


@pytest.fixture
def colleague(brightwave):
    """A second admin of the demo employer's organisation, who is told of decisions too."""
    return MembershipFactory(
        organisation=brightwave, user__email="colleague@demo-employer.com"
    ).user


@pytest.mark.django_db(transaction=True)
def test_approval_is_really_emailed_to_the_admins_and_the_creator(
    submitted, moderator, colleague, smtp_server, run_worker
):
    services.vacancy_approve(vacancy=submitted, by=moderator)
    run_worker()
    [message] = _messages(smtp_server, "“Junior Tester” is now live")
    assert sorted(message["To"].split(", ")) == [
        "colleague@demo-employer.com",
        "employer@demo-employer.com",
    ]
    body = message.get_content()
    assert "has been approved" in body
    assert f"/vacancies/{submitted.pk}/" in body


@pytest.mark.django_db
def test_a_creator_who_left_the_organisation_is_not_told_of_the_decision(
    submitted, colleague, brightwave
):
    """Laura, removed from Brightwave, still got its decisions, with a link she cannot open."""
    from mycareer.organisations.models import EmployerMembership
    from mycareer.vacancies.tasks import decision_recipients

    creator = submitted.created_by
    assert creator.email in decision_recipients(submitted)
    EmployerMembership.objects.filter(organisation=brightwave, user=creator).delete()
    assert decision_recipients(submitted) == ["colleague@demo-employer.com"]


@pytest.mark.django_db
def test_staff_who_posted_a_vacancy_are_not_emailed_its_withdrawal(
    brightwave, moderator, persona, mailoutbox
):
    """Staff posted it for the organisation and staff withdrew it: "Your vacancy was
    withdrawn by the Careers Centre" went to the staff member, perhaps the one withdrawing,
    and to nobody at all when the organisation had no one signing in."""
    from mycareer.vacancies.tasks import decision_recipients, send_vacancy_decision_email

    vacancy = services.vacancy_create(
        organisation=brightwave, by=persona("admin"), **vacancy_fields(title="Staff Posted")
    )
    staff = persona("admin").email.lower()
    assert staff in decision_recipients(vacancy, "approved")  # still told of moderation
    services.vacancy_withdraw(vacancy=vacancy, by=moderator, reason="The role is filled.")
    assert decision_recipients(vacancy, "withdrawn") == ["employer@demo-employer.com"]
    assert services.vacancy_withdrawal_recipients(vacancy) == ["employer@demo-employer.com"]
    send_vacancy_decision_email.call(vacancy.pk, "withdrawn", "The role is filled.")
    [message] = mailoutbox
    assert message.to == ["employer@demo-employer.com"]
    own = services.vacancy_create(
        organisation=OrganisationFactory(name="No Logins Ltd"),
        by=moderator,
        **vacancy_fields(title="Posted And Withdrawn"),
    )
    services.vacancy_withdraw(vacancy=own, by=moderator, reason="Posted by mistake.")
    assert send_vacancy_decision_email.call(own.pk, "withdrawn", "Posted by mistake.") == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "decision", ["rejected", "edit_rejected", "approved", "edit_approved", "withdrawn"]
)
def test_every_link_in_a_decision_email_opens_for_every_recipient(
    decision, submitted, colleague, brightwave, moderator, client, mailoutbox
):
    """The creator, since made a member who may read but not change the vacancy, is still
    told; the rejection's link to the edit form answered them "You cannot do this"."""
    import re

    from mycareer.organisations.models import EmployerMembership
    from mycareer.vacancies.tasks import send_vacancy_decision_email

    creator = submitted.created_by
    EmployerMembership.objects.filter(organisation=brightwave, user=creator).update(is_admin=False)
    reason = "Say what the salary is."
    if decision == "rejected":
        services.vacancy_reject(vacancy=submitted, by=moderator, reason=reason)
    else:
        services.vacancy_approve(vacancy=submitted, by=moderator)
    if decision.startswith("edit"):
        services.vacancy_update(vacancy=submitted, by=colleague, salary="£31,000 a year")
    if decision == "edit_approved":
        services.vacancy_approve_edit(vacancy=submitted, by=moderator)
    if decision == "edit_rejected":
        services.vacancy_reject_edit(vacancy=submitted, by=moderator, reason=reason)
    if decision == "withdrawn":
        services.vacancy_withdraw(vacancy=submitted, by=moderator, reason=reason)
    send_vacancy_decision_email.call(submitted.pk, decision, reason)
    [message] = mailoutbox
    assert sorted(message.to) == [colleague.email, creator.email]
    links = re.findall(r"https?://\S+", message.body)
    assert links
    for person in (creator, colleague):
        client.force_login(person)
        for link in links:
            path = link.split("://", 1)[1].partition("/")[2]
            assert client.get(f"/{path}").status_code == 200, (person, link)
    if decision == "rejected":
        # The page the member opens does not tell them to change what they may not.
        assert "saving your changes" in client.get(submitted.get_absolute_url()).content.decode()
        client.force_login(creator)
        page = client.get(submitted.get_absolute_url()).content.decode()
        assert "administrators can change it" in page and "saving your changes" not in page


@pytest.mark.django_db(transaction=True)
def test_rejection_is_really_emailed_with_its_reason(submitted, moderator, smtp_server, run_worker):
    services.vacancy_reject(
        vacancy=submitted, by=moderator, reason="Say what the salary is & where the job is."
    )
    run_worker()
    [message] = _messages(smtp_server, "“Junior Tester” was not approved")
    assert message["To"] == "employer@demo-employer.com"
    body = message.get_content()
    # Plain text: the reason arrives as typed, not HTML-escaped.
    assert "Say what the salary is & where the job is." in body
    assert f"/vacancies/{submitted.pk}/" in body


@pytest.mark.django_db(transaction=True)
def test_an_approved_edit_is_really_emailed(live, employer_a, moderator, smtp_server, run_worker):
    services.vacancy_update(vacancy=live, by=employer_a, salary="£31,000 a year")
    services.vacancy_approve_edit(vacancy=live, by=moderator)
    run_worker()
    [message] = _messages(smtp_server, "Your changes to “Junior Tester” are now live")
    assert message["To"] == "employer@demo-employer.com"
    assert "are now what students see" in message.get_content()


@pytest.mark.django_db(transaction=True)
def test_a_rejected_edit_is_really_emailed_with_its_reason(
    live, employer_a, moderator, smtp_server, run_worker
):
    services.vacancy_update(vacancy=live, by=employer_a, salary="Commission only")
    services.vacancy_reject_edit(vacancy=live, by=moderator, reason="A basic salary is required.")
    run_worker()
    [message] = _messages(smtp_server, "Your changes to “Junior Tester” were not approved")
    assert message["To"] == "employer@demo-employer.com"
    body = message.get_content()
    assert "A basic salary is required." in body
    assert "still see the version that was approved" in body


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_by_staff_is_really_emailed_with_its_reason(
    live, moderator, colleague, smtp_server, run_worker
):
    services.vacancy_withdraw(vacancy=live, by=moderator, reason="The role is filled.")
    run_worker()
    [message] = _messages(smtp_server, "“Junior Tester” was withdrawn by the Careers Centre")
    assert sorted(message["To"].split(", ")) == [
        "colleague@demo-employer.com",
        "employer@demo-employer.com",
    ]
    body = message.get_content()
    assert "The role is filled." in body
    assert f"/vacancies/{live.pk}/" in body
