"""How many live and archived organisations carry each tag, kept by the database.

A search for one tag is counted from these figures (`search.count_one_tag`) instead of
from the tag's links: reading every link of a tag grows with the data (7 ms on
PostgreSQL for a tag on 28,000 of 100,000 organisations), reading its kept figures does
not. The figures are `TagCount` rows. Triggers on the tag links add a link's worth for
each link added, removed or moved, and a trigger on the organisations moves an
organisation's links between live and archived when its status or its merge changes,
so the figures follow whatever writes: a service, an import, a merge, a bulk update.
An organisation merged into another counts in neither.

SQLite has one writer at a time, so a tag has one row, updated in place. PostgreSQL's
writers run side by side, and two transactions that each changed two tags in opposite
orders would deadlock on one row per tag: there each statement appends its changes as
rows of their own, a tag's figure is the sum of its rows, and `compact` folds them into
one a tag each night. Its link trigger first locks the organisations whose links it
counts (`FOR SHARE`), so a link added while its organisation is being archived is
either counted after the archiving or seen by it, never neither nor both.

Migration 0017 makes the table and the triggers from its own frozen copy of this SQL.
On SQLite, Django's copy-the-table ALTER of the organisations or of the tag links drops
the triggers on them: `repair_sqlite_tag_counts` (after every migrate) puts back any
missing one and counts every tag again.
"""

import logging

from django.db import connections, transaction
from django.db.models import Sum

from mycareer.core.logs import log_event
from mycareer.core.maintenance import sqlite_schema_names
from mycareer.organisations.models import Organisation, TagCount

logger = logging.getLogger(__name__)

TABLE = "organisations_organisation"
LINKS = "organisations_taggedorganisation"
COUNTS = "organisations_tagcount"
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


# Each tag's figures counted from its links.
RECOUNT = (
    f"SELECT l.tag_id, SUM(CASE WHEN {live('o')} THEN 1 ELSE 0 END), "
    f"SUM(CASE WHEN {archived('o')} THEN 1 ELSE 0 END) "
    f"FROM {LINKS} l JOIN {TABLE} o ON o.id = l.content_object_id GROUP BY l.tag_id"
)
FILL = f"INSERT INTO {COUNTS} (tag_id, live, archived) {RECOUNT}"


def _sqlite_add(tag: str, organisation: str, sign: str) -> str:
    """SQLite: add (`sign` +) or take away (-) one link from its tag's row, made if new."""
    state = f"FROM {TABLE} o WHERE o.id = {organisation}"
    return (
        f"INSERT INTO {COUNTS} (tag_id, live, archived) SELECT {tag}, 0, 0 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {COUNTS} WHERE tag_id = {tag}); "
        f"UPDATE {COUNTS} SET live = live {sign} (SELECT COUNT(*) {state} AND {live('o')}), "
        f"archived = archived {sign} (SELECT COUNT(*) {state} AND {archived('o')}) "
        f"WHERE tag_id = {tag};"
    )


SQLITE_TRIGGERS = {
    f"{COUNTS}_link_insert": (
        f"CREATE TRIGGER {COUNTS}_link_insert AFTER INSERT ON {LINKS} BEGIN "
        f"{_sqlite_add('new.tag_id', 'new.content_object_id', '+')} END"
    ),
    f"{COUNTS}_link_delete": (
        f"CREATE TRIGGER {COUNTS}_link_delete AFTER DELETE ON {LINKS} BEGIN "
        f"{_sqlite_add('old.tag_id', 'old.content_object_id', '-')} END"
    ),
    f"{COUNTS}_link_update": (
        f"CREATE TRIGGER {COUNTS}_link_update AFTER UPDATE OF tag_id, content_object_id "
        f"ON {LINKS} BEGIN {_sqlite_add('old.tag_id', 'old.content_object_id', '-')} "
        f"{_sqlite_add('new.tag_id', 'new.content_object_id', '+')} END"
    ),
    f"{COUNTS}_status": (
        f"CREATE TRIGGER {COUNTS}_status AFTER UPDATE OF status, merged_into_id ON {TABLE} "
        f"WHEN {_moved('old', 'new')} BEGIN UPDATE {COUNTS} SET "
        f"live = live + {live('new')} - {live('old')}, "
        f"archived = archived + {archived('new')} - {archived('old')} "
        f"WHERE tag_id IN (SELECT tag_id FROM {LINKS} WHERE content_object_id = new.id); END"
    ),
}


def _postgresql_append(links: str) -> str:
    """PostgreSQL: lock the organisations of `links` (tag_id, content_object_id, sign),
    then append each tag's change as one row."""
    return (
        f"PERFORM 1 FROM {TABLE} o WHERE o.id IN (SELECT content_object_id FROM ({links}) l) "
        "ORDER BY o.id FOR SHARE; "
        f"INSERT INTO {COUNTS} (tag_id, live, archived) "
        f"SELECT l.tag_id, SUM(l.sign * {live('o')}::int), SUM(l.sign * {archived('o')}::int) "
        f"FROM ({links}) l JOIN {TABLE} o ON o.id = l.content_object_id GROUP BY l.tag_id "
        f"HAVING SUM(l.sign * {live('o')}::int) <> 0 "
        f"OR SUM(l.sign * {archived('o')}::int) <> 0;"
    )


