"""Rate limits shared by every web process: counters in the cache (the database by default).

A fixed window per key: the first attempt in a window creates the counter, each attempt
adds one, and the counter expires with its window. Keys are hashed, so no email address
or internet address is stored in the cache in clear.

Redis adds one atomically. The database cache's `incr` reads the value and writes it
back, so two processes counting at once could both write the same figure and let
attempts through past the limit; there each count runs in a transaction that first locks
the counter's row (PostgreSQL), or takes the write lock at its start (SQLite's IMMEDIATE
transactions), so counts made anywhere queue one after another.
"""

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `seconds` for one key of `scope`."""

    scope: str
    count: int
    seconds: int


def network_of(address: str | None) -> str:
    """The network an address belongs to: a /24 for IPv4, a /64 for IPv6.

    One person easily has many addresses of one network (an IPv6 /64 is a single home
    or office), so limits per address alone are easy to walk around.
    """
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _key(limit: Limit, value: str, window: int) -> str:
    digest = hashlib.sha256(f"{limit.scope}:{value}".encode()).hexdigest()[:32]
    return f"ratelimit:{limit.scope}:{digest}:{window}"


def hit(limit: Limit, value: str, *, now: float | None = None) -> bool:
    """Count one attempt for `value`; True when it is over the limit."""
    window = int((now if now is not None else time.time()) // limit.seconds)
    key = _key(limit, value, window)
    backend = caches["default"]  # this thread's cache object, not the proxy
    if not isinstance(backend, DatabaseCache):
        return _count(limit, key) > limit.count
    using = router.db_for_write(backend.cache_model_class)
    connection = connections[using]
    with transaction.atomic(using=using):
        locking = connection.features.has_select_for_update
        if locking:
            cache.add(key, 0, timeout=limit.seconds)  # the row must be there to be locked
            table = connection.ops.quote_name(backend._table)  # type: ignore[attr-defined]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",  # noqa: S608
                    [backend.make_and_validate_key(key)],
                )
        return _count(limit, key, added=locking) > limit.count


def _count(limit: Limit, key: str, *, added: bool = False) -> int:
    if not added:
        cache.add(key, 0, timeout=limit.seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.set(key, 1, timeout=limit.seconds)
        return 1
    # The database cache's incr() writes the counter back with the default timeout;
    # the counter must outlive its window.
    cache.touch(key, timeout=limit.seconds)
    return count
