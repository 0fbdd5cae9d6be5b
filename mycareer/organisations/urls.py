from django.urls import path

from mycareer.organisations import views, views_import, views_search

app_name = "organisations"

urlpatterns = [
    path("", views_search.search, name="search"),
    path("new/", views.organisation_create, name="create"),
    path("tags/", views.tag_suggestions, name="tag_suggestions"),
    path("my-activity/", views.my_activity, name="my_activity"),
    path("import/", views_import.organisation_import, name="import"),
    path("import/confirm/", views_import.organisation_import_confirm, name="import_confirm"),
    path("import/template.csv", views_import.organisation_import_template, name="import_template"),
    path(
        "import/<uuid:result_id>/",
        views_import.organisation_import_status,
        name="import_status",
    ),
    path("<int:pk>/", views.organisation_detail, name="detail"),
    path("<int:pk>/edit/", views.organisation_edit, name="edit"),
    path("<int:pk>/archive/", views.organisation_archive, name="archive"),
    path("<int:pk>/delete/", views.organisation_delete, name="delete"),
    path("<int:pk>/merge/", views.organisation_merge, name="merge"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_id>/", views.contact_detail, name="contact"),
    path("<int:pk>/contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/notes/new/", views.note_create, name="note_create"),
    path("<int:pk>/notes/<int:note_id>/edit/", views.note_edit, name="note_edit"),
    path("<int:pk>/notes/<int:note_id>/delete/", views.note_delete, name="note_delete"),
    path("<int:pk>/notes/<int:note_id>/done/", views.follow_up_done, name="follow_up_done"),
]
