"""Single sign-on: who a university identity provider says a person is, and their login.

allauth's SAML and OpenID Connect providers check the assertion or token; this module
reads the person from it (`identity_from`) and finds or makes their MyCareer login
(`sso_person_sign_in`): matched by the stable university identifier the student record
system also uses, never by a name; by email only for a person of the university the
feed has not given an identifier yet. Affiliation decides staff or student; access
levels still come only from an administrator after training (policy section 3).
"""

import logging
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.erased import erased_on
from mycareer.accounts.models import StaffMembership, Unit, UnknownDepartmentCode, User
from mycareer.accounts.sso_settings import affiliations as affiliation_settings
from mycareer.audit.personal_data import in_words
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)


class SignInRefused(Exception):
    """The identity provider vouched for someone MyCareer cannot let in; `str()` says why."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


UNKNOWN_AFFILIATION = (
    "Your university account does not say that you are a member of staff or a student, "
    "so MyCareer cannot tell which pages are yours. If you are a student or member of "
    "staff, ask the Careers Centre to check your record with IT Services."
)
NO_IDENTIFIER = (
    "Your university's sign-in did not tell MyCareer who you are (it sent no university "
    "identifier). Please tell the Careers Centre, who will ask IT Services to fix it."
)
NO_EMAIL = (
    "Your university's sign-in did not send your email address, which MyCareer needs to "
    "write to you. Please tell the Careers Centre, who will ask IT Services to fix it."
)
INACTIVE = (
    "Your MyCareer account is closed. If you think it should be open, contact the Careers Centre."
)
EMAIL_TAKEN = (
    "Your university email address already belongs to another MyCareer account, so "
    "MyCareer cannot tell which is yours. The Careers Centre can sort this out: contact "
    "them and say you could not sign in with your university account."
)
ERASED = (
    "MyCareer erased your details on {date}, when you asked, and does not make a new "
    "account from your university sign-in. If you want to use MyCareer again, write to "
    "the data protection officer ({dpo}), who can let you back in."
)
UNIVERSITY_ONLY = (
    "Staff and students sign in with their university account, not a MyCareer password: "
    "use the button for your university account above."
)

NO_LOCAL_PASSWORD = (
    "You sign in with your university account, so MyCareer keeps no password for you: "
    "change your password with the university's IT Services."
)


@dataclass(frozen=True)
class UniversityIdentity:
    """What the identity provider said about the person signing in."""

    university_id: str
    email: str
    given_name: str = ""
    family_name: str = ""
    affiliations: list[str] = field(default_factory=list)
    department: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)


def _values(data: dict, names: list[str]) -> list[str]:
    """Every value of the first of `names` that `data` has (a claim may be one value)."""
    for name in names:
        value = data.get(name)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, list | tuple) else [value]
        return [str(each).strip() for each in values if str(each).strip()]
    return []


def identity_from(provider_settings: dict, data: dict) -> UniversityIdentity:
    """The person in a SAML assertion's attributes or an OIDC provider's claims.

    `provider_settings["mycareer_fields"]` names, for each field, the attributes or
    claims to read (sso_settings.py). Raises SignInRefused without an identifier or email.
    """
    fields = provider_settings.get("mycareer_fields", {})

    def first(name: str) -> str:
        values = _values(data, fields.get(name, []))
        return values[0] if values else ""

    university_id = first("uid")
    if not university_id:
        raise SignInRefused(NO_IDENTIFIER, reason="no_identifier")
    email = first("email").lower()
    if not email:
        raise SignInRefused(NO_EMAIL, reason="no_email")
    return UniversityIdentity(
        university_id=university_id,
        email=email,
        given_name=first("given_name"),
        family_name=first("family_name"),
        # eduPersonScopedAffiliation says "student@example.ac.uk": the part before "@".
        affiliations=[
            value.split("@")[0].lower() for value in _values(data, fields.get("affiliation", []))
        ],
        department=first("department"),
    )


def kind_for(identity: UniversityIdentity) -> str | None:
    """Staff or student, from the affiliations; staff when both (a PhD student who teaches)."""
    known = affiliation_settings(settings.MYCAREER_SSO_ENV)
    said = set(identity.affiliations)
    if said & set(known["staff"]):
        return User.Kind.STAFF
    if said & set(known["student"]):
        return User.Kind.STUDENT
    return None


def _refuse(identity: UniversityIdentity | None, message: str, reason: str) -> SignInRefused:
    # An erased person's identifier is not written down again, not even in a log.
    named = identity.university_id if identity is not None and reason != "erased" else "-"
    log_event(logger, "sso.refused", level=logging.WARNING, reason=reason, university_id=named)
    return SignInRefused(message, reason=reason)


def _existing_person(identity: UniversityIdentity) -> User | None:
    person = User.objects.filter(university_id=identity.university_id).first()
    if person is not None:
        return person
    # Staff in the student record feed may have no identifier yet: their university email
    # is the one match allowed, and only for a person of the university.
    by_email = User.objects.filter(email__iexact=identity.email).first()
    if by_email is None:
        return None
    if by_email.university_id or by_email.kind == User.Kind.EMPLOYER or by_email.is_superuser:
        raise _refuse(identity, EMAIL_TAKEN, "email_taken")
    return by_email


def _keep_email(person: User, email: str) -> None:
    """The university's address is the person's one, verified address."""
    EmailAddress.objects.filter(user=person).exclude(email__iexact=email).delete()
    address, _ = EmailAddress.objects.get_or_create(
        user=person, email=email, defaults={"verified": True, "primary": True}
    )
    if not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


@transaction.atomic
def sso_person_sign_in(*, identity: UniversityIdentity, provider: str) -> User:
    """The login for `identity`: found by university identifier, else made; kept current.

    A new person gets no password: they always sign in through the university. A changed
    email at the identity provider changes ours. Raises SignInRefused, logged, for an
    unknown affiliation, a closed account or an email that is another person's.
    """
    person = _existing_person(identity)
    kind = kind_for(identity)
    if kind is None and (person is None or person.kind != User.Kind.STAFF):
        # A person already known as staff keeps signing in whatever their IdP's roles say;
        # anyone else must be said to be staff or a student.
        raise _refuse(identity, UNKNOWN_AFFILIATION, "unknown_affiliation")
    if person is not None and not person.is_active:
        raise _refuse(identity, INACTIVE, "inactive")
    if person is None:
        erased = erased_on(university_id=identity.university_id, email=identity.email)
        if erased is not None:
            dpo = settings.MYCAREER["DATA_PROTECTION"]["DPO_EMAIL"]
            raise _refuse(identity, ERASED.format(date=in_words(erased), dpo=dpo), "erased")
        clash = User.objects.filter(email__iexact=identity.email).exists()
        if clash:
            raise _refuse(identity, EMAIL_TAKEN, "email_taken")
        assert kind is not None  # refused above otherwise
        person = User(
            email=identity.email,
            university_id=identity.university_id,
            full_name=identity.full_name or identity.email,
            kind=kind,
        )
        person.set_unusable_password()
        person.save()
        audit.log(
            person,
            "accounts.sso.created",
            by=person,
            person=person,
            data={"provider": provider, "kind": kind},
        )
        log_event(logger, "sso.created", provider=provider, kind=kind, user=person.pk)
    else:
        changed: dict[str, list[str | None]] = {}
        if person.email.lower() != identity.email:
            if User.objects.filter(email__iexact=identity.email).exclude(pk=person.pk).exists():
                raise _refuse(identity, EMAIL_TAKEN, "email_taken")
            changed["email"] = [person.email, identity.email]
            person.email = identity.email
        if person.university_id != identity.university_id:
            changed["university_id"] = [person.university_id, identity.university_id]
            person.university_id = identity.university_id
        if identity.full_name and not person.full_name:
            person.full_name = identity.full_name
        if changed:
            person.save(update_fields=["email", "university_id", "full_name"])
            audit.log(
                person,
                "accounts.sso.updated",
                by=person,
                person=person,
                data={"provider": provider, "changed": sorted(changed)},
            )
            log_event(
                logger, "sso.updated", provider=provider, user=person.pk, changed=",".join(changed)
            )
    _keep_email(person, identity.email)
    if person.kind == User.Kind.STAFF and identity.department:
        _join_department(person, identity.department, provider)
    return person


def _join_department(person: User, department: str, provider: str) -> None:
    """The unit the department code names; an unknown code is reported, never invented."""
    code = department.strip().lower()[: UnknownDepartmentCode._meta.get_field("code").max_length]
    unit = Unit.objects.filter(code=code).first()
    if unit is not None:
        StaffMembership.objects.get_or_create(
            user=person, unit=unit, defaults={"source": StaffMembership.Source.SIGN_IN}
        )
        return
    now = timezone.now()
    seen = UnknownDepartmentCode.objects.filter(code=code).update(
        last_seen_at=now, sign_ins=F("sign_ins") + 1, provider=provider
    )
    if not seen:
        UnknownDepartmentCode.objects.get_or_create(
            code=code, defaults={"provider": provider, "first_seen_at": now, "last_seen_at": now}
        )
    log_event(
        logger,
        "sso.unknown_department",
        level=logging.WARNING,
        code=code,
        provider=provider,
        user=person.pk,
    )


def sso_providers() -> list[str]:
    """The identity providers configured for this site ("saml", "openid_connect")."""
    return list(settings.SOCIALACCOUNT_PROVIDERS)


def signs_in_through_university(user) -> bool:
    """Staff and students sign in only through the university once an IdP is configured.

    Superusers keep a password (and a second factor) to reach the site if the IdP fails.
    """
    return bool(
        sso_providers()
        and user.kind in (User.Kind.STAFF, User.Kind.STUDENT)
        and not user.is_superuser
    )
