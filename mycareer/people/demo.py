"""The demo's student record feed: last night's file, imported through the real service.

It links the demo students to the student record system (their stable ids, expected
graduation dates) and has one row for a programme MyCareer does not know yet, so the
administrators' page shows an import with something to act on.
"""

import csv
import datetime
import io

from mycareer.accounts import demo
from mycareer.people.feed import COLUMNS
from mycareer.people.models import FeedImport
from mycareer.people.services import feed_import

DEMO_FILE = "sis-export-demo.csv"


def demo_feed_rows() -> list[dict]:
    rows = []
    for email, name, programme, year, number in demo.STUDENTS:
        given, family = name.split(" ", 1)
        rows.append(
            {
                "Kind": "student",
                "Stable id": f"{number}@demo.ac.uk",
                "Email": email,
                "Given name": given,
                "Family name": family,
                "Student number": number,
                "Programme code": programme,
                "Year of study": str(year),
                "Expected graduation": datetime.date(2027 + max(0, 3 - year), 6, 30).isoformat(),
                "Status": "enrolled",
            }
        )
    rows.append(
        {
            "Kind": "student",
            "Stable id": "202412001@demo.ac.uk",
            "Email": "student7@demo.ac.uk",
            "Given name": "Tom",
            "Family name": "Reid",
            "Student number": "202412001",
            "Programme code": "bsc-astro",
            "Year of study": "1",
            "Status": "enrolled",
        }
    )
    return rows


def seed_feed(story: dict) -> None:
    if FeedImport.objects.exists():
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[c.heading for c in COLUMNS], restval="")
    writer.writeheader()
    writer.writerows(demo_feed_rows())
    feed_import(
        data=buffer.getvalue().encode(),
        filename=DEMO_FILE,
        by=None,
        source=FeedImport.Source.COMMAND,
    )
