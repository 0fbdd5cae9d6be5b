from django.urls import path

from mycareer.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="list"),
    path("person/<int:user_id>/", views.audit_person, name="person"),
    path("personal-data/", views.privacy, name="privacy"),
    path("personal-data/letter/", views.subject_access_letter, name="letter"),
    path("personal-data/letter.json", views.subject_access_json, name="letter_json"),
    path("personal-data/erase/", views.erasure, name="erase"),
    path("personal-data/erasures/<int:entry_id>/", views.erasure_report, name="erasure_report"),
    path("retention/", views.retention, name="retention"),
]
