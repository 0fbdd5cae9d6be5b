"""An administrator brings people in from the student record system, in a real browser."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from e2e.conftest import accessibility_problems, log_in, open_menu_link
from mycareer.accounts.models import User
from mycareer.people.tests.test_feed import ROWS, feed_file, student

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_administrator_checks_the_nightly_file_then_imports_it(page, site, viewport):
    log_in(page, site, "admin@demo.ac.uk")
    open_menu_link(page, "People feed")
    expect(
        page.get_by_role("heading", name="People from the student record system", level=1)
    ).to_be_visible()
    problems = accessibility_problems(page)

    rows = [*ROWS, student("s9@uni", "s9@demo.ac.uk", programme="bsc-astro")]
    page.get_by_label("File from the student record system").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": feed_file(rows)}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="What people.csv would change")).to_be_visible()
    expect(page.get_by_text("Programme “bsc-astro”: 1 row")).to_be_visible()
    problems += accessibility_problems(page)
    # Nothing overflows a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not User.objects.filter(university_id="s1@uni").exists()

    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_text("people.csv is being imported.")).to_be_visible()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    page.reload()
    expect(page.get_by_text("3 created, 0 updated, 0 unchanged, 0 left")).to_be_visible()
    assert User.objects.get(university_id="s1@uni").student_profile.programme.code == "bsc-cs"
    assert problems == []
