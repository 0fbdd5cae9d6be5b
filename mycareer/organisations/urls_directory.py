from django.urls import path

from mycareer.organisations import views_directory

app_name = "directory"

urlpatterns = [
    path("", views_directory.directory, name="list"),
]
