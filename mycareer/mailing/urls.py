from django.urls import path

from mycareer.mailing import views

app_name = "mailing"

urlpatterns = [
    path("", views.campaigns, name="campaigns"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("chart/", views.chart_page, name="chart"),
    path("chart.png", views.chart_png, name="chart_png"),
    path("chart.csv", views.chart_csv, name="chart_csv"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/recipients/", views.campaign_recipients, name="campaign_recipients"),
    path("<int:pk>/recipients.csv", views.campaign_sent_to_csv, name="campaign_sent_to_csv"),
    path("<int:pk>/send/", views.campaign_confirm, name="campaign_send"),
    path("<int:pk>/approve/", views.campaign_confirm, {"approving": True}, name="campaign_approve"),
    path("<int:pk>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path("<int:pk>/preview/", views.campaign_preview, name="campaign_preview"),
    path("<int:pk>/preview/email.html", views.campaign_preview_html, name="campaign_preview_html"),
    path("<int:pk>/progress.json", views.campaign_progress_json, name="campaign_progress"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
