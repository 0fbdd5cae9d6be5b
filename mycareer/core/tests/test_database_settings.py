"""How a process connects: to SQLite, one connection kept per worker, with a big cache;
to PostgreSQL, planning for data in memory."""

import pytest
from django.db import connection

from mycareer.core.tests.processes import settings_process


def _settings_process(tmp_path, code: str, **env: str) -> str:
    """What `code` prints in a fresh process on our settings, with `env` set and the
    database settings under test otherwise unset."""
    answer = settings_process(
        tmp_path,
        code,
        unset={"DATABASE_URL", "SQLITE_CACHE_MB", "CONN_MAX_AGE", "PG_RANDOM_PAGE_COST"},
        **env,
    )
    answer.check_returncode()
    return answer.stdout.strip()


def _sqlite_connection(tmp_path, **env: str) -> list[str]:
    """The cache a fresh SQLite connection sets, and how long the connection is kept."""
    code = (
        "from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('PRAGMA cache_size'); "
        "print(cursor.fetchone()[0], connection.settings_dict['CONN_MAX_AGE'])"
    )
    return _settings_process(tmp_path, code, **env).split()


def test_a_sqlite_connection_keeps_64_mb_of_the_file_and_lives_a_minute(tmp_path):
    # SQLite's own default is 2 MB (-2000) and Django's a connection per request.
    assert _sqlite_connection(tmp_path) == [str(-64 * 1024), "60"]


def test_the_cache_and_the_connection_s_life_are_settings(tmp_path):
    assert _sqlite_connection(tmp_path, SQLITE_CACHE_MB="16", CONN_MAX_AGE="0") == [
        str(-16 * 1024),
        "0",
    ]


def _postgresql_options(tmp_path, **env: str) -> str:
    """The connection options a process would give PostgreSQL (it does not connect)."""
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"
    )
    return _settings_process(
        tmp_path, code, DATABASE_URL="postgres://app:app@127.0.0.1:5432/app", **env
    )


def test_postgresql_plans_for_data_in_memory_unless_told_otherwise(tmp_path):
    assert _postgresql_options(tmp_path) == "-c random_page_cost=1.1"
    assert _postgresql_options(tmp_path, PG_RANDOM_PAGE_COST="2") == "-c random_page_cost=2.0"
    # Empty: the server's own setting is left alone.
    assert _postgresql_options(tmp_path, PG_RANDOM_PAGE_COST="") == ""


@pytest.mark.django_db
def test_the_connection_this_suite_uses_plans_with_that_setting():
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -64 * 1024
            return
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
