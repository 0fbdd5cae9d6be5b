"""A web write that meets a busy database answers with the typed text, never a 500; an
address opened the wrong way answers with a page that says so, never a blank one."""

import logging

from django.db import OperationalError
from django.shortcuts import render

from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)

# Fields that are the page's own machinery, not what the person typed.
_HIDDEN = {"csrfmiddlewaretoken"}


# PostgreSQL's lock_not_available: a lock wait ran past lock_timeout, where one is set.
LOCK_NOT_AVAILABLE = "55P03"


def is_database_busy(error: BaseException) -> bool:
    """Another writer held the lock past our wait: SQLite's busy_timeout, or PostgreSQL's
    lock_timeout. Nothing was written; the same request may succeed a moment later."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    return "database is locked" in str(error) or (
        getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE
    )


class DatabaseBusyMiddleware:
    """Turn a lock wait that ran out into a page that keeps what was sent, to send again.

    On SQLite one writer at a time holds the lock; others wait up to busy_timeout (on
    PostgreSQL, up to lock_timeout where a site sets one). If a write still cannot get
    it, its transaction was rolled back and nothing was saved: the person gets their
    text back in a form that sends it again, with a 503 and Retry-After.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_busy(exception):
            return None
        log_event(
            logger,
            "db.busy",
            level=logging.WARNING,
            method=request.method,
            path=request.path,
            user=getattr(getattr(request, "user", None), "pk", None) or "-",
        )
        fields = []
        if request.method == "POST":
            for name, values in request.POST.lists():
                if name in _HIDDEN:
                    continue
                for value in values:
                    long = "\n" in value or len(value) > 80
                    fields.append({"name": name, "value": value, "long": long})
        response = render(
            request,
            "core/busy.html",
            {"fields": fields, "had_files": bool(request.FILES), "action": request.get_full_path()},
            status=503,
        )
        response["Retry-After"] = "5"
        return response


class MethodNotAllowedPageMiddleware:
    """A page, not an empty answer, for an address opened the wrong way (405).

    A view that takes only a form's button (`require_POST`) answers a link with a 405 and
    no body: a person who opened it from their history, a bookmark or a copied address saw
    a blank page. The API answers in JSON itself and is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code != 405
            or response.streaming
            or response.content
            or request.path_info.startswith("/api/")
        ):
            return response
        page = render(request, "405.html", status=405)
        page["Allow"] = response.get("Allow", "")
        return page


class NotModifiedHasNoLengthMiddleware:
    """A 304 (an ETag that still matches) carries no Content-Length.

    The common middleware gives every answer without one the length of its content, which
    for a 304 is 0: a length the HTTP rules forbid there unless it is the full answer's
    (RFC 9110, section 8.6). Placed before it in MIDDLEWARE, so it sees the answer after.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 304 and response.has_header("Content-Length"):
            del response["Content-Length"]
        return response
