"""Keeps SQLite's search index following the organisations and their tag links.

Migration 0015 makes the FTS5 table (the search document and the tag text of each
organisation) and the triggers that feed it and that rewrite an organisation's tag text
when its tag links change. A later migration that changes the organisations or tag-link
table in a way SQLite cannot ALTER (adding a NOT NULL column, for one) makes Django copy
the table into a new one, and the triggers are dropped with the old copy: the index
would silently stop seeing new and changed organisations, and the tag text its tags.
After every migrate, `repair_sqlite_search_index` puts back any missing trigger, writes
every tag text again and rebuilds the index.
"""

from django.db import connections

from mycareer.core.maintenance import sqlite_schema_names
from mycareer.organisations.search import FTS_TABLE

TABLE = "organisations_organisation"
LINKS = "organisations_taggedorganisation"

# A tag's token (`search.tag_token`) in SQL, from a tag link's `tag_id`.
TOKEN = (
    "char(57344 + (tag_id / 4194304) % 2048, 57344 + (tag_id / 2048) % 2048, 57344 + tag_id % 2048)"
)


def _tags_of(organisation: str) -> str:
    """SQL for the tag text of `organisation` (an SQL expression of its id)."""
    return (
        f"coalesce((SELECT group_concat(token, ' ') FROM (SELECT {TOKEN} AS token "
        f"FROM {LINKS} WHERE content_object_id = {organisation} ORDER BY tag_id)), '')"
    )


def _retag(organisation: str) -> str:
    """SQL that rewrites the tag text of `organisation`, if it changed."""
    tags = _tags_of(organisation)
    return (
        f"UPDATE {TABLE} SET tag_document = {tags} "
        f"WHERE id = {organisation} AND tag_document IS NOT {tags};"
    )


# The same statements as migration 0015, which keeps its own frozen copy.
TRIGGERS = {
    f"{FTS_TABLE}_insert": (
        f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON {TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, search_document, tag_document) "
        f"VALUES (new.id, new.search_document, new.tag_document); END"
    ),
    f"{FTS_TABLE}_delete": (
        f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON {TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_document, tag_document) "
        f"VALUES ('delete', old.id, old.search_document, old.tag_document); END"
    ),
    f"{FTS_TABLE}_update": (
        f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_document, tag_document "
        f"ON {TABLE} WHEN old.search_document IS NOT new.search_document "
        f"OR old.tag_document IS NOT new.tag_document BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_document, tag_document) "
        f"VALUES ('delete', old.id, old.search_document, old.tag_document); "
        f"INSERT INTO {FTS_TABLE}(rowid, search_document, tag_document) "
        f"VALUES (new.id, new.search_document, new.tag_document); END"
    ),
    f"{LINKS}_insert": (
        f"CREATE TRIGGER {LINKS}_insert AFTER INSERT ON {LINKS} BEGIN "
        f"{_retag('new.content_object_id')} END"
    ),
    f"{LINKS}_delete": (
        f"CREATE TRIGGER {LINKS}_delete AFTER DELETE ON {LINKS} BEGIN "
        f"{_retag('old.content_object_id')} END"
    ),
    f"{LINKS}_update": (
        f"CREATE TRIGGER {LINKS}_update AFTER UPDATE OF tag_id, content_object_id ON {LINKS} "
        f"BEGIN {_retag('old.content_object_id')} {_retag('new.content_object_id')} END"
    ),
}
RETAG_ALL = f"UPDATE {TABLE} SET tag_document = {_tags_of(TABLE + '.id')}"
REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"


def repair_sqlite_search_index(using: str = "default") -> list[str]:
    """Recreate missing index triggers and rebuild the index; returns the triggers made."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        present = sqlite_schema_names(cursor, FTS_TABLE, triggers_on=(TABLE, LINKS))
        cursor.execute(f"SELECT name FROM pragma_table_info('{TABLE}')")
        columns = {name for (name,) in cursor.fetchall()}
        # No index table, or no tag text: the migrations that make them are not applied
        # (or were reversed, and put back the older index themselves); nothing to keep.
        if FTS_TABLE not in present or "tag_document" not in columns:
            return []
        missing = [name for name in TRIGGERS if name not in present]
        for name in missing:
            cursor.execute(TRIGGERS[name])
        if missing:
            cursor.execute(RETAG_ALL)
            cursor.execute(REBUILD)
    return missing


def repair_after_migrate(sender, using: str = "default", **kwargs) -> None:
    repair_sqlite_search_index(using)
