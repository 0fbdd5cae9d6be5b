"""Emails about bookings, sent by the task worker after the change has committed.

Each task reads the rows again and sends nothing if things changed meanwhile (a
booking cancelled before its confirmation went out gets no confirmation).
"""

import logging

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from mycareer.bookings.models import (
    HOLDING,
    Booking,
    BookingBan,
    EmployerReport,
    NoShowFollowUp,
    WaitlistEntry,
)
from mycareer.bookings.selectors import (
    active_ban,
    attendance_report,
    offer_expired_text,
    report_csv_rows,
    settings_of,
    waitlist_position,
    when_text,
)
from mycareer.bookings.tickets import calendar_sequence, check_in_url, event_ics, qr_png
from mycareer.core import mailmerge
from mycareer.core.logs import log_event
from mycareer.core.mail import Attachment, send_email
from mycareer.core.retry import email_task
from mycareer.core.spreadsheets import csv_text

logger = logging.getLogger(__name__)


def _when(event) -> str:
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    if start.date() == end.date():
        return f"{start:%A %-d %B %Y, %H:%M}–{end:%H:%M}"
    return f"{start:%A %-d %B %Y, %H:%M} to {end:%A %-d %B %Y, %H:%M}"


def _event_url(event) -> str:
    return settings.SITE_URL + reverse("bookings:event", args=[event.pk])


def _my_events_url() -> str:
    return settings.SITE_URL + reverse("bookings:my_events")


def _reply_to(event) -> list[str] | None:
    return event.reply_to()


def _booking(booking_id: int) -> Booking | None:
    return (
        Booking.objects.select_related("event", "event__unit", "event__organiser", "student")
        .filter(pk=booking_id)
        .first()
    )


def _about_booking(
    booking: Booking,
    *,
    subject: str,
    template: str,
    attachments: tuple[Attachment, ...] | list[Attachment] = (),
    once: str = "",
    **context,
) -> int:
    """Email the student of a booking about their place, with the event's details."""
    event = booking.event
    return send_email(
        once=once,
        to=[booking.student.email],
        reply_to=_reply_to(event),
        subject=subject,
        template=template,
        context={
            "booking": booking,
            "event": event,
            "when": _when(event),
            "event_url": _event_url(event),
            **context,
        },
        attachments=attachments,
    )


def _ticket(booking_id: int, *, subject: str, template: str) -> int:
    """A confirmation of a place still held: event details, an .ics for the calendar and the
    check-in QR code. The subject names the event where it says {title}."""
    booking = _booking(booking_id)
    if booking is None or booking.status != Booking.Status.CONFIRMED:
        return 0
    event = booking.event
    return _about_booking(
        booking,
        subject=subject.format(title=event.title),
        template=template,
        my_events_url=_my_events_url(),
        attachments=[
            ("event.ics", event_ics(event, sequence=calendar_sequence(booking)), "text/calendar"),
            ("check-in-code.png", qr_png(check_in_url(booking)), "image/png"),
        ],
    )


@email_task()
def send_booking_confirmation(booking_id: int) -> int:
    """Confirm a place: details, calendar file and check-in QR code."""
    return _ticket(
        booking_id,
        subject="Your place at {title}",
        template="bookings/email/confirmation.txt",
    )


@email_task()
def send_promotion(booking_id: int) -> int:
    """Tell someone the waiting list gave them a place (with the same attachments)."""
    return _ticket(
        booking_id,
        subject="A place came free: you are booked for {title}",
        template="bookings/email/promotion.txt",
    )


def _entry(entry_id: int) -> WaitlistEntry | None:
    return (
        WaitlistEntry.objects.select_related("event", "event__organiser", "student")
        .filter(pk=entry_id)
        .first()
    )


@email_task()
def send_waitlist_joined(entry_id: int) -> int:
    """Tell someone they are on the waiting list, their number and how places are given."""
    entry = _entry(entry_id)
    if entry is None or entry.status != WaitlistEntry.Status.WAITING:
        return 0
    return _about_entry(
        entry,
        subject=f"You are on the waiting list for {entry.event.title}",
        template="bookings/email/waitlist_joined.txt",
        position=waitlist_position(entry),
        settings=settings_of(entry.event),
        event_url=_event_url(entry.event),
        my_events_url=_my_events_url(),
    )


@email_task()
def send_offer(entry_id: int) -> int:
    """Offer a freed place to the next person waiting, with the link to accept it."""
    entry = _entry(entry_id)
    if entry is None or entry.status != WaitlistEntry.Status.OFFERED:
        return 0
    return _about_entry(
        entry,
        subject=f"A place is yours if you want it: {entry.event.title}",
        template="bookings/email/offer.txt",
        until=when_text(entry.offer_expires_at),
        accept_url=settings.SITE_URL + reverse("bookings:offer", args=[entry.pk]),
    )


