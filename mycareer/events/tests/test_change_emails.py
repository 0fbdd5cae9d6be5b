"""People with a place, or waiting for one, are told when the event's time or place changes.

A student who booked a talk in Room 1 and is not told it moved to Room 2 goes to the
wrong room. Through the real task worker and a real SMTP server.
"""

import datetime
import html

import icalendar
import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from mycareer.bookings import services as booking_services
from mycareer.bookings.models import Booking
from mycareer.bookings.tickets import calendar_sequence
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.events import services
from mycareer.events.models import Event
from mycareer.events.tests.factories import at, far_monday, make_event
from mycareer.events.tests.test_email_links import paths_in, sent_to

SITE = "https://mycareer.example.ac.uk"


@pytest.fixture
def talk(persona):
    """A published talk in Room 1 with one place: Aisha has it, Ben waits."""
    tom = persona("operator")
    event = make_event(
        by=tom, title="Turbines in practice", starts_at=at(far_monday(), 10), publish=True
    )
    booking_services.capacity_change(event=event, capacity=1, by=tom)
    for student in (persona("student"), persona("student2")):
        booking_services.staff_book_student(event=event, student=student, by=tom, notify=False)
    return event


def change_emails() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="send_change_emails").count()


@pytest.mark.django_db(transaction=True)
def test_a_new_room_and_time_are_emailed_to_who_has_a_place_and_who_waits(
    persona, client, smtp_server, run_worker, talk, settings
):
    settings.SITE_URL = SITE
    tom, aisha, ben = persona("operator"), persona("student"), persona("student2")
    monday = far_monday()
    services.event_update(
        event=talk, by=tom, venue="Room 2", starts_at=at(monday, 11), ends_at=at(monday, 12)
    )
    run_worker()

    for person, holding in ((aisha, "a place"), (ben, "a place on the waiting list")):
        body = sent_to(smtp_server, person, "Changed: Turbines in practice")
        assert f"where you have {holding}, has changed" in body
        assert "Where: Room 2 (it was Room 1)" in body
        day = f"{monday:%A} {monday.day} {monday:%B %Y}"
        assert f"When: {day}, 11:00–12:00 (it was {day}, 10:00–11:00)" in body
        # With the file that moves the event in a calendar it was added to: only a place's
        # confirmation added it, so a file for someone waiting would add it as if booked.
        assert ("open the file event.ics that comes with this email" in body) is (person == aisha)
        client.force_login(person)
        for path in paths_in(body):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "Room 2" in response.content.decode()
    assert len(smtp_server.messages()) == 2
    (waiting,) = [m for m in smtp_server.messages() if m["To"] == ben.email]
    assert not list(waiting.iter_attachments())
    (mail,) = [m for m in smtp_server.messages() if m["To"] == aisha.email]
    (ics,) = [a for a in mail.iter_attachments() if a.get_filename() == "event.ics"]
    (vevent,) = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
    talk.refresh_from_db()
    assert vevent["UID"] == talk.ical_uid and vevent["DTSTART"].dt == at(monday, 11)
    # Above the SEQUENCE of the file her confirmation carried: a calendar takes it over.
    booking = Booking.objects.get(event=talk, student=aisha)
    booking.event.sequence = 0  # as it was when she booked
    assert vevent["SEQUENCE"] > calendar_sequence(booking)

    # The task run again (a retried task) emails nobody twice.
    DBTaskResult.objects.filter(task_path__endswith="send_change_emails").update(
        status="READY", finished_at=None, started_at=None
    )
    run_worker()
    assert len(smtp_server.messages()) == 2


@pytest.mark.django_db
def test_other_changes_drafts_and_past_events_email_nobody(
    persona, talk, django_capture_on_commit_callbacks
):
    tom = persona("operator")
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=tom, description="Bring a notebook.")
        services.event_update(event=talk, by=tom, title="Turbines in practice, part one")
    assert change_emails() == 0

    draft = make_event(by=tom, title="A draft", starts_at=at(far_monday(), 14))
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=draft, by=tom, venue="Room 9")
    assert change_emails() == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=tom, online_url="https://meet.example.com/t")
    assert change_emails() == 1


@pytest.mark.django_db
def test_nobody_is_told_of_a_change_to_an_event_that_is_over(persona, talk):
    from mycareer.events.models import Event
    from mycareer.events.selectors import people_to_tell_of_changes

    assert [holding for _, holding in people_to_tell_of_changes(talk)] == [
        "a place",
        "a place on the waiting list",
    ]
    past = at(far_monday(-2), 10)
    Event.objects.filter(pk=talk.pk).update(starts_at=past, ends_at=past.replace(hour=11))
    talk.refresh_from_db()
    assert people_to_tell_of_changes(talk) == []


@pytest.mark.django_db
def test_the_edit_form_says_who_is_emailed_and_the_saved_page_that_they_were(
    persona, client, talk, django_capture_on_commit_callbacks
):
    client.force_login(persona("operator"))
    url = reverse("events:edit", args=[talk.pk])
    page = client.get(url).content.decode()
    assert (
        "If you change the time, the venue or the online link, the 2 people with a place or "
        "on the waiting list are emailed what changed." in page
    )
    data = as_post(form_fields(page, containing="venue"))
    unchanged = client.post(url, data, follow=True).content.decode()
    assert "Nothing was changed." in unchanged
    assert "emailed the change" not in unchanged
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.post(url, {**data, "venue": "Room 3"}, follow=True).content.decode()
    assert "The 2 people with a place or on the waiting list are emailed the change." in moved
    assert change_emails() == 1


