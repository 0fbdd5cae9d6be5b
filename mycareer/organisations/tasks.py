from django_tasks import task

from mycareer.accounts.notifications import notify
from mycareer.core.mail import send_templated_email
from mycareer.core.retry import email_task
from mycareer.organisations import imports
from mycareer.organisations.models import LiaisonRequest

LIAISON_REQUEST = "organisations.liaison_request"
LIAISON_DECISION = "organisations.liaison_decision"


def _request(pk: int) -> LiaisonRequest:
    return LiaisonRequest.objects.select_related(
        "requester",
        "key_contact__contact",
        "key_contact__key_account__operator",
        "key_contact__key_account__organisation",
    ).get(pk=pk)


@email_task()
def send_liaison_request_email(request_id: int) -> int:
    """Tell a key account operator that a colleague asks to contact their key contact."""
    request = _request(request_id)
    owner = request.key_contact.key_account.operator
    return notify(
        user=owner,
        kind=LIAISON_REQUEST,
        reply_to=[request.requester.email],
        subject=f"{request.requester} asks to contact {request.key_contact.contact.full_name}",
        template="organisations/email/liaison_request.txt",
        context={"request": request, "owner": owner},
    )


@email_task()
def send_liaison_decision_email(request_id: int) -> int:
    """Tell the colleague who asked whether the key account operator agreed."""
    request = _request(request_id)
    answer = "agreed" if request.status == LiaisonRequest.Status.APPROVED else "declined"
    return notify(
        user=request.requester,
        kind=LIAISON_DECISION,
        reply_to=[request.key_contact.key_account.operator.email],
        subject=f"Contacting {request.key_contact.contact.full_name}: {answer}",
        template="organisations/email/liaison_decision.txt",
        context={"request": request, "answer": answer},
    )


@email_task()
def send_registration_decision_email(registration_id: int) -> int:
    """Tell an employer whether their registration was approved, and why not if declined."""
    from mycareer.organisations.models import RegistrationRequest

    registration = RegistrationRequest.objects.select_related("user", "organisation").get(
        pk=registration_id
    )
    approved = registration.status == RegistrationRequest.Status.APPROVED
    return send_templated_email(
        to=[registration.user.email],
        subject=(
            f"Your MyCareer registration for {registration.organisation} is approved"
            if approved
            else f"Your MyCareer registration for {registration.organisation} was declined"
        ),
        template="organisations/email/registration_decision.txt",
        context={"registration": registration, "approved": approved},
    )


@email_task()
def send_invitation_email(invitation_id: int) -> int:
    """Send a colleague the link to join their organisation on MyCareer."""
    from mycareer.organisations.models import EmployerInvitation

    invitation = EmployerInvitation.objects.select_related("organisation", "invited_by").get(
        pk=invitation_id
    )
    return send_templated_email(
        to=[invitation.email],
        reply_to=[invitation.invited_by.email],
        subject=f"{invitation.invited_by} invites you to {invitation.organisation} on MyCareer",
        template="organisations/email/invitation.txt",
        context={"invitation": invitation},
    )


@task()
def check_import(*, user_id: int, file: str, filename: str) -> dict:
    """Read and check a large uploaded file in the worker, never in a web request."""
    return imports.check_pending(user_id=user_id, file=file, filename=filename)


@task()
def import_organisations(
    *, user_id: int, file: str, filename: str, fingerprint: str, create_anyway: list[int]
) -> dict:
    """Write a large confirmed import in the worker: every row, or none."""
    return imports.run_pending(
        user_id=user_id,
        file=file,
        filename=filename,
        fingerprint=fingerprint,
        create_anyway=create_anyway,
    )
