"""Serving uploaded files, with or without DEBUG.

Django serves nothing from MEDIA_ROOT in production, so uploads (organisations' logos,
screenshots attached to faults) would 404 under DEBUG=0. This view serves them, only
from registered areas (`core.registry.register_media_area`), with each area's
permission checked on the server. Public files (logos) may be cached by browsers and
proxies; private ones are not. Behind nginx, set MEDIA_X_ACCEL_REDIRECT to an internal
location and nginx sends the file after this view has said yes (see docs/security.md).
"""

import logging
import mimetypes
import os
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils._os import safe_join
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since

from mycareer.core.logs import log_event
from mycareer.core.registry import media_area_for

logger = logging.getLogger(__name__)

PUBLIC_CACHE = "public, max-age=86400"
PRIVATE_CACHE = "private, no-cache"


@require_safe
def media(request, path: str):
    """An uploaded file, if its area allows this person to read it."""
    # "logos/../x" would pass as a logo: the area is judged on a plain path only.
    if any(part in ("", ".", "..") for part in path.split("/")) or "\\" in path:
        raise Http404("No such file.")
    area = media_area_for(path)
    if area is None:
        raise Http404("No such file.")
    if area.may_read is not None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not area.may_read(request.user):
            log_event(logger, "media.refused", area=area.prefix, user=request.user.pk)
            raise PermissionDenied("This file is for university staff only.")
    try:
        full_path = safe_join(settings.MEDIA_ROOT, path)
    except SuspiciousFileOperation as error:
        raise Http404("No such file.") from error
    if not os.path.isfile(full_path):
        raise Http404("No such file.")
    modified = os.stat(full_path).st_mtime
    if not was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), modified):
        return HttpResponseNotModified()
    content_type, encoding = mimetypes.guess_type(full_path)
    # Uploads are validated images; anything else is offered as a download, never shown.
    inline = bool(content_type and content_type.startswith("image/") and not encoding)
    response: HttpResponseBase
    if settings.MEDIA_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type if inline else "application/octet-stream")
        location = settings.MEDIA_X_ACCEL_REDIRECT.rstrip("/") + "/" + quote(path)
        response["X-Accel-Redirect"] = location
    else:
        response = FileResponse(
            open(full_path, "rb"),  # noqa: SIM115 (FileResponse closes it)
            content_type=content_type if inline else "application/octet-stream",
            as_attachment=not inline,
        )
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = PUBLIC_CACHE if area.may_read is None else PRIVATE_CACHE
    return response
