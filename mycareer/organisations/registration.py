"""Employers register themselves: a new organisation, or a request to join one.

Every registration gets a risk score with reasons a moderator can read, and waits for
staff to approve it. Until then the employer can edit their draft, but students see
nothing of it (the organisation stays "pending approval").
"""

import datetime
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from mycareer import audit
from mycareer.accounts.models import User
from mycareer.core import ratelimit
from mycareer.core.logs import log_event
from mycareer.core.ratelimit import Limit, network_of
from mycareer.organisations import services
from mycareer.organisations.matching import (
    domain_from_url,
    domains_match,
    email_domain,
    is_free_mail,
)
from mycareer.organisations.merging import MergeHandler, MergeOutcome
from mycareer.organisations.models import (
    Contact,
    EmployerInvitation,
    EmployerMembership,
    Organisation,
    RegistrationRequest,
)
from mycareer.organisations.selectors import administrators_of, contacts_students_may_reach
from mycareer.organisations.tasks import (
    send_administrator_appointed_email,
    send_invitation_email,
    send_registration_decision_email,
)

logger = logging.getLogger(__name__)

HIGH_RISK = 50
MANY_REGISTRATIONS = 3  # from one address within a day


def _limits() -> tuple[Limit, Limit]:
    hour = 60 * 60
    return (
        Limit("registration-email", settings.MYCAREER["REGISTRATIONS_PER_EMAIL_PER_HOUR"], hour),
        Limit(
            "registration-network", settings.MYCAREER["REGISTRATIONS_PER_NETWORK_PER_HOUR"], hour
        ),
    )


def registration_rate_limited(*, email: str, address: str | None) -> str | None:
    """Count a registration attempt; the message to show when it goes over a limit.

    Every attempt counts, whether or not the address has an account, so the limits
    say nothing about who is registered.
    """
    per_email, per_network = _limits()
    network = network_of(address)
    over_email = ratelimit.hit(per_email, email.strip().lower())
    over_network = ratelimit.hit(per_network, network)
    if not (over_email or over_network):
        return None
    # Which limit, not whose address: log lines carry no names or addresses.
    log_event(
        logger,
        "registration.rate_limited",
        level=logging.WARNING,
        scope="email" if over_email else "network",
    )
    return (
        "There have been too many registrations from here in the last hour. Nothing was "
        "registered: please try again in an hour, or ask the Careers Centre for help."
    )


@dataclass(frozen=True)
class Risk:
    score: int
    reasons: list[str]


def registration_risk(
    *,
    email: str,
    website: str,
    organisation_name: str,
    ip_address: str | None,
    new_organisation: bool,
    at: datetime.datetime | None = None,
) -> Risk:
    """Score a registration 0–100 from what moderators should look at, with the reasons.

    `at`: when it was made (now, unless scored again later), for the registrations made
    from the same address in the day before it."""
    reasons: list[tuple[int, str]] = []
    mail_domain = email_domain(email)
    site_domain = domain_from_url(website)
    if is_free_mail(mail_domain):
        reasons.append((30, f"Free email address ({mail_domain}), not an organisation's own"))
    if new_organisation and not site_domain:
        reasons.append((15, "No website given"))
    if (
        site_domain
        and mail_domain
        and not is_free_mail(mail_domain)
        and not domains_match(mail_domain, site_domain)
    ):
        reasons.append((25, f"Email domain {mail_domain} differs from the website's {site_domain}"))
    if new_organisation and organisation_name:
        close = services.organisation_duplicates(name=organisation_name, website=website)
        if close:
            names = ", ".join(c.name for c in close[:3])
            reasons.append((25, f"Very close to existing organisations: {names}"))
    if ip_address:
        at = at or timezone.now()
        recent = RegistrationRequest.objects.filter(
            ip_address=ip_address,
            created_at__gte=at - datetime.timedelta(days=1),
            created_at__lt=at,
        )
        if recent.count() + 1 >= MANY_REGISTRATIONS:
            reasons.append((30, f"{recent.count() + 1} registrations from one address in a day"))
    return Risk(
        score=min(100, sum(points for points, _ in reasons)), reasons=[r for _, r in reasons]
    )


