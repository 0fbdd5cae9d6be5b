from django.urls import path

from mycareer.api import views

app_name = "api_pages"

urlpatterns = [
    path("me/tokens/", views.tokens, name="tokens"),
    path("me/tokens/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("access/api-tokens/", views.service_tokens, name="service_tokens"),
    path("api/v1/docs/", views.docs, name="docs"),
    path("api/v1/docs/try/", views.explorer, name="explorer"),
]
