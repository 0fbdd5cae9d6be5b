from django.urls import path

from mycareer.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="list"),
    path("person/<int:user_id>/", views.audit_person, name="person"),
    path("personal-data/", views.privacy, name="privacy"),
    path("retention/", views.retention, name="retention"),
]
