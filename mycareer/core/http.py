from django.contrib import messages
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, default: str) -> str:
    """The `next` address from the request if it stays on this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def client_address(request) -> str | None:
    """The address the request came from, as Django sees it (REMOTE_ADDR).

    Behind a reverse proxy, the deployment must set REMOTE_ADDR from the proxy's
    forwarded header for the proxies it trusts; this is the one place that reads it.
    """
    return request.META.get("REMOTE_ADDR") or None


def saved(request, changed, text: str) -> None:
    """Tell the person what their save did: `text` when it changed something, else that
    nothing was (an edit form saved unchanged said "saved", as if it had)."""
    if changed:
        messages.success(request, text)
    else:
        messages.info(request, "Nothing was changed.")
