"""Emails through the real task worker and a real SMTP server, attachments included."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from mycareer.accounts.demo import DEMO_PASSWORD
from mycareer.bookings import services
from mycareer.bookings.models import Booking, BookingBan, WaitlistEntry
from mycareer.bookings.tests.factories import held_event, make_event, make_students
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
    # Four people: every group is under five, so each table is one combined row (a year
    # of one person beside their programme could name them).
    combined = "Other groups (each under 5 people), combined: 4 booked, 2 attended"
    assert body.count(combined) == 3
    assert ": 1 booked" not in body
    kind, csv = attachments(report)["attendance.csv"]
    assert kind == "text/csv"
    assert b"Did not attend,2" in csv
    assert b",1,1,0,0" not in csv and b",1,0,1,0" not in csv
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
    ended = [m for m in smtp_server.messages() if "has been cancelled" in m["Subject"]]
    assert [m["To"] for m in ended] == [aisha.email]
    # Her calendar loses the event too: the file cancels what her confirmation added.
    cancelling = Calendar.from_ical(attachments(ended[0])["event-cancelled.ics"][1])
    assert cancelling["METHOD"] == "CANCEL"
    assert [str(e["UID"]) for e in cancelling.walk("VEVENT")] == [event.ical_uid]


@pytest.mark.django_db(transaction=True)
def test_a_student_staff_move_is_told_the_old_place_ended_and_what_they_have_instead(
    cast, persona, smtp_server, run_worker
):
    """Moved to a full event, Aisha's place becomes a place on its waiting list: without
    being told her place here ended, she would come to it, with it still in her calendar."""
    tom = persona("operator")
    here = make_event(organiser=tom, capacity=1, title="Gearbox design clinic")
    there = make_event(organiser=tom, capacity=1, title="Pump design workshop")
    aisha, oliver, mei = persona("student"), persona("student2"), persona("student3")
    services.booking_create(event=there, student=mei, by=mei, notify=False)
    booking = services.booking_create(event=here, student=aisha, by=aisha, notify=False)
    entry = services.booking_create(event=here, student=oliver, by=oliver, notify=False)
    # Oliver, moved from this waiting list to the other, is told he left this one.
    services.staff_move(entry=entry, to_event=there, by=tom)
    services.staff_move(booking=booking, to_event=there, by=tom, confirmed_position=2)
    run_worker()

    [ended] = by_subject(smtp_server, "[MyCareer] Your place at Gearbox design clinic has")
    assert ended["To"] == aisha.email
    body = ended.get_body(preferencelist=("plain",)).get_content()
    assert "you no longer have a place" in body
    # Named with its time: moves are mostly to another session of the same title.
    starts = timezone.localtime(there.starts_at)
    moved_to = f"They moved you to Pump design workshop on {starts:%a %-d %B, %H:%M}."
    assert moved_to in body
    assert Calendar.from_ical(attachments(ended)["event-cancelled.ics"][1])["METHOD"] == "CANCEL"
    waiting = by_subject(smtp_server, "[MyCareer] You are on the waiting list for Pump", 2)
    assert sorted(m["To"] for m in waiting) == sorted([aisha.email, oliver.email])
    [removed] = by_subject(smtp_server, "[MyCareer] You are no longer on the waiting list")
    assert removed["To"] == oliver.email
    body = removed.get_body(preferencelist=("plain",)).get_content()
    assert moved_to in body


@pytest.mark.django_db(transaction=True)
def test_a_student_who_cancels_gets_one_email_whose_calendar_file_cancels_the_event(
    cast, persona, client, smtp_server, run_worker, caplog
):
    tom, aisha = persona("operator"), persona("student")
    event = make_event(organiser=tom, capacity=5, title="Hydraulics open lab")
    booking = services.booking_create(event=event, student=aisha, by=aisha)
    run_worker()
    [confirmation] = by_subject(smtp_server, "[MyCareer] Your place at Hydraulics open lab")
    booked = Calendar.from_ical(attachments(confirmation)["event.ics"][1])

    client.force_login(aisha)
    client.post(reverse("bookings:cancel", args=[booking.pk]), {"confirm": "yes"})
    with caplog.at_level("INFO", logger="mycareer.bookings.tasks"):
        run_worker()
        run_worker()  # nothing left to send: still one email
    subject = "[MyCareer] You cancelled your place at Hydraulics open lab"
    [cancelled] = by_subject(smtp_server, subject)
    assert [m["Subject"] for m in smtp_server.messages()].count(subject) == 1
    assert cancelled["To"] == aisha.email and cancelled["Reply-To"] == tom.email
    body = cancelled.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Aisha," in body and "event-cancelled.ics" in body
    kind, ics = attachments(cancelled)["event-cancelled.ics"]
    assert kind == "text/calendar"
    cancel = Calendar.from_ical(ics)
    assert str(cancel["METHOD"]) == "CANCEL"
    [vevent], [added] = cancel.walk("VEVENT"), booked.walk("VEVENT")
    assert str(vevent["UID"]) == str(added["UID"]) == event.ical_uid
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert int(vevent["SEQUENCE"]) > int(added["SEQUENCE"])
    [line] = [r.getMessage() for r in caplog.records if "bookings.cancellation" in r.getMessage()]
    assert f"booking_id={booking.pk}" in line and "outcome=sent" in line
    assert aisha.email not in line

    # Every link opens for her.
    links = [word for word in body.split() if word.startswith(settings.SITE_URL)]
    assert len(links) == 2
    for link in links:
        assert client.get(link.removeprefix(settings.SITE_URL)).status_code == 200

    # Booking again: the new confirmation's file outranks the cancellation's.
    services.booking_create(event=event, student=aisha, by=aisha)
    run_worker()
    again = by_subject(smtp_server, "[MyCareer] Your place at Hydraulics open lab", 2)
    [rebooked] = Calendar.from_ical(attachments(again[-1])["event.ics"][1]).walk("VEVENT")
    assert int(rebooked["SEQUENCE"]) > int(vevent["SEQUENCE"])


# Restrictions: the one who was told they are restricted is told when it is lifted -------------

RESTRICTED = "[MyCareer] You cannot book events for a while"
LIFTED = "[MyCareer] You can book events again"


def _restricted(persona, student):
    """The no-show limit at one, and `student` missed an event a week ago: restricted."""
    tom = persona("operator")
    services.noshow_policy_update(
        by=persona("admin"), enabled=True, no_shows=1, window_weeks=12, ban_weeks=2
    )
    event = held_event(organiser=tom, students=[student], attended=0, title="Pump maintenance")
    return event, BookingBan.objects.get(student=student)


def _to(inbox, student, subject: str) -> list:
    return [m for m in inbox.messages() if m["To"] == student.email and m["Subject"] == subject]


def _lift_lines(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("event=bookings.ban.lift_emailed ")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_correction_that_lifts_a_restriction_emails_the_student_a_link_that_opens_after_login(
    cast, persona, client, smtp_server, run_worker, caplog
):
    aisha = persona("student")
    event, ban = _restricted(persona, aisha)
    run_worker()
    assert len(by_subject(smtp_server, RESTRICTED)) == 1
    # The door's list is corrected: Aisha was there after all.
    booking = Booking.objects.get(event=event, student=aisha)
    with caplog.at_level("INFO", logger="mycareer.bookings.tasks"):
        assert services.check_in(booking=booking, by=persona("operator"))[0].lifted_ban == ban
        run_worker()

    [lifted] = by_subject(smtp_server, LIFTED)
    assert lifted["To"] == aisha.email
    body = lifted.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Aisha," in body and "You can book events again." in body
    assert "attendance record was corrected" in body
    [line] = _lift_lines(caplog)
    assert f"ban_id={ban.pk} student_id={aisha.pk} by_correction=True outcome=sent" in line
    assert aisha.email not in line

    # The link, opened logged out, goes through the login page and back to her events.
    [link] = [word for word in body.split() if word.startswith(settings.SITE_URL)]
    path = link.removeprefix(settings.SITE_URL)
    assert path == reverse("bookings:my_events")
    response = client.get(path)
    assert response.status_code == 302
    login = response["Location"]
    assert urlsplit(login).path == reverse("account_login")
    assert parse_qs(urlsplit(login).query)["next"] == [path]
    response = client.post(login, {"login": aisha.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == path
    page = client.get(path)
    assert page.status_code == 200
    assert "My events" in page.content.decode()
    assert "You cannot book events until" not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_staff_lifting_a_restriction_by_hand_emails_the_student_once(
    cast, persona, client, smtp_server, run_worker
):
    oliver = persona("student2")
    _, ban = _restricted(persona, oliver)
    run_worker()
    assert len(by_subject(smtp_server, RESTRICTED)) == 1
    client.force_login(persona("operator"))
    response = client.post(
        reverse("bookings:lift_ban", args=[ban.pk]), {"reason": "Ill, with a note"}, follow=True
    )
    assert "Oliver Price may book again. They are emailed to say so." in response.content.decode()
    run_worker()

    [lifted] = by_subject(smtp_server, LIFTED)
    assert lifted["To"] == oliver.email
    body = lifted.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Oliver," in body and "You can book events again." in body
    # Staff's reason is theirs: the student is not sent it, nor told of a correction.
    assert "Ill, with a note" not in body and "corrected" not in body
    # A second run of the task (a retry, a restarted worker) sends nothing more.
    from mycareer.bookings.tasks import send_ban_lifted

    send_ban_lifted.enqueue(ban.pk)
    run_worker()
    assert len(_to(smtp_server, oliver, LIFTED)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_restriction_lifted_before_its_email_went_out_is_never_mentioned(
    cast, persona, smtp_server, run_worker, caplog
):
    """Corrected before the worker got to it: neither "you are restricted" (the existing
    rule) nor "it is lifted", which would be news of something they never heard of."""
    aisha, oliver = persona("student"), persona("student2")
    event, aishas = _restricted(persona, aisha)
    tom = persona("operator")
    services.check_in(booking=Booking.objects.get(event=event, student=aisha), by=tom)
    _, olivers = _restricted(persona, oliver)
    services.booking_ban_lift(ban=olivers, by=tom, reason="Ill, with a note")
    with caplog.at_level("INFO", logger="mycareer.bookings.tasks"):
        run_worker()

    smtp_server.wait_for(1, timeout=1)
    for student in (aisha, oliver):
        assert not _to(smtp_server, student, RESTRICTED)
        assert not _to(smtp_server, student, LIFTED)
    lines = _lift_lines(caplog)
    assert len(lines) == 2 and all("outcome=not_told_of_it sent=0" in line for line in lines)


@pytest.mark.django_db(transaction=True)
def test_a_restriction_lifted_while_its_email_was_being_sent_is_followed_by_one_lift_email(
    cast, persona, smtp_server, run_worker, monkeypatch
):
    """The lift's email can find the student not yet told while the restriction's email is
    on its way: that one then sends it, and the student gets each email once."""
    from mycareer.bookings import tasks

    oliver = persona("student2")
    _, ban = _restricted(persona, oliver)
    send = tasks.send_email

    def lifted_meanwhile(**message):
        sent = send(**message)
        if message["subject"].startswith("You cannot book"):
            services.booking_ban_lift(ban=ban, by=persona("operator"), reason="Ill")
            # The lift's own email runs first, before the restriction's is recorded.
            tasks.send_ban_lifted.call(ban.pk)
        return sent

    monkeypatch.setattr(tasks, "send_email", lifted_meanwhile)
    run_worker()

    assert len(by_subject(smtp_server, RESTRICTED)) == 1
    assert len(by_subject(smtp_server, LIFTED)) == 1
    monkeypatch.undo()
    run_worker()
    assert len(_to(smtp_server, oliver, RESTRICTED)) == 1
    assert len(_to(smtp_server, oliver, LIFTED)) == 1


@pytest.mark.django_db(transaction=True)
def test_an_offer_that_runs_out_is_emailed_once_with_a_link_that_opens_after_login(
    cast, persona, client, smtp_server, run_worker
):
    tom = persona("operator")
    aisha, oliver, mei = persona("student"), persona("student2"), persona("student3")
    event = make_event(
        organiser=tom, capacity=1, title="Hydraulics up close", promotion="offer", offer_hours=2
    )
    booking = services.booking_create(event=event, student=aisha, by=aisha, notify=False)
    for student in (oliver, mei):
        services.booking_create(event=event, student=student, by=student, notify=False)
    services.booking_cancel(booking=booking, by=aisha, notify=False)
    deadline = WaitlistEntry.objects.get(event=event, student=oliver).offer_expires_at
    # The five-minute job, past Oliver's deadline, twice (a second worker, a retry).
    for _ in range(2):
        services.offers_expire(now=deadline + datetime.timedelta(minutes=1))
        run_worker()

    subject = "[MyCareer] The place offered to you has gone: Hydraulics up close"
    [expired] = by_subject(smtp_server, subject)
    assert expired["To"] == oliver.email and expired["Reply-To"] == tom.email
    assert len([m for m in smtp_server.messages() if m["Subject"] == subject]) == 1
    body = expired.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Oliver," in body
    assert "you are no longer on its waiting list" in body
    assert "passed to the next person waiting" in body
    assert "join the waiting list again" in body

    # The link, opened logged out, goes through the login page and back to the event.
    [link] = [word for word in body.split() if word.startswith(settings.SITE_URL)]
    path = link.removeprefix(settings.SITE_URL)
    assert path == reverse("bookings:event", args=[event.pk])
    response = client.get(path)
    assert response.status_code == 302
    login = response["Location"]
    assert urlsplit(login).path == reverse("account_login")
    response = client.post(login, {"login": oliver.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == path
    page = client.get(path)
    assert page.status_code == 200
    assert "Hydraulics up close" in page.content.decode()
