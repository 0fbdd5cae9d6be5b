"""The list pages' paginator: exact up to the limit, "more than" above, counted on request."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mycareer.core.pagination import Paginator, exact_count_key
from mycareer.organisations.models import Organisation


def organisations(n: int, prefix: str = "Paged") -> None:
    Organisation.objects.bulk_create(
        Organisation(name=f"{prefix} {i:05d}", status=Organisation.Status.ACTIVE) for i in range(n)
    )


def paged(prefix: str = "Paged"):
    return Organisation.objects.filter(name__startswith=prefix).order_by("name", "pk")


@pytest.fixture
def limit(settings):
    settings.MYCAREER = {**settings.MYCAREER, "EXACT_COUNT_LIMIT": 20}
    return 20


@pytest.mark.django_db
def test_a_list_at_the_limit_is_counted_exactly(limit):
    organisations(limit)
    paginator = Paginator(paged(), 5)
    page = paginator.get_page(1)
    assert paginator.exact
    assert paginator.count == limit
    assert paginator.num_pages == 4
    assert page.has_next()


@pytest.mark.django_db
def test_a_list_one_past_the_limit_says_more_than_the_limit(limit):
    organisations(limit + 1)
    paginator = Paginator(paged(), 5)
    assert not paginator.exact
    assert paginator.count == limit + 1
    assert paginator.num_pages is None


@pytest.mark.django_db
def test_the_count_reads_no_further_than_one_past_the_limit(limit):
    organisations(limit + 5)
    with CaptureQueriesContext(connection) as captured:
        Paginator(paged(), 5).count  # noqa: B018
    # The bounded count, then the look for a figure counted on request.
    count, kept = captured.captured_queries
    assert "COUNT(*)" in count["sql"]
    assert "mycareer_cache" in kept["sql"]
    assert f"LIMIT {limit + 1}" in count["sql"]


@pytest.mark.django_db
def test_pages_of_an_uncounted_list_go_forwards_and_back_to_the_end(limit):
    organisations(limit * 2 + 3)
    names = list(paged().values_list("name", flat=True))
    seen = []
    number = 1
    while True:
        page = Paginator(paged(), 5).get_page(number)
        assert page.paginator.exact is False
        seen += [o.name for o in page]
        if number > 1:
            assert page.has_previous()
            assert page.previous_page_number() == number - 1
        if not page.has_next():
            break
        assert page.next_page_number() == number + 1
        number += 1
    assert seen == names
    assert number == 9
    assert page.end_index() == limit * 2 + 3


@pytest.mark.django_db
def test_a_page_past_the_end_of_an_uncounted_list_is_its_last_page(limit):
    organisations(limit + 3)
    page = Paginator(paged(), 5).get_page(40)
    assert page.paginator.exact
    assert page.number == 5
    assert [o.name for o in page] == ["Paged 00020", "Paged 00021", "Paged 00022"]
    # Counting to find the last page kept the figure, as "count exactly" does.
    assert Paginator(paged(), 5).exact
    cache.clear()
    assert Paginator(paged(), 5).get_page("nonsense").number == 1
    assert Paginator(paged(), 5).get_page(0).number == 1
    assert Paginator(paged(), 5).get_page(10**12).number == 5


@pytest.mark.django_db
def test_counting_exactly_keeps_the_figure_for_that_query_until_it_expires(limit):
    organisations(limit + 7)
    organisations(limit + 2, prefix="Other")
    counted = Paginator(paged(), 5, count_exactly=True)
    assert counted.exact
    assert counted.count == limit + 7
    # Any later request for the same query reads the kept figure, without asking.
    later = Paginator(paged(), 5)
    assert later.exact
    assert later.count == limit + 7
    assert later.num_pages == 6
    # Another query has its own figure.
    assert not Paginator(paged("Other"), 5).exact
    # Kept for five minutes, then counted no more until asked again.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=299), tick=False):
        assert Paginator(paged(), 5).exact
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=301), tick=False):
        assert not Paginator(paged(), 5).exact


@pytest.mark.django_db
def test_the_kept_figure_lasts_as_long_as_the_setting_says(limit, settings):
    settings.MYCAREER = {**settings.MYCAREER, "EXACT_COUNT_SECONDS": 60}
    organisations(limit + 1)
    Paginator(paged(), 5, count_exactly=True).count  # noqa: B018
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61), tick=False):
        assert not Paginator(paged(), 5).exact
    assert cache.get(exact_count_key(paged())) is None


@pytest.mark.django_db
def test_the_kept_figure_is_not_trusted_once_removed(limit):
    organisations(limit + 1)
    Paginator(paged(), 5, count_exactly=True).count  # noqa: B018
    cache.delete(exact_count_key(paged()))
    assert not Paginator(paged(), 5).exact


@pytest.mark.django_db
def test_the_key_tells_queries_apart_by_their_values():
    assert exact_count_key(paged("A")) != exact_count_key(paged("B"))
    # The order of the rows does not change how many there are.
    assert exact_count_key(paged("A")) == exact_count_key(paged("A").order_by("-pk"))


def test_a_list_that_is_not_a_query_is_counted_as_it_is():
    paginator = Paginator(list(range(30_000)), 25)
    assert paginator.exact
    assert paginator.count == 30_000


@pytest.mark.django_db
def test_at_the_real_threshold_10000_is_exact_and_10001_is_more_than(settings):
    assert settings.MYCAREER["EXACT_COUNT_LIMIT"] == 10_000
    organisations(10_000, prefix="Real")
    paginator = Paginator(paged("Real"), 25)
    assert (paginator.exact, paginator.count, paginator.num_pages) == (True, 10_000, 400)
    organisations(1, prefix="Real extra")
    paginator = Paginator(paged("Real"), 25)
    assert (paginator.exact, paginator.num_pages) == (False, None)
    last = paginator.get_page(401)
    assert [o.name for o in last] == ["Real extra 00000"]
    assert not last.has_next()


@pytest.mark.django_db
def test_a_page_of_many_matches_is_read_from_the_in_order_list(monkeypatch):
    from mycareer.core import pagination

    organisations(12)
    # The in-order list is told apart by what it holds: from the sixth on.
    in_order = lambda: paged().filter(name__gte="Paged 00005")  # noqa: E731
    monkeypatch.setattr(pagination, "IN_ORDER_FACTOR", 2)
    # Twelve matches, page 1 of 5 reads 6 rows: 12 >= 2 x 6, so in order.
    page = Paginator(paged(), 5, in_order=in_order).get_page(1)
    assert [o.name for o in page] == [f"Paged {i:05d}" for i in range(5, 10)]
    # Page 3 would read 16 rows: 12 < 32, so the list itself.
    last = Paginator(paged(), 5, in_order=in_order).get_page(3)
    assert [o.name for o in last] == ["Paged 00010", "Paged 00011"]
    # Without an in-order list, the list itself whatever the count.
    assert len(Paginator(paged(), 5).get_page(1)) == 5


@pytest.mark.django_db
def test_few_matches_are_read_from_the_list_itself(monkeypatch):
    from mycareer.core import pagination

    organisations(11)
    monkeypatch.setattr(pagination, "IN_ORDER_FACTOR", 2)
    read = []
    Paginator(paged(), 5, in_order=lambda: read.append(1) or paged()).get_page(1)
    assert read == []


@pytest.mark.django_db
def test_a_list_given_as_a_function_is_made_only_when_needed(monkeypatch):
    """Counted by `exact_count` and read in order, a page never makes the list itself."""
    from mycareer.core import pagination

    organisations(12)
    monkeypatch.setattr(pagination, "IN_ORDER_FACTOR", 2)
    made = []

    def the_list():
        made.append(1)
        return paged()

    in_order = paged  # the same rows, read another way
    page = Paginator(the_list, 5, in_order=in_order, exact_count=lambda: 12).get_page(1)
    assert [o.name for o in page] == [f"Paged {i:05d}" for i in range(5)]
    assert made == []
    # Without a kept count it is made once, to be counted, and read from.
    page = Paginator(the_list, 5).get_page(3)
    assert [o.name for o in page] == ["Paged 00010", "Paged 00011"]
    assert made == [1]


@pytest.mark.django_db
def test_a_list_made_by_a_function_is_still_checked_for_an_order():
    from django.core.paginator import UnorderedObjectListWarning

    organisations(3)
    unordered = Organisation.objects.filter(name__startswith="Paged").order_by()
    paginator = Paginator(lambda: unordered, 2)
    with pytest.warns(UnorderedObjectListWarning):
        paginator.get_page(1)


@pytest.mark.django_db
@pytest.mark.parametrize("total", [12, 21])  # counted exactly; more than the limit of 20
def test_page_rows_show_each_page_from_the_subquery_of_its_ids(limit, total):
    organisations(total)
    seen = []

    def page_rows(ids):
        seen.append(ids)
        # What a page shows, in the list's order; marked, to tell them from the list's.
        return Organisation.objects.filter(pk__in=ids).annotate(shown=Value(1)).order_by("name")

    paginator = Paginator(paged(), 5, page_rows=page_rows)
    assert paginator.exact == (total <= limit)
    second = paginator.get_page(2)
    assert [(o.name, o.shown) for o in second] == [(f"Paged {i:05d}", 1) for i in range(5, 10)]
    # The ids come as a query, sliced from the list in its own order.
    assert list(seen[0]) == list(paged().values("pk")[5 : 10 if paginator.exact else 11])
    with CaptureQueriesContext(connection) as captured:
        list(paginator.get_page(3))
    rows = [q["sql"] for q in captured.captured_queries if "IN (SELECT" in q["sql"]]
    assert len(rows) == 1 and "LIMIT" in rows[0]


@pytest.mark.django_db
@pytest.mark.parametrize("limit_rows", [20, 3])  # counted exactly; more than the limit
def test_rows_that_tie_on_the_order_are_paged_by_id_so_each_shows_once(settings, limit_rows):
    """PostgreSQL may give rows that tie on the order either way round in each query:
    a slice of them could show one person twice and another never."""
    settings.MYCAREER = {**settings.MYCAREER, "EXACT_COUNT_LIMIT": limit_rows}
    for _ in range(5):
        Organisation.objects.create(name="Same name")
    alike = Organisation.objects.filter(name="Same name").order_by("name")
    paginator = Paginator(alike, 2)
    with CaptureQueriesContext(connection) as queries:
        shown = [o.pk for number in (1, 2, 3) for o in paginator.get_page(number)]
    assert sorted(shown) == sorted(alike.values_list("pk", flat=True))
    assert shown == sorted(shown)
    pages = [q["sql"] for q in queries if "ORDER BY" in q["sql"]]
    assert pages and all('."id"' in sql.split("ORDER BY")[1] for sql in pages)


@pytest.mark.django_db
def test_a_list_ordered_by_a_field_no_two_rows_share_is_left_in_its_order():
    from mycareer.core.pagination import without_ties

    by_id = Organisation.objects.order_by("-pk")
    assert without_ties(by_id) is by_id
    assert without_ties(Organisation.objects.order_by("name")).query.order_by == ("name", "pk")
    assert without_ties([3, 1, 2]) == [3, 1, 2]
