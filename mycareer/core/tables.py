"""Reading a spreadsheet that people upload (CSV or Excel) into rows of text, safely.

Every import (organisations, people from the student record system) reads its file
here: the kind is checked by content as well as by name, and caps on size are enforced
while reading, so a few bytes that claim a million rows cannot fill memory. Each import
says its own caps (`Limits`) and its columns (`Column`); `map_headings` refuses a file
whose headings it does not know, so that nothing in it is silently left out.
"""

import codecs
import csv
import datetime
import decimal
import io
import re
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

_BLANK_ROW: list[str] = []
# Whole numbers a float holds exactly; a longer one (a 20-digit id) is only near it.
FLOAT_EXACT = 2**53
UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
NOT_UTF8 = "This file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (Comma delimited)”."


class ImportFileError(ValidationError):
    """The file as a whole cannot be read: wrong kind, too big, missing headings."""


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    required: bool
    accepts: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    """How much one import reads: rows of data, bytes, and columns of its layout."""

    max_rows: int
    max_bytes: int
    columns: int
    # An .xlsx is a zip: a few megabytes can unpack to gigabytes, so cap what it may hold.
    max_unpacked_bytes: int = 50 * 1024 * 1024
    # What a file may hold, blank rows and columns included: a sheet can claim a million
    # rows and sixteen thousand columns in a few bytes (its "dimension"), and a reader
    # that believed it would fill memory with empty cells. Reading stops past these caps.
    max_columns: int = 40

    @property
    def max_scanned_rows(self) -> int:
        return 2 * self.max_rows

    @property
    def max_cells(self) -> int:
        return self.max_scanned_rows * self.max_columns


