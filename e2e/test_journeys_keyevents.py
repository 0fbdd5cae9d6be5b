"""Key accounts, events and bookings as people really use them, in a real browser.

An operator records a call a key contact made to them; an operator edits an event whose
clash was already accepted; an event with a waiting list is cancelled and its students
find out; attendance is closed after its figures are seen. Each runs at a desktop width
and at 390x844, and the pages met on the way are checked with axe.
"""

import datetime
import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import assert_accessible, log_in, log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def mails(smtp_server, subject: str) -> list:
    return [m for m in smtp_server.messages() if m["Subject"] == subject]


def test_an_operator_records_an_inbound_call_from_a_key_contact(
    page, site, viewport, smtp_server, run_worker
):
    from mycareer.organisations.models import KeyContact, Organisation

    stratos = Organisation.objects.get(name="Stratos Aerospace Systems")
    contact = KeyContact.objects.get(key_account__organisation=stratos).contact
    run_worker()  # the demo story's own emails, out of the way
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}{stratos.get_absolute_url()}")
    page.get_by_role("link", name="Record a note").click()
    page.get_by_label("Type of engagement").select_option("call")
    # The form says, beside the name, whose key contact this is and what to do.
    page.get_by_role(
        "checkbox",
        name=f"{contact.full_name} * — key contact of Helen Marsh: "
        "ask first, unless they contacted you",
    ).check()
    page.get_by_label("What happened").fill("She rang to offer two summer placements.")
    page.get_by_role("button", name="Save the note").click()
    # Refused as contact we started: straight to asking, with nothing typed lost.
    ask = page.get_by_role("link", name=f"Ask to contact {contact.full_name}")
    expect(ask).to_be_visible()
    expect(page.get_by_label("What happened")).to_have_value(
        "She rang to offer two summer placements."
    )
    assert_accessible(page)
    page.get_by_role("radio", name="They contacted us").check()
    page.get_by_role("button", name="Save the note").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The note is recorded. Helen Marsh will be told that their key contact got in touch."
    )
    expect(page.get_by_text("She rang to offer two summer placements.")).to_be_visible()
    log_out(page)

    # The owner is told by email, and sees it on her liaison page.
    run_worker()
    subject = f"[MyCareer] {contact.full_name} contacted Tom Bennett (Stratos Aerospace Systems)"
    [email] = mails(smtp_server, subject)
    assert email["To"] == "manager@demo.ac.uk"
    log_in(page, site, "manager@demo.ac.uk")
    page.goto(f"{site.url}/organisations/liaison/")
    inbound = page.get_by_role("region", name="Your key contacts who got in touch with colleagues")
    expect(inbound).to_contain_text(f"{contact.full_name} * contacted Tom Bennett")
    expect(inbound).to_contain_text("She rang to offer two summer placements.")
    assert_accessible(page)
    # Helen's own agreement with Tom shows where his contact appears for her.
    page.goto(f"{site.url}/organisations/my-activity/")
    expect(page.get_by_role("region", name="Key contacts you may contact")).to_contain_text(
        re.compile(r"You may contact .+ until \d+ \w+( \d{4})? \(agreed by Tom Bennett\)")
    )


def test_an_event_edited_after_its_clash_was_accepted_is_not_asked_again(
    page, site, viewport, smtp_server, run_worker
):
    from django.db.models import F
    from django.utils import timezone

    from mycareer.bookings.models import BookingSettings
    from mycareer.events.models import ClashOverride, Event

    title = "Northbridge Engineering: industrial placement talk"  # went ahead despite Stratos
    event = Event.objects.get(title=title)
    if event.ends_at <= timezone.now():
        # This week's Monday talk is over later in the week, and a past event keeps its
        # times: the two that clash go on together, still clashing, to a Monday a year
        # on, where nothing else is.
        weeks = datetime.timedelta(weeks=52)
        Event.objects.filter(
            title__in=[title, "Stratos Aerospace: graduate scheme presentation"]
        ).update(starts_at=F("starts_at") + weeks, ends_at=F("ends_at") + weeks)
        event.refresh_from_db()
    accepted = ClashOverride.objects.filter(event=event).count()
    run_worker()
    before = len(smtp_server.messages())
    log_in(page, site, "operator@demo.ac.uk")

    # Adding an event: organisations are suggested as you type.
    page.goto(f"{site.url}/events/new/")
    organisations = page.get_by_label("Organisations taking part")
    organisations.press_sequentially("northb", delay=20)
    suggestion = page.get_by_role("button", name="Northbridge Engineering Ltd")
    expect(suggestion).to_be_visible()
    organisations.press("ArrowDown")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    expect(organisations).to_have_value("Northbridge Engineering Ltd\n")
    expect(organisations).to_be_focused()
    assert_accessible(page)

    # Moving the talk by a quarter of an hour keeps the same clash: no reason, no email.
    page.goto(f"{site.url}{event.get_absolute_url()}")
    page.get_by_role("link", name="Edit", exact=True).click()
    later = datetime.timedelta(minutes=15)
    page.get_by_label("Starts").fill(f"{event.local_start + later:%Y-%m-%dT%H:%M}")
    page.get_by_label("Ends").fill(f"{event.local_end + later:%Y-%m-%dT%H:%M}")
    page.get_by_label("Number of places").fill("25")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"{title} is saved.")
    expect(page.get_by_label("Reason for going ahead despite the clashes")).to_have_count(0)
    # This week's Monday talk: ahead of us early in the week, over by the weekend.
    expect(page.get_by_role("region", name="Booking")).to_contain_text(
        re.compile(r"25 places left|0 of 25 places booked")
    )
    assert ClashOverride.objects.filter(event=event).count() == accepted
    assert BookingSettings.objects.get(event=event).capacity == 25
    run_worker()
    assert not [m for m in smtp_server.messages()[before:] if "clashes with" in m["Subject"]]


