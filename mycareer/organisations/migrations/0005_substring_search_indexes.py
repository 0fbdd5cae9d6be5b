"""Indexes that serve substring search ("ridge" finds "Northbridge") on organisations.

SQLite: an FTS5 table with the trigram tokenizer over `search_document`, kept in step
by triggers. PostgreSQL: pg_trgm GIN indexes on UPPER(...), the expression Django's
`icontains` compares (UPPER(col) LIKE UPPER(pattern)), so the planner can use them.
Each database skips the other's SQL. The SQL is written out here, not imported,
so this migration keeps doing what it did when it was written.
"""

from django.db import migrations

FTS = "organisations_organisation_fts"
TABLE = "organisations_organisation"

SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5("
    f"search_document, content='{TABLE}', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, search_document) VALUES (new.id, new.search_document); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, search_document) "
    f"VALUES ('delete', old.id, old.search_document); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF search_document ON {TABLE} "
    f"WHEN old.search_document IS NOT new.search_document BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, search_document) "
    f"VALUES ('delete', old.id, old.search_document); "
    f"INSERT INTO {FTS}(rowid, search_document) VALUES (new.id, new.search_document); END",
    # Index the rows that exist already.
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
]

POSTGRESQL_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS org_search_document_trgm_idx ON {TABLE} "
    "USING gin (UPPER(search_document) gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS org_name_trgm_idx ON {TABLE} "
    "USING gin (UPPER(name::text) gin_trgm_ops)",
]
# The extension stays: other tables may come to rely on it, and dropping it needs
# more rights than creating it.
POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS org_search_document_trgm_idx",
    "DROP INDEX IF EXISTS org_name_trgm_idx",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("organisations", "0004_employer_registration")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
            elidable=False,
        )
    ]
