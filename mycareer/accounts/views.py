from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods

from mycareer import audit
from mycareer.accounts import selectors, services, signin
from mycareer.accounts.forms import (
    AccessGrantForm,
    AccessRevokeForm,
    AttendanceForm,
    ExpiringFilterForm,
    StaffFilterForm,
    StaffProfileForm,
    TermsConfirmForm,
    TermsPublishForm,
    TrainingSessionForm,
)
from mycareer.accounts.models import AccessGrant, AccessLevel, TrainingRecord, TrainingSession, User
from mycareer.accounts.permissions import (
    Action,
    access_for,
    current_terms,
    has_accepted_current_terms,
    staff_bound_by_terms,
)
from mycareer.audit.selectors import audit_for_person
from mycareer.core.forms import add_validation_error, bounded_ids, bounded_int
from mycareer.core.http import safe_next, saved
from mycareer.core.models import FailedTask
from mycareer.core.pagination import Paginator
from mycareer.core.permissions import require
from mycareer.core.text import counted
from mycareer.core.views import visible_panels


@require("accounts.view_own_access")
def my_access(request):
    """What I may do now, why not, my training and the sessions I can book."""
    access = access_for(request.user)
    rows = [
        {
            "verb": Action.VERB[action],
            "allowed": access.can(action),
            "reason": access.why_not(action),
        }
        for action in Action.ALL
    ]
    records = request.user.training_records.select_related("course", "session").order_by(
        "-created_at"
    )
    booked_sessions = {r.session_id for r in records if r.session_id}
    return render(
        request,
        "accounts/my_access.html",
        {
            "access": access,
            "rows": rows,
            "records": records,
            "sessions": selectors.training_sessions_bookable(),
            "booked_sessions": booked_sessions,
            "today": timezone.localdate(),
        },
    )


@require("accounts.view_own_access")
@require_http_methods(["GET", "POST"])
def profile(request):
    """A member of staff shapes their profile: what colleagues see, their emails, their home."""
    user = request.user
    panels = [panel for panel, _ in visible_panels(request)]
    if request.method == "POST" and request.POST.get("move"):
        template, _, direction = request.POST["move"].rpartition(":")
        try:
            services.dashboard_order_move(
                user=user,
                panel=template,
                offset=-1 if direction == "up" else 1,
                shown=[panel.template for panel in panels],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(f"{reverse('accounts:profile')}#home-page")
        # Back at the panel moved, so the keyboard carries on from it.
        return redirect(f"{reverse('accounts:profile')}#order-{slugify(template)}")
    fresh = User.objects.get(pk=user.pk)
    # The form writes what was typed onto its instance even when it refuses it: the card
    # of how colleagues see you must stay the saved one, not the refused phone or photo.
    form = StaffProfileForm(
        request.POST or None, request.FILES or None, instance=User.objects.get(pk=user.pk)
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("job_title", "phone", "about")}
        data["notification_mode"] = form.cleaned_data["notification_mode"]
        data["notifications_off"] = form.notifications_off()
        data["photo"] = form.cleaned_data["photo"] if "photo" in form.changed_data else None
        try:
            changed = services.staff_profile_update(
                user=User.objects.get(pk=user.pk), by=user, **data
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            saved(request, changed, "Your profile is saved.")
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "person": fresh, "panels": panels},
    )


