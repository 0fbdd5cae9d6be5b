"""The NinjaAPI under /api/v1/: token authentication, rate limits, scopes, audit, ETags.

Every endpoint acts as the token's owner with their permissions as they are now, asked
through the same rules as the pages (`check_perm`), and within the token's scopes.
"""

import logging
import time
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpResponseNotAllowed, HttpResponseNotModified
from django.urls import URLPattern, URLResolver, path
from ninja import NinjaAPI
from ninja.security import HttpBearer

from mycareer import audit
from mycareer.accounts.permissions import why_not
from mycareer.api import errors
from mycareer.api.models import ApiToken, Scope
from mycareer.api.schemas import NULL_CHARACTERS
from mycareer.api.services import TokenRefused, token_authenticate
from mycareer.core.clientip import client_ip
from mycareer.core.logs import log_event
from mycareer.core.ratelimit import Limit, hit

logger = logging.getLogger(__name__)


def rate_limit() -> Limit:
    return Limit("api-token", settings.MYCAREER["API_CALLS_PER_MINUTE"], 60)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; the token's use is recorded and rate limited."""

    def authenticate(self, request, token: str) -> ApiToken | None:
        try:
            found = token_authenticate(token, address=client_ip(request))
        except TokenRefused as refused:
            request.api_refusal = str(refused)
            return None
        request.api_token = found
        limit = rate_limit()
        if hit(limit, str(found.pk)):
            wait = limit.seconds - int(time.time()) % limit.seconds
            log_event(logger, "api.rate_limited", token=found.pk, retry_after=wait)
            raise errors.ApiError(
                429,
                "rate_limited",
                f"This token made more than {limit.count} calls in a minute: wait {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        return found


api = NinjaAPI(
    title="MyCareer API",
    version="1",
    description=(
        "The careers service's records for the university's other systems. Every call "
        "needs an API token (Authorization: Bearer …) made on the API tokens page; it acts "
        "with its owner's permissions as they are now. Errors are {code, message, fields}."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
)
errors.install(api)


def get(path: str, **options: Any):
    """`api.get` that answers HEAD too, as HTTP has it: what the GET answers (status and
    headers), without the body (`_wrap` leaves it out). Django Ninja answers a method only
    where an operation names it; the HEAD one stays out of the schema, where it would be a
    second operation with the GET's id."""

    def register(view):
        api.api_operation(["HEAD"], path, include_in_schema=False, **options)(view)
        return api.get(path, **options)(view)

    return register


def need(request, scope: str, perm: str | None = None, obj=None):
    """The owner acting, after checking the token's scope and, if given, the rule `perm`."""
    token: ApiToken = request.auth
    if scope not in token.scopes:
        raise errors.ApiError(
            403,
            "scope_missing",
            f"This token may not {Scope(scope).label[0].lower() + Scope(scope).label[1:]}: "
            f"make one with the “{scope}” scope.",
        )
    user = token.owner
    if perm and not user.has_perm(perm, obj):
        raise errors.ApiError(403, "forbidden", why_not(user, perm, obj) or "You may not do this.")
    return user


# Around every route: JSON for the 405s Django answers itself, ETags, the audit and the log.


def _wrap(view, *, read_only: bool = False):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        started = time.monotonic()
        if read_only and request.method not in ("GET", "HEAD"):
            response = HttpResponseNotAllowed(["GET", "HEAD"])
        elif nul := sorted({k for k, v in request.GET.lists() if "\x00" in k + "".join(v)}):
            # As the pages' filters refuse it: PostgreSQL compares no NUL, and failed (500).
            response = errors.error_response(
                400,
                "invalid",
                "Some of what was sent is not valid.",
                {name: [NULL_CHARACTERS] for name in nul},
            )
        else:
            response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allow = response.get("Allow", "")
            response = errors.error_response(
                405, "method_not_allowed", f"This address answers {allow} only."
            )
            response["Allow"] = allow
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response = _conditional(request, response)
        if request.method == "HEAD" and not response.streaming and response.status_code != 304:
            # The GET's headers, its length included; the server need not drop the body.
            # (A 304 has no body to measure: a length of 0 would be a cache's to store.)
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        _record(request, response, time.monotonic() - started)
        return response

    # The API reads no cookie, only the token: a write to its schema or to an address it
    # does not have is answered in its shape (405, 404), not with the pages' CSRF refusal.
    wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapped


def _conditional(request, response):
    from mycareer.api.paging import etag_for

    if not response.has_header("ETag"):
        response["ETag"] = etag_for(response.content.decode())
    response["Cache-Control"] = "private, no-cache"
    sent = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    if response["ETag"] in sent:
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = response["ETag"]
        return not_modified
    return response


def _record(request, response, seconds: float) -> None:
    token = getattr(request, "api_token", None)
    # A NUL (`/organisations/%00`) is no text PostgreSQL's JSON holds: the record of the
    # call failed there, and the call with it (500).
    path = request.path[:200].replace("\x00", "\ufffd")
    fields = {
        "method": request.method,
        "path": path,
        "status": response.status_code,
        "token": token.pk if token else None,
        "owner": token.owner_id if token else None,
        "ms": int(seconds * 1000),
    }
    log_event(logger, "api.call", **fields)
    if token is not None:
        audit.log(
            token,
            "api.call",
            by=token.owner,
            data={
                "token": token.name,
                "method": request.method,
                "path": path,
                "status": response.status_code,
            },
        )


def _wrapped(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            pattern.url_patterns[:] = list(_wrapped(pattern.url_patterns))
            yield pattern
        elif isinstance(pattern, URLPattern):
            # The schema is read, never written to.
            pattern.callback = _wrap(pattern.callback, read_only=pattern.name == "openapi-json")
            yield pattern


def _unknown(request, rest: str = ""):
    return errors.error_response(
        404, "not_found", "No such address in the API: see /api/v1/openapi.json."
    )


def urls():
    """The API's URL patterns, each wrapped, with a JSON 404 for any other address."""
    from mycareer.api import routes  # noqa: F401 (registers the endpoints)

    patterns, _app_name, namespace = api.urls
    patterns = list(_wrapped(patterns))
    patterns.append(path("<path:rest>", _wrap(_unknown), name="unknown"))
    return patterns, namespace
