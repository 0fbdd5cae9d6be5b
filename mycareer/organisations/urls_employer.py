from django.urls import path

from mycareer.organisations import views_employer

app_name = "employer"

urlpatterns = [
    path("register/", views_employer.register, name="register"),
    path("profile/", views_employer.profile, name="profile"),
    path("contacts/", views_employer.contacts, name="contacts"),
    path("contacts/new/", views_employer.contact_form, name="contact_create"),
    path("contacts/<int:contact_id>/", views_employer.contact_form, name="contact_edit"),
    path(
        "contacts/<int:contact_id>/remove/",
        views_employer.contact_remove,
        name="contact_remove",
    ),
    path("people/<int:membership_id>/role/", views_employer.member_role, name="member_role"),
    path("people/<int:membership_id>/remove/", views_employer.member_remove, name="member_remove"),
    path(
        "invitations/<int:invitation_id>/withdraw/",
        views_employer.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path(
        "invitations/accept/<str:token>/",
        views_employer.invitation_accept,
        name="invitation_accept",
    ),
    path("preferences/", views_employer.preferences, name="preferences"),
    path("activity/", views_employer.activity, name="activity"),
]
