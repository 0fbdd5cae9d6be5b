"""The one paginator of list pages: exact counts up to a limit, "more than" above it.

Counting every match is most of a big list's database time (98,000 organisations take
longer to count than to show). So a list counts at most `EXACT_COUNT_LIMIT` + 1 rows
(`COUNT(*)` over a subquery with a LIMIT): up to the limit the figure is exact, above it
the page says "more than 10,000" and offers "count exactly", which counts in full once
and keeps the figure for that query in the shared cache for `EXACT_COUNT_SECONDS`, so
every process answers from it until it expires. Page links work either way: without a
count, a page knows whether there is a next one by reading one row more than it shows.

Exports and bulk email never page: they always read the exact set.

A list may also give `in_order`: the same list in a form the database reads in the
list's own order, checking each row (see `organisations.search.search_organisations`).
When the matches are many, a page found that way costs a few hundred steps instead of
sorting every match; when they are few it would read the whole index, so the paginator
chooses from the count it has already made.

And `page_rows`: what a page shows, given the ids of its records as a subquery (in the
list's order). A list whose rows join other tables for showing finds its page by id
first, so the database plans the search without those joins and reads them for the
page's rows alone (`organisations.search.organisation_rows`).
"""

import hashlib
from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# The query parameter (and button value) that asks for the exact figure.
COUNT_PARAMETER = "count"
COUNT_EXACTLY = "exact"
# Page numbers beyond this are past the end of any list (and too big for an OFFSET).
MAX_PAGE = 10**9
# A page is read `in_order` when the matches are at least this many times the rows read
# up to its end: one in sixty rows matching, the walk finds page one within about 1,600
# rows, about what sorting 1,600 matches costs.
IN_ORDER_FACTOR = 60


def count_exactly_asked(request) -> bool:
    """Whether the person pressed "count exactly" (the list's form sends `count=exact`)."""
    return request.GET.get(COUNT_PARAMETER) == COUNT_EXACTLY


def exact_count_limit() -> int:
    return settings.MYCAREER["EXACT_COUNT_LIMIT"]


def exact_count_key(queryset: QuerySet) -> str:
    """The cache key of a query's exact count: its SQL and parameters, hashed.

    The SQL holds every filter's value (a viewer's own key accounts too), so two people
    share a figure only when they asked the same question of the database.
    """
    sql, params = queryset.order_by().query.sql_with_params()
    digest = hashlib.sha256(repr((queryset.db, sql, params)).encode()).hexdigest()
    return f"exact-count:{digest}"


def without_ties(rows):
    """The list in its own order, then by id where that order could tie.

    A page is a slice (OFFSET and LIMIT), and rows that tie on the list's order may come
    back in any order each time: PostgreSQL gave two staff named alike either way round,
    so one could appear on two pages and the other on none. A list already ordered by a
    field no two rows share is left as it is.
    """
    if not isinstance(rows, QuerySet) or rows.query.combinator:
        return rows
    query = rows.query
    meta = query.get_meta()
    ordering = list(query.order_by) or (list(meta.ordering) if query.default_ordering else [])
    if not ordering:
        return rows  # unordered: Django's paginator warns of it
    unique = {"pk", meta.pk.name} | {f.name for f in meta.concrete_fields if f.unique}
    if any(isinstance(key, str) and key.lstrip("-") in unique for key in ordering):
        return rows
    return rows.order_by(*ordering, "pk")


class BoundedPage(Page):
    """A page that may not know how many pages follow it."""

    paginator: "Paginator"

    def has_next(self) -> bool:
        if self.paginator.exact:
            return super().has_next()
        return self.paginator.more_after(self)

    def has_other_pages(self) -> bool:
        return self.has_previous() or self.has_next()

    def next_page_number(self) -> int:
        if self.paginator.exact:
            return super().next_page_number()
        return self.number + 1

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self)


