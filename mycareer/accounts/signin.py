"""Signing in: slowing down password guessing without locking the owner out.

django-axes records every failed login (account, address, time). MyCareer decides from
those records, in `ProgressiveThrottle`, whether a new attempt must wait:

- per account: the first ACCOUNT_FREE_FAILURES wrong passwords cost nothing; after that
  each attempt waits FIRST_DELAY, doubling with every further failure, never more than
  MAX_DELAY. The owner is slowed, never shut out for long, and a password reset or an
  administrator clears the count at once.
- per address (the real client's, see core.clientip): after ADDRESS_FREE_FAILURES,
  at most one try a minute from that address, so one machine guessing many accounts is
  slowed, while people sharing one address (a campus behind NAT) are at worst slowed to
  a try a minute, never shut out. A successful login removes its account's failures
  from the count, so ordinary typing does not add up.

Failures are forgotten once WINDOW passes without a new one. Attempts made while waiting
are refused without being counted, so hammering does not lengthen the wait.
"""

import datetime
import logging
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import User
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)


def _setting(name: str, default):
    return settings.MYCAREER.get(name, default)


def window() -> datetime.timedelta:
    return settings.AXES_COOLOFF_TIME


def normalise_username(request, credentials: dict | None = None) -> str | None:
    """The account an attempt was for: "  Ada@Example.AC.uk " and "ada@example.ac.uk" are one."""
    value = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if value is None and request is not None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD) or request.POST.get("login")
    return value.strip().lower() if value else None


def delay_after(failures: int, free: int, *, most_seconds: int | None = None) -> datetime.timedelta:
    """How long to wait after `failures` recent failures, when `free` cost nothing."""
    if failures < free:
        return datetime.timedelta(0)
    first = datetime.timedelta(seconds=_setting("SIGNIN_FIRST_DELAY_SECONDS", 60))
    if most_seconds is None:
        most_seconds = _setting("SIGNIN_MAX_DELAY_SECONDS", 15 * 60)
    most = datetime.timedelta(seconds=most_seconds)
    # min() before the power keeps the number small however many failures there were.
    return min(first * 2 ** min(failures - free, 20), most)


@dataclass(frozen=True)
class Standing:
    failures: int
    last_failure: datetime.datetime | None
    wait: datetime.timedelta

    @property
    def waiting_until(self) -> datetime.datetime | None:
        if not self.wait or self.last_failure is None:
            return None
        return self.last_failure + self.wait


def _standing_from(
    failures: int, last, free: int, now: datetime.datetime, most_seconds: int | None = None
) -> Standing:
    if last is None:
        return Standing(0, None, datetime.timedelta(0))
    remaining = last + delay_after(failures, free, most_seconds=most_seconds) - now
    return Standing(failures, last, max(remaining, datetime.timedelta(0)))


def _standing(attempts, free: int, now: datetime.datetime, most_seconds=None) -> Standing:
    recent = attempts.filter(attempt_time__gte=now - window()).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    return _standing_from(recent["failures"] or 0, recent["last"], free, now, most_seconds)


def account_standing(username: str | None, *, now=None) -> Standing:
    now = now or timezone.now()
    if not username:
        return Standing(0, None, datetime.timedelta(0))
    return _standing(
        AccessAttempt.objects.filter(username=username),
        _setting("SIGNIN_ACCOUNT_FREE_FAILURES", 5),
        now,
    )


def address_standing(address: str | None, *, now=None) -> Standing:
    now = now or timezone.now()
    if not address:
        return Standing(0, None, datetime.timedelta(0))
    return _standing(
        AccessAttempt.objects.filter(ip_address=address),
        _setting("SIGNIN_ADDRESS_FREE_FAILURES", 30),
        now,
        _setting("SIGNIN_ADDRESS_MAX_DELAY_SECONDS", 60),
    )


def wait_for(request, credentials: dict | None = None) -> datetime.timedelta:
    """How long this attempt must wait: the longer of its account's and its address's."""
    now = timezone.now()
    username = get_client_username(request, credentials)
    return max(
        account_standing(username, now=now).wait,
        address_standing(getattr(request, "axes_ip_address", None), now=now).wait,
    )


