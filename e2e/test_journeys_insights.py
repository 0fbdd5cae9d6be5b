"""Opportunities for relationship development, as a key-account owner uses them.

Tom opens "Opportunities for me", reads why his Kirkstall Robotics key account is
listed, records a follow-up in one click, and the item leaves the list. At a desktop
width and at 390x844; each page met is checked with axe.
"""

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import assert_accessible, log_in, open_menu_link

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_key_account_owner_follows_up_a_key_account_going_quiet(page, site, viewport):
    from mycareer.organisations.models import Note

    log_in(page, site, "operator@demo.ac.uk")
    open_menu_link(page, "Opportunities")
    expect(page.get_by_role("heading", name="Opportunities for me")).to_be_visible()
    quiet = page.get_by_role("region", name=re.compile("Key account going quiet"))
    row = quiet.get_by_role("row").filter(has_text="Kirkstall Robotics")
    expect(row).to_contain_text("no note by Tom Bennett since it became a key account")
    expect(row).to_contain_text("the threshold is 90")
    assert_accessible(page)

    row.get_by_role("button", name=re.compile("^Follow up by")).click()

    expect(page.get_by_role("status")).to_contain_text(
        "Follow-up with Kirkstall Robotics recorded for Tom Bennett"
    )
    expect(page.get_by_role("row").filter(has_text="Kirkstall Robotics")).to_have_count(0)
    note = Note.objects.get(organisation__name="Kirkstall Robotics", follow_up_on__isnull=False)
    assert note.author.email == "operator@demo.ac.uk"

    # Setting another aside needs a reason; the page asking for one is accessible too.
    page.goto(f"{site.url}/insights/")
    page.get_by_role("link", name=re.compile("Another date or a colleague")).first.click()
    expect(page.get_by_label("Who follows up")).to_be_visible()
    assert_accessible(page)