class Paginator(DjangoPaginator):
    """Django's paginator with a bounded count; `exact` says whether `count` is the figure.

    `object_list` may be a function that makes the list, called when the list is first
    needed: a page read `in_order` and counted by `exact_count` never needs it, and
    building a search's query took a few tenths of a millisecond of every such page.

    `count_exactly=True` (the person pressed "count exactly") counts in full and keeps
    the figure in the shared cache; afterwards any request for the same query reads it.
    `exact_count`, where a list has one, gives the exact figure a cheaper way, or None
    when it cannot for this list. `page_rows`, where a list has one, gives the rows of a
    page from the subquery of their ids.
    """

    def __init__(
        self,
        object_list,
        per_page,
        *,
        count_exactly: bool = False,
        in_order: Callable[[], QuerySet] | None = None,
        exact_count: Callable[[], int | None] | None = None,
        page_rows: Callable[[QuerySet], Sequence] | None = None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.count_exactly = count_exactly
        self.in_order = in_order
        self.exact_count = exact_count
        self.page_rows = page_rows
        self.limit = exact_count_limit()
        self._rows: dict[int, list] = {}

    @property
    def object_list(self):
        if self._make_list is not None:
            self._object_list, self._make_list = self._make_list(), None
            super()._check_object_list_is_ordered()
        return self._object_list

    @object_list.setter
    def object_list(self, value) -> None:
        if callable(value):
            self._make_list, self._object_list = value, None
        else:
            self._make_list, self._object_list = None, value

    def _check_object_list_is_ordered(self) -> None:
        if self._make_list is None:  # else when it is made
            super()._check_object_list_is_ordered()  # type: ignore[misc]  # not in the stubs

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        """(count, exact): the bounded count, or the kept or requested exact figure."""
        figure = self.exact_count() if self.exact_count else None
        if figure is not None:
            return figure, True
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list), True
        # Counted by id alone: the rows' annotations are for showing, and a subquery
        # among them would otherwise run once per match.
        ids = self.object_list.order_by().values("pk")
        bounded = ids[: self.limit + 1].count()
        if bounded <= self.limit:
            return bounded, True
        key = exact_count_key(self.object_list)
        kept = cache.get(key)
        if kept is not None:
            return kept, True
        if self.count_exactly:
            figure = ids.count()
            cache.set(key, figure, settings.MYCAREER["EXACT_COUNT_SECONDS"])
            return figure, True
        return bounded, False

    @property
    def count(self) -> int:
        """The exact count, or (when `exact` is false) limit + 1: "more than the limit"."""
        return self._counted[0]

    @property
    def exact(self) -> bool:
        return self._counted[1]

    @cached_property
    def num_pages(self):
        if self.exact:
            return super().num_pages
        return None

    def validate_number(self, number):
        if self.exact:
            return super().validate_number(number)
        # Without a count there is no last page to check against: a page past the end
        # is found empty when it is read (`page`).
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not an integer") from error
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number):
        if self.exact:
            number = self.validate_number(number)
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(self._slice(number, bottom, top), number, self)
        number = self.validate_number(number)
        rows = self._read(number) if number <= MAX_PAGE else []
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return self._get_page(rows[: self.per_page], number, self)

    def get_page(self, number):
        """The page asked for; the first for nonsense, the last for one past the end."""
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages if self.exact else 1
        try:
            return self.page(number)
        except EmptyPage:
            # Past the end of a list too long to count (a typed-in link, rarely): count
            # it, as if asked, and show its last page.
            self.count_exactly = True
            for name in ("_counted", "num_pages"):
                self.__dict__.pop(name, None)
            return self.page(self.num_pages)

    def _read(self, number: int) -> list:
        """The page's rows and one more, which tells whether a next page exists."""
        if number not in self._rows:
            bottom = (number - 1) * self.per_page
            self._rows[number] = list(self._slice(number, bottom, bottom + self.per_page + 1))
        return self._rows[number]

    def _slice(self, number: int, bottom: int, top: int):
        """The records from `bottom` to `top` of the list page `number` is read from."""
        rows = self._rows_for(number)
        if self.page_rows is None or not isinstance(rows, QuerySet):
            return rows[bottom:top]
        return self.page_rows(rows.values("pk")[bottom:top])

    def _rows_for(self, number: int):
        """The list to read page `number` from: `in_order` when the matches are many."""
        if self.in_order is not None and self.count >= IN_ORDER_FACTOR * (
            number * self.per_page + 1
        ):
            return without_ties(self.in_order())
        return without_ties(self.object_list)

    def more_after(self, page: BoundedPage) -> bool:
        return len(self._read(page.number)) > self.per_page

    def _get_page(self, *args, **kwargs):
        return BoundedPage(*args, **kwargs)
