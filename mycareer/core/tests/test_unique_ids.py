"""Every page gives each id to one element.

A label's `for`, an error summary's link and `aria-describedby` reach only the first
element with an id: two forms on one page that both have a "note" left the second
label pointing at the first box.
"""

import pytest
from django.urls import reverse

from mycareer.core.tests.conftest_matrix import login_as
from mycareer.core.tests.html_forms import repeated_ids
from mycareer.core.tests.matrix import route_kwargs, sample_objects, url_routes
from mycareer.core.tests.test_wording import WORDING_PERSONAS

pytestmark = pytest.mark.usefixtures("cast")


def test_the_check_finds_a_repeated_id():
    page = '<input id="id_note"><label for="id_note">A</label><textarea id="id_note">'
    assert repeated_ids(page) == ["id_note"]
    assert repeated_ids('<input id="id_a"><input id="id_b">') == []


@pytest.mark.django_db
def test_no_page_repeats_an_id(client, persona):
    objects = sample_objects(persona)
    problems = []
    for who in WORDING_PERSONAS:
        login_as(client, persona, who)
        for name, route in sorted(url_routes().items()):
            response = client.get(reverse(name, kwargs=route_kwargs(name, route, objects)))
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            if repeated := repeated_ids(response.content.decode()):
                problems.append(f"{who} {name}: {', '.join(repeated)}")
    assert not problems, "\n".join(problems)
