"""Staff appoint (and stand down) an organisation's administrators on MyCareer.

An organisation whose only administrator left, or was erased, could change nothing: no
profile, no people, no vacancies, no colleague invited. Staff who may edit organisations
make someone who signs in for it an administrator, from its page.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from mycareer.core.forms import add_validation_error
from mycareer.core.permissions import require
from mycareer.organisations import registration as reg
from mycareer.organisations.forms import LeftWithoutAdministratorForm
from mycareer.organisations.models import EmployerMembership, Organisation

PEOPLE = "#people"


def _member(pk: int, membership_id: int) -> EmployerMembership | None:
    """The membership, of this organisation only; None when nobody signs in for it by that
    membership now (it ended while the page was open). Another organisation's is not
    found."""
    organisation = get_object_or_404(Organisation, pk=pk, merged_into__isnull=True)
    member = (
        EmployerMembership.objects.select_related("user", "organisation")
        .filter(pk=membership_id, organisation=organisation)
        .first()
    )
    if member is None and EmployerMembership.objects.filter(pk=membership_id).exists():
        raise Http404("No such person signs in for this organisation.")
    if member is None or member.status != EmployerMembership.Status.ACTIVE:
        return None
    return member


@require_http_methods(["GET", "POST"])
@require("organisations.change_organisation")
def administrator_change(request, pk: int, membership_id: int, *, is_admin: bool):
    """A page that says what the change does (and, leaving nobody to administer the
    organisation, asks for the number of people left so); the button makes it."""
    member = _member(pk, membership_id)
    if member is None:
        # They left (or were erased) since the page was opened: say so, change nothing.
        organisation = get_object_or_404(Organisation, pk=pk)
        messages.warning(
            request,
            f"That person no longer signs in for {organisation}, so nothing was changed.",
        )
        return redirect(organisation.get_absolute_url() + PEOPLE)
    organisation = member.organisation
    back = organisation.get_absolute_url() + PEOPLE
    if member.is_admin == is_admin:
        role = "an administrator" if is_admin else "a member only"
        messages.info(request, f"{member.user} is already {role}.")  # pressed twice
        return redirect(back)
    left = None if is_admin else reg.left_without_an_administrator(member, ending=False)
    form = LeftWithoutAdministratorForm(
        request.POST if request.method == "POST" and left else None, left=left or 0
    )
    if request.method == "POST" and (not left or form.is_valid()):
        try:
            reg.membership_set_admin(
                membership=member,
                is_admin=is_admin,
                by=request.user,
                left_confirmed=left or None,
            )
        except ValidationError as error:
            if not left:  # another administrator stood down meanwhile: now it asks
                messages.error(request, " ".join(error.messages))
                return redirect(request.get_full_path())
            add_validation_error(form, error)
        else:
            done = (
                "an administrator of {}: we emailed them."
                if is_admin
                else "a member of {}: they see but do not change."
            )
            messages.success(request, f"{member.user} is now {done.format(organisation)}")
            return redirect(back)
    return render(
        request,
        "organisations/administrator_change.html",
        {
            "member": member,
            "organisation": organisation,
            "is_admin": is_admin,
            "left": left,
            "no_administrator": reg.no_administrator_text(organisation, left=left) if left else "",
            "form": form,
            "back": back,
        },
        status=400 if form.is_bound and form.errors else 200,
    )
