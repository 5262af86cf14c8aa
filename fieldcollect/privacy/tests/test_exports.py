"""export_table: contract-restricted columns, watermark, fingerprint, record + audit; leak tracing."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.models import Role
from fieldcollect.privacy import fingerprint as fpr
from fieldcollect.privacy.exports import export_table, export_table_result
from fieldcollect.privacy.leak import trace
from fieldcollect.privacy.models import ExportRecord
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db

COLUMNS = ["case_id", "customer_name", "mobile", "id_number", "address", "city", "status", "overdue_fen", "opened_on"]


def _rows(n: int = 40) -> list[list[object]]:
    return [[1000 + i, f"客户{i}", f"1380000{i:04d}", f"31010119900101{i:04d}", f"世纪大道{i}号", "上海",
             "placed" if i % 2 else "in_progress", Decimal(120000 + i), date(2026, 5, 1)] for i in range(n)]


@pytest.fixture
def agency_manager(fc_home):
    agency = f.make_agency(name="甲催收公司")
    f.make_contract(agency=agency, permitted_fields=["name", "city", "overdue"])
    return f.make_user(role=Role.AGENCY_MANAGER, agency=agency, username="mgr_jia")


@pytest.fixture
def bank_user(fc_home):
    return f.make_user(role=Role.COLLECTIONS_MANAGER, username="bank_cm")


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_agency_recipient_gets_only_permitted_columns_with_watermark_and_record(agency_manager):
    data = export_table(user=agency_manager, purpose="monthly reconciliation", name="cases", columns=COLUMNS,
                        rows=_rows(5), fmt="csv")
    rows = _csv_rows(data)
    assert rows[0][0].startswith("# CONFIDENTIAL") and "mgr_jia" in rows[0][0] and "甲催收公司" in rows[0][0]
    assert rows[1] == ["case_id", "customer_name", "city", "status", "overdue_fen", "opened_on"]
    text = data.decode("utf-8-sig")
    assert "13800000001" not in text and "310101199001010001" not in text and "世纪大道" not in text
    # visible values unchanged once the invisible marks are removed
    assert [fpr.strip(v).rstrip(" ") for v in rows[2]] == ["1000", "客户0", "上海", "in_progress", "120000",
                                                            "2026-05-01"]
    record = ExportRecord.objects.get()
    assert record.recipient == agency_manager and record.agency_id == agency_manager.agency_id
    assert record.rows == 5 and record.dropped_columns == ["mobile", "id_number", "address"]
    assert record.purpose == "monthly reconciliation" and len(record.sha256) == 64
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == agency_manager and entry.new["fingerprint"] == record.fingerprint


def test_bank_user_gets_every_column(bank_user):
    data = export_table(user=bank_user, purpose="audit sample", name="cases", columns=COLUMNS, rows=_rows(3),
                        fmt="csv")
    assert _csv_rows(data)[1] == COLUMNS
    assert ExportRecord.objects.get().agency is None


def test_agency_without_contract_in_force_gets_no_customer_columns(fc_home):
    agency = f.make_agency()
    f.make_contract(agency=agency, ends_on=date(2020, 1, 1), starts_on=date(2019, 1, 1))
    user = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    data = export_table(user=user, purpose="p", name="cases", columns=COLUMNS, rows=_rows(2), fmt="csv")
    assert _csv_rows(data)[1] == ["case_id", "status", "opened_on"]


def _run_trace(path):
    from fieldcollect.cli import app

    return CliRunner().invoke(app, ["leak", "trace", str(path)])


def test_trace_whole_csv_names_recipient_and_export(agency_manager, tmp_path):
    result = export_table_result(user=agency_manager, purpose="field work", name="cases", columns=COLUMNS,
                                 rows=_rows(10), fmt="csv")
    path = tmp_path / "leak.csv"
    path.write_bytes(result.data)
    out = _run_trace(path)
    assert out.exit_code == 0, out.output
    assert "mgr_jia" in out.output and result.record.fingerprint in out.output and "甲催收公司" in out.output


def test_partial_leak_pasted_into_a_new_csv_without_watermark_is_traced(agency_manager, bank_user, tmp_path):
    """Three rows copied out of the middle into a new file (new header, no watermark) still name the export
    among several exports of the same rows to other recipients."""
    other = export_table_result(user=bank_user, purpose="p", name="cases", columns=COLUMNS, rows=_rows(), fmt="csv")
    mine = export_table_result(user=agency_manager, purpose="p", name="cases", columns=COLUMNS, rows=_rows(),
                               fmt="csv")
    rows = _csv_rows(mine.data)[2:]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "who", "where"])
    for row in rows[17:20]:
        w.writerow([row[0], row[1], row[2]])  # a subset of rows and columns
    path = tmp_path / "pasted.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    found = trace(path)
    assert [r.fingerprint for r in found.records] == [mine.record.fingerprint]
    assert found.codes[mine.record.fingerprint] == 3 and other.record.fingerprint not in found.codes
    out = _run_trace(path)
    assert out.exit_code == 0 and "mgr_jia" in out.output


def test_xlsx_export_has_watermark_row_header_footer_and_traces_after_resave(agency_manager, tmp_path):
    result = export_table_result(user=agency_manager, purpose="visits", name="cases", columns=COLUMNS,
                                 rows=_rows(8), fmt="xlsx")
    wb = load_workbook(io.BytesIO(result.data))
    ws = wb.active
    assert "mgr_jia" in ws["A1"].value and "CONFIDENTIAL" in ws["A1"].value
    assert "mgr_jia" in ws.oddHeader.center.text and "mgr_jia" in ws.oddFooter.center.text
    assert [c.value for c in ws[2]] == ["case_id", "customer_name", "city", "status", "overdue_fen", "opened_on"]
    assert ws["A3"].value == 1000 and ws["E3"].value == 120000  # numbers stay numbers
    # the leaker deletes the watermark row, copies four data rows into a new workbook and saves it
    fresh = Workbook()
    sheet = fresh.active
    for row in ws.iter_rows(min_row=5, max_row=8, values_only=True):
        sheet.append(list(row))
    path = tmp_path / "resaved.xlsx"
    fresh.save(path)
    found = trace(path)
    assert [r.fingerprint for r in found.records] == [result.record.fingerprint] and found.channel == "zero-width"


def test_whitespace_channel_names_export_when_zero_width_characters_are_stripped(agency_manager, bank_user,
                                                                                tmp_path):
    export_table(user=bank_user, purpose="p", name="cases", columns=COLUMNS, rows=_rows(60), fmt="csv")
    mine = export_table_result(user=agency_manager, purpose="p", name="cases", columns=COLUMNS, rows=_rows(60),
                               fmt="csv")
    stripped = fpr.strip(mine.data.decode("utf-8-sig")).splitlines()[2:]  # no watermark, no header
    path = tmp_path / "stripped.csv"
    path.write_text("\n".join(stripped[:40]) + "\n", encoding="utf-8")
    found = trace(path)
    assert found.channel == "whitespace"
    assert [r.fingerprint for r in found.records] == [mine.record.fingerprint]


def test_trace_of_a_file_without_fingerprint_exits_non_zero_with_a_message(agency_manager, tmp_path):
    export_table(user=agency_manager, purpose="p", name="cases", columns=COLUMNS, rows=_rows(5), fmt="csv")
    path = tmp_path / "clean.csv"
    path.write_text("case_id,customer_name\n1000,客户0\n1001,客户1\n", encoding="utf-8")
    out = _run_trace(path)
    assert out.exit_code == 1
    assert "no fingerprint found" in out.output


def test_tampered_or_foreign_code_is_not_accepted(agency_manager):
    from fieldcollect.privacy.exports import fingerprint_key

    mine = export_table_result(user=agency_manager, purpose="p", name="cases", columns=COLUMNS, rows=_rows(1),
                               fmt="csv")
    code = fpr.encode(key=fingerprint_key(), export_id=mine.record.fingerprint)
    assert code in mine.data.decode("utf-8-sig")
    assert fpr.find_codes(key=fingerprint_key(), text="x" + code + "y") == {mine.record.fingerprint: 1}
    symbols = list(code)
    symbols[3] = fpr.ALPHABET[(fpr.ALPHABET.index(symbols[3]) + 1) % 4]  # one flipped symbol
    assert not fpr.find_codes(key=fingerprint_key(), text="".join(symbols))
    assert not fpr.find_codes(key=b"another installation", text=code)


def test_xlsx_sheet_title_is_sanitised(bank_user):
    data = export_table(user=bank_user, purpose="p", name="a/b:c[d]*?e-with-a-rather-long-name-here", columns=["x"],
                        rows=[["v"]], fmt="xlsx")
    title = load_workbook(io.BytesIO(data)).active.title
    assert title.startswith("a-b-c-d---e") and len(title) <= 31


def test_case_export_for_an_agency_manager_has_their_cases_only_and_traces(agency_manager, bank_user, tmp_path):
    from fieldcollect.cases import services
    from fieldcollect.ops.exports import export_cases

    mine = f.make_case()
    services.case_place(case=mine, agency=agency_manager.agency, acting_user=bank_user)
    other = f.make_case()
    out = tmp_path / "cases.csv"
    result = export_cases(out=out, user=agency_manager, purpose="field work")
    rows = _csv_rows(out.read_bytes())
    assert result.rows == 1 and "mgr_jia" in rows[0][0]
    assert [int(fpr.strip(r[0])) for r in rows[2:]] == [mine.pk] and other.pk != mine.pk
    # the whole export by the operator at the command line, then one row of it pasted elsewhere
    from fieldcollect.cli import app

    full = tmp_path / "all.csv"
    run = CliRunner().invoke(app, ["export-cases", "--out", str(full), "--purpose", "quarterly audit"])
    assert run.exit_code == 0, run.output
    one_row = _csv_rows(full.read_bytes())[3]
    pasted = tmp_path / "pasted.csv"
    pasted.write_text(",".join(one_row) + "\n", encoding="utf-8")
    out = _run_trace(pasted)
    assert out.exit_code == 0 and "system (operations export)" in out.output and "quarterly audit" in out.output


def test_csv_resaved_in_gbk_is_traced_by_the_whitespace_marks(agency_manager, tmp_path):
    """A spreadsheet program saving the CSV in GBK turns the zero-width characters into '?'."""
    mine = export_table_result(user=agency_manager, purpose="p", name="cases", columns=COLUMNS, rows=_rows(40),
                               fmt="csv")
    text = mine.data.decode("utf-8-sig")
    path = tmp_path / "gbk.csv"
    path.write_bytes(text.encode("gbk", errors="replace"))
    assert "客户1".encode("gbk") in path.read_bytes()
    found = trace(path)
    assert found.channel == "whitespace" and [r.fingerprint for r in found.records] == [mine.record.fingerprint]


def test_streamed_csv_is_the_same_export_and_traces(agency_manager, tmp_path):
    """export_csv_to writes row by row (here across many blocks) into an open file: the same columns,
    watermark and fingerprint as the in-memory export, the record's row count and SHA-256 are the
    file's, and a leak traces back to it (both channels)."""
    from fieldcollect.privacy.exports import export_csv_to

    rows = _rows(3000)
    path = tmp_path / "streamed.csv"
    with path.open("wb") as fh:
        record = export_csv_to(fh, user=agency_manager, purpose="field work", name="cases", columns=COLUMNS,
                               rows=iter(rows))
    data = path.read_bytes()
    assert data.startswith("\ufeff# CONFIDENTIAL".encode()) and data.count("\ufeff".encode()) == 1
    assert (record.rows, record.sha256) == (3000, __import__("hashlib").sha256(data).hexdigest())
    lines = _csv_rows(data)
    assert lines[1] == ["case_id", "customer_name", "city", "status", "overdue_fen", "opened_on"]
    assert len(lines) == 3002 and fpr.strip(lines[-1][1]).strip() == "客户2999"
    memory = export_table_result(user=agency_manager, purpose="field work", name="cases", columns=COLUMNS,
                                 rows=rows, fmt="csv")
    def plain(raw: bytes) -> list[list[str]]:  # without the watermark line and the per-export marks
        return [[fpr.strip(c).rstrip() for c in r] for r in _csv_rows(raw)[1:]]

    assert plain(memory.data) == plain(data)
    assert AuditEntry.objects.filter(action="export", object_id=str(record.pk)).exists()
    pasted = tmp_path / "pasted.csv"
    pasted.write_text("\n".join(data.decode("utf-8-sig").splitlines()[1500:1510]) + "\n", encoding="utf-8")
    assert [r.fingerprint for r in trace(pasted).records] == [record.fingerprint]
    stripped = tmp_path / "stripped.csv"
    stripped.write_text("\n".join(fpr.strip(data.decode("utf-8-sig")).splitlines()[2:60]) + "\n", encoding="utf-8")
    found = trace(stripped)
    assert found.channel == "whitespace" and [r.fingerprint for r in found.records] == [record.fingerprint]
