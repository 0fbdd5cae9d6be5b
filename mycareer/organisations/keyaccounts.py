"""Key accounts: protected contacts and the liaison step before anyone else contacts them.

Policy 2.3: before another operator contacts a key account contact, they must liaise
first with the original operator. The rule lives here, in `contact_blockers`, and is
used by note recording, bulk email eligibility and the pages alike.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import Action, access_for
from mycareer.organisations.models import (
    Contact,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    Note,
    Organisation,
)

DEFAULT_LIAISON_DAYS = 90


def _is_administrator(user) -> bool:
    return access_for(user).can(Action.ADMINISTER)


def contact_blockers(
    *, contact: Contact, user, today: datetime.date | None = None
) -> list[KeyContact]:
    """The key-contact links that stop `user` contacting `contact` until their owner agrees.

    Empty when the contact is not protected, the organisation is multi-touch, the user
    owns the key account or administers MyCareer, or an agreement is in force.
    """
    if contact.organisation.multi_touch:
        return []
    links = contact.key_links_list
    if not links:
        return []
    # The owner of any of the contact's key accounts, and administrators, are never stopped.
    if any(link.key_account.operator_id == user.pk for link in links) or _is_administrator(user):
        return []
    today = today or timezone.localdate()
    agreed = {
        r.key_contact_id
        for r in LiaisonRequest.objects.filter(
            requester=user,
            key_contact__in=links,
            status=LiaisonRequest.Status.APPROVED,
            valid_until__gte=today,
        )
    }
    return [link for link in links if link.pk not in agreed]


def blocker_message(contact: Contact, blockers: list[KeyContact]) -> str:
    owners = ", ".join(
        f"{b.key_account.operator} ({b.key_account.operator.email})" for b in blockers
    )
    return (
        f"{contact.full_name} is a key contact of {owners}. Ask them to liaise before you "
        f"contact {contact.full_name}: use “Ask to contact” on the contact's page."
    )


def check_note_contacts(*, organisation: Organisation, contacts: Iterable[Contact], by) -> None:
    """Refuse a note that names a protected contact the author may not yet contact."""
    errors = []
    for contact in contacts:
        blockers = contact_blockers(contact=contact, user=by)
        if blockers:
            errors.append(blocker_message(contact, blockers))
    if errors:
        raise ValidationError({"contacts": errors})


def key_contact_exclusion(*, contact: Contact, sender) -> str | None:
    """Why a bulk email from `sender` must leave `contact` out, or None (for bulk email)."""
    blockers = contact_blockers(contact=contact, user=sender)
    if not blockers:
        return None
    owners = ", ".join(str(b.key_account.operator) for b in blockers)
    return f"excluded: key contact of {owners}, no liaison agreement"


# Key accounts ------------------------------------------------------------------------


@transaction.atomic
def key_account_create(
    *, organisation: Organisation, operator: User, unit: Unit, by: User
) -> KeyAccount:
    """Make `operator` the key account operator for `unit`'s relationship with the organisation."""
    if not access_for(operator).can(Action.EDIT) and not operator.is_superuser:
        raise ValidationError(
            {"operator": f"{operator} cannot edit records, so cannot hold a key account."}
        )
    if not _is_administrator(by):
        if by != operator:
            raise ValidationError("Only administrators can give a key account to someone else.")
        if not operator.memberships.filter(unit=unit).exists():
            raise ValidationError(
                {"unit": "You can hold a key account only for a unit you belong to."}
            )
    if KeyAccount.objects.filter(organisation=organisation, unit=unit).exists():
        raise ValidationError({"unit": f"{unit} already has a key account with {organisation}."})
    account = KeyAccount.objects.create(organisation=organisation, operator=operator, unit=unit)
    audit.log(
        account,
        "organisations.key_account.created",
        by=by,
        data={"organisation": organisation.pk, "operator": operator.email, "unit": unit.code},
    )
    return account


