"""The public vacancies feeds, mounted under /feeds/ with the events' (see mycareer/urls.py)."""

from django.urls import path

from mycareer.vacancies.public_feeds import FORMATS, vacancies_feed

urlpatterns = [
    path(f"vacancies.{format}", vacancies_feed, {"format": format}, name=f"vacancies_{format}")
    for format in FORMATS
]
