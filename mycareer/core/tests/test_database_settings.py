"""How a process connects to SQLite: one connection kept per worker, with a big cache."""

import os
import subprocess
import sys


def _sqlite_connection(tmp_path, **env: str) -> list[str]:
    """A fresh process on a SQLite file: the cache a connection sets, and how long the
    connection is kept."""
    code = (
        "import django; django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('PRAGMA cache_size'); "
        "print(cursor.fetchone()[0], connection.settings_dict['CONN_MAX_AGE'])"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SQLITE_CACHE_MB", "CONN_MAX_AGE"}
    }
    answer = subprocess.run(  # noqa: S603 (this interpreter, our settings)
        [sys.executable, "-c", code],
        env={
            **environment,
            "DJANGO_SETTINGS_MODULE": "mycareer.settings",
            "MYCAREER_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return answer.stdout.split()


def test_a_sqlite_connection_keeps_64_mb_of_the_file_and_lives_a_minute(tmp_path):
    # SQLite's own default is 2 MB (-2000) and Django's a connection per request.
    assert _sqlite_connection(tmp_path) == [str(-64 * 1024), "60"]


def test_the_cache_and_the_connection_s_life_are_settings(tmp_path):
    assert _sqlite_connection(tmp_path, SQLITE_CACHE_MB="16", CONN_MAX_AGE="0") == [
        str(-16 * 1024),
        "0",
    ]
