from mycareer.accounts.permissions import can_edit_records
from mycareer.vacancies import selectors
from mycareer.vacancies.permissions import is_employer_admin, is_employer_member


def employer_panel(request) -> dict | None:
    """An employer's vacancies and where each stands."""
    user = request.user
    if user.kind != user.Kind.EMPLOYER or not is_employer_member(user):
        return None
    return {
        "vacancies": list(selectors.vacancies_of_employer(user)[:6]),
        "may_add": is_employer_admin(user),
    }


def student_panel(request) -> dict | None:
    """A few open vacancies for a student, their own faculty's first."""
    user = request.user
    if user.kind != user.Kind.STUDENT:
        return None
    return {"vacancies": list(selectors.vacancies_for(user)[:5])}


def moderation_panel(request) -> dict | None:
    """How many vacancies wait for staff who may moderate them."""
    if not can_edit_records(request.user):
        return None
    return {"waiting": selectors.moderation_count()}
