"""How many live and archived organisations there are, in all and with each tag, kept
by the database (`KeptCount`, `organisations.kept_counts`), so the whole list and a
search for one tag are counted without reading the organisations or the tag's links.

SQLite: a row per figure, which triggers on the organisations and on the tag links
update in place. PostgreSQL: statement triggers on the organisations and the links
append each statement's changes as rows (no row is shared between writers, so none
deadlock), a row trigger on the organisations appends an organisation's figures when it
moves between live, archived and merged; the night's job folds them. Both are filled
from the organisations and links as they stand. The SQL is written out here, not
imported, so this migration keeps doing what it did when it was written.
"""

import django.db.models.deletion
from django.db import migrations, models

# Every figure counted from the organisations and links as they stand.
FILL = (
    'INSERT INTO organisations_keptcount (tag_id, live, archived) SELECT NULL, '
    "COALESCE(SUM(CASE WHEN (o.merged_into_id IS NULL AND o.status <> 'archived') THEN 1 "
    'ELSE 0 END), 0), COALESCE(SUM(CASE WHEN (o.merged_into_id IS NULL AND o.status = '
    "'archived') THEN 1 ELSE 0 END), 0) FROM organisations_organisation o UNION ALL SELECT "
    "l.tag_id, COALESCE(SUM(CASE WHEN (o.merged_into_id IS NULL AND o.status <> 'archived')"
    ' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN (o.merged_into_id IS NULL AND o.status'
    " = 'archived') THEN 1 ELSE 0 END), 0) FROM organisations_taggedorganisation l JOIN "
    'organisations_organisation o ON o.id = l.content_object_id GROUP BY l.tag_id'
)

SQLITE_FORWARD = [
    (
        'CREATE TRIGGER organisations_keptcount_insert AFTER INSERT ON '
        'organisations_organisation BEGIN INSERT INTO organisations_keptcount (tag_id, live, '
        'archived) SELECT NULL, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM organisations_keptcount '
        'WHERE tag_id IS NULL); UPDATE organisations_keptcount SET live = live + '
        "(new.merged_into_id IS NULL AND new.status <> 'archived'), archived = archived + "
        "(new.merged_into_id IS NULL AND new.status = 'archived') WHERE tag_id IS NULL; END"
    ),
    (
        'CREATE TRIGGER organisations_keptcount_delete AFTER DELETE ON '
        'organisations_organisation BEGIN INSERT INTO organisations_keptcount (tag_id, live, '
        'archived) SELECT NULL, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM organisations_keptcount '
        'WHERE tag_id IS NULL); UPDATE organisations_keptcount SET live = live - '
        "(old.merged_into_id IS NULL AND old.status <> 'archived'), archived = archived - "
        "(old.merged_into_id IS NULL AND old.status = 'archived') WHERE tag_id IS NULL; END"
    ),
    (
        'CREATE TRIGGER organisations_keptcount_status AFTER UPDATE OF status, merged_into_id '
        'ON organisations_organisation WHEN ((old.merged_into_id IS NULL AND old.status <> '
        "'archived') <> (new.merged_into_id IS NULL AND new.status <> 'archived') OR "
        "(old.merged_into_id IS NULL AND old.status = 'archived') <> (new.merged_into_id IS "
        "NULL AND new.status = 'archived')) BEGIN UPDATE organisations_keptcount SET live = "
        "live + (new.merged_into_id IS NULL AND new.status <> 'archived') - (old.merged_into_id"
        " IS NULL AND old.status <> 'archived'), archived = archived + (new.merged_into_id IS "
        "NULL AND new.status = 'archived') - (old.merged_into_id IS NULL AND old.status = "
        "'archived') WHERE tag_id IS NULL OR tag_id IN (SELECT tag_id FROM "
        'organisations_taggedorganisation WHERE content_object_id = new.id); END'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_link_insert AFTER INSERT ON '
        'organisations_taggedorganisation BEGIN INSERT INTO organisations_keptcount (tag_id, '
        'live, archived) SELECT new.tag_id, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM '
        'organisations_keptcount WHERE tag_id = new.tag_id); UPDATE organisations_keptcount SET'
        ' live = live + (SELECT COUNT(*) FROM organisations_organisation o WHERE o.id = '
        "new.content_object_id AND (o.merged_into_id IS NULL AND o.status <> 'archived')), "
        'archived = archived + (SELECT COUNT(*) FROM organisations_organisation o WHERE o.id = '
        "new.content_object_id AND (o.merged_into_id IS NULL AND o.status = 'archived')) WHERE "
        'tag_id = new.tag_id; END'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_link_delete AFTER DELETE ON '
        'organisations_taggedorganisation BEGIN INSERT INTO organisations_keptcount (tag_id, '
        'live, archived) SELECT old.tag_id, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM '
        'organisations_keptcount WHERE tag_id = old.tag_id); UPDATE organisations_keptcount SET'
        ' live = live - (SELECT COUNT(*) FROM organisations_organisation o WHERE o.id = '
        "old.content_object_id AND (o.merged_into_id IS NULL AND o.status <> 'archived')), "
        'archived = archived - (SELECT COUNT(*) FROM organisations_organisation o WHERE o.id = '
        "old.content_object_id AND (o.merged_into_id IS NULL AND o.status = 'archived')) WHERE "
        'tag_id = old.tag_id; END'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_link_update AFTER UPDATE OF tag_id, '
        'content_object_id ON organisations_taggedorganisation BEGIN INSERT INTO '
        'organisations_keptcount (tag_id, live, archived) SELECT old.tag_id, 0, 0 WHERE NOT '
        'EXISTS (SELECT 1 FROM organisations_keptcount WHERE tag_id = old.tag_id); UPDATE '
        'organisations_keptcount SET live = live - (SELECT COUNT(*) FROM '
        'organisations_organisation o WHERE o.id = old.content_object_id AND (o.merged_into_id '
        "IS NULL AND o.status <> 'archived')), archived = archived - (SELECT COUNT(*) FROM "
        'organisations_organisation o WHERE o.id = old.content_object_id AND (o.merged_into_id '
        "IS NULL AND o.status = 'archived')) WHERE tag_id = old.tag_id; INSERT INTO "
        'organisations_keptcount (tag_id, live, archived) SELECT new.tag_id, 0, 0 WHERE NOT '
        'EXISTS (SELECT 1 FROM organisations_keptcount WHERE tag_id = new.tag_id); UPDATE '
        'organisations_keptcount SET live = live + (SELECT COUNT(*) FROM '
        'organisations_organisation o WHERE o.id = new.content_object_id AND (o.merged_into_id '
        "IS NULL AND o.status <> 'archived')), archived = archived + (SELECT COUNT(*) FROM "
        'organisations_organisation o WHERE o.id = new.content_object_id AND (o.merged_into_id '
        "IS NULL AND o.status = 'archived')) WHERE tag_id = new.tag_id; END"
    ),
    FILL,
]

