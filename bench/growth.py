"""How the cost grows with the data: the same operations at several sizes.

    python -m bench --sizes 10000,100000,300000 --sqlite

Each size gets a fresh database seeded with `seed_bench --organisations N` and the
operations on organisations (the list, searches, tag filters, a profile) measured as in
a full run, without the clash check, bookings and bulk email, which do not grow with the
number of organisations. The table gives each operation's median over HTTP and its
database time at every size, and the ratio of the largest size's median to the
smallest's, against the target (at most 1.5).
"""

from bench.report import MET, MISSED, _ms

GROWTH_TARGET = 1.5
BEGIN = "<!-- bench:growth:begin (written by python -m bench --sizes) -->"
END = "<!-- bench:growth:end -->"
# The operations whose cost should not follow the number of organisations.
KEYS = (
    "org_list",
    "name_broad",
    "name_exact",
    "substring",
    "tag_1",
    "tag_3",
    "tags_name",
    "profile",
)


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise ValueError("--sizes takes numbers of organisations, e.g. 10000,100000,300000")
    return sizes


def growth_table(runs: dict[str, dict[int, dict]]) -> list[str]:
    """Markdown rows: per engine, each operation's median (db ms) at each size and the ratio."""
    lines: list[str] = []
    for database, by_size in runs.items():
        sizes = sorted(by_size)
        name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(database, database)
        heads = " | ".join(f"{size:,}: median ms (db ms)" for size in sizes)
        lines += [
            f"| {name}: operation | {heads} | median at {sizes[-1]:,} ÷ at {sizes[0]:,} "
            f"(target ≤ {GROWTH_TARGET}) |",
            "| --- | " + " | ".join("---" for _ in sizes) + " | --- |",
        ]
        first = by_size[sizes[0]]["operations"]
        for key in KEYS:
            if key not in first:
                continue
            cells = []
            for size in sizes:
                op = by_size[size]["operations"].get(key, {})
                cells.append(f"{_ms(op.get('median_ms'))} ({_ms(op.get('db_ms'))})")
            low = first[key].get("median_ms")
            high = by_size[sizes[-1]]["operations"].get(key, {}).get("median_ms")
            if low and high:
                ratio = high / low
                mark = MET if ratio <= GROWTH_TARGET else MISSED
                verdict = f"{mark} {ratio:.2f}"
            else:
                verdict = "–"
            lines.append(f"| {first[key]['label']} | " + " | ".join(cells) + f" | {verdict} |")
        loads = "; ".join(
            f"{size:,}: " + ", ".join(f"{x:.1f}" for x in by_size[size]["machine"]["load_at_start"])
            for size in sizes
        )
        lines += ["", f"{name}: load average at the start of each size: {loads}.", ""]
    return lines


def render(runs: dict[str, dict[int, dict]]) -> str:
    return "\n".join([BEGIN, "", *growth_table(runs), END])


def update_document(path, generated: str) -> None:
    """Replace the growth table between its markers (added at the end the first time)."""
    text = path.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        path.write_text(head + generated + tail)
    else:
        path.write_text(text.rstrip() + "\n\n" + generated + "\n")
