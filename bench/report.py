"""The figures as Markdown: one table, SQLite and PostgreSQL side by side, targets beside.

`docs/benchmarks.md` keeps its hand-written parts (what changed because of the
figures, before and after); the harness replaces only what lies between the two
markers below, so a new run never erases the history of the fixes.
"""

import datetime
from pathlib import Path

from bench import operations as targets

BEGIN = "<!-- bench:begin (written by python -m bench; edit outside these markers) -->"
END = "<!-- bench:end -->"
DATABASES = [("sqlite", "SQLite"), ("postgres", "PostgreSQL")]
MET, MISSED = "✅", "❌"


def _ms(value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _rate(value) -> str:
    return "–" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _triple(figures: dict) -> str:
    return " / ".join(_ms(figures.get(k)) for k in ("median_ms", "p95_ms", "p99_ms"))


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (MET if ok else MISSED) + " "


def _latency_cell(op: dict, database: str) -> str:
    target = _p95_target(op, database)
    ok = None if target is None or op.get("p95_ms") is None else op["p95_ms"] <= target
    if op.get("db_target") and ok is not None:
        ok = ok and op.get("median_ms") is not None and op["median_ms"] <= targets.FAST_MEDIAN
    if op.get("kind") == "list" and op.get("queries") is not None and ok is not None:
        ok = ok and op["queries"] <= targets.LIST_QUERIES
    cell = (
        f"{_mark(ok)}{_ms(op.get('median_ms'))} / {_ms(op.get('p95_ms'))} / {_ms(op.get('p99_ms'))}"
    )
    if op.get("errors"):
        cell += f" ({op['errors']} errors)"
    if op.get("note"):
        cell += f" ({op['note']})"
    return cell


def _p95_target(op: dict, database: str) -> float | None:
    if op.get("p95_target"):
        return op["p95_target"]
    if op.get("db_target"):
        return targets.FAST_P95
    if op.get("kind") == "list":
        return targets.LIST_P95.get(database, targets.LIST_P95["sqlite"])
    if op.get("kind") == "feed":
        return targets.FEED_MS
    return None


def _queries_cell(op: dict) -> str:
    if op.get("queries") is None:
        return "–"
    ok = None
    if op.get("db_target"):
        ok = op["db_ms"] <= targets.DB_MS
    return f"{_mark(ok)}{op['queries']} ({_ms(op.get('db_ms'))} ms)"


def target_text(op: dict) -> str:
    parts = []
    if op.get("db_target"):
        parts.append(
            f"median ≤ {targets.FAST_MEDIAN:.0f} ms, p95 ≤ {targets.FAST_P95:.0f} ms; "
            f"≤ {targets.LIST_QUERIES} queries"
        )
    elif op.get("p95_target"):
        parts.append(f"p95 ≤ {op['p95_target']:.0f} ms")
    elif op.get("kind") == "list":
        parts.append(
            f"p95 ≤ {targets.LIST_P95['postgres']:.0f} ms PostgreSQL, "
            f"≤ {targets.LIST_P95['sqlite']:.0f} ms SQLite; ≤ {targets.LIST_QUERIES} queries"
        )
    if op.get("kind") == "feed":
        parts.append(f"≤ {targets.FEED_MS:.0f} ms")
    if op.get("expect") == 304 or op.get("status") == 304:
        parts.append("answers 304")
    if op.get("db_target"):
        parts.append(f"≤ {targets.DB_MS:.0f} ms database time")
    if op.get("kind") == "hello":
        parts.append("baseline")
    return "; ".join(parts) or "–"


def operations_table(
    results: dict[str, dict], columns: list[tuple[str, str]] | None = None
) -> list[str]:
    present = columns or [(key, name) for key, name in DATABASES if key in results]
    header = ["Operation", "Target"]
    for _, name in present:
        header += [
            f"{name}: median / p95 / p99 ms",
            f"{name}: req/s at 1 / 4",
            f"{name}: queries (db ms)",
        ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    keys: list[str] = []
    for key, _ in present:
        for op_key in results[key].get("operations", {}):
            if op_key not in keys:
                keys.append(op_key)
    for op_key in keys:
        first = next(
            results[k]["operations"][op_key]
            for k, _ in present
            if op_key in results[k]["operations"]
        )
        row = [first["label"], target_text(first)]
        for database, _ in present:
            op = results[database].get("operations", {}).get(op_key)
            if op is None:
                row += ["–", "–", "–"]
                continue
            row += [
                _latency_cell(op, database),
                f"{_rate(op.get('rps_1'))} / {_rate(op.get('rps_4'))}",
                _queries_cell(op),
            ]
        lines.append("| " + " | ".join(row) + " |")
    if "org_list" in keys:
        lines.append(_ratio_row(results, present))
    whole = any("clash_selector" in results[key] for key, _ in present)
    if whole:
        lines.append(_clash_row(results, present))
    if whole or any("bookings" in results[key] for key, _ in present):
        lines.append(_booking_row(results, present))
    if whole:
        lines.append(_mail_row(results, present))
    return lines


def _ratio_row(results, present) -> str:
    row = [
        "Organisations list ÷ hello-world, requests per second",
        f"≥ {targets.RATIO}",
    ]
    for database, _ in present:
        ops = results[database].get("operations", {})
        hello, listing = ops.get("hello", {}), ops.get("org_list", {})
        cells = []
        for key in ("rps_1", "rps_4"):
            if hello.get(key) and listing.get(key):
                ratio = listing[key] / hello[key]
                cells.append(f"{_mark(ratio >= targets.RATIO)}{ratio:.2f}")
            else:
                cells.append("–")
        row += [f"at 1 client: {cells[0]}", f"at 4 clients: {cells[1]}", ""]
    return "| " + " | ".join(row) + " |"


def _clash_row(results, present) -> str:
    row = [
        "Clash check for a new event (`find_clashes`, in-process)",
        f"≤ {targets.CLASH_MS:.0f} ms",
    ]
    for database, _ in present:
        clash = results[database].get("clash_selector")
        if not clash:
            row += ["–", "–", "–"]
            continue
        ok = clash["p95_ms"] <= targets.CLASH_MS
        row += [
            f"{_mark(ok)}{_triple(clash)}",
            f"{clash['clashes']} clashes among {clash['published_events']:,} published events",
            f"{clash['queries']} ({_ms(clash['db_ms'])} ms)",
        ]
    return "| " + " | ".join(row) + " |"


def _booking_row(results, present) -> str:
    row = [
        "Booking: 200 clients, 50 places",
        f"50 confirmed, 150 waiting, 0 errors; ≥ {targets.BOOKINGS_RATE:.0f} bookings/s",
    ]
    for database, _ in present:
        booking = results[database].get("bookings") or {}
        if not booking:
            row += ["not measured", "", ""]
            continue
        ok = (
            booking["confirmed"] == 50
            and booking["waiting"] == 150
            and booking["errors"] == 0
            and (booking.get("bookings_per_second") or 0) >= targets.BOOKINGS_RATE
        )
        row += [
            f"{_mark(ok)}{booking['confirmed']} confirmed, {booking['waiting']} waiting, "
            f"{booking['errors']} errors; p95 {_ms(booking.get('p95_ms'))} ms",
            f"{_rate(booking.get('bookings_per_second'))} bookings/s",
            booking.get("via", ""),
        ]
    return "| " + " | ".join(row) + " |"


def _mail_row(results, present) -> str:
    row = ["Bulk email to a local SMTP sink", f"≥ {targets.MAIL_RATE:.0f} messages/s sustained"]
    for database, _ in present:
        mail = results[database].get("mail") or {}
        rate = mail.get("messages_per_second")
        if rate is None:
            row += [mail.get("note") or "not measured", "", ""]
            continue
        row += [
            f"{_mark(rate >= targets.MAIL_RATE)}{rate:,.0f} messages/s; {mail['received']:,} of "
            f"{mail['queued']:,} accepted",
            f"send to last accepted: {mail['send_to_last_seconds']:.1f} s",
            f"queueing (recipient list, outbox): {mail['queue_seconds']:.1f} s",
        ]
    return "| " + " | ".join(row) + " |"


def render(results: dict[str, dict], *, quick: bool) -> str:
    """The generated part of docs/benchmarks.md."""
    any_result = next(iter(results.values()))
    info = any_result["machine"]
    when = datetime.datetime.fromtimestamp(any_result["started"]).strftime("%Y-%m-%d %H:%M")
    lines = [
        BEGIN,
        "",
        f"## Last run: {when}{' (quick)' if quick else ''}",
        "",
        f"- Machine: {info.get('cores')} cores ({info.get('cpu', 'unknown CPU')}), "
        f"{info.get('memory_gb', '?')} GB memory; {info.get('platform')}; Python "
        f"{info.get('python')}, Django {info.get('django')}. Each engine's load average "
        "at its start is below: anything else running on the two cores inflates every "
        "figure, so compare runs with care.",
    ]
    for database, name in DATABASES:
        if database not in results:
            continue
        result = results[database]
        shape = result["shape"]
        load = ", ".join(f"{x:.1f}" for x in result["machine"].get("load_at_start", []))
        setup = result["setup_seconds"]
        lines.append(
            f"- {name} ({shape.get('engine')}): {shape['organisations']:,} organisations, "
            f"{shape['tag_links']:,} tag links over {shape['tags']:,} tags, "
            f"{shape['contacts']:,} contacts, {shape['notes']:,} notes, {shape['events']:,} "
            f"events, {shape['students']:,} students"
            + (f", {shape['bookings']:,} bookings" if "bookings" in shape else "")
            + f"; {shape['database_mb']:,} MB. seed_bench took {setup['seed_bench']:.0f} s; "
            f"load average at the start {load}."
        )
    lines += ["", *operations_table(results), "", _footnotes(results), "", END]
    return "\n".join(lines)


def _footnotes(results) -> str:
    any_result = next(iter(results.values()))
    fixtures = any_result.get("fixtures", {})
    return (
        "Latency is over HTTP on loopback to gunicorn (2 sync workers, DEBUG off), "
        "median / p95 / p99 at one client; requests per second at one and at four "
        "concurrent clients. Queries and database time come from running the same "
        "request five more times in the harness's process (Django's test client, same "
        "database, every statement counted and timed; the median time). On SQLite the "
        "database time counts statement execution, not the fetching of rows, which "
        "SQLite does lazily: pages that read many rows (the month view) show less than "
        "they spend. ✅/❌ mark each figure against "
        "its target. The exact-name search looks for "
        f"“{fixtures.get('exact_name', '?')}”; the feed is the filter whose feed holds "
        f"closest to 1,000 events ({fixtures.get('feed_events', '?')}); the clash check "
        "scores a new draft presentation on the busiest day of the next two months."
    )


def update_document(path: Path, generated: str) -> None:
    """Replace the generated part of `path`, keeping everything else."""
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            path.write_text(head + generated + tail)
            return
        path.write_text(text.rstrip() + "\n\n" + generated + "\n")
        return
    path.write_text(
        "# Benchmarks\n\nRun with `make bench` (100,000 organisations) or "
        "`make bench-quick` (10,000).\n\n" + generated + "\n"
    )
