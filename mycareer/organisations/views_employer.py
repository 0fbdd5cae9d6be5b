"""Employer self-service (registration, profile, contacts, preferences) and its moderation."""

import copy

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import complete_signup
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.accounts.models import User
from mycareer.accounts.permissions import check_perm
from mycareer.audit.selectors import was_recorded
from mycareer.core.clientip import client_ip
from mycareer.core.forms import add_validation_error
from mycareer.core.http import saved
from mycareer.core.pagination import Paginator
from mycareer.core.permissions import require
from mycareer.organisations import registration as reg
from mycareer.organisations import selectors, services
from mycareer.organisations.erased import refused_page
from mycareer.organisations.forms import (
    EmployerContactForm,
    EmployerProfileForm,
    EmployerRegistrationForm,
    InvitationForm,
    MemberRoleForm,
    PreferencesForm,
    RegistrationDecisionForm,
)
from mycareer.organisations.models import (
    Contact,
    EmailOptOut,
    EmployerInvitation,
    EmployerMembership,
    Organisation,
    RegistrationRequest,
)
from mycareer.organisations.permissions import another_organisations
from mycareer.organisations.selectors import administrators_of
from mycareer.organisations.timeline import timeline_page


def _waiting_invitations(organisation: Organisation):
    return reg.waiting(organisation.invitations.select_related("invited_by"))


def _invitation(token: str) -> EmployerInvitation | None:
    if not token:
        return None
    return (
        reg.waiting(EmployerInvitation.objects.select_related("organisation"))
        .filter(token=token)
        .first()
    )


@require_http_methods(["GET", "POST"])
def register(request):
    """An employer registers themselves and their organisation, or asks to join one.

    Whether or not the address already has an account, the page says "check your
    email" and the email says what to do next: the form cannot be used to find out who
    has an account. Attempts are limited per address and per network.
    """
    token = request.POST.get("invite") or request.GET.get("invite", "")
    invitation = _invitation(token)
    if invitation is not None and (
        request.user.is_authenticated
        or User.objects.filter(email__iexact=invitation.email).exists()
    ):
        # Only the invitation's link leads here, so only its address's owner learns that
        # it has a login: they accept by signing in, not by registering again.
        return redirect("employer:invitation_accept", token=token)
    if invitation is None and reg.accepted_invitation(token) is not None:
        # Used already: its link now leads to logging in, and the page there says so.
        return redirect("employer:invitation_accept", token=token)
    if request.user.is_authenticated:
        return redirect("home")
    if token and invitation is None:
        messages.error(
            request,
            "This invitation has expired, was withdrawn or was already used: ask the "
            "colleague who invited you for a new one.",
        )
    form = EmployerRegistrationForm(request.POST or None, invitation=invitation)
    candidates = []
    status = 200
    choice = request.POST.get("organisation_choice", "")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        join = None
        if invitation is None and choice.startswith("join:"):
            join_id = choice[5:]
            join = (
                reg.joinable_organisations().filter(pk=int(join_id)).first()
                if join_id.isdigit() and len(join_id) < 19
                else None
            )
            if join is None:
                form.add_error(
                    None, "Choose one of the organisations listed, or register yours as new."
                )
        if invitation is None and join is None and choice != "new":
            candidates = _registration_candidates(data)
        if not candidates and form.is_valid():
            limited = reg.registration_rate_limited(email=data["email"], address=client_ip(request))
            if limited:
                form.add_error(None, limited)
                status = 429
            else:
                response = _register(request, form, data, join=join, invitation=invitation)
                if response is not None:
                    return response
    elif choice and invitation is None:
        # They were choosing among organisations like theirs: a mistake elsewhere (the
        # password to type again) keeps the list, and what they chose.
        candidates = _registration_candidates(
            {name: form.data.get(name, "") for name in ("organisation_name", "website", "email")}
        )
    return render(
        request,
        "organisations/employer/register.html",
        {
            "form": form,
            "candidates": candidates,
            "choice": choice,
            "chosen": int(choice[5:]) if choice[5:].isdigit() and len(choice) < 24 else None,
            "invitation": invitation,
            "token": token,
        },
        status=status,
    )


