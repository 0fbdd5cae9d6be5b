"""The cache every process shares: rate limits must count across gunicorn workers."""

import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from mycareer.core import ratelimit
from mycareer.settings import caches_from_url


@pytest.mark.django_db(transaction=True)
def test_two_processes_cache_objects_and_connections_count_one_rate_limit_together():
    """Each thread gets its own cache object and database connection, as each worker
    process does: attempts made through either count against the one limit."""
    limit = ratelimit.Limit("shared-test", 3, 3600)
    now = time.time()
    seen: dict[str, tuple] = {}

    def attempt(name: str) -> None:
        # The objects themselves are kept, so no two can share an id.
        seen[name] = (caches["default"], connections["default"], ratelimit.hit(limit, "x", now=now))
        connections["default"].close()

    for name in ["first", "second", "third", "fourth"]:
        thread = threading.Thread(target=attempt, args=(name,))
        thread.start()
        thread.join()
    assert len({id(seen[name][0]) for name in seen}) == 4  # four cache objects
    assert len({id(seen[name][1]) for name in seen}) == 4  # four database connections
    assert [seen[name][2] for name in ["first", "second", "third", "fourth"]] == [
        False,
        False,
        False,
        True,  # over the limit: the fourth saw the other three's attempts
    ]


def test_the_database_cache_is_the_default_and_cache_url_chooses_redis():
    assert caches_from_url("")["default"]["BACKEND"].endswith("db.DatabaseCache")
    redis = caches_from_url("redis://cache.example.ac.uk:6379/1")["default"]
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["LOCATION"] == "redis://cache.example.ac.uk:6379/1"


@pytest.mark.parametrize("url", ["locmem://", "memcached://127.0.0.1:11211", "nonsense"])
def test_a_cache_url_that_is_not_redis_is_refused_at_start(url):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must be a Redis address"):
        caches_from_url(url)


def _settings_with(**env: str) -> subprocess.CompletedProcess:
    """The settings a fresh process builds from these environment variables."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.TASKS['default']['BACKEND'], 'django_rq' in s.INSTALLED_APPS, "
        "getattr(s, 'RQ_QUEUES', {}).get('default', {}).get('URL'))"
    )
    return subprocess.run(  # noqa: S603 (this interpreter, our settings)
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mycareer.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_tasks_url_moves_the_task_queue_to_redis_and_refuses_anything_else():
    default = _settings_with(TASKS_URL="")
    assert default.stdout.split() == ["django_tasks_db.DatabaseBackend", "False", "None"]
    redis = _settings_with(TASKS_URL="redis://queue.example.ac.uk:6379/1")
    assert redis.stdout.split() == [
        "django_tasks_rq.RQBackend",
        "True",
        "redis://queue.example.ac.uk:6379/1",
    ]
    wrong = _settings_with(TASKS_URL="amqp://queue.example.ac.uk")
    assert wrong.returncode != 0
    assert "TASKS_URL must be a Redis address" in wrong.stderr
