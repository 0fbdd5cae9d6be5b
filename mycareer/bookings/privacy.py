"""Bookings in subject access and erasure.

Erasing a student keeps their past bookings (attendance figures stay right) under the
erased login; places they hold at events still to come go to the next person waiting,
and they leave every waiting list.
"""

import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from mycareer.audit.personal_data import (
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
    in_words,
)
from mycareer.audit.retention import audit_entries_unnamed
from mycareer.bookings.models import (
    QUEUED,
    Booking,
    BookingBan,
    EmployerReport,
    NoShowFollowUp,
    WaitlistEntry,
)
from mycareer.bookings.services import booking_cancel, waitlist_leave
from mycareer.events.models import Event


def _upcoming(subject):
    return Booking.objects.filter(
        student_id__in=subject.user_ids,
        status=Booking.Status.CONFIRMED,
        event__starts_at__gt=timezone.now(),
    )


def anonymise_bookings(subject, *, apply: bool, by=None) -> list[Change]:

    upcoming = list(_upcoming(subject))
    queued = list(WaitlistEntry.objects.filter(student_id__in=subject.user_ids, status__in=QUEUED))
    kept = Booking.objects.filter(student_id__in=subject.user_ids).exclude(
        pk__in=[b.pk for b in upcoming]
    )
    changes = []
    if upcoming:
        changes.append(
            Change(
                "Places at events still to come",
                "cancelled; each goes to the next person waiting",
                len(upcoming),
            )
        )
    if queued:
        changes.append(Change("Waiting-list places", "given up", len(queued)))
    if kept.exists():
        changes.append(
            Change(
                "Past and cancelled bookings",
                "kept for attendance figures, under the erased login",
                kept.count(),
                kept=True,
            )
        )
    if apply:
        for booking in upcoming:
            # Not told: their login is being erased, address and all.
            booking_cancel(booking=booking, by=by, notify=False)
        for entry in queued:
            waitlist_leave(entry=entry, by=by, notify=False, erasing=True)
    return changes


def _graduated_before() -> datetime.date:
    """Students whose expected graduation is before this day are past the kept years."""
    years = settings.MYCAREER["BOOKINGS_KEPT_YEARS_AFTER_GRADUATION"]
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def bookings_after_graduation_due() -> QuerySet:
    """Bookings at ended events of students who graduated more than N years ago."""
    return Booking.objects.filter(
        student__student_profile__expected_graduation__lt=_graduated_before(),
        event__ends_at__lt=timezone.now(),
    )


def waitlist_after_graduation_due() -> QuerySet:
    return WaitlistEntry.objects.filter(
        student__student_profile__expected_graduation__lt=_graduated_before(),
        event__ends_at__lt=timezone.now(),
    )


def bans_after_graduation_due() -> QuerySet:
    """Booking restrictions, ended, of students who graduated more than N years ago: the
    bookings they were counted from are gone by then, and the reason names the events."""
    return BookingBan.objects.filter(
        student__student_profile__expected_graduation__lt=_graduated_before(),
        ends_at__lt=timezone.now(),
    )


# What the audit trail calls a removed row, instead of whose it was.
REMOVED = {
    Booking: "A booking",
    WaitlistEntry: "A waiting-list place",
    BookingBan: "A booking restriction",
}


def remove_rows(rows: QuerySet) -> int:
    """Remove the rows whose time is up; the event's own record stays, and so do the rows'
    audit entries, without the student (their name was in each one's description)."""
    rows = rows.model.objects.filter(pk__in=list(rows.values_list("pk", flat=True)))
    what = REMOVED.get(rows.model) or capfirst(rows.model._meta.verbose_name)
    audit_entries_unnamed(rows, described=f"{what} removed by the retention schedule")
    count, _ = rows.delete()
    return count


