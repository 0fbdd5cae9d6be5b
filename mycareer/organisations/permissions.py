"""Who may see and change organisations, contacts and notes."""

import rules
from django.core.exceptions import PermissionDenied

from mycareer.accounts.permissions import (
    NOT_YOUR_KIND,
    Action,
    add_rule,
    can_administer,
    can_delete_records,
    can_edit_records,
    can_view_staff_pages,
    is_employer,
    is_student,
)
from mycareer.organisations.models import EmployerMembership, Organisation


@rules.predicate
def is_active_organisation(user, organisation: Organisation | None) -> bool:
    return organisation is not None and organisation.status == Organisation.Status.ACTIVE


@rules.predicate
def is_member_of_organisation(user, organisation: Organisation | None) -> bool:
    """An employer contact whose membership of this organisation is active."""
    if organisation is None or not getattr(user, "is_authenticated", False):
        return False
    return organisation.memberships.filter(
        user=user, status=EmployerMembership.Status.ACTIVE
    ).exists()


def signs_in_for_an_organisation(user) -> bool:
    """An employer whose membership of an organisation is active: the pages about "our"
    organisation are theirs. Kept on the login for the request (the menu asks per page)."""
    if not is_employer(user):
        return False
    if not hasattr(user, "_signs_in_for_an_organisation"):
        user._signs_in_for_an_organisation = EmployerMembership.objects.filter(
            user=user, status=EmployerMembership.Status.ACTIVE
        ).exists()
    return bool(user._signs_in_for_an_organisation)


def has_a_contact_record(user) -> bool:
    """An employer with a contact record of their own: their email preferences are theirs,
    whether or not they still sign in for its organisation."""
    if not is_employer(user):
        return False
    if not hasattr(user, "_has_a_contact_record"):
        from mycareer.organisations.models import Contact

        user._has_a_contact_record = Contact.objects.filter(user=user).exists()
    return bool(user._has_a_contact_record)


@rules.predicate
def is_organisation_admin(user, organisation: Organisation | None) -> bool:
    """An employer who manages this organisation's profile, contacts and vacancies."""
    if organisation is None or not getattr(user, "is_authenticated", False):
        return False
    return organisation.memberships.filter(
        user=user, status=EmployerMembership.Status.ACTIVE, is_admin=True
    ).exists()


@rules.predicate
def is_note_author(user, note) -> bool:
    return note is not None and note.author_id == user.pk


@rules.predicate
def is_key_account_operator(user, account) -> bool:
    return account is not None and account.operator_id == user.pk


# Staff read everything; students read an active organisation's public profile;
# an employer reads their own organisation only (its contacts chose to be seen by
# students, not by other employers).
can_view_public_profile = (
    can_view_staff_pages | (is_student & is_active_organisation) | is_member_of_organisation
)


def public_profiles_open_to(user, organisations) -> set[int]:
    """The ids of `organisations` whose profile `user` may open, in one query at most.

    `can_view_public_profile` for many organisations at once (a page that lists them
    links only those): asking the rule for each would read an employer's membership
    once per organisation.
    """
    if can_view_staff_pages(user):
        return {organisation.pk for organisation in organisations}
    open_to = set()
    if is_student(user):
        open_to = {o.pk for o in organisations if o.status == Organisation.Status.ACTIVE}
    if getattr(user, "is_authenticated", False):
        open_to |= set(
            EmployerMembership.objects.filter(
                user=user,
                status=EmployerMembership.Status.ACTIVE,
                organisation__in=[organisation.pk for organisation in organisations],
            ).values_list("organisation_id", flat=True)
        )
    return open_to


V, E, D, A = Action.VIEW, Action.EDIT, Action.DELETE, Action.ADMINISTER

