"""How many live and archived organisations there are, in all and with each tag, kept
by the database.

The organisations list with no filter, and a search for one tag and nothing else, are
counted from these figures (`search.kept_count_of`) instead of from the organisations or
the tag's links: a count that reads them grows with the data (for a tag on 28,000 of
100,000 organisations, 7.3 ms on PostgreSQL, and the bounded count of the whole list
8.6 ms to say "more than 10,000"), reading kept figures does not, and the figure is exact.

The figures are `KeptCount` rows, a tag's or (tag None) every organisation's. Triggers
on the organisations add or take away each one made or deleted, and move it between
live and archived when its status or its merge changes, with its links; triggers on the
tag links add or take away a link's worth for each link added, removed or moved. So the
figures follow whatever writes: a service, an import, a merge, a bulk update. An
organisation merged into another counts in neither.

SQLite has one writer at a time, so each figure has one row, updated in place.
PostgreSQL's writers run side by side, and two transactions that each changed two tags
in opposite orders would deadlock on one row per tag: there each statement appends its
changes as rows of their own, a figure is the sum of its rows, and `compact` folds them
into one each night. Its link trigger first locks the organisations whose links it
counts (`FOR SHARE`), so a link added while its organisation is being archived is either
counted after the archiving or seen by it, never neither nor both.

Migration 0017 makes the table and the triggers from its own frozen copy of this SQL.
On SQLite, Django's copy-the-table ALTER of the organisations or of the tag links drops
the triggers on them: `repair_sqlite_kept_counts` (after every migrate) puts back any
missing one and counts everything again.
"""

import logging

from django.db import connections, transaction
from django.db.models import QuerySet, Sum

from mycareer.core.logs import log_event
from mycareer.core.maintenance import sqlite_schema_names
from mycareer.core.prepared import PreparedQuery
from mycareer.organisations.models import KeptCount, Organisation

logger = logging.getLogger(__name__)

TABLE = "organisations_organisation"
LINKS = "organisations_taggedorganisation"
COUNTS = "organisations_keptcount"
ARCHIVED = Organisation.Status.ARCHIVED.value


def live(row: str) -> str:
    """SQL: whether the organisation `row` counts as live (not archived, not merged)."""
    return f"({row}.merged_into_id IS NULL AND {row}.status <> '{ARCHIVED}')"


def archived(row: str) -> str:
    """SQL: whether the organisation `row` counts as archived (and not merged)."""
    return f"({row}.merged_into_id IS NULL AND {row}.status = '{ARCHIVED}')"


def _moved(old: str = "OLD", new: str = "NEW") -> str:
    """SQL: whether an organisation moved between live, archived and merged."""
    return f"({live(old)} <> {live(new)} OR {archived(old)} <> {archived(new)})"


def _both(row: str) -> str:
    """SQL: how many of the organisations `row` are live, and how many archived."""
    return (
        f"COALESCE(SUM(CASE WHEN {live(row)} THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN {archived(row)} THEN 1 ELSE 0 END), 0)"
    )


# Every figure counted from the organisations and their links.
RECOUNT = (
    f"SELECT NULL, {_both('o')} FROM {TABLE} o UNION ALL "
    f"SELECT l.tag_id, {_both('o')} "
    f"FROM {LINKS} l JOIN {TABLE} o ON o.id = l.content_object_id GROUP BY l.tag_id"
)
FILL = f"INSERT INTO {COUNTS} (tag_id, live, archived) {RECOUNT}"


def _sqlite_add(match: str, tag: str, live_part: str, archived_part: str) -> str:
    """SQLite: add `live_part` and `archived_part` (SQL, signed) to the figure `match`
    picks out (`tag`'s, or NULL's: every organisation's), its row made if missing."""
    return (
        f"INSERT INTO {COUNTS} (tag_id, live, archived) SELECT {tag}, 0, 0 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {COUNTS} WHERE {match}); "
        f"UPDATE {COUNTS} SET live = live {live_part}, archived = archived {archived_part} "
        f"WHERE {match};"
    )


def _sqlite_link(row: str, sign: str) -> str:
    """SQLite: the link `row` (new or old) added (`sign` +) or taken away (-)."""
    organisation = f"FROM {TABLE} o WHERE o.id = {row}.content_object_id"
    return _sqlite_add(
        f"tag_id = {row}.tag_id",
        f"{row}.tag_id",
        f"{sign} (SELECT COUNT(*) {organisation} AND {live('o')})",
        f"{sign} (SELECT COUNT(*) {organisation} AND {archived('o')})",
    )


def _sqlite_organisation(row: str, sign: str) -> str:
    """SQLite: the organisation `row` (new or old) made (`sign` +) or deleted (-)."""
    return _sqlite_add("tag_id IS NULL", "NULL", f"{sign} {live(row)}", f"{sign} {archived(row)}")