class ProgressiveThrottle(AxesDatabaseHandler):
    """axes' database handler, with MyCareer's growing waits in place of its lock-out."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        wait = wait_for(request, credentials)
        if wait:
            request.mycareer_signin_wait = wait
            log_event(
                logger,
                "signin.refused",
                level=logging.WARNING,
                account=get_client_username(request, credentials) or "-",
                address=getattr(request, "axes_ip_address", None) or "-",
                wait_seconds=int(wait.total_seconds()),
            )
        return bool(wait)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # This failure may be the one that starts the wait: say so at once.
        if (
            request is not None
            and not getattr(request, "axes_locked_out", False)
            and self.is_locked(request, credentials)
        ):
            request.axes_locked_out = True
            request.axes_credentials = credentials


def lockout_response(request, original_response, credentials):
    """The page for an attempt that must wait: how long, and the ways in meanwhile."""
    wait = getattr(request, "mycareer_signin_wait", None) or wait_for(request, credentials)
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return render(request, "account/locked.html", {"minutes": minutes}, status=429)


# Passwords and codes checked outside the login form ---------------------------------
#
# A wrong second-step code (an authenticator or recovery code), and a wrong current
# password typed to change it, are failed sign-ins of the account, counted and waited for
# as a wrong password at login is: the library's own limits are per minute (for codes,
# its "login_failed" limit, now only a wide cap on tries sent all at once: settings), so
# whoever knew the password or held a session could otherwise guess thousands a day.
# (The password asked again to reauthenticate goes through authenticate(), so the
# throttle already sees it.)


def _account_credentials(user) -> dict:
    return {settings.AXES_USERNAME_FORM_FIELD: user.email}


def account_failed(request, user) -> None:
    """One more failed sign-in for `user`'s account (a wrong code or current password)."""
    if request is not None and user is not None:
        user_login_failed.send(__name__, credentials=_account_credentials(user), request=request)


def second_factor_failed(sender, request=None, user=None, **kwargs) -> None:
    """allauth's `authentication_failed` (a wrong code): one more failure for the account."""
    account_failed(request, user)


def account_must_wait(request, user) -> bool:
    """Whether a code or password for `user` must wait now, to be refused unchecked; if
    so the page says for how long (429) and `signin.refused` is logged."""
    credentials = _account_credentials(user)
    if not AxesProxyHandler.is_locked(request, credentials):
        return False
    request.axes_locked_out, request.axes_credentials = True, credentials
    return True


# For administrators -----------------------------------------------------------------


@dataclass(frozen=True)
class SigninAttempts:
    """What an administrator sees about one account's recent failed sign-ins."""

    standing: Standing
    recent: list  # AccessFailureLog rows, newest first


def signin_attempts(email: str, *, limit: int = 20) -> SigninAttempts:
    username = normalise_username(None, {settings.AXES_USERNAME_FORM_FIELD: email})
    recent = list(
        AccessFailureLog.objects.filter(username=username).order_by("-attempt_time")[:limit]
    )
    return SigninAttempts(account_standing(username), recent)


def accounts_with_failures() -> list[dict]:
    """Every account with recent failed sign-ins, the most failures first (one query)."""
    now = timezone.now()
    free = _setting("SIGNIN_ACCOUNT_FREE_FAILURES", 5)
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=now - window(), username__isnull=False)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .order_by("-failures", "username")
    )
    return [
        {**row, "standing": _standing_from(row["failures"], row["last"], free, now)} for row in rows
    ]


@transaction.atomic
def signin_unlock(*, email: str, by, reason: str) -> int:
    """Forget an account's failed sign-ins, so its owner may try again now; audited."""

    username = normalise_username(None, {settings.AXES_USERNAME_FORM_FIELD: email})
    standing = account_standing(username)
    cleared, _ = AccessAttempt.objects.filter(username=username).delete()
    person = User.objects.filter(email__iexact=username).first()
    audit.log(
        person,
        f"accounts.signin.{reason}",
        by=by,
        person=person,
        data={"failures_cleared": standing.failures},
    )
    log_event(
        logger,
        "signin.unlocked",
        account=username,
        reason=reason,
        by=getattr(by, "email", "-") or "-",
        failures_cleared=standing.failures,
    )
    return cleared


def unlock_after_password_reset(sender, request, user, **kwargs) -> None:
    """allauth's password_reset signal: whoever can reset the password is the owner."""
    signin_unlock(email=user.email, by=None, reason="unlocked_by_reset")
