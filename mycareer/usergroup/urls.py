from django.urls import path

from mycareer.usergroup import views

app_name = "usergroup"

urlpatterns = [
    path("", views.group, name="group"),
    path("announcements/new/", views.announcement_create, name="announcement_create"),
    path("announcements/<int:pk>/dismiss/", views.announcement_dismiss, name="dismiss"),
    path("feedback/", views.board, name="board"),
    path("feedback/new/", views.feedback_create, name="feedback_create"),
    path("feedback/<int:pk>/", views.feedback_detail, name="feedback"),
]
