from django.urls import path

from mycareer.events import views, views_feeds, views_public

app_name = "events"

urlpatterns = [
    path("", views.month, name="month"),
    path("week/", views.week, name="week"),
    path("list/", views.event_list, name="list"),
    path("new/", views.create, name="create"),
    path("openings/", views.openings, name="openings"),
    path("openings/<int:request_id>/", views.opening, name="opening"),
    path("openings/<int:request_id>/withdraw/", views.opening_withdraw, name="opening_withdraw"),
    path("subscribe/", views_feeds.subscribe, name="subscribe"),
    path("subscribe/reset/", views_feeds.reset_token, name="reset_token"),
    path("for-the-website/", views_feeds.public_feed_list, name="public_feeds"),
    path("feed.ics", views_feeds.feed, name="feed"),
    path("feed/unit/<slug:code>.ics", views_feeds.unit_feed, name="unit_feed"),
    path("feed/<str:token>.ics", views_feeds.personal_feed, name="personal_feed"),
    path("public/<uuid:uid>/", views_public.public_detail, name="public"),
    path("public/<uuid:uid>/event.ics", views_public.public_ics, name="public_ics"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/event.ics", views_feeds.event_ics, name="ics"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/clashes/", views.clashes, name="clashes"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/free-slots/", views.free_slots, name="free_slots"),
    path("<int:pk>/open/", views.opening_create, name="opening_create"),
]
