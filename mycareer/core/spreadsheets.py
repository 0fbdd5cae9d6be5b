"""Every CSV file MyCareer writes goes through here, so no cell runs as a formula.

Names, titles and notes come from employers and students. A spreadsheet program that
opens a CSV runs a cell beginning with =, +, -, @ (or a tab or carriage return before
one) as a formula, which can read other cells or start programs ("CSV injection"). Such
text cells get a leading apostrophe, which spreadsheets show as plain text. Numbers
stay numbers.
"""

import csv
import decimal
import io
import itertools
from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A byte order mark makes spreadsheets read the file as UTF-8 (names with accents, £).
BOM = "\ufeff"


def safe_cell(value):
    """A value a spreadsheet shows as written: formula-like text gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """csv.writer's writerow/writerows, with every cell made safe first."""

    def __init__(self, file, **kwargs):
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file-like object that hands back what the writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_text(rows: Iterable[Iterable]) -> str:
    """The rows as CSV text (for an email attachment)."""
    buffer = io.StringIO()
    SafeWriter(buffer).writerows(rows)
    return buffer.getvalue()


def csv_download(rows: Iterable[Iterable], *, filename: str, stream: bool = False):
    """A CSV file to download, made safe, with a byte order mark for spreadsheets.

    `stream=True` writes rows as they come (exports of many thousand rows).
    """
    response: HttpResponseBase
    if stream:
        writer = SafeWriter(_Echo())
        lines = itertools.chain([BOM], (writer.writerow(row) for row in rows))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write(BOM)
        SafeWriter(response).writerows(rows)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
