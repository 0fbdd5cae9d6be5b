import copy
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mycareer.accounts.models import User
from mycareer.accounts.permissions import AccessDenied, check_perm, why_not
from mycareer.audit.selectors import was_recorded
from mycareer.core.forms import (
    add_validation_error,
    already_saved,
    bounded_ids,
    remember_saved,
)
from mycareer.core.http import safe_next, saved
from mycareer.core.pagination import Paginator
from mycareer.core.permissions import require
from mycareer.organisations.models import Organisation
from mycareer.organisations.permissions import another_organisations
from mycareer.organisations.registration import why_signed_in_for_none
from mycareer.organisations.selectors import administrators_besides
from mycareer.vacancies import selectors, services
from mycareer.vacancies.forms import (
    ModerationForm,
    VacancyForm,
    VacancySearchForm,
    WithdrawForm,
    organisations_to_post_for,
)
from mycareer.vacancies.models import Vacancy

Status = Vacancy.Status


def _querystring(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _managed_vacancy(request, pk: int) -> Vacancy:
    """A vacancy the person may change: 404 for strangers, 403 (with why) for readers and
    for other organisations' employers."""
    vacancy = get_object_or_404(selectors.vacancy_with_details(), pk=pk)
    user = request.user
    if user.has_perm("vacancies.change_vacancy", vacancy):
        return vacancy
    if user.has_perm("vacancies.view_vacancy_record", vacancy):
        if user.kind == User.Kind.EMPLOYER:
            raise PermissionDenied(
                "Only your organisation's administrators can change its vacancies."
            )
        raise AccessDenied(why_not(user, "vacancies.change_vacancy"))
    if user.kind == User.Kind.EMPLOYER:
        raise another_organisations(user, "vacancy")
    raise Http404("No such vacancy.")


# Students (and staff) --------------------------------------------------------------


@require_safe
@login_required
def browse(request):
    """Open vacancies a student may apply for, their own faculty's first, with a search."""
    user = request.user
    if user.kind == User.Kind.EMPLOYER and not user.is_superuser:
        return redirect("vacancies:mine")
    check_perm(user, "vacancies.browse_vacancies")
    form = VacancySearchForm(request.GET or None, strict=True)
    if form.is_bound and not form.is_valid():
        # A wrong or unknown filter: the page says which rather than listing every vacancy.
        return render(
            request, "vacancies/browse.html", {"form": form, "page": None, "searching": True}
        )
    filters = form.cleaned_data if form.is_bound else {}
    vacancies = selectors.search(
        selectors.vacancies_for(user),
        text=filters.get("q", ""),
        type=filters.get("type", ""),
        location=filters.get("location", ""),
        programme=filters.get("programme"),
        closing_soon=filters.get("closing_soon", False),
        remote=filters.get("remote", False),
    )
    page = Paginator(vacancies, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "vacancies/browse.html",
        {
            "form": form,
            "page": page,
            "querystring": _querystring(request),
            "searching": any(filters.values()),
            "closing_soon_days": selectors.CLOSING_SOON_DAYS,
            "soon": timezone.localdate() + datetime.timedelta(days=selectors.CLOSING_SOON_DAYS),
        },
    )


@require_safe
@login_required
def detail(request, pk: int):
    """A vacancy's record for staff and its organisation; the advert for students."""
    vacancy = get_object_or_404(selectors.vacancy_with_details(), pk=pk)
    user = request.user
    if user.has_perm("vacancies.view_vacancy_record", vacancy):
        return render(
            request,
            "vacancies/record.html",
            {
                "vacancy": vacancy,
                # Closed, its waiting changes are dropped, whether or not the job has run.
                "changes": []
                if vacancy.has_closed
                else selectors.pending_diffs([vacancy]).get(vacancy.pk, []),
                "history": selectors.vacancy_story(vacancy, viewer=user),
                "may_change": user.has_perm("vacancies.change_vacancy", vacancy),
                "may_moderate": user.has_perm("vacancies.moderate_vacancy"),
                "staff": user.has_perm("mycareer.view_staff_pages"),
            },
        )
    if selectors.is_visible_to(user, vacancy):
        return render(request, "vacancies/detail.html", {"vacancy": vacancy})
    if (
        user.is_student
        and (
            vacancy.status in (Status.APPROVED, Status.CLOSED)
            # Taken down once it was live; a draft withdrawn was never anyone's to see.
            or was_recorded(vacancy, "vacancies.vacancy.withdrawn", previous=Status.APPROVED)
        )
        and vacancy.organisation.status != Organisation.Status.PENDING
    ):
        # A student sent a link to an advert that was published: say why it does not open
        # for them (it was a 404 that blamed the link), never what it says.
        is_open = selectors.open_vacancies().filter(pk=vacancy.pk).exists()
        return render(
            request,
            "vacancies/not_for_you.html",
            {"vacancy": vacancy, "closed": not is_open},
            status=403,
        )
    if user.kind == User.Kind.EMPLOYER:
        raise another_organisations(user, "vacancy")
    raise Http404("No such vacancy.")


# Employers -------------------------------------------------------------------------


@require_safe
@require("organisations.use_employer_pages")
def mine(request):
    """The employer's vacancies and where each stands."""
    page = Paginator(selectors.vacancies_of_employer(request.user), 25).get_page(
        request.GET.get("page")
    )
    organisations = list(selectors.organisations_of(request.user))
    return render(
        request,
        "vacancies/mine.html",
        {
            "page": page,
            "organisations": organisations,
            "outside": "" if organisations else why_signed_in_for_none(request.user),
            "may_add": selectors.organisations_of(request.user, admin=True).exists(),
        },
    )


def _administrators_only(user) -> str:
    """Why a member may not add a vacancy, and whom to ask: an administrator, or, where
    their organisation has none, the Careers Centre, whose staff can appoint one; one who
    signs in for no organisation is told why, not that "theirs" has no administrator."""
    organisations = selectors.organisations_of(user)
    if not organisations.exists():
        return why_signed_in_for_none(user)
    if administrators_besides(organisations).exists():
        return (
            "Only your organisation's administrators can add vacancies: ask one of them, "
            "or the Careers Centre."
        )
    return (
        "Only an organisation's administrators can add vacancies, and yours has none on "
        "MyCareer just now: ask the Careers Centre, whose staff can make one of you its "
        "administrator."
    )


@require_http_methods(["GET", "POST"])
@require("organisations.use_employer_pages")
def create(request):
    """An employer admin drafts a vacancy, and may send it for moderation straight away."""
    organisations = selectors.organisations_of(request.user, admin=True)
    count = organisations.count()
    if not count:
        raise PermissionDenied(_administrators_only(request.user))
    form = VacancyForm(request.POST or None, organisations=organisations if count > 1 else None)
    if request.method == "POST" and form.is_valid():
        if sent_before := already_saved(request, form):
            return sent_before
        data = dict(form.cleaned_data)
        organisation = data.pop("organisation", None) or organisations.get()
        submit = request.POST.get("action") == "submit"
        try:
            vacancy = services.vacancy_create(
                organisation=organisation, by=request.user, submit=submit, **data
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            if submit:
                messages.success(
                    request,
                    "Your vacancy is sent for moderation. We email you when it is decided.",
                )
            else:
                messages.success(request, "Your draft is saved. Send it for moderation when ready.")
            remember_saved(request, form, vacancy.get_absolute_url())
            return redirect(vacancy)
    return render(request, "vacancies/form.html", {"form": form, "creating": True})


@require_http_methods(["GET", "POST"])
@require("vacancies.post_for_employer")
def post_for_employer(request):
    """Staff post a vacancy on an employer's behalf: it is live at once."""
    organisations = organisations_to_post_for()
    initial = {}
    chosen = bounded_ids([request.GET.get("organisation", "")])
    if chosen:
        initial["organisation"] = organisations.filter(pk=chosen[0]).first()
    form = VacancyForm(request.POST or None, organisations=organisations, initial=initial)
    if request.method == "POST" and form.is_valid():
        if sent_before := already_saved(request, form):
            return sent_before
        data = dict(form.cleaned_data)
        organisation = data.pop("organisation")
        try:
            vacancy = services.vacancy_create(organisation=organisation, by=request.user, **data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, f"The vacancy is posted for {organisation}.")
            remember_saved(request, form, vacancy.get_absolute_url())
            return redirect(vacancy)
    return render(request, "vacancies/form.html", {"form": form, "creating": True, "posting": True})


@require_http_methods(["GET", "POST"])
@login_required
def edit(request, pk: int):
    vacancy = _managed_vacancy(request, pk)
    if vacancy.status == Status.WITHDRAWN or vacancy.has_closed:
        finished = "withdrawn" if vacancy.status == Status.WITHDRAWN else "closed"
        messages.error(request, f"This vacancy is {finished}, so it can no longer be changed.")
        return redirect(vacancy)
    as_staff = services.is_moderator(request.user)
    # An employer carries on editing their waiting changes, not the live version.
    initial = {} if as_staff else VacancyForm.proposed_initial(vacancy)
    # The form works on a copy, so the page keeps the saved title and status on errors.
    form = VacancyForm(request.POST or None, instance=copy.copy(vacancy), initial=initial)
    if request.method == "POST" and form.is_valid():
        was, waiting = vacancy.status, vacancy.pending_changes
        try:
            changed = services.vacancy_update(
                vacancy=vacancy,
                by=request.user,
                submit=request.POST.get("action") == "submit",
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            vacancy.refresh_from_db()
            if was == Status.APPROVED and not as_staff:
                if vacancy.has_pending_edit and vacancy.pending_changes == waiting:
                    messages.info(
                        request, "Nothing was changed: your changes still wait for moderation."
                    )
                elif vacancy.has_pending_edit:
                    messages.success(
                        request,
                        "Your changes are sent for moderation. Students see the approved "
                        "version until they are approved.",
                    )
                else:
                    messages.info(request, "Nothing differs from the live version now.")
            elif vacancy.status == Status.SUBMITTED and was != Status.SUBMITTED:
                messages.success(request, "Saved and sent for moderation.")
            else:
                saved(request, changed, "The vacancy is saved.")
            return redirect(vacancy)
    return render(
        request,
        "vacancies/form.html",
        {"form": form, "vacancy": vacancy, "as_staff": as_staff},
    )


@require_POST
@login_required
def submit(request, pk: int):
    vacancy = _managed_vacancy(request, pk)
    try:
        services.vacancy_submit(vacancy=vacancy, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"“{vacancy.title}” is sent for moderation. We email you when it is decided."
        )
    return redirect(safe_next(request, vacancy.get_absolute_url()))


@require_http_methods(["GET", "POST"])
@login_required
def withdraw(request, pk: int):
    vacancy = _managed_vacancy(request, pk)
    # Staff give a reason, emailed to whoever manages the organisation's vacancies in
    # MyCareer (perhaps nobody, which the page says); its own admins need none.
    as_staff = services.is_moderator(request.user)
    emailed = services.vacancy_withdrawal_recipients(vacancy) if as_staff else []
    form = WithdrawForm(request.POST or None, emailed=bool(emailed)) if as_staff else None
    if request.method == "POST" and (form is None or form.is_valid()):
        reason = form.cleaned_data["reason"] if form else ""
        try:
            services.vacancy_withdraw(vacancy=vacancy, by=request.user, reason=reason)
        except ValidationError as error:
            if form is not None and hasattr(error, "error_dict"):
                add_validation_error(form, error)  # the reason: the page keeps what was typed
            else:
                messages.error(request, " ".join(error.messages))
                return redirect(vacancy)
        else:
            told = _withdrawal_told(vacancy, emailed) if as_staff else ""
            messages.success(request, f"“{vacancy.title}” is withdrawn.{told}")
            return redirect(vacancy)
    return render(
        request, "vacancies/withdraw.html", {"vacancy": vacancy, "form": form, "emailed": emailed}
    )


def _withdrawal_told(vacancy: Vacancy, emailed: list[str]) -> str:
    organisation = vacancy.organisation.name
    if emailed:
        return f" {organisation} is told by email."
    return (
        f" Nobody at {organisation} signs in to MyCareer to manage its vacancies,"
        " so nobody there is emailed."
    )


# Moderation ------------------------------------------------------------------------


@require_safe
@require("vacancies.view_moderation_queue")
def moderation(request):
    """Submitted vacancies and changes to live ones, the longest waiting first."""
    page = Paginator(selectors.moderation_queue(), 20).get_page(request.GET.get("page"))
    vacancies = list(page.object_list)
    diffs = selectors.pending_diffs(vacancies)
    return render(
        request,
        "vacancies/moderation.html",
        {
            "page": page,
            "items": [(vacancy, diffs.get(vacancy.pk, [])) for vacancy in vacancies],
            "may_moderate": request.user.has_perm("vacancies.moderate_vacancy"),
        },
    )


@require_http_methods(["GET", "POST"])
@require("vacancies.moderate_vacancy")
def moderate(request, pk: int):
    """Approve, or reject with a reason, a submitted vacancy or the changes to a live one."""
    vacancy = get_object_or_404(selectors.vacancy_with_details(), pk=pk)
    editing = vacancy.status == Status.APPROVED and vacancy.has_pending_edit
    editing = editing and not vacancy.has_closed
    if vacancy.status != Status.SUBMITTED and not editing:
        messages.info(request, "This vacancy is not waiting for moderation.")
        return redirect(vacancy)
    form = ModerationForm(
        request.POST or None, edit=editing, initial={"seen": vacancy.updated_at.isoformat()}
    )
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        reason = form.cleaned_data["reason"]
        decided = {"vacancy": vacancy, "by": request.user, "seen": form.cleaned_data["seen"]}
        try:
            if editing and approve:
                services.vacancy_approve_edit(**decided)
            elif editing:
                services.vacancy_reject_edit(**decided, reason=reason)
            elif approve:
                services.vacancy_approve(**decided)
            else:
                services.vacancy_reject(**decided, reason=reason)
        except ValidationError as error:
            add_validation_error(form, error)
            # The page now shows the vacancy as it is: deciding again decides on that.
            data = request.POST.copy()
            data["seen"] = vacancy.updated_at.isoformat()
            form.data = data
        else:
            what = f"the changes to “{vacancy.title}”" if editing else f"“{vacancy.title}”"
            verb = "Approved" if approve else "Rejected"
            messages.success(request, f"{verb} {what}. The organisation is told by email.")
            return redirect("vacancies:moderation")
    return render(
        request,
        "vacancies/moderate.html",
        {
            "vacancy": vacancy,
            "form": form,
            "editing": editing,
            "changes": selectors.pending_diffs([vacancy]).get(vacancy.pk, []),
        },
    )
