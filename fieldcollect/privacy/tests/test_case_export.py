"""The case export of the export register follows the pages' masking rule (``customer_view``).

Agency users get masked name, mobile and address, except a collector inside the window of a confirmed
appointment to that customer (that case only, audited ``pii.unmask``, channel "export"); bank staff
get clear values only for the fields they ask for, with a stated purpose (one ``pii.unmask`` entry
naming the export). The purpose is required, never defaulted. The file is streamed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils.translation import gettext, override
from openpyxl import load_workbook
from typer.testing import CliRunner

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as case_services
from fieldcollect.cases.tests import conftest as cases_conftest
from fieldcollect.core.models import Role
from fieldcollect.privacy import fingerprint as fpr
from fieldcollect.privacy.masking import mask_address, mask_mobile, mask_name
from fieldcollect.privacy.models import ExportRecord
from fieldcollect.privacy.tests.test_pii_access import appointment
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
world = cases_conftest.world
PURPOSE = "Complaint 2026-113: check the numbers we hold"


@pytest.fixture(autouse=True)
def _home(fc_home):
    """A data home of the test's own (keys, fingerprint key), set before the world's data is written."""
    return fc_home


@pytest.fixture
def more(world):
    """Two more cases for collector a1 (three in all), so that a collector's file has several rows."""
    cases = []
    for _ in range(2):
        case = f.make_case()
        case_services.case_place(case=case, agency=world.agency_a, acting_user=world.bank[Role.COLLECTIONS_MANAGER])
        case_services.case_assign(case=case, collector=world.collector_a1, acting_user=world.manager_a)
        case.refresh_from_db()
        cases.append(case)
    return [world.case_a1, *cases]


def _body(resp) -> bytes:
    assert resp.status_code == 200, resp.content
    assert resp.streaming  # a StreamingHttpResponse: no whole file in memory
    return b"".join(resp.streaming_content)


def _chunks(resp):
    return iter(resp.streaming_content)


def _rows(data: bytes) -> dict[int, dict[str, str]]:
    """The data rows of a CSV export by case id, values without the invisible marks."""
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = lines[1]
    out = {}
    for line in lines[2:]:
        values = dict(zip(header, (fpr.strip(v).rstrip(" ") for v in line), strict=True))
        out[int(values["case_id"])] = values
    return out


