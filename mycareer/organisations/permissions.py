"""Who may see and change organisations, contacts and notes."""

import rules

from mycareer.accounts.permissions import (
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


# Staff read everything; students read an active organisation's public profile;
# an employer reads their own organisation.
can_view_public_profile = (
    can_view_staff_pages
    | ((is_student | is_employer) & is_active_organisation)
    | is_member_of_organisation
)

rules.add_perm("organisations.view_organisation", can_view_staff_pages)
# Students browse the employer directory; staff may look at it as students see it.
rules.add_perm("organisations.browse_directory", is_student | can_view_staff_pages)
rules.add_perm("organisations.view_public_profile", can_view_public_profile)
rules.add_perm("organisations.add_organisation", can_edit_records)
rules.add_perm("organisations.change_organisation", can_edit_records)
rules.add_perm("organisations.archive_organisation", can_delete_records)
rules.add_perm("organisations.delete_organisation", can_delete_records)
rules.add_perm("organisations.merge_organisation", can_edit_records)
rules.add_perm("organisations.export_organisations", can_view_staff_pages)
rules.add_perm("organisations.view_note", can_view_staff_pages)
rules.add_perm("organisations.add_note", can_edit_records)
# A note is changed by its author, or by anyone who may delete records.
rules.add_perm(
    "organisations.change_note", can_delete_records | (can_edit_records & is_note_author)
)
rules.add_perm(
    "organisations.delete_note", can_delete_records | (can_edit_records & is_note_author)
)
rules.add_perm("organisations.add_contact", can_edit_records)
rules.add_perm("organisations.change_contact", can_edit_records)
rules.add_perm("organisations.delete_contact", can_delete_records)
rules.add_perm("organisations.manage_own_organisation", is_organisation_admin)
rules.add_perm("organisations.moderate_registrations", can_edit_records)
