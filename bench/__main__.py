"""`python -m bench`: measure MyCareer on SQLite and PostgreSQL and write the figures.

    python -m bench                      # 100,000 organisations, both databases
    python -m bench --quick              # 10,000 organisations
    python -m bench --sqlite             # one database only (or --postgres)
    python -m bench --sizes 10000,100000,300000 --sqlite   # growth (bench/growth.py)
    python -m bench --base-url https://crm.example --user me@example --password ...

Each database gets its own process (`bench.run`): a fresh database, `seed_demo` for
the demo logins, `seed_bench`, gunicorn with two workers, the measurements. This
process gathers their figures into a table on stdout and in docs/benchmarks.md.

With --base-url the harness seeds and starts nothing: it logs in to the given server
through its login form and times the same pages over HTTP (no query counts, no
in-process checks), so the same client can measure another deployment.
"""

import argparse
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from bench.http import Session
from bench.measure import Budget, run_operation
from bench.operations import chosen, operations
from bench.report import operations_table, render, update_document

PROJECT = Path(__file__).resolve().parent.parent


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 organisations, shorter runs")
    parser.add_argument("--organisations", type=int, help="default 100,000 (10,000 with --quick)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", choices=["full", "peer"], default="full")
    parser.add_argument("--sqlite", action="store_true", help="measure SQLite (default: both)")
    parser.add_argument("--postgres", action="store_true", help="measure PostgreSQL")
    parser.add_argument("--output", type=Path, default=PROJECT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the docs")
    parser.add_argument(
        "--sizes",
        help="numbers of organisations, e.g. 10000,100000,300000: the growth table instead",
    )
    parser.add_argument(
        "--only",
        help="operation keys to measure (comma-separated; a prefix may end in *); "
        "bookings names the booking run",
    )
    remote = parser.add_argument_group("another running server")
    remote.add_argument("--base-url")
    remote.add_argument("--login-url", default="/accounts/login/")
    remote.add_argument("--user")
    remote.add_argument("--password")
    remote.add_argument("--student-user", help="a student login, for the student's event list")
    remote.add_argument("--student-password")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.base_url:
        measure_remote(args)
        return
    organisations = args.organisations or (10_000 if args.quick else 100_000)
    databases = [
        name for name, chosen in (("sqlite", args.sqlite), ("postgres", args.postgres)) if chosen
    ] or ["sqlite", "postgres"]
    if args.sizes:
        measure_growth(args, databases)
        return
    results = {}
    for database in databases:
        result = run_one(args, database, organisations)
        if result is not None:
            results[database] = result
    if not results:
        raise SystemExit(1)
    if args.only:
        # A subset: its rows only, printed; the document's table stays whole.
        print("\n".join(operations_table(results)))
        return
    generated = render(results, quick=args.quick)
    print(generated)
    if not args.no_write:
        update_document(args.output, generated)
        print(f"\nWritten to {args.output}")


def run_one(
    args: argparse.Namespace, database: str, organisations: int, *, growth: bool = False
) -> dict | None:
    """One database's run (`bench.run`) in its own process; its figures, or None."""
    suffix = f"-{organisations}" if growth else ""
    out = PROJECT / "var" / "bench" / f"results-{database}{suffix}.json"
    out.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "bench.run", "--database", database,
        "--organisations", str(organisations), "--seed", str(args.seed),
        "--shape", args.shape, "--out", str(out),
    ]  # fmt: skip
    if args.quick:
        command.append("--quick")
    if growth:
        command.append("--growth")
    if args.only:
        command += ["--only", args.only]
    if database == "postgres":
        command = [str(PROJECT / "scripts" / "with-postgres.sh"), *command]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(command, cwd=PROJECT, env=env, check=False)
    if done.returncode or not out.exists():
        print(f"The {database} run failed (exit {done.returncode}).", file=sys.stderr)
        return None
    return json.loads(out.read_text())


def measure_growth(args: argparse.Namespace, databases: list[str]) -> None:
    """The organisation operations at each size, on each database: the growth table."""
    from bench import growth

    sizes = growth.parse_sizes(args.sizes)
    runs: dict[str, dict[int, dict]] = {}
    for database in databases:
        for size in sizes:
            result = run_one(args, database, size, growth=True)
            if result is not None:
                runs.setdefault(database, {})[size] = result
                # Written after each size, so a long run shows what it has so far.
                (PROJECT / "var" / "bench" / "growth.json").write_text(
                    json.dumps(runs, indent=2, default=str)
                )
    if not runs:
        raise SystemExit(1)
    generated = growth.render(runs)
    print(generated)
    if not args.no_write:
        growth.update_document(args.output, generated)
        print(f"\nWritten to {args.output}")


def measure_remote(args: argparse.Namespace) -> None:
    """Time the pages of a server someone else started; nothing is seeded or started."""
    if not (args.user and args.password):
        raise SystemExit("--base-url needs --user and --password")
    base = args.base_url.rstrip("/")
    staff = Session(base)
    staff.login(args.login_url, args.user, args.password)
    fixtures: dict = {}
    listing = staff.get("/organisations/").text()
    link = re.search(r'href="/organisations/(\d+)/"[^>]*>([^<]+)<', listing)
    if link:
        fixtures["profile_path"] = f"/organisations/{link.group(1)}/"
        fixtures["exact_name"] = html.unescape(link.group(2)).strip()
    subscribe = staff.get("/events/subscribe/").text()
    token = re.search(r"feed\.ics\?token=([\w-]+)", subscribe)
    if token:
        fixtures["feed_path"] = f"/events/feed.ics?token={token.group(1)}"
        fixtures["feed_etag"] = Session(base).get(fixtures["feed_path"]).headers.get("etag")
    sessions = {"staff": staff, "feed": Session(base)}
    if args.student_user and args.student_password:
        student = Session(base)
        student.login(args.login_url, args.student_user, args.student_password)
        sessions["student"] = student
        fixtures["student"] = True
    budget = Budget(single=30, concurrent=60, seconds=15) if args.quick else Budget()
    figures = {}
    for op in operations(fixtures):
        if not chosen(op.key, args.only):
            continue
        print(f"[remote] {op.label}", flush=True)
        sample = run_operation(
            sessions[op.reader], op.path, budget, headers=op.headers, expect=op.expect
        )
        figures[op.key] = op.described() | sample.as_dict()
    table = operations_table({"remote": {"operations": figures}}, [("remote", base)])
    print("\n".join(table))
    print(
        f"\n{base}: latencies in ms over HTTP, judged against SQLite's list targets. "
        "A server without /bench/hello/ shows errors on the baseline row."
    )


if __name__ == "__main__":
    main()
