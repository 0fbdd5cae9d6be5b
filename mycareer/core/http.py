import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import url_has_allowed_host_and_scheme

# An id no record has: it marks where a record's id goes in its address (`record_urls`).
ID_MARKER = 918_273_645_546_372_819


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


def refused(what: str, reasons: list[str], *, then: str) -> HttpResponse:
    """400 in plain text for an address MyCareer cannot answer as asked (a download, a
    calendar feed), read away from any page: what it cannot make, why, and `then`, where
    to go instead, with that page's full address."""
    return HttpResponse(
        f"MyCareer cannot make {what}: {' '.join(reasons)} {then}",
        status=400,
        content_type="text/plain; charset=utf-8",
    )


def form_reasons(form, *, by_name: bool = False) -> list[str]:
    """What is wrong with an invalid form, in words: each field's errors after its label,
    or after its name in the address when the address is all the reader sees."""
    reasons = [str(error) for error in form.non_field_errors()]
    for field in form:
        said = " ".join(map(str, field.errors))
        if said:
            reasons.append(f"{field.name if by_name else field.label}: {said}")
    return reasons


def figures_refused(request, form, *, page: str) -> HttpResponse:
    """400 for the CSV or picture of a chart whose filters are wrong, saying which: a
    download of other figures than those asked for is read as the answer. It gives the
    full address of the chart's `page` with the same filters, which shows what to change
    (a bookmarked download has no page to go back to)."""
    query = request.GET.urlencode()
    url = f"{settings.SITE_URL}{reverse(page)}{f'?{query}' if query else ''}"
    return refused("these figures", form_reasons(form), then=f"Open {url} to see what to change.")


def route_url(name: str) -> str:
    """`reverse(name)` for a route without arguments (a menu's links, on every page),
    reversed once per route, script prefix and URLconf."""
    return _route_url(name, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=256)
def _route_url(name: str, script_prefix: str, urlconf: str | None) -> str:
    return reverse(name, urlconf=urlconf)


def record_urls(name: str) -> Callable[[int], str]:
    """The addresses of records' pages, `reverse(name, args=[pk])` for a route whose one
    argument is the record's integer id, without reversing it for each record.

    A list of 25 records reversed 25 addresses, about 20 µs each; the route's parts
    around the id are found once per route, script prefix and URLconf.
    """
    before, after = _around_id(name, get_script_prefix(), get_urlconf())
    return lambda pk: f"{before}{int(pk)}{after}"


@functools.lru_cache(maxsize=64)
def _around_id(name: str, script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    before, marker, after = reverse(name, args=[ID_MARKER], urlconf=urlconf).partition(
        str(ID_MARKER)
    )
    if not marker:
        raise ValueError(f"The route {name} does not take a record's id.")
    return before, after


@receiver(setting_changed)
def _forget_addresses(*, setting: str, **kwargs) -> None:
    """A test that changes the URLconf gets its own addresses, as Django's own caches do."""
    if setting == "ROOT_URLCONF":
        _route_url.cache_clear()
        _around_id.cache_clear()
