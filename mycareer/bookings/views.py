import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mycareer import audit
from mycareer.accounts.models import User
from mycareer.accounts.permissions import check_perm
from mycareer.bookings import selectors, services
from mycareer.bookings.event_form import saved_text
from mycareer.bookings.forms import (
    FOLLOW_UP_BODY,
    FOLLOW_UP_SUBJECT,
    BookingFilterForm,
    BookingSettingsForm,
    CheckInSearchForm,
    CodeForm,
    FollowUpForm,
    LiftForm,
    MoveForm,
    PolicyForm,
    ReportSendForm,
    StudentForm,
)
from mycareer.bookings.models import Booking, BookingBan, WaitlistEntry
from mycareer.bookings.permissions import someone_elses
from mycareer.bookings.tickets import BadCode, read_check_in_token
from mycareer.core.forms import add_validation_error
from mycareer.core.http import safe_next, saved
from mycareer.core.pagination import Paginator
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.core.text import counted, joined
from mycareer.events import selectors as event_selectors
from mycareer.events.models import Event
from mycareer.events.views import EventNotForYou, not_for_you, refuse_event

# Which event a staff member is checking people in for, so a code from another event
# scanned at this door is refused rather than checked in elsewhere.
AT_THE_DOOR = "bookings.checking_in"
AT_THE_DOOR_HOURS = 12


def _event(event_id: int) -> Event:
    try:
        return Event.objects.select_related(
            "unit", "organiser", "audience", "booking_settings"
        ).get(pk=event_id)
    except Event.DoesNotExist as error:
        raise Http404("No such event.") from error


def _visible_event(request, event_id: int) -> Event:
    """The event if this person may see it; otherwise `refuse_event`'s refusal: a page
    saying why for a student or an employer, a 404 for anyone else (drafts stay unknown).
    """
    event = _event(event_id)
    if not event_selectors.can_see_event(request.user, event):
        refuse_event(request.user, event)
    return event


def _run_event(request, event_id: int) -> Event:
    event = _event(event_id)
    check_perm(request.user, "bookings.run_event", event)
    return event


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _placed_message(request, placed, *, name: str = "", moved: bool = False) -> None:
    """Say where the person ended up: `name` for staff acting for a student, else "you";
    a move names the event with its time, as it is often to another session of one title."""
    title = selectors.event_text(placed.event) if moved else placed.event.title
    if isinstance(placed, Booking):
        if name and placed.overridden_ban is not None:
            messages.warning(request, f"{name} now has a place at {title}. {_overridden(placed)}")
        elif name:
            messages.success(request, f"{name} now has a place at {title}.")
        else:
            messages.success(
                request, f"You have a place at {title}. A confirmation is on its way by email."
            )
        return
    position = selectors.waitlist_position(placed)
    who = f"{name} is" if name else "you are"
    messages.info(request, f"{title} is full: {who} number {position} on the waiting list.")


def _overridden(booking: Booking) -> str:
    """What staff are told of a place they gave despite a restriction on booking."""
    ban = booking.overridden_ban
    assert ban is not None  # only called for a place given despite one
    return (
        f"They are restricted from booking until {selectors.when_text(ban.ends_at)} "
        "(no-shows): the place was given despite it, and the audit trail says so."
    )


# Students -----------------------------------------------------------------------------------


@require_safe
@login_required
def event_page(request, event_id: int):
    """The event's essentials and its booking panel; works before the calendar pages exist."""
    try:
        event = _visible_event(request, event_id)
    except EventNotForYou as refusal:
        return not_for_you(request, refusal)
    return render(
        request,
        "bookings/event.html",
        {
            "event": event,
            "organisations": event.organisations.all(),
            "can_run": request.user.has_perm("bookings.run_event", event),
        },
    )


