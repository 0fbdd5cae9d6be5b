"""The main journeys, as each person would do them, by the page's labels and roles."""

import datetime
import io
import re

import pytest
import time_machine
import zxingcpp
from django.conf import settings as django_settings
from PIL import Image
from playwright.sync_api import expect

from e2e.conftest import fill_registration, log_in, log_out, open_menu_link, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_records_an_organisation_and_finds_it_by_tags(page, site, viewport):
    log_in(page, site, "operator@demo.ac.uk")
    open_menu_link(page, "Organisations")
    screenshot(page, "search", viewport)
    page.get_by_role("link", name="Add an organisation").click()
    page.get_by_label("Name", exact=True).fill("Northbridge Engineering Limited")
    page.get_by_label("Website", exact=True).fill("https://www.northbridge-eng.co.uk")
    page.get_by_label("Tags", exact=True).fill("Robotics Lab, Placements")
    page.get_by_role("button", name="Create the organisation").click()
    # Warned of the likely duplicate, with the reason.
    expect(
        page.get_by_role("heading", name="This organisation may already be in MyCareer")
    ).to_be_visible()
    expect(page.get_by_text("Same web domain: northbridge-eng.co.uk")).to_be_visible()
    page.get_by_label("I have checked: this is a different organisation, create it anyway").check()
    page.get_by_role("button", name="Create the organisation").click()
    expect(
        page.get_by_role("heading", name="Northbridge Engineering Limited", level=1)
    ).to_be_visible()
    page.get_by_role("link", name="Add a contact").click()
    page.get_by_label("Name", exact=True).fill("Dana Whitley")
    page.get_by_label("Email", exact=True).fill("dana.whitley@northbridge-eng.co.uk")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Record a note").click()
    page.get_by_label("Type of engagement").select_option("meeting")
    page.get_by_label("Dana Whitley").check()
    page.get_by_label("What happened").fill("Met Dana about a robotics placement for two students.")
    page.get_by_role("button", name="Save the note").click()
    expect(page.get_by_text("Met Dana about a robotics placement")).to_be_visible()
    screenshot(page, "organisation-profile", viewport)
    open_menu_link(page, "Organisations")
    page.get_by_label("Has all of these tags").fill("robotics lab, placements")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table")
    expect(results.get_by_role("link", name="Northbridge Engineering Limited")).to_be_visible()
    expect(
        results.get_by_role("link", name="Northbridge Engineering Ltd", exact=True)
    ).to_have_count(0)


def test_a_suggested_tag_with_a_comma_is_written_in_quotes_and_saved_whole(page, site):
    """Completion wrote "Engineering, Civil" bare, so saving made two tags of it, and it
    read the tags already typed by splitting at every comma, quoted or not."""
    from mycareer.accounts.models import User
    from mycareer.organisations import services
    from mycareer.organisations.models import Organisation

    services.organisation_create(
        by=User.objects.get(email="operator@demo.ac.uk"),
        name="Ouse Civil Partners",
        tags=["Engineering, Civil", "Engineering, Marine"],
        confirm_duplicates=True,
    )
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/organisations/new/")
    page.get_by_label("Name", exact=True).fill("Humber Dock Works")
    tags = page.get_by_label("Tags", exact=True)
    tags.press_sequentially("Placements, civil", delay=20)
    page.get_by_role("button", name="Engineering, Civil", exact=True).click()
    expect(tags).to_have_value('Placements, "Engineering, Civil", ')
    expect(tags).to_be_focused()

    # Typed in quotes, the tag being completed is all of "engineering, ma…", and the
    # tag already chosen is not offered again.
    tags.press_sequentially('"engineering', delay=20)
    marine = page.get_by_role("button", name="Engineering, Marine", exact=True)
    expect(marine).to_be_visible()
    expect(page.get_by_role("button", name="Engineering, Civil", exact=True)).to_have_count(0)
    tags.press_sequentially(", ma", delay=20)
    expect(marine).to_be_visible()
    tags.press("ArrowDown")
    expect(marine).to_be_focused()
    page.keyboard.press("Enter")
    expect(tags).to_have_value('Placements, "Engineering, Civil", "Engineering, Marine", ')

    page.get_by_role("button", name="Create the organisation").click()
    expect(page.get_by_role("heading", name="Humber Dock Works", level=1)).to_be_visible()
    created = Organisation.objects.get(name="Humber Dock Works")
    assert sorted(created.tags.names()) == [
        "Engineering, Civil",
        "Engineering, Marine",
        "Placements",
    ]


