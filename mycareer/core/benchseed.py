"""Large synthetic data for benchmarks: the plan every step reads, and the step registry.

`manage.py seed_bench` runs the steps in order. Each app that owns part of the data
registers its step in its own `bench_seed.py` module, which the command discovers the
way the admin site discovers `admin.py`; so core imports no higher app, and a site
never imports benchmark code unless it seeds benchmark data.

Steps are deterministic: each draws from its own random generator, seeded with the
plan's seed and the step's name, so adding a step never changes what another makes.
"""

import functools
import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import connections, models, router

FULL = "full"
PEER = "peer"
SHAPES = (FULL, PEER)

# Synthetic people and organisations live under the `.example` top-level domain,
# which RFC 2606 reserves: no message sent to them can reach anyone.
BENCH_DOMAIN = "example"
STUDENT_EMAIL_DOMAIN = "students.bench.example"


@dataclass
class BenchPlan:
    """What to make, and what the steps hand on to each other (`shared`)."""

    organisations: int
    seed: int = 1
    shape: str = FULL
    batch_size: int = 2000
    out: TextIO | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    timings: list[tuple[str, float, int]] = field(default_factory=list)

    @property
    def is_full(self) -> bool:
        return self.shape == FULL

    def rng(self, name: str) -> random.Random:
        """A generator of its own for one step or part, the same on every run."""
        return random.Random(f"{self.seed}:{name}")

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    @contextmanager
    def timed(self, label: str) -> Iterator[dict]:
        """Time a part and print it with its row count (set `counter["rows"]`)."""
        counter = {"rows": 0}
        started = time.perf_counter()
        yield counter
        elapsed = time.perf_counter() - started
        self.timings.append((label, elapsed, counter["rows"]))
        rows = counter["rows"]
        if rows:
            rate = f", {rows / elapsed:,.0f} rows/s" if elapsed else ""
            self.say(f"  {label}: {rows:,} rows in {elapsed:.1f} s{rate}")
        else:
            self.say(f"  {label}: {elapsed:.1f} s")


@dataclass(frozen=True)
class BenchSeedStep:
    name: str
    run: Callable[[BenchPlan], None]
    order: int = 100
    shapes: tuple[str, ...] = SHAPES


_steps: dict[str, BenchSeedStep] = {}


def register_bench_seed(step: BenchSeedStep) -> None:
    """A part of the benchmark data; steps run in order and share `plan.shared`."""
    _steps[step.name] = step


def bench_seed_steps(shape: str) -> list[BenchSeedStep]:
    return sorted((s for s in _steps.values() if shape in s.shapes), key=lambda s: s.order)


def chunks(total: int, size: int) -> Iterator[range]:
    """Consecutive index ranges of at most `size`, so a step holds one chunk in memory."""
    for start in range(0, total, size):
        yield range(start, min(start + size, total))


def weighted_picker(rng: random.Random, items: list, weights: list[float]):
    """A function that draws `k` distinct items, favouring heavy ones (cumulative weights)."""
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)

    def pick(k: int) -> list:
        chosen: list = []
        while len(chosen) < k:
            for item in rng.choices(items, cum_weights=cumulative, k=k * 2):
                if item not in chosen:
                    chosen.append(item)
                    if len(chosen) == k:
                        break
        return chosen

    return pick


def insert_rows(
    model: type[models.Model],
    fields: list[str],
    rows: Iterable[tuple],
    *,
    batch_size: int,
    together: bool = False,
) -> int:
    """Insert plain value tuples into `model`'s table; returns how many rows went in.

    For the largest tables (a million notes), whose rows nothing reads back during
    the load: `bulk_create` spends most of its time building a model instance and
    preparing every value through its field, which here would take minutes. Values
    are given as Python values; dates and times are adapted the way their fields
    would adapt them, and every other value must already be what the column holds.
    Columns left out get NULL, so leave out only nullable ones.

    `together` inserts each batch as one statement rather than a statement per row:
    PostgreSQL runs a row trigger after the statement that inserted the row, so the
    trigger then sees the whole batch (the tag links' trigger finds each organisation's
    tag text already whole, and leaves the row as it is instead of rewriting it once per
    link but the last).
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    adapters = []
    for column in columns:
        # Cached: the same days and times recur thousands of times in a load.
        if isinstance(column, models.DateTimeField):
            adapters.append(functools.lru_cache(8192)(connection.ops.adapt_datetimefield_value))
        elif isinstance(column, models.DateField):
            adapters.append(functools.lru_cache(8192)(connection.ops.adapt_datefield_value))
        else:
            adapters.append(None)
    adapted = [i for i, adapter in enumerate(adapters) if adapter is not None]
    # Only quoted table and column names go into the text; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608
        quote(meta.db_table), ", ".join(quote(column.column) for column in columns)
    )
    one_row = "({})".format(", ".join(["%s"] * len(columns)))
    if together:
        # Within both engines' limit on a statement's parameters (SQLite's is 32,766).
        batch_size = min(batch_size, 32_000 // len(columns))
    count = 0
    with connection.cursor() as cursor:
        for batch in _batched(rows, batch_size):
            if adapted:
                batch = [_adapt(row, adapted, adapters) for row in batch]
            if together:
                cursor.execute(
                    sql + ", ".join([one_row] * len(batch)),
                    [value for row in batch for value in row],
                )
            else:
                cursor.executemany(sql + one_row, batch)
            count += len(batch)
    return count


def _adapt(row: tuple, positions: list[int], adapters: list) -> tuple:
    values = list(row)
    for i in positions:
        values[i] = adapters[i](values[i])
    return tuple(values)


def _batched(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
