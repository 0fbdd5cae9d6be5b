import logging

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from mycareer.accounts.permissions import access_for
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)

# Paths a person can reach before accepting the terms: the terms themselves,
# logging out, static files, the account pages and the public feeds (anybody's).
_OPEN_PREFIXES = (
    "/accounts/",
    "/static/",
    "/media/",
    "/terms/",
    "/admin/",
    "/email/unsubscribe/",
    "/feeds/",
)


class TermsAcceptanceMiddleware:
    """Send staff to the usage terms until they have accepted the current version."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: asking who is signed in reads the session, and a response whose
        # session was read says `Vary: Cookie`, which the public feeds must not (every
        # visitor's copy would be cached apart).
        if request.path.startswith((*_OPEN_PREFIXES, "/api/")):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.kind == user.Kind.STAFF
            and not access_for(user).terms_accepted
        ):
            return redirect_to_login(
                request.get_full_path(), reverse("accounts:terms"), REDIRECT_FIELD_NAME
            )
        return self.get_response(request)


# Where allauth's SAML and OpenID Connect views fetch from the identity provider.
_SSO_PREFIXES = ("/accounts/saml/", "/accounts/oidc/")


class SsoUnreachableMiddleware:
    """The identity provider did not answer: say so, with a 503, never a 500.

    allauth's providers fetch the IdP's metadata (SAML) or its discovery document and
    keys (OpenID Connect) when someone presses the button; if the IdP is down, that
    fetch raises an OSError (urllib's and requests' errors both are).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (isinstance(exception, OSError) and request.path.startswith(_SSO_PREFIXES)):
            return None
        log_event(
            logger,
            "sso.unreachable",
            level=logging.WARNING,
            path=request.path,
            error=type(exception).__name__,
        )
        response = render(request, "account/sso_unreachable.html", status=503)
        response["Retry-After"] = "60"
        return response