@transaction.atomic
def key_account_reassign(*, account: KeyAccount, operator: User, by: User) -> KeyAccount:
    """Hand a key account to another operator (for example when someone leaves)."""
    if not _is_administrator(by):
        raise ValidationError("Only administrators can reassign a key account.")
    previous = account.operator
    if previous == operator:
        return account
    account.operator = operator
    account.save(update_fields=["operator"])
    audit.log(
        account,
        "organisations.key_account.reassigned",
        by=by,
        data={
            "from": previous.email,
            "to": operator.email,
            "organisation": account.organisation_id,
        },
    )
    return account


@transaction.atomic
def key_account_delete(*, account: KeyAccount, by: User) -> None:
    if not _is_administrator(by) and account.operator != by:
        raise ValidationError("Only the key account operator or an administrator can end it.")
    audit.log(
        account,
        "organisations.key_account.deleted",
        by=by,
        data={"organisation": account.organisation_id, "operator": account.operator.email},
    )
    account.delete()


@transaction.atomic
def key_contact_mark(
    *, account: KeyAccount, contact: Contact, guidance: str, by: User
) -> KeyContact:
    """Protect a contact: others must liaise with the key account operator first."""
    if account.operator != by and not _is_administrator(by):
        raise ValidationError("Only the key account operator can mark their key contacts.")
    if contact.organisation_id != account.organisation_id:
        raise ValidationError(f"{contact} is not a contact of {account.organisation}.")
    if account.organisation.multi_touch:
        raise ValidationError(
            f"{account.organisation} is a multi-touch organisation: many colleagues work with it, "
            "so none of its contacts can be protected."
        )
    link, created = KeyContact.objects.get_or_create(
        contact=contact, key_account=account, defaults={"guidance": guidance}
    )
    if not created and link.guidance != guidance:
        link.guidance = guidance
        link.save(update_fields=["guidance"])
    audit.log(
        link,
        "organisations.key_contact.marked" if created else "organisations.key_contact.changed",
        by=by,
        data={"contact": contact.pk, "guidance": guidance},
    )
    return link


@transaction.atomic
def key_contact_unmark(*, link: KeyContact, by: User) -> None:
    if link.key_account.operator != by and not _is_administrator(by):
        raise ValidationError("Only the key account operator can change their key contacts.")
    audit.log(link, "organisations.key_contact.unmarked", by=by, data={"contact": link.contact_id})
    link.delete()


@transaction.atomic
def organisation_set_multi_touch(*, organisation: Organisation, multi_touch: bool, by: User) -> int:
    """Mark an organisation multi-touch (no protected contacts) or not; returns links removed."""
    if not _is_administrator(by):
        raise ValidationError(
            "Only administrators can change whether an organisation is multi-touch."
        )
    if organisation.multi_touch == multi_touch:
        return 0
    removed = 0
    if multi_touch:
        links = KeyContact.objects.filter(key_account__organisation=organisation)
        removed = links.count()
        links.delete()
    organisation.multi_touch = multi_touch
    organisation.save(update_fields=["multi_touch", "updated_at"])
    audit.log(
        organisation,
        "organisations.organisation.multi_touch",
        by=by,
        data={"multi_touch": multi_touch, "key_contacts_removed": removed},
    )
    return removed


# Liaison ---------------------------------------------------------------------------


@transaction.atomic
def liaison_request_create(
    *, requester: User, contact: Contact, reason: str, proposed_engagement: str
) -> list[LiaisonRequest]:
    """Ask each owner of a protected contact for agreement; they are emailed after commit."""
    from mycareer.organisations.tasks import send_liaison_request_email

    blockers = contact_blockers(contact=contact, user=requester)
    if not blockers:
        raise ValidationError(f"You may already contact {contact.full_name}: no liaison is needed.")
    created = []
    for link in blockers:
        pending = LiaisonRequest.objects.filter(
            requester=requester, key_contact=link, status=LiaisonRequest.Status.PENDING
        ).first()
        if pending:
            created.append(pending)
            continue
        request = LiaisonRequest.objects.create(
            requester=requester,
            key_contact=link,
            reason=reason,
            proposed_engagement=proposed_engagement,
        )
        audit.log(
            request,
            "organisations.liaison.requested",
            by=requester,
            data={"contact": contact.pk, "owner": link.key_account.operator.email},
        )
        transaction.on_commit(lambda pk=request.pk: send_liaison_request_email.enqueue(pk))
        created.append(request)
    return created


