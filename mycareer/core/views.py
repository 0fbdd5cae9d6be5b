import logging
import re

from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from mycareer.core.logs import log_event
from mycareer.core.registry import dashboard_panels

logger = logging.getLogger(__name__)


@require_safe
def home(request):
    """Each person's home: a welcome page, or their dashboard once logged in."""
    if not request.user.is_authenticated:
        return render(request, "core/welcome.html")
    panels = [
        {"template": panel.template, "context": context}
        for panel, context in visible_panels(request)
    ]
    return render(request, "core/dashboard.html", {"panels": panels})


def visible_panels(request) -> list:
    """The home page's panels this person sees, in the order they chose, with their context."""
    shown = []
    for panel in dashboard_panels(request.user.dashboard_order):
        context = panel.context(request)
        if context is not None:
            shown.append((panel, context))
    return shown


def permission_denied(request, exception=None):
    """The refusal page with its reason, and one log line saying who was refused what."""
    reason = str(exception) if exception else ""
    user = getattr(request, "user", None)
    log_event(
        logger,
        "access.refused",
        status=403,
        method=request.method,
        path=request.path,
        user=user.pk if user is not None and user.is_authenticated else "anonymous",
        reason=reason,
    )
    # A record of someone else's (another organisation's): the address may have been meant
    # for another login of the person's, as the "not found" page offers for links.
    relogin = getattr(exception, "relogin", False) and request.method in ("GET", "HEAD")
    return render(request, "403.html", {"reason": reason, "relogin": relogin}, status=403)


def too_many_requests(request, exception=None):
    """The library's rate limits (allauth's, per client address or person and minute)
    refuse in the site's layout, saying to wait, with one log line: its own page was a bare
    "Too Many Requests"."""
    user = getattr(request, "user", None)
    log_event(
        logger,
        "ratelimit.refused",
        status=429,
        method=request.method,
        path=request.path,
        user=user.pk if user is not None and user.is_authenticated else "anonymous",
    )
    return render(request, "429.html", status=429)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def csrf_failure(request, reason: str = ""):
    """A form refused by the CSRF check, explained in the site's own layout."""
    user = getattr(request, "user", None)
    log_event(
        logger,
        "csrf.refused",
        path=request.path,
        reason=re.sub(r"[^a-z]+", "-", reason.lower()).strip("-") or "unknown",
        user=user.pk if user is not None and user.is_authenticated else "-",
    )
    referer = request.META.get("HTTP_REFERER", "")
    back = (
        referer
        if url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    return render(
        request,
        "403_csrf.html",
        {"no_cookie": reason == REASON_NO_CSRF_COOKIE, "back": back},
        status=403,
    )
