from django.urls import path

from mycareer.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("unit/<slug:code>/", views.unit, name="unit"),
    path("careers-centre/", views.everywhere, name="everywhere"),
    path("trends/", views.trends_page, name="trends"),
    path("trends.png", views.trends_png, name="trends_png"),
    path("trends.csv", views.trends_csv, name="trends_csv"),
    path("<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
]