def test_two_organisations_of_one_name_are_suggested_by_number_in_the_event_form(page, site):
    """Both were offered as "Acme Ltd", which the event form refuses, asking which one."""
    from mycareer.accounts.models import User
    from mycareer.organisations import services

    tom = User.objects.get(email="operator@demo.ac.uk")
    first, second = (
        services.organisation_create(by=tom, name="Acme Ltd", website=web, confirm_duplicates=True)
        for web in ("https://acme.example.com", "https://acme-uk.example.com")
    )
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/events/new/")
    organisations = page.get_by_label("Organisations taking part")
    organisations.press_sequentially("acme", delay=20)
    expect(
        page.get_by_role("button", name=f"Acme Ltd (no. {first.pk}) — acme.example.com")
    ).to_be_visible()
    page.get_by_role("button", name=f"Acme Ltd (no. {second.pk}) — acme-uk.example.com").click()
    expect(organisations).to_have_value(f"Acme Ltd (no. {second.pk})\n")
    expect(organisations).to_be_focused()


def test_employer_registers_posts_a_vacancy_and_a_student_finds_it(
    page, site, viewport, mailoutbox
):
    page.goto(f"{site.url}/employer/register/")
    fill_registration(
        page,
        organisation="Heronsgate Robotics",
        website="https://heronsgate-robotics.co.uk",
        name="Imani Cole",
        email="imani@heronsgate-robotics.co.uk",
        password="Kestrel-Wing-42",
    )
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mailoutbox[-1].body).group(0)
    page.goto(
        link.replace("http://127.0.0.1:8000", site.url).replace("http://testserver", site.url)
    )
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    # Staff approve the new organisation.
    page.context.clear_cookies()
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/organisations/registrations/")
    page.get_by_role("link", name="Imani Cole").click()
    page.get_by_role("radio", name=re.compile("Approve")).check()
    page.get_by_role("button", name="Record the decision").click()
    page.context.clear_cookies()
    # The employer posts a vacancy for mechanical engineering students.
    log_in(page, site, "imani@heronsgate-robotics.co.uk", "Kestrel-Wing-42")
    page.goto(f"{site.url}/vacancies/new/")
    page.get_by_label("Title").fill("Robotics summer internship")
    page.get_by_label("Description").fill("Ten weeks building warehouse robots with our engineers.")
    page.get_by_label("Type of vacancy").select_option("internship")
    page.get_by_label("Location").fill("Leeds")
    page.get_by_label("Closing date").fill("2027-06-30")
    page.get_by_label("Link to apply").fill("https://heronsgate-robotics.co.uk/jobs")
    page.get_by_role("checkbox", name=re.compile(r"^School of Mechanical Engineering")).check()
    page.get_by_role("button", name="Save and send for moderation").click()
    page.context.clear_cookies()
    # Staff approve it.
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/vacancies/moderation/")
    page.get_by_role("link", name=re.compile("Robotics summer internship")).first.click()
    # Wait for the vacancy's page before asking what it offers, not the list being left.
    expect(
        page.get_by_role("heading", name=re.compile("Robotics summer internship"), level=1)
    ).to_be_visible()
    if page.get_by_role("link", name=re.compile("^Moderate")).count():
        page.get_by_role("link", name=re.compile("^Moderate")).click()
    page.get_by_role("radio", name=re.compile("Approve")).check()
    page.get_by_role("button", name="Record the decision").click()
    page.context.clear_cookies()
    # A student of the targeted school finds it.
    log_in(page, site, "student@demo.ac.uk")
    page.goto(f"{site.url}/vacancies/")
    page.get_by_label(re.compile("Search|Words|Text", re.I)).first.fill("robotics")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=re.compile("Robotics summer internship"))).to_be_visible()
    # A history student does not see it.
    page.context.clear_cookies()
    log_in(page, site, "student4@demo.ac.uk")
    page.goto(f"{site.url}/vacancies/")
    expect(page.get_by_role("link", name=re.compile("Robotics summer internship"))).to_have_count(0)


