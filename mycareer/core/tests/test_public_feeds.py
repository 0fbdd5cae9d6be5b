"""Fuzzing the public feeds' query strings: any input gives a feed or a 400 with a JSON
reason, never a server error. The feeds take no account, so anybody can send anything."""

import json
import os
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from mycareer.core.tests.test_fuzz import HOSTILE

pytestmark = pytest.mark.django_db

ROUTES = [
    *(f"feeds:events_{f}" for f in ("json", "rss", "atom", "ics")),
    *(f"feeds:vacancies_{f}" for f in ("json", "rss", "atom")),
]
NAMES = ["audience", "type", "unit", "limit", "remote", "format", "page", "callback", "_"]
GOOD = ["public", "employers", "workshop", "careers_fair", "internship", "eps", "yes", "no", "5"]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
REFUSALS = {"unknown_filter", "repeated_filter", "bad_filter_value"}

values = st.one_of(
    st.sampled_from(HOSTILE + GOOD),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
)
pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), values), max_size=4
)
# What a WSGI server hands Django: any text in ISO-8859-1, percent signs and all.
raw = st.text(alphabet=st.characters(max_codepoint=255, blacklist_categories=("Cs",)), max_size=80)


def check(response, route: str) -> None:
    assert response.status_code in (200, 400), (route, response.status_code)
    if response.status_code == 400:
        assert response["Content-Type"] == "application/json"
        error = json.loads(response.content)["error"]
        assert error["code"] in REFUSALS and error["message"]
    elif route.endswith("json"):
        assert json.loads(response.content)["version"] == 1
    elif route.endswith("ics"):
        Calendar.from_ical(response.content)
    else:
        ET.fromstring(response.content)


@pytest.mark.parametrize("route", ROUTES)
@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=pairs)
def test_any_filters_give_a_feed_or_a_json_refusal(client, cast, route, query):
    check(client.get(reverse(route), query), route)


@pytest.mark.parametrize("route", ["feeds:events_json", "feeds:vacancies_rss"])
@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query_string=raw)
def test_any_raw_query_string_gives_a_feed_or_a_json_refusal(client, cast, route, query_string):
    check(client.get(reverse(route), QUERY_STRING=query_string), route)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("signed_in", [False, True])
def test_a_feed_depends_on_no_cookie_and_says_so(client, persona, route, signed_in):
    """`Vary: Cookie` would make the website's cache keep a copy per visitor's cookies."""
    if signed_in:
        client.force_login(persona("operator"))  # staff: the terms check looks at them
    answers = {
        "feed": client.get(reverse(route)),
        "refusal": client.get(reverse(route), {"nonsense": "1"}),
    }
    answers["not modified"] = client.get(
        reverse(route), headers={"If-None-Match": answers["feed"]["ETag"]}
    )
    for name, response in answers.items():
        assert response.status_code in (200, 304, 400), name
        assert "cookie" not in response.get("Vary", "").lower(), name
        assert not response.cookies, name
