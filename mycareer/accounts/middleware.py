from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from mycareer.accounts.permissions import access_for

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
