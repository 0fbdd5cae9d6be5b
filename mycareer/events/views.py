"""Calendar pages, the event page, and the organiser's pages (edit, clashes, publish…)."""

import datetime
import logging
from typing import NoReturn

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mycareer.accounts.permissions import check_perm
from mycareer.audit.selectors import audit_for_object
from mycareer.core.forms import add_validation_error, already_saved, remember_saved
from mycareer.core.http import saved
from mycareer.core.logs import log_event
from mycareer.core.pagination import COUNT_PARAMETER, Paginator, count_exactly_asked
from mycareer.core.permissions import require
from mycareer.core.text import counted, joined
from mycareer.events import grids, selectors, services
from mycareer.events.clashes import ClashesFound, find_clashes, organisers_to_tell, suggest_slots
from mycareer.events.forms import (
    CalendarFilterForm,
    CancelForm,
    EventForm,
    FreeSlotForm,
    OpeningDecisionForm,
    OpeningRequestForm,
    OpeningWithdrawForm,
    PublishForm,
    organisable_units,
)
from mycareer.events.models import Event, OpeningRequest
from mycareer.events.registry import cancellation_figures, cancellation_reach, event_form_parts
from mycareer.events.units import UnitTree
from mycareer.organisations.models import Organisation
from mycareer.organisations.permissions import public_profiles_open_to

LIST_PAGE_SIZE = 20

logger = logging.getLogger(__name__)


# Helpers ---------------------------------------------------------------------------


class EventNotForYou(PermissionDenied):  # noqa: N818 (a refusal, like PermissionDenied)
    """A student asked for a published event meant for other students, or an employer for
    one not open to employers.

    The event page catches it for a page of its own (`not_for_you`); elsewhere it is a
    403 with its reason. An employer's reason does not name the event: what a student
    event is called is not theirs to read.
    """

    def __init__(self, event: Event, *, employer: bool = False):
        self.event = event
        self.employer = employer
        if employer:
            super().__init__("This event is not open to employers.")
        else:
            super().__init__(f"{event.title} is for other students.")


def refuse_event(user, event: Event) -> NoReturn:
    """Refuse an event `user` may not see: a page saying why for a published (or
    cancelled) event meant for others, a 404 otherwise, so drafts stay unknown.

    Students and employers hold a link to such an event (a colleague's email, a stand
    they were told of) and are told why it does not open; nobody else is.
    """
    if event.status in selectors.LISTED:
        if user.is_student:
            raise EventNotForYou(event)
        if user.is_employer:
            raise EventNotForYou(event, employer=True)
    raise Http404("No such event.")


def _event(request, pk: int) -> Event:
    """The event if this person may see it; otherwise `refuse_event`'s refusal."""
    try:
        event = selectors.event_for_page(pk)
    except Event.DoesNotExist as error:
        raise Http404("No such event.") from error
    if not request.user.has_perm("events.view_event", event):
        refuse_event(request.user, event)
    return event


def not_for_you(request, refusal: EventNotForYou):
    """The page for a student who opened an event meant for other students, or an
    employer who opened one not open to employers (403)."""
    event = refusal.event
    log_event(logger, "events.event.not_for_you", event_id=event.pk, user=request.user.pk)
    if refusal.employer:
        return render(request, "events/not_for_employers.html", status=403)
    return render(request, "events/not_for_you.html", {"event": event}, status=403)


def _form_parts(request, event: Event | None) -> list[tuple]:
    """The other apps' parts of the event form (places and waiting list), bound to the POST."""
    return [
        (part, part.form(_posted(request), event=event, user=request.user))
        for part in event_form_parts()
    ]


class _PartRefused(Exception):  # noqa: N818 (undoes the change; the form shows why)
    pass


def _all_valid(form, parts: list[tuple]) -> bool:
    """The event form and every part sent with it are valid (each checked, for its errors)."""
    return all([form.is_valid(), *(f.is_valid() for _, f in parts if f.is_bound)])


