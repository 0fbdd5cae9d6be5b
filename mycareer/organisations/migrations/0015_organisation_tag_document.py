"""Each organisation's tags as one indexed text (`Organisation.tag_document`), kept by
the database, so a search for several tags, or for tags and words, is one index match.

Each tag is written as a token of three private-use characters (its id in base 2,048,
`search.tag_token`), separated by spaces. Triggers on the tag links rewrite the text of
the organisation whose link was added, removed or moved, whatever wrote the link.

SQLite: the FTS5 trigram index gains the text as a second column: a token is one
trigram that no word of a name can hold, so a tag is one entry of the index, and
"all three tags" or "a tag and a word" intersect inside the index. PostgreSQL: a GIN
index on the tokens as an array answers "has all of these" (`@>`), and is combined
with the trigram index of the words. The SQL is written out here, not imported, so
this migration keeps doing what it did when it was written.
"""

from django.db import migrations, models

import mycareer.organisations.models

FTS = "organisations_organisation_fts"
TABLE = "organisations_organisation"
LINKS = "organisations_taggedorganisation"

SQLITE_TOKEN = (
    "char(57344 + (tag_id / 4194304) % 2048, 57344 + (tag_id / 2048) % 2048, "
    "57344 + tag_id % 2048)"
)


def _sqlite_tags_of(organisation: str) -> str:
    return (
        f"coalesce((SELECT group_concat(token, ' ') FROM (SELECT {SQLITE_TOKEN} AS token "
        f"FROM {LINKS} WHERE content_object_id = {organisation} ORDER BY tag_id)), '')"
    )


def _sqlite_retag(organisation: str) -> str:
    tags = _sqlite_tags_of(organisation)
    return (
        f"UPDATE {TABLE} SET tag_document = {tags} "
        f"WHERE id = {organisation} AND tag_document IS NOT {tags};"
    )


SQLITE_OLD_INDEX = [
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
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_DROP_INDEX = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
]
SQLITE_DROP_LINK_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {LINKS}_insert",
    f"DROP TRIGGER IF EXISTS {LINKS}_delete",
    f"DROP TRIGGER IF EXISTS {LINKS}_update",
]
SQLITE_FORWARD = [
    *SQLITE_DROP_INDEX,
    f"UPDATE {TABLE} SET tag_document = {_sqlite_tags_of('id')}",
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(search_document, tag_document, "
    f"content='{TABLE}', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, search_document, tag_document) "
    f"VALUES (new.id, new.search_document, new.tag_document); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, search_document, tag_document) "
    f"VALUES ('delete', old.id, old.search_document, old.tag_document); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF search_document, tag_document ON {TABLE} "
    f"WHEN old.search_document IS NOT new.search_document "
    f"OR old.tag_document IS NOT new.tag_document BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, search_document, tag_document) "
    f"VALUES ('delete', old.id, old.search_document, old.tag_document); "
    f"INSERT INTO {FTS}(rowid, search_document, tag_document) "
    f"VALUES (new.id, new.search_document, new.tag_document); END",
    f"CREATE TRIGGER {LINKS}_insert AFTER INSERT ON {LINKS} BEGIN "
    f"{_sqlite_retag('new.content_object_id')} END",
    f"CREATE TRIGGER {LINKS}_delete AFTER DELETE ON {LINKS} BEGIN "
    f"{_sqlite_retag('old.content_object_id')} END",
    f"CREATE TRIGGER {LINKS}_update AFTER UPDATE OF tag_id, content_object_id ON {LINKS} BEGIN "
    f"{_sqlite_retag('old.content_object_id')} {_sqlite_retag('new.content_object_id')} END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
# Going back, the old index is made after the column is gone: removing it makes SQLite
# copy the organisations table, which drops the triggers on it.
SQLITE_BACKWARD = [*SQLITE_DROP_LINK_TRIGGERS, *SQLITE_DROP_INDEX]
SQLITE_BACK_TO_OLD_INDEX = [*SQLITE_DROP_INDEX, *SQLITE_OLD_INDEX]

POSTGRESQL_TOKEN = (
    "chr(57344 + (tag_id / 4194304) % 2048) || chr(57344 + (tag_id / 2048) % 2048) "
    "|| chr(57344 + tag_id % 2048)"
)


def _postgresql_tags_of(organisation: str) -> str:
    return (
        f"coalesce((SELECT string_agg({POSTGRESQL_TOKEN}, ' ' ORDER BY tag_id) FROM {LINKS} "
        f"WHERE content_object_id = {organisation}), '')"
    )


POSTGRESQL_FORWARD = [
    f"UPDATE {TABLE} SET tag_document = {_postgresql_tags_of(TABLE + '.id')}",
    # The organisation's row is locked before its links are read: a link committed by
    # another transaction meanwhile is then seen, so two editors never undo each other.
    # An unchanged text is not written: each write is a new row version, in every index.
    "CREATE FUNCTION organisations_retag() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE target integer; tokens text; BEGIN "
    "FOR target IN SELECT DISTINCT unnest(CASE TG_OP "
    "WHEN 'INSERT' THEN ARRAY[NEW.content_object_id] "
    "WHEN 'DELETE' THEN ARRAY[OLD.content_object_id] "
    "ELSE ARRAY[OLD.content_object_id, NEW.content_object_id] END) LOOP "
    f"PERFORM 1 FROM {TABLE} WHERE id = target FOR UPDATE; "
    f"tokens := {_postgresql_tags_of('target')}; "
    f"UPDATE {TABLE} SET tag_document = tokens "
    "WHERE id = target AND tag_document IS DISTINCT FROM tokens; "
    "END LOOP; RETURN NULL; END $$",
    f"CREATE TRIGGER {LINKS}_retag AFTER INSERT OR DELETE OR UPDATE OF tag_id, "
    f"content_object_id ON {LINKS} FOR EACH ROW EXECUTE FUNCTION organisations_retag()",
    f"CREATE INDEX IF NOT EXISTS org_tag_tokens_idx ON {TABLE} "
    "USING gin (string_to_array(tag_document, ' '))",
    f"DROP VIEW IF EXISTS {FTS}",
    f"CREATE VIEW {FTS} AS SELECT id AS rowid, search_document, tag_document FROM {TABLE}",
]
POSTGRESQL_BACKWARD = [
    f"DROP VIEW IF EXISTS {FTS}",
    f"CREATE VIEW {FTS} AS SELECT id AS rowid, search_document FROM {TABLE}",
    "DROP INDEX IF EXISTS org_tag_tokens_idx",
    f"DROP TRIGGER IF EXISTS {LINKS}_retag ON {LINKS}",
    "DROP FUNCTION IF EXISTS organisations_retag()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("organisations", "0014_organisation_text_index")]

    operations = [
        migrations.RunPython(
            migrations.RunPython.noop, _run({"sqlite": SQLITE_BACK_TO_OLD_INDEX}), elidable=False
        ),
        migrations.AddField(
            model_name="organisation",
            name="tag_document",
            field=mycareer.organisations.models.TagDocument(blank=True, default="", db_default="", editable=False),
        ),
        migrations.AddField(
            model_name="organisationtext",
            name="tags",
            field=mycareer.organisations.models.IndexedDocument(
                db_column="tag_document", default=""
            ),
            preserve_default=False,
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
            elidable=False,
        ),
    ]
