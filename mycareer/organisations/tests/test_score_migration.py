"""Migration 0016 moves the engagement score to its own table and keeps everything else:
the scores, and on SQLite the text index's triggers on the organisations' table."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mycareer.organisations.models import Organisation, OrganisationScore
from mycareer.organisations.search import OrganisationQuery, search_organisations
from mycareer.organisations.tests.factories import make_organisation
from mycareer.organisations.tests.test_tag_index import assert_index_is_whole

BEFORE = ("organisations", "0015_organisation_tag_document")
AFTER = ("organisations", "0016_organisation_score_table")


def migrate(target: tuple[str, str] | None = None) -> None:
    """Migrate the organisations to `target`, or to their latest migration."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target or executor.loader.graph.leaf_nodes("organisations")[0]])


def triggers() -> set[str]:
    if connection.vendor != "sqlite":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {name for (name,) in cursor.fetchall()}


def score_column() -> dict[str, int | None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, engagement_score FROM organisations_organisation")
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_scores_move_to_their_own_table_and_back(persona):
    operator = persona("operator")
    scored = make_organisation("Migrated Scored Ltd", by=operator)
    unscored = make_organisation("Migrated Unscored Ltd", by=operator)
    OrganisationScore.objects.create(organisation=scored, score=42)
    kept_triggers = triggers()
    try:
        migrate(BEFORE)
        column = score_column()
        assert (column[scored.name], column[unscored.name]) == (42, None)
        migrate(AFTER)
    finally:
        migrate()  # the test database as the other tests expect it, whatever failed
    assert dict(OrganisationScore.objects.values_list("organisation__name", "score")) == {
        scored.name: 42
    }
    shown = search_organisations(OrganisationQuery(text="migrated"))
    assert {o.name: o.engagement_score for o in shown} == {scored.name: 42, unscored.name: None}
    # The old column stays for the release before this one, without its index.
    constraints = connection.introspection.get_constraints(
        connection.cursor(), Organisation._meta.db_table
    )
    assert not [
        name
        for name, info in constraints.items()
        if info["index"] and "engagement_score" in info["columns"]
    ]
    # The table keeps the text index's triggers: a renamed organisation is found.
    assert triggers() == kept_triggers
    Organisation.objects.filter(pk=unscored.pk).update(search_document="wholly renamed ltd")
    assert_index_is_whole()
    found = search_organisations(OrganisationQuery(text="wholly renamed"))
    assert [o.pk for o in found] == [unscored.pk]