class AccountExists(Exception):  # noqa: N818 (an outcome, not an error of the caller)
    """The address already has an account: the owner is emailed, the page says nothing.

    `repeat`: the same registration sent again (Register pressed twice, the browser sending
    the form again): the confirmation email is already on its way, and a second email
    saying the address has an account would only confuse them.
    """

    def __init__(self, email: str, *, repeat: bool = False):
        super().__init__(email)
        self.email = email
        self.repeat = repeat


# How long after registering the same form again counts as the same registration.
REPEAT_WITHIN = datetime.timedelta(minutes=10)


def _registered_again(user: User, password: str) -> bool:
    """Whether this is the registration that just made `user`, sent again.

    The password is checked whatever the outcome, so that the answer takes as long as
    making an account does (the password hash) and says nothing about the address.
    """
    same_password = user.check_password(password)
    return (
        same_password
        and user.kind == User.Kind.EMPLOYER
        and timezone.now() - user.date_joined < REPEAT_WITHIN
        and not email_confirmed(user)
    )


def joinable_organisations():
    """Organisations a stranger may ask to join: live ones only.

    A pending organisation is someone else's draft registration, with draft vacancies:
    it is nobody's to join until the university has approved it.
    """
    return Organisation.objects.filter(status=Organisation.Status.ACTIVE, merged_into__isnull=True)


def invitation_matches(invitation: EmployerInvitation, email: str) -> bool:
    return email.strip().lower() == invitation.email.strip().lower()


@transaction.atomic
def employer_register(
    *,
    full_name: str,
    email: str,
    password: str,
    job_title: str = "",
    phone: str = "",
    join: Organisation | None = None,
    organisation_name: str = "",
    website: str = "",
    ip_address: str | None = None,
    invitation: EmployerInvitation | None = None,
) -> RegistrationRequest | None:
    """Create an employer login with their contact record, and their registration request.

    With an invitation from an organisation's admin, they join at once (no request), their
    address confirmed by the link; an invitation is good only for the address it was
    sent to. An address that already
    has an account raises AccountExists, which the page must not reveal.
    """
    email = email.strip().lower()
    if invitation is not None and not invitation_matches(invitation, email):
        raise ValidationError(
            {
                "email": "This invitation was sent to another email address. Register with "
                "the address it was sent to, or ask your colleague to invite this one."
            }
        )
    if join is not None and not joinable_organisations().filter(pk=join.pk).exists():
        raise ValidationError(
            "This organisation cannot be joined: choose one of those listed, or register "
            "yours as a new organisation."
        )
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        raise AccountExists(email, repeat=_registered_again(existing, password))
    user = User(
        email=email, full_name=full_name, kind=User.Kind.EMPLOYER, job_title=job_title, phone=phone
    )
    user.set_password(password)
    user.full_clean(exclude=["password", "feed_token"])
    user.save()
    if invitation is not None:
        # Its link went to this address only (checked above), so opening it proves the
        # address is theirs: asking them to confirm it again proves nothing more.
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        organisation = invitation.organisation
        _ensure_contact(organisation, user)
        EmployerMembership.objects.create(
            user=user, organisation=organisation, status=EmployerMembership.Status.ACTIVE
        )
        _use_invitations(organisation, email)
        audit.log(invitation, "organisations.invitation.accepted", by=user, person=user)
        return None

    new = join is None
    risk = registration_risk(
        email=email,
        website=website if new else join.website,
        organisation_name=organisation_name,
        ip_address=ip_address,
        new_organisation=new,
    )
    if new:
        organisation = services.organisation_create(
            by=user,
            name=organisation_name,
            website=website,
            status=Organisation.Status.PENDING,
            # The person chose "mine is a different organisation"; the score records it.
            confirm_duplicates=True,
        )
        membership_status = EmployerMembership.Status.ACTIVE
        # Their own new organisation: pending, so no bulk email or student sees it yet.
        _ensure_contact(organisation, user)
    else:
        # A request to join someone else's organisation: they become one of its contacts
        # only when the university approves it (bulk email reads the contacts).
        organisation = join
        membership_status = EmployerMembership.Status.PENDING
    EmployerMembership.objects.create(
        user=user, organisation=organisation, is_admin=new, status=membership_status
    )
    registration = RegistrationRequest.objects.create(
        user=user,
        organisation=organisation,
        kind=RegistrationRequest.Kind.NEW_ORGANISATION if new else RegistrationRequest.Kind.JOIN,
        risk_score=risk.score,
        risk_reasons=risk.reasons,
        ip_address=ip_address,
    )
    audit.log(
        registration,
        "organisations.registration.created",
        by=user,
        person=user,
        data={"kind": registration.kind, "risk": risk.score, "reasons": risk.reasons},
    )
    return registration