def test_bulk_mailer_sends_to_exactly_the_chosen_employers_and_every_link_opens(
    page, site, viewport, smtp_server, run_worker, settings, browser
):
    """Search, draft, edit the words, change the recipients, preview, confirm the number,
    and the messages that arrive are exactly those; their links open with no account."""
    from mycareer.mailing import services
    from mycareer.mailing.models import Campaign

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    run_worker()  # the demo story's own notifications first
    log_in(page, site, "mailer@demo.ac.uk")
    page.goto(f"{site.url}/organisations/?text=Northbridge")
    page.get_by_role("link", name="Email these organisations' contacts").click()
    expect(page.get_by_text("Organisations matching “Northbridge”")).to_be_visible()
    first_count = int(page.locator("[data-count=included]").first.inner_text())
    assert 0 < first_count < 10
    page.get_by_label("Subject").fill("Meet our engineers this term")
    page.get_by_label("Message").fill(
        "Dear {{ first_name }},\n\nOur **engineering fair** is coming up.\n\nBest wishes,\nGrace"
    )
    page.get_by_label(re.compile("Engineering and technology careers fair")).check()
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", name="Who will receive it")).to_be_visible()
    campaign = Campaign.objects.get(subject="Meet our engineers this term")

    # Edit only the words: the recipients do not move.
    page.get_by_role("link", name="Edit the message").click()
    page.get_by_label("Message").fill("Dear {{ first_name }},\n\nOur **engineering fair** is soon.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Its recipients are as they were")).to_be_visible()
    assert int(page.locator("[data-count=included]").first.inner_text()) == first_count

    # Change the recipients on their own page, seeing the number before and after.
    page.get_by_role("link", name="Change the recipients").click()
    page.get_by_label("Name, description or contact name").fill("")
    page.get_by_label("Has all of these tags").fill("Graduate recruiter, Placements")
    page.get_by_role("button", name="Show who this search reaches").click()
    use = page.get_by_role("button", name=re.compile(r"Use these recipients \(\d+\)"))
    new_count = int(re.search(r"\((\d+)\)", use.inner_text()).group(1))
    expect(page.get_by_text(f"From {first_count} to {new_count}")).to_be_visible()
    use.click()
    expect(
        page.get_by_text(f"Recipients changed: {first_count} before, {new_count} now")
    ).to_be_visible()

    # The preview shows the formatted email inside its frame.
    page.get_by_role("link", name="Preview").click()
    frame = page.frame_locator("iframe.email-preview")
    expect(frame.locator("strong", has_text="engineering fair")).to_be_visible()
    expect(frame.get_by_text("Engineering and technology careers fair")).to_be_visible()
    screenshot(page, "campaign-preview", viewport)
    page.go_back()

    # Send: the confirmation repeats the number, and the sender types it.
    campaign.refresh_from_db()
    expected = {c.email.lower() for c in services.campaign_recipients(campaign).included}
    assert len(expected) == new_count
    page.get_by_role("link", name="Send…").click()
    expect(page.get_by_role("heading", name=f"It goes to {new_count} recipients")).to_be_visible()
    page.get_by_label("Type the number of recipients to confirm").fill(str(new_count))
    page.get_by_role("button", name=f"Send to {new_count} recipients").click()
    expect(page.get_by_text(f"on its way to {new_count} recipients")).to_be_visible()
    run_worker()
    messages = [
        m for m in smtp_server.wait_for(new_count) if m["X-MyCareer-Campaign"] == str(campaign.pk)
    ]
    assert sorted(m["To"] for m in messages) == sorted(expected)  # exactly those, once each

    # Every link in a message opens for its reader, who has no account.
    html = messages[0].get_body(preferencelist=("html",)).get_content()
    links = {
        link.replace("http://127.0.0.1:8000", site.url)
        for link in re.findall(r'href="([^"]+)"', html)
        if link.startswith("http://127.0.0.1:8000")
    }
    assert len(links) >= 2  # the promoted event and the unsubscribe link
    stranger = browser.new_context()
    reader = stranger.new_page()
    for link in sorted(links):
        response = reader.goto(link)
        assert response.status == 200, link
    reader.goto(next(link for link in links if "/events/public/" in link))
    expect(
        reader.get_by_role("heading", name="Engineering and technology careers fair")
    ).to_be_visible()
    stranger.close()

    page.goto(f"{site.url}/email/chart/")
    screenshot(page, "time-chart", viewport)
    log_out(page)
    log_in(page, site, "untrained@demo.ac.uk")
    page.goto(f"{site.url}/email/new/")
    expect(page.get_by_role("heading", name="You cannot do this")).to_be_visible()
    expect(page.get_by_text("you need the Bulk mailer level")).to_be_visible()