@email_task()
def send_offer_expired(entry_id: int) -> int:
    """Tell a student that the place offered to them was not taken up in time: they are off
    the waiting list, and are told what they can do (once, even if the task runs again).

    An offer taken back from a student restricted from booking is not an expiry (they
    keep their turn, and their restriction's email says so): nothing is sent for it.
    """
    entry = _entry(entry_id)
    if entry is None:
        return 0
    event = entry.event
    sent = 0
    if entry.status != WaitlistEntry.Status.EXPIRED:
        outcome = "not_expired"
    elif event.is_cancelled or event.starts_at <= timezone.now():
        # The event's start ends every open offer: what the place was for has begun.
        outcome = "event_started_or_cancelled"
    elif not entry.student.is_active or not entry.student.email:
        outcome = "cannot_sign_in"
    else:
        sent = send_email(
            to=[entry.student.email],
            reply_to=_reply_to(event),
            subject=f"The place offered to you has gone: {event.title}",
            template="bookings/email/offer_expired.txt",
            context={
                "entry": entry,
                "event": event,
                "when": _when(event),
                "outcome": offer_expired_text(entry),
                "event_url": _event_url(event),
            },
            once=f"bookings.offer_expired:{entry.pk}",
            user_id=entry.student_id,
        )
        outcome = "sent" if sent else "already_sent"
    log_event(
        logger,
        "bookings.offer_expiry.emailed",
        entry_id=entry.pk,
        event_id=event.pk,
        student_id=entry.student_id,
        outcome=outcome,
        sent=sent,
    )
    return sent


@email_task()
def send_cancelled_by_staff(booking_id: int, moved_to: str = "") -> int:
    """Tell a student that someone else cancelled their place, so they do not come for it;
    `moved_to` names the event staff moved them to (its own email says what they have there)."""
    booking = _booking(booking_id)
    if (
        booking is None
        or booking.status != Booking.Status.CANCELLED
        or booking.cancelled_by_id in (None, booking.student_id)
    ):
        return 0
    return _about_booking(
        booking,
        subject=f"Your place at {booking.event.title} has been cancelled",
        template="bookings/email/cancelled_by_staff.txt",
        # The confirmation put the event in their calendar: this takes it out again.
        attachments=[_cancelling_ics(booking)],
        moved_to=moved_to,
    )


def _cancelling_ics(booking: Booking) -> Attachment:
    """The calendar file that removes a cancelled place's event from the student's calendar."""
    sequence = calendar_sequence(booking, cancelled=True)
    return (
        "event-cancelled.ics",
        event_ics(booking.event, sequence=sequence, cancel=True),
        "text/calendar",
    )


@email_task()
def send_cancellation_confirmation(booking_id: int) -> int:
    """Confirm to a student that they cancelled their place, with a calendar file that
    cancels the event their confirmation's file added (once, even if the worker restarts)."""
    booking = _booking(booking_id)
    if booking is None:
        return 0
    sent = 0
    if booking.status != Booking.Status.CANCELLED or booking.cancelled_by_id != booking.student_id:
        outcome = "not_cancelled_by_student"
    elif (
        Booking.objects.filter(
            event_id=booking.event_id, student_id=booking.student_id, status__in=HOLDING
        )
        .exclude(pk=booking.pk)
        .exists()
    ):
        # Booked again before this went out: the new confirmation is what holds.
        outcome = "booked_again"
    else:
        event = booking.event
        sent = _about_booking(
            booking,
            subject=f"You cancelled your place at {event.title}",
            template="bookings/email/cancelled_by_student.txt",
            my_events_url=_my_events_url(),
            attachments=[_cancelling_ics(booking)],
            once=f"bookings.cancelled_by_student:{booking.pk}",
        )
        outcome = "sent" if sent else "already_sent"
    log_event(
        logger,
        "bookings.cancellation.emailed",
        booking_id=booking.pk,
        event_id=booking.event_id,
        student_id=booking.student_id,
        outcome=outcome,
        sent=sent,
    )
    return sent


@email_task()
def send_removed_from_waiting_list(entry_id: int, moved_to: str = "") -> int:
    """Tell a student that someone else took them off a waiting list; `moved_to` names the
    event staff moved them to (its own email says what they have there)."""
    entry = _entry(entry_id)
    if (
        entry is None
        or entry.status != WaitlistEntry.Status.LEFT
        or entry.ended_by_id in (None, entry.student_id)
    ):
        return 0
    return _about_entry(
        entry,
        subject=f"You are no longer on the waiting list for {entry.event.title}",
        template="bookings/email/removed_from_waiting_list.txt",
        event_url=_event_url(entry.event),
        moved_to=moved_to,
    )