def _registrations_merged(
    *, survivor: Organisation, other: Organisation, outcome: MergeOutcome
) -> None:
    """A registration of a new organisation, merged into a live one, becomes a request to
    join it, scored as one: reasons about a new organisation ("Very close to existing
    organisations", "No website given") no longer say anything about it."""
    if not services.awaiting_approval(survivor, other):
        return
    waiting = RegistrationRequest.objects.filter(
        organisation=other,
        status=RegistrationRequest.Status.PENDING,
        kind=RegistrationRequest.Kind.NEW_ORGANISATION,
    ).select_related("user")
    for registration in waiting:
        risk = registration_risk(
            email=registration.user.email,
            website=survivor.website,
            organisation_name=survivor.name,
            ip_address=registration.ip_address,
            new_organisation=False,
            at=registration.created_at,
        )
        registration.kind = RegistrationRequest.Kind.JOIN
        registration.risk_score, registration.risk_reasons = risk.score, risk.reasons
        registration.save(update_fields=["kind", "risk_score", "risk_reasons"])


# Registered in the app's `ready()`. Before the organisations' own handler, which moves
# the registrations, and while the merged record is still the one nobody approved.
REGISTRATIONS_MERGE_HANDLER = MergeHandler(
    name="organisations.registrations", relations=(), organisation=_registrations_merged, order=5
)


def _ensure_contact(organisation: Organisation, user: User) -> Contact:
    # An erased person's record is never linked to a login, even one without an address.
    contact = organisation.contacts.filter(email__iexact=user.email, erased_at__isnull=True).first()
    if contact is None:
        # The person registering is adding themselves: an address once erased is theirs
        # to bring back, taken silently (docs/decisions.md, "An erased contact stays erased").
        contact = services.contact_create(
            organisation=organisation,
            by=user,
            full_name=user.full_name,
            job_title=user.job_title,
            email=user.email,
            phone=user.phone,
        )
    if contact.user_id is None:
        contact.user = user
        contact.save(update_fields=["user"])
    return contact


def email_confirmed(user: User) -> bool:
    """Whether the person opened the confirmation link sent to their address.

    Registering on the site records the address as unconfirmed until then; a login made
    by the university (a script, an import) has no such record and is taken as it is.
    """
    return not EmailAddress.objects.filter(
        user=user, email__iexact=user.email, verified=False
    ).exists()


def declined_registration(user: User, organisation: Organisation) -> RegistrationRequest | None:
    """The decision that left `user` outside `organisation`: what they asked for, and why not.

    A registration of a new organisation and a request to join one are declined alike
    (the membership says only "declined"): the person is told which it was.
    """
    return (
        RegistrationRequest.objects.filter(
            user=user, organisation=organisation, status=RegistrationRequest.Status.DECLINED
        )
        .order_by("-decided_at", "-pk")
        .first()
    )


def why_signed_in_for_none(user: User) -> str:
    """Why an employer signs in for no organisation now, as their home page says it: a
    request that waits, a registration or request declined, or a membership that ended."""
    membership = (
        EmployerMembership.objects.filter(user=user)
        .exclude(status=EmployerMembership.Status.ACTIVE)
        .select_related("organisation")
        .order_by("-pk")
        .first()
    )
    if membership is None:
        # As the home page says it.
        return (
            "Your login is not linked to an organisation: ask one of its administrators on "
            "MyCareer to invite you, or contact the Careers Centre."
        )
    name = membership.organisation.name
    if membership.status == EmployerMembership.Status.PENDING:
        return (
            f"Your request to join {name} is waiting for the university's approval: once "
            "it is approved, you see and work on its pages here."
        )
    declined = declined_registration(user, membership.organisation)
    asked = (
        f"Your registration of {name}"
        if declined and declined.kind == RegistrationRequest.Kind.NEW_ORGANISATION
        else f"Your request to join {name}"
    )
    return f"{asked} was declined: your home page gives the reason and what you can do now."


