from django import template

from mycareer.bookings import selectors

register = template.Library()


@register.inclusion_tag("bookings/includes/event_booking.html", takes_context=True)
def event_booking(context, event):
    """The booking panel for one event, as the person looking at it sees it.

    `{% load bookings %}{% event_booking event %}` on any page that shows an event.
    """
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {
        "panel": selectors.booking_panel(event, user),
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path() if request is not None else "",
    }
