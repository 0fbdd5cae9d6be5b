"""Public pages of events shared beyond students: they open for anybody, with no account.

Bulk email promotes events to employers, most of whom have no account; every link in
such an email must open for them. Only events whose audience includes employers or the
public have a public page, and only once published.
"""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from mycareer.events.feeds import event_file_response
from mycareer.events.models import Event


def _shared_event(uid) -> Event | None:
    event = (
        Event.objects.select_related("unit", "organiser", "audience")
        .prefetch_related("organisations", "topics")
        .filter(uid=uid)
        .exclude(status=Event.Status.DRAFT)
        .first()
    )
    if event is None or not event.audience.is_shared_beyond_students:
        return None
    return event


@require_safe
def public_detail(request, uid):
    """What anybody needs to know to come or take part: when, where, who to contact."""
    event = _shared_event(uid)
    if event is None:
        return render(request, "events/public_missing.html", status=404)
    return render(request, "events/public.html", {"event": event})


@require_safe
def public_ics(request, uid):
    """'Add to calendar' from the public page."""
    event = _shared_event(uid)
    if event is None:
        return render(request, "events/public_missing.html", status=404)
    return event_file_response(request, event, public=True)