def why_no_email_choices(user: User) -> str:
    """Why an employer has no email choices to make: nothing is sent to them until they
    are one of an organisation's contacts, which a request to join makes them only once
    the university approves it."""
    membership = (
        EmployerMembership.objects.filter(user=user, status=EmployerMembership.Status.ACTIVE)
        .select_related("organisation")
        .first()
    )
    if membership is None:
        why = why_signed_in_for_none(user)
        when = "once you sign in for an organisation"
    else:
        why = (
            f"Your contact record at {membership.organisation.name} is not set up yet: ask "
            "the Careers Centre to set it up."
        )
        when = "once it is set up"
    # Not "nothing is sent to you": staff may have recorded the address as a contact
    # before the request, and that record is emailed as any other.
    return (
        f"{why} You can choose which emails you get here {when}. Meanwhile, every bulk "
        "email from MyCareer has a link at its foot to stop them."
    )


def without_an_administrator(organisation: Organisation) -> bool:
    """Whether nobody can sign in to change the organisation's profile and people."""
    return not administrators_of(organisation)


def registration_version(registration: RegistrationRequest) -> str:
    """What a moderator's page shows of a registration, as one opaque value to post back.

    A decision rests on more than the registration's own row, which has no version: while
    the page is open the employer may edit their pending organisation or their own
    details, or confirm their address, another moderator may decide, and staff may merge
    the organisation into another. Each of these changes the value.
    """
    organisation, user = registration.organisation, registration.user
    shown = [
        registration.status,
        registration.decided_by_id,
        registration.kind,  # a merge turns a new organisation into a request to join one
        organisation.pk,
        organisation.status,
        organisation.updated_at.isoformat(),
        user.full_name,
        user.email,
        user.job_title,
        email_confirmed(user),
        # Approving a request to join an organisation nobody administers makes them its
        # administrator: the page warns of it, so a change either way is a new version.
        without_an_administrator(organisation),
    ]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:20]


def already_decided_text(registration: RegistrationRequest) -> str:
    """Why a registration decided already cannot be decided again: who did, and when."""
    when = date_format(timezone.localtime(registration.decided_at), "j F Y, H:i")
    by = registration.decided_by
    if by is not None and by.pk == registration.user_id:
        done = f"{by} withdrew this registration on {when}"
    else:
        verb = registration.get_status_display().lower()
        done = f"{by or 'Someone'} already {verb} this registration on {when}"
    return f"{done}, so your decision was not recorded."


def _refuse_decision(registration: RegistrationRequest, by: User, why: str, text: str):
    log_event(
        logger,
        "organisations.registration.decision_refused",
        registration=registration.pk,
        by=by.pk,
        why=why,
    )
    raise ValidationError(text)


@transaction.atomic
def registration_decide(
    *,
    registration: RegistrationRequest,
    approve: bool,
    by: User,
    reason: str = "",
    seen: str | None = None,
) -> RegistrationRequest:
    """Approve (the organisation goes live, or the person joins) or decline, with a reason.

    `seen` is the `registration_version` the moderator's page showed: a decision on a
    version they were not shown is refused (None: not checked).
    """

    registration = RegistrationRequest.objects.select_for_update().get(pk=registration.pk)
    if registration.status != RegistrationRequest.Status.PENDING:
        # A second moderator, or the same one pressing twice: one decision, one email.
        _refuse_decision(registration, by, "decided", already_decided_text(registration))
    if seen is not None and registration_version(registration) != seen:
        _refuse_decision(
            registration,
            by,
            "changed",
            "This registration changed after you opened it (the employer edited it or "
            "confirmed their address, say): read it again below, then decide.",
        )
    if not approve and not reason.strip():
        raise ValidationError({"reason": "Give the reason: it is emailed to the employer."})
    if approve and not email_confirmed(registration.user):
        # Anyone can type someone else's address: approving it would put an organisation
        # (or a colleague) live in the name of whoever owns it.
        raise ValidationError(
            f"{registration.user} has not confirmed their email address yet, so MyCareer "
            "does not know the address is theirs: approve once they have opened the link "
            "it sent them."
        )
    registration.status = (
        RegistrationRequest.Status.APPROVED if approve else RegistrationRequest.Status.DECLINED
    )
    registration.decided_at, registration.decided_by = timezone.now(), by
    registration.decision_reason = reason.strip()
    registration.save()
    membership = EmployerMembership.objects.get(
        user=registration.user, organisation=registration.organisation
    )
    organisation = registration.organisation
    if approve:
        membership.status = EmployerMembership.Status.ACTIVE
        _ensure_contact(organisation, registration.user)
        if without_an_administrator(organisation):
            # Nobody could invite colleagues or change the profile otherwise (the only
            # administrator left, or was erased): the person approved takes it on.
            membership.is_admin = True
        if registration.kind == RegistrationRequest.Kind.NEW_ORGANISATION:
            organisation.status = Organisation.Status.ACTIVE
            organisation.save(update_fields=["status", "updated_at"])
    else:
        membership.status = EmployerMembership.Status.DECLINED
        if (
            registration.kind == RegistrationRequest.Kind.NEW_ORGANISATION
            and organisation.status == Organisation.Status.PENDING
        ):
            organisation.status = Organisation.Status.ARCHIVED
            organisation.save(update_fields=["status", "updated_at"])
    membership.save(update_fields=["status", "is_admin"])
    audit.log(
        registration,
        "organisations.registration.approved" if approve else "organisations.registration.declined",
        by=by,
        person=registration.user,
        data={"reason": reason, "organisation": organisation.pk},
    )
    transaction.on_commit(lambda: send_registration_decision_email.enqueue(registration.pk))
    return registration


