"""Every CSV file the project writes goes through here, so that each opens the same way in a
spreadsheet: UTF-8 with a byte-order mark (without it Excel reads "Zoë" as "ZoÃ«"), no cell
that a spreadsheet would run as a formula, and words a person reads rather than codes.

- Text starting with = + - @, a tab or a carriage return is written with a leading apostrophe,
  which spreadsheets show as plain text ("=HYPERLINK(...)" typed as a family reference or a
  location name would otherwise run on the coordinator's computer).
- Weekdays are written as names ("Tue Thu"), never as Python's 0-6.
- Dates are written as 2026-08-04: every spreadsheet reads it as a date, in every locale, and
  sorts it; "04/08/2026" means April to an American copy of Excel.
- True and False are written "yes" and "no"; nothing (None) is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

ENCODING = "utf-8-sig"  # writes the byte-order mark
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Weekdays:
    """Days of the week (0 = Monday), written as their names."""

    days: tuple[int, ...]


@dataclass(frozen=True)
class CsvFile:
    """A file ready to send or save, and how many rows it holds under its header."""

    data: bytes
    rows: int


Cell = str | int | float | bool | date | Weekdays | None


def cell(value: Cell) -> str | int | float:
    """One value as the spreadsheet will show it."""
    if type(value) is str:  # most cells, first: a holiday's rota is half a million of them
        return f"'{value}" if value.startswith(FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: a bool is an int
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Weekdays):
        return " ".join(WEEKDAY_NAMES[day] for day in sorted(set(value.days)))
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_START) else value
    return value


def text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The CSV as text (lines end in CRLF, as spreadsheets write them); `encode` makes the
    file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()


def encode(csv_text: str) -> bytes:
    """The bytes of the file, with the byte-order mark."""
    return csv_text.encode(ENCODING)


def file(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> CsvFile:
    return CsvFile(data=encode(text(header, rows)), rows=len(rows))