def _save_parts(parts: list[tuple], *, event: Event, by) -> tuple[bool, list[str]]:
    """Save each part after the event; a part's refusal shows on its form and undoes all.

    Returns whether any part changed something, and their sentences for the message. A
    part whose fields were not sent (its form is unbound) is left as it is.
    """
    changed, sentences = False, []
    for part, form in parts:
        if not form.is_bound:
            continue
        try:
            sentence = part.save(form, event=event, by=by)
        except ValidationError as error:
            add_validation_error(form, error)
            raise _PartRefused from error
        changed = changed or sentence is not None
        if sentence:
            sentences.append(sentence)
    return changed, sentences


def _posted(request):
    """The submitted data, or None for a GET (an empty POST still counts as submitted)."""
    return request.POST if request.method == "POST" else None


def _shows_audience_filters(user) -> bool:
    return user.has_perm("mycareer.view_staff_pages")


def _filtered_events(request, *, not_filters: set[str]):
    """The events this person may see that the address's filters ask for, and the form.

    `not_filters` are the page's other parameters (its month, its page). While a filter
    is wrong or unknown there are none: the page says why instead of showing everything.
    """
    tree = UnitTree.load()
    visible = selectors.visible_events(request.user, tree)
    form = CalendarFilterForm(
        request.GET or None,
        audience_filters=_shows_audience_filters(request.user),
        strict=True,
        not_filters=not_filters,
    )
    if form.is_bound and not form.is_valid():
        return visible.none(), form
    return selectors.apply_filters(visible, form.filters(), tree), form


def _calendar(
    request, start: datetime.datetime, end: datetime.datetime, *, not_filters: set[str], shape=None
):
    """Events this person may see in [start, end), filtered, and the filter form.

    `shape` picks what is loaded of each event (`selectors.for_calendar` by default).
    """
    events, form = _filtered_events(request, not_filters=not_filters)
    shape = shape or selectors.for_calendar
    events = list(shape(selectors.overlapping(events, start, end)))
    return events, form


def _calendar_context(request, form, view: str) -> dict:
    return {
        "filter_form": form,
        "filters": form.querystring(),
        "view": view,
        "student": request.user.is_student,
        "can_add": request.user.has_perm("events.add_event"),
    }


def _date_refused(request, *, name: str, what: str, how: str, back: str):
    """400 for a calendar address whose date the calendar cannot read (`?month=2026-99`).

    The page showed the current month, week or day instead, which a person takes for
    the one they asked for. It names what was typed and links back, keeping the filters.
    """
    typed = request.GET[name]
    kept = request.GET.copy()
    for own in (name, "page"):
        kept.pop(own, None)
    log_event(logger, "events.calendar.date_refused", parameter=name, user=request.user.pk)
    return render(
        request,
        "events/date_refused.html",
        {
            "typed": typed,
            "reason": f"“{typed}” is not {what} the calendar can show: write {how}.",
            "back": f"{request.path}?{kept.urlencode()}" if kept else request.path,
            "back_label": back,
        },
        status=400,
    )


# Calendar views --------------------------------------------------------------------


@require_safe
@login_required
def month(request):
    """A month as a grid of days, each listing its events."""
    today = timezone.localdate()
    first = grids.parse_month(request.GET.get("month", ""))
    if first is None and request.GET.get("month"):
        return _date_refused(
            request,
            name="month",
            what="a month",
            how=f"the year and the month, for example {today:%Y-%m}",
            back="Show this month",
        )
    grid = grids.MonthGrid(first or today.replace(day=1), today=today)
    events, form = _calendar(
        request, grid.start, grid.end, not_filters={"month"}, shape=selectors.for_month
    )
    grid.place(events)
    return render(
        request,
        "events/month.html",
        {
            **_calendar_context(request, form, "month"),
            "grid": grid,
            "event_types": Event.Type.choices,
        },
    )


