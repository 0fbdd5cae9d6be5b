"""Accessibility: axe-core on every page each persona can reach by following links.

The crawl starts at each person's home page and follows every same-site link, visiting
one address per page type (URL route) so new pages are covered as soon as something
links to them. WCAG 2.0, 2.1 and 2.2 rules at levels A and AA; zero violations.
"""

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from e2e.conftest import accessibility_problems, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PERSONAS = [
    None,
    "student@demo.ac.uk",
    "employer@demo-employer.com",
    "operator@demo.ac.uk",
    "mailer@demo.ac.uk",
    "admin@demo.ac.uk",
]
SKIP = ("/accounts/logout", "/admin/", "/media/", "/static/", "/email/unsubscribe/", "feed")
SKIP_SUFFIXES = (".csv", ".ics", ".png", ".json", ".pdf")
MAX_PAGES = 45
MUST_CHECK = {
    "employer:register",
    "directory:list",
    "organisations:detail",
    "accounts:profile",
    "employer:activity",
    "employer:contacts",
    "employer:member_remove",
    "employer:contact_remove",
    "api_pages:tokens",
    "api_pages:docs",
    "api_pages:explorer",
}


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or href.startswith(("mailto:", "tel:", "#", "javascript:")):
            continue
        url = urljoin(page.url, href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base:
            continue
        if parts.path.startswith(SKIP) or any(s in parts.path for s in SKIP[-1:]):
            continue
        if parts.path.endswith(SKIP_SUFFIXES):
            continue
        found.append(url.split("#")[0])
    return found


def test_every_reachable_page_has_no_accessibility_violations(page, site):
    checked_routes: set[str] = set()
    problems: list[str] = []
    visited_total = 0
    for email in PERSONAS:
        page.context.clear_cookies()
        if email:
            log_in(page, site, email)
        queue = deque([f"{site.url}/"])
        seen: set[str] = set()
        pages = 0
        while queue and pages < MAX_PAGES:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            route = _route(urlsplit(url).path)
            if route is None:
                continue
            # One page per route overall, but every persona's own home page.
            key = route if route != "home" else f"home:{email}"
            if key in checked_routes:
                continue
            response = page.goto(url)
            if response is None or response.status >= 400:
                continue
            checked_routes.add(key)
            pages += 1
            for rule, targets in accessibility_problems(page):
                problems.append(f"{email or 'anonymous'} {url}: {rule} {targets}")
            queue.extend(_links(page, site.url))
        visited_total += pages
    assert visited_total >= 50, f"the crawl reached only {visited_total} pages"
    # Pages that must be among those checked (a link to them may move, the check must not).
    assert checked_routes >= MUST_CHECK, MUST_CHECK - checked_routes
    assert problems == []


def test_two_step_sign_in_pages_have_no_accessibility_violations(page, site):
    """Not all reached by following links: the second step of an administrator's login,
    the failed sign-ins, failed emails and site status pages, and where an administrator without an
    authenticator app is sent."""
    from allauth.mfa.models import Authenticator

    from e2e.conftest import PASSWORD
    from mycareer.accounts.demo import demo_totp_code
    from mycareer.accounts.models import User

    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Email").fill("admin@demo.ac.uk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/accounts/2fa/authenticate/")
    problems = accessibility_problems(page)

    # Administrators' pages for failed sign-ins and failed emails (the demo has both),
    # and the site's status.
    page.get_by_label(re.compile("code", re.I)).fill(demo_totp_code())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/")
    for path in ("/access/sign-in/", "/access/failed-emails/", "/operations/status/"):
        page.goto(f"{site.url}{path}")
        page.get_by_role("table").wait_for()
        problems += accessibility_problems(page)

    page.context.clear_cookies()
    Authenticator.objects.filter(user=User.objects.get(email="admin@demo.ac.uk")).delete()
    log_in(page, site, "admin@demo.ac.uk")
    page.goto(f"{site.url}/access/")
    # allauth asks for the password once more before a second factor is added.
    page.wait_for_url(re.compile(r".*/accounts/reauthenticate/.*"))
    problems += accessibility_problems(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    page.wait_for_url(f"{site.url}/accounts/2fa/totp/activate/")
    page.get_by_role("heading", name="Set up two-step sign-in").wait_for()
    problems += accessibility_problems(page)
    assert problems == []


def test_a_refused_form_moves_the_keyboard_to_what_to_correct(page, site):
    """The summary of errors takes the focus; Tab then reaches its first link to a field."""
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/events/new/")
    page.get_by_role("button", name=re.compile("save", re.I)).first.click()
    page.get_by_role("heading", name="Please correct what is shown below").wait_for()
    # As the page finishes loading (the heading shows a moment before).
    page.wait_for_function("document.activeElement.className === 'error-summary'", timeout=5000)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.error-summary') !== null")