@require_http_methods(["GET", "POST"])
def terms(request):
    """The current usage terms; staff accept them here before using MyCareer."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.kind != User.Kind.STAFF:
        raise Http404
    current = current_terms()
    if current is None:
        raise Http404("No terms have been published yet.")
    accepted = has_accepted_current_terms(request.user)
    if request.method == "POST":
        if request.POST.get("accept") != "yes":
            messages.error(request, "Tick the box to confirm that you accept the terms.")
        else:
            services.terms_accept(user=request.user, terms=current)
            messages.success(
                request, f"Thank you: you accepted version {current.version} of the terms."
            )
            return redirect(safe_next(request, "/"))
    return render(
        request,
        "accounts/terms.html",
        {"terms": current, "accepted": accepted, "next": safe_next(request, "/")},
    )


@require_http_methods(["GET", "POST"])
def terms_publish(request):
    """Write new terms, preview them with how many people must accept, confirm, publish."""
    if (
        request.method == "POST"
        and request.POST.get("step") == "publish"
        and request.user.is_authenticated
    ):
        form = TermsPublishForm(request.POST)
        if form.is_valid():
            published = services.terms_published_by(user=request.user, **form.cleaned_data)
            if published is not None:
                # Pressed twice: the first press published it, and its publisher, like
                # everyone else, may not administer again until accepting it.
                messages.info(request, services.TermsAlreadyPublished(published).messages[0])
                return redirect("accounts:terms")
    return _terms_publish(request)


@require("mycareer.administer")
def _terms_publish(request):
    asked = staff_bound_by_terms().count()
    # A new version is usually the current one changed: it starts from that text.
    current = current_terms()
    initial = {"title": current.title, "body": current.body} if current else {}
    form = TermsPublishForm(request.POST or None, initial=initial, current=current)
    step = request.POST.get("step", "")
    context = {"form": form, "asked": asked, "people": counted(asked, "person", "people")}
    if request.method != "POST" or step == "edit" or not form.is_valid():
        return render(request, "accounts/terms_publish.html", context)
    data = form.cleaned_data
    confirm = TermsConfirmForm(
        request.POST if step == "publish" else None, asked=asked, version=data["version"]
    )
    try:
        services.terms_check_new(**data)
        if step == "publish" and confirm.is_valid():
            # The number the page showed: the service refuses it if it is out of date.
            seen = bounded_int(request.POST.get("expected"))
            if seen is None:
                messages.error(request, f"Confirm again that {context['people']} must accept it.")
                confirm = TermsConfirmForm(asked=asked, version=data["version"])
            else:
                terms = services.terms_publish(by=request.user, **data, confirmed=seen)
                messages.success(
                    request,
                    f"Version {terms.version} is published: {context['people']} will be asked "
                    "to accept it before they go on.",
                )
                return redirect("accounts:terms")
    except services.TermsAlreadyPublished as error:
        messages.info(request, error.messages[0])
        return redirect("accounts:terms")
    except services.TermsAudienceChanged as error:
        messages.error(request, error.messages[0])
        confirm = TermsConfirmForm(asked=asked, version=data["version"])
    except ValidationError as error:
        add_validation_error(form, error)
        return render(request, "accounts/terms_publish.html", context)
    # The same words again ask everyone to accept what they accepted: said before it is.
    unchanged = current is not None and (current.title, current.body) == (
        data["title"],
        data["body"],
    )
    return render(
        request,
        "accounts/terms_publish_confirm.html",
        {**context, "confirm": confirm, "unchanged_from": current if unchanged else None},
    )


@require("mycareer.administer")
def access_list(request):
    """Administrators: every member of staff with level, training and terms."""
    form = StaffFilterForm(request.GET or None)
    staff = selectors.staff_with_access()
    if form.is_bound and not form.is_valid():
        # A level it does not know lists nobody, never everyone under the error.
        staff = staff.none()
    elif form.is_valid():
        if q := form.cleaned_data["q"]:
            staff = staff.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
        level = form.cleaned_data["level"]
        if level == "none":
            staff = staff.filter(grant_level__isnull=True)
        elif level:
            staff = staff.filter(grant_level=int(level))
    page = Paginator(staff, 50).get_page(request.GET.get("page"))
    levels = dict(AccessLevel.choices)
    return render(
        request,
        "accounts/access_list.html",
        {"form": form, "page": page, "levels": levels},
    )


@require("mycareer.administer")
@require_http_methods(["GET", "POST"])
def access_edit(request, user_id: int):
    """Administrators grant or revoke one person's access level."""
    person = get_object_or_404(User, pk=user_id, kind=User.Kind.STAFF)
    grant = AccessGrant.objects.filter(user=person, revoked_at__isnull=True).first()
    # Both forms have a "note": ids of their own, so each label names its own box.
    grant_form = AccessGrantForm(
        request.POST if request.POST.get("do") == "grant" else None,
        initial={"level": grant.level if grant else AccessLevel.VIEWER},
        auto_id="id_grant_%s",
    )
    revoke_form = AccessRevokeForm(
        request.POST if request.POST.get("do") == "revoke" else None, auto_id="id_revoke_%s"
    )
    if request.method == "POST":
        if request.POST.get("do") == "grant" and grant_form.is_valid():
            level = AccessLevel(grant_form.cleaned_data["level"])
            note = grant_form.cleaned_data["note"]
            try:
                granted = services.access_grant(
                    user=person, level=level, by=request.user, note=note
                )
            except ValidationError as error:
                # On the form, with the reason typed kept.
                grant_form.add_error(None, error)
            else:
                if grant is not None and granted.pk == grant.pk:
                    # The level they have: nothing is granted, so nothing (nor the reason)
                    # is kept.
                    messages.info(
                        request,
                        f"{person} already has the {level.label} level: nothing was changed"
                        + (", and the reason was not recorded." if note else "."),
                    )
                else:
                    messages.success(request, f"{person} now has the {level.label} level.")
                return redirect("accounts:access_edit", user_id=person.pk)
        if request.POST.get("do") == "revoke" and revoke_form.is_valid():
            try:
                revoked = services.access_revoke(
                    user=person, by=request.user, note=revoke_form.cleaned_data["note"]
                )
            except ValidationError as error:
                revoke_form.add_error(None, error)
            else:
                if revoked:
                    messages.success(request, f"{person}'s access was revoked.")
                return redirect("accounts:access_edit", user_id=person.pk)
        if request.POST.get("do") == "unlock":
            signin.signin_unlock(email=person.email, by=request.user, reason="unlocked")
            messages.success(request, f"{person} can log in again straight away.")
            return redirect("accounts:access_edit", user_id=person.pk)
    return render(
        request,
        "accounts/access_edit.html",
        {
            "person": person,
            "grant": grant,
            "access": access_for(person),
            "blocked": access_for(person).blocked_within_grant(about=True),
            "grant_form": grant_form,
            "revoke_form": revoke_form,
            "history": AccessGrant.objects.filter(user=person).select_related(
                "granted_by", "revoked_by"
            ),
            "records": person.training_records.select_related("course", "session").order_by(
                "-created_at"
            ),
            "today": timezone.localdate(),
            "audit": audit_for_person(person)[:50],
            "signin": signin.signin_attempts(person.email),
        },
    )


