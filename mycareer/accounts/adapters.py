import logging
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse

from mycareer.core.clientip import client_ip
from mycareer.core.logs import log_event
from mycareer.core.mail import deliver

logger = logging.getLogger(__name__)


def site_link(path: str) -> str:
    """An address for an email: the site's public address, never the host a request used."""
    return f"{settings.SITE_URL}{path}"


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by the university (staff, students) or by employer registration.

    Account emails (verification, password reset, "you already have an account"…) are
    MyCareer's own templates in accounts/templates/account/email/, and every link in
    them is built on SITE_URL: the reader opens it from their mail, not from the
    address (a proxy's, a test server's) the request happened to arrive at.
    """

    def is_open_for_signup(self, request) -> bool:
        # Open self-registration belongs to the employer registration journey,
        # which sets the kind of account; the generic sign-up stays closed.
        return bool(getattr(request, "mycareer_employer_signup", False))

    def get_client_ip(self, request) -> str:
        """The real client behind the proxy, so allauth's rate limits are per person."""
        address = client_ip(request)
        if not address:
            raise PermissionDenied("MyCareer could not tell which address this request came from.")
        return address

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return site_link(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_link(path.replace("UID-KEY", key))

    def is_reauthentication_required(self, app=None) -> bool:
        """A person with no password (single sign-on) and no code yet cannot re-type either:
        their sign-in through the university in the last few minutes stands in."""
        user = getattr(getattr(self, "request", None), "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.has_usable_password()
            and not _has_second_factor(user)
        ):
            return not _recently_signed_in_through_university(self.request, user)
        return super().is_reauthentication_required(app=app)

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        """No password for people who sign in through the university: say how instead."""
        from mycareer.accounts.sso import signs_in_through_university

        if signs_in_through_university(user):
            self.send_mail("account/email/university_signin", email, {})
            return
        super().send_password_reset_mail(user, email, context)

    def send_account_already_exists_mail(self, email: str) -> None:
        self.send_mail("account/email/account_already_exists", email, {})

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        links: dict[str, object] = {
            "site_url": settings.SITE_URL,
            "login_url": site_link(reverse("account_login")),
            "forgotten_password_url": site_link(reverse("account_reset_password")),
            "register_url": site_link(reverse("employer:register")),
        }
        # Rendered as allauth renders it, then sent the one way every email goes (`deliver`),
        # which logs it like every other.
        request = allauth_context.request
        user = context.get("user")
        if user is not None and user.pk is not None:
            # An employer's organisation, which the registration email speaks of.
            links["membership"] = user.employer_memberships.select_related("organisation").first()
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request)}
            | links
            | context,
        )
        deliver(message, kind=f"account:{template_prefix.rsplit('/', 1)[-1]}")


def _has_second_factor(user) -> bool:
    from mycareer.accounts.permissions import has_second_factor

    return has_second_factor(user)


def _recently_signed_in_through_university(request, user) -> bool:
    from allauth.account import app_settings
    from allauth.account.internal.flows.login import get_authentication_records

    records = [
        record
        for record in get_authentication_records(request, user)
        if record.get("method") == "socialaccount"
    ]
    return bool(records) and time.time() - records[-1]["at"] < app_settings.REAUTHENTICATION_TIMEOUT


def _claims(sociallogin) -> dict:
    """The attributes (SAML) or claims (OIDC, the ID token's then userinfo's) received."""
    data = sociallogin.account.extra_data or {}
    if sociallogin.account.provider == "saml" or "userinfo" not in data and "id_token" not in data:
        return data
    return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}


class UniversitySignInAdapter(DefaultSocialAccountAdapter):
    """Single sign-on: allauth checks the assertion or token, MyCareer finds the person.

    Before allauth logs anyone in, `sso_person_sign_in` finds or makes the login by the
    university identifier and keeps its email current; the SSO account is then linked to
    that login, so allauth never shows its own sign-up form. A refusal is a page that
    says why (403), logged.
    """

    def pre_social_login(self, request, sociallogin) -> None:
        from mycareer.accounts.sso import SignInRefused, identity_from, sso_person_sign_in

        provider = sociallogin.provider
        try:
            identity = identity_from(provider.app.settings, _claims(sociallogin))
            person = sso_person_sign_in(identity=identity, provider=provider.id)
        except SignInRefused as refusal:
            raise ImmediateHttpResponse(
                render(request, "account/sso_refused.html", {"message": str(refusal)}, status=403)
            ) from refusal
        if sociallogin.is_existing and sociallogin.user.pk == person.pk:
            return
        if sociallogin.is_existing:
            # The student record system moved the identifier to another login: follow it.
            sociallogin.account.user = person
            sociallogin.account.save(update_fields=["user"])
            sociallogin.user = person
            return
        sociallogin.user = person
        sociallogin.save(request, connect=True)
        log_event(logger, "sso.linked", provider=provider.id, user=person.pk)

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Every login is made by pre_social_login; allauth's sign-up form is never used.
        return False

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        log_event(
            logger,
            "sso.failed",
            level=logging.WARNING,
            provider=getattr(provider, "id", "-"),
            error=error or "-",
            detail=(extra_context or {}).get("saml_last_error_reason") or exception or "-",
        )


def saml_finish_sign_in(request, organization_slug: str):
    """allauth's last SAML step, with a clear page for an answer nobody is waiting for.

    allauth refuses an assertion that answers no sign-in started in this browser (used
    already, pressed Back, or made for someone else's session) with a bare 403; the
    person gets the page of any failed university sign-in instead, and a log line.
    """
    from allauth.socialaccount.providers.saml.views import finish_acs

    try:
        return finish_acs(request, organization_slug=organization_slug)
    except PermissionDenied:
        log_event(
            logger, "sso.failed", level=logging.WARNING, provider="saml", error="no_sign_in_waiting"
        )
        return render(request, "socialaccount/authentication_error.html", status=401)
