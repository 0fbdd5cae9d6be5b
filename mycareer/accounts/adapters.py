import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mycareer.core.clientip import client_ip
from mycareer.core.logs import log_event

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

    def send_account_already_exists_mail(self, email: str) -> None:
        self.send_mail("account/email/account_already_exists", email, {})

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        links = {
            "site_url": settings.SITE_URL,
            "login_url": site_link(reverse("account_login")),
            "forgotten_password_url": site_link(reverse("account_reset_password")),
            "register_url": site_link(reverse("employer:register")),
        }
        super().send_mail(template_prefix, email, {**links, **context})
        log_event(logger, "email.sent", kind="account", template=template_prefix)