INVITATION_DAYS = 30


def waiting(invitations):
    """Invitations whose link still works: not used, and not older than INVITATION_DAYS."""
    since = timezone.now() - datetime.timedelta(days=INVITATION_DAYS)
    return invitations.filter(accepted_at__isnull=True, created_at__gte=since)


def accepted_invitation(token: str) -> EmployerInvitation | None:
    """The invitation of this link if it was accepted (however long ago), else None."""
    if not token:
        return None
    return (
        EmployerInvitation.objects.select_related("organisation")
        .filter(token=token, accepted_at__isnull=False)
        .first()
    )


def invitation_accepted_text(invitation: EmployerInvitation) -> str:
    """What the link of an accepted invitation says to whoever opens it: when, and that
    they log in now. Never the address it was sent to: the link may have been passed on,
    and its page shows the address only while the invitation waits."""
    accepted_on = date_format(timezone.localtime(invitation.accepted_at), "j F Y")
    return (
        f"This invitation was accepted on {accepted_on}: log in with the address it was "
        f"sent to, to sign in for {invitation.organisation}."
    )


@transaction.atomic
def invitation_create(*, organisation: Organisation, email: str, by: User) -> EmployerInvitation:
    """An organisation's admin invites a colleague to join it; they are emailed a link.

    An address with a link that still works is not invited again (a form sent twice made
    two invitations and two emails): the earlier one is withdrawn first, to send anew.
    """

    email = email.strip().lower()
    # One invitation at a time per organisation: two sent at once do not both pass.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    if organisation.status != Organisation.Status.ACTIVE:
        raise ValidationError(
            "You can invite colleagues once the university has approved your organisation."
        )
    if organisation.memberships.filter(
        user__email__iexact=email, status=EmployerMembership.Status.ACTIVE
    ).exists():
        raise ValidationError({"email": "This person already signs in for your organisation."})
    earlier = waiting(organisation.invitations.filter(email__iexact=email)).first()
    if earlier is not None:
        raise ValidationError(
            {
                "email": (
                    f"{email} was invited on {date_format(earlier.created_at, 'j F Y')} and "
                    "that link still works. To send a new one, withdraw it below first."
                )
            }
        )
    invitation = EmployerInvitation.objects.create(
        organisation=organisation, email=email, token=secrets.token_urlsafe(32), invited_by=by
    )
    audit.log(invitation, "organisations.invitation.created", by=by, data={"email": email})
    transaction.on_commit(lambda: send_invitation_email.enqueue(invitation.pk))
    return invitation


@transaction.atomic
def invitation_withdraw(*, invitation: EmployerInvitation, by: User) -> None:
    """Withdraw an invitation not yet used (sent to a wrong address, say): its link stops
    working at once."""
    audit.log(
        invitation.organisation,
        "organisations.invitation.withdrawn",
        by=by,
        data={"email": invitation.email, "invitation": invitation.pk},
    )
    log_event(
        logger,
        "organisations.invitation.withdrawn",
        organisation=invitation.organisation_id,
        by=by.pk,
    )
    invitation.delete()


# Who signs in for an organisation ---------------------------------------------------------