@require("mycareer.administer")
@require_http_methods(["GET", "POST"])
def failed_tasks(request):
    """Administrators: emails that could not be sent after every retry, to try again."""
    if request.method == "POST":
        ids = bounded_ids([request.POST.get("task", "")])
        failed = FailedTask.objects.filter(pk__in=ids, status=FailedTask.Status.FAILED).first()
        if failed is not None:
            with transaction.atomic():
                failed.retry(by=request.user)
                audit.log(
                    None,
                    "core.task.retried",
                    by=request.user,
                    data={"task": failed.task_path, "failed_task": failed.pk},
                )
            messages.success(request, f"“{failed.description}” will be tried again shortly.")
        return redirect("accounts:failed_tasks")
    tasks = FailedTask.objects.select_related("retried_by")
    page = Paginator(tasks, 50).get_page(bounded_int(request.GET.get("page"), default=1))
    return render(request, "accounts/failed_tasks.html", {"page": page})


@require("mycareer.administer")
@require_http_methods(["GET", "POST"])
def signin_attempts(request):
    """Administrators: every account with recent failed sign-ins, and clearing them."""
    if request.method == "POST":
        account = request.POST.get("account", "").strip()
        if account:
            signin.signin_unlock(email=account, by=request.user, reason="unlocked")
            messages.success(request, f"{account} can log in again straight away.")
        return redirect("accounts:signin_attempts")
    return render(
        request,
        "accounts/signin_attempts.html",
        {"accounts": signin.accounts_with_failures(), "window": signin.window()},
    )


