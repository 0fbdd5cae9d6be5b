"""Key accounts: protected contacts and the liaison step before anyone else contacts them.

Policy 2.3: before another operator contacts a key account contact, they must liaise
first with the original operator. The rule lives here, in `contact_blockers`, and is
used by note recording, bulk email eligibility and the pages alike.
"""

import datetime
import logging
from collections.abc import Iterable
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.formats import date_format

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.core.logs import log_event
from mycareer.core.text import joined
from mycareer.organisations.erased import check_not_erased
from mycareer.organisations.models import (
    Contact,
    KeyAccount,
    KeyContact,
    LiaisonRequest,
    Note,
    Organisation,
)
from mycareer.organisations.tasks import (
    CLOSED_WITH_KEY_ACCOUNT,
    CLOSED_WITH_KEY_CONTACT,
    send_inbound_contact_emails,
    send_liaison_closed_email,
    send_liaison_decision_email,
    send_liaison_request_email,
    send_liaison_requests_passed_on_email,
    send_multi_touch_emails,
)

DEFAULT_LIAISON_DAYS = 90
# Beside a key account operator who has left, in place of their email and phone.
OPERATOR_LEFT = (
    "An administrator can pass the key account to someone else; until then nobody can "
    "answer a request to contact its key contacts."
)
# The same on a request already answered (or withdrawn): nothing waits on them there.
OPERATOR_LEFT_NOTHING_WAITS = "An administrator can pass the key account to someone else."
DECLINE_NEEDS_A_REASON = (
    "Say why you decline: the colleague who asked reads it with your answer, and can ask "
    "again when it suits."
)

logger = logging.getLogger(__name__)


def contact_blockers(
    *,
    contact: Contact,
    user,
    today: datetime.date | None = None,
    bulk: bool = False,
    agreed: set[int] | None = None,
) -> list[KeyContact]:
    """The key-contact links that stop `user` contacting `contact` until their owner agrees.

    Empty when the contact is not protected, the organisation is multi-touch, the user
    owns the key account or (except for a `bulk` email) administers MyCareer, or an
    agreement is in force. A bulk email leaves a key contact out unless their owner
    agreed, whoever sends it: administering MyCareer is not an agreement. `agreed`, the
    links with an agreement in force (`agreed_links`), when read already for many.
    """
    if contact.organisation.multi_touch:
        return []
    links = contact.key_links_list
    if not links:
        return []
    # The owner of any of the contact's key accounts is never stopped.
    if any(link.key_account.operator_id == user.pk for link in links):
        return []
    if not bulk and user.has_perm("organisations.manage_any_key_account"):
        return []
    if agreed is None:
        agreed = agreed_links(user, links, today)
    return [link for link in links if link.pk not in agreed]


def agreed_links(user, links: list[KeyContact], today: datetime.date | None = None) -> set[int]:
    """Which of `links` the user has an agreement in force for: one query, for the links
    of many contacts at once (a bulk email's recipients)."""
    if not links:
        return set()
    today = today or timezone.localdate()
    return set(
        LiaisonRequest.objects.filter(
            requester=user,
            key_contact__in=links,
            status=LiaisonRequest.Status.APPROVED,
            valid_until__gte=today,
        ).values_list("key_contact_id", flat=True)
    )


def blocker_message(contact: Contact, blockers: list[KeyContact]) -> str:
    """Whom to ask before contacting `contact`; an owner who has left is named so, without
    the address nobody reads, and the message says what to do about them."""
    left = owners_who_left(blockers)
    owners = ", ".join(
        f"{b.key_account.operator} ({b.key_account.operator.email})"
        if b.key_account.operator.is_active
        else f"{b.key_account.operator} (has left)"
        for b in blockers
    )
    if left and len(left) == len(blockers):
        return f"{contact.full_name} is a key contact of {owners}. " + owners_left_message(
            contact, left
        )
    if not left:
        return (
            f"{contact.full_name} is a key contact of {owners}. Ask them to liaise before you "
            f"contact {contact.full_name}: use “Ask to contact” on the contact's page."
        )
    # "Ask them" would include the leaver, who is not asked: name who is, and who is not.
    askable = joined(dict.fromkeys(str(b.key_account.operator) for b in _askable(blockers)))
    return (
        f"{contact.full_name} is a key contact of {owners}. Ask {askable} to liaise before "
        f"you contact {contact.full_name}: use “Ask to contact” on the contact's page. "
        + owners_left_note(contact, left, asked=False)
    )


