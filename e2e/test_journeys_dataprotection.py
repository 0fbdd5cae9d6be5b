"""Data protection as the administrator does it: erase one person, answer a subject access
request. Desktop and phone; the new pages are checked with axe on the way."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import assert_accessible, log_in, open_menu_link, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def find_person(page, site, name: str) -> None:
    log_in(page, site, "admin@demo.ac.uk")
    open_menu_link(page, "Audit")
    page.get_by_role("link", name="Personal data: subject access and erasure").click()
    page.get_by_label("Name or email").fill(name)
    page.get_by_role("button", name="Find").click()


def test_the_administrator_reviews_unticks_one_mention_and_erases_a_person(page, site, viewport):
    from mycareer.organisations.models import Contact, Note, Organisation

    find_person(page, site, "Priti")
    page.get_by_label(re.compile(r"^Contact: Priti Raman")).check()
    page.get_by_role("button", name="Review an erasure").click()
    expect(page.get_by_role("heading", name="Review an erasure", level=1)).to_be_visible()
    assert_accessible(page)
    # The first name alone, in a note about her organisation, is found and ticked.
    fair = page.get_by_label(re.compile(r"^Remove the first name from: Event note"))
    expect(fair).to_be_checked()
    expect(page.get_by_text("at the autumn careers fair", exact=False)).to_be_visible()
    mentions = page.get_by_role("heading", name=re.compile(r"^Mentions in notes"))
    mentions.evaluate("heading => heading.scrollIntoView()")
    screenshot(page, "erasure-review", viewport)
    # Untick one mention, with the keyboard.
    full_name = page.get_by_label(re.compile(r"^Remove the full name from: Email note"))
    full_name.focus()
    page.keyboard.press("Space")
    expect(full_name).not_to_be_checked()
    page.get_by_role("button", name="Continue to confirm").click()

    expect(page.get_by_role("heading", name="Confirm the erasure")).to_be_visible()
    expect(page.get_by_text("(you unticked them): 1.")).to_be_visible()
    assert_accessible(page)
    erase = page.get_by_role("button", name=re.compile(r"^Erase: make \d+ changes$"))
    changes = int(re.search(r"\d+", erase.inner_text()).group())
    assert Contact.objects.get(full_name="Priti Raman")  # nothing has changed yet
    page.get_by_label("Type ERASE to confirm").fill("ERASE")
    erase.click()

    expect(page.get_by_role("heading", name="Erasure report")).to_be_visible()
    expect(page.get_by_text(f"{changes} changes", exact=False).first).to_be_visible()
    expect(page.get_by_role("cell", name="Unticked by the administrator")).to_be_visible()
    assert_accessible(page)
    assert not Contact.objects.filter(full_name="Priti Raman").exists()
    ember = Organisation.objects.get(name="Ember Energy")
    texts = set(Note.objects.filter(organisation=ember).values_list("text", flat=True))
    assert (
        "Met [name erased] at the autumn careers fair: she wants two summer interns "
        "for the offshore wind team." in texts
    )
    assert "Priti Raman ([email erased]) confirmed the internship dates." in texts
    # The report is reached again from the audit trail.
    open_menu_link(page, "Audit")
    page.get_by_label("Only exports of personal data, merges and erasures").check()
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Read the erasure report").first.click()
    expect(page.get_by_role("heading", name="Erasure report")).to_be_visible()


def test_the_administrator_answers_a_subject_access_request_with_a_letter(page, site, viewport):
    find_person(page, site, "Grace Bank")
    page.get_by_label(re.compile(r"^Contact: Grace Bank")).check()
    page.get_by_role("button", name="Write the subject access letter").click()
    letter = page.get_by_role("article")
    expect(letter.get_by_role("heading", name="Your personal data in MyCareer")).to_be_visible()
    expect(letter.get_by_text("Dear Grace Bank,")).to_be_visible()
    for heading in ("Who we are", "What we hold about you", "Your rights", "How long we keep it"):
        expect(letter.get_by_role("heading", name=heading)).to_be_visible()
    expect(
        letter.get_by_text("Call with Grace from Atlas Global Bank", exact=False)
    ).to_be_visible()
    # The note names a member of staff too: its quote does not (the letter says who recorded
    # it, as it says who did what), and the administrator is told.
    expect(letter.get_by_text("[another person] will send", exact=False)).to_be_visible()
    expect(letter.locator("blockquote").get_by_text("Grace Okafor", exact=False)).to_have_count(0)
    expect(page.get_by_text("Check before sending: 1 passage redacted in 1 entry.")).to_be_visible()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "subject-access-letter", viewport)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON, for machines").click()
    document = json.loads(Path(download.value.path()).read_text())
    assert document["about"] == ["Grace Bank"]
