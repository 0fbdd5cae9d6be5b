from mycareer.core.mail import send_email
from mycareer.core.retry import email_task
from mycareer.organisations.models import EmployerMembership
from mycareer.vacancies.models import Vacancy

SUBJECTS = {
    "approved": "Your vacancy “{title}” is now live",
    "rejected": "Your vacancy “{title}” was not approved",
    "edit_approved": "Your changes to “{title}” are now live",
    "edit_rejected": "Your changes to “{title}” were not approved",
}


def decision_recipients(vacancy: Vacancy) -> list[str]:
    """The organisation's admin members and whoever created the vacancy, once each."""
    admins = EmployerMembership.objects.filter(
        organisation=vacancy.organisation_id,
        is_admin=True,
        status=EmployerMembership.Status.ACTIVE,
        user__is_active=True,
    ).values_list("user__email", flat=True)
    emails = list(admins)
    if vacancy.created_by and vacancy.created_by.is_active:
        emails.append(vacancy.created_by.email)
    return sorted({email.lower() for email in emails if email})


@email_task()
def send_vacancy_decision_email(vacancy_id: int, decision: str, reason: str = "") -> int:
    """Tell the employer what a moderator decided about their vacancy or their changes."""
    vacancy = Vacancy.objects.select_related("organisation", "created_by").get(pk=vacancy_id)
    recipients = decision_recipients(vacancy)
    if not recipients:
        return 0
    return send_email(
        to=recipients,
        subject=SUBJECTS[decision].format(title=vacancy.title),
        template=f"vacancies/email/{decision}.txt",
        context={"vacancy": vacancy, "reason": reason},
    )
