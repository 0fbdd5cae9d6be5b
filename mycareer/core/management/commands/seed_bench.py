"""`manage.py seed_bench`: large, deterministic synthetic data for the benchmarks.

    manage.py seed_bench --organisations 100000 --seed 1
    manage.py seed_bench --organisations 50000 --shape peer

The full shape (the default) makes N organisations with realistic names, sectors,
sizes and places, 200 tags in a skewed spread (about 3 per organisation), 3 contacts
and 10 notes each, 20,000 students, 10,000 events over two academic years with their
audiences and 200,000 bookings. The peer shape,
for side-by-side comparisons with other systems, makes N organisations with exactly
3 of the 200 tags and 1 contact each.

Safety: it adds to whatever the database holds, so it runs only on an empty database
or a demo one (`seed_demo`'s administrator exists, and demo logins are public
anyway), or with --force. It also refuses a second run on the same database unless
--force: benchmark figures from doubled data would mislead.

Determinism: the same --seed and the same --today give the same rows on an empty
database; --today defaults to today, so dates follow the calendar.
"""

import datetime
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from mycareer.core.benchseed import (
    BENCH_DOMAIN,
    FULL,
    SHAPES,
    BenchPlan,
    bench_seed_steps,
)
from mycareer.core.maintenance import refresh_planner_statistics

DEMO_MARKER = "admin@demo.ac.uk"


class Command(BaseCommand):
    help = "Load large deterministic benchmark data (only into an empty or demo database)."

    def add_arguments(self, parser):
        parser.add_argument("--organisations", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--shape", choices=SHAPES, default=FULL)
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="The day the data is built around (YYYY-MM-DD); today by default.",
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add benchmark data to a database that is neither empty nor a demo one.",
        )

    def handle(self, *args, organisations, seed, shape, today, batch_size, force, **options):
        if organisations < 0:
            raise CommandError("--organisations must be zero or more.")
        if not force:
            self.check_database()
        autodiscover_modules("bench_seed")
        plan = BenchPlan(
            organisations=organisations,
            seed=seed,
            shape=shape,
            batch_size=batch_size,
            out=self.stdout,
        )
        plan.shared["today"] = today or timezone.localdate()
        self.stdout.write(
            f"Seeding benchmark data: {organisations:,} organisations, shape {shape}, seed {seed}"
        )
        started = time.perf_counter()
        for step in bench_seed_steps(shape):
            step.run(plan)
        with plan.timed("planner statistics (ANALYZE)"):
            # As the daily job would: a freshly loaded database has none.
            refresh_planner_statistics()
        self.stdout.write(
            self.style.SUCCESS(f"Benchmark data ready in {time.perf_counter() - started:.1f} s")
        )

    def check_database(self) -> None:
        """Refuse to fill a database that holds real records (see the module's docstring)."""
        user = apps.get_model("accounts", "User")
        organisation = apps.get_model("organisations", "Organisation")
        if organisation.objects.filter(domain__endswith=f".{BENCH_DOMAIN}").exists():
            raise CommandError(
                "This database already holds benchmark data. Use a fresh database "
                "(or --force to add more)."
            )
        if organisation.objects.exists() and not user.objects.filter(email=DEMO_MARKER).exists():
            raise CommandError(
                "This database holds organisations and is not a demo database; "
                "seed_bench would add many synthetic records to it. Use a scratch "
                "database, or pass --force."
            )