ADDED = "SELECT tag_id, content_object_id, 1 AS sign FROM added"
REMOVED = "SELECT tag_id, content_object_id, -1 AS sign FROM removed"
POSTGRESQL_FORWARD = [
    # One function for the three statement triggers of the links: each names only the
    # transition tables its own trigger has (a branch not taken is never planned).
    "CREATE FUNCTION organisations_tagcount_links() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'INSERT' THEN "
    f"{_postgresql_append(ADDED)} "
    "ELSIF TG_OP = 'DELETE' THEN "
    f"{_postgresql_append(REMOVED)} "
    "ELSE "
    f"{_postgresql_append(f'{ADDED} UNION ALL {REMOVED}')} "
    "END IF; RETURN NULL; END $$",
    f"CREATE TRIGGER {COUNTS}_link_insert AFTER INSERT ON {LINKS} "
    "REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_tagcount_links()",
    f"CREATE TRIGGER {COUNTS}_link_delete AFTER DELETE ON {LINKS} "
    "REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_tagcount_links()",
    f"CREATE TRIGGER {COUNTS}_link_update AFTER UPDATE ON {LINKS} "
    "REFERENCING OLD TABLE AS removed NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION organisations_tagcount_links()",
    # An organisation archived, restored or merged: its links move, row by row (the
    # update holds the organisation's row, so no link of it changes meanwhile).
    "CREATE FUNCTION organisations_tagcount_status() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO {COUNTS} (tag_id, live, archived) "
    f"SELECT tag_id, {live('NEW')}::int - {live('OLD')}::int, "
    f"{archived('NEW')}::int - {archived('OLD')}::int "
    f"FROM {LINKS} WHERE content_object_id = NEW.id; RETURN NULL; END $$",
    f"CREATE TRIGGER {COUNTS}_status AFTER UPDATE OF status, merged_into_id ON {TABLE} "
    f"FOR EACH ROW WHEN {_moved()} EXECUTE FUNCTION organisations_tagcount_status()",
]

# PostgreSQL: every tag's rows folded into one, those summing to nothing dropped. Rows
# another transaction appends meanwhile are not yet visible, so they are left as they
# are; the deleted rows are exactly the summed ones.
POSTGRESQL_COMPACT = (
    f"WITH gone AS (DELETE FROM {COUNTS} RETURNING tag_id, live, archived) "
    f"INSERT INTO {COUNTS} (tag_id, live, archived) "
    "SELECT tag_id, SUM(live), SUM(archived) FROM gone GROUP BY tag_id "
    "HAVING SUM(live) <> 0 OR SUM(archived) <> 0"
)
SQLITE_COMPACT = f"DELETE FROM {COUNTS} WHERE live = 0 AND archived = 0"


def kept_count(tag_id: int, *, include_archived: bool) -> int:
    """How many organisations carry the tag: live ones, and archived ones if asked."""
    figures = TagCount.objects.filter(tag_id=tag_id).aggregate(
        live=Sum("live"), archived=Sum("archived")
    )
    return (figures["live"] or 0) + ((figures["archived"] or 0) if include_archived else 0)


def compact(using: str = "default") -> dict[str, int]:
    """Fold each tag's rows into one and drop the empty ones; returns the rows before and
    after (the night's job, and the end of a bench seed)."""
    connection = connections[using]
    statement = POSTGRESQL_COMPACT if connection.vendor == "postgresql" else SQLITE_COMPACT
    rows = TagCount.objects.using(using)
    with transaction.atomic(using=using):
        before = rows.count()
        with connection.cursor() as cursor:
            cursor.execute(statement)
        after = rows.count()
    log_event(logger, "tag_counts.compacted", rows_before=before, rows_after=after)
    return {"rows_before": before, "rows_after": after}


def repair_sqlite_tag_counts(using: str = "default") -> list[str]:
    """Recreate missing triggers and count every tag again; returns the triggers made."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        present = sqlite_schema_names(cursor, COUNTS, triggers_on=(TABLE, LINKS))
        if COUNTS not in present:  # migration 0017 is not applied
            return []
        missing = [name for name in SQLITE_TRIGGERS if name not in present]
        if missing:
            with transaction.atomic(using=using):
                for name in missing:
                    cursor.execute(SQLITE_TRIGGERS[name])
                cursor.execute(f"DELETE FROM {COUNTS}")
                cursor.execute(FILL)
            log_event(
                logger, "tag_counts.repaired", level=logging.WARNING, triggers=",".join(missing)
            )
    return missing


def repair_after_migrate(sender, using: str = "default", **kwargs) -> None:
    repair_sqlite_tag_counts(using)
