"""Emails through the real task worker and a real SMTP server, attachments included."""

import datetime

import pytest
import time_machine
from icalendar import Calendar

from mycareer.bookings import services
from mycareer.bookings.models import Booking
from mycareer.bookings.tests.factories import make_event, make_students
from mycareer.bookings.tickets import check_in_url, qr_png
from mycareer.organisations import services as organisation_services


def by_subject(inbox, start: str, count: int = 1) -> list:
    """Messages whose subject starts with `start` (the demo story sends some of its own)."""
    found = []
    for _ in range(3):
        found = [m for m in inbox.wait_for(count, timeout=5) if m["Subject"].startswith(start)]
        if len(found) >= count:
            break
    return found


def attachments(message) -> dict[str, tuple[str, bytes]]:
    return {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


@pytest.mark.django_db(transaction=True)
def test_confirmation_waiting_list_promotion_and_offer_emails(
    cast, persona, smtp_server, run_worker
):
    tom = persona("operator")
    event = make_event(organiser=tom, capacity=1, title="Wind turbines in practice")
    aisha, oliver, mei = persona("student"), persona("student2"), persona("student3")
    booking = services.booking_create(event=event, student=aisha, by=aisha)
    services.booking_create(event=event, student=oliver, by=oliver)
    services.booking_create(event=event, student=mei, by=mei)
    run_worker()

    [confirmation] = by_subject(smtp_server, "[MyCareer] Your place at Wind turbines")
    assert confirmation["To"] == aisha.email
    assert confirmation["Reply-To"] == tom.email
    body = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Aisha," in body and "Room 1" in body and "check-in-code.png" in body
    files = attachments(confirmation)
    kind, ics = files["event.ics"]
    assert kind == "text/calendar"
    vevent = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(vevent["UID"]) == event.ical_uid
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert str(vevent["SUMMARY"]) == "Wind turbines in practice"
    kind, png = files["check-in-code.png"]
    assert kind == "image/png" and png.startswith(b"\x89PNG")
    assert png == qr_png(check_in_url(booking))  # the code names this booking

    waiting = by_subject(smtp_server, "[MyCareer] You are on the waiting list", 2)
    texts = {m["To"]: m.get_body(preferencelist=("plain",)).get_content() for m in waiting}
    assert "you are number 1" in texts[oliver.email]
    assert "you are number 2" in texts[mei.email]
    assert "you are booked automatically" in texts[oliver.email]

    # Aisha cancels: Oliver is booked from the list and told, with the same attachments.
    services.booking_cancel(booking=booking, by=aisha)
    run_worker()
    [promotion] = by_subject(smtp_server, "[MyCareer] A place came free")
    assert promotion["To"] == oliver.email
    assert set(attachments(promotion)) == {"event.ics", "check-in-code.png"}

    # In offer mode, Oliver's cancellation offers the place to Mei, with a link to accept.
    services.booking_settings_update(event=event, by=tom, promotion="offer", offer_hours=6)
    services.booking_cancel(booking=Booking.objects.get(event=event, student=oliver), by=oliver)
    run_worker()
    [offer] = by_subject(smtp_server, "[MyCareer] A place is yours if you want it: Wind")
    assert offer["To"] == mei.email
    text = offer.get_body(preferencelist=("plain",)).get_content()
    assert "/bookings/offers/" in text and "offered to the next person" in text


@pytest.mark.django_db(transaction=True)
def test_no_show_follow_up_employer_report_and_restriction_emails(
    cast, persona, smtp_server, run_worker
):
    tom, admin = persona("operator"), persona("admin")
    services.noshow_policy_update(by=admin, enabled=True, no_shows=1, window_weeks=12, ban_weeks=2)
    event = make_event(
        organiser=tom,
        capacity=5,
        title="Gearboxes explained",
        starts_in=datetime.timedelta(hours=1),
    )
    came, missed = persona("student"), persona("student5")
    cohort = make_students(2)
    for student in (came, missed, *cohort):
        services.booking_create(event=event, student=student, by=student)
    organisation = organisation_services.organisation_create(by=tom, name="Gearbox Works Ltd")
    event.organisations.add(organisation)
    contact = organisation_services.contact_create(
        organisation=organisation, by=tom, full_name="Gail Gear", email="gail@gearbox.example.com"
    )
    with time_machine.travel(event.ends_at, tick=True):
        services.check_in(booking=Booking.objects.get(event=event, student=came), by=tom)
        services.check_in(booking=Booking.objects.get(event=event, student=cohort[0]), by=tom)
        services.attendance_close(event=event, by=tom)
    followup = services.noshow_followup_send(
        event=event,
        by=tom,
        subject="We missed you at {{ event_title }}",
        body="Dear {{ first_name }}, sorry not to see you at {{ event_title }}.",
    )
    services.employer_report_send(event=event, contacts=[contact], by=tom, message="Thanks!")
    run_worker()

    missed_mail = by_subject(smtp_server, "We missed you at Gearboxes explained", 2)
    assert {m["To"] for m in missed_mail} == {missed.email, cohort[1].email}
    fatima = next(m for m in missed_mail if m["To"] == missed.email)
    assert fatima.get_content().strip() == (
        "Dear Fatima, sorry not to see you at Gearboxes explained."
    )
    assert fatima["Reply-To"] == tom.email
    # Running the task again (a restarted worker) sends nobody a second copy.
    from mycareer.bookings.tasks import send_noshow_followup

    send_noshow_followup.enqueue(followup.pk)
    run_worker()
    assert len(by_subject(smtp_server, "We missed you at Gearboxes explained", 2)) == 2

    [report] = by_subject(smtp_server, "[MyCareer] Attendance at Gearboxes explained")
    assert report["To"] == "gail@gearbox.example.com"
    body = report.get_body(preferencelist=("plain",)).get_content()
    assert "Booked:                 4" in body and "Attended:               2" in body
    assert "Thanks!" in body
    kind, csv = attachments(report)["attendance.csv"]
    assert kind == "text/csv"
    assert b"Did not attend,2" in csv
    for person in (came, missed, *cohort):
        assert person.full_name not in body and person.full_name.encode() not in csv

    restricted = by_subject(smtp_server, "[MyCareer] You cannot book events for a while", 2)
    assert {m["To"] for m in restricted} == {missed.email, cohort[1].email}
    assert "cannot book events until" in restricted[0].get_content()


@pytest.mark.django_db(transaction=True)
def test_a_student_whose_place_staff_ended_is_told_and_one_who_ended_it_is_not(
    cast, persona, smtp_server, run_worker
):
    tom = persona("operator")
    event = make_event(organiser=tom, capacity=1, title="Gearbox design clinic")
    aisha, oliver, mei = persona("student"), persona("student2"), persona("student3")
    booking = services.booking_create(event=event, student=aisha, by=aisha, notify=False)
    entry = services.booking_create(event=event, student=oliver, by=oliver, notify=False)
    services.booking_create(event=event, student=mei, by=mei, notify=False)
    services.waitlist_leave(entry=entry, by=tom)
    services.booking_cancel(booking=booking, by=tom)
    mine = Booking.objects.get(event=event, student=mei)
    services.booking_cancel(booking=mine, by=mei)
    run_worker()

    [cancelled] = by_subject(smtp_server, "[MyCareer] Your place at Gearbox design clinic has")
    assert cancelled["To"] == aisha.email
    assert cancelled["Reply-To"] == tom.email
    body = cancelled.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Aisha," in body and "you no longer have a place" in body
    assert f"/bookings/events/{event.pk}/" in body
    [removed] = by_subject(smtp_server, "[MyCareer] You are no longer on the waiting list")
    assert removed["To"] == oliver.email
    body = removed.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Oliver," in body and "you will not be offered a place" in body
    # Mei cancelled her own place (given her from the list): no such email to her.
    ended = [m["To"] for m in smtp_server.messages() if "cancelled" in m["Subject"]]
    assert ended == [aisha.email]