@pytest.mark.django_db
def test_times_in_the_hour_the_clocks_pass_twice_survive_an_edit_of_something_else(
    persona, client, talk
):
    """Set through the API with their offsets, 01:00 BST and 01:30 GMT on the night the
    clocks go back are drawn as 01:00 and 01:30, which that night has twice: saving the
    page for its title was refused as if the organiser had typed an ambiguous time."""
    starts = datetime.datetime(2027, 10, 31, 0, 0, tzinfo=datetime.UTC)  # 01:00 BST
    ends = datetime.datetime(2027, 10, 31, 1, 30, tzinfo=datetime.UTC)  # 01:30 GMT
    Event.objects.filter(pk=talk.pk).update(starts_at=starts, ends_at=ends)
    client.force_login(persona("operator"))
    url = reverse("events:edit", args=[talk.pk])
    data = as_post(form_fields(client.get(url).content.decode(), containing="venue"))
    assert (data["starts_at"], data["ends_at"]) == (["2027-10-31T01:00"], ["2027-10-31T01:30"])
    unchanged = client.post(url, data, follow=True).content.decode()
    assert "Nothing was changed." in unchanged
    client.post(url, {**data, "title": "Careers in rail, again"}, follow=True)
    talk.refresh_from_db()
    assert talk.title == "Careers in rail, again"
    assert (talk.starts_at, talk.ends_at) == (starts, ends)
    typed = client.post(url, {**data, "ends_at": "2027-10-31T01:45"}).content.decode()
    assert "01:45 on 31 October 2027 happens twice in UK time" in html.unescape(typed)


@pytest.mark.django_db
def test_the_organiser_is_told_when_a_colleague_moves_their_event(
    persona, talk, mailoutbox, django_capture_on_commit_callbacks
):
    """Helen (the faculty's) moved Tom's talk: its people were emailed and asked to reply
    to Tom, who heard nothing and learnt of it from their replies."""
    from mycareer.events import tasks

    tom, helen = persona("operator"), persona("manager")
    queued = DBTaskResult.objects.filter(task_path__endswith="changed_by_colleague_email")
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=helen, venue="Room 2")
    [task] = queued
    [event_id, change_id, by_id, changed] = task.args_kwargs["args"]
    assert (event_id, by_id, changed) == (talk.pk, helen.pk, {"venue": ["Room 1", "Room 2"]})
    # Tom switched every optional email off: this one still comes, as it happens.
    tom.notifications_off = [tasks.OPENING_DECISION, tasks.CLASH_OVERRIDE]
    tom.save(update_fields=["notifications_off"])
    assert tasks.send_changed_by_colleague_email.call(*task.args_kwargs["args"]) == 1
    assert tasks.send_changed_by_colleague_email.call(*task.args_kwargs["args"]) == 0  # once
    [email] = [m for m in mailoutbox if "changed your event" in m.subject]
    assert email.to == [tom.email] and email.reply_to == [helen.email]
    assert email.subject.endswith("Helen Marsh changed your event Turbines in practice")
    assert "Where: Room 2 (it was Room 1)" in email.body
    assert (
        "Everyone with a place or on the waiting list (2 people) was emailed what changed, "
        "and asked to reply to you" in email.body
    )
    assert f"/events/{talk.pk}/" in email.body

    # Nothing the students are told about: nor is the organiser.
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=helen, description="Bring a notebook.")
    # Their own event: the organiser is not told what they did themselves.
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=tom, venue="Room 3")
    assert queued.count() == 1


@pytest.mark.django_db
def test_the_organiser_is_not_told_nobody_had_a_place_at_an_event_that_is_over(
    persona, talk, mailoutbox, django_capture_on_commit_callbacks
):
    """Helen corrected the room of Tom's finished talk, where two people had places: his
    email said "Nobody had a place or was on the waiting list, so nobody else was emailed"."""
    from mycareer.events import tasks

    helen = persona("manager")
    past = at(far_monday(-2), 10)
    Event.objects.filter(pk=talk.pk).update(starts_at=past, ends_at=past.replace(hour=11))
    talk.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=helen, venue="Room 2")
    assert change_emails() == 0
    [task] = DBTaskResult.objects.filter(task_path__endswith="changed_by_colleague_email")
    assert tasks.send_changed_by_colleague_email.call(*task.args_kwargs["args"]) == 1
    [email] = [m for m in mailoutbox if "changed your event" in m.subject]
    assert "Nobody had a place" not in email.body
    assert (
        "The event is over, so the 2 people who had a place or were on the waiting list "
        "were not emailed." in email.body
    )


@pytest.mark.django_db
def test_the_organiser_is_not_told_nobody_had_a_place_when_all_who_had_one_have_left(
    persona, talk, mailoutbox, django_capture_on_commit_callbacks
):
    from mycareer.events import tasks

    helen = persona("manager")
    for person in (persona("student"), persona("student2")):
        person.is_active = False
        person.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=talk, by=helen, venue="Room 2")
    [task] = DBTaskResult.objects.filter(task_path__endswith="changed_by_colleague_email")
    assert tasks.send_changed_by_colleague_email.call(*task.args_kwargs["args"]) == 1
    [email] = [m for m in mailoutbox if "changed your event" in m.subject]
    assert "Nobody had a place" not in email.body
    assert "Nobody with a place or on the waiting list can still be emailed" in email.body
