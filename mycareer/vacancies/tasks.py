from mycareer.core.mail import send_email
from mycareer.core.retry import email_task
from mycareer.organisations.models import EmployerMembership
from mycareer.vacancies.models import Vacancy

SUBJECTS = {
    "approved": "Your vacancy “{title}” is now live",
    "rejected": "Your vacancy “{title}” was not approved",
    "edit_approved": "Your changes to “{title}” are now live",
    "edit_rejected": "Your changes to “{title}” were not approved",
    "withdrawn": "Your vacancy “{title}” was withdrawn by the Careers Centre",
}


def decision_recipients(vacancy: Vacancy, decision: str = "") -> list[str]:
    """The organisation's admin members and whoever created the vacancy, once each.

    An employer who created it is told only while they still sign in for the
    organisation: one who left, or moved to another employer, must not be. Staff who
    posted it for the organisation are told of its moderation but not of a withdrawal:
    staff made that, and "your vacancy was withdrawn" is news for the organisation only
    (a staff creator was often the one withdrawing it).
    """
    members = EmployerMembership.objects.filter(
        organisation=vacancy.organisation_id,
        status=EmployerMembership.Status.ACTIVE,
        user__is_active=True,
    )
    emails = list(members.filter(is_admin=True).values_list("user__email", flat=True))
    creator = vacancy.created_by
    if (
        creator is not None
        and creator.is_active
        and (
            members.filter(user=creator).exists()
            if creator.is_employer
            else decision != "withdrawn"
        )
    ):
        emails.append(creator.email)
    return sorted({email.lower() for email in emails if email})


@email_task()
def send_vacancy_decision_email(vacancy_id: int, decision: str, reason: str = "") -> int:
    """Tell the employer what a moderator decided about their vacancy or their changes."""
    vacancy = Vacancy.objects.select_related("organisation", "created_by").get(pk=vacancy_id)
    recipients = decision_recipients(vacancy, decision)
    if not recipients:
        return 0
    return send_email(
        to=recipients,
        subject=SUBJECTS[decision].format(title=vacancy.title),
        template=f"vacancies/email/{decision}.txt",
        context={"vacancy": vacancy, "reason": reason},
    )
