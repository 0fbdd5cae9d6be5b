from django.urls import path

from mycareer.accounts import views

app_name = "accounts"

urlpatterns = [
    path("me/access/", views.my_access, name="my_access"),
    path("me/profile/", views.profile, name="profile"),
    path("terms/", views.terms, name="terms"),
    path("terms/publish/", views.terms_publish, name="terms_publish"),
    path("access/", views.access_list, name="access_list"),
    path("access/<int:user_id>/", views.access_edit, name="access_edit"),
    path("access/sign-in/", views.signin_attempts, name="signin_attempts"),
    path("access/failed-emails/", views.failed_tasks, name="failed_tasks"),
    path("training/", views.training_sessions, name="training_sessions"),
    path("training/new/", views.training_session_create, name="training_session_create"),
    path("training/expiring/", views.training_expiring, name="training_expiring"),
    path("training/<int:pk>/", views.training_session, name="training_session"),
]
