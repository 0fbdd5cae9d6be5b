"""People's long words never push a page sideways: a saved search named with 120 letters
and a liaison request with a 20,000-letter reason stretched pages, and the organisations'
nine columns were wider than the page at 1280 px."""

import pytest

from e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FITS = "document.documentElement.scrollWidth <= window.innerWidth + 1"


def test_long_names_and_reasons_wrap_at_every_width(page, site, viewport):
    from mycareer.accounts.models import User
    from mycareer.organisations.models import KeyContact, LiaisonRequest, SavedSearch

    operator = User.objects.get(email="operator@demo.ac.uk")
    SavedSearch.objects.create(owner=operator, name="X" * 120, query="tags_all=Placements")
    link = KeyContact.objects.filter(key_account__operator=operator).first()
    asked = LiaisonRequest.objects.create(
        requester=User.objects.get(email="manager@demo.ac.uk"),
        key_contact=link,
        reason="Y" * 20_000,
        proposed_engagement="Z" * 300,
    )
    log_in(page, site, "operator@demo.ac.uk")
    for path in ("/organisations/", f"/organisations/liaison/{asked.pk}/"):
        page.goto(f"{site.url}{path}")
        page.wait_for_load_state("load")
        assert page.evaluate(FITS), path
    if viewport == "desktop":
        page.goto(f"{site.url}/organisations/")
        page.wait_for_load_state("load")
        table = page.locator(".table-wrap").first
        assert table.evaluate("wrap => wrap.scrollWidth <= wrap.clientWidth")