def booking_places(subject):
    users, contacts = subject.user_ids, subject.contact_ids
    booked = Booking.objects.filter(student_id__in=users).values("event_id")
    waited = WaitlistEntry.objects.filter(student_id__in=users).values("event_id")
    yield TextPlace(
        "Events they booked",
        Event.objects.filter(Q(pk__in=booked) | Q(pk__in=waited)),
        ("description", "cancelled_reason"),
        lambda event: f"Event “{event.title}” on {in_words(event.starts_at)}",
    )
    yield TextPlace(
        "Booking restrictions",
        BookingBan.objects.filter(student_id__in=users),
        ("reason", "lift_reason"),
        lambda ban: f"Booking restriction from {in_words(ban.starts_at)}",
    )
    yield TextPlace(
        "Emails to people who did not attend",
        NoShowFollowUp.objects.filter(
            pk__in=Booking.objects.filter(student_id__in=users).values("followup_id")
        ).select_related("event"),
        ("subject", "body"),
        lambda followup: f"Email after “{followup.event.title}”, {in_words(followup.created_at)}",
    )
    yield TextPlace(
        "Attendance reports sent to them",
        EmployerReport.objects.filter(
            pk__in=EmployerReport.contacts.through.objects.filter(contact_id__in=contacts).values(
                "employerreport_id"
            )
        ).select_related("event"),
        ("message",),
        lambda report: f"Attendance report for “{report.event.title}”",
    )


def booking_letter(subject):
    users = subject.user_ids
    bookings = (
        Booking.objects.filter(student_id__in=users)
        .select_related("event")
        .order_by("event__starts_at")
    )
    for booking in bookings:
        yield LetterEntry(
            "bookings",
            f"Your place at “{booking.event.title}”",
            [
                ("Event date", booking.event.starts_at),
                ("Status", booking.get_status_display()),
                ("Booked", booking.booked_at),
                ("How", booking.get_source_display()),
                ("Checked in", booking.checked_in_at),
                ("Cancelled", booking.cancelled_at),
            ],
            when=booking.event.starts_at,
        )
    entries = (
        WaitlistEntry.objects.filter(student_id__in=users)
        .select_related("event")
        .order_by("joined_at")
    )
    for entry in entries:
        yield LetterEntry(
            "bookings",
            f"Waiting list for “{entry.event.title}”",
            [
                ("Joined", entry.joined_at),
                ("Status", entry.get_status_display()),
                ("Offered a place", entry.offered_at),
                ("Ended", entry.ended_at),
            ],
            when=entry.joined_at,
        )
    for ban in BookingBan.objects.filter(student_id__in=users):
        yield LetterEntry(
            "bookings",
            "A restriction on booking",
            [
                ("From", ban.starts_at),
                ("Until", ban.ends_at),
                ("Missed events counted", ban.no_shows),
                ("Emailed to you", ban.notified_at),
                ("Lifted", ban.lifted_at),
                ("Why it was lifted", ban.lift_reason),
            ],
            text=ban.reason,
            when=ban.starts_at,
            quoted=("Why it was lifted",),
        )
    followups = (
        Booking.objects.filter(student_id__in=users, followup__isnull=False)
        .select_related("followup__event")
        .order_by("followed_up_at")
    )
    for booking in followups:
        yield LetterEntry(
            "messages",
            f"Email after “{booking.followup.event.title}”: {booking.followup.subject}",
            [("Sent", booking.followed_up_at)],
            when=booking.followed_up_at,
        )
    reports = (
        EmployerReport.objects.filter(contacts__in=subject.contact_ids)
        .select_related("event")
        .distinct()
    )
    for report in reports:
        yield LetterEntry(
            "messages",
            f"Attendance figures for “{report.event.title}” (no students' names)",
            [("Sent", report.sent_at)],
            when=report.sent_at,
        )


personal_data = PersonalDataHandler(
    anonymise=anonymise_bookings,
    places=booking_places,
    letter=booking_letter,
    covers=(
        "bookings.Booking.student",
        "bookings.WaitlistEntry.student",
        "bookings.BookingBan.student",
        "bookings.EmployerReport.contacts",
    ),
)
