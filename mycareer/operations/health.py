"""`/healthz` for the load balancer: the database answers and every migration is applied.

Answered by a middleware placed first, before host checks, HTTPS redirects, sessions and
login: a load balancer asks over plain HTTP by address, without cookies, every few
seconds. It says "ok" or which check failed, and nothing else (no versions, no names).
"""

import json
import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse

from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)

PATH = "/healthz"

# Once every migration is applied it stays so for this process (code changes only with a
# restart), so the migration graph is read once, not on every probe.
_migrations_seen_applied: set[str] = set()


def database_answers(using: str = DEFAULT_DB_ALIAS) -> bool:
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure to reach the database is the answer
        return False


def migrations_applied(using: str = DEFAULT_DB_ALIAS) -> bool:
    if using in _migrations_seen_applied:
        return True
    executor = MigrationExecutor(connections[using])
    applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    if applied:
        _migrations_seen_applied.add(using)
    return applied


def health() -> dict[str, str]:
    """Each check's outcome: "ok", or what is wrong in a word."""
    if not database_answers():
        return {"database": "unreachable", "migrations": "unknown"}
    try:
        migrations = "ok" if migrations_applied() else "pending"
    except Exception:
        migrations = "unknown"
    return {"database": "ok", "migrations": migrations}


def healthz_response(method: str) -> HttpResponse:
    if method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    checks = health()
    healthy = all(outcome == "ok" for outcome in checks.values())
    if not healthy:
        log_event(logger, "health.failed", level=logging.ERROR, **checks)
    body = json.dumps({"status": "ok" if healthy else "unavailable", "checks": checks})
    response = HttpResponse(
        body if method == "GET" else b"",
        status=200 if healthy else 503,
        content_type="application/json",
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers `/healthz` before any other middleware (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") == PATH:
            return healthz_response(request.method)
        return self.get_response(request)
