"""One database's run: a fresh database, seeded, served by gunicorn, measured; JSON out.

    python -m bench.run --database sqlite --organisations 10000 --out var/bench/sqlite.json

`python -m bench` runs this once per database (PostgreSQL under
scripts/with-postgres.sh, which sets DATABASE_URL) and writes the report. The
process sets its own environment before Django starts, so every setting the
server runs with is visible here: DEBUG off, a throwaway SECRET_KEY, loopback only.

Query counts and database time come from the same request run once more in this
process through Django's test client, against the same database, with a wrapper
that counts and times every statement. The server itself runs unmodified, so its
latencies carry no measuring overhead.
"""

import argparse
import datetime
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.http import Session
from bench.measure import Budget, Sample, run_operation, time_calls
from bench.operations import Op, chosen, operations

PROJECT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "demo-password-1"
STAFF_USER = "operator@demo.ac.uk"
STUDENT_USER = "student@demo.ac.uk"
# The exact-name search looks for the active benchmark organisation at this position.
EXACT_NAME_AT = 5_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(root: Path, web_port: int, smtp_port: int) -> dict[str, str]:
    """The environment the server, the worker and this process share."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "MYCAREER_VAR_DIR": str(root),
        "MEDIA_ROOT": str(root / "media"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "BULK_EMAIL_RATE": "0",
        "LOG_LEVEL": "ERROR",
        "PYTHONUNBUFFERED": "1",
    }


def manage(*args: str, env: dict, log: Path) -> tuple[float, str]:
    """Run a management command; returns its time and output (fails loudly)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    with log.open("a") as out:
        out.write(f"$ manage.py {' '.join(args)}  ({elapsed:.1f} s)\n{done.stdout}{done.stderr}\n")
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def start_server(env: dict, port: int, root: Path) -> subprocess.Popen:
    """gunicorn with two workers on loopback; waits until it answers."""
    log = (root / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mycareer.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],  # fmt: skip
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    session = Session(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped; see {root / 'gunicorn.log'}")
        try:
            if session.get("/bench/hello/").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer within a minute")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


# In-process work (Django set up) -----------------------------------------------------


def discover(organisations: int) -> dict:
    """The records the operations need, chosen from the seeded data."""
    from django.db.models import Count

    from mycareer.accounts.models import Unit, User
    from mycareer.events import selectors
    from mycareer.events.models import Event
    from mycareer.organisations.models import Organisation

    fixtures: dict = {"student": True}
    bench = Organisation.objects.filter(
        domain__endswith=".example", status=Organisation.Status.ACTIVE
    ).order_by("pk")
    # The 5,000th: names are drawn in order, so it is the same organisation at every size
    # from 10,000 up, and the growth table compares one search with itself.
    middle = bench[min(bench.count() // 2, EXACT_NAME_AT)]
    fixtures["exact_name"] = middle.name
    # The benchmark organisation in the most events: a timeline with events and notes.
    busiest = (
        Event.organisations.through.objects.filter(organisation__domain__endswith=".example")
        .values("organisation_id")
        .annotate(n=Count("id"))
        .order_by("-n", "organisation_id")
        .first()
    )
    profile_id = busiest["organisation_id"] if busiest else middle.pk
    fixtures["profile_path"] = f"/organisations/{profile_id}/"
    fixtures["profile_id"] = profile_id

    staff = User.objects.get(email=STAFF_USER)
    feed_query, feed_events = _feed_filter(staff)
    fixtures["feed_path"] = f"/events/feed.ics?token={staff.feed_token}" + (
        f"&{feed_query}" if feed_query else ""
    )
    fixtures["feed_events"] = feed_events
    fixtures["clash_event"] = _new_event(staff, profile_id).pk
    fixtures["clash_path"] = f"/events/{fixtures['clash_event']}/clashes/"
    fixtures["insights"] = True
    fixtures["insights_unit"] = "mech"
    fixtures["insights_unit_id"] = Unit.objects.get(code="mech").pk
    fixtures["visible_to_student"] = selectors.visible_events(
        User.objects.get(email=STUDENT_USER)
    ).count()
    return fixtures


def _feed_filter(reader) -> tuple[str, int]:
    """The calendar filter whose feed holds closest to 1,000 events."""
    from mycareer.accounts.models import Unit
    from mycareer.events import selectors
    from mycareer.events.models import Event
    from mycareer.events.units import UnitTree

    tree = UnitTree.load()
    visible = selectors.visible_events(reader, tree)
    candidates = [("", {})]
    candidates += [(f"unit={u.code}", {"unit": u}) for u in Unit.objects.order_by("code")]
    candidates += [(f"type={t}", {"type": t}) for t in Event.Type.values]
    best = None
    for query, filters in candidates:
        count = selectors.in_feed(selectors.apply_filters(visible, filters, tree)).count()
        if best is None or abs(count - 1000) < abs(best[1] - 1000):
            best = (query, count)
    return best


def _new_event(organiser, organisation_id: int):
    """A draft like one an organiser is about to publish, on the busiest day ahead."""
    from django.utils import timezone

    from mycareer.events import services
    from mycareer.events.models import Event
    from mycareer.organisations.models import Organisation

    today = timezone.localdate()
    days = Counter(
        timezone.localtime(start).date()
        for start in Event.objects.filter(
            status=Event.Status.PUBLISHED,
            starts_at__gte=timezone.now() + datetime.timedelta(days=1),
            starts_at__lt=timezone.now() + datetime.timedelta(days=60),
        ).values_list("starts_at", flat=True)
    )
    day = max(days, key=lambda d: (days[d], -d.toordinal())) if days else today
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    unit = organiser.memberships.first().unit
    return services.event_create(
        by=organiser,
        title="Graduate scheme presentation (benchmark draft)",
        type=Event.Type.EMPLOYER_PRESENTATION,
        unit=unit,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        venue="Main Hall",
        organisations=[Organisation.objects.get(pk=organisation_id)],
        topics=["Graduate jobs", "Placements"],
        audience_units=[unit],
        audience_years=[2, 3],
    )


class QueryMeter:
    """Counts and times every statement a block runs (an execute wrapper)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def count_queries(op: Op, repeat: int = 5) -> tuple[int, float, int]:
    """(queries, database ms, status) of the request, run in-process after a warm-up.

    The database time is the median of `repeat` runs: one run on a shared, loaded
    machine can take several times its usual time.
    """
    import statistics

    from django.db import connection
    from django.test import Client

    from mycareer.accounts.models import User

    client = Client()
    if op.reader != "feed":
        client.force_login(
            User.objects.get(email=STUDENT_USER if op.reader == "student" else STAFF_USER)
        )
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in op.headers.items()}
    client.get(op.path, **headers)
    counts, times = [], []
    for _ in range(repeat):
        meter = QueryMeter()
        with connection.execute_wrapper(meter):
            response = client.get(op.path, **headers)
        counts.append(meter.count)
        times.append(meter.seconds * 1000)
    return max(counts), statistics.median(times), response.status_code


def time_clash_check(event_id: int, repeat: int) -> dict:
    from django.db import connection

    from mycareer.events.clashes import find_clashes
    from mycareer.events.models import Event

    event = Event.objects.get(pk=event_id)
    found = find_clashes(event)
    meter = QueryMeter()
    with connection.execute_wrapper(meter):
        find_clashes(event)
    timing = time_calls(lambda: find_clashes(event), repeat=repeat)
    return timing | {
        "clashes": len(found),
        "queries": meter.count,
        "db_ms": meter.seconds * 1000,
        "published_events": Event.objects.filter(status=Event.Status.PUBLISHED).count(),
    }


def data_shape(database: str, root: Path) -> dict:
    from django.db import connection
    from taggit.models import Tag

    from mycareer.accounts.models import StudentProfile
    from mycareer.bookings.models import Booking
    from mycareer.events.models import Event
    from mycareer.organisations.models import Contact, Note, Organisation, TaggedOrganisation

    shape = {
        "organisations": Organisation.objects.count(),
        "contacts": Contact.objects.count(),
        "notes": Note.objects.count(),
        "tags": Tag.objects.count(),
        "tag_links": TaggedOrganisation.objects.count(),
        "events": Event.objects.count(),
        "students": StudentProfile.objects.count(),
        "bookings": Booking.objects.count(),
    }
    with connection.cursor() as cursor:
        if database == "sqlite":
            import sqlite3

            shape["engine"] = f"SQLite {sqlite3.sqlite_version}"
            size = sum(p.stat().st_size for p in root.glob("mycareer.sqlite3*"))
        else:
            cursor.execute("SHOW server_version")
            shape["engine"] = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
    shape["database_mb"] = round(size / 1024 / 1024)
    return shape


def machine() -> dict:
    info = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_at_start": os.getloadavg(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(
            next(line for line in meminfo.splitlines() if line.startswith("MemTotal")).split()[1]
        )
        info["memory_gb"] = round(kb / 1024 / 1024, 1)
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    except (OSError, StopIteration):
        pass
    import django

    info["django"] = django.get_version()
    return info


# The run -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", default="full")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--growth", action="store_true", help="organisation pages only (bench/growth.py)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--only",
        help="measure only these operations (keys, comma-separated, or a prefix ending in *); "
        "the clash and bulk email runs are left out, and the bookings run unless named "
        "(bookings)",
    )
    args = parser.parse_args(argv)

    if args.database == "postgres" and not os.environ.get("DATABASE_URL"):
        raise SystemExit("PostgreSQL runs need DATABASE_URL (run under scripts/with-postgres.sh)")
    if args.database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    root = PROJECT / "var" / "bench" / args.database
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log = root / "setup.log"
    web_port, smtp_port = free_port(), free_port()
    env = os.environ | bench_env(root, web_port, smtp_port)
    os.environ.update(env)
    budget = Budget(single=30, concurrent=60, seconds=15) if args.quick else Budget()
    result: dict = {"database": args.database, "machine": machine(), "started": time.time()}
    print(f"[{args.database}] fresh database in {root}", flush=True)

    setup = {}
    setup["migrate"], _ = manage("migrate", "--noinput", env=env, log=log)
    setup["seed_demo"], _ = manage("seed_demo", env=env, log=log)
    setup["seed_bench"], seed_output = manage(
        "seed_bench",
        f"--organisations={args.organisations}",
        f"--seed={args.seed}",
        f"--shape={args.shape}",
        env=env,
        log=log,
    )
    setup["collectstatic"], _ = manage("collectstatic", "--noinput", env=env, log=log)
    # The nightly insights jobs, so their pages show what they would the next morning
    # (a growth run measures only the organisation pages, so it does without them).
    nightly = (
        ()
        if args.growth
        else (
            ("scores", "refresh_scores"),
            ("opportunities", "refresh_opportunities"),
            ("trends", "refresh_trends"),
        )
    )
    for name, job in nightly:
        setup[f"nightly {name}"], _ = manage(
            "shell",
            "-c",
            f"from mycareer.insights import jobs; jobs.{job}.call()",
            env=env,
            log=log,
        )
    result["setup_seconds"] = setup
    result["seed_output"] = seed_output
    print(f"[{args.database}] seeded in {setup['seed_bench']:.0f} s", flush=True)

    import django

    django.setup()
    result["shape"] = data_shape(args.database, root)
    fixtures = discover(args.organisations)
    result["fixtures"] = {k: v for k, v in fixtures.items() if k != "feed_path"}

    base_url = f"http://127.0.0.1:{web_port}"
    server = start_server(env, web_port, root)
    try:
        result["operations"] = measure_all(
            base_url, fixtures, budget, args.database, growth=args.growth, only=args.only
        )
        whole = not (args.growth or args.only)
        if whole:
            print(f"[{args.database}] clash check in-process", flush=True)
            result["clash_selector"] = time_clash_check(
                fixtures["clash_event"], repeat=30 if args.quick else 100
            )
        if whole or (args.only and chosen("bookings", args.only)):
            from bench.bookings import run_booking_benchmark

            print(f"[{args.database}] bookings", flush=True)
            result["bookings"] = run_booking_benchmark(base_url=base_url)
    finally:
        stop(server)
    if whole:
        from bench.mail import run_mail_benchmark

        print(f"[{args.database}] bulk email", flush=True)
        result["mail"] = run_mail_benchmark(
            project=PROJECT, root=root, env=env, smtp_port=smtp_port, recipients=10_000
        )
    _write(result, args.out, args.database)


def _write(result: dict, out: Path, database: str) -> None:
    result["finished"] = time.time()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"[{database}] done: {out}", flush=True)


def measure_all(
    base_url: str,
    fixtures: dict,
    budget: Budget,
    database: str,
    *,
    growth: bool = False,
    only: str | None = None,
) -> dict:
    """Every HTTP operation: latency and throughput over HTTP, queries in-process.

    `growth`: only the baseline and the operations on organisations (bench/growth.py);
    `only`: the operations named.
    """
    from bench.growth import KEYS

    staff = Session(base_url)
    staff.login("/accounts/login/", STAFF_USER, DEMO_PASSWORD)
    student = Session(base_url)
    student.login("/accounts/login/", STUDENT_USER, DEMO_PASSWORD)
    calendar_app = Session(base_url)
    first = calendar_app.get(fixtures["feed_path"])
    fixtures["feed_etag"] = first.headers.get("etag")
    sessions = {"staff": staff, "student": student, "feed": calendar_app}
    results = {}
    for op in operations(fixtures):
        if growth and op.key not in (*KEYS, "hello"):
            continue
        if not chosen(op.key, only):
            continue
        print(f"[{database}] {op.label}", flush=True)
        sample: Sample = run_operation(
            sessions[op.reader], op.path, budget, headers=op.headers, expect=op.expect
        )
        sample.queries, sample.db_ms, status = count_queries(op)
        if status != op.expect:
            sample.note = (sample.note + f"; in-process answer {status}").strip("; ")
        results[op.key] = op.described() | sample.as_dict()
    return results


if __name__ == "__main__":
    main()
