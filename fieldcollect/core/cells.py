"""Spreadsheet cells that cannot run as formulas (pure: no Django).

Every CSV and XLSX the product writes (exports, dashboard downloads, settlement statements, the
compliance report) passes its cells through :func:`safe_cell`, here and nowhere else. A text cell
that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by spreadsheet
programs as a formula (CSV/formula injection: a customer's or an agency's text such as
``=HYPERLINK(...)`` in a dispute reason would run on the bank's desk). Following OWASP, such text is
prefixed with a single quote, which makes it plain text in every spreadsheet program; what the
person wrote stays readable.

Only text is touched: numbers (``int``, ``float``, ``Decimal``), dates and ``None`` keep their type,
so a negative amount stays a number. A number that arrives as text (``"-5"``) is neutralised like any
other text: a writer that means a number passes a number. A lone character (``"-"`` for "none") holds
no formula and is left as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet cell that cannot be a formula (text prefixed with ``'`` when needed)."""
    if isinstance(value, str) and len(value) > 1 and value.startswith(FORMULA_TRIGGERS):
        return QUOTE + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` applied to each cell of a row."""
    return [safe_cell(v) for v in values]


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


LINE_END = "\r\n"  # CSV's own (RFC 4180): a cell holding a CR or LF is then always quoted


class SafeCsvWriter:
    """``csv.writer`` whose rows go through :func:`safe_row` (the CSV writers of the product use this,
    or :func:`safe_row` on typed values before they are turned into text). Lines end with
    :data:`LINE_END` whatever the caller asks: with ``"\\n"`` alone, Python's ``csv`` leaves a cell's
    carriage return unquoted, and a spreadsheet reading it as a line break would start a new row
    with the rest of the cell, the formula included."""

    def __init__(self, fh: _Writable, **fmtparams: Any) -> None:
        self._writer = csv.writer(fh, **{**fmtparams, "lineterminator": LINE_END})

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_csv_writer(fh: _Writable, **fmtparams: Any) -> SafeCsvWriter:
    """A CSV writer on ``fh`` (``csv.writer`` parameters) that neutralises formula text in every cell."""
    return SafeCsvWriter(fh, **fmtparams)