def _members_locked(organisation: Organisation) -> list[EmployerMembership]:
    """The organisation's active memberships, locked until the transaction ends: two
    administrators each stepping down at once cannot leave it with none."""
    return list(
        EmployerMembership.objects.select_for_update(of=("self",))
        .filter(organisation=organisation, status=EmployerMembership.Status.ACTIVE)
        .select_related("user", "organisation")
        .order_by("pk")
    )


def _left_without_an_administrator(
    members: list[EmployerMembership], leaving: EmployerMembership, *, ending: bool
) -> int | None:
    """How many people would still sign in for the organisation, none of them its
    administrator, if `leaving` stepped down (or, `ending`, left): None while another
    administrator stays."""
    if not leaving.is_admin or any(m.is_admin for m in members if m.pk != leaving.pk):
        return None
    return len(members) - (1 if ending else 0)


def _check_an_administrator_stays(
    organisation: Organisation,
    members: list[EmployerMembership],
    leaving: EmployerMembership,
    *,
    ending: bool,
    left_confirmed: int | None = None,
) -> int | None:
    """Refuse to leave colleagues without an administrator, unless the number of people
    left so was confirmed (staff may; an employer makes a colleague one first). The last
    person of all may go: nobody is left to be stuck. Returns the number left so."""
    left = _left_without_an_administrator(members, leaving, ending=ending)
    if not left:
        return left
    if left_confirmed is None:
        raise ValidationError(last_administrator_text(organisation))
    if left_confirmed != left:
        raise ValidationError(
            f"The number changed since you looked: {people(left)} now sign in for "
            f"{organisation}, not {left_confirmed}. Check them and confirm again.",
            code="changed",
        )
    return left


def people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def last_administrator_text(organisation: Organisation) -> str:
    return (
        f"{organisation} needs at least one administrator on MyCareer: make a colleague one first."
    )


def no_administrator_text(organisation: Organisation, *, left: int) -> str:
    """What a page says before a change leaves the organisation with no administrator,
    and who can appoint one then."""
    if left:
        return (
            f"{organisation} will have no administrator on MyCareer: {people(left)} will "
            "still sign in for it, but nobody will be able to change its profile, people or "
            "vacancies, or invite colleagues. Staff of the Careers Centre who edit "
            f"organisations can make {'them' if left == 1 else 'one of them'} its "
            "administrator, from its page."
        )
    return (
        f"{organisation} will have no administrator on MyCareer: nobody will sign in for "
        "it. A colleague can register to join it: the Careers Centre's staff approve them, "
        "and they become its administrator."
    )


