"""The address of the person at the other end, also behind the university's proxy.

Behind a reverse proxy every request comes from the proxy's address, so a rate limit
keyed on REMOTE_ADDR lets one person's failures block everybody. With BEHIND_PROXY on,
the address is read from X-Forwarded-For right to left, skipping the hops listed in
TRUSTED_PROXIES: the first address not in that list is the one that connected to our
outermost proxy. Entries further left were written by the client and are ignored, so a
forged header cannot pick someone else's address, and a proxy's own address is never
the answer. Used by allauth, axes and MyCareer's own rate limits alike.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    # "[2001:db8::1]:443" and "192.0.2.1:443" from proxies that add the port.
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted_proxy(address) -> bool:
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address as a string, or None when a trusted hop passed on garbage."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if not getattr(settings, "BEHIND_PROXY", False) or not is_trusted_proxy(peer):
        # Not behind a proxy, or a connection that did not come through one.
        return str(peer) if peer else None
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return None
        if not is_trusted_proxy(address):
            return str(address)
    # Every hop is one of our proxies (a health check from the proxy itself): there is
    # no client address to key on.
    return None
