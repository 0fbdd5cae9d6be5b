"""The organisations' text index as a model (`OrganisationText`), so queries can join it.

SQLite: the FTS5 table of migration 0005 is the model's table; nothing is made here.
PostgreSQL searches its trigram indexes instead and never joins this model, but code
that reads every model's table (a data dump, say) would meet a missing table: a view
of the same name shows the documents there. The SQL is written out here, not
imported, so this migration keeps doing what it did when it was written.
"""

import django.db.models.deletion
from django.db import migrations, models

import mycareer.organisations.models

POSTGRESQL_FORWARD = [
    "CREATE VIEW organisations_organisation_fts AS "
    "SELECT id AS rowid, search_document FROM organisations_organisation",
]
POSTGRESQL_BACKWARD = ["DROP VIEW IF EXISTS organisations_organisation_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0013_search_document_lower_case"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrganisationText",
            fields=[
                (
                    "organisation",
                    models.OneToOneField(
                        db_column="rowid",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="text",
                        serialize=False,
                        to="organisations.organisation",
                    ),
                ),
                (
                    "document",
                    mycareer.organisations.models.IndexedDocument(db_column="search_document"),
                ),
            ],
            options={
                "db_table": "organisations_organisation_fts",
                "managed": False,
            },
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD}),
            elidable=False,
        ),
    ]