SQLITE_TRIGGERS = {
    f"{COUNTS}_insert": (
        f"CREATE TRIGGER {COUNTS}_insert AFTER INSERT ON {TABLE} BEGIN "
        f"{_sqlite_organisation('new', '+')} END"
    ),
    f"{COUNTS}_delete": (
        f"CREATE TRIGGER {COUNTS}_delete AFTER DELETE ON {TABLE} BEGIN "
        f"{_sqlite_organisation('old', '-')} END"
    ),
    f"{COUNTS}_status": (
        f"CREATE TRIGGER {COUNTS}_status AFTER UPDATE OF status, merged_into_id ON {TABLE} "
        f"WHEN {_moved('old', 'new')} BEGIN UPDATE {COUNTS} SET "
        f"live = live + {live('new')} - {live('old')}, "
        f"archived = archived + {archived('new')} - {archived('old')} "
        f"WHERE tag_id IS NULL "
        f"OR tag_id IN (SELECT tag_id FROM {LINKS} WHERE content_object_id = new.id); END"
    ),
    f"{COUNTS}_link_insert": (
        f"CREATE TRIGGER {COUNTS}_link_insert AFTER INSERT ON {LINKS} BEGIN "
        f"{_sqlite_link('new', '+')} END"
    ),
    f"{COUNTS}_link_delete": (
        f"CREATE TRIGGER {COUNTS}_link_delete AFTER DELETE ON {LINKS} BEGIN "
        f"{_sqlite_link('old', '-')} END"
    ),
    f"{COUNTS}_link_update": (
        f"CREATE TRIGGER {COUNTS}_link_update AFTER UPDATE OF tag_id, content_object_id "
        f"ON {LINKS} BEGIN {_sqlite_link('old', '-')} {_sqlite_link('new', '+')} END"
    ),
}


def _postgresql_links(links: str) -> str:
    """PostgreSQL: lock the organisations of `links` (tag_id, content_object_id, sign),
    then append each tag's change as one row."""
    live_sum, archived_sum = (f"SUM(l.sign * {state('o')}::int)" for state in (live, archived))
    return (
        f"PERFORM 1 FROM {TABLE} o WHERE o.id IN (SELECT content_object_id FROM ({links}) l) "
        "ORDER BY o.id FOR SHARE; "
        f"INSERT INTO {COUNTS} (tag_id, live, archived) "
        f"SELECT l.tag_id, {live_sum}, {archived_sum} "
        f"FROM ({links}) l JOIN {TABLE} o ON o.id = l.content_object_id GROUP BY l.tag_id "
        f"HAVING {live_sum} <> 0 OR {archived_sum} <> 0;"
    )


def _postgresql_organisations(rows: str, sign: str) -> str:
    """PostgreSQL: append the change to every organisation's figure of the `rows` made
    (`sign` +) or deleted (-) by one statement."""
    live_sum, archived_sum = (f"SUM({state('o')}::int)" for state in (live, archived))
    return (
        f"INSERT INTO {COUNTS} (tag_id, live, archived) "
        f"SELECT NULL, {sign}{live_sum}, {sign}{archived_sum} FROM {rows} o "
        f"HAVING {live_sum} <> 0 OR {archived_sum} <> 0;"
    )


ADDED = "SELECT tag_id, content_object_id, 1 AS sign FROM added"
REMOVED = "SELECT tag_id, content_object_id, -1 AS sign FROM removed"
POSTGRESQL_FORWARD = [
    # One function for the statement triggers of each table: each names only the
    # transition tables its own trigger has (a branch not taken is never planned).
    "CREATE FUNCTION organisations_keptcount_links() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'INSERT' THEN "
    f"{_postgresql_links(ADDED)} "
    "ELSIF TG_OP = 'DELETE' THEN "
    f"{_postgresql_links(REMOVED)} "
    "ELSE "
    f"{_postgresql_links(f'{ADDED} UNION ALL {REMOVED}')} "
    "END IF; RETURN NULL; END $$",
    f"CREATE TRIGGER {COUNTS}_link_insert AFTER INSERT ON {LINKS} "
    "REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_keptcount_links()",
    f"CREATE TRIGGER {COUNTS}_link_delete AFTER DELETE ON {LINKS} "
    "REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_keptcount_links()",
    f"CREATE TRIGGER {COUNTS}_link_update AFTER UPDATE ON {LINKS} "
    "REFERENCING OLD TABLE AS removed NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_keptcount_links()",
    "CREATE FUNCTION organisations_keptcount_rows() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'INSERT' THEN "
    f"{_postgresql_organisations('added', '')} "
    "ELSE "
    f"{_postgresql_organisations('removed', '-')} "
    "END IF; RETURN NULL; END $$",
    f"CREATE TRIGGER {COUNTS}_insert AFTER INSERT ON {TABLE} "
    "REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_keptcount_rows()",
    f"CREATE TRIGGER {COUNTS}_delete AFTER DELETE ON {TABLE} "
    "REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_keptcount_rows()",
    # An organisation archived, restored or merged moves, and its links with it, row by
    # row (the update holds the organisation's row, so no link of it changes meanwhile).
    "CREATE FUNCTION organisations_keptcount_status() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO {COUNTS} (tag_id, live, archived) "
    f"SELECT tag_id, {live('NEW')}::int - {live('OLD')}::int, "
    f"{archived('NEW')}::int - {archived('OLD')}::int "
    f"FROM (SELECT NULL::integer AS tag_id UNION ALL "
    f"SELECT tag_id FROM {LINKS} WHERE content_object_id = NEW.id) moved; "
    "RETURN NULL; END $$",
    f"CREATE TRIGGER {COUNTS}_status AFTER UPDATE OF status, merged_into_id ON {TABLE} "
    f"FOR EACH ROW WHEN {_moved()} EXECUTE FUNCTION organisations_keptcount_status()",
]

