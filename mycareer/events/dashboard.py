from django.utils import timezone

from mycareer.events import selectors
from mycareer.events.clashes import find_clashes_for_many
from mycareer.events.models import OpeningRequest


def student_panel(request) -> dict | None:
    """Students: the next events open to them."""
    user = request.user
    if not user.is_student:
        return None
    return {"events": selectors.upcoming_visible(user, limit=5)}


def staff_panel(request) -> dict | None:
    """Staff: their units' coming events, drafts that clash, and requests to answer."""
    user = request.user
    if not user.has_perm("mycareer.view_staff_pages"):
        return None
    events = selectors.upcoming_of_units(user, limit=8)
    drafts = [e for e in events if e.is_draft]
    clashes = find_clashes_for_many(drafts) if drafts else {}
    requests = list(
        selectors.opening_requests_for(user).filter(status=OpeningRequest.Status.PENDING)[:5]
    )
    return {
        "events": events,
        "clashing_drafts": [(e, clashes[e.pk]) for e in drafts if clashes.get(e.pk)],
        "requests": requests,
        "now": timezone.now(),
    }