POSTGRESQL_FORWARD = [
    (
        'CREATE FUNCTION organisations_keptcount_links() RETURNS trigger LANGUAGE plpgsql AS $$'
        " BEGIN IF TG_OP = 'INSERT' THEN PERFORM 1 FROM organisations_organisation o WHERE o.id"
        ' IN (SELECT content_object_id FROM (SELECT tag_id, content_object_id, 1 AS sign FROM '
        'added) l) ORDER BY o.id FOR SHARE; INSERT INTO organisations_keptcount (tag_id, live, '
        'archived) SELECT l.tag_id, SUM(l.sign * (o.merged_into_id IS NULL AND o.status <> '
        "'archived')::int), SUM(l.sign * (o.merged_into_id IS NULL AND o.status = "
        "'archived')::int) FROM (SELECT tag_id, content_object_id, 1 AS sign FROM added) l JOIN"
        ' organisations_organisation o ON o.id = l.content_object_id GROUP BY l.tag_id HAVING '
        "SUM(l.sign * (o.merged_into_id IS NULL AND o.status <> 'archived')::int) <> 0 OR "
        "SUM(l.sign * (o.merged_into_id IS NULL AND o.status = 'archived')::int) <> 0; ELSIF "
        "TG_OP = 'DELETE' THEN PERFORM 1 FROM organisations_organisation o WHERE o.id IN "
        '(SELECT content_object_id FROM (SELECT tag_id, content_object_id, -1 AS sign FROM '
        'removed) l) ORDER BY o.id FOR SHARE; INSERT INTO organisations_keptcount (tag_id, '
        'live, archived) SELECT l.tag_id, SUM(l.sign * (o.merged_into_id IS NULL AND o.status '
        "<> 'archived')::int), SUM(l.sign * (o.merged_into_id IS NULL AND o.status = "
        "'archived')::int) FROM (SELECT tag_id, content_object_id, -1 AS sign FROM removed) l "
        'JOIN organisations_organisation o ON o.id = l.content_object_id GROUP BY l.tag_id '
        "HAVING SUM(l.sign * (o.merged_into_id IS NULL AND o.status <> 'archived')::int) <> 0 "
        "OR SUM(l.sign * (o.merged_into_id IS NULL AND o.status = 'archived')::int) <> 0; ELSE "
        'PERFORM 1 FROM organisations_organisation o WHERE o.id IN (SELECT content_object_id '
        'FROM (SELECT tag_id, content_object_id, 1 AS sign FROM added UNION ALL SELECT tag_id, '
        'content_object_id, -1 AS sign FROM removed) l) ORDER BY o.id FOR SHARE; INSERT INTO '
        'organisations_keptcount (tag_id, live, archived) SELECT l.tag_id, SUM(l.sign * '
        "(o.merged_into_id IS NULL AND o.status <> 'archived')::int), SUM(l.sign * "
        "(o.merged_into_id IS NULL AND o.status = 'archived')::int) FROM (SELECT tag_id, "
        'content_object_id, 1 AS sign FROM added UNION ALL SELECT tag_id, content_object_id, -1'
        ' AS sign FROM removed) l JOIN organisations_organisation o ON o.id = '
        'l.content_object_id GROUP BY l.tag_id HAVING SUM(l.sign * (o.merged_into_id IS NULL '
        "AND o.status <> 'archived')::int) <> 0 OR SUM(l.sign * (o.merged_into_id IS NULL AND "
        "o.status = 'archived')::int) <> 0; END IF; RETURN NULL; END $$"
    ),
    (
        'CREATE TRIGGER organisations_keptcount_link_insert AFTER INSERT ON '
        'organisations_taggedorganisation REFERENCING NEW TABLE AS added FOR EACH STATEMENT '
        'EXECUTE FUNCTION organisations_keptcount_links()'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_link_delete AFTER DELETE ON '
        'organisations_taggedorganisation REFERENCING OLD TABLE AS removed FOR EACH STATEMENT '
        'EXECUTE FUNCTION organisations_keptcount_links()'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_link_update AFTER UPDATE ON '
        'organisations_taggedorganisation REFERENCING OLD TABLE AS removed NEW TABLE AS added '
        'FOR EACH STATEMENT EXECUTE FUNCTION organisations_keptcount_links()'
    ),
    (
        'CREATE FUNCTION organisations_keptcount_rows() RETURNS trigger LANGUAGE plpgsql AS $$ '
        "BEGIN IF TG_OP = 'INSERT' THEN INSERT INTO organisations_keptcount (tag_id, live, "
        'archived) SELECT NULL, SUM((o.merged_into_id IS NULL AND o.status <> '
        "'archived')::int), SUM((o.merged_into_id IS NULL AND o.status = 'archived')::int) FROM"
        " added o HAVING SUM((o.merged_into_id IS NULL AND o.status <> 'archived')::int) <> 0 "
        "OR SUM((o.merged_into_id IS NULL AND o.status = 'archived')::int) <> 0; ELSE INSERT "
        'INTO organisations_keptcount (tag_id, live, archived) SELECT NULL, '
        "-SUM((o.merged_into_id IS NULL AND o.status <> 'archived')::int), "
        "-SUM((o.merged_into_id IS NULL AND o.status = 'archived')::int) FROM removed o HAVING "
        "SUM((o.merged_into_id IS NULL AND o.status <> 'archived')::int) <> 0 OR "
        "SUM((o.merged_into_id IS NULL AND o.status = 'archived')::int) <> 0; END IF; RETURN "
        'NULL; END $$'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_insert AFTER INSERT ON '
        'organisations_organisation REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE '
        'FUNCTION organisations_keptcount_rows()'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_delete AFTER DELETE ON '
        'organisations_organisation REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE'
        ' FUNCTION organisations_keptcount_rows()'
    ),
    (
        'CREATE FUNCTION organisations_keptcount_status() RETURNS trigger LANGUAGE plpgsql AS '
        '$$ BEGIN INSERT INTO organisations_keptcount (tag_id, live, archived) SELECT tag_id, '
        "(NEW.merged_into_id IS NULL AND NEW.status <> 'archived')::int - (OLD.merged_into_id "
        "IS NULL AND OLD.status <> 'archived')::int, (NEW.merged_into_id IS NULL AND NEW.status"
        " = 'archived')::int - (OLD.merged_into_id IS NULL AND OLD.status = 'archived')::int "
        'FROM (SELECT NULL::integer AS tag_id UNION ALL SELECT tag_id FROM '
        'organisations_taggedorganisation WHERE content_object_id = NEW.id) moved; RETURN NULL;'
        ' END $$'
    ),
    (
        'CREATE TRIGGER organisations_keptcount_status AFTER UPDATE OF status, merged_into_id '
        'ON organisations_organisation FOR EACH ROW WHEN ((OLD.merged_into_id IS NULL AND '
        "OLD.status <> 'archived') <> (NEW.merged_into_id IS NULL AND NEW.status <> 'archived')"
        " OR (OLD.merged_into_id IS NULL AND OLD.status = 'archived') <> (NEW.merged_into_id IS"
        " NULL AND NEW.status = 'archived')) EXECUTE FUNCTION organisations_keptcount_status()"
    ),
    FILL,
]


SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS organisations_keptcount_{name}"
    for name in ("insert", "delete", "status", "link_insert", "link_delete", "link_update")
]
POSTGRESQL_BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS organisations_keptcount_{name} ON organisations_organisation"
        for name in ("insert", "delete", "status")
    ),
    *(
        f"DROP TRIGGER IF EXISTS organisations_keptcount_{name} "
        "ON organisations_taggedorganisation"
        for name in ("link_insert", "link_delete", "link_update")
    ),
    "DROP FUNCTION IF EXISTS organisations_keptcount_links()",
    "DROP FUNCTION IF EXISTS organisations_keptcount_rows()",
    "DROP FUNCTION IF EXISTS organisations_keptcount_status()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0016_organisation_score_table"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeptCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("live", models.IntegerField()),
                ("archived", models.IntegerField()),
                (
                    "tag",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="taggit.tag",
                    ),
                ),
            ],
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
            elidable=False,
        ),
    ]
