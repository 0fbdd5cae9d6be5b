"""What list pages work out once instead of for every row: a record's address, a day."""

import datetime

import pytest
from django.template.defaultfilters import date
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation

from mycareer.core.http import record_urls, route_url
from mycareer.core.jinja import date_or_day


@pytest.mark.parametrize("pk", [1, 7, 42, 100_000, 2**40])
@pytest.mark.parametrize("name", ["organisations:detail", "events:detail", "organisations:edit"])
def test_a_records_address_is_the_reversed_one(name, pk):
    assert record_urls(name)(pk) == reverse(name, args=[pk])


def test_a_records_address_follows_the_script_prefix():
    """Served under a path (SCRIPT_NAME), each prefix has its own addresses."""
    try:
        set_script_prefix("/careers/")
        assert record_urls("organisations:detail")(5) == "/careers/organisations/5/"
        assert record_urls("organisations:detail")(5) == reverse("organisations:detail", args=[5])
    finally:
        clear_script_prefix()
    assert record_urls("organisations:detail")(5) == "/organisations/5/"


@pytest.mark.parametrize("name", ["organisations:search", "events:list", "account_login"])
def test_a_routes_address_is_the_reversed_one(name):
    plain = route_url(name)
    assert plain == reverse(name)
    try:
        set_script_prefix("/careers/")
        assert route_url(name) == reverse(name) == "/careers" + plain
    finally:
        clear_script_prefix()


def test_another_urlconf_gets_its_own_addresses(settings):
    assert route_url("organisations:search") == "/organisations/"
    settings.ROOT_URLCONF = "bench.urls"  # the same routes, one more
    assert route_url("bench_hello") == "/bench/hello/"
    settings.ROOT_URLCONF = "mycareer.urls"
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        route_url("bench_hello")


def test_a_route_without_an_id_is_refused():
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        record_urls("organisations:search")


@pytest.mark.parametrize("month", range(1, 13))
def test_a_day_reads_as_djangos_date_filter_writes_it(month):
    day = datetime.date(2026, month, 9)
    for fmt in ("j M Y", "l j F Y", None):
        assert date_or_day(day, fmt) == date(day, fmt)


def test_a_day_follows_the_language():
    day = datetime.date(2026, 5, 1)
    english = date_or_day(day, "F")
    with translation.override("de"):
        assert date_or_day(day, "F") == "Mai"
    assert english == date_or_day(day, "F") == "May"


def test_a_moment_reads_as_djangos_date_filter_writes_it():
    """A datetime is drawn each time, with its time of day."""
    moment = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)
    assert date_or_day(moment, "j M H:i") == date(moment, "j M H:i") == "30 Jun 23:30"


def test_url_in_a_template_writes_what_reverse_gives_for_every_route_without_arguments():
    from django.template import Context, Template
    from django.urls import get_resolver

    def without_arguments(resolver, namespace=""):
        for name, found in resolver.reverse_dict.items():
            if isinstance(name, str) and all(not params for _, params in found[0]):
                yield namespace + name
        for inner, (_, included) in resolver.namespace_dict.items():
            yield from without_arguments(included, f"{namespace}{inner}:")

    names = sorted(set(without_arguments(get_resolver())))
    assert {"organisations:search", "events:list", "mailing:campaign_create"} <= set(names)
    assert len(names) > 100
    for name in names:
        drawn = Template("{% url name %}").render(Context({"name": name}))
        assert drawn == reverse(name), name


def test_url_in_a_template_with_arguments_as_a_variable_and_unknown():
    from django.template import Context, Template
    from django.urls import NoReverseMatch

    drawn = Template(
        "{% url 'organisations:detail' 5 %}|{% url 'organisations:search' as found %}{{ found }}"
        "|{% url 'no:such' as nothing %}[{{ nothing }}]"
    ).render(Context())
    assert drawn == "/organisations/5/|/organisations/|[]"
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no:such' %}").render(Context())
    try:
        set_script_prefix("/careers/")
        assert Template("{% url 'organisations:search' %}").render(Context()) == (
            "/careers/organisations/"
        )
    finally:
        clear_script_prefix()
