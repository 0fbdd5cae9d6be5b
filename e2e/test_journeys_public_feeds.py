"""The public feeds: an operator finds them for the website's editor, and the website's
"upcoming events" list from docs/api.md works in a real browser on another origin."""

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import ROOT, accessibility_problems, log_in
from mycareer.events import selectors

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DOCUMENTED_SITE = "https://mycareer.example.ac.uk"


def test_an_operator_finds_the_public_feeds_from_the_calendar(page, site, viewport):
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/events/")
    page.get_by_role("link", name="Public feeds for the website").click()
    expect(
        page.get_by_role("heading", name=re.compile("Public feeds", re.I), level=1)
    ).to_be_visible()
    problems = accessibility_problems(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # The JSON link on the page opens the feed itself, with no account needed.
    link = page.get_by_role("link", name=re.compile(r"events\.json$")).get_attribute("href")
    page.context.clear_cookies()
    response = page.request.get(link.replace("http://127.0.0.1:8000", site.url))
    assert response.ok and response.json()["version"] == 1
    assert problems == []


def _widget() -> str:
    """The example in docs/api.md, as the website would publish it."""
    text = (ROOT / "docs" / "api.md").read_text()
    [html] = re.findall(r"```html\n(.*?)```", text, flags=re.S)
    return html


def test_the_documented_upcoming_events_list_works_on_another_site(page, site):
    upcoming = list(selectors.public_events()[:5])
    assert upcoming, "the demo story has public events coming up"
    # A page of another origin (about:blank), as on the university's own website.
    widget = _widget().replace(DOCUMENTED_SITE, site.url)
    page.set_content(f"<!doctype html><html lang='en'><body>{widget}</body></html>")
    links = page.locator("#upcoming-events li a")
    expect(links).to_have_count(len(upcoming))
    assert links.all_inner_texts() == [event.title for event in upcoming]
    first = links.first.get_attribute("href")
    assert first.endswith(upcoming[0].get_public_url())
    page.goto(first.replace("http://127.0.0.1:8000", site.url))
    expect(page.get_by_role("heading", name=upcoming[0].title, level=1)).to_be_visible()
