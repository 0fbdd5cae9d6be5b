"""Keeps SQLite's substring search index following the organisations table.

Migration 0003 creates the FTS5 table and the triggers that feed it. A later migration
that changes the organisations table in a way SQLite cannot ALTER (adding a NOT NULL
column, for one) makes Django copy the table into a new one, and the triggers are
dropped with the old copy: the index would silently stop seeing new and changed
organisations. After every migrate, `repair_sqlite_search_index` puts back any missing
trigger and rebuilds the index.
"""

from django.db import connections

from mycareer.organisations.search import FTS_TABLE

TABLE = "organisations_organisation"
# The same statements as migration 0003, which keeps its own frozen copy.
TRIGGERS = {
    "organisations_organisation_fts_insert": (
        "CREATE TRIGGER organisations_organisation_fts_insert "
        "AFTER INSERT ON organisations_organisation BEGIN "
        "INSERT INTO organisations_organisation_fts(rowid, search_document) "
        "VALUES (new.id, new.search_document); END"
    ),
    "organisations_organisation_fts_delete": (
        "CREATE TRIGGER organisations_organisation_fts_delete "
        "AFTER DELETE ON organisations_organisation BEGIN "
        "INSERT INTO organisations_organisation_fts"
        "(organisations_organisation_fts, rowid, search_document) "
        "VALUES ('delete', old.id, old.search_document); END"
    ),
    "organisations_organisation_fts_update": (
        "CREATE TRIGGER organisations_organisation_fts_update "
        "AFTER UPDATE OF search_document ON organisations_organisation "
        "WHEN old.search_document IS NOT new.search_document BEGIN "
        "INSERT INTO organisations_organisation_fts"
        "(organisations_organisation_fts, rowid, search_document) "
        "VALUES ('delete', old.id, old.search_document); "
        "INSERT INTO organisations_organisation_fts(rowid, search_document) "
        "VALUES (new.id, new.search_document); END"
    ),
}
REBUILD = (
    "INSERT INTO organisations_organisation_fts(organisations_organisation_fts) VALUES ('rebuild')"
)


def repair_sqlite_search_index(using: str = "default") -> list[str]:
    """Recreate missing index triggers and rebuild the index; returns the triggers made."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE (type = 'table' AND name = %s) "
            "OR (type = 'trigger' AND tbl_name = %s)",
            [FTS_TABLE, TABLE],
        )
        present = {name for (name,) in cursor.fetchall()}
        # No index table: migration 0003 is not applied (or was reversed); nothing to keep.
        if FTS_TABLE not in present:
            return []
        missing = [name for name in TRIGGERS if name not in present]
        for name in missing:
            cursor.execute(TRIGGERS[name])
        if missing:
            cursor.execute(REBUILD)
    return missing


def repair_after_migrate(sender, using: str = "default", **kwargs) -> None:
    repair_sqlite_search_index(using)
