from django.utils import timezone

from mycareer.accounts.permissions import can_edit_records, has_second_factor
from mycareer.core.mail import careers_centre_address
from mycareer.organisations.models import EmployerMembership, RegistrationRequest
from mycareer.organisations.registration import declined_registration, profile_completeness
from mycareer.organisations.selectors import follow_ups_due


def follow_ups_panel(request) -> dict | None:
    if not can_edit_records(request.user):
        return None
    return {
        "follow_ups": list(follow_ups_due(request.user)[:8]),
        "today": timezone.localdate(),
    }


def employer_panel(request) -> dict | None:
    """An employer's organisation: its status, how complete the profile is, what to do next."""

    if request.user.kind != request.user.Kind.EMPLOYER:
        return None
    memberships = EmployerMembership.objects.filter(user=request.user).select_related(
        "organisation"
    )
    membership = memberships.order_by("-is_admin").first()
    # Employers sign in with a password; a second step is offered to every one of them.
    two_step = has_second_factor(request.user)
    if membership is None:
        return {"membership": None, "two_step": two_step}
    percent, missing = profile_completeness(membership.organisation)
    declined = None
    if membership.status == EmployerMembership.Status.DECLINED:
        declined = declined_registration(request.user, membership.organisation)
    return {
        "membership": membership,
        "percent": percent,
        "missing": missing,
        "two_step": two_step,
        "declined": declined,
        # Where a declined employer writes, if they think the decision is a mistake.
        "careers_centre": careers_centre_address(),
    }


def registrations_panel(request) -> dict | None:

    if not can_edit_records(request.user):
        return None
    waiting = RegistrationRequest.objects.filter(status=RegistrationRequest.Status.PENDING)
    count = waiting.count()
    return {"count": count, "high": waiting.filter(risk_score__gte=50).count()} if count else None
