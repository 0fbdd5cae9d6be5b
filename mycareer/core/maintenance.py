"""Upkeep the database needs from the site itself."""

from django.db import connections


def refresh_planner_statistics(using: str = "default") -> None:
    """Refresh the query planner's statistics (ANALYZE) for every table.

    Without statistics SQLite guesses that `merged_into IS NULL` picks out a handful of
    organisations, so the first page of 100,000 sorted every one of them (190 ms)
    instead of reading the name index in order (1 ms), and tag filters scanned every
    tag link (docs/benchmarks.md). SQLite never gathers statistics by itself;
    PostgreSQL's autovacuum does, but only some time after a bulk load.
    """
    with connections[using].cursor() as cursor:
        cursor.execute("ANALYZE")