@transaction.atomic
def liaison_request_decide(
    *,
    request: LiaisonRequest,
    approve: bool,
    by: User,
    comment: str = "",
    valid_days: int = DEFAULT_LIAISON_DAYS,
) -> LiaisonRequest:
    """The owner agrees (for `valid_days`) or declines; recorded in the notes and emailed."""
    from mycareer.organisations.tasks import send_liaison_decision_email

    request = (
        LiaisonRequest.objects.select_for_update()
        .select_related(
            "key_contact__key_account__organisation", "key_contact__contact", "requester"
        )
        .get(pk=request.pk)
    )
    account = request.key_contact.key_account
    if by != account.operator and not _is_administrator(by):
        raise ValidationError("Only the key account operator can answer this request.")
    if request.status != LiaisonRequest.Status.PENDING:
        raise ValidationError("This request has already been answered.")
    if approve and not 1 <= valid_days <= 365:
        raise ValidationError({"valid_days": "Choose between 1 and 365 days."})
    today = timezone.localdate()
    request.status = LiaisonRequest.Status.APPROVED if approve else LiaisonRequest.Status.DECLINED
    request.decided_at, request.decided_by, request.comment = timezone.now(), by, comment
    request.valid_until = today + datetime.timedelta(days=valid_days) if approve else None
    request.save()
    contact = request.key_contact.contact
    outcome = f"agreed until {request.valid_until:%-d %B %Y}" if approve else "declined"
    note = Note.objects.create(
        organisation=account.organisation,
        kind=Note.Kind.OTHER,
        date=today,
        author=by,
        unit=account.unit,
        text=(
            f"Liaison: {request.requester} asked to contact {contact.full_name} "
            f"({request.proposed_engagement}). {by} {outcome}."
            + (f" Comment: {comment}" if comment else "")
        ),
    )
    note.contacts.add(contact)
    audit.log(
        request,
        "organisations.liaison.approved" if approve else "organisations.liaison.declined",
        by=by,
        data={"comment": comment, "valid_until": str(request.valid_until or "")},
    )
    transaction.on_commit(lambda: send_liaison_decision_email.enqueue(request.pk))
    return request


@transaction.atomic
def liaison_request_withdraw(*, request: LiaisonRequest, by: User) -> None:
    if request.requester != by:
        raise ValidationError("Only the person who asked can withdraw a request.")
    if request.status != LiaisonRequest.Status.PENDING:
        raise ValidationError("Only a request still waiting for an answer can be withdrawn.")
    request.status = LiaisonRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    audit.log(request, "organisations.liaison.withdrawn", by=by)


def merge_key_accounts(*, survivor: Organisation, other: Organisation) -> dict:
    """Before a merge: fold the other record's key account for a unit into the survivor's."""
    folded = 0
    mine = {a.unit_id: a for a in survivor.key_accounts.all()}
    for account in list(other.key_accounts.all()):
        keep = mine.get(account.unit_id)
        if keep is None:
            continue
        for link in list(account.key_contacts.all()):
            twin = KeyContact.objects.filter(contact=link.contact, key_account=keep).first()
            if twin is None:
                link.key_account = keep
                link.save(update_fields=["key_account"])
            else:
                link.liaison_requests.update(key_contact=twin)
                link.delete()
        account.delete()
        folded += 1
    return {"key accounts folded into the survivor's": folded} if folded else {}
