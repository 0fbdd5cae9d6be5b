from django.urls import path

from mycareer.vacancies import views

app_name = "vacancies"

urlpatterns = [
    path("", views.browse, name="list"),
    path("yours/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("post/", views.post_for_employer, name="post"),
    path("moderation/", views.moderation, name="moderation"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/moderate/", views.moderate, name="moderate"),
]
