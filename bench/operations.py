"""The operations the issue asks about, each with its address, its reader and its target.

Search terms are chosen against the benchmark data (`seed_bench`): "engineering"
appears in thousands of names and descriptions, "ridge" only inside words
(Northbridge, Bridge), and the three tags are the three most common ones.
"""

from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlencode

BROAD_WORD = "engineering"
SUBSTRING = "ridge"
ONE_TAG = "Placements"
THREE_TAGS = ("Graduate jobs", "Placements", "Internships")

# Targets, by kind of operation (milliseconds unless said).
LIST_P95 = {"sqlite": 200.0, "postgres": 150.0}
LIST_QUERIES = 10
# Issue 21's lists and searches: these and a database time of DB_MS, on both engines.
FAST_MEDIAN = 40.0
FAST_P95 = 80.0
DB_MS = 20.0
# Issue 20's insights pages.
INSIGHTS_P95 = 300.0
CLASH_MS = 50.0
FEED_MS = 200.0
RATIO = 0.30
MAIL_RATE = 200.0
BOOKINGS_RATE = 100.0


@dataclass(frozen=True)
class Op:
    key: str
    label: str
    path: str
    reader: str = "staff"  # "staff", "student" or "feed" (no session: a calendar program)
    kind: str = "page"  # "list" pages carry the list target; "feed", "hello", "page"
    expect: int = 200
    db_target: bool = False  # issue 21's list: FAST_MEDIAN, FAST_P95 and DB_MS
    p95_target: float | None = None  # a page's own p95 target, where it has one
    headers: dict = field(default_factory=dict)

    def described(self) -> dict:
        """What the report needs of the operation beside its figures."""
        return {
            "label": self.label,
            "kind": self.kind,
            "db_target": self.db_target,
            "p95_target": self.p95_target,
        }


def chosen(key: str, only: str | None) -> bool:
    """Whether `--only` (comma-separated keys, a prefix ending in *) names operation `key`."""
    if not only:
        return True
    return any(
        key.startswith(name[:-1]) if name.endswith("*") else key == name for name in only.split(",")
    )


def _search(**params) -> str:
    return "/organisations/?" + urlencode(params) if params else "/organisations/"


def operations(fixtures: dict) -> list[Op]:
    """The operations for one server; `fixtures` names the records they need."""
    ops = [
        Op("hello", "Hello-world view (baseline)", "/bench/hello/", kind="hello"),
        Op("org_list", "Organisations list, page 1", _search(), kind="list", db_target=True),
        Op(
            "name_broad",
            f"Name search, broad (“{BROAD_WORD}”)",
            _search(text=BROAD_WORD),
            kind="list",
        ),
    ]
    if fixtures.get("exact_name"):
        ops.append(
            Op(
                "name_exact",
                "Name search, exact (one organisation)",
                _search(text=fixtures["exact_name"]),
                kind="list",
            )
        )
    ops += [
        Op(
            "substring",
            f"Substring search inside names (“{SUBSTRING}”)",
            _search(text=SUBSTRING),
            kind="list",
            db_target=True,
        ),
        Op(
            "tag_1",
            f"Filter by 1 tag ({ONE_TAG})",
            _search(tags_all=ONE_TAG),
            kind="list",
            db_target=True,
        ),
        Op(
            "tag_3",
            "Filter by 3 tags, all of them",
            _search(tags_all=", ".join(THREE_TAGS)),
            kind="list",
            db_target=True,
        ),
        Op(
            "tags_name",
            "Tag and name together",
            _search(tags_all=ONE_TAG, text=BROAD_WORD),
            kind="list",
            db_target=True,
        ),
    ]
    if fixtures.get("profile_path"):
        ops.append(Op("profile", "Organisation profile with timeline", fixtures["profile_path"]))
    ops.append(Op("month", "Calendar, month view", "/events/", kind="list"))
    if fixtures.get("student"):
        ops.append(
            Op(
                "student_list",
                "Events open to a student (list)",
                "/events/list/",
                "student",
                "list",
            )
        )
    if fixtures.get("clash_path"):
        ops.append(Op("clash_page", "Clash check page for a new event", fixtures["clash_path"]))
    if fixtures.get("feed_path"):
        count = fixtures.get("feed_events")
        label = f"iCalendar feed ({count:,} events)" if count else "iCalendar feed"
        ops.append(Op("feed", label, fixtures["feed_path"], "feed", "feed"))
        if fixtures.get("feed_etag"):
            ops.append(
                Op(
                    "feed_304",
                    "iCalendar feed, unchanged (304)",
                    fixtures["feed_path"],
                    "feed",
                    "feed",
                    expect=304,
                    headers={"If-None-Match": fixtures["feed_etag"]},
                )
            )
    if fixtures.get("insights"):
        ops += insights_operations(fixtures)
    return ops


def insights_operations(fixtures: dict) -> list[Op]:
    """Issue 20's pages, after the nightly scores and opportunities have been computed."""
    unit = fixtures["insights_unit"]
    page = partial(Op, p95_target=INSIGHTS_P95)
    return [
        page("insights_mine", "Opportunities for me", "/insights/"),
        page("insights_unit", f"Opportunities for a unit ({unit})", f"/insights/unit/{unit}/"),
        page(
            "insights_all", "Opportunities, the Careers Centre's view", "/insights/careers-centre/"
        ),
        page("insights_trends", "Trends: notes by unit, 24 months", "/insights/trends/"),
        page(
            "insights_trends_tag",
            "Trends: notes by tag, 24 months",
            "/insights/trends/?dimension=tag",
        ),
        page(
            "insights_trends_sector",
            "Trends: attendance by sector, 24 months",
            "/insights/trends/?measure=attendance&dimension=sector",
        ),
        page(
            "insights_trends_unit",
            f"Trends: notes by key-account owner, one unit ({unit})",
            f"/insights/trends/?dimension=owner&unit={fixtures['insights_unit_id']}",
        ),
        page("score_sort", "Organisations by engagement score", _search(sort="-engagement_score")),
    ]
