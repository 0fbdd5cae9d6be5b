"""Time the organisation import on a 5,000-row file against a well-filled database.

    .venv/bin/python -m bench.imports [EXISTING_ORGANISATIONS]

Uses a throwaway SQLite database (or DATABASE_URL's server, whose database it fills,
so point it at a scratch one). Prints the time to check the file (what the operator
waits for after uploading), to render the check page, and to write it all.
"""

import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
scratch = tempfile.mkdtemp(prefix="mycareer-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mycareer.settings")
os.environ.setdefault("MYCAREER_VAR_DIR", scratch)
os.environ["MEDIA_ROOT"] = scratch

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    settings.DATABASES["default"]["NAME"] = f"{scratch}/bench.sqlite3"


def main(existing: int) -> None:
    from mycareer.accounts.models import User
    from mycareer.organisations import imports
    from mycareer.organisations.models import Contact, Organisation, Sector

    call_command("migrate", verbosity=0)
    sector, _ = Sector.objects.get_or_create(slug="engineering", defaults={"name": "Engineering"})
    user, _ = User.objects.get_or_create(email="bench@example.ac.uk", defaults={"kind": "staff"})
    if not Organisation.objects.exists():
        orgs = [
            Organisation(
                name=f"Existing Firm {n} Ltd",
                name_key=f"existing firm {n}",
                website=f"https://firm{n}.example.com",
                domain=f"firm{n}.example.com",
            )
            for n in range(existing)
        ]
        Organisation.objects.bulk_create(orgs, batch_size=1000)
        ids = list(Organisation.objects.values_list("pk", flat=True))
        Contact.objects.bulk_create(
            [
                Contact(organisation_id=pk, full_name="Someone", email=f"hr@firm{i}.example.com")
                for i, pk in enumerate(ids)
            ],
            batch_size=1000,
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.heading for c in imports.COLUMNS])
    # 2,500 organisations with two contacts each; a tenth already exist (updates).
    for n in range(2500):
        name = f"Existing Firm {n} Ltd" if n % 10 == 0 else f"New Venture {n} Group"
        for person in range(2):
            writer.writerow(
                [
                    name,
                    f"venture{n}.example.org" if n % 10 else "",
                    "Engineering",
                    "small",
                    "Leeds",
                    "Makes things.",
                    "Placements; Bench",
                    f"Person {n}-{person}",
                    "Manager",
                    f"p{person}@venture{n}.example.org",
                    "0113 496 0000",
                    "no",
                    "yes",
                ]
            )
    data = out.getvalue().encode()
    print(f"file: {len(data) / 1024:.0f} KB, 5,000 rows; existing organisations: {existing}")

    started = time.perf_counter()
    plan = imports.plan_import(data=data, filename="bench.csv")
    checked = time.perf_counter()
    render_to_string(
        "organisations/import_check.html",
        {"plan": plan, "counts": plan.counts, "token": "x", "ticked": set(), "form": None},
    )
    rendered = time.perf_counter()
    print(f"check (read, validate, match): {checked - started:.2f} s; counts {plan.counts}")
    print(f"check page rendered: {rendered - checked:.2f} s")
    if plan.is_valid:
        result = imports.import_apply(plan=plan, by=user)
        written = time.perf_counter()
        print(
            f"write: {written - rendered:.2f} s ({len(result.created)} created, "
            f"{len(result.updated)} updated, {result.contacts_created} contacts)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
