"""The one view decorator for permissions: log in first, then ask `rules`.

`@require("organisations.merge_organisation")` sends a visitor who is not logged in to
the login page (keeping the whole address, query and all, in `next`) and then asks
`request.user.has_perm(name, obj)`. What a refusal does (say why, or send an
administrator to set up a second factor) belongs to the accounts app, which knows
people's access; it installs that with `set_refusal` when it loads.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

Refusal = Callable[[object, str, object], HttpResponse | None]


def _plain_refusal(request, perm: str, obj) -> HttpResponse | None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied
    return None


_refusal: list[Refusal] = [_plain_refusal]


def set_refusal(refusal: Refusal) -> None:
    """Install `refusal(request, perm, obj)`: None to go on, a response, or raise 403."""
    _refusal[0] = refusal


def require(perm: str, obj: Callable[..., object] | None = None):
    """View decorator: log in first, then only people who have `perm` now.

    `obj(request, **kwargs)` fetches the object the permission is about (it may raise
    Http404); without it the permission is asked about no object.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            target = obj(request, *args, **kwargs) if obj else None
            response = _refusal[0](request, perm, target)
            if response is not None:
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
