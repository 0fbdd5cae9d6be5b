"""Running calls at the same moment, each in its own thread with its own connection."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import connection
from django.db.models.sql.compiler import SQLCompiler


def at_once(calls: list) -> tuple[list, float]:
    """Run each call in its own thread, all released at the same moment.

    Returns each call's result (or the exception it raised) and the seconds from
    release to the last one finishing.
    """
    barrier = threading.Barrier(len(calls) + 1)
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=120)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            results[index] = error
        finally:
            # Each thread opened its own connection; leave none behind for teardown.
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout=300)
    return results, time.monotonic() - started


@contextmanager
def row_locks() -> Iterator[list]:
    """The models whose rows the block's reads asked to lock (`select_for_update`), in
    order. Seen on every database: SQLite leaves the lock out of the SQL (its IMMEDIATE
    transaction already serialises writers), so only the asking shows there."""
    asked: list = []
    execute_sql = SQLCompiler.execute_sql

    def recording(self, *args, **kwargs):
        if self.query.select_for_update:
            asked.append(self.query.model)
        return execute_sql(self, *args, **kwargs)

    with mock.patch.object(SQLCompiler, "execute_sql", recording):
        yield asked


def in_thread(call, results: dict, name: str) -> threading.Thread:
    """Start `call` in a thread with its own database connection; its answer, or what
    it raised, lands in `results[name]`."""

    def run():
        try:
            results[name] = call()
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            results[name] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread
