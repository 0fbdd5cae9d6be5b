"""The site's URLs plus a hello-world view, the baseline the throughput ratios use.

The baseline goes through the same middleware as every page (sessions, authentication,
security headers, terms check, login throttling), so the ratio compares MyCareer's work
per page with Django's own floor on this server, not with a bare WSGI app.
"""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_safe

from mycareer.urls import handler403, handler404  # noqa: F401 (the site's error pages)


@require_safe
def hello(request):
    return HttpResponse("Hello, world.\n", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/hello/", hello, name="bench_hello"),
    path("", include("mycareer.urls")),
]
