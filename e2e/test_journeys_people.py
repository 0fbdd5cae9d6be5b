"""Journeys of employers and students finding their way, at a desktop and at a phone's width."""

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import VIEWPORTS, fill_registration, log_in, open_menu_link

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_HEIGHT = VIEWPORTS["phone"]["height"]


def test_an_employer_arrives_at_the_home_page_and_registers(
    page, site, viewport, mailoutbox, settings
):
    # Links in emails are built on SITE_URL: here, the address of the test server.
    settings.SITE_URL = site.url
    page.goto(f"{site.url}/")
    page.get_by_role("link", name="Register your organisation").first.click()
    expect(page.get_by_role("heading", name="Register your organisation", level=1)).to_be_visible()
    page.get_by_label("Your job title").fill("Graduate Recruiter")
    fill_registration(
        page,
        organisation="Wrenfield Acoustics",
        website="https://wrenfield-acoustics.co.uk",
        name="Tariq Osei",
        email="tariq@wrenfield-acoustics.co.uk",
        password="Harbour-Lantern-73",
    )
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # The email is MyCareer's own, and its link opens for the reader.
    [message] = [m for m in mailoutbox if m.to == ["tariq@wrenfield-acoustics.co.uk"]]
    assert message.subject == "[MyCareer] Confirm your email address to complete your registration"
    assert message.body.startswith("Hello Tariq,") and "Hello from" not in message.body
    link = re.search(rf"{re.escape(site.url)}/accounts/confirm-email/\S+", message.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm my email address").click()
    log_in(page, site, "tariq@wrenfield-acoustics.co.uk", "Harbour-Lantern-73")
    expect(page.get_by_role("heading", name="Your organisation")).to_be_visible()
    open_menu_link(page, "Our profile")
    expect(page.get_by_role("heading", name=re.compile("Wrenfield Acoustics"))).to_be_visible()


def test_a_student_finds_an_employer_in_the_directory_and_books_its_event(page, site, viewport):
    log_in(page, site, "student@demo.ac.uk")
    if viewport == "phone":
        # Eleven links no longer fill the screen: they wait behind the Menu button,
        # which opens from the keyboard.
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Employers")).to_be_hidden()
        page.locator("summary.site-menu__button").focus()
        page.keyboard.press("Enter")
        expect(nav.get_by_role("link", name="Employers")).to_be_visible()
        nav.get_by_role("link", name="Employers").click()
    else:
        open_menu_link(page, "Employers")
    expect(page.get_by_role("heading", name="Employers", level=1)).to_be_visible()
    page.get_by_label("Employer name").fill("ouse")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 employer matches your search")).to_be_visible()
    page.get_by_role("link", name="Ouse Water Services").click()

    expect(page.get_by_role("heading", name="Ouse Water Services", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Graduate Process Engineer")).to_be_visible()
    page.get_by_role("link", name="Ouse Water Services: sustainability in engineering").click()

    book = page.get_by_role("button", name="Book a place")
    expect(book).to_be_visible()
    if viewport == "phone":
        # Near the top: on screen as the page opens, before any scrolling.
        box = book.bounding_box()
        assert box["y"] + box["height"] <= PHONE_HEIGHT, box
    book.click()
    expect(page.get_by_text("You have a place.")).to_be_visible()