@require_POST
@login_required
def book(request, event_id: int):
    event = _event(event_id)
    back = safe_next(request, reverse("bookings:event", args=[event.pk]))
    try:
        placed = services.booking_create(event=event, student=request.user, by=request.user)
    except ValidationError as error:
        # The service checks that the person may see the event; only a refusal asks
        # again, so that an event they may not see stays unknown (404) or says why not.
        _visible_event(request, event_id)
        messages.error(request, _error_text(error))
    else:
        _placed_message(request, placed)
    return redirect(back)


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request, booking_id: int):
    """Cancel a place, after confirming: the student their own, staff who run the event any.

    The confirmation says what happens to the place (the next person waiting gets it,
    anyone may book it, or nobody: more are booked than the event now has) without naming
    anyone else.
    """
    booking = get_object_or_404(Booking.objects.select_related("event", "student"), pk=booking_id)
    own = booking.student_id == request.user.pk
    if not own and request.user.kind != User.Kind.STAFF:
        # Another student's place (a forwarded link): someone else's, with a way to log out
        # and open it again; never "for staff only", nor whose or which event's it is.
        raise someone_elses("place")
    if not own:
        check_perm(request.user, "bookings.run_event", booking.event)
    back = _back(request, own=own, event_id=booking.event_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.booking_cancel(booking=booking, by=request.user)
        except ValidationError:
            # A stale page (Back after cancelling): this page says why, and offers the
            # place booked since, if any.
            here = reverse("bookings:cancel", args=[booking.pk])
            return redirect(f"{here}?{urlencode({'next': back})}")
        whose = "Your place" if own else f"{booking.student}'s place"
        messages.success(request, f"{whose} at {booking.event.title} is cancelled.")
        return redirect(back)
    settings = selectors.settings_of(booking.event)
    now = timezone.now()
    return render(
        request,
        "bookings/cancel.html",
        {
            "booking": booking,
            "event": booking.event,
            "own": own,
            "back": back,
            "settings": settings,
            "counts": selectors.counts_for(booking.event, settings),
            "passes_on": selectors.place_passes_on(booking.event, now),
            "refusal": selectors.cancel_refusal(booking, own=own, now=now),
            "instead": selectors.place_held_instead(booking, now=now),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def leave(request, entry_id: int):
    """Leave a waiting list, after confirming: the student their own place in the queue,
    staff who run the event anyone's. A place in the queue once left is gone: joining
    again is at the back, so one press must not lose it."""
    entry = get_object_or_404(
        WaitlistEntry.objects.select_related("event", "event__unit", "student"), pk=entry_id
    )
    own = entry.student_id == request.user.pk
    if not own and request.user.kind != User.Kind.STAFF:
        raise someone_elses("waiting")
    if not own:
        check_perm(request.user, "bookings.run_event", entry.event)
    back = _back(request, own=own, event_id=entry.event_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.waitlist_leave(entry=entry, by=request.user)
        except ValidationError:
            # A stale page (Back after leaving, an old email, the event begun): this page
            # says why, as the question did, and offers the place joined since, if any.
            here = reverse("bookings:leave", args=[entry.pk])
            return redirect(f"{here}?{urlencode({'next': back})}")
        messages.success(
            request,
            f"You have left the waiting list of {entry.event.title}."
            if own
            else f"{entry.student} is no longer on the waiting list of {entry.event.title}.",
        )
        return redirect(back)
    waiting = entry.status == WaitlistEntry.Status.WAITING
    settings = selectors.settings_of(entry.event)
    refusal = selectors.leave_refusal(entry, own=own, now=timezone.now())
    return render(
        request,
        "bookings/leave.html",
        {
            "entry": entry,
            "event": entry.event,
            "own": own,
            "back": back,
            "position": selectors.waitlist_position(entry) if waiting else None,
            # What happens to an offered place once declined.
            "settings": settings,
            "counts": None if waiting else selectors.counts_for(entry.event, settings),
            "passes_on": not waiting and selectors.place_passes_on(entry.event, timezone.now()),
            "refusal": refusal,
            "instead": selectors.queue_place_instead(entry, now=timezone.now()),
        },
    )


def _back(request, *, own: bool, event_id: int) -> str:
    """Where to go after a change to a place: `next`, else My events or the bookings list."""
    default = reverse("bookings:my_events") if own else reverse("bookings:manage", args=[event_id])
    return safe_next(request, default)


@require_http_methods(["GET", "POST"])
@require("bookings.book")
def offer(request, entry_id: int):
    """Accept an offered place (the link in the offer email), or decline it after confirming.

    Declining cannot be undone (the place goes to the next person waiting), so "Decline"
    asks first (`?do=decline`) and only a POST with `confirm` declines.
    """
    entry = get_object_or_404(
        WaitlistEntry.objects.select_related("event", "event__unit"), pk=entry_id
    )
    if entry.student_id != request.user.pk:
        # A forwarded offer email: someone else's (a number nobody holds stays not found).
        raise someone_elses("offer")
    if request.method == "POST" and request.POST.get("do") == "accept":
        try:
            services.offer_accept(entry=entry, by=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request, f"You have a place at {entry.event.title}. A confirmation is on its way."
            )
        return redirect("bookings:my_events")
    # Its time ran out and the periodic job has not closed it yet: close it now, so the page
    # says what became of the place rather than offering it (or declining it).
    entry = services.offer_settle(entry=entry)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            passed_on = services.waitlist_leave(entry=entry, by=request.user)
        except ValidationError:
            # Pressed again, or Back after declining: the offer's page says what became of it.
            return redirect("bookings:offer", entry.pk)
        # Over a lowered capacity, or with nobody waiting, nobody is given it.
        messages.success(
            request,
            "You declined the place; it goes to the next person waiting."
            if passed_on
            else "You declined the place.",
        )
        return redirect("bookings:my_events")
    context = {"entry": entry, "event": entry.event}
    if not entry.is_offered:
        context["ended"] = selectors.offer_ended_text(entry)
        return render(request, "bookings/offer.html", context)
    context["until"] = selectors.when_text(entry.offer_expires_at)
    # Restricted after no-shows, they cannot take it up (`offer_accept` refuses): said
    # here, rather than offered and refused.
    if ban := selectors.active_ban(request.user):
        context["restricted"] = selectors.ban_message(ban)
    if request.GET.get("do") == "decline" or request.method == "POST":
        settings = selectors.settings_of(entry.event)
        context.update(
            {
                "back": reverse("bookings:offer", args=[entry.pk]),
                "settings": settings,
                "counts": selectors.counts_for(entry.event, settings),
                "passes_on": selectors.place_passes_on(entry.event, timezone.now()),
                "refusal": None,
            }
        )
        return render(request, "bookings/offer_decline.html", context)
    return render(request, "bookings/offer.html", context)


@require_safe
@require("bookings.book")
def my_events(request):
    """The student's offers, places, waiting lists and past attendance."""
    return render(request, "bookings/my_events.html", selectors.my_events(request.user))


# Staff: running an event's bookings -----------------------------------------------------------


@require_safe
@require("bookings.run_bookings")
def overview(request):
    """Events whose bookings this person runs: coming up, and those waiting for attendance."""
    now = timezone.now()
    upcoming = selectors.events_for_staff(
        request.user, start=now, end=now + datetime.timedelta(weeks=6)
    )[:50]
    return render(
        request,
        "bookings/overview.html",
        {
            "upcoming": upcoming,
            "recent": selectors.recent_events(request.user, now=now)[:20],
            "now": now,
        },
    )


def _manage_context(request, event: Event, **extra) -> dict:
    settings = selectors.settings_of(event)
    bookings = selectors.event_bookings(event)
    filter_form = BookingFilterForm(request.GET or None)
    status = ""
    if filter_form.is_bound and not filter_form.is_valid():
        # A status or filter the list does not know lists nobody, and the page says why:
        # everyone, shown instead, was taken for the people asked for.
        bookings = bookings.none()
    elif filter_form.is_bound:
        status = filter_form.cleaned_data["status"]
    if status:
        bookings = bookings.filter(status=status)
    page = Paginator(bookings, 100).get_page(request.GET.get("page"))
    return {
        "event": event,
        "settings": settings,
        "counts": selectors.counts_for(event, settings),
        "page": page,
        "filter_form": filter_form,
        "querystring": f"status={status}" if status else "",
        "waitlist": list(selectors.event_waitlist(event)[:500]),
        "student_form": StudentForm(),
        "now": timezone.now(),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@login_required
def manage(request, event_id: int):
    """Who is booked and waiting; staff book a student in from here."""
    event = _run_event(request, event_id)
    form = StudentForm(request.POST or None)
    restricted = None
    if request.method == "POST" and form.is_valid():
        student = form.cleaned_data["student"]
        try:
            placed = services.staff_book_student(
                event=event,
                student=student,
                by=request.user,
                override_restriction=form.override_restriction(),
            )
        except services.RestrictedFromBooking as error:
            # Nothing changed: the page again, the student as typed, says why and asks.
            restricted = error
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            _placed_message(request, placed, name=str(student))
            return redirect("bookings:manage", event.pk)
    context = _manage_context(request, event, student_form=form, restricted=restricted)
    return render(request, "bookings/manage.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def settings_edit(request, event_id: int):
    """Capacity, booking window, waiting list and how places pass on."""
    event = _run_event(request, event_id)
    if event.is_cancelled:
        messages.info(request, services.CANCELLED_SETTINGS)
        return redirect("bookings:manage", event.pk)
    initial = BookingSettingsForm.initial_for(selectors.settings_of(event))
    form = BookingSettingsForm(request.POST or None, initial=initial, guard=True)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.booking_settings_update(
                event=event,
                by=request.user,
                confirmed_moves=form.confirmed_moves(),
                **form.changes(),
            )
        except services.PlacesToConfirm as asking:
            # Giving people places emails them: say how many, and save only once agreed.
            form.ask_to_confirm(asking.count, asking.sentence)
            add_validation_error(form, asking)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            text = f"The booking settings are saved. {saved_text(result.settings, result.moved)}"
            saved(request, result.changed, text.strip())
            return redirect("bookings:manage", event.pk)
    return render(request, "bookings/settings.html", {"event": event, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def move(request, kind: str, pk: int):
    """Move a booking or a waiting-list place to another event."""
    model = Booking if kind == "booking" else WaitlistEntry
    item = get_object_or_404(model.objects.select_related("event", "student"), pk=pk)
    check_perm(request.user, "bookings.run_event", item.event)
    form = MoveForm(request.POST or None, event=item.event, user=request.user)
    asking = restricted = None
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["to_event"]
        if not request.user.has_perm("bookings.run_event", target):
            form.add_error("to_event", f"You do not run the bookings of {target.title}.")
        else:
            try:
                which = {"booking": item} if kind == "booking" else {"entry": item}
                placed = services.staff_move(
                    to_event=target,
                    by=request.user,
                    confirmed_position=form.confirmed_position(),
                    override_restriction=form.override_restriction(),
                    **which,
                )
            except services.PlaceToLose as error:
                # Nothing changed: the page again, the event as chosen, says what they lose.
                asking = error
            except services.RestrictedFromBooking as error:
                restricted = error
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                _placed_message(request, placed, name=str(item.student), moved=True)
                return redirect("bookings:manage", item.event_id)
    return render(
        request,
        "bookings/move.html",
        {
            "item": item,
            "kind": kind,
            "event": item.event,
            "form": form,
            "asking": asking,
            "restricted": restricted,
            # A select with no choice but "Choose an event" left staff guessing why.
            "no_targets": not form.fields["to_event"].queryset.exists(),
        },
    )


# Staff: at the door ---------------------------------------------------------------------------


LIFTED_TEXT = (
    "With this no-show corrected they are under the no-show limit, so their restriction "
    "on booking is lifted."
)


def _checked_in_text(booking: Booking, *, said: str = "") -> str:
    """A check-in done (`said`, if not in these words); a corrected no-show may also have
    lifted a restriction."""
    text = said or f"{booking.student} is checked in."
    if not booking.lifted_ban:
        return text
    # Told of the restriction, they are told it is lifted (`tasks.send_ban_lifted`).
    told = " They are emailed to say so." if booking.lifted_ban.notified_at else ""
    return f"{text} {LIFTED_TEXT}{told}"


def _undone_text(booking: Booking) -> str:
    """A check-in undone: a walk-in leaves the list (what came of their waiting-list place
    and of the place they had), someone booked is booked and not checked in again."""
    if booking.status != Booking.Status.CANCELLED:
        return f"{booking.student}'s check-in is undone: they are booked and not checked in."
    parts = [f"{booking.student} is removed as a walk-in: they are no longer on the event."]
    entry = booking.restored_entry
    passed_on = booking.passed_on or []
    offered = [row.student for row in passed_on if isinstance(row, WaitlistEntry)]
    booked = [row.student for row in passed_on if isinstance(row, Booking)]
    theirs = booking.student_id
    if entry is not None and any(person.pk == theirs for person in offered + booked):
        # Back at the front of the waiting list, the place they freed came back to them.
        if any(person.pk == theirs for person in offered):
            parts.append(
                "They were first in line for the place, so it is offered to them again; "
                "they are emailed."
            )
        else:
            # Booked again from the waiting list: they are on the event after all.
            parts = [
                f"{booking.student} is no longer checked in as a walk-in. They were first in "
                "line for the place, so they are booked again from the waiting list; they "
                "are emailed."
            ]
        offered = [person for person in offered if person.pk != theirs]
        booked = [person for person in booked if person.pk != theirs]
        entry = None  # said
        if not offered and not booked:
            return " ".join(parts)
    elif entry is not None and entry.is_offered:
        until = selectors.when_text(entry.offer_expires_at)
        parts.append(f"Their offer of a place is theirs again, until {until}.")
    elif entry is not None:
        parts.append("They are back on the waiting list, at their turn.")
    if offered:
        parts.append(f"The place was offered to {joined(offered)}, {_emailed(offered)}.")
    elif booked:
        parts.append(
            f"The place went to {joined(booked)} from the waiting list, {_emailed(booked)}."
        )
    elif entry is None or not entry.is_offered:
        parts.append("Their place is free.")
    return " ".join(parts)


def _emailed(people: list) -> str:
    return "who is emailed" if len(people) == 1 else "who are each emailed"


def _set_door(request, event: Event) -> None:
    until = timezone.now() + datetime.timedelta(hours=AT_THE_DOOR_HOURS)
    request.session[AT_THE_DOOR] = {"event": event.pk, "until": until.isoformat()}


def _door(request) -> int | None:
    value = request.session.get(AT_THE_DOOR)
    if not value:
        return None
    try:
        until = datetime.datetime.fromisoformat(value["until"])
    except (KeyError, TypeError, ValueError):
        return None
    return value.get("event") if until > timezone.now() else None


def _check_in_page(request, event: Event, *, status: int = 200, **forms):
    search = CheckInSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(selectors.check_in_list(event, query), 50).get_page(request.GET.get("page"))
    # The walk-in and code forms draw this page at their own addresses when they refuse:
    # every form on it goes to the check-in page, and comes back to its search and page.
    check_in_url = reverse("bookings:check_in", args=[event.pk])
    here = f"{check_in_url}?{request.GET.urlencode()}" if request.GET else check_in_url
    settings = selectors.settings_of(event)
    now = timezone.now()
    context = {
        "check_in_url": check_in_url,
        "here": here,
        "event": event,
        "settings": settings,
        "counts": selectors.counts_for(event, settings),
        "search": search,
        "query": query,
        "page": page,
        "querystring": f"q={query}" if query else "",
        "walk_in_form": forms.get("walk_in_form") or StudentForm(prefix="walk_in"),
        "code_form": forms.get("code_form") or CodeForm(),
        "result": forms.get("result"),
        "refusal": selectors.check_in_refusal(event, now),
        "walk_in_refusal": selectors.walk_in_refusal(event, settings, now),
        "removal_passes_on": any(b.is_walk_in and b.is_checked_in for b in page.object_list)
        and selectors.removal_passes_on(event, now),
    }
    return render(request, "bookings/check_in.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def check_in_page(request, event_id: int):
    """The door: find people by name or student number and check them in (mobile-first)."""
    event = _run_event(request, event_id)
    _set_door(request, event)
    if request.method == "POST":
        booking_id = request.POST.get("booking", "")
        if not booking_id.isdigit():
            raise Http404("No such booking.")
        booking = get_object_or_404(Booking, pk=booking_id, event=event)
        if request.POST.get("do") == "undo":
            try:
                undone = services.check_in_undo(booking=booking, by=request.user)
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, _undone_text(undone))
            return redirect(safe_next(request, reverse("bookings:check_in", args=[event.pk])))
        try:
            booking, changed = services.check_in(booking=booking, by=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            if changed:
                messages.success(request, _checked_in_text(booking))
            else:
                messages.info(request, f"{booking.student} was already checked in.")
        return redirect(safe_next(request, reverse("bookings:check_in", args=[event.pk])))
    return _check_in_page(request, event)


@require_POST
@login_required
def walk_in(request, event_id: int):
    event = _run_event(request, event_id)
    form = StudentForm(request.POST, prefix="walk_in")
    if form.is_valid():
        student = form.cleaned_data["student"]
        try:
            booking = services.walk_in(event=event, student=student, by=request.user)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            if booking.already_checked_in:
                messages.info(request, f"{student} was already checked in.")
            elif not booking.is_walk_in:
                # They had a place: checked in on it, as from the list, not as a walk-in.
                said = f"{student} was booked: checked in on their booking."
                messages.success(request, _checked_in_text(booking, said=said))
            elif booking.overridden_ban is not None:
                messages.warning(
                    request, f"{student} is checked in as a walk-in. {_overridden(booking)}"
                )
            else:
                messages.success(request, f"{student} is checked in as a walk-in.")
            return redirect("bookings:check_in", event.pk)
    return _check_in_page(request, event, walk_in_form=form, status=400)


def _scan(request, token: str, *, door: int | None):
    """Check in the booking a code names; the code must belong to the event at this door."""
    try:
        booking_id, event_id = read_check_in_token(token)
    except BadCode:
        return None, (
            "This is not a MyCareer check-in code, or it has been altered. Find the person "
            "by name or student number instead."
        )
    booking = (
        Booking.objects.select_related("event", "student", "student__student_profile")
        .filter(pk=booking_id, event_id=event_id)
        .first()
    )
    if booking is None:
        return None, "This code names a booking that no longer exists."
    if booking.student_id == request.user.pk and not request.user.has_perm(
        "bookings.run_event", booking.event
    ):
        return booking, "own"  # a student opening their own code: it is for the door
    if request.user.kind != User.Kind.STAFF:
        # Another student's code (a forwarded confirmation): someone else's, not "for staff".
        raise someone_elses("code")
    if door is not None and door != booking.event_id:
        here = Event.objects.filter(pk=door).first()
        return booking, (
            f"Not for this event: the code is for {booking.event.title} on "
            f"{selectors.day_text(booking.event.starts_at)}"
            + (f", not {here.title}." if here else ".")
            + " Do not check this person in here. To check people in for that event, open "
            "its own check-in page first."
        )
    check_perm(request.user, "bookings.run_event", booking.event)
    try:
        booking, changed = services.check_in(booking=booking, by=request.user)
    except ValidationError as error:
        return booking, _error_text(error)
    return booking, None if changed else "already"


@require_safe
@login_required
def scan(request, token: str):
    """The address in the QR code: opening it on a staff phone checks the person in.

    A state change on GET, deliberately: a phone camera opens the address, and
    checking in is idempotent. Session cookies are SameSite=Lax, so another site's
    image or script cannot make a staff browser do it.
    """
    door = _door(request)
    booking, problem = _scan(request, token, door=door)
    if problem == "own":
        return render(request, "bookings/own_code.html", {"booking": booking})
    if booking is not None and problem is None:
        _set_door(request, booking.event)
    status = 200 if problem in (None, "already") else 400
    return render(
        request,
        "bookings/scan.html",
        {
            "booking": booking,
            "problem": problem if problem != "already" else None,
            "already": problem == "already",
            "door": door or (booking.event_id if booking else None),
            "counts": selectors.counts_for(booking.event) if booking and status == 200 else None,
            "lifted_text": LIFTED_TEXT,
        },
        status=status,
    )


@require_POST
@login_required
def check_in_code(request, event_id: int):
    """A code typed by a scanner or pasted in, on the check-in page of one event."""
    event = _run_event(request, event_id)
    _set_door(request, event)
    form = CodeForm(request.POST)
    if form.is_valid():
        booking, problem = _scan(request, form.cleaned_data["code"], door=event.pk)
        if problem is None:
            messages.success(request, _checked_in_text(booking))
            return redirect("bookings:check_in", event.pk)
        if problem == "already":
            messages.info(request, f"{booking.student} was already checked in.")
            return redirect("bookings:check_in", event.pk)
        form.add_error("code", problem)
    return _check_in_page(request, event, code_form=form, status=400)


@require_safe
@login_required
def counts(request, event_id: int):
    """Live figures for the check-in page (polled by check_in.js)."""
    event = _run_event(request, event_id)
    return JsonResponse(selectors.counts_for(event).as_dict())


# Staff: after the event -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def attendance(request, event_id: int):
    """Close attendance (no-shows), then email the no-shows from an editable template."""
    event = _run_event(request, event_id)
    settings = selectors.settings_of(event)
    form = FollowUpForm(
        request.POST if request.POST.get("do") == "follow_up" else None,
        initial={"subject": FOLLOW_UP_SUBJECT, "body": FOLLOW_UP_BODY},
    )
    if request.method == "POST":
        if request.POST.get("do") == "close":
            # Closing asks first (a page left open from before may still post here).
            return redirect("bookings:attendance_close", event.pk)
        if form.is_valid():
            try:
                followup = services.noshow_followup_send(
                    event=event,
                    by=request.user,
                    expected_recipients=_posted_number(request, "recipients"),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(
                    request,
                    "Your message is on its way to "
                    f"{counted(followup.recipients, 'person', 'people')}.",
                )
                return redirect("bookings:attendance", event.pk)
    no_shows = selectors.event_bookings(event).filter(status=Booking.Status.NO_SHOW)
    return render(
        request,
        "bookings/attendance.html",
        {
            "event": event,
            "settings": settings,
            "counts": selectors.counts_for(event, settings),
            "form": form,
            "no_shows": no_shows[:500],
            "pending": selectors.followup_pending(event.pk).count(),
            "followups": selectors.followups_of(event),
            "refusal": selectors.attendance_refusal(event, timezone.now()),
            "policy_enabled": selectors.current_policy().enabled,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def attendance_close(request, event_id: int):
    """Close attendance after confirming the figures: who becomes a no-show, and how many
    of them are restricted from booking and emailed. One press must not do that unseen."""
    event = _run_event(request, event_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            closing = services.attendance_close(
                event=event,
                by=request.user,
                expected_no_shows=_posted_number(request, "no_shows"),
                expected_restrictions=_posted_number(request, "restrictions"),
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
            if selectors.settings_of(event).attendance_closed:
                return redirect("bookings:attendance", event.pk)
            return redirect("bookings:attendance_close", event.pk)
        text = f"Attendance is closed: {counted(len(closing.no_shows), 'person', 'people')} "
        text += "did not attend."
        if closing.restrictions:
            text += (
                f" {counted(len(closing.restrictions), 'student', 'students')} reached the "
                "no-show limit: they are restricted from booking and are being emailed."
            )
        messages.success(request, text)
        return redirect("bookings:attendance", event.pk)
    if request.method == "POST":
        return redirect("bookings:attendance_close", event.pk)
    try:
        closing = services.attendance_close_preview(event=event)
    except ValidationError as error:
        closing, refusal = None, _error_text(error)
    else:
        refusal = None
    return render(
        request,
        "bookings/attendance_close.html",
        {"event": event, "closing": closing, "refusal": refusal},
    )


def _posted_number(request, name: str) -> int:
    """A figure the confirmation carried; one missing or altered matches no real figure."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else -1


@require_http_methods(["GET", "POST"])
@login_required
def report(request, event_id: int):
    """Attendance figures (no names) to download, or send to the employers taking part."""
    event = _run_event(request, event_id)
    contacts = selectors.report_contacts(event, request.user)
    choices = [
        (
            str(c.pk),
            f"{c.display_name} ({c.job_title + ', ' if c.job_title else ''}{c.organisation})",
        )
        for c, blocked in contacts
        if not blocked
    ]
    form = ReportSendForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        chosen = [c for c, _ in contacts if str(c.pk) in form.cleaned_data["contacts"]]
        try:
            report = services.employer_report_send(
                event=event, contacts=chosen, by=request.user, message=form.cleaned_data["message"]
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            sent = report.contacts.count()
            had = len(chosen) - sent
            messages.success(
                request,
                f"The figures are on their way to {counted(sent, 'contact', 'contacts')}."
                + (
                    f" {counted(had, 'other already has', 'others already have')} them."
                    if had
                    else ""
                ),
            )
            return redirect("bookings:report", event.pk)
    return render(
        request,
        "bookings/report.html",
        {
            "event": event,
            "figures": selectors.attendance_report(event),
            "smallest_group": selectors.SMALLEST_GROUP,
            "contacts": contacts,
            "form": form,
            "reports": selectors.reports_of(event),
        },
    )


@require_safe
@login_required
def report_csv(request, event_id: int):
    event = _run_event(request, event_id)
    figures = selectors.attendance_report(event)
    audit.log(event, "bookings.report.exported", by=request.user, data={"format": "csv"})
    return csv_download(selectors.report_csv_rows(figures), filename=f"attendance-{event.pk}.csv")


# The no-show policy ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require("bookings.run_bookings")
def policy(request):
    """The site's no-show policy (administrators change it) and the restrictions in force."""
    current = selectors.current_policy()
    may_change = request.user.has_perm("bookings.change_policy")
    form = PolicyForm(request.POST or None, instance=current) if may_change else None
    if request.method == "POST":
        if not may_change:
            check_perm(request.user, "bookings.change_policy")
        if form.is_valid():
            changed = services.noshow_policy_update(by=request.user, **form.cleaned_data)
            saved(request, changed, "The no-show policy is saved.")
            return redirect("bookings:policy")
    return render(
        request,
        "bookings/policy.html",
        {
            "policy": current,
            "form": form,
            "bans": selectors.bans()[:200],
            "lift_form": LiftForm(),
        },
    )


@require_POST
@require("bookings.lift_ban")
def lift_ban(request, ban_id: int):
    ban = get_object_or_404(BookingBan.objects.select_related("student"), pk=ban_id)
    form = LiftForm(request.POST)
    if form.is_valid():
        try:
            ban = services.booking_ban_lift(
                ban=ban, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            # Only a student who was emailed about the restriction is emailed its end.
            told = " They are emailed to say so." if ban.notified_at else ""
            messages.success(request, f"{ban.student} may book again.{told}")
    else:
        messages.error(request, "Say why the restriction is lifted.")
    return redirect("bookings:policy")
