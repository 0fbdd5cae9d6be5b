"""What a confirmation carries: a signed check-in code (as a QR image) and a calendar file."""

import io
from email.utils import parseaddr

import segno
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent

from mycareer.bookings.models import Booking
from mycareer.events.models import Event

# A salt of its own, so no other signed value in MyCareer can pass as a check-in code.
CHECK_IN_SALT = "mycareer.bookings.check-in"


def _signer() -> signing.Signer:
    return signing.Signer(salt=CHECK_IN_SALT)


class BadCode(Exception):
    """The code is not one MyCareer signed for check-in (forged, altered or mistyped)."""


def check_in_token(booking: Booking) -> str:
    """A code naming the booking and its event; valid for as long as the booking is."""
    # No timestamp in it (unlike signing.dumps): one booking always has the same code.
    return _signer().sign_object([booking.pk, booking.event_id], compress=True)


def read_check_in_token(token: str) -> tuple[int, int]:
    """The (booking id, event id) a code names; raises BadCode for anything not signed by us."""
    token = token.strip()
    # A scanner may type the whole address; the code is its last part.
    if "/" in token:
        token = [part for part in token.split("/") if part][-1]
    try:
        booking_id, event_id = _signer().unsign_object(token)
        return int(booking_id), int(event_id)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadCode(str(error)) from error


def check_in_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse("bookings:scan", args=[check_in_token(booking)])


def qr_png(data: str) -> bytes:
    """A QR code as a PNG large enough for a phone camera at arm's length."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def calendar_sequence(booking: Booking, *, cancelled: bool = False) -> int:
    """The SEQUENCE of the calendar file a booking's email carries: the event's own, raised
    by two for each earlier place of this student at the event (each was cancelled), and
    by one in the file that cancels this place. So a calendar takes each file over the one
    before: a cancellation over its confirmation, a new booking over a cancellation."""
    earlier = Booking.objects.filter(
        event_id=booking.event_id, student_id=booking.student_id, pk__lt=booking.pk
    ).count()
    return booking.event.sequence + 2 * earlier + (1 if cancelled else 0)


def downloaded_sequence(event: Event, student) -> int | None:
    """The SEQUENCE of the "Add to your calendar" file `student` downloads for `event`:
    that of their place's confirmation, or above the file that cancelled their last place;
    None when they never had a place (the events app uses the event's own). With the
    event's own, a calendar sent the cancellation of an earlier place would keep the
    event cancelled after the student booked again and added it."""
    latest = Booking.objects.filter(event=event, student=student).order_by("-pk").first()
    if latest is None:
        return None
    latest.event = event
    if latest.status == Booking.Status.CANCELLED:
        return calendar_sequence(latest, cancelled=True) + 1
    return calendar_sequence(latest)


def event_ics(event: Event, *, sequence: int | None = None, cancel: bool = False) -> bytes:
    """One event as an iCalendar file; its UID is the event's own, so calendars update it.

    `cancel`: a METHOD:CANCEL file that removes the event from the calendar (its
    `sequence` must be above the one of the file that added it).
    """
    calendar = Calendar()
    calendar.add("prodid", "-//MyCareer//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", event.ical_uid)
    vevent.add("dtstamp", timezone.now())
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    vevent.add("summary", event.title)
    vevent.add("sequence", event.sequence if sequence is None else sequence)
    vevent.add("status", "CANCELLED" if cancel or event.is_cancelled else "CONFIRMED")
    if cancel:
        # iTIP (RFC 5546) requires an ORGANIZER on a CANCEL.
        # One who has left reads nothing: the Careers Centre stands in, as in the emails.
        organiser = (event.reply_to() or [settings.DEFAULT_FROM_EMAIL])[0]
        vevent.add("organizer", f"mailto:{parseaddr(organiser)[1]}")
    location = event.venue or event.join_url
    if location:
        vevent.add("location", location)
    description = event.description
    if event.join_url:
        description = f"{description}\n\nJoin online: {event.join_url}".strip()
    if description:
        vevent.add("description", description)
    vevent.add("url", settings.SITE_URL + reverse("bookings:event", args=[event.pk]))
    calendar.add_component(vevent)
    return calendar.to_ical()
