from django.urls import path

from mycareer.organisations import (
    views,
    views_employer,
    views_import,
    views_keyaccounts,
    views_people,
    views_search,
)

app_name = "organisations"

urlpatterns = [
    path("", views_search.search, name="search"),
    path("export.csv", views_search.export, name="export"),
    path("saved-searches/", views_search.saved_search_create, name="saved_search_create"),
    path(
        "saved-searches/<int:pk>/delete/",
        views_search.saved_search_delete,
        name="saved_search_delete",
    ),
    path("new/", views.organisation_create, name="create"),
    path("tags/", views.tag_suggestions, name="tag_suggestions"),
    path("suggest/", views.organisation_suggestions, name="suggestions"),
    path("my-activity/", views.my_activity, name="my_activity"),
    path("registrations/", views_employer.registrations, name="registrations"),
    path(
        "registrations/<int:registration_id>/",
        views_employer.registration_detail,
        name="registration",
    ),
    path("liaison/", views_keyaccounts.liaison_inbox, name="liaison_inbox"),
    path(
        "liaison/<int:request_id>/",
        views_keyaccounts.liaison_request_detail,
        name="liaison_request",
    ),
    path("import/", views_import.organisation_import, name="import"),
    path("import/confirm/", views_import.organisation_import_confirm, name="import_confirm"),
    path("import/template.csv", views_import.organisation_import_template, name="import_template"),
    path(
        "import/checking/<uuid:result_id>/",
        views_import.organisation_import_checking,
        name="import_checking",
    ),
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
    path("<int:pk>/contacts/<int:contact_id>/email/", views.contact_email, name="contact_email"),
    path(
        "<int:pk>/contacts/<int:contact_id>/bounce/clear/",
        views.contact_bounce_clear,
        name="contact_bounce_clear",
    ),
    path("<int:pk>/contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/notes/new/", views.note_create, name="note_create"),
    path("<int:pk>/notes/<int:note_id>/edit/", views.note_edit, name="note_edit"),
    path("<int:pk>/notes/<int:note_id>/delete/", views.note_delete, name="note_delete"),
    path("<int:pk>/notes/<int:note_id>/done/", views.follow_up_done, name="follow_up_done"),
    path("<int:pk>/key-accounts/new/", views_keyaccounts.key_account_add, name="key_account_add"),
    path(
        "<int:pk>/key-accounts/<int:account_id>/reassign/",
        views_keyaccounts.key_account_reassign,
        name="key_account_reassign",
    ),
    path(
        "<int:pk>/key-accounts/<int:account_id>/remove/",
        views_keyaccounts.key_account_remove,
        name="key_account_remove",
    ),
    path("<int:pk>/multi-touch/", views_keyaccounts.multi_touch, name="multi_touch"),
    path(
        "<int:pk>/contacts/<int:contact_id>/key/",
        views_keyaccounts.key_contact_mark,
        name="key_contact_mark",
    ),
    path(
        "<int:pk>/contacts/<int:contact_id>/key/remove/",
        views_keyaccounts.key_contact_unmark,
        name="key_contact_unmark",
    ),
    path(
        "<int:pk>/contacts/<int:contact_id>/liaise/",
        views_keyaccounts.liaison_request_create,
        name="liaison_request_create",
    ),
    path(
        "<int:pk>/people/<int:membership_id>/administrator/",
        views_people.administrator_change,
        {"is_admin": True},
        name="administrator_appoint",
    ),
    path(
        "<int:pk>/people/<int:membership_id>/member-only/",
        views_people.administrator_change,
        {"is_admin": False},
        name="administrator_stand_down",
    ),
]