def test_an_event_cancelled_with_a_waiting_list_tells_everyone_once(
    page, site, viewport, smtp_server, run_worker
):
    from mycareer.accounts.models import User
    from mycareer.bookings import services
    from mycareer.bookings.models import Booking
    from mycareer.events.models import Event

    title = "Ouse Water Services: sustainability in engineering"  # four booked of 30
    event = Event.objects.get(title=title)
    tom = User.objects.get(email="operator@demo.ac.uk")
    services.capacity_change(event=event, capacity=4, by=tom)
    fatima = User.objects.get(email="student5@demo.ac.uk")
    services.booking_create(event=event, student=fatima, by=fatima, notify=False)
    run_worker()
    before = len(smtp_server.messages())

    # Aisha joins the waiting list, second in the queue; cancelling her fair place asks first.
    log_in(page, site, "student@demo.ac.uk")
    page.goto(f"{site.url}{event.get_absolute_url()}")
    panel = page.get_by_role("region", name="Booking")
    panel.get_by_role("button", name="Join the waiting list").click()
    expect(panel).to_contain_text("You are number 2 on the waiting list")
    fair = Event.objects.get(title="Engineering and technology careers fair")
    page.goto(f"{site.url}{fair.get_absolute_url()}")
    page.get_by_role("link", name="Cancel my place").click()
    expect(page.get_by_role("heading", name="Cancel your place?")).to_be_visible()
    expect(page.get_by_text("The place will be free for someone else to book.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Keep my place").click()
    expect(page.get_by_role("region", name="Booking")).to_contain_text("You have a place.")
    log_out(page)

    # The organiser sees the numbers before cancelling.
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}{event.get_absolute_url()}")
    page.get_by_role("link", name="Cancel the event").click()
    expect(page.get_by_text("4 people have a place")).to_be_visible()
    expect(page.get_by_text("2 people are on the waiting list")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Why is the event cancelled?").fill("The speaker's train was cancelled.")
    page.get_by_role("button", name="Cancel the event and email 6 people").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"{title} is cancelled. 6 people will be emailed once each."
    )
    log_out(page)

    run_worker()
    run_worker()  # a second run sends nobody anything again
    told = mails(smtp_server, f"[MyCareer] Cancelled: {title}")
    assert len(told) == 6 and len({m["To"] for m in told}) == 6
    assert len(smtp_server.messages()) - before == 6
    [aishas] = [m for m in told if m["To"] == "student@demo.ac.uk"]
    # The text beside the calendar file that takes the event out of her calendar.
    text = aishas.get_body(preferencelist=("plain",)).get_content()
    assert "and your place on the waiting list with it" in text
    assert not Booking.objects.filter(event=event, status="confirmed").exists()

    # Her pages say the event was cancelled, not that she is still waiting.
    log_in(page, site, "student@demo.ac.uk")
    page.goto(f"{site.url}/bookings/my-events/")
    cancelled = page.get_by_role("region", name="Cancelled by the organisers")
    expect(cancelled).to_contain_text(title)
    expect(cancelled).to_contain_text("You were on the waiting list; it ended with the event.")
    expect(page.get_by_role("region", name="Waiting lists")).not_to_contain_text(title)
    assert_accessible(page)
    page.goto(f"{site.url}{event.get_absolute_url()}")
    panel = page.get_by_role("region", name="Booking")
    expect(panel).to_contain_text("This event was cancelled.")
    expect(panel).to_contain_text("You were on its waiting list; that has ended with it")
    expect(panel).not_to_contain_text("You are number")


def test_closing_attendance_says_the_figures_first_and_a_second_press_changes_nothing(
    page, site, viewport, smtp_server, run_worker
):
    from mycareer.bookings import services
    from mycareer.bookings.demo import PAST_OPEN
    from mycareer.bookings.models import Booking
    from mycareer.events.models import Event

    event = Event.objects.get(title=PAST_OPEN)  # last week; some checked in, not closed
    figures = services.attendance_close_preview(event=event).figures
    no_shows = len(services.attendance_close_preview(event=event).no_shows)
    assert no_shows > 0
    run_worker()

    log_in(page, site, "manager@demo.ac.uk")
    page.goto(f"{site.url}/bookings/events/{event.pk}/attendance/")
    page.get_by_role("link", name="Close attendance…").click()
    expect(page.get_by_role("heading", name=f"Close attendance for {PAST_OPEN}?")).to_be_visible()
    expect(page.get_by_text(figures)).to_be_visible()
    assert_accessible(page)
    # Changing one's mind changes nothing.
    page.get_by_role("link", name="Not yet").click()
    assert Booking.objects.filter(event=event, status=Booking.Status.NO_SHOW).count() == 0

    page.get_by_role("link", name="Close attendance…").click()
    # The same confirmation left open in another tab, pressed after the first.
    other = page.context.new_page()
    other.goto(page.url)
    press = f"Yes, close attendance and mark {no_shows} no-shows"
    page.get_by_role("button", name=press).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Attendance is closed: {no_shows} people did not attend."
    )
    assert Booking.objects.filter(event=event, status=Booking.Status.NO_SHOW).count() == no_shows
    other.get_by_role("button", name=press).click()
    expect(other.get_by_role("status")).to_contain_text("Attendance was already closed on")
    assert Booking.objects.filter(event=event, status=Booking.Status.NO_SHOW).count() == no_shows
