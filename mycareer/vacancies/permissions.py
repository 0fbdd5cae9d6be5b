"""Who may see, change and moderate vacancies.

Employers act only on their own organisation's vacancies: an organisation's admin
members (`EmployerMembership.is_admin`) create, edit, submit and withdraw them; other
members only read them. Someone who registered a new organisation that staff have not
approved yet may already draft (their membership and the organisation both wait for
approval); nothing reaches students until the organisation is active and the vacancy
approved.

Staff who may edit records (operators and above) moderate, post on an employer's
behalf and edit any vacancy. Viewers may read the moderation queue and any vacancy's
record, so they can answer questions, but decide nothing.
"""

import rules
from django.db.models import Q

from mycareer.accounts.permissions import (
    Action,
    add_rule,
    can_edit_records,
    can_view_staff_pages,
    is_student,
)
from mycareer.organisations.models import EmployerMembership, Organisation


def membership_filter(*, admin: bool) -> Q:
    """Memberships that let an employer read (or, with admin, manage) the vacancies.

    Before approval only the person who registered the organisation (its admin) sees
    its drafts; anyone else asking to join waits for approval like everyone else.
    """
    active = Q(status=EmployerMembership.Status.ACTIVE)
    registering = Q(
        status__in=[EmployerMembership.Status.ACTIVE, EmployerMembership.Status.PENDING],
        organisation__status=Organisation.Status.PENDING,
        is_admin=True,
    )
    allowed = (active & ~Q(organisation__status=Organisation.Status.PENDING)) | registering
    return allowed & Q(is_admin=True) if admin else allowed


def _memberships(user, organisation: Organisation | None, *, admin: bool) -> bool:
    if organisation is None or not getattr(user, "is_authenticated", False):
        return False
    if user.kind != user.Kind.EMPLOYER:
        return False
    return (
        EmployerMembership.objects.filter(user=user, organisation=organisation)
        .filter(membership_filter(admin=admin))
        .exists()
    )


@rules.predicate
def manages_vacancies_of(user, organisation: Organisation | None) -> bool:
    """An employer admin of `organisation` (or the person registering it)."""
    return _memberships(user, organisation, admin=True)


@rules.predicate
def belongs_to_organisation(user, organisation: Organisation | None) -> bool:
    return _memberships(user, organisation, admin=False)


@rules.predicate
def manages_vacancy(user, vacancy) -> bool:
    return vacancy is not None and manages_vacancies_of(user, vacancy.organisation)


@rules.predicate
def belongs_to_vacancy_organisation(user, vacancy) -> bool:
    return vacancy is not None and belongs_to_organisation(user, vacancy.organisation)


@rules.predicate
def is_employer_admin(user) -> bool:
    """Manages the vacancies of at least one organisation."""
    if not getattr(user, "is_authenticated", False) or user.kind != user.Kind.EMPLOYER:
        return False
    return (
        EmployerMembership.objects.filter(user=user).filter(membership_filter(admin=True)).exists()
    )


@rules.predicate
def is_employer_member(user) -> bool:
    if not getattr(user, "is_authenticated", False) or user.kind != user.Kind.EMPLOYER:
        return False
    return (
        EmployerMembership.objects.filter(user=user).filter(membership_filter(admin=False)).exists()
    )


E = Action.EDIT

# The record of a vacancy (status, history, pending changes): staff and the organisation.
add_rule(
    "vacancies.view_vacancy_record",
    can_view_staff_pages | belongs_to_vacancy_organisation,
    needs=Action.VIEW,
)
add_rule(
    "vacancies.change_vacancy",
    can_edit_records | manages_vacancy,
    needs=E,
    otherwise="Only your organisation's administrators can change its vacancies.",
)
# With an organisation as the object: may this person create a vacancy for it?
add_rule(
    "vacancies.add_vacancy_for",
    can_edit_records | manages_vacancies_of,
    otherwise="You may manage vacancies only for your own organisation.",
)
add_rule("vacancies.post_for_employer", can_edit_records, needs=E)
add_rule("vacancies.view_moderation_queue", can_view_staff_pages, needs=Action.VIEW)
add_rule(
    "vacancies.moderate_vacancy",
    can_edit_records,
    needs=E,
    otherwise="Only staff who edit records moderate.",
)
add_rule("vacancies.browse_vacancies", is_student | can_view_staff_pages, needs=Action.VIEW)
