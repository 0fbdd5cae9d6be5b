from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mycareer.accounts.models import Unit
from mycareer.accounts.permissions import check_perm
from mycareer.core.forms import add_validation_error, bounded_ids, bounded_int
from mycareer.core.http import safe_next, saved
from mycareer.core.permissions import require
from mycareer.usergroup import selectors, services
from mycareer.usergroup.forms import (
    AnnouncementEmailConfirmForm,
    AnnouncementForm,
    CommentForm,
    FeedbackForm,
    RepresentativeForm,
    TriageForm,
    staff_counted,
)
from mycareer.usergroup.models import Announcement, Feedback, Representative

SORTS = {"votes": ("-vote_count", "-created_at"), "newest": ("-created_at",)}


@require_http_methods(["GET", "POST"])
@require("usergroup.view_group")
def group(request):
    """The group's page: one representative per faculty, and the announcements."""
    form = None
    if request.user.has_perm("usergroup.appoint_representative"):
        form = RepresentativeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.representative_appoint(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, "The representative is named.")
                return redirect("usergroup:group")
    elif request.method == "POST":
        check_perm(request.user, "usergroup.appoint_representative")
    representatives = {r.unit_id: r for r in Representative.objects.select_related("user", "unit")}
    faculties = [
        (faculty, representatives.get(faculty.pk))
        for faculty in Unit.objects.filter(kind=Unit.Kind.FACULTY).order_by("name")
    ]
    return render(
        request,
        "usergroup/group.html",
        {
            "faculties": faculties,
            "form": form,
            "announcements": Announcement.objects.select_related("published_by")[:20],
            "can_publish": request.user.has_perm("usergroup.publish_announcement"),
        },
    )


@require_http_methods(["GET", "POST"])
@require("usergroup.publish_announcement")
def announcement_create(request):
    """Write an announcement; emailing it too is confirmed with the number of staff."""
    recipients = len(selectors.announcement_recipients())
    form = AnnouncementForm(request.POST or None, recipients=recipients)
    step = request.POST.get("step", "")
    if request.method == "POST" and form.is_valid() and step != "edit":
        data = form.cleaned_data
        if not data["email"]:
            services.announcement_publish(by=request.user, **data)
            messages.success(request, "The announcement is published on staff home pages.")
            return redirect("usergroup:group")
        confirm = AnnouncementEmailConfirmForm(
            request.POST if step == "publish" else None, recipients=recipients
        )
        if step == "publish" and confirm.is_valid():
            # The number the page showed: the service refuses it if it is missing or out
            # of date.
            seen = bounded_int(request.POST.get("expected"))
            try:
                services.announcement_publish(by=request.user, **data, confirmed=seen)
            except services.StaffCountChanged as error:
                messages.error(request, error.messages[0])
                confirm = AnnouncementEmailConfirmForm(recipients=recipients)
            else:
                messages.success(
                    request,
                    "The announcement is published on staff home pages and is on its way "
                    f"by email to {staff_counted(recipients)}.",
                )
                return redirect("usergroup:group")
        return render(
            request,
            "usergroup/announcement_confirm.html",
            {
                "form": form,
                "confirm": confirm,
                "recipients": recipients,
                "staff": staff_counted(recipients),
            },
        )
    return render(request, "usergroup/announcement_form.html", {"form": form})


@require_POST
@require("usergroup.view_group")
def announcement_dismiss(request, pk: int):
    services.announcement_dismiss(
        announcement=get_object_or_404(Announcement, pk=pk), user=request.user
    )
    return redirect(safe_next(request, "/"))


@require_http_methods(["GET"])
@require("usergroup.view_group")
def board(request):
    """Faults and improvement requests, sortable by votes and filterable by faculty and status."""
    sort = request.GET.get("sort", "votes")
    items = Feedback.objects.select_related("reporter", "faculty").annotate(
        vote_count=Count("votes", distinct=True), comment_count=Count("comments", distinct=True)
    )
    status = request.GET.get("status", "")
    if status in Feedback.Status.values:
        items = items.filter(status=status)
    faculty = bounded_ids([request.GET.get("faculty", "")])
    if faculty:
        items = items.filter(faculty_id=faculty[0])
    items = items.order_by(*SORTS.get(sort, SORTS["votes"]))
    return render(
        request,
        "usergroup/board.html",
        {
            "items": items[:200],
            "sort": sort,
            "status": status,
            "faculty": faculty,
            "statuses": Feedback.Status.choices,
            "faculties": Unit.objects.filter(kind=Unit.Kind.FACULTY).order_by("name"),
            "voted": set(
                Feedback.objects.filter(votes__user=request.user).values_list("pk", flat=True)
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@require("usergroup.view_group")
def feedback_create(request):
    form = FeedbackForm(
        request.POST or None, request.FILES or None, initial={"page": request.GET.get("page", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            feedback = services.feedback_log(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, "Thank you: the Super User Group will look at it.")
            return redirect(feedback)
    return render(request, "usergroup/feedback_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@require("usergroup.view_group")
def feedback_detail(request, pk: int):
    feedback = get_object_or_404(
        Feedback.objects.select_related("reporter", "faculty", "duplicate_of").annotate(
            vote_count=Count("votes")
        ),
        pk=pk,
    )
    can_triage = request.user.has_perm("usergroup.triage_feedback")
    triage_form = TriageForm(
        request.POST if request.POST.get("do") == "triage" else None,
        initial={"status": feedback.status, "duplicate_of": feedback.duplicate_of_id},
    )
    triage_form.fields["duplicate_of"].queryset = Feedback.objects.exclude(pk=pk)
    comment_form = CommentForm(request.POST if request.POST.get("do") == "comment" else None)
    if request.method == "POST":
        do = request.POST.get("do")
        try:
            if do == "vote":
                services.feedback_vote(feedback=feedback, by=request.user)
                return redirect(feedback)
            if do == "comment" and comment_form.is_valid():
                services.feedback_comment(
                    feedback=feedback, by=request.user, **comment_form.cleaned_data
                )
                return redirect(feedback)
            if do == "triage":
                check_perm(request.user, "usergroup.triage_feedback")
                if triage_form.is_valid():
                    before = feedback.status
                    changed = services.feedback_triage(
                        feedback=feedback, by=request.user, **triage_form.cleaned_data
                    )
                    still = feedback.get_status_display().lower()
                    saved(
                        request,
                        changed,
                        "The status is changed."
                        if feedback.status != before
                        else f"Your comment is added; the status is still {still}.",
                    )
                    return redirect(feedback)
        except ValidationError as error:
            add_validation_error(triage_form if do == "triage" else comment_form, error)
    return render(
        request,
        "usergroup/feedback_detail.html",
        {
            "feedback": feedback,
            "comments": feedback.comments.select_related("author"),
            "triage_form": triage_form if can_triage else None,
            "comment_form": comment_form,
            "has_voted": feedback.votes.filter(user=request.user).exists(),
        },
    )
