"""Timing one operation: latency percentiles at one client, throughput at one and four."""

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bench.http import Response, Session


@dataclass
class Sample:
    """What one operation measured; times in milliseconds."""

    requests: int = 0
    errors: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rps_1: float | None = None
    rps_4: float | None = None
    p95_ms_4: float | None = None
    status: int | None = None
    bytes: int | None = None
    queries: int | None = None
    db_ms: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the value below which `share` of samples fall."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "median_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
    }


@dataclass
class Budget:
    """How much to run: requests per phase and a cap in seconds, whichever comes first."""

    warmup: int = 3
    single: int = 60
    concurrent: int = 120
    seconds: float = 30.0


def run_operation(
    session: Session,
    path: str,
    budget: Budget,
    *,
    headers: dict[str, str] | None = None,
    expect: int = 200,
    check: Callable[[Response], str | None] | None = None,
) -> Sample:
    """Warm up, then time `path` at one client and at four concurrent clients."""
    sample = Sample()
    first = None
    for _ in range(budget.warmup):
        first = session.get(path, headers)
    if first is not None:
        sample.status, sample.bytes = first.status, len(first.body)
        if first.status != expect:
            sample.note = f"answered {first.status}, expected {expect}"
        elif check is not None:
            sample.note = check(first) or ""

    seconds: list[float] = []
    started = time.perf_counter()
    while len(seconds) < budget.single and time.perf_counter() - started < budget.seconds:
        response = session.get(path, headers)
        if response.status != expect:
            sample.errors += 1
        seconds.append(response.seconds)
    elapsed = time.perf_counter() - started
    sample.requests = len(seconds)
    sample.__dict__.update(summarise(seconds))
    sample.rps_1 = len(seconds) / elapsed if elapsed else None

    concurrent, errors = _concurrently(session, path, budget, headers, expect, clients=4)
    sample.errors += errors
    if concurrent["count"]:
        sample.rps_4 = concurrent["count"] / concurrent["elapsed"]
        sample.p95_ms_4 = percentile([s * 1000 for s in concurrent["seconds"]], 0.95)
    return sample


def released_together(calls: list[Callable[[], None]]) -> float:
    """Run each call in its own thread, all released at the same moment.

    Returns the seconds from the release to the last call finishing.
    """
    barrier = threading.Barrier(len(calls) + 1)

    def run(call):
        barrier.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _concurrently(session, path, budget: Budget, headers, expect, *, clients: int):
    """`clients` threads sharing the login, each with its own connection."""
    seconds: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + budget.seconds
    per_client = max(1, budget.concurrent // clients)

    def work():
        mine = []
        for _ in range(per_client):
            if time.perf_counter() > deadline:
                break
            response = session.get(path, headers)
            mine.append(response.seconds)
            if response.status != expect:
                with lock:
                    errors[0] += 1
        with lock:
            seconds.extend(mine)

    elapsed = released_together([work] * clients)
    return {"count": len(seconds), "elapsed": elapsed, "seconds": seconds}, errors[0]


def time_calls(function: Callable[[], object], *, repeat: int, warmup: int = 2) -> dict:
    """Median, p95 and p99 of an in-process call, in milliseconds."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return summarise(seconds) | {"calls": repeat}
