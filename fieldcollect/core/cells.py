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
other text: a writer that means a number passes a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet cell that cannot be a formula (text prefixed with ``'`` when needed)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return QUOTE + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` applied to each cell of a row."""
    return [safe_cell(v) for v in values]
