import logging

from django.db.models import Exists, OuterRef, Prefetch

from mycareer.accounts.models import User
from mycareer.accounts.notifications import notify
from mycareer.core.logs import log_event
from mycareer.core.mail import send_email
from mycareer.core.retry import email_task
from mycareer.core.text import joined
from mycareer.organisations.models import (
    Contact,
    EmployerInvitation,
    EmployerMembership,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    Note,
    Organisation,
    RegistrationRequest,
)

logger = logging.getLogger(__name__)

LIAISON_REQUEST = "organisations.liaison_request"
LIAISON_DECISION = "organisations.liaison_decision"
INBOUND_CONTACT = "organisations.inbound_contact"
MULTI_TOUCH = "organisations.multi_touch"

# Why a waiting liaison request closed unanswered: the whole key account ended, or its
# operator stopped protecting the one contact.
CLOSED_WITH_KEY_ACCOUNT = "key_account"
CLOSED_WITH_KEY_CONTACT = "key_contact"


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
def send_liaison_requests_passed_on_email(
    account_id: int,
    operator_id: int,
    request_ids: list[int],
    previous_id: int,
    by_id: int,
    occasion: str,
) -> int:
    """Tell the operator a key account was passed to which liaison requests still wait
    for an answer: they went with the account, and nobody else would tell them."""
    account = (
        KeyAccount.objects.select_related("organisation", "unit").filter(pk=account_id).first()
    )
    operator = User.objects.filter(pk=operator_id).first()
    if account is None or operator is None:
        # Ended (or its operator erased) before this ran: nobody is waited on to answer.
        log_event(
            logger,
            "organisations.liaison_passed_on.email_skipped",
            account=account_id,
            operator=operator_id,
            reason="account_gone",
        )
        return 0
    requests = [
        request
        for request in LiaisonRequest.objects.select_related(
            "requester", "key_contact__contact", "key_contact__key_account"
        )
        .filter(pk__in=request_ids, status=LiaisonRequest.Status.PENDING)
        .order_by("created_at", "pk")
        # Passed on again, or answered, since: not theirs to answer any more.
        if request.key_contact.key_account.operator_id == operator.pk
    ]
    if not requests:
        log_event(
            logger,
            "organisations.liaison_passed_on.email_skipped",
            account=account.pk,
            operator=operator.pk,
            reason="none_waiting",
        )
        return 0
    previous = User.objects.filter(pk=previous_id).first()
    by = User.objects.filter(pk=by_id).first()
    many = len(requests) > 1
    sent = notify(
        user=operator,
        kind=LIAISON_REQUEST,
        reply_to=[by.email] if by else None,
        subject=(
            f"The key account with {account.organisation} is yours: "
            f"{len(requests)} request{'s' if many else ''} to contact its key contacts "
            f"{'wait' if many else 'waits'} for your answer"
        ),
        template="organisations/email/liaison_requests_passed_on.txt",
        context={
            "account": account,
            "owner": operator,
            "requests": requests,
            "many": many,
            "previous": previous,
            "by": by,
        },
        once=f"organisations.liaison_passed_on:{occasion}",
    )
    log_event(
        logger,
        "organisations.liaison_passed_on.emailed",
        account=account.pk,
        operator=operator.pk,
        requests=",".join(str(r.pk) for r in requests),
    )
    return sent


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
def send_liaison_closed_email(
    requester_id: int,
    organisation_id: int,
    contact_ids: list[int],
    operator_id: int,
    by_id: int,
    closed_with: str = CLOSED_WITH_KEY_ACCOUNT,
) -> int:
    """Tell a colleague that their waiting request was closed unanswered, because the key
    account ended or the contact is no longer its key contact, and whether each contact
    is now free to contact."""
    requester = User.objects.get(pk=requester_id)
    organisation = Organisation.objects.get(pk=organisation_id)
    contacts = list(
        Contact.objects.filter(pk__in=contact_ids, organisation=organisation)
        .annotate(protected=Exists(KeyContact.objects.filter(contact=OuterRef("pk"))))
        .order_by("full_name", "pk")
    )
    if not requester.is_active or not contacts:
        # Left the university, or the contacts were erased since: nothing to tell.
        log_event(
            logger,
            "organisations.liaison_closed.email_skipped",
            organisation=organisation.pk,
            requester=requester.pk,
        )
        return 0
    operator = User.objects.filter(pk=operator_id).first()
    by = User.objects.filter(pk=by_id).first()
    names = joined(contact.full_name for contact in contacts)
    free = [contact for contact in contacts if not contact.protected]
    account_ended = closed_with == CLOSED_WITH_KEY_ACCOUNT
    if account_ended:
        subject = f"Contacting {names}: the key account at {organisation} has ended"
    else:
        subject = f"Contacting {names} at {organisation}: your request was closed"
    sent = notify(
        user=requester,
        kind=LIAISON_DECISION,
        reply_to=[by.email] if by else None,
        subject=subject,
        template="organisations/email/liaison_closed.txt",
        context={
            "account_ended": account_ended,
            "requester": requester,
            "organisation": organisation,
            "names": names,
            "many": len(contacts) > 1,
            "free": joined(c.full_name for c in free),
            "free_count": len(free),
            "protected": joined(c.full_name for c in contacts if c.protected),
            "protected_count": len(contacts) - len(free),
            "operator": operator,
            "by": by,
        },
    )
    log_event(
        logger,
        "organisations.liaison_closed.emailed",
        organisation=organisation.pk,
        requester=requester.pk,
        closed_with=closed_with,
        contacts=",".join(str(c.pk) for c in contacts),
    )
    return sent