@require_safe
@login_required
def week(request):
    """Seven days, Monday to Sunday, each with its events in full."""
    today = timezone.localdate()
    day = grids.parse_day(request.GET.get("week", ""))
    if day is None and request.GET.get("week"):
        return _date_refused(
            request,
            name="week",
            what="a week",
            how=f"one of its days as a date, for example {today.isoformat()}",
            back="Show this week",
        )
    grid = grids.WeekGrid(day or today, today=today)
    events, form = _calendar(request, grid.start, grid.end, not_filters={"week"})
    grid.place(events)
    return render(
        request,
        "events/week.html",
        {**_calendar_context(request, form, "week"), "grid": grid},
    )


@require_safe
@login_required
def event_list(request):
    """Every event from a day on, in order, a page at a time."""
    today = timezone.localdate()
    since = grids.parse_day(request.GET.get("from", ""))
    if since is None and request.GET.get("from"):
        return _date_refused(
            request,
            name="from",
            what="a day",
            how=f"the first day as a date, for example {today.isoformat()}",
            back="Show the events from today",
        )
    since = since or today
    start = grids.midnight(since)
    events, form = _filtered_events(request, not_filters={"from", "page", COUNT_PARAMETER})
    events = selectors.for_calendar(events.filter(ends_at__gt=start))
    page = Paginator(events, LIST_PAGE_SIZE, count_exactly=count_exactly_asked(request)).get_page(
        request.GET.get("page")
    )
    query = form.querystring()
    if request.GET.get("from"):
        query = f"{query}&from={since.isoformat()}" if query else f"from={since.isoformat()}"
    return render(
        request,
        "events/list.html",
        {
            **_calendar_context(request, form, "list"),
            "page": page,
            "since": since,
            "querystring": query,
            "previous_from": since - datetime.timedelta(days=30),
        },
    )


# One event -------------------------------------------------------------------------


@require_safe
@login_required
def detail(request, pk: int):
    try:
        event = _event(request, pk)
    except EventNotForYou as refusal:
        return not_for_you(request, refusal)
    user = request.user
    staff = user.has_perm("mycareer.view_staff_pages")
    context = {
        "event": event,
        "audience": event.audience,
        "audience_text": selectors.audience_text(event),
        "staff": staff,
        "can_change": user.has_perm("events.change_event", event),
        "organisations": _organisations_linked(event, user),
        "publish_refusal": services.publish_refusal(event) if event.is_draft else "",
    }
    if staff:
        made, against = selectors.clash_overrides_of(event)
        context.update(
            {
                "overrides_made": list(made),
                "overrides_against": list(against),
                "openings": list(selectors.opening_requests_of(event)),
                "history": list(audit_for_object(event)[:30]),
            }
        )
    return render(request, "events/detail.html", context)


def _organisations_linked(event: Event, user) -> list[tuple[Organisation, bool]]:
    """Each organisation taking part, and whether its profile opens for this person: an
    employer reads their own alone, a student an active organisation's."""
    organisations = list(event.organisations.all())
    open_to = public_profiles_open_to(user, organisations)
    return [(organisation, organisation.pk in open_to) for organisation in organisations]


@require_http_methods(["GET", "POST"])
@require("events.add_event")
def create(request):
    form = EventForm(_posted(request), user=request.user)
    parts = _form_parts(request, None)
    if request.method == "GET":
        first = organisable_units(request.user).filter(
            pk__in=selectors.member_unit_ids(request.user)
        )
        if first.exists():
            form.initial["unit"] = first.first().pk
    valid = request.method == "POST" and _all_valid(form, parts)
    if valid and (sent_before := already_saved(request, form)):
        return sent_before
    if valid:
        try:
            with transaction.atomic():
                event = services.event_create(by=request.user, **form.service_kwargs())
                _, sentences = _save_parts(parts, event=event, by=request.user)
        except _PartRefused:
            pass
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request,
                " ".join(
                    [
                        f"{event} is saved as a draft. Check for clashes, then publish it.",
                        *sentences,
                    ]
                ),
            )
            remember_saved(request, form, event.get_absolute_url())
            return redirect(event)
    return render(request, "events/form.html", {"form": form, "parts": parts, "creating": True})


