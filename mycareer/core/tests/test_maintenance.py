"""The daily statistics job: the planner gets numbers to choose indexes by."""

import pytest
from django.db import connection

from mycareer.core.maintenance import refresh_planner_statistics
from mycareer.core.registry import daily_jobs

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
