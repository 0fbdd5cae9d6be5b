"""Making, revoking and checking API tokens; each change is audited."""

import datetime
import logging
import secrets
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import Unit, User
from mycareer.accounts.permissions import forget_access, is_staff_member, why_not
from mycareer.api.models import ApiToken, Scope, digest_of
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)

SECRET_PREFIX = "mc_"
LONGEST_DAYS = 366


# What each kind of account may let a token do: students read and book for themselves;
# employers only read (the API changes no employer records: vacancies and the
# organisation's profile are kept on their pages, where moderation happens).
SCOPES_FOR_KIND: dict[str, tuple[str, ...]] = {
    User.Kind.STUDENT: (Scope.READ, Scope.BOOKINGS),
    User.Kind.EMPLOYER: (Scope.READ,),
}


def scopes_for(owner: User) -> list[str]:
    """The scopes a token of `owner` may carry: what their kind of account can do, and
    for staff, writing only while they may change records (booking is for students)."""
    if owner.kind in SCOPES_FOR_KIND:
        return list(SCOPES_FOR_KIND[owner.kind])
    scopes = [Scope.READ]
    if owner.has_perm("mycareer.edit_records"):
        scopes += [Scope.WRITE_ORGANISATIONS, Scope.WRITE_EVENTS]
    return [str(scope) for scope in scopes]


def _scopes(scopes: Iterable[str], *, owner: User) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in Scope.values]
    if unknown:
        raise ValidationError({"scopes": f"Unknown scopes: {', '.join(unknown)}."})
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one thing the token may do."})
    beyond = [s for s in chosen if s not in scopes_for(owner)]
    if beyond:
        raise ValidationError(
            {"scopes": f"Your kind of account cannot give a token: {', '.join(beyond)}."}
        )
    return chosen


def _expiry(days: int) -> datetime.datetime:
    if not 1 <= days <= LONGEST_DAYS:
        raise ValidationError({"days": f"A token lasts from 1 to {LONGEST_DAYS} days."})
    return timezone.now() + datetime.timedelta(days=days)


@transaction.atomic
def token_create(
    *,
    owner: User,
    by: User,
    name: str,
    scopes: Iterable[str],
    days: int = 90,
    unit: Unit | None = None,
) -> tuple[ApiToken, str]:
    """Make a token; returns it and its secret, which is shown once and never stored."""
    if unit is not None and not by.has_perm("api.create_service_token"):
        raise PermissionDenied("Only administrators make tokens for a unit's systems.")
    if unit is not None and not is_staff_member(owner):
        # A unit's system acts with its owner's staff access: never an employer's.
        raise PermissionDenied("A token for a unit's systems is held by university staff.")
    if not owner.has_perm("api.use_tokens"):
        raise PermissionDenied(why_not(owner, "api.use_tokens"))
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    if ApiToken.objects.filter(owner=owner, name__iexact=name).exists():
        raise ValidationError({"name": "You already have a token with this name."})
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        owner=owner,
        unit=unit,
        prefix=secret[: len(SECRET_PREFIX) + 6],
        digest=digest_of(secret),
        scopes=_scopes(scopes, owner=owner),
        created_by=by,
        expires_at=_expiry(days),
    )
    audit.log(
        token,
        "api.token.created",
        by=by,
        person=owner,
        data={
            "name": token.name,
            "scopes": token.scopes,
            "expires": token.expires_at.date().isoformat(),
            **({"unit": str(unit)} if unit else {}),
        },
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> None:
    """Stop a token at once; its owner or an administrator may."""
    if token.owner_id != by.pk and not by.has_perm("mycareer.administer"):
        raise PermissionDenied("Only the token's owner or an administrator may revoke it.")
    if token.revoked_at is not None:
        return
    token.revoked_at, token.revoked_by = timezone.now(), by
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.log(token, "api.token.revoked", by=by, person=token.owner, data={"name": token.name})


class TokenRefused(Exception):
    """The secret names no usable token: unknown, revoked or expired."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def token_authenticate(secret: str, *, address: str | None) -> ApiToken:
    """The usable token for `secret`, its use recorded; raises `TokenRefused`.

    The owner's access is computed afresh for each call: a token acts with its owner's
    permissions as they are now (training that expired stops the token as well).
    """
    token = (
        ApiToken.objects.select_related("owner", "unit")
        .filter(digest=digest_of(secret or ""))
        .first()
    )
    now = timezone.now()
    if token is None:
        reason, message = "unknown", "This API token is not known. Check it was copied whole."
    elif token.revoked_at is not None:
        reason, message = "revoked", "This API token was revoked. Make a new one on API tokens."
    elif token.expires_at <= now:
        reason, message = "expired", "This API token has expired. Make a new one on API tokens."
    elif not token.owner.is_active:
        reason, message = "inactive", "The owner of this API token can no longer sign in."
    elif not token.owner.has_perm("api.use_tokens"):
        # An employer who left their organisation: the token stops with the membership.
        reason, message = "not_allowed", why_not(token.owner, "api.use_tokens")
    else:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_from=address)
        token.last_used_at, token.last_used_from = now, address
        forget_access(token.owner)
        return token
    log_event(
        logger,
        "api.token.refused",
        reason=reason,
        token=token.pk if token else None,
    )
    raise TokenRefused(reason, message)
