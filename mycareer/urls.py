from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from mycareer.accounts.adapters import saml_finish_sign_in
from mycareer.api.api import urls as api_urls
from mycareer.core import views as core_views
from mycareer.core.media import media
from mycareer.core.public_feeds import url_patterns
from mycareer.events.public_feeds import SPEC as EVENTS_FEED
from mycareer.vacancies.public_feeds import SPEC as VACANCIES_FEED

handler400 = "mycareer.api.errors.bad_request"
handler403 = "mycareer.core.views.permission_denied"
handler404 = "mycareer.core.views.page_not_found"
# Not one of Django's: allauth looks it up to answer its rate limits.
handler429 = "mycareer.core.views.too_many_requests"
handler500 = "mycareer.api.errors.server_error_page"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("", include("mycareer.accounts.urls")),
    path("audit/", include("mycareer.audit.urls")),
    path("people/", include("mycareer.people.urls")),
    path("organisations/", include("mycareer.organisations.urls")),
    path("employer/", include("mycareer.organisations.urls_employer")),
    path("employers/", include("mycareer.organisations.urls_directory")),
    path("email/", include("mycareer.mailing.urls")),
    path("group/", include("mycareer.usergroup.urls")),
    path("vacancies/", include("mycareer.vacancies.urls")),
    path("events/", include("mycareer.events.urls")),
    path("bookings/", include("mycareer.bookings.urls")),
    # Public feeds for the university's website: no account, only public data.
    path("feeds/", include(([*url_patterns(EVENTS_FEED), *url_patterns(VACANCIES_FEED)], "feeds"))),
    # Before allauth's own: its last SAML step, with MyCareer's page for a used answer.
    path(
        "accounts/saml/<str:organization_slug>/acs/finish/",
        saml_finish_sign_in,
    ),
    path("operations/", include("mycareer.operations.urls")),
    # The API's pages (tokens, its reference) before the API, which answers any other
    # address under api/v1/ in JSON.
    path("", include("mycareer.api.urls")),
    path("api/v1/", include(api_urls())),
    path("insights/", include("mycareer.insights.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Uploads are served by MyCareer itself, with or without DEBUG (see core/media.py).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"),
]