# PostgreSQL: each figure's rows folded into one, those summing to nothing dropped. Rows
# another transaction appends meanwhile are not yet visible, so they are left as they
# are; the deleted rows are exactly the summed ones.
POSTGRESQL_COMPACT = (
    f"WITH gone AS (DELETE FROM {COUNTS} RETURNING tag_id, live, archived) "
    f"INSERT INTO {COUNTS} (tag_id, live, archived) "
    "SELECT tag_id, SUM(live), SUM(archived) FROM gone GROUP BY tag_id "
    "HAVING SUM(live) <> 0 OR SUM(archived) <> 0"
)


def _figure(rows: QuerySet[KeptCount]) -> QuerySet:
    """The sums of a figure's rows: (live, archived), or no row when it has none."""
    return (
        rows.order_by()
        .values("tag_id")
        .annotate(live=Sum("live"), archived=Sum("archived"))
        .values_list("live", "archived")
    )


# Built and compiled once per process: the whole list and a one-tag search read one of
# these on every page, and building the sum took longer than reading it.
FIGURE_OF_ALL = PreparedQuery(lambda: _figure(KeptCount.objects.filter(tag__isnull=True)))
FIGURE_OF_TAG = PreparedQuery(
    lambda tag_id: _figure(KeptCount.objects.filter(tag_id=tag_id)), tag_id=-7_777_601
)


def kept_count(tag_id: int | None, *, include_archived: bool) -> int:
    """How many organisations carry the tag (every organisation, for None): live ones,
    and archived ones if asked."""
    rows = FIGURE_OF_ALL.rows() if tag_id is None else FIGURE_OF_TAG.rows(tag_id=tag_id)
    live, archived = rows[0] if rows else (0, 0)
    return (live or 0) + ((archived or 0) if include_archived else 0)


def compact(using: str = "default") -> dict[str, int]:
    """PostgreSQL: fold each figure's rows into one and drop the empty ones; returns the
    rows before and after (the night's job, and the end of a bench seed).

    SQLite's figures are a row each already, and stay even when they come to nothing:
    its trigger for an archived, restored or merged organisation updates the rows of its
    tags and would miss one taken away (a tag carried only by merged organisations).
    """
    connection = connections[using]
    rows = KeptCount.objects.using(using)
    with transaction.atomic(using=using):
        before = rows.count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(POSTGRESQL_COMPACT)
        after = rows.count()
    log_event(logger, "kept_counts.compacted", rows_before=before, rows_after=after)
    return {"rows_before": before, "rows_after": after}


def recount(using: str = "default") -> None:
    """Count every figure again from the organisations and their links."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {COUNTS}")
        cursor.execute(FILL)


def repair_sqlite_kept_counts(using: str = "default") -> list[str]:
    """Recreate missing triggers and count everything again; returns the triggers made.
    Run after every migrate, and after every `flush`, which ends with the same signal."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        present = sqlite_schema_names(cursor, COUNTS, triggers_on=(TABLE, LINKS))
        if COUNTS not in present:  # migration 0017 is not applied
            return []
        cursor.execute(f"SELECT 1 FROM {TABLE} LIMIT 1")
        if cursor.fetchone() is None:
            # No organisation, so every figure is nothing. Emptied row by row (`flush`
            # deletes each table in turn), the triggers may have counted the deletions
            # into figures already emptied.
            cursor.execute(f"DELETE FROM {COUNTS}")
        missing = [name for name in SQLITE_TRIGGERS if name not in present]
        if missing:
            with transaction.atomic(using=using):
                for name in missing:
                    cursor.execute(SQLITE_TRIGGERS[name])
                recount(using)
            log_event(
                logger, "kept_counts.repaired", level=logging.WARNING, triggers=",".join(missing)
            )
    return missing


def repair_after_migrate(sender, using: str = "default", **kwargs) -> None:
    repair_sqlite_kept_counts(using)
