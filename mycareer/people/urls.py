from django.urls import path

from mycareer.people import views

app_name = "people"

urlpatterns = [
    path("import/", views.feed_upload, name="import"),
    path("import/<int:import_id>/", views.feed_check, name="check"),
    path("import/<int:import_id>/confirm/", views.feed_confirm, name="confirm"),
    path("import/template.csv", views.feed_template, name="template"),
]