Blocked = list[tuple[Contact, list[KeyContact]]]


class KeyContactsNeedLiaison(ValidationError):
    """A note of contact *we* started names key contacts whose owners have not agreed.

    `blocked` lists each such contact with the key-contact links that stop it, so the
    page can offer "Ask to contact" for each.
    """

    def __init__(self, blocked: Blocked):
        self.blocked = blocked
        super().__init__({"contacts": [_note_refusal(c, links) for c, links in blocked]})


def _note_refusal(contact: Contact, blockers: list[KeyContact]) -> str:
    # An owner who has left is emailed nothing when the note is recorded.
    owners = joined(dict.fromkeys(str(b.key_account.operator) for b in _askable(blockers)))
    told = f", and {owners} will be told" if owners else ""
    return (
        f"{blocker_message(contact, blockers)} If {contact.full_name} contacted you first, "
        f"choose “They contacted us”: you may record it{told}."
    )


def check_note_contacts(
    *,
    organisation: Organisation,
    contacts: Iterable[Contact],
    by,
    started_by: str = Note.StartedBy.US,
) -> Blocked:
    """Refuse a note of contact we started with a key contact we may not contact yet.

    Contact the key contact started (they phoned or wrote) may be recorded: the
    protected contacts it names are returned, so their owners can be told.
    """
    blocked = [(c, links) for c in contacts if (links := contact_blockers(contact=c, user=by))]
    if blocked and started_by != Note.StartedBy.THEM:
        log_event(
            logger,
            "organisations.note.refused",
            reason="key_contact_without_liaison",
            organisation=organisation.pk,
            author=getattr(by, "pk", None),
            contacts=",".join(str(c.pk) for c, _ in blocked),
        )
        raise KeyContactsNeedLiaison(blocked)
    return blocked


def inbound_contact_flag(*, note: Note, blocked: Blocked) -> None:
    """Tell the owners of the key contacts an inbound note names, after commit."""

    if not blocked:
        return
    owners = sorted({link.key_account.operator_id for _, links in blocked for link in links})
    transaction.on_commit(lambda: send_inbound_contact_emails.enqueue(note.pk, owners))