def _registration_candidates(data: dict) -> list:
    """Live organisations the registration may duplicate, with the reasons."""
    found = services.organisation_duplicates(
        name=data["organisation_name"], website=data.get("website", ""), emails=[data["email"]]
    )
    live = reg.joinable_organisations().in_bulk([c.organisation_id for c in found])
    return [(live[c.organisation_id], c.reasons) for c in found if c.organisation_id in live]


def _register(request, form, data: dict, *, join, invitation):
    """Make the account, or email the owner of the address: the same page either way."""
    try:
        reg.employer_register(
            full_name=data["full_name"],
            email=data["email"],
            password=data["password1"],
            job_title=data.get("job_title", ""),
            phone=data.get("phone", ""),
            join=join,
            organisation_name=data.get("organisation_name", ""),
            website=data.get("website", ""),
            ip_address=client_ip(request),
            invitation=invitation,
        )
    except ValidationError as error:
        add_validation_error(form, error)
        return None
    except reg.AccountExists as exists:
        # The same answer as a new account (the service took as long, checking the password).
        adapter = get_account_adapter(request)
        if not exists.repeat:
            adapter.send_account_already_exists_mail(exists.email)
        adapter.add_message(
            request,
            messages.INFO,
            "account/messages/email_confirmation_sent.txt",
            {"email": exists.email},
        )
        return redirect("account_email_verification_sent")
    user = User.objects.get(email=data["email"].strip().lower())
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": False}
    )
    return complete_signup(request, user, "mandatory", "/")


# Staff moderate registrations ------------------------------------------------------


@require_safe
@require("organisations.moderate_registrations")
def registrations(request):
    """The moderation queue: riskiest first, with the reasons."""
    show = request.GET.get("show", "pending")
    if show not in ("pending", "decided"):
        # A list it cannot name shows nothing, rather than the decided ones as if asked.
        context = {"page": None, "show": show, "refused": True}
        return render(request, "organisations/employer/registrations.html", context, status=400)
    queryset = RegistrationRequest.objects.select_related("user", "organisation", "decided_by")
    if show == "pending":
        queryset = queryset.filter(status=RegistrationRequest.Status.PENDING)
    else:
        queryset = queryset.exclude(status=RegistrationRequest.Status.PENDING).order_by(
            "-decided_at"
        )
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "organisations/employer/registrations.html",
        {"page": page, "show": show, "querystring": f"show={show}"},
    )


def _registration(registration_id: int) -> RegistrationRequest:
    return get_object_or_404(
        RegistrationRequest.objects.select_related("user", "organisation", "decided_by"),
        pk=registration_id,
    )


