"""The daily statistics job, and the tidying after a job that rewrote a table: the
planner gets numbers to choose indexes by."""

import logging

import pytest
from django.db import connection

from mycareer.core.maintenance import refresh_planner_statistics, tidy_after_rewrite
from mycareer.core.registry import daily_jobs
from mycareer.organisations.models import Organisation
from mycareer.organisations.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_statistics_are_refreshed_every_day():
    assert "database-statistics" in {job.name for job in daily_jobs()}


def test_refreshing_gives_the_planner_statistics():
    refresh_planner_statistics()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_stat1")
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'organisations_organisation'"
            )
        assert cursor.fetchone()[0] > 0


def pages_known_and_held() -> tuple[int, int]:
    """(the pages the planner believes the organisations take, the pages they take)."""
    with connection.cursor() as cursor:
        # By the table's own name on the search path: the tests' snapshots keep copies of
        # it, of the same name, in schemas of their own.
        cursor.execute(
            "SELECT relpages, pg_relation_size(oid) / current_setting('block_size')::int"
            " FROM pg_class WHERE oid = 'organisations_organisation'::regclass"
        )
        return cursor.fetchone()


def test_a_small_rewrite_is_left_for_later():
    assert not tidy_after_rewrite(Organisation, rewritten=19, rows=100)


@pytest.mark.django_db(transaction=True)
def test_a_table_mostly_rewritten_is_tidied_at_once_on_postgresql(caplog):
    OrganisationFactory.create_batch(200)
    Organisation.objects.update(locations="Leeds")
    with caplog.at_level(logging.INFO, logger="mycareer.core.maintenance"):
        tidied = tidy_after_rewrite(Organisation, rewritten=200, rows=200)
    if connection.vendor != "postgresql":
        # SQLite rewrites rows in place: nothing is left to reclaim.
        assert not tidied and "maintenance.tidied" not in caplog.text
        return
    assert tidied
    assert 'statement="VACUUM (ANALYZE)"' in caplog.text and "rewritten=200" in caplog.text
    known, held = pages_known_and_held()
    assert known == held > 0


def test_inside_a_transaction_only_the_statistics_are_refreshed(caplog):
    OrganisationFactory.create_batch(5)
    with caplog.at_level(logging.INFO, logger="mycareer.core.maintenance"):
        tidied = tidy_after_rewrite(Organisation, rewritten=5, rows=5)
    assert tidied == (connection.vendor == "postgresql")
    if tidied:
        assert "statement=ANALYZE" in caplog.text
