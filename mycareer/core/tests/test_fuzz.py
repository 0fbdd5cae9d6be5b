"""Fuzzing every URL of the site: no input, from any persona, gives a server error.

For each route of the URLconf (the authorisation matrix's list, with its sample objects
for the arguments), Hypothesis sends GET and POST requests as the matrix's personas with
the route's parameters filled with hostile values: numbers too big for any database
column, negative and malformed numbers, control characters, very long text, odd dates.
The parameters of a route are the fields of every form its view module uses and every
name the module reads from `request.GET`/`request.POST` directly.

The number of examples per route is bounded (FUZZ_EXAMPLES, 6 by default). Under the
`ci` Hypothesis profile (the default, and `make test`'s) the examples are derandomised,
so every run gives the same result; HYPOTHESIS_PROFILE=dev draws new ones each run, and
FUZZ_EXAMPLES=200 searches harder before a release.
"""

import inspect
import os
import re
import sys

import pytest
from django import forms
from django.db import transaction
from django.urls import get_resolver, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mycareer.core.tests.conftest_matrix import login_as
from mycareer.core.tests.matrix import PERSONAS, route_kwargs, sample_objects, url_routes
from mycareer.core.tests.test_authorisation_matrix import GET as MATRIX_GET
from mycareer.core.tests.test_authorisation_matrix import POST as MATRIX_POST

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))

# Bulk email belongs to another piece of work: a 5xx found there is reported to its
# owner rather than mended here, and the route is left out of this test until then.
MAILING_URLS_LEFT_FOR_THE_LEAD: dict[str, str] = {}

HOSTILE = [
    "99999999999999999999999",
    "9223372036854775807",
    "-9223372036854775809",
    "-1",
    "0",
    "1e9",
    "1.5",
    "NaN",
    "",
    " ",
    "abc",
    "a\r\nBcc: someone@example.com",
    "\x00",
    "\x1b[31m",
    "'; DROP TABLE x; --",
    "%",
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "x" * 5000,
    "2026-13-45",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "join:99999999999999999999",
    "new",
    "on",
    "yes",
    "true",
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)

_READS = re.compile(r"""request\.(?:GET|POST)(?:\.get|\.getlist|\.pop)?[\[(]\s*["'](\w+)["']""")


def _module_parameters(module) -> set[str]:
    """Every parameter name a view module reads: its forms' fields and direct reads."""
    names: set[str] = set()
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return names
    names.update(_READS.findall(source))
    for value in vars(module).values():
        if inspect.isclass(value) and issubclass(value, forms.BaseForm):
            for field_name, field in value.base_fields.items():
                if not isinstance(field, forms.FileField):
                    names.add(field_name)
    return names


def _route_modules() -> dict[str, object]:
    modules = {}

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                ns = pattern.namespace
                full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from walk(pattern.url_patterns, full)
            elif pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                view = inspect.unwrap(pattern.callback)
                yield name, sys.modules.get(view.__module__)

    for name, module in walk(get_resolver().url_patterns):
        modules.setdefault(name, module)
    return modules


ROUTES = url_routes()
MODULES = _route_modules()
PARAMETERS = {name: sorted(_module_parameters(MODULES.get(name))) for name in ROUTES}


def _allowed(name: str, method: str) -> list[str]:
    """The personas the authorisation matrix lets through: only they reach the view's code."""
    table = MATRIX_GET if method == "get" else MATRIX_POST
    return [who for who, outcome in zip(PERSONAS, table[name], strict=True) if outcome == "A"]


def _ways(name: str) -> list[tuple[str, str]]:
    return [(m, who) for m in ("get", "post") for who in _allowed(name, m)] or [
        ("get", "anonymous")
    ]


def _extreme_ways(name: str) -> set[tuple[str, str]]:
    ways = set()
    for method in ("get", "post"):
        allowed = _allowed(name, method)
        if allowed:
            ways |= {(method, allowed[0]), (method, allowed[-1])}
    return ways


def _requests(name: str):
    """A persona who may use the route, a method it answers, and every parameter filled."""
    names = PARAMETERS[name]
    choices = _ways(name)
    parameters = st.fixed_dictionaries({n: st.lists(VALUES, min_size=1, max_size=2) for n in names})
    return st.tuples(st.sampled_from(choices), parameters)


@pytest.fixture
def objects(persona, cast):
    return sample_objects(persona)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(n for n in ROUTES if n not in MAILING_URLS_LEFT_FOR_THE_LEAD)
)
def test_no_input_gives_a_server_error(name, client, persona, objects):
    url = reverse(name, kwargs=route_kwargs(name, ROUTES[name], objects))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=_requests(name))
    def check(request):
        (method, who), parameters = request
        login_as(client, persona, who)
        with transaction.atomic():
            response = getattr(client, method)(url, parameters)
            transaction.set_rollback(True)
        assert response.status_code < 500, (
            f"{method.upper()} {url} as {who} with {parameters!r}: {response.status_code}"
        )

    # Besides Hypothesis's own examples, the first and last persona let in by each method
    # send every parameter as a number that no database column holds.
    for way in _extreme_ways(name):
        check = example(request=(way, dict.fromkeys(PARAMETERS[name], [HOSTILE[0]])))(check)
    check()