@email_task()
def send_inbound_contact_emails(note_id: int, owner_ids: list[int]) -> int:
    """Tell key account operators that a key contact of theirs got in touch with a colleague."""

    note = (
        Note.objects.select_related("author", "organisation")
        .prefetch_related("contacts__key_links__key_account")
        .filter(pk=note_id)
        .first()
    )
    if note is None:
        log_event(
            logger, "organisations.inbound_contact.email_skipped", note=note_id, reason="deleted"
        )
        return 0
    sent = 0
    for owner in User.objects.filter(pk__in=owner_ids, is_active=True).order_by("pk"):
        theirs = [
            contact
            for contact in note.contacts.all()
            if any(link.key_account.operator_id == owner.pk for link in contact.key_links_list)
        ]
        if not theirs:
            continue
        names = ", ".join(c.full_name for c in theirs)
        sent += notify(
            user=owner,
            kind=INBOUND_CONTACT,
            reply_to=[note.author.email] if note.author else None,
            subject=f"{names} contacted {note.author or 'a colleague'} ({note.organisation})",
            template="organisations/email/inbound_contact.txt",
            context={"note": note, "owner": owner, "contacts": theirs, "names": names},
            once=f"organisations.inbound_contact:{note.pk}",
        )
        log_event(
            logger,
            "organisations.inbound_contact.emailed",
            note=note.pk,
            owner=owner.pk,
            contacts=",".join(str(c.pk) for c in theirs),
        )
    return sent


@email_task()
def send_multi_touch_emails(
    organisation_id: int, owner_id: int, account_ids: list[int], released: bool, by_id: int
) -> int:
    """Tell a key account operator that multi-touch released (or restored) their key accounts."""

    organisation = Organisation.objects.get(pk=organisation_id)
    owner = User.objects.get(pk=owner_id)
    by = User.objects.filter(pk=by_id).first()
    accounts = list(
        KeyAccount.with_released.filter(pk__in=account_ids)
        .select_related("unit")
        .prefetch_related(
            Prefetch(
                "key_contacts",
                queryset=KeyContact.with_released.select_related("contact").order_by(
                    "contact__full_name"
                ),
                to_attr="contact_links",
            )
        )
        .order_by("unit__name")
    )
    if organisation.multi_touch != released or not owner.is_active or not accounts:
        # Changed back since, or nobody to tell: the later change sends its own email.
        log_event(
            logger,
            "organisations.multi_touch.email_skipped",
            organisation=organisation.pk,
            owner=owner.pk,
        )
        return 0
    sent = notify(
        user=owner,
        kind=MULTI_TOUCH,
        reply_to=[by.email] if by else None,
        subject=(
            f"{organisation} is now multi-touch: your key contacts there are released"
            if released
            else f"{organisation} is no longer multi-touch: your key account is back"
        ),
        template="organisations/email/multi_touch.txt",
        context={
            "organisation": organisation,
            "owner": owner,
            "accounts": accounts,
            "by": by,
            "released": released,
        },
    )
    log_event(
        logger,
        "organisations.multi_touch.emailed",
        organisation=organisation.pk,
        owner=owner.pk,
        released=released,
        key_accounts=",".join(str(a.pk) for a in accounts),
    )
    return sent


@email_task()
def send_registration_decision_email(registration_id: int) -> int:
    """Tell an employer whether their registration was approved, and why not if declined."""

    registration = RegistrationRequest.objects.select_related("user", "organisation").get(
        pk=registration_id
    )
    approved = registration.status == RegistrationRequest.Status.APPROVED
    return send_email(
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
def send_administrator_appointed_email(membership_id: int, by_id: int) -> int:
    """Tell someone they were made an administrator of their organisation on MyCareer."""

    membership = (
        EmployerMembership.objects.select_related("user", "organisation")
        .filter(pk=membership_id, status=EmployerMembership.Status.ACTIVE, is_admin=True)
        .first()
    )
    if membership is None or not membership.user.is_active:
        # Changed back, or they left, since: the email would tell them something untrue.
        log_event(logger, "organisations.membership.email_skipped", membership=membership_id)
        return 0
    by = User.objects.filter(pk=by_id).first()
    return send_email(
        to=[membership.user.email],
        reply_to=[by.email] if by else None,
        subject=f"You are now an administrator of {membership.organisation} on MyCareer",
        template="organisations/email/administrator_appointed.txt",
        context={
            "membership": membership,
            "by": by,
            "by_staff": by is not None and by.kind == User.Kind.STAFF,
        },
    )


@email_task()
def send_invitation_email(invitation_id: int) -> int:
    """Send a colleague the link to join their organisation on MyCareer."""

    invitation = EmployerInvitation.objects.select_related("organisation", "invited_by").get(
        pk=invitation_id
    )
    return send_email(
        to=[invitation.email],
        reply_to=[invitation.invited_by.email],
        subject=f"{invitation.invited_by} invites you to {invitation.organisation} on MyCareer",
        template="organisations/email/invitation.txt",
        context={
            "invitation": invitation,
            "has_login": User.objects.filter(email__iexact=invitation.email).exists(),
        },
    )