add_rule("organisations.view_organisation", can_view_staff_pages, needs=V)
# Students browse the employer directory; staff may look at it as students see it.
add_rule(
    "organisations.browse_directory",
    is_student | can_view_staff_pages,
    otherwise="The employer directory is for students and university staff. Your own "
    "organisation's profile is under “Our profile”.",
)
add_rule("organisations.view_public_profile", can_view_public_profile)
add_rule("organisations.add_organisation", can_edit_records, needs=E)
add_rule("organisations.change_organisation", can_edit_records, needs=E)
add_rule("organisations.archive_organisation", can_delete_records, needs=D)
add_rule("organisations.delete_organisation", can_delete_records, needs=D)
add_rule("organisations.merge_organisation", can_edit_records, needs=E)
add_rule("organisations.import_organisations", can_edit_records, needs=E)
add_rule("organisations.export_organisations", can_view_staff_pages, needs=V)
# Every organisation at once is an explicit choice that only administrators make, as for
# bulk email: the file names every key contact, and administrators already answer for
# exports of personal data (subject access requests).
add_rule(
    "organisations.export_every_organisation",
    can_administer,
    otherwise="Only administrators may export every organisation: the file names every "
    "key contact.",
)
add_rule("organisations.save_search", can_view_staff_pages, needs=V)
add_rule("organisations.add_note", can_edit_records, needs=E)
# A note is changed or deleted by its author, or by anyone who may delete records.
can_change_note = can_delete_records | (can_edit_records & is_note_author)
add_rule("organisations.change_note", can_change_note, needs=E)
add_rule("organisations.delete_note", can_change_note, needs=D)
# A member of staff's own record of notes, follow-ups, key accounts and agreements.
add_rule("organisations.view_own_activity", can_edit_records, needs=E)
add_rule("organisations.add_contact", can_edit_records, needs=E)
add_rule("organisations.change_contact", can_edit_records, needs=E)
add_rule("organisations.delete_contact", can_delete_records, needs=D)
# Employers keep their own organisation's profile, contacts and preferences.
add_rule("organisations.use_employer_pages", is_employer, otherwise=NOT_YOUR_KIND)
add_rule(
    "organisations.manage_own_organisation",
    is_organisation_admin,
    otherwise="Only your organisation's MyCareer administrators can change this: "
    "ask a colleague who is.",
)
add_rule("organisations.moderate_registrations", can_edit_records, needs=E)
# Key accounts (policy 2.3): operators hold them and ask their owners before contacting
# key contacts; an account's own operator changes it; administrators act on any of them.
add_rule("organisations.hold_key_account", can_edit_records, needs=E)
add_rule("organisations.request_liaison", can_edit_records, needs=E)
add_rule(
    "organisations.change_key_account",
    can_administer | is_key_account_operator,
    needs=E,
    otherwise="Only the key account operator or an administrator can change it.",
)
add_rule("organisations.manage_any_key_account", can_administer, needs=A)


# What an employer reads who opens another organisation's record by its address (a number
# changed in the address bar, a link forwarded from someone elsewhere): that it is another
# organisation's, never what or whose it is, and where their own are. It was a "Page not
# found" that said the link may be wrong.
_ANOTHER_ORGANISATIONS = {
    "vacancy": ("This vacancy is another organisation's", "vacancies", "“Vacancies”"),
    "person": ("This person is another organisation's", "people", "“Our people”"),
    "invitation": ("This invitation is another organisation's", "invitations", "“Our people”"),
    "profile": (
        "This is another organisation's profile: its contacts chose to be seen by students, "
        "not by other employers",
        "profile",
        "“Our profile”",
    ),
}


class AnotherOrganisations(PermissionDenied):
    """A refusal of another organisation's record. Its page offers to log out and open the
    address again: a link forwarded by a colleague opens at the login it was meant for."""

    relogin = True


def another_organisations(user, kind: str) -> AnotherOrganisations:
    """The refusal of a `kind` of record that is another organisation's, to raise."""
    said, theirs, where = _ANOTHER_ORGANISATIONS[kind]
    mine = (
        EmployerMembership.objects.filter(user=user, status=EmployerMembership.Status.ACTIVE)
        .select_related("organisation")
        .order_by("-is_admin")
        .first()
    )
    own = f"{mine.organisation}'s" if mine is not None else "your own organisation's"
    return AnotherOrganisations(f"{said}. You see only {own} {theirs}, under {where}.")
