import datetime

from django.utils import timezone

from mycareer.bookings import selectors


def student_panel(request) -> dict | None:
    """Students: their next few bookings and any offer waiting for an answer."""
    user = request.user
    if not user.is_student:
        return None
    now = timezone.now()
    offers = [e for e in selectors.my_waitlist(user) if e.is_offered and e.event.starts_at > now]
    return {
        "bookings": selectors.upcoming_for_student(user),
        "offers": offers,
        "cancelled": selectors.cancelled_for(user, now=now),
    }


def staff_panel(request) -> dict | None:
    """Staff who run events: today's and this week's events with figures and check-in links."""
    user = request.user
    if not user.has_perm("mycareer.edit_records"):
        return None
    now = timezone.localtime()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_end = today + datetime.timedelta(days=7 - today.weekday())
    events = list(selectors.events_for_staff(user, start=today, end=week_end)[:10])
    if not events:
        return {"today": [], "week": [], "empty": True}
    tomorrow = today + datetime.timedelta(days=1)
    return {
        "today": [e for e in events if e.starts_at < tomorrow],
        "week": [e for e in events if e.starts_at >= tomorrow],
        "empty": False,
    }