def read_upload(upload, limits: Limits) -> bytes:
    """The uploaded file's bytes, refused before reading if it is too big."""
    if upload.size > limits.max_bytes:
        raise ImportFileError(
            f"This file is {upload.size / 1024 / 1024:.1f} MB; "
            f"MyCareer imports files of at most {limits.max_bytes // 1024 // 1024} MB. "
            "Split it into smaller files."
        )
    return upload.read()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        if abs(value) < FLOAT_EXACT:
            return str(int(value))
        # Beyond 2**53 a float is not the whole number that was typed: show the digits
        # the workbook holds (1.234567890123457E+19 as 12345678901234570000), not the
        # binary value's own (12345678901234569216), which appear nowhere.
        return format(decimal.Decimal(repr(value)).to_integral_value(), "f")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _is_workbook(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _read_xlsx(data: bytes, limits: Limits) -> list[list[str]]:
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > limits.max_unpacked_bytes:
            raise ImportFileError("This workbook is too large to import once unpacked.")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(
            "MyCareer could not read this workbook: it may be damaged."
        ) from error
    try:
        if not workbook.worksheets:
            raise ImportFileError("This workbook has no sheets.")
        sheet = workbook.worksheets[0]
        # Ignore the size the sheet claims: rows are read as stored, one at a time.
        sheet.reset_dimensions()
        return _capped_rows(
            (
                [_cell_text(v).strip() for v in values]
                for values in sheet.iter_rows(values_only=True)
            ),
            limits,
        )
    except ImportFileError:
        raise
    except Exception as error:
        raise ImportFileError(
            "MyCareer could not read this workbook: it may be damaged."
        ) from error
    finally:
        workbook.close()


def _read_csv(data: bytes, limits: Limits) -> list[list[str]]:
    if data.startswith(UTF16_MARKS):
        # Excel's "Unicode Text" and some exports: text, but not in UTF-8 (their NUL
        # bytes made it look like a binary file).
        raise ImportFileError(NOT_UTF8)
    if b"\x00" in data:
        raise ImportFileError("This file is not a CSV file: it holds binary data.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(NOT_UTF8) from error
    # Headings never contain a comma or a semicolon, so the first line tells which one
    # separates the columns (Excel in many European locales writes semicolons).
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    read_to = 0  # the last line of the last row read whole

    def rows():
        nonlocal read_to
        for values in reader:
            read_to = reader.line_num
            yield [v.strip() for v in values]

    try:
        table = _capped_rows(rows(), limits)
    except csv.Error as error:
        if str(error).startswith("field larger than field limit"):
            # Python's own words named a limit, not the cause: most often a quote mark
            # opened and never closed, which runs the rest of the file into one cell.
            raise ImportFileError(
                f"The row starting on line {read_to + 1} of this CSV file has a cell of more "
                f'than {csv.field_size_limit():,} characters. Often a quote mark (") in it '
                "is never closed, so the rest of the file reads as one cell: check that "
                "line in a text editor."
            ) from error
        raise ImportFileError(
            f"MyCareer could not read row {reader.line_num} of this CSV file ({error})."
        ) from error
    if '"' in text and (opened := _quote_never_closed(text, delimiter)):
        raise ImportFileError(
            f'The row starting on line {opened} of this CSV file has a quote mark (") '
            "that is never closed, so every line after it was read into one of its cells. "
            "Check that line in a text editor: close the quote, or remove it."
        )
    return table


def _quote_never_closed(text: str, delimiter: str) -> int:
    """The line on which a row starts whose quoted cell runs to the end of the file; 0 if
    none does. Read leniently, such a file loses no error: the rows after the quote
    silently become part of one cell (a description, say), and the check page shows
    one organisation fewer."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    started = 1
    while True:
        try:
            next(reader)
        except StopIteration:
            return 0
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                return started
            # Another irregularity the lenient reading accepts ('"Best" employer'):
            # the strict reader goes on from the next line.
        started = reader.line_num + 1


def _capped_rows(rows, limits: Limits) -> list[list[str]]:
    """The rows of a table, refusing it as soon as it goes past the caps on size."""
    table: list[list[str]] = []
    non_blank = 0
    cells = 0
    for number, row in enumerate(rows, start=1):
        if number > limits.max_scanned_rows:
            raise ImportFileError(
                f"This file has more than {limits.max_scanned_rows:,} rows, blank ones "
                f"included; MyCareer imports at most {limits.max_rows:,} rows. Delete the "
                "empty rows below your data, or split the file."
            )
        if len(row) > limits.max_columns:
            if any(row[limits.max_columns :]):
                raise ImportFileError(
                    f"Row {number} has values beyond column {limits.max_columns}; MyCareer's "
                    f"import has {limits.columns} columns. Delete the extra columns and "
                    "upload it again."
                )
            row = row[: limits.max_columns]
        cells += len(row)
        if cells > limits.max_cells:
            raise ImportFileError(
                f"This file holds more than {limits.max_cells:,} cells; split it into "
                "smaller files."
            )
        if any(row):
            non_blank += 1
            table.append(row)
        else:
            table.append(_BLANK_ROW)
        # Stop early: a table over the limit is refused whatever else it holds.
        if non_blank > limits.max_rows + 1:
            break
    return table


def read_table(*, data: bytes, filename: str, limits: Limits) -> list[list[str]]:
    """The file's rows as text, checked by content as well as by name."""
    if len(data) > limits.max_bytes:
        raise ImportFileError(
            f"MyCareer imports files of at most {limits.max_bytes // 1024 // 1024} MB. "
            "Split it into smaller files."
        )
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "xlsx":
        if not _is_workbook(data):
            raise ImportFileError("This file is named .xlsx but is not an Excel workbook.")
        rows = _read_xlsx(data, limits)
    elif extension == "csv":
        if data.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                "This file is named .csv but is a compressed file (perhaps an Excel "
                "workbook): save it as CSV, or upload the workbook as .xlsx."
            )
        rows = _read_csv(data, limits)
    elif extension in {"xls", "xlsm", "ods", "numbers"}:
        raise ImportFileError(
            f"MyCareer cannot read .{extension} files: save it as an Excel workbook (.xlsx) "
            "or as CSV UTF-8."
        )
    else:
        raise ImportFileError("Upload a CSV file (.csv) or an Excel workbook (.xlsx).")
    # Trailing blank rows are common in spreadsheets and mean nothing.
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ImportFileError("This file is empty.")
    if sum(1 for row in rows[1:] if any(row)) > limits.max_rows:
        raise ImportFileError(
            f"This file has more than {limits.max_rows:,} rows; split it into files of at "
            f"most {limits.max_rows:,} rows."
        )
    return rows


def heading_key(text: str) -> str:
    """A heading as compared: capitals, underscores, dashes and notes in brackets ignored."""
    text = text.lower().replace("_", " ").replace("-", " ").replace("organization", "organisation")
    text = re.sub(r"\(.*?\)|[?:*]", " ", text)
    return " ".join(text.split())


def map_headings(
    headings: list[str], columns: list[Column], *, required: dict[str, str]
) -> dict[str, int]:
    """Which column holds what; unknown or repeated headings refuse the whole file.

    `required` maps each column that must be there to the sentence said when it is not.
    """
    known = {
        heading_key(name): column.key
        for column in columns
        for name in (column.heading, column.key, *column.aliases)
    }
    found: dict[str, int] = {}
    unknown = []
    repeated = []
    for index, heading in enumerate(headings):
        if not heading:
            continue
        key = known.get(heading_key(heading))
        if key is None:
            unknown.append(heading)
        elif key in found:
            repeated.append(heading)
        else:
            found[key] = index
    problems = [message for key, message in required.items() if key not in found]
    if unknown:
        names = ", ".join(f"“{h}”" for h in unknown)
        problems.append(
            ngettext(
                "MyCareer does not know the column %(names)s: rename or remove it, so that "
                "nothing in the file is silently left out.",
                "MyCareer does not know the columns %(names)s: rename or remove them, so that "
                "nothing in the file is silently left out.",
                len(unknown),
            )
            % {"names": names}
        )
    if repeated:
        problems.append(f"These columns appear twice: {', '.join(repeated)}.")
    if problems:
        raise ImportFileError(problems)
    return found