def test_a_campaign_page_left_open_shows_it_sent_once_the_worker_is_done(
    page, site, smtp_server, run_worker, settings
):
    """The page kept counting while the messages went, then still said "Queued" and
    offered to cancel a campaign with nothing left to send."""
    from mycareer.accounts.models import Unit, User
    from mycareer.mailing import services

    settings.MYCAREER = {**settings.MYCAREER, "BULK_EMAIL_RATE": 0}
    run_worker()  # the demo story's own notifications first
    campaign = services.campaign_create(
        sender=User.objects.get(email="mailer@demo.ac.uk"),
        unit=Unit.objects.get(code="lubs"),
        purpose="events",
        subject="Watched while it goes",
        body="Dear {{ first_name }},\n\nHello.",
        recipient_filters={"text": "Leodis"},
    )
    count = len(services.campaign_recipients(campaign).included)
    assert count
    log_in(page, site, "mailer@demo.ac.uk")
    page.goto(f"{site.url}/email/{campaign.pk}/send/")
    page.get_by_label("Type the number of recipients to confirm").fill(str(count))
    page.get_by_role("button", name=re.compile("Send to")).click()
    expect(page.get_by_text("on its way to")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel the campaign…")).to_be_visible()
    page.goto(f"{page.url.split('#')[0].split('?')[0]}?outcome=waiting")
    run_worker()
    # No reload by the sender, and none by the page, which would move their focus: the
    # status says it is over and leads to the final figures, without the stale filter.
    finished = page.get_by_role("status").get_by_role(
        "link", name="Sending has finished: show the final figures"
    )
    expect(finished).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(r"outcome=waiting"))  # not reloaded
    finished.click()
    expect(page).not_to_have_url(re.compile(r"outcome="))
    expect(page.locator("dl.facts")).to_contain_text("Sent")
    expect(page.get_by_role("link", name="Cancel the campaign…")).to_have_count(0)


def test_the_time_chart_finds_an_organisation_as_you_type(page, site):
    log_in(page, site, "viewer@demo.ac.uk")
    page.goto(f"{site.url}/email/chart/")
    expect(page.get_by_label("Over the last")).to_have_value("12")
    page.get_by_label("Organisation").press_sequentially("northb", delay=30)
    suggestion = page.locator("#organisation-suggestions option")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_have_attribute("value", "Northbridge Engineering Ltd")
    page.get_by_label("Organisation").fill("Northbridge Engineering Ltd")
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_role("heading", name="Bulk emails received by employers at Northbridge")
    ).to_be_visible()
    current = page.get_by_role("navigation", name="Main").locator("[aria-current=page]")
    expect(current).to_have_count(1)


def open_event(page, title: str) -> None:
    """From the menu to one event, through the calendar's list view."""
    open_menu_link(page, "Events")
    page.get_by_role("link", name="List", exact=True).click()
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def booking_panel(page):
    return page.get_by_role("region", name="Booking")


def qr_code_text(message) -> str:
    """What a phone camera reads from the check-in code attached to an email."""
    [png] = [
        part.get_payload(decode=True)
        for part in message.iter_attachments()
        if part.get_filename() == "check-in-code.png"
    ]
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return code.text


