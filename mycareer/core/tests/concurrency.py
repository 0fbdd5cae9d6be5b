"""Running calls at the same moment, each in its own thread with its own connection."""

import threading
import time

from django.db import connection


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