@require("mycareer.view_staff_pages")
def training_sessions(request):
    return render(
        request,
        "accounts/training_sessions.html",
        {
            "upcoming": selectors.training_sessions_bookable(),
            "under_way": selectors.training_sessions_under_way(),
            "past": selectors.training_sessions_past()[:20],
            "can_administer": request.user.has_perm("mycareer.administer"),
            "my_sessions": set(
                request.user.training_records.filter(
                    session__isnull=False, status=TrainingRecord.Status.BOOKED
                ).values_list("session_id", flat=True)
            ),
        },
    )


@require("mycareer.administer")
@require_http_methods(["GET", "POST"])
def training_session_create(request):
    form = TrainingSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.training_session_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, "The training session is scheduled.")
            return redirect(session)
    return render(request, "accounts/training_session_form.html", {"form": form})


@require("accounts.view_own_access")
@require_http_methods(["GET", "POST"])
def training_session(request, pk: int):
    """A session: staff book or cancel their place; administrators record attendance."""
    session = get_object_or_404(TrainingSession.objects.select_related("course"), pk=pk)
    can_administer = request.user.has_perm("mycareer.administer")
    mine = TrainingRecord.objects.filter(session=session, user=request.user).first()
    form = None
    if can_administer:
        form = AttendanceForm(
            request.POST if request.POST.get("do") == "attendance" else None,
            session=session,
            initial={
                "attended": User.objects.filter(
                    training_records__session=session,
                    training_records__status=TrainingRecord.Status.COMPLETED,
                )
            },
        )
    asking = None
    if request.method == "POST":
        do = request.POST.get("do")
        try:
            if do == "book":
                services.training_book(session=session, user=request.user, by=request.user)
                messages.success(
                    request,
                    "You are booked on this session: a confirmation is on its way by email.",
                )
                return redirect(session)
            if do == "cancel" and mine is not None:
                services.training_cancel(record=mine, by=request.user)
                messages.success(request, "Your place is cancelled.")
                return redirect(session)
            if do == "attendance" and form is not None and form.is_valid():
                recorded = services.training_attendance_record(
                    session=session,
                    attended=form.attendees(),
                    by=request.user,
                    # Sent back by the page that named them: whose completion may go.
                    confirmed_removals=bounded_ids(request.POST.getlist("confirm_removal")),
                )
                done = sum(r.status == TrainingRecord.Status.COMPLETED for r in recorded.records)
                saved(
                    request,
                    recorded.changed,
                    f"Attendance recorded: {done} completed the course.",
                )
                return redirect(session)
            if do == "attendance" and form is None:
                raise Http404
        except services.CompletionsToTakeAway as error:
            # Nothing saved: the page again, every tick as sent, names who would lose it.
            asking = error
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    records = (
        session.records.select_related("user").order_by("user__full_name")
        if can_administer
        else TrainingRecord.objects.none()
    )
    booked = session.records.count()
    return render(
        request,
        "accounts/training_session.html",
        {
            "session": session,
            "mine": mine,
            "form": form,
            "records": records,
            "booked": booked,
            "full": booked >= session.capacity,
            "can_administer": can_administer,
            "upcoming": session.starts_at > timezone.now(),
            "asking": asking,
        },
    )


@require("mycareer.administer")
def training_expiring(request):
    form = ExpiringFilterForm(request.GET or None, strict=True)
    if form.is_bound and not form.is_valid():
        # Refused by name, and nobody listed: never the usual period under the error.
        records = selectors.training_expiring(within_days=0).none()
        days = None
    else:
        days = form.within_days() if form.is_bound else ExpiringFilterForm.DEFAULT_DAYS
        records = selectors.training_expiring(within_days=days)
    return render(
        request,
        "accounts/training_expiring.html",
        {"form": form, "records": records, "days": days, "today": timezone.localdate()},
    )
