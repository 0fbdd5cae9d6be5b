"""End-to-end journeys in a real browser (Debian's chromium) against a live server."""

import os
import re
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

PASSWORD = "demo-password-1"
ROOT = Path(__file__).resolve().parent.parent
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
AXE_RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page):
    """Each journey runs at a desktop and at a phone width."""
    page.set_viewport_size(VIEWPORTS[request.param])
    return request.param


@pytest.fixture
def site(live_server, demo):
    """The live server with the demo story loaded."""
    return live_server


def log_in(page, site, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(rf"{re.escape(site.url)}/(accounts/2fa/authenticate/)?$"))
    if "/2fa/" in page.url:
        # Administrators' second step: the demo administrator's authenticator code. A code
        # is good for its period only; on a loaded machine one read in the period's last
        # seconds can reach the server in the next, so wait for a fresh period then.
        from allauth.mfa import app_settings

        from mycareer.accounts.demo import demo_totp_code

        left = app_settings.TOTP_PERIOD - time.time() % app_settings.TOTP_PERIOD
        if left < 10:
            time.sleep(left + 0.5)
        page.get_by_label(re.compile("code", re.I)).fill(demo_totp_code())
        page.get_by_role("button", name=re.compile("sign in|log in|authenticate", re.I)).click()
        page.wait_for_url(f"{site.url}/")


def open_menu(page) -> None:
    """On a phone the links sit behind the Menu button; open it as a person would."""
    button = page.locator("summary.site-menu__button")
    if (
        button.count()
        and button.is_visible()
        and not page.locator("details.site-menu[open]").count()
    ):
        button.click()


def log_out(page) -> None:
    open_menu(page)
    page.get_by_role("button", name="Log out").click()


def open_menu_link(page, name: str) -> None:
    """Follow a menu link and wait for the page it opens.

    Without the wait, the next step could look at the page being left: on a phone its
    menu is still open, so the next menu link was looked for behind a closed menu on the
    page that replaced it.
    """
    open_menu(page)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name=name, exact=True
        ).click()


def screenshot(page, name: str, viewport: str) -> None:
    """Pictures for the README, taken on the desktop run of `make screenshots` only.

    An ordinary test run never rewrites the tracked pictures.
    """
    folder = os.environ.get("MYCAREER_SCREENSHOTS")
    if folder and viewport == "desktop":
        folder = ROOT / folder
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


def fill_registration(
    page, *, organisation: str, website: str, name: str, email: str, password: str
) -> None:
    """Fill the employer registration form, as a person would, and send it."""
    page.get_by_label("Organisation name").fill(organisation)
    page.get_by_label("Organisation website").fill(website)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your work email address").fill(email)
    page.get_by_label("Choose a password").fill(password)
    page.get_by_label("Type the password again").fill(password)
    page.get_by_role("button", name="Register").click()


def accessibility_problems(page) -> list[tuple[str, list]]:
    """What axe finds on the page (WCAG 2.0 to 2.2, A and AA): each rule with its first
    three elements.

    The page is checked once it has loaded: a page reached by a click was otherwise
    checked before its own stylesheet applied, and its spaced-out actions were read
    as targets too small to touch.
    """
    page.wait_for_load_state("load")
    violations = Axe().run(page, options=AXE_RULES).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


def assert_accessible(page) -> None:
    assert accessibility_problems(page) == []