@require_http_methods(["GET", "POST"])
@require("organisations.moderate_registrations")
def registration_detail(request, registration_id: int):
    registration = _registration(registration_id)
    form = RegistrationDecisionForm(
        request.POST or None, initial={"seen": reg.registration_version(registration)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            reg.registration_decide(
                registration=registration,
                approve=form.cleaned_data["decision"] == "approve",
                by=request.user,
                reason=form.cleaned_data["reason"],
                seen=form.cleaned_data["seen"] or None,
            )
        except ValidationError as error:
            add_validation_error(form, error)
            # The page now shows the registration as it is: deciding again decides on that.
            registration = _registration(registration_id)
            data = request.POST.copy()
            data["seen"] = reg.registration_version(registration)
            form.data = data
        else:
            messages.success(request, "The decision is recorded and emailed to the employer.")
            return redirect("organisations:registrations")
    pending = registration.status == RegistrationRequest.Status.PENDING
    refused = None
    if request.method == "POST" and not pending:
        # Decided by someone else before or while this one was pressed: say by whom.
        refused = reg.already_decided_text(registration)
    duplicates = []
    if registration.kind == RegistrationRequest.Kind.NEW_ORGANISATION:
        found = services.organisation_duplicates(
            name=registration.organisation.name,
            website=registration.organisation.website,
            emails=[registration.user.email],
            exclude=[registration.organisation_id],
        )
        orgs = Organisation.objects.in_bulk([c.organisation_id for c in found])
        duplicates = [
            (orgs[c.organisation_id], c.reasons) for c in found if c.organisation_id in orgs
        ]
    return render(
        request,
        "organisations/employer/registration_detail.html",
        {
            "registration": registration,
            "form": form if pending else None,
            "refused": refused,
            "duplicates": duplicates,
            # A registration waiting too, or an archived record, is not merged into from here.
            "mergeable": any(org.status == Organisation.Status.ACTIVE for org, _ in duplicates),
            "confirmed": reg.email_confirmed(registration.user),
            "takes_it_on": pending
            and registration.kind == RegistrationRequest.Kind.JOIN
            and reg.without_an_administrator(registration.organisation),
        },
    )


# Employers look after their own organisation ---------------------------------------


def _membership(request, *, admin: bool) -> EmployerMembership:
    """The employer's active membership; admin pages also need the admin role."""
    membership = (
        EmployerMembership.objects.select_related("organisation")
        .filter(user=request.user, status=EmployerMembership.Status.ACTIVE)
        .order_by("-is_admin")
        .first()
    )
    if membership is None:
        raise PermissionDenied(reg.why_signed_in_for_none(request.user))
    if admin:
        check_perm(request.user, "organisations.manage_own_organisation", membership.organisation)
    return membership


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def profile(request):
    """Administrators change the profile; members see it, as their invitation said."""
    membership = _membership(request, admin=request.method == "POST")
    organisation = membership.organisation
    # The form works on a copy: a refused value must not count as saved in the page.
    form = EmployerProfileForm(
        request.POST or None, request.FILES or None, instance=copy.copy(organisation)
    )
    if request.method == "POST" and form.is_valid():
        fresh = Organisation.objects.get(pk=organisation.pk)
        try:
            # An employer is never shown the records a duplicate check would name; staff
            # merge two records of one organisation when they find them.
            changed = services.organisation_update(
                organisation=fresh, by=request.user, confirm_duplicates=True, **form.cleaned_data
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            saved(request, changed, "Your organisation's profile is saved.")
            return redirect("employer:profile")
    percent, missing = reg.profile_completeness(organisation)
    return render(
        request,
        "organisations/employer/profile.html",
        {
            "form": form,
            "organisation": organisation,
            "percent": percent,
            "missing": missing,
            "membership": membership,
            "administrators": [] if membership.is_admin else administrators_of(organisation),
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def contacts(request):
    """The organisation's contacts, with who students may see; admins invite colleagues."""
    membership = _membership(request, admin=False)
    organisation = membership.organisation
    invite_form = InvitationForm(request.POST or None) if membership.is_admin else None
    if request.method == "POST":
        if invite_form is None:
            raise PermissionDenied("Only your organisation's administrators can invite colleagues.")
        if invite_form.is_valid():
            try:
                reg.invitation_create(
                    organisation=organisation,
                    email=invite_form.cleaned_data["email"],
                    by=request.user,
                )
            except ValidationError as error:
                add_validation_error(invite_form, error)
            else:
                messages.success(
                    request, f"We emailed an invitation to {invite_form.cleaned_data['email']}."
                )
                return redirect("employer:contacts")
    members = list(selectors.members_of(organisation))
    return render(
        request,
        "organisations/employer/contacts.html",
        {
            "organisation": organisation,
            "membership": membership,
            "contacts": organisation.contacts.select_related("visibility_changed_by"),
            "members": members,
            # Nobody to "tell" or to "decide" for its members: the page says who can help.
            "administered": any(m.is_admin for m in members),
            "invite_form": invite_form,
            "invitations": _waiting_invitations(organisation)[:20],
        },
    )


def _refuse_if_another_organisations(request, records, pk: int, kind: str) -> None:
    """Not found on the employer's own organisation: one of another organisation's is
    refused saying so (its number typed or forwarded), never what it holds; a number that
    is nobody's stays not found."""
    if records.filter(pk=pk).exists():
        raise another_organisations(request.user, kind)


def _member(
    request, membership_id: int, *, own_allowed: bool = False
) -> tuple[EmployerMembership, EmployerMembership]:
    """(the administrator acting, the colleague's membership): another organisation's
    members are not found. With `own_allowed`, a member acting on their own membership
    (leaving) need not be an administrator."""
    mine = _membership(request, admin=False)
    if not (own_allowed and mine.pk == membership_id):
        mine = _membership(request, admin=True)
    member = (
        EmployerMembership.objects.select_related("user", "organisation")
        .filter(
            pk=membership_id,
            organisation=mine.organisation,
            status=EmployerMembership.Status.ACTIVE,
        )
        .first()
    )
    if member is None:
        _refuse_if_another_organisations(
            request,
            EmployerMembership.objects.exclude(organisation=mine.organisation),
            membership_id,
            "person",
        )
        raise Http404("No such member.")
    return mine, member


@require_http_methods(["POST"])
@require("organisations.use_employer_pages")
def member_role(request, membership_id: int):
    """Make a colleague an administrator, or a member only (the form says which)."""
    _, member = _member(request, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether they are an administrator or a member.")
        return redirect("employer:contacts")
    is_admin = form.cleaned_data["role"] == "admin"
    try:
        reg.membership_set_admin(membership=member, is_admin=is_admin, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        who, sees = (
            ("You are", "you see")
            if member.user_id == request.user.pk
            else (f"{member.user} is", "they see")
        )
        role = "an administrator." if is_admin else f"a member: {sees} but do not change."
        messages.success(request, f"{who} now {role}")
    return redirect("employer:contacts")


@require_http_methods(["POST"])
@require("organisations.use_employer_pages")
def invitation_withdraw(request, invitation_id: int):
    """Withdraw an invitation not yet used; its link stops working at once."""
    organisation = _membership(request, admin=True).organisation
    invitation = _waiting_invitations(organisation).filter(pk=invitation_id).first()
    if invitation is None:
        if not organisation.invitations.filter(pk=invitation_id).exists() and not was_recorded(
            organisation, "organisations.invitation.withdrawn", invitation=invitation_id
        ):
            _refuse_if_another_organisations(
                request, EmployerInvitation.objects, invitation_id, "invitation"
            )
            raise Http404("No such invitation.")
        messages.info(request, "That invitation was already used, withdrawn or out of date.")
        return redirect("employer:contacts")
    reg.invitation_withdraw(invitation=invitation, by=request.user)
    messages.success(
        request, f"The invitation to {invitation.email} is withdrawn: its link no longer works."
    )
    return redirect("employer:contacts")


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """Someone with a login accepts an invitation: they sign in as its address, and join."""
    invitation = _invitation(token)
    if not request.user.is_authenticated:
        if invitation is not None:
            messages.info(
                request,
                f"{invitation.email} has a MyCareer login: sign in with it to accept the "
                f"invitation to join {invitation.organisation}.",
            )
        elif (accepted := reg.accepted_invitation(token)) is not None:
            messages.info(request, reg.invitation_accepted_text(accepted))
        return redirect_to_login(request.get_full_path())
    if invitation is None:
        used = reg.accepted_invitation(token)
        if used is not None and used.organisation.memberships.filter(
            user=request.user, status=EmployerMembership.Status.ACTIVE
        ):
            messages.info(request, f"You sign in for {used.organisation}.")  # pressed twice
            return redirect("employer:contacts")
        raise Http404("This invitation has expired, was withdrawn or was already used.")
    refusal = reg.invitation_refusal(invitation, request.user)
    if request.method == "POST" and not refusal:
        try:
            reg.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            messages.success(request, f"You now sign in for {invitation.organisation}.")
            return redirect("employer:contacts")
    return render(
        request,
        "organisations/employer/invitation_accept.html",
        {
            "invitation": invitation,
            "refusal": refusal,
            "ending": [] if refusal else _ended_by_accepting(invitation, request.user),
        },
        status=403 if refusal else 200,
    )


def _ended_by_accepting(invitation, user) -> list[tuple[EmployerMembership, str]]:
    """The memberships accepting ends, each with what it leaves where the person is the
    last of all who sign in there."""
    return [
        (
            membership,
            reg.no_administrator_text(membership.organisation, left=0)
            if membership.status == EmployerMembership.Status.ACTIVE
            and reg.left_without_an_administrator(membership, ending=True) == 0
            else "",
        )
        for membership in reg.memberships_ended_by_accepting(invitation, user)
    ]


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def member_remove(request, membership_id: int):
    """End a colleague's (or one's own) membership, after a page that says what it ends."""
    try:
        mine, member = _member(request, membership_id, own_allowed=True)
    except Http404:
        organisation = _membership(request, admin=True).organisation
        if request.method != "POST" or not was_recorded(
            organisation, "organisations.membership.ended", membership=membership_id
        ):
            raise
        messages.info(request, "That person is no longer a member.")  # pressed twice
        return redirect("employer:contacts")
    yourself = member.pk == mine.pk
    if request.method == "POST":
        try:
            reg.membership_end(membership=member, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("employer:contacts")
        if yourself:
            messages.success(request, f"You are no longer a member of {member.organisation}.")
            return redirect("home")
        messages.success(request, f"{member.user} can no longer sign in for {member.organisation}.")
        return redirect("employer:contacts")
    left = reg.left_without_an_administrator(member, ending=True)
    return render(
        request,
        "organisations/employer/member_remove.html",
        {
            "member": member,
            "yourself": yourself,
            "organisation": member.organisation,
            "refused": reg.last_administrator_text(member.organisation) if left else "",
            # The last person of all may leave; the page says what that leaves.
            "no_administrator": reg.no_administrator_text(member.organisation, left=0)
            if left == 0
            else "",
            # Whether an administrator stays to invite them again.
            "administered": selectors.administrators_besides(
                member.organisation, besides=member
            ).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def contact_form(request, contact_id: int | None = None):
    membership = _membership(request, admin=True)
    organisation = membership.organisation
    contact = None
    if contact_id is not None:
        contact = Contact.objects.filter(pk=contact_id, organisation=organisation).first()
        if contact is None:
            _refuse_if_another_organisations(request, Contact.objects, contact_id, "person")
            raise Http404("No such person.")
        refusal = refused_page(request, contact, action="changed", back="employer:contacts")
        if refusal:
            return refusal
    form = EmployerContactForm(request.POST or None, instance=copy.copy(contact))
    if request.method == "POST" and form.is_valid():
        # A colleague added back by hand, even with an erased person's address, is taken
        # without a notice: that the address was erased is not the employer's to learn.
        try:
            if contact is None:
                services.contact_create(
                    organisation=organisation, by=request.user, **form.cleaned_data
                )
                changed = {"created": True}
            else:
                fresh = Contact.objects.get(pk=contact.pk)
                changed = services.contact_update(
                    contact=fresh, by=request.user, **form.cleaned_data
                )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            saved(request, changed, "The contact is saved.")
            return redirect("employer:contacts")
    return render(
        request,
        "organisations/employer/contact_form.html",
        {"form": form, "contact": contact, "organisation": organisation},
    )


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def contact_remove(request, contact_id: int):
    """Remove a person who left, after a page that says what it removes."""
    membership = _membership(request, admin=True)
    organisation = membership.organisation
    try:
        contact = Contact.objects.get(pk=contact_id, organisation=organisation)
    except Contact.DoesNotExist:
        if request.method == "POST" and was_recorded(
            Contact(pk=contact_id), "organisations.contact.deleted", organisation=organisation.pk
        ):
            messages.info(request, "That person was already removed.")  # pressed twice
            return redirect("employer:contacts")
        _refuse_if_another_organisations(request, Contact.objects, contact_id, "person")
        raise Http404("No such person.") from None
    if refusal := refused_page(request, contact, action="deleted", back="employer:contacts"):
        return refusal
    if request.method == "POST":
        try:
            services.contact_remove_by_employer(contact=contact, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("employer:contact_edit", contact.pk)
        messages.success(request, f"{contact.full_name} is removed from {organisation}.")
        return redirect("employer:contacts")
    return render(
        request,
        "organisations/employer/contact_remove.html",
        {"contact": contact, "organisation": organisation},
    )


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def preferences(request):
    """An employer contact chooses which kinds of bulk email they receive."""
    contact = Contact.objects.filter(user=request.user).select_related("organisation").first()
    if contact is None:
        # Asking to join, or declined: a page that says why, never "Page not found".
        return render(
            request,
            "organisations/employer/preferences.html",
            {"nothing_to_choose": reg.why_no_email_choices(request.user)},
        )
    form = PreferencesForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        wanted = form.save(method=EmailOptOut.Method.FORM, by=request.user)
        saved(request, wanted is not None, "Your email preferences are saved.")
        return redirect("employer:preferences")
    return render(
        request, "organisations/employer/preferences.html", {"form": form, "contact": contact}
    )


@require_safe
@require("organisations.use_employer_pages")
def activity(request):
    """All the organisation's activity with the university in one place (no staff-only notes)."""
    membership = _membership(request, admin=False)
    timeline, entries, more = timeline_page(request, membership.organisation, staff=False)
    return render(
        request,
        "organisations/employer/activity.html",
        {
            "organisation": membership.organisation,
            "entries": entries,
            "page": timeline["page"],
            "more": more,
            "timeline": timeline,
        },
    )