def _about_entry(entry: WaitlistEntry, *, subject: str, template: str, **context) -> int:
    """Email the person on a waiting list about their place in it."""
    return send_email(
        to=[entry.student.email],
        reply_to=_reply_to(entry.event),
        subject=subject,
        template=template,
        context={"entry": entry, "event": entry.event, "when": _when(entry.event), **context},
    )


@email_task()
def send_ban_notice(ban_id: int) -> int:
    """Tell a student why they cannot book for a while, and until when."""
    ban = BookingBan.objects.select_related("student").filter(pk=ban_id).first()
    if ban is None or ban.lifted_at is not None or ban.ends_at <= timezone.now():
        return 0
    sent = send_email(
        to=[ban.student.email],
        subject="You cannot book events for a while",
        template="bookings/email/ban.txt",
        context={"ban": ban, "until": when_text(ban.ends_at), "my_events_url": _my_events_url()},
    )
    BookingBan.objects.filter(pk=ban.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    # Lifted while this was being sent: the lift's own email may have found the student
    # not yet told and sent nothing, so it is sent now, after this one (once at most).
    if BookingBan.objects.filter(pk=ban.pk, lifted_at__isnull=False).exists():
        send_ban_lifted.enqueue(ban.pk)
    return sent


@email_task()
def send_ban_lifted(ban_id: int) -> int:
    """Tell a student that a restriction they were told of is lifted: they can book again."""
    ban = BookingBan.objects.select_related("student").filter(pk=ban_id).first()
    if ban is None or ban.lifted_at is None:
        return 0
    sent = 0
    if ban.notified_at is None:
        # Lifted before its email went out (send_ban_notice then sends nothing): the
        # student never heard of it, so a word about its end would only puzzle them.
        outcome = "not_told_of_it"
    elif active_ban(ban.student) is not None:
        outcome = "restricted_again"  # "you can book again" would be untrue
    else:
        sent = send_email(
            to=[ban.student.email],
            subject="You can book events again",
            template="bookings/email/ban_lifted.txt",
            context={"ban": ban, "my_events_url": _my_events_url()},
            once=f"bookings.ban_lifted:{ban.pk}",
        )
        outcome = "sent" if sent else "already_sent"
    log_event(
        logger,
        "bookings.ban.lift_emailed",
        ban_id=ban.pk,
        student_id=ban.student_id,
        by_correction=ban.lifted_by_correction,
        outcome=outcome,
        sent=sent,
    )
    return sent


@email_task()
def send_noshow_followup(followup_id: int) -> int:
    """Email each no-show the organiser's message once, even if the worker restarts."""
    followup = NoShowFollowUp.objects.select_related("event", "sent_by").get(pk=followup_id)
    event = followup.event
    # Not whoever was erased or left since it was sent: their address reaches nobody now.
    pending = followup.bookings.filter(
        status=Booking.Status.NO_SHOW, followed_up_at__isnull=True, student__is_active=True
    ).select_related("student")
    sent = 0
    for booking in pending:
        values = {
            "first_name": booking.student.get_short_name(),
            "event_title": event.title,
            "event_date": f"{timezone.localtime(event.starts_at):%-d %B %Y}",
        }
        # The organiser's own words, so no "[MyCareer]" before their subject.
        sent += send_email(
            to=[booking.student.email],
            subject=mailmerge.fill(followup.subject, values),
            body=mailmerge.fill(followup.body, values),
            reply_to=[followup.sent_by.email] if followup.sent_by else None,
            kind="bookings.noshow_followup",
            subject_prefix="",
        )
        Booking.objects.filter(pk=booking.pk).update(followed_up_at=timezone.now())
    return sent


def report_csv(report) -> str:
    return csv_text(report_csv_rows(report))


@email_task()
def send_employer_report(report_id: int) -> int:
    """Send the attendance figures (and the CSV) to each chosen employer contact."""
    report = (
        EmployerReport.objects.select_related("event", "event__organiser", "sent_by")
        .prefetch_related("contacts__organisation")
        .get(pk=report_id)
    )
    if report.sent_at is not None:
        return 0
    event = report.event
    figures = attendance_report(event).for_employers()
    attachment = report_csv(figures)
    sent = 0
    for contact in report.contacts.all():
        if not contact.email:
            continue
        sent += send_email(
            to=[contact.email],
            reply_to=[report.sent_by.email] if report.sent_by else _reply_to(event),
            subject=f"Attendance at {event.title}",
            template="bookings/email/employer_report.txt",
            context={
                "contact": contact,
                "report": report,
                "figures": figures,
                "event": event,
                "when": _when(event),
            },
            attachments=[("attendance.csv", attachment, "text/csv")],
            once=f"bookings.employer_report:{report.pk}",
        )
    EmployerReport.objects.filter(pk=report.pk).update(sent_at=timezone.now())
    return sent