def is_last_administrator(membership: EmployerMembership) -> bool:
    """Whether ending this membership (or its administration) would leave none: for a page
    to say so before asking; the services check again under their lock."""
    return (
        membership.is_admin
        and not EmployerMembership.objects.filter(
            organisation_id=membership.organisation_id,
            status=EmployerMembership.Status.ACTIVE,
            is_admin=True,
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def left_without_an_administrator(membership: EmployerMembership, *, ending: bool) -> int | None:
    """`_left_without_an_administrator` for a page, before asking; the services count
    again under their lock."""
    if not is_last_administrator(membership):
        return None
    members = EmployerMembership.objects.filter(
        organisation_id=membership.organisation_id, status=EmployerMembership.Status.ACTIVE
    )
    return members.exclude(pk=membership.pk).count() + (0 if ending else 1)


@transaction.atomic
def membership_set_admin(
    *,
    membership: EmployerMembership,
    is_admin: bool,
    by: User,
    left_confirmed: int | None = None,
) -> EmployerMembership:
    """Make a member an administrator of their organisation on MyCareer, or a member only.

    Administrators change the profile, the people and the vacancies and invite
    colleagues; members see them. Someone made an administrator is told by email. The
    organisation keeps at least one administrator, unless `left_confirmed` is the number
    of people the page said would sign in with none (staff may leave it so).
    """
    _may_change_who_signs_in(by, membership, staff_only=left_confirmed is not None)
    members = _members_locked(membership.organisation)
    current = next((m for m in members if m.pk == membership.pk), None)
    if current is None:
        raise ValidationError(f"{membership.user} is no longer a member.")
    if current.is_admin == is_admin:
        return current  # pressed twice, or already done by a colleague
    left = None
    if not is_admin:
        left = _check_an_administrator_stays(
            current.organisation, members, current, ending=False, left_confirmed=left_confirmed
        )
    current.is_admin = is_admin
    current.save(update_fields=["is_admin"])
    extra = {} if left is None else {"left_without_an_administrator": left}
    _record(current, "admin_granted" if is_admin else "admin_removed", by=by, **extra)
    if is_admin:
        appointed, appointer = current.pk, by.pk
        transaction.on_commit(
            lambda: send_administrator_appointed_email.enqueue(appointed, appointer)
        )
    return current


def _may_change_who_signs_in(
    by: User, membership: EmployerMembership, *, staff_only: bool = False
) -> None:
    """Staff who edit organisations change who administers one, and may leave it with
    none (`staff_only`); otherwise only the organisation's own administrators."""
    organisation = membership.organisation
    if by.has_perm("organisations.change_organisation", organisation):
        return
    if (
        not staff_only
        and EmployerMembership.objects.filter(
            user=by,
            organisation=organisation,
            status=EmployerMembership.Status.ACTIVE,
            is_admin=True,
        ).exists()
    ):
        return
    log_event(
        logger,
        "organisations.membership.refused",
        organisation=organisation.pk,
        member=membership.user_id,
        by=by.pk,
    )
    raise PermissionDenied(f"Only an administrator of {organisation} can change who signs in.")


def _record(member: EmployerMembership, what: str, *, by: User, **data) -> None:
    """The audit entry and the log line of a change to who signs in."""
    action = f"organisations.membership.{what}"
    audit.log(
        member.organisation,
        action,
        by=by,
        person=member.user,
        data={"member": member.user.email, **data},
    )
    log_event(logger, action, organisation=member.organisation_id, member=member.user_id, by=by.pk)


@transaction.atomic
def membership_end(*, membership: EmployerMembership, by: User) -> None:
    """End someone's membership: they no longer see or change the organisation.

    Their login stays (a colleague may invite them again), and so does their entry
    among the organisation's contacts, which is the organisation's to keep or remove.
    The organisation keeps at least one administrator while anyone else signs in for it.
    """
    if membership.user_id != by.pk:  # anyone may leave
        _may_change_who_signs_in(by, membership)
    members = _members_locked(membership.organisation)
    current = next((m for m in members if m.pk == membership.pk), None)
    if current is None:
        return  # pressed twice, or already done by a colleague
    left = _check_an_administrator_stays(current.organisation, members, current, ending=True)
    ended = current.pk
    current.delete()
    extra = {} if left is None else {"left_without_an_administrator": left}
    _record(current, "ended", by=by, was_admin=current.is_admin, membership=ended, **extra)


# Accepting an invitation with a login already made ----------------------------------------


def invitation_refusal(invitation: EmployerInvitation, user: User) -> str | None:
    """Why this signed-in person cannot accept the invitation, or None if they can."""
    if not invitation_matches(invitation, user.email):
        return (
            f"This invitation was sent to {invitation.email}, and you are signed in as "
            f"{user.email}. Sign out, then open the link in the email again and sign in "
            f"(or register) with {invitation.email}."
        )
    if user.kind != User.Kind.EMPLOYER:
        return (
            f"{user.email} signs in to MyCareer as a student or a member of the university, "
            f"not for an employer: ask {invitation.invited_by} to invite your work address."
        )
    for other in memberships_ended_by_accepting(invitation, user):
        # Said before the button, not after it: accepting would leave that one with none.
        # The last person of all may go, as they may leave: the page says what it leaves.
        if (
            other.status == EmployerMembership.Status.ACTIVE
            and other.organisation.status != Organisation.Status.PENDING
            and left_without_an_administrator(other, ending=True)
        ):
            return _only_administrator_text(other.organisation)
    return None


def _only_administrator_text(organisation: Organisation) -> str:
    return (
        f"You are the only administrator of {organisation} on MyCareer, which needs one: "
        "make a colleague an administrator there first, then accept this invitation."
    )


def memberships_ended_by_accepting(
    invitation: EmployerInvitation, user: User
) -> list[EmployerMembership]:
    """The other organisations the person signs in for, or has asked to: a login signs in
    for one organisation, so accepting ends these (or withdraws the request)."""
    return list(
        user.employer_memberships.exclude(organisation_id=invitation.organisation_id)
        .filter(status__in=[EmployerMembership.Status.ACTIVE, EmployerMembership.Status.PENDING])
        .select_related("organisation")
        .order_by("pk")
    )


@transaction.atomic
def invitation_accept(*, invitation: EmployerInvitation, user: User) -> EmployerMembership:
    """Someone who already has a login accepts an invitation to an organisation.

    The link came to their address, so no moderation: they sign in for the organisation
    at once. Their membership of another organisation ends (refused if they are its only
    administrator and colleagues still sign in there), and a registration of theirs still
    waiting is withdrawn.
    """
    refusal = invitation_refusal(invitation, user)
    if refusal:
        raise ValidationError(refusal)
    organisation = invitation.organisation
    invitation = EmployerInvitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if invitation is None:
        raise ValidationError("This invitation was withdrawn: ask for a new one.")
    if invitation.accepted_at is not None:  # pressed twice: the first press joined them
        joined = user.employer_memberships.filter(
            organisation=organisation, status=EmployerMembership.Status.ACTIVE
        ).first()
        if joined is not None:
            return joined
        raise ValidationError("This invitation was already used.")
    for other in memberships_ended_by_accepting(invitation, user):
        if other.organisation.status == Organisation.Status.PENDING:
            other.delete()  # their own registration, not yet approved: withdrawn below
        elif other.status == EmployerMembership.Status.ACTIVE:
            members = _members_locked(other.organisation)
            current = next((m for m in members if m.pk == other.pk), None)
            if current is None:
                continue  # ended by a colleague meanwhile
            colleagues = [m for m in members if m.pk != current.pk]
            if current.is_admin and colleagues and not any(m.is_admin for m in colleagues):
                raise ValidationError(_only_administrator_text(current.organisation))
            ended = current.pk
            current.delete()
            _record(current, "ended", by=user, membership=ended, joined=organisation.pk)
        else:
            other.delete()
    _withdraw_registrations(user, joined=organisation)
    # Their entry among the old organisation's contacts stays, theirs to keep or remove,
    # but is no longer the person who signs in (a login is one contact's).
    Contact.objects.filter(user=user).exclude(organisation=organisation).update(user=None)
    membership, _ = EmployerMembership.objects.update_or_create(
        user=user,
        organisation=organisation,
        defaults={"status": EmployerMembership.Status.ACTIVE},
    )
    _ensure_contact(organisation, user)
    _use_invitations(organisation, user.email)
    audit.log(invitation, "organisations.invitation.accepted", by=user, person=user)
    log_event(
        logger, "organisations.invitation.accepted", organisation=organisation.pk, member=user.pk
    )
    return membership


def _withdraw_registrations(user: User, *, joined: Organisation) -> None:
    """A registration of the person's still waiting is withdrawn: they joined elsewhere."""
    reason = f"Withdrawn: {user} accepted an invitation to join {joined}."
    for registration in RegistrationRequest.objects.select_for_update().filter(
        user=user, status=RegistrationRequest.Status.PENDING
    ):
        registration.status = RegistrationRequest.Status.DECLINED
        registration.decided_at, registration.decided_by = timezone.now(), user
        registration.decision_reason = reason
        registration.save()
        if (
            registration.kind == RegistrationRequest.Kind.NEW_ORGANISATION
            and registration.organisation.status == Organisation.Status.PENDING
        ):
            registration.organisation.status = Organisation.Status.ARCHIVED
            registration.organisation.save(update_fields=["status", "updated_at"])
        audit.log(
            registration,
            "organisations.registration.withdrawn",
            by=user,
            person=user,
            data={"reason": reason, "organisation": registration.organisation_id},
        )


def _use_invitations(organisation: Organisation, email: str) -> None:
    """Every invitation of this address to this organisation is used: one sent again (the
    first email lost) would otherwise stay "not yet accepted"."""
    EmployerInvitation.objects.filter(
        organisation=organisation, email__iexact=email, accepted_at__isnull=True
    ).update(accepted_at=timezone.now())


def profile_completeness(organisation: Organisation) -> tuple[int, list[str]]:
    """How complete the public profile is (percent) and what is missing, for the employer."""
    checks = [
        (bool(organisation.description), "a description"),
        (bool(organisation.website), "a website"),
        (organisation.sector_id is not None, "a sector"),
        (bool(organisation.locations), "locations"),
        (bool(organisation.logo), "a logo"),
        (bool(organisation.size), "the organisation's size"),
        (
            contacts_students_may_reach(organisation).exists(),
            "a contact students may reach",
        ),
    ]
    missing = [label for done, label in checks if not done]
    return round(100 * (len(checks) - len(missing)) / len(checks)), missing
