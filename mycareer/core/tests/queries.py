"""Count a page's queries, to show that a list costs the same however many rows it shows."""

import re
from collections import Counter
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def steady_queries(get: Callable[[], object]) -> list[str]:
    """The statements one call of `get` sends once the caches it fills are warm.

    It is called twice and the second call counted: the first fills the session, the unit
    tree and the rate limit's minute, which a later call does not pay again.
    """
    get()
    return queries_of(get)


def queries_of(get: Callable[[], object]) -> list[str]:
    """The statements one call of `get` sends, which must answer 200."""
    with CaptureQueriesContext(connection) as captured:
        response = get()
    status = getattr(response, "status_code", 200)
    assert status == 200, f"answered {status}"
    return [query["sql"] for query in captured.captured_queries]


def assert_no_more_queries(before: list[str], after: list[str]) -> None:
    """More rows did not cost more statements; if they did, say which ones were added."""
    if len(after) <= len(before):
        return
    added = Counter(map(_shape, after)) - Counter(map(_shape, before))
    shown = "\n".join(f"{n} x {sql[:400]}" for sql, n in added.most_common(8))
    raise AssertionError(f"{len(before)} queries became {len(after)}; added:\n{shown}")


def _shape(sql: str) -> str:
    """A statement without its values, so that the same query for another row matches."""
    sql = re.sub(r"IN \([^)]*\)", "IN (…)", sql)
    return re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", sql)
