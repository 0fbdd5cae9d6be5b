"""Upkeep the database needs from the site itself."""

import datetime
import logging
import time

from django.apps import apps
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from mycareer.core.logs import log_event
from mycareer.core.models import ScheduledRun

logger = logging.getLogger(__name__)


def refresh_planner_statistics(*models, using: str = "default") -> None:
    """Refresh the query planner's statistics (ANALYZE): of every table, or of `models`'
    tables only (what a nightly job has just replaced).

    Without statistics SQLite guesses that `merged_into IS NULL` picks out a handful of
    organisations, so the first page of 100,000 sorted every one of them (190 ms)
    instead of reading the name index in order (1 ms), and tag filters scanned every
    tag link (docs/benchmarks.md). SQLite never gathers statistics by itself;
    PostgreSQL's autovacuum does, but only some time after a bulk load: until it came
    round, the opportunity pages were planned for empty tables (361-451 ms at 100,000
    organisations, against 76-90 ms after).
    """
    connection = connections[using]
    tables = [connection.ops.quote_name(model._meta.db_table) for model in models]
    with connection.cursor() as cursor:
        for statement in [f"ANALYZE {table}" for table in tables] or ["ANALYZE"]:
            cursor.execute(statement)


# A job that rewrote at least this share of a table's rows tidies it at once
# (PostgreSQL's autovacuum would, from a fifth, but only some time later).
REWRITTEN_SHARE = 0.2


def tidy_after_rewrite(model, *, rewritten: int, rows: int, using: str = "default") -> bool:
    """After a job rewrote `rewritten` of a table's `rows` rows: on PostgreSQL, when they
    are a fifth or more, reclaim the old row versions and refresh the statistics
    (`VACUUM ANALYZE`) now, as autovacuum would only later. Returns whether it did.

    PostgreSQL keeps an updated row's old version until a vacuum, so the nightly scoring
    of every organisation doubled the table when the score was a column of the
    organisation (it rewrites the narrow `OrganisationScore` now). Until autovacuum came
    round the planner took it for 200,000 organisations, expected twice as many to match
    a broad text search, and counted them by reading the whole table (140 ms) instead of
    the trigram index (40 ms). SQLite updates rows in place: there is nothing to do. Inside a
    transaction (where `VACUUM` cannot run) only the statistics are refreshed.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or rewritten < REWRITTEN_SHARE * max(rows, 1):
        return False
    table = connection.ops.quote_name(model._meta.db_table)
    started = time.perf_counter()
    statement = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} {table}")
    log_event(
        logger,
        "maintenance.tidied",
        table=model._meta.db_table,
        statement=statement,
        rewritten=rewritten,
        rows=rows,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    return True


# How long finished background work is kept: long enough to look into a problem.
KEEP_SUCCEEDED = datetime.timedelta(days=7)
KEEP_FAILED = datetime.timedelta(days=90)
KEEP_SCHEDULED_RUNS = datetime.timedelta(days=7)


def prune_finished_work(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete old task results and scheduler rows, which otherwise grow for ever.

    The scheduler writes a row for each periodic job every minute (the bulk email
    watchdog alone makes 1,440 a day) and every task leaves a result row. Tasks that
    have not finished are never touched.
    """
    from django_tasks import TaskResultStatus

    now = now or timezone.now()
    pruned = {
        "scheduled runs": ScheduledRun.objects.filter(
            enqueued_at__lt=now - KEEP_SCHEDULED_RUNS
        ).delete()[0]
    }
    if apps.is_installed("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        results = DBTaskResult.objects.filter(
            Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - KEEP_SUCCEEDED)
            | Q(status=TaskResultStatus.FAILED, finished_at__lt=now - KEEP_FAILED)
        )
        pruned["task results"] = results.delete()[0]
    log_event(
        logger,
        "maintenance.pruned",
        scheduled_runs=pruned["scheduled runs"],
        task_results=pruned.get("task results", 0),
    )
    return pruned


def sqlite_schema_names(cursor, table: str, *, triggers_on: tuple[str, ...]) -> set[str]:
    """SQLite: `table` if it exists, and the names of the triggers on `triggers_on`."""
    cursor.execute(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'trigger')"
    )
    return {
        name
        for kind, name, on in cursor.fetchall()
        if (kind, name) == ("table", table) or (kind == "trigger" and on in triggers_on)
    }
