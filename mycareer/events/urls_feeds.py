"""The public events feeds, mounted under /feeds/ with the vacancies' (see mycareer/urls.py)."""

from django.urls import path

from mycareer.events.public_feeds import FORMATS, events_feed

urlpatterns = [
    path(f"events.{format}", events_feed, {"format": format}, name=f"events_{format}")
    for format in FORMATS
]
