from django.urls import path

from mycareer.bookings import views

app_name = "bookings"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("my-events/", views.my_events, name="my_events"),
    path("no-show-policy/", views.policy, name="policy"),
    path("restrictions/<int:ban_id>/lift/", views.lift_ban, name="lift_ban"),
    path("scan/<str:token>/", views.scan, name="scan"),
    path("events/<int:event_id>/", views.event_page, name="event"),
    path("events/<int:event_id>/book/", views.book, name="book"),
    path("events/<int:event_id>/manage/", views.manage, name="manage"),
    path("events/<int:event_id>/settings/", views.settings_edit, name="settings"),
    path("events/<int:event_id>/check-in/", views.check_in_page, name="check_in"),
    path("events/<int:event_id>/check-in/walk-in/", views.walk_in, name="walk_in"),
    path("events/<int:event_id>/check-in/code/", views.check_in_code, name="check_in_code"),
    path("events/<int:event_id>/counts.json", views.counts, name="counts"),
    path("events/<int:event_id>/attendance/", views.attendance, name="attendance"),
    path(
        "events/<int:event_id>/attendance/close/",
        views.attendance_close,
        name="attendance_close",
    ),
    path("events/<int:event_id>/report/", views.report, name="report"),
    path("events/<int:event_id>/report.csv", views.report_csv, name="report_csv"),
    path("places/<int:booking_id>/cancel/", views.cancel, name="cancel"),
    path("waiting/<int:entry_id>/leave/", views.leave, name="leave"),
    path("offers/<int:entry_id>/", views.offer, name="offer"),
    path("places/<int:pk>/move/", views.move, {"kind": "booking"}, name="move"),
    path("waiting/<int:pk>/move/", views.move, {"kind": "entry"}, name="move_entry"),
]