@require_http_methods(["GET", "POST"])
@login_required
def edit(request, pk: int):
    event = _event(request, pk)
    check_perm(request.user, "events.change_event", event)
    if event.is_cancelled:
        messages.error(request, "A cancelled event cannot be changed.")
        return redirect(event)
    form = EventForm(_posted(request), user=request.user, event=event)
    parts = _form_parts(request, event)
    clashes = []
    told, who = _people_told(event)
    valid = request.method == "POST" and _all_valid(form, parts)
    if valid:
        try:
            with transaction.atomic():
                changed = services.event_update(
                    event=event,
                    by=request.user,
                    override_reason=form.cleaned_data["override_reason"],
                    # Parts sent with the form check the new times with their own new
                    # values; a page without them (a script, an older page) is checked here.
                    form_parts_follow=all(part_form.is_bound for _, part_form in parts),
                    **form.service_kwargs(),
                )
                parts_changed, sentences = _save_parts(parts, event=event, by=request.user)
                if told and changed.keys() & set(services.WHEN_AND_WHERE):
                    verb = "is" if told == 1 else "are"
                    sentences.append(f"{who.capitalize()} {verb} emailed the change.")
        except _PartRefused:
            pass
        except ClashesFound as found:
            clashes = found.clashes
            form.tell_about_clashes(organisers_to_tell([c.other for c in clashes], request.user))
            form.add_error(
                "override_reason",
                "The changed event clashes with the events below: change it again, "
                "or give a reason to go ahead anyway.",
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            event.refresh_from_db()  # the service saved its own copy: say the new title
            saved(request, changed or parts_changed, " ".join([f"{event} is saved.", *sentences]))
            return redirect(event)
    return render(
        request,
        "events/form.html",
        {
            "form": form,
            "parts": parts,
            "event": event,
            "clashes": clashes,
            "creating": False,
            "told": told,
            "who_is_told": who,
        },
    )


def _people_told(event: Event) -> tuple[int, str]:
    """How many are emailed if the event's time or place changes, and who, in words."""
    told = len(selectors.people_to_tell_of_changes(event))
    who = "the person" if told == 1 else f"the {counted(told, 'person', 'people')}"
    return told, f"{who} with a place or on the waiting list"


@require_safe
@login_required
def clashes(request, pk: int):
    """The clash check at the event's current times, before choosing to publish."""
    event = _event(request, pk)
    check_perm(request.user, "events.change_event", event)
    return render(request, "events/clashes.html", {"event": event, "clashes": find_clashes(event)})


@require_http_methods(["GET", "POST"])
@login_required
def publish(request, pk: int):
    """Show the ranked clashes; publishing despite them needs a reason."""
    event = _event(request, pk)
    check_perm(request.user, "events.publish_event", event)
    if not event.is_draft:
        messages.info(request, services.not_a_draft_text(event))
        return redirect(event)
    if refusal := services.publish_refusal(event):
        # Its page says why, next to the link to change the date.
        messages.error(request, refusal)
        return redirect(event)
    found = find_clashes(event)
    told = organisers_to_tell([c.other for c in found], request.user)
    form = PublishForm(_posted(request), clashes=found, told=told)
    if request.method == "POST" and form.is_valid():
        try:
            overridden = services.event_publish(
                event=event, by=request.user, override_reason=form.cleaned_data["override_reason"]
            )
        except ClashesFound as clash_error:
            # Another event was published since the page was read: show it, ask for a reason.
            found = clash_error.clashes
            told = organisers_to_tell([c.other for c in found], request.user)
            form = PublishForm(request.POST, clashes=found, told=told)
            form.is_valid()  # the reason is now required, and missing
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            told = organisers_to_tell([c.other for c in overridden], request.user)
            note = f" {joined(told)} will be told your reason by email." if told else ""
            messages.success(request, f"{event} is published.{note}")
            return redirect(event)
    return render(
        request,
        "events/publish.html",
        {
            "event": event,
            "clashes": found,
            "form": form,
            "told": told,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request, pk: int):
    event = _event(request, pk)
    check_perm(request.user, "events.cancel_event", event)
    if event.is_cancelled:
        messages.info(request, f"{event} is already cancelled.")
        return redirect(event)
    if event.has_started:
        messages.info(request, f"{event} has started: it can no longer be cancelled.")
        return redirect(event)
    form = CancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.event_cancel(
                event=event,
                by=request.user,
                reason=form.cleaned_data["reason"],
                expected_people=_confirmed_number(request, "people"),
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            told = event.cancellation_notices.count()
            messages.success(
                request,
                f"{event} is cancelled."
                + (
                    (
                        " 1 person will be emailed."
                        if told == 1
                        else f" {told} people will be emailed once each."
                    )
                    if told
                    else ""
                ),
            )
            return redirect(event)
    figures = cancellation_figures(event) if event.is_published else []
    reach = cancellation_reach(event) if figures else None
    return render(
        request,
        "events/cancel.html",
        {
            "event": event,
            "form": form,
            "figures": figures,
            "people": reach.emailed if reach else 0,
            "unemailed": reach.places_unemailed if reach else 0,
        },
    )


def _confirmed_number(request, name: str) -> int | None:
    """A figure the confirmation page carried (None when the page sent none)."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


@require_http_methods(["GET", "POST"])
@login_required
def free_slots(request, pk: int):
    """Propose the least-clashing slots in a chosen week; a draft can move to one."""
    event = _event(request, pk)
    check_perm(request.user, "events.change_event", event)
    if request.method == "POST":
        if not event.is_draft:
            raise PermissionDenied("Move a published event from its edit page.")
        # A refused slot comes back to the same search (its week and length are in the
        # address the slot was pressed on), so the other slots are still there to choose.
        search = reverse("events:free_slots", args=[event.pk])
        if request.GET:
            search += "?" + request.GET.urlencode()
        starts = parse_datetime(request.POST.get("starts_at", ""))
        ends = parse_datetime(request.POST.get("ends_at", ""))
        if starts is None or ends is None or timezone.is_naive(starts) or timezone.is_naive(ends):
            messages.error(request, "That slot could not be read; please choose one again.")
            return redirect(search)
        try:
            services.event_update(event=event, by=request.user, starts_at=starts, ends_at=ends)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(search)
        when = timezone.localtime(starts)
        messages.success(request, f"{event} now starts {when:%A %-d %B, %H:%M}.")
        return redirect(event)
    minutes = int(event.duration.total_seconds() // 60)
    form = FreeSlotForm(
        request.GET or None,
        initial={"week": event.local_start.date(), "duration": min(minutes, 8 * 60)},
    )
    slots = None
    if form.is_bound and form.is_valid():
        slots = suggest_slots(
            event,
            week_start=form.week_start(),
            duration=datetime.timedelta(minutes=form.cleaned_data["duration"]),
        )
    return render(request, "events/free_slots.html", {"event": event, "form": form, "slots": slots})


# Opening to other units ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def opening_create(request, pk: int):
    event = _event(request, pk)
    check_perm(request.user, "events.request_opening", event)
    if refusal := services.opening_refusal(event):
        messages.info(request, refusal)
        return redirect(event)
    form = OpeningRequestForm(_posted(request), event=event)
    if request.method == "POST" and form.is_valid():
        try:
            services.opening_request_create(event=event, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(
                request,
                f"The operators of {form.cleaned_data['unit']} are asked; you will hear by email.",
            )
            return redirect(event)
    return render(
        request,
        "events/opening_form.html",
        {"event": event, "form": form, "audience_text": selectors.audience_text(event)},
    )


def _opening_request(request_id: int) -> OpeningRequest:
    return get_object_or_404(
        OpeningRequest.objects.select_related(
            "event",
            "event__unit",
            "event__organiser",
            "unit",
            "requested_by",
            "decided_by",
            "withdrawn_by",
        ),
        pk=request_id,
    )


def _still_pending(opening: OpeningRequest) -> bool:
    return opening.status == OpeningRequest.Status.PENDING and not opening.event.is_cancelled


@require_http_methods(["GET", "POST"])
@login_required
def opening(request, request_id: int):
    """One request to open an event: its answer, or the form to answer it."""
    opening = _opening_request(request_id)
    may_decide = request.user.has_perm("events.decide_opening", opening)
    if not may_decide and not request.user.has_perm("events.view_event", opening.event):
        raise Http404("No such request.")
    if not request.user.has_perm("events.view_opening_requests"):
        raise Http404("No such request.")
    form = None
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied("You cannot answer this request.")
        if not _still_pending(opening):
            # Answered or withdrawn since the page was opened: say by whom, not a bare 403.
            messages.error(request, services.opening_decision_refusal(opening) or "")
            return redirect("events:opening", request_id=opening.pk)
        form = OpeningDecisionForm(request.POST)
        if form.is_valid():
            try:
                services.opening_request_decide(
                    request=opening,
                    accept=form.cleaned_data["decision"] == "accept",
                    by=request.user,
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, "Your answer is recorded; the organiser is told.")
                return redirect("events:opening", request_id=opening.pk)
    return _opening_page(request, opening, form=form)


def _opening_page(
    request,
    opening: OpeningRequest,
    *,
    form: OpeningDecisionForm | None = None,
    withdraw_form: OpeningWithdrawForm | None = None,
):
    """The request's page, with each form this person may use on it now.

    A form given (bound, with what was typed and why it was refused) is shown as it is;
    the others are blank, so a refused withdrawal keeps the answer form, and the other way.
    """
    pending = _still_pending(opening)
    may_decide = pending and request.user.has_perm("events.decide_opening", opening)
    may_withdraw = opening.status == OpeningRequest.Status.PENDING and request.user.has_perm(
        "events.request_opening", opening.event
    )
    return render(
        request,
        "events/opening.html",
        {
            "opening": opening,
            "form": (form or OpeningDecisionForm()) if may_decide else None,
            "closed": services.opening_closed(opening) if not pending else "",
            "withdraw_form": (withdraw_form or OpeningWithdrawForm()) if may_withdraw else None,
        },
    )


@require_POST
@login_required
def opening_withdraw(request, request_id: int):
    """The organiser takes back a request nobody has answered; the operators asked are told."""
    opening = _opening_request(request_id)
    check_perm(request.user, "events.request_opening", opening.event)
    form = OpeningWithdrawForm(request.POST)
    if not form.is_valid():
        if refusal := services.opening_withdraw_refusal(opening):
            # Answered or withdrawn in another tab meanwhile: what was typed no longer
            # matters, but why the form is gone does.
            messages.error(request, refusal)
        # What was typed stays, with why it was refused.
        return _opening_page(request, opening, withdraw_form=form)
    try:
        services.opening_request_withdraw(
            request=opening, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"The request to {opening.unit} is withdrawn; the operators who were asked are "
            "told by email. You may ask them again later.",
        )
    return redirect("events:opening", request_id=opening.pk)


@require_safe
@require("events.view_opening_requests")
def openings(request):
    """Requests to open events to the units this person answers for."""
    page = Paginator(selectors.opening_requests_for(request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "events/openings.html", {"page": page})