def test_an_event_that_clashes_is_published_booked_waitlisted_and_checked_in(
    page, site, viewport, smtp_server, run_worker
):
    from mycareer.events.models import Event

    title = "Robotics industry evening"  # a draft of the demo, the day before the careers fair
    # The operator publishes despite the clash, with a reason.
    log_in(page, site, "operator@demo.ac.uk")
    open_menu_link(page, "Events")
    screenshot(page, "calendar", viewport)
    open_event(page, title)
    page.get_by_role("link", name="Publish", exact=True).click()
    clashes = page.locator(".clash-list")
    expect(
        clashes.get_by_role("link", name="Engineering and technology careers fair")
    ).to_be_visible()
    expect(clashes).to_contain_text("Kirkstall Robotics")
    page.get_by_role("button", name="Publish despite the clashes").click()
    # The error summary names the missing reason and leads to the box.
    page.get_by_role("link", name=re.compile("^Reason for publishing.*: Give a reason")).click()
    expect(page.get_by_label("Reason for publishing despite the clashes")).to_be_focused()
    page.get_by_label("Reason for publishing despite the clashes").fill(
        "Kirkstall can only come on Thursday evening; the fair is daytime."
    )
    page.get_by_role("button", name="Publish despite the clashes").click()
    expect(page.get_by_text(f"{title} is published.")).to_be_visible()
    # One place, and the next person on the waiting list is booked automatically.
    page.get_by_role("link", name="Bookings and waiting list").click()
    page.get_by_role("navigation", name="Running this event").get_by_role(
        "link", name="Settings"
    ).click()
    page.get_by_label("Number of places").fill("1")
    page.get_by_label("Keep a waiting list when the event is full").check()
    page.get_by_role("radio", name=re.compile("Automatic")).check()
    page.get_by_role("button", name="Save").click()
    log_out(page)

    # A student books the place; a second one joins the waiting list.
    log_in(page, site, "student@demo.ac.uk")
    open_event(page, title)
    page.get_by_role("button", name="Book a place").click()
    expect(booking_panel(page)).to_contain_text("You have a place.")
    screenshot(page, "event-booking", viewport)
    log_out(page)
    log_in(page, site, "student5@demo.ac.uk")
    open_event(page, title)
    expect(booking_panel(page)).to_contain_text("Fully booked")
    page.get_by_role("button", name="Join the waiting list").click()
    expect(booking_panel(page)).to_contain_text("You are number 1 on the waiting list")
    log_out(page)

    # The first cancels; the second is booked and told, with her check-in code.
    log_in(page, site, "student@demo.ac.uk")
    open_event(page, title)
    page.get_by_role("link", name="Cancel my place").click()
    expect(
        page.get_by_text("the next person on it will be given the place and told by email")
    ).to_be_visible()
    page.get_by_role("button", name="Yes, cancel my place").click()
    expect(page.get_by_text(f"Your place at {title} is cancelled.")).to_be_visible()
    log_out(page)
    run_worker()
    [promotion] = [
        m
        for m in smtp_server.wait_for(1)
        if m["Subject"] == f"[MyCareer] A place came free: you are booked for {title}"
    ]
    assert promotion["To"] == "student5@demo.ac.uk"
    log_in(page, site, "student5@demo.ac.uk")
    open_event(page, title)
    expect(booking_panel(page)).to_contain_text("You have a place.")
    log_out(page)

    # On the evening, door staff scan her code with a phone: it opens the check-in address.
    address = qr_code_text(promotion)
    assert address.startswith(f"{django_settings.SITE_URL}/bookings/scan/")
    starts = Event.objects.get(title=title).starts_at
    with time_machine.travel(starts - datetime.timedelta(minutes=20), tick=True):
        log_in(page, site, "operator@demo.ac.uk")
        page.goto(address.replace(django_settings.SITE_URL, site.url))
        expect(page.get_by_role("heading", name="Checked in", level=1)).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(f"Fatima Begum is checked in to {title}")
        screenshot(page, "check-in", viewport)
        page.goto(address.replace(django_settings.SITE_URL, site.url))
        expect(page.get_by_role("heading", name="Already checked in", level=1)).to_be_visible()


def test_keyboard_only_a_viewer_finds_an_organisation(page, site):
    """Tab, Enter and typing only: no mouse."""
    page.goto(f"{site.url}/accounts/login/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    for _ in range(5):
        if page.evaluate("document.activeElement.name") == "login":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("viewer@demo.ac.uk")
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "password":
            break
    page.keyboard.type("demo-password-1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/")
    # Skip link first, then the menu.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip() == "Organisations":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/organisations/$"))
    page.get_by_label("Name, description or contact name").focus()
    page.keyboard.type("ridge")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Northbridge Engineering Ltd")).to_be_visible()
    # The focus is visible: an outline is drawn on the focused element.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
