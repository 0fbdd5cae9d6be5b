"""One error shape for every refusal: `{code, message, fields}`, never HTML or plain text.

`fields` maps a field (or "__all__") to its messages; extra keys (`duplicates`,
`clashes`, `ask`) carry what a script needs to act on the refusal.
"""

import logging
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.log import log_response
from django.views import defaults
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel

from mycareer.core.logs import log_event
from mycareer.core.middleware import is_database_busy

logger = logging.getLogger(__name__)


class Error(BaseModel):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ApiError(Exception):
    """A refusal with its status, code, message and anything else to say."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra
        super().__init__(message)


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict | None = None,
    headers: dict | None = None,
    **extra: Any,
) -> JsonResponse:
    response = JsonResponse(
        {"code": code, "message": message, "fields": fields or {}, **extra}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def fields_of(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError's messages by field ("__all__" for the whole)."""
    if hasattr(error, "error_dict"):
        return {
            name: [m for e in errors for m in e.messages]
            for name, errors in error.error_dict.items()
        }
    return {"__all__": list(error.messages)}


# What a body field the endpoint does not take is told (a typo, or a field of another).
NOT_A_FIELD = "Not a field of this request: check its spelling, or leave it out."


# What a body that is missing, or is no JSON object (`[]`, `null`, `"x"`), is told: it was
# "Field required" or "Input should be a valid dictionary or object to extract fields from".
NO_OBJECT = {"missing", "model_attributes_type", "dict_type", "model_type"}
NOT_AN_OBJECT = "Send a JSON object with this request's fields as the body."


def _location(loc) -> str:
    # ("body", "payload", "name") -> "name"; ("query", "limit") -> "limit"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "__all__"


def too_large() -> JsonResponse:
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return error_response(
        413, "too_large", f"The body is larger than the {limit} one call may send: send less."
    )


def _suspicious(request, exc: SuspiciousOperation) -> JsonResponse:
    # Logged as Django logs a request it refuses as suspicious, then answered as JSON.
    response = bad_request(request, exc)
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
        str(exc), exc_info=exc, extra={"status_code": response.status_code, "request": request}
    )
    return response


FAULT = (
    "Something went wrong in MyCareer and it has been logged. Read the record before "
    "sending the same call again: a change may or may not have been made."
)


def server_error(request, exc: Exception) -> JsonResponse:
    """A fault of MyCareer's, answered in the one shape (not Django's page, nor, with
    DEBUG, a plain-text traceback), and reported as Django reports one: logged with its
    traceback, and signalled (the test client raises it again)."""
    signals.got_request_exception.send(sender=None, request=request)
    response = error_response(500, "server_error", FAULT)
    log_response(
        "%s: %s",
        "Internal Server Error",
        request.path,
        response=response,
        request=request,
        exception=exc,
    )
    return response


def install(api) -> None:
    """Make every exception the API can meet answer in the one shape."""

    # Anything not answered below: a fault of ours, never a page or a traceback.
    api.exception_handler(Exception)(server_error)
    api.exception_handler(SuspiciousOperation)(_suspicious)

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(
            exc.status, exc.code, exc.message, exc.fields, exc.headers, **exc.extra
        )

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request, exc: NinjaValidationError):
        fields: dict[str, list[str]] = {}
        for item in exc.errors:
            where = _location(item.get("loc", ()))
            message = NOT_A_FIELD if item.get("type") == "extra_forbidden" else item.get("msg")
            if where == "__all__" and item.get("type") in NO_OBJECT:
                message = NOT_AN_OBJECT
            fields.setdefault(where, []).append(str(message))
        # No body, or no object, is the whole call's fault: said as its message, as the
        # guide promises for a refusal of the whole.
        whole = fields.get("__all__") == [NOT_AN_OBJECT] and len(fields) == 1
        message = NOT_AN_OBJECT if whole else "Some of what was sent is not valid."
        return error_response(400, "invalid", message, fields)

    @api.exception_handler(DjangoValidationError)
    def refused_by_rules(request, exc: DjangoValidationError):
        fields = fields_of(exc)
        # A refusal of the whole (a place already booked, an event that has started) is
        # its own message: a call that sent nothing was told what it sent was not valid.
        whole = fields["__all__"] if list(fields) == ["__all__"] else []
        message = " ".join(whole) or "Some of what was sent is not valid."
        return error_response(400, "invalid", message, fields)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        return error_response(
            401,
            "unauthenticated",
            getattr(request, "api_refusal", None)
            or "Send an API token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="MyCareer"'},
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return error_response(403, "forbidden", str(exc) or "You may not do this.")

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(404, "not_found", "There is nothing here, or you may not see it.")

    @api.exception_handler(OperationalError)
    def database_busy(request, exc: OperationalError):
        # Another writer held the lock past the wait: nothing was written, and the same
        # call will most likely succeed in a moment (the pages' DatabaseBusyMiddleware
        # answers people with their typed text; a script gets this).
        if not is_database_busy(exc):
            return server_error(request, exc)
        log_event(
            logger, "db.busy", level=logging.WARNING, method=request.method, path=request.path
        )
        return error_response(
            503,
            "busy",
            "The database was busy and nothing was saved: send the same call again.",
            headers={"Retry-After": "5"},
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {400: "bad_request", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc))


def bad_request(request, exception=None):
    """Django's answer to a request it cannot read (a Host header it does not serve, for
    instance), as JSON for the API and as Django's own page for everything else."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return too_large()
        return error_response(400, "bad_request", "The request could not be read.")
    return defaults.bad_request(request, exception)


def server_error_page(request):
    """Django's answer to a fault outside an endpoint (the record of the call, say), as
    JSON for the API and as the site's own page for everything else. Django has logged
    it already."""
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", FAULT)
    return defaults.server_error(request)
