"""iCalendar feeds and downloads, and the page to subscribe and reset the address.

Calendar programs fetch feeds without a session, so a feed knows its reader by a
private token: in the path for a person's own feed, or `?token=` on the others.
Without a token or a session there is nothing to show: even published events may
be closed to some students, so none of these feeds is public. The public feeds for the
university's website (public_feeds.py) list only events shared beyond students; this
module also has the page that gives staff their addresses.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from mycareer.accounts.models import Unit, User
from mycareer.core.http import form_reasons, refused
from mycareer.core.permissions import require
from mycareer.core.public_feeds import MAX_AGE, public_feed_pages
from mycareer.events import registry, selectors, services
from mycareer.events.feeds import calendar_response, event_file_response, feed_links
from mycareer.events.forms import CalendarFilterForm
from mycareer.events.models import Event
from mycareer.events.units import UnitTree


def _reader(request) -> User | None:
    token = request.GET.get("token", "")
    if token:
        user = User.objects.filter(feed_token=token, is_active=True).first()
        if user is None:
            raise Http404("No such calendar.")
        return user
    return request.user if request.user.is_authenticated else None


def _needs_token() -> HttpResponse:
    return HttpResponse(
        "This calendar needs your private address: find it on MyCareer's "
        f"'Subscribe to events' page, {_subscribe_url()}",
        status=403,
        content_type="text/plain; charset=utf-8",
    )


def _subscribe_url() -> str:
    return f"{settings.SITE_URL}{reverse('events:subscribe')}"


def _refused(form: CalendarFilterForm) -> HttpResponse:
    """400 in words a person reads in their calendar program: what is wrong, what it takes."""
    reasons = form_reasons(form, by_name=True)
    if form.unknown_filters():
        reasons.append(f"Its filters are: {', '.join(form.fields)}.")
    return refused(
        "this calendar",
        reasons,
        then=f"Open {_subscribe_url()} and copy the calendar's address again.",
    )


def _unfiltered(request, *, takes: frozenset[str] = frozenset({"token"})) -> HttpResponse | None:
    """400 for a filter on a calendar that takes none: `&type=workshop` on a unit's
    calendar quietly listed every event of the unit, as if they were the workshops."""
    unknown = sorted(set(request.GET) - takes)
    if not unknown:
        return None
    return refused(
        "this calendar",
        [f"It takes no filters, but its address has: {', '.join(unknown)}."],
        then=f"For filtered events, open {_subscribe_url()} and copy the address from there.",
    )


@require_safe
def feed(request):
    """Every event the reader may see, narrowed by the calendar's filters if given."""
    reader = _reader(request)
    if reader is None:
        return _needs_token()
    tree = UnitTree.load()
    visible = selectors.visible_events(reader, tree)
    form = CalendarFilterForm(
        request.GET, audience_filters=True, strict=True, not_filters={"token"}
    )
    if not form.is_valid():
        # Never the whole calendar for a filter it does not know (`filters` is then empty).
        return _refused(form)
    filters = form.filters()
    events = selectors.apply_filters(visible, filters, tree)
    described = ", ".join(str(v) if k != "year" else f"year {v}" for k, v in filters.items())
    name = f"MyCareer events: {described}" if described else "MyCareer events"
    key = hashlib.sha256(form.querystring().encode()).hexdigest()[:12]
    return calendar_response(request, selectors.in_feed(events), name=name, feed_id=f"events-{key}")


@require_safe
def unit_feed(request, code: str):
    """Events organised by a unit and the units below it."""
    reader = _reader(request)
    if reader is None:
        return _needs_token()
    if refused := _unfiltered(request):
        return refused
    unit = get_object_or_404(Unit, code=code)
    tree = UnitTree.load()
    events = selectors.visible_events(reader, tree).filter(unit_id__in=tree.descendants(unit.pk))
    return calendar_response(
        request, selectors.in_feed(events), name=f"MyCareer: {unit}", feed_id=f"unit-{unit.code}"
    )


@require_safe
def personal_feed(request, token: str):
    """A person's own calendar: their events, and what other apps add (bookings)."""
    person = User.objects.filter(feed_token=token, is_active=True).first()
    if person is None:
        raise Http404("No such calendar.")
    if refused := _unfiltered(request, takes=frozenset()):
        return refused
    return calendar_response(
        request,
        selectors.personal_feed_events(person),
        name="MyCareer: my events",
        feed_id=f"person-{person.pk}",
    )


@require_safe
def event_ics(request, pk: int):
    """'Add to calendar': one event as an .ics file."""
    reader = _reader(request)
    if reader is None:
        return _needs_token()
    event = selectors.in_feed(selectors.visible_events(reader)).filter(pk=pk).first()
    if event is None:
        # A draft, an event long cancelled, or one this person may not see.
        if not Event.objects.filter(pk=pk).exists():
            raise Http404("No such event.")
        raise Http404("This event is not on the calendar.")
    # Not saved: the file's SEQUENCE (and so its fingerprint) is this person's.
    event.sequence = registry.sequence_for(event, reader)
    return event_file_response(request, event)


@require_safe
@login_required
def subscribe(request):
    """The person's private feed addresses, and a way to reset them."""
    user = request.user
    links = feed_links(user)
    unit_links = []
    if user.has_perm("mycareer.view_staff_pages"):
        for unit in Unit.objects.filter(pk__in=selectors.member_unit_ids(user)):
            url = reverse("events:unit_feed", args=[unit.code])
            unit_links.append((unit, f"{settings.SITE_URL}{url}?token={user.feed_token}"))
    return render(
        request,
        "events/subscribe.html",
        {
            "links": links,
            "unit_links": unit_links,
            "webcal": links["personal"]
            .replace("https://", "webcal://")
            .replace("http://", "webcal://"),
        },
    )


@require_safe
@require("events.view_public_feed_list")
def public_feed_list(request):
    """The public feeds' addresses and filters, for whoever edits the university's website."""
    return render(
        request, "events/public_feeds.html", {"feeds": public_feed_pages(), "max_age": MAX_AGE}
    )


@require_POST
@login_required
def reset_token(request):
    services.feed_token_reset(user=request.user, by=request.user)
    messages.success(
        request,
        "Your calendar addresses have changed. Subscribe again with the new ones; "
        "the old ones no longer work.",
    )
    return redirect("events:subscribe")