def key_contact_exclusion(
    *, contact: Contact, sender, agreed: set[int] | None = None
) -> str | None:
    """Why a bulk email from `sender` must leave `contact` out, or None (for bulk email).
    `agreed` as for `contact_blockers`."""
    blockers = contact_blockers(contact=contact, user=sender, bulk=True, agreed=agreed)
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
    _check_can_hold(operator)
    if not by.has_perm("organisations.manage_any_key_account"):
        if by != operator:
            raise ValidationError("Only administrators can give a key account to someone else.")
        if not operator.memberships.filter(unit=unit).exists():
            raise ValidationError(
                {"unit": "You can hold a key account only for a unit you belong to."}
            )
    # Here, not at the top: services imports this module.
    from mycareer.organisations.services import check_not_merged

    # A record merged away is an archived stub whose page opens the survivor: a key
    # account on it protected nobody there, and its holder never saw it again.
    check_not_merged(organisation)
    # Locked, so the organisation cannot be marked multi-touch while this is decided.
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.multi_touch:
        raise ValidationError(
            f"{organisation} is a multi-touch organisation: many colleagues across the "
            "university work with it, so it has no key accounts. An administrator can mark "
            "it “no longer multi-touch” first."
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


def _check_can_hold(operator: User) -> None:
    if not operator.has_perm("organisations.hold_key_account"):
        raise ValidationError(
            {"operator": f"{operator} cannot edit records, so cannot hold a key account."}
        )


@transaction.atomic
def key_account_reassign(*, account: KeyAccount, operator: User, by: User) -> KeyAccount:
    """Hand a key account to another operator (for example when someone leaves).

    Its key contacts, and the liaison requests still waiting about them, go with it: the
    new operator is emailed those requests after commit, as a new request is emailed,
    since nobody else would tell them a colleague waits for their answer.
    """
    if not by.has_perm("organisations.manage_any_key_account"):
        raise ValidationError("Only administrators can reassign a key account.")
    if not operator.is_active:
        # Nobody would read the requests that go with it, or could answer them.
        log_event(
            logger,
            "organisations.key_account.reassign_refused",
            reason="operator_left",
            account=account.pk,
            operator=operator.pk,
            by=by.pk,
        )
        raise ValidationError(
            f"{operator} has left (their login is closed), so cannot hold a key account: "
            "choose someone who is still here."
        )
    # As when one is added: a read-only login, or one whose training lapsed, could neither
    # open the requests that go with it to answer them nor keep its key contacts.
    _check_can_hold(operator)
    # Locked and read again, so two administrators passing it on at once change it (and
    # email the new operator) once.
    locked = KeyAccount.objects.select_for_update().select_related("operator").get(pk=account.pk)
    previous = locked.operator
    if previous == operator:
        account.operator = operator
        return account
    account.operator = operator
    account.save(update_fields=["operator"])
    entry = audit.log(
        account,
        "organisations.key_account.reassigned",
        by=by,
        data={
            "from": previous.email,
            "to": operator.email,
            "organisation": account.organisation_id,
        },
    )
    waiting = list(
        LiaisonRequest.objects.filter(
            key_contact__key_account=account, status=LiaisonRequest.Status.PENDING
        )
        # Their own request needs no answer from them: they may contact the person now.
        .exclude(requester=operator)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    if waiting:
        transaction.on_commit(
            lambda: send_liaison_requests_passed_on_email.enqueue(
                account.pk, operator.pk, waiting, previous.pk, by.pk, f"reassigned:{entry.pk}"
            )
        )
    return account


@transaction.atomic
def key_account_ending(account: KeyAccount) -> tuple[KeyAccount, int, int]:
    """What ending a key account takes away: the account with its key contacts as
    `contact_links`, and how many liaison requests about them go with it, and of those
    how many still wait for an answer."""
    account = _with_links(KeyAccount.objects.filter(pk=account.pk)).get()
    requests = LiaisonRequest.objects.filter(key_contact__key_account=account)
    waiting = requests.filter(status=LiaisonRequest.Status.PENDING)
    return account, requests.count(), waiting.count()


@transaction.atomic
def key_account_delete(*, account: KeyAccount, by: User) -> int:
    """End a key account; its key contacts and their liaison requests go with it. Each
    colleague whose request was still waiting is told by email, or they would wait for
    an answer that cannot come. Returns how many colleagues are told."""
    if not by.has_perm("organisations.change_key_account", account):
        raise ValidationError("Only the key account operator or an administrator can end it.")
    # Read again, locked: a second press, or a colleague's, may have ended it already.
    if not KeyAccount.objects.select_for_update().filter(pk=account.pk).exists():
        raise ValidationError("This key account was already ended: nothing was changed.")
    requests = LiaisonRequest.objects.filter(key_contact__key_account=account)
    waiting = _waiting_requesters(requests, by=by)
    audit.log(
        account,
        "organisations.key_account.deleted",
        by=by,
        data={
            "organisation": account.organisation_id,
            "operator": account.operator.email,
            "waiting_requesters": len(waiting),
        },
    )
    counts = dict(requests.order_by().values_list("status").annotate(n=Count("pk")))
    waiting_requests = counts.pop(LiaisonRequest.Status.PENDING, 0)
    agreed = counts.pop(LiaisonRequest.Status.APPROVED, 0)
    log_event(
        logger,
        "organisations.key_account.deleted",
        key_account=account.pk,
        organisation=account.organisation_id,
        unit=account.unit_id,
        operator=account.operator_id,
        by=by.pk,
        # Also when the account is released (multi-touch): its links go with it all the same.
        key_contacts=KeyContact.with_released.filter(key_account=account).count(),
        waiting=waiting_requests,
        agreed=agreed,
        answered=sum(counts.values()),
        told=len(waiting),
    )
    organisation_id, operator_id = account.organisation_id, account.operator_id
    account.delete()
    for requester_id, contact_ids in waiting.items():
        transaction.on_commit(
            lambda r=requester_id, c=contact_ids: send_liaison_closed_email.enqueue(
                r, organisation_id, c, operator_id, by.pk, closed_with=CLOSED_WITH_KEY_ACCOUNT
            )
        )
    return len(waiting)


def _waiting_requesters(requests, *, by: User) -> dict[int, list[int]]:
    """Who still waits for an answer among `requests`, with the contacts they asked
    about: each is told when their requests close unanswered. Whoever closes them knows."""
    waiting: dict[int, list[int]] = {}
    for requester, contact in (
        requests.filter(status=LiaisonRequest.Status.PENDING)
        .exclude(requester=by)
        .order_by("pk")
        .values_list("requester_id", "key_contact__contact_id")
    ):
        contacts = waiting.setdefault(requester, [])
        if contact not in contacts:
            contacts.append(contact)
    return waiting


@transaction.atomic
def key_contact_mark(
    *, account: KeyAccount, contact: Contact, guidance: str, by: User
) -> KeyContact:
    """Protect a contact: others must liaise with the key account operator first.

    Marked again with the same guidance, nothing is written or recorded."""
    if not by.has_perm("organisations.change_key_account", account):
        raise ValidationError("Only the key account operator can mark their key contacts.")
    if contact.organisation_id != account.organisation_id:
        raise ValidationError(f"{contact} is not a contact of {account.organisation}.")
    check_not_erased(contact, action="marked", by=by)
    # Read afresh and locked: the organisation may have been marked multi-touch meanwhile.
    if Organisation.objects.select_for_update().get(pk=account.organisation_id).multi_touch:
        raise ValidationError(
            f"{account.organisation} is a multi-touch organisation: many colleagues work with it, "
            "so none of its contacts can be protected."
        )
    link, created = KeyContact.objects.get_or_create(
        contact=contact, key_account=account, defaults={"guidance": guidance}
    )
    if not created:
        if link.guidance == guidance:
            return link
        link.guidance = guidance
        link.save(update_fields=["guidance"])
    audit.log(
        link,
        "organisations.key_contact.marked" if created else "organisations.key_contact.changed",
        by=by,
        data={"contact": contact.pk, "guidance": guidance},
    )
    return link


class KeyContactUnmarking(NamedTuple):
    """What stopping a key contact's protection closes with it."""

    waiting: int  # liaison requests still waiting for an answer
    agreed: int  # liaison requests the operator agreed to, in force or not
    answered: int  # declined or withdrawn: deleted too (the audit trail keeps the answers)
    colleagues: int  # colleagues still waiting, who are told no answer will come


def key_contact_unmarking(*, link: KeyContact, by: User) -> KeyContactUnmarking:
    """What `key_contact_unmark` would close, for the page that asks first."""
    requests = LiaisonRequest.objects.filter(key_contact=link)
    counts = dict(requests.order_by().values_list("status").annotate(n=Count("pk")))
    waiting = counts.pop(LiaisonRequest.Status.PENDING, 0)
    agreed = counts.pop(LiaisonRequest.Status.APPROVED, 0)
    return KeyContactUnmarking(
        waiting=waiting,
        agreed=agreed,
        answered=sum(counts.values()),
        colleagues=len(_waiting_requesters(requests, by=by)),
    )


@transaction.atomic
def key_contact_unmark(*, link: KeyContact, by: User) -> int:
    """Stop protecting a key contact; the liaison requests about them close with it. Each
    colleague whose request was still waiting is told by email, or they would wait for an
    answer that cannot come. Returns how many colleagues are told."""
    if not by.has_perm("organisations.change_key_account", link.key_account):
        raise ValidationError("Only the key account operator can change their key contacts.")
    # An erased person's link is part of the history their erasure kept.
    check_not_erased(link.contact, action="unmarked", by=by)
    # Read again, locked: a second press, or a colleague's, may have removed it already.
    if not KeyContact.with_released.select_for_update().filter(pk=link.pk).exists():
        raise ValidationError(
            f"{link.contact.full_name} is already no longer a key contact: nothing was changed."
        )
    closing = key_contact_unmarking(link=link, by=by)
    waiting = _waiting_requesters(LiaisonRequest.objects.filter(key_contact=link), by=by)
    account = link.key_account
    audit.log(
        link,
        "organisations.key_contact.unmarked",
        by=by,
        data={
            "contact": link.contact_id,
            "waiting": closing.waiting,
            "agreed": closing.agreed,
            "waiting_requesters": len(waiting),
        },
    )
    log_event(
        logger,
        "organisations.key_contact.unmarked",
        key_contact=link.pk,
        key_account=account.pk,
        contact=link.contact_id,
        by=by.pk,
        waiting=closing.waiting,
        agreed=closing.agreed,
        answered=closing.answered,
        told=len(waiting),
    )
    link.delete()
    for requester_id, contact_ids in waiting.items():
        transaction.on_commit(
            lambda r=requester_id, c=contact_ids: send_liaison_closed_email.enqueue(
                r,
                account.organisation_id,
                c,
                account.operator_id,
                by.pk,
                closed_with=CLOSED_WITH_KEY_CONTACT,
            )
        )
    return len(waiting)


def _with_links(accounts):
    """Key accounts with their key contacts as `contact_links`, released or not."""
    return accounts.select_related("operator", "unit", "organisation").prefetch_related(
        Prefetch(
            "key_contacts",
            queryset=KeyContact.with_released.select_related("contact").order_by(
                "contact__full_name"
            ),
            to_attr="contact_links",
        )
    )


def multi_touch_change(organisation: Organisation) -> list[KeyAccount]:
    """What changing the organisation's multi-touch status would release or restore.

    Marking it multi-touch releases its key accounts in force; marking it no longer
    multi-touch restores the key accounts released. Each has `contact_links`.
    """
    if organisation.multi_touch:
        accounts = KeyAccount.with_released.filter(
            organisation=organisation, released_at__isnull=False
        )
    else:
        accounts = KeyAccount.objects.filter(organisation=organisation)
    return list(_with_links(accounts).order_by("unit__name"))


def _account_data(account: KeyAccount) -> dict:
    return {
        "key_account": account.pk,
        "unit": account.unit.name,
        "operator": account.operator.email,
        "key_contacts": [link.contact_id for link in account.contact_links],
    }


@transaction.atomic
def organisation_set_multi_touch(
    *, organisation: Organisation, multi_touch: bool, by: User
) -> list[KeyAccount]:
    """Mark an organisation multi-touch (no protected contacts) or not.

    Marking it releases its key accounts: they stop protecting their contacts but are
    kept, with their key contacts, guidance and liaison history, and come back as they
    were when the organisation is no longer multi-touch. The owners are told by email.
    Returns the key accounts released or restored.
    """
    if not by.has_perm("organisations.manage_any_key_account"):
        raise ValidationError(
            "Only administrators can change whether an organisation is multi-touch."
        )
    # Here, not at the top: services imports this module. A page opened before a merge
    # marked the archived stub, telling the administrator its contacts were released while
    # the survivor's (the stub's among them) stayed protected.
    from mycareer.organisations.services import check_not_merged

    check_not_merged(organisation)
    given, organisation = (
        organisation,
        Organisation.objects.select_for_update().get(pk=organisation.pk),
    )
    given.multi_touch = multi_touch  # the caller's copy says what is now true
    if organisation.multi_touch == multi_touch:
        return []
    accounts = multi_touch_change(organisation)
    ids = [a.pk for a in accounts]
    if multi_touch:
        KeyAccount.with_released.filter(pk__in=ids).update(
            released_at=timezone.now(), released_by=by
        )
    else:
        KeyAccount.with_released.filter(pk__in=ids).update(released_at=None, released_by=None)
    organisation.multi_touch = multi_touch
    organisation.save(update_fields=["multi_touch", "updated_at"])
    audit.log(
        organisation,
        "organisations.organisation.multi_touch",
        by=by,
        data={
            "multi_touch": multi_touch,
            "key_accounts_released" if multi_touch else "key_accounts_restored": [
                _account_data(a) for a in accounts
            ],
        },
    )
    _tell_owners(organisation=organisation, accounts=accounts, released=multi_touch, by=by)
    return accounts


def _tell_owners(
    *, organisation: Organisation, accounts: list[KeyAccount], released: bool, by: User
) -> None:
    """Email each owner (once, whatever number of key accounts) after commit."""

    owners: dict[int, list[int]] = {}
    for account in accounts:
        if account.operator_id != by.pk:
            owners.setdefault(account.operator_id, []).append(account.pk)
    for owner_id, account_ids in owners.items():
        transaction.on_commit(
            lambda o=owner_id, a=account_ids: send_multi_touch_emails.enqueue(
                organisation.pk, o, a, released, by.pk
            )
        )


# Liaison ---------------------------------------------------------------------------


def _pending_by_link(requester: User, blockers: list[KeyContact]) -> dict[int, LiaisonRequest]:
    return {
        request.key_contact_id: request
        for request in LiaisonRequest.objects.filter(
            requester=requester, key_contact__in=blockers, status=LiaisonRequest.Status.PENDING
        ).select_related("key_contact__key_account__operator")
    }


def _earliest(pending: dict[int, LiaisonRequest]) -> LiaisonRequest:
    return min(pending.values(), key=lambda r: r.created_at)


def owners_who_left(blockers: list[KeyContact]) -> list[KeyContact]:
    """The links among `blockers` whose key account operator has left (their login is
    closed): they cannot answer a liaison request, and are emailed nothing. Their key
    contacts stay protected all the same: the relationship is the unit's, not theirs."""
    return [link for link in blockers if not link.key_account.operator.is_active]


def _askable(blockers: list[KeyContact]) -> list[KeyContact]:
    """The links among `blockers` whose owner can answer a liaison request."""
    return [link for link in blockers if link.key_account.operator.is_active]


def _leavers(left: list[KeyContact]) -> list[str]:
    """Each leaver once: one person may hold two units' key accounts with the same
    organisation ("Tom Bennett and Tom Bennett")."""
    return list(dict.fromkeys(str(link.key_account.operator) for link in left))


def owners_left_message(contact: Contact, left: list[KeyContact]) -> str:
    """Who has left among the owners to ask about `contact`, and what to do about it."""
    people = _leavers(left)
    names = joined(people)
    organisation = contact.organisation
    if len(people) == 1:
        held = f"{names}, who holds the key account with {organisation}, has left"
        accounts = "the key account"
    else:
        held = f"{names}, who hold the key accounts with {organisation}, have left"
        accounts = "the key accounts"
    return (
        f"{held}: ask an administrator to pass {accounts} to someone else (they can do it "
        "from the organisation's page), then ask them."
    )


def owners_left_note(contact: Contact, left: list[KeyContact], *, asked: bool = True) -> str:
    """When other owners are asked: who among the owners has left and is not asked.
    `asked` is False before anyone is asked (a refusal that says whom to ask)."""
    people = _leavers(left)
    names = joined(people)
    verb = "has" if len(people) == 1 else "have"
    not_asked = f"{verb} not been asked" if asked else "will not be asked"
    return (
        f"{names} also {'holds' if len(people) == 1 else 'hold'} a key account with "
        f"{contact.organisation} but {verb} left, so cannot answer and {not_asked}."
    )


def liaison_waiting(
    *, requester: User, contact: Contact, blockers: list[KeyContact] | None = None
) -> LiaisonRequest | None:
    """The request `requester` is still waiting on about `contact`, when asking again would
    be refused (every owner to ask has one unanswered); None when asking would send one,
    or would be refused because every owner has left.

    Pages that offer "Ask to contact" say this instead, so nobody types a request only to
    be told they asked already.
    """
    if blockers is None:
        blockers = contact_blockers(contact=contact, user=requester, bulk=True)
    blockers = _askable(blockers)
    if not blockers:
        return None
    pending = _pending_by_link(requester, blockers)
    return _earliest(pending) if len(pending) == len(blockers) else None


def liaisons_waiting(*, requester: User, contacts: list[Contact]) -> dict[int, LiaisonRequest]:
    """`liaison_waiting` for many contacts at once (a campaign's left-out key contacts),
    by contact id: two queries, however many contacts."""
    links = [link for contact in contacts for link in contact.key_links_list]
    agreed = agreed_links(requester, links)
    blockers = {
        contact.pk: found
        for contact in contacts
        if (
            found := _askable(
                contact_blockers(contact=contact, user=requester, bulk=True, agreed=agreed)
            )
        )
    }
    everyone = [link for found in blockers.values() for link in found]
    pending = _pending_by_link(requester, everyone) if everyone else {}
    return {
        pk: _earliest({link.pk: pending[link.pk] for link in found})
        for pk, found in blockers.items()
        if all(link.pk in pending for link in found)
    }


def already_asked(waiting: LiaisonRequest) -> str:
    return (
        f"You asked {waiting.key_contact.key_account.operator} on "
        f"{date_format(timezone.localtime(waiting.created_at), 'j F Y')} and they have "
        "not answered yet. Wait for their answer, or withdraw that request (on Liaison "
        "requests) to ask again."
    )


@transaction.atomic
def liaison_request_create(
    *, requester: User, contact: Contact, reason: str, proposed_engagement: str
) -> list[LiaisonRequest]:
    """Ask each owner of a protected contact for agreement; they are emailed after commit.

    An owner who has left is not asked: nobody would read it or could answer. When every
    owner has left, nothing is sent and the requester is told to have an administrator
    pass the key account on. An administrator may ask too: they contact a key contact
    directly without asking, but their bulk email leaves the contact out until the owner
    agrees.
    """

    check_not_erased(contact, action="liaison_requested", by=requester)
    blockers = contact_blockers(contact=contact, user=requester, bulk=True)
    if not blockers:
        raise ValidationError(f"You may already contact {contact.full_name}: no liaison is needed.")
    left = owners_who_left(blockers)
    blockers = _askable(blockers)
    if not blockers:
        log_event(
            logger,
            "organisations.liaison.refused",
            reason="owners_left",
            contact=contact.pk,
            requester=requester.pk,
            key_accounts=",".join(str(link.key_account_id) for link in left),
        )
        raise ValidationError(owners_left_message(contact, left))
    pending = _pending_by_link(requester, blockers)
    if len(pending) == len(blockers):
        # Nothing new would be sent: say so, rather than drop what was typed.
        raise ValidationError(already_asked(_earliest(pending)))
    created = []
    for link in blockers:
        if link.pk in pending:
            created.append(pending[link.pk])
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
    """The owner agrees (for `valid_days`) or declines, saying why; recorded and emailed.

    A decline needs a reason (`comment`): the colleague who asked reads it in the email
    and on the request's page, rather than a bare "no" to guess at.
    """

    request = (
        LiaisonRequest.objects.select_for_update()
        .select_related(
            "key_contact__key_account__organisation", "key_contact__contact", "requester"
        )
        .get(pk=request.pk)
    )
    account = request.key_contact.key_account
    if not by.has_perm("organisations.change_key_account", account):
        raise ValidationError("Only the key account operator can answer this request.")
    if request.status != LiaisonRequest.Status.PENDING:
        raise ValidationError("This request has already been answered.")
    if approve and not 1 <= valid_days <= 365:
        raise ValidationError({"valid_days": "Choose between 1 and 365 days."})
    comment = comment.strip()
    if not approve and not comment:
        log_event(
            logger,
            "organisations.liaison.refused",
            reason="decline_without_reason",
            request=request.pk,
            by=by.pk,
        )
        raise ValidationError({"comment": DECLINE_NEEDS_A_REASON})
    today = timezone.localdate()
    request.status = LiaisonRequest.Status.APPROVED if approve else LiaisonRequest.Status.DECLINED
    request.decided_at, request.decided_by, request.comment = timezone.now(), by, comment
    request.valid_until = today + datetime.timedelta(days=valid_days) if approve else None
    request.save()
    # Not a note: an answer between two members of staff is no engagement with the
    # employer, and must not move its last engagement or its score. The request keeps
    # the answer (the liaison pages of both, the audit trail).
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


def merge_key_accounts(*, survivor: Organisation, other: Organisation, outcome) -> None:
    """Before a merge: fold the other record's key account for a unit into the survivor's.

    The merged record keeps the survivor's multi-touch status, so the other record's key
    accounts are released with the survivor's (multi-touch) or in force (not). Where both
    have an account for one unit, the survivor's stays (with every key contact of both)
    and the fold is recorded for the audit trail, naming the other operator.
    """
    released_at = timezone.now() if survivor.multi_touch else None
    KeyAccount.with_released.filter(organisation=other).update(
        released_at=released_at, released_by=None
    )
    folded = 0
    mine = {a.unit_id: a for a in KeyAccount.with_released.filter(organisation=survivor)}
    for account in list(KeyAccount.with_released.filter(organisation=other)):
        keep = mine.get(account.unit_id)
        if keep is None:
            continue
        for link in list(KeyContact.with_released.filter(key_account=account)):
            twin = KeyContact.with_released.filter(contact=link.contact, key_account=keep).first()
            if twin is None:
                link.key_account = keep
                link.save(update_fields=["key_account"])
            else:
                link.liaison_requests.update(key_contact=twin)
                link.delete()
        outcome.conflict(
            "organisations.key_account",
            kept=keep.pk,
            dropped=account.pk,
            unit=account.unit_id,
            operator=account.operator_id,
        )
        account.delete()
        folded += 1
    outcome.moved(
        "key account folded into the survivor's", "key accounts folded into the survivor's", folded
    )
