"""The engagement score moves from a column of the organisation to a table of its own.

A new score rewrote the organisation's whole row, in every index of its table; on
PostgreSQL each rewritten row goes to a new page, so the first night's scores doubled
the table (`OrganisationScore`). The scores are copied and the column's index dropped;
the column itself stays, unread and unwritten, while the release before this one may
still run beside it (a column is dropped a release after its last reader). Dropping
it on SQLite must be done in place (`ALTER TABLE ... DROP COLUMN`): Django's way copies
the table, which fails on the tag links' triggers and would lose the text index's.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "organisations_organisation"
SCORES = "organisations_organisationscore"


def _score_indexes(schema_editor) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["primary_key"] and info["columns"] == ["engagement_score"]
    ]


def copy_scores(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(SCORES)} (organisation_id, score) "
        f"SELECT id, engagement_score FROM {quote(TABLE)} WHERE engagement_score IS NOT NULL"
    )
    for name in _score_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX {quote(name)}")


def copy_scores_back(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"UPDATE {quote(TABLE)} SET engagement_score = (SELECT score FROM {quote(SCORES)} "
        f"WHERE organisation_id = {quote(TABLE)}.id)"
    )
    schema_editor.execute(
        f"CREATE INDEX {quote(TABLE + '_engagement_score_idx')} "
        f"ON {quote(TABLE)} (engagement_score)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0015_organisation_tag_document"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrganisationScore",
            fields=[
                (
                    "organisation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="current_score",
                        serialize=False,
                        to="organisations.organisation",
                    ),
                ),
                ("score", models.PositiveSmallIntegerField(db_index=True)),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(copy_scores, copy_scores_back, elidable=False),
            ],
            state_operations=[
                migrations.RemoveField(model_name="organisation", name="engagement_score"),
            ],
        ),
    ]