def _xlsx_rows(data: bytes) -> dict[int, dict[str, str]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    lines = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    header = lines[1]
    return {int(fpr.strip(r[0])): dict(zip(header, (fpr.strip(v).rstrip(" ") for v in r), strict=True))
            for r in lines[2:]}


def _clear(case) -> dict[str, str]:
    c = case.customer
    return {"customer_name": c.name, "mobile": c.mobile, "address": c.address}


def _masked(case) -> dict[str, str]:
    c = case.customer
    return {"customer_name": mask_name(c.name), "mobile": mask_mobile(c.mobile),
            "address": mask_address(c.address, province=c.province, city=c.city, district=c.district)}


def _shown(row: dict[str, str]) -> dict[str, str]:
    return {k: row[k] for k in ("customer_name", "mobile", "address")}


def test_collector_export_is_masked_like_the_pages(world, more) -> None:
    c = logged_in(world.collector_user_a1)
    for fmt, read in (("csv", _rows), ("xlsx", _xlsx_rows)):
        rows = read(_body(c.get(f"/privacy/exports/cases.{fmt}", {"purpose": "today's round"})))
        assert sorted(rows) == sorted(case.pk for case in more)
        for case in more:
            assert _shown(rows[case.pk]) == _masked(case), fmt
    text = fpr.strip(_body(c.get("/privacy/exports/cases.csv", {"purpose": "today's round"})).decode("utf-8-sig"))
    for case in more:  # nothing clear anywhere in the file
        assert case.customer.mobile not in text and case.customer.address not in text
    manager = _rows(_body(logged_in(world.manager_a).post("/privacy/exports/cases.csv", {"purpose": "weekly review"})))
    assert world.case_a_unassigned.pk in manager
    for case in (*more, world.case_a2, world.case_a_unassigned):
        assert _shown(manager[case.pk]) == _masked(case)
    assert not AuditEntry.objects.filter(action="pii.unmask").exists()
    assert ExportRecord.objects.filter(purpose="today's round").count() == 3


def test_collector_inside_a_confirmed_visit_window_gets_that_case_in_clear(world, more) -> None:
    appointment(world.case_a1, world.collector_a1, starts_in=timedelta(hours=20))
    appointment(more[1], world.collector_a1, starts_in=timedelta(days=3))  # too far ahead: masked
    rows = _rows(_body(logged_in(world.collector_user_a1).get("/privacy/exports/cases.csv", {"purpose": "visit"})))
    assert _shown(rows[world.case_a1.pk]) == _clear(world.case_a1)
    assert _shown(rows[more[1].pk]) == _masked(more[1]) and _shown(rows[more[2].pk]) == _masked(more[2])
    entry = AuditEntry.objects.get(action="pii.unmask")
    assert entry.new is not None
    assert entry.actor == world.collector_user_a1 and entry.object_id == str(world.case_a1.customer_id)
    assert entry.new["purpose"] == "visit" and entry.new["channel"] == "export"
    assert entry.new["fields"] == ["address", "mobile", "name"]
    # the agency manager of the same agency still gets it masked
    manager = _rows(_body(logged_in(world.manager_a).get("/privacy/exports/cases.csv", {"purpose": "weekly"})))
    assert _shown(manager[world.case_a1.pk]) == _masked(world.case_a1)


def test_bank_export_is_masked_unless_fields_are_asked_for_with_a_purpose(world, more) -> None:
    user = world.bank[Role.COMPLIANCE_OFFICER]
    c = logged_in(user)
    rows = _rows(_body(c.post("/privacy/exports/cases.csv", {"purpose": "portfolio review"})))
    assert _shown(rows[world.case_b.pk]) == _masked(world.case_b)
    assert not AuditEntry.objects.filter(action="pii.unmask").exists()

    resp = c.post("/privacy/exports/cases.csv", {"purpose": PURPOSE, "show": ["mobile", "name"]})
    record = ExportRecord.objects.latest("pk")
    entry = AuditEntry.objects.get(action="pii.unmask")  # written before the first byte is sent
    assert entry.new is not None
    assert entry.actor == user and entry.object_type == "ExportRecord" and entry.object_id == str(record.pk)
    assert entry.new["purpose"] == PURPOSE and entry.new["fields"] == ["mobile", "name"]
    assert entry.new["channel"] == "export" and entry.new["fingerprint"] == record.fingerprint
    rows = _rows(_body(resp))
    assert resp["Cache-Control"] == "no-store"
    for case in (*more, world.case_b, world.case_a2):
        shown = _shown(rows[case.pk])
        assert shown["customer_name"] == case.customer.name and shown["mobile"] == case.customer.mobile
        assert shown["address"] == _masked(case)["address"]  # not asked for
    record.refresh_from_db()  # closed when the stream ended
    assert record.purpose == PURPOSE and record.rows == len(rows) and len(record.sha256) == 64
    xlsx = _xlsx_rows(_body(c.post("/privacy/exports/cases.xlsx", {"purpose": PURPOSE, "show": ["address"]})))
    assert _shown(xlsx[world.case_b.pk])["address"] == world.case_b.customer.address
    assert AuditEntry.objects.filter(action="pii.unmask").count() == 2


def test_the_purpose_is_required_never_defaulted(world, more) -> None:
    bank = logged_in(world.bank[Role.COLLECTIONS_MANAGER])
    collector = logged_in(world.collector_user_a1)
    for client, data in ((collector, {}), (collector, {"purpose": "   "}), (bank, {"purpose": ""}),
                         (bank, {"show": ["mobile"]}), (bank, {"show": ["mobile"], "purpose": "look"})):
        for method in ("get", "post"):
            resp = getattr(client, method)("/privacy/exports/cases.csv", data)
            assert resp.status_code == 400, (data, method)
            text = resp.content.decode()
            assert "purpose" in text.lower() or "form" in text.lower()
    with override("zh-hans"):  # the pages' language
        required = gettext("State the purpose of the export.")
        plain = gettext("The purpose must be plain text, without control characters.")
    assert required in collector.get("/privacy/exports/cases.csv").content.decode()
    for hostile in ("line\x1b[2J", "tab\there"):  # nothing that breaks the XLSX
        resp = collector.post("/privacy/exports/cases.xlsx", {"purpose": hostile})
        assert resp.status_code == 400 and plain in resp.content.decode()
    assert collector.post("/privacy/exports/cases.xlsx", {"purpose": "a\x00b"}).status_code == 400  # no NUL
    # clear values only from the form (POST), and never for agency users
    resp = bank.get("/privacy/exports/cases.csv", {"purpose": PURPOSE, "show": ["mobile"]})
    assert resp.status_code == 400
    resp = logged_in(world.manager_a).post("/privacy/exports/cases.csv", {"purpose": PURPOSE, "show": ["mobile"]})
    assert resp.status_code == 403
    assert not ExportRecord.objects.exists() and not AuditEntry.objects.filter(action="pii.unmask").exists()


def test_export_register_offers_the_form(world) -> None:
    html = logged_in(world.bank[Role.COLLECTIONS_MANAGER]).get("/privacy/exports/").content.decode()
    assert 'id="export-form"' in html and 'name="purpose"' in html and 'name="show"' in html
    html = logged_in(world.collector_user_a1).get("/privacy/exports/").content.decode()
    assert 'name="purpose"' in html and 'name="show"' not in html


def test_cli_and_job_exports_carry_no_customer_data(world, more, tmp_path) -> None:
    """``fieldcollect export-cases`` (operator or a recipient) writes no name, mobile or address at all."""
    from fieldcollect.cli import app

    refused = CliRunner().invoke(app, ["export-cases", "--out", str(tmp_path / "x.csv")])
    assert refused.exit_code == 2 and "purpose" in refused.output and not (tmp_path / "x.csv").exists()
    for args in ([], ["--recipient", world.collector_user_a1.username]):
        out = tmp_path / f"cases{len(args)}.csv"
        run = CliRunner().invoke(app, ["export-cases", "--out", str(out), "--purpose", "quarterly audit", *args])
        assert run.exit_code == 0, run.output
        text = fpr.strip(out.read_text(encoding="utf-8-sig"))
        header = list(csv.reader(io.StringIO(text)))[1]
        assert not {"customer_name", "mobile", "address", "name", "id_number"} & set(header)
        for case in more:
            c = case.customer
            assert c.mobile not in text and c.address not in text and mask_mobile(c.mobile) not in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_streamed_exports_keep_memory_flat(world, fmt) -> None:
    """12,000 rows streamed in CSV or XLSX (write-only workbook): the peak of Python memory stays far below
    the file's size, and the record is closed with the rows and SHA-256 of what was sent."""
    import hashlib
    import tracemalloc
    from datetime import date
    from decimal import Decimal

    from fieldcollect.privacy.exports import export_stream

    def rows():
        for i in range(12_000):
            yield [i, f"客户{i}", f"1380000{i:05d}", "上海", "placed", Decimal(120_000 + i), date(2026, 5, 1)]

    user = world.bank[Role.COLLECTIONS_MANAGER]
    tracemalloc.start()
    try:
        record, chunks = export_stream(user=user, purpose="memory check", name="cases",
                                       columns=["case_id", "customer_name", "mobile", "city", "status", "overdue_fen",
                                                "opened_on"], rows=rows(), fmt=fmt)
        size, digest = 0, hashlib.sha256()
        for chunk in chunks:
            size += len(chunk)
            digest.update(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    record.refresh_from_db()
    assert record.rows == 12_000 and record.sha256 == digest.hexdigest()
    assert size > 400_000 and peak < 4 * 1024 * 1024, (size, peak)


def test_a_download_cut_off_is_on_the_register(world, more) -> None:
    """The record exists before the first byte; a stream closed early (the response closes it when the
    client goes away) records what was sent."""
    from fieldcollect.privacy.case_export import case_export

    record, chunks = case_export(user=world.bank[Role.AUDITOR], purpose="sample check", fmt="csv")
    assert ExportRecord.objects.get().purpose == "sample check"
    assert not AuditEntry.objects.filter(action="export").exists()
    next(chunks)
    chunks.close()
    entry = AuditEntry.objects.get(action="export")
    assert entry.new is not None and entry.new["complete"] is False and entry.object_id == str(record.pk)
