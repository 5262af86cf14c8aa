"""Invoices with status (issued, disputed, paid) and the reconciliation of the agency's claim file."""

from __future__ import annotations

import io

import pytest
from django.db import IntegrityError, transaction
from openpyxl import Workbook

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.settlement import services
from fieldcollect.settlement.claims import parse_claim_file
from fieldcollect.settlement.models import ClaimReconciliation, Invoice
from fieldcollect.settlement.tests.conftest import MARCH, d
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


def test_invoice_lifecycle_and_permissions(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    with pytest.raises(ApplicationError):  # a draft statement is not invoiced
        services.invoice_issue(statement=st, acting_user=s.mgr_a)
    services.statement_issue(statement=st, acting_user=s.manager)
    with pytest.raises(PermissionDeniedError):  # another agency's manager
        services.invoice_issue(statement=st, acting_user=s.mgr_b)
    inv = services.invoice_issue(statement=st, acting_user=s.mgr_a)
    assert inv.status == Invoice.Status.ISSUED and inv.amount_fen == 20_400 and inv.number.startswith("INV-")
    with pytest.raises(ConflictError):
        services.invoice_issue(statement=st, acting_user=s.mgr_a)
    with pytest.raises(PermissionDeniedError):  # the agency does not dispute or pay its own invoice
        services.invoice_transition(invoice=inv, action="pay", acting_user=s.mgr_a)
    with pytest.raises(ApplicationError):
        services.invoice_transition(invoice=inv, action="dispute", acting_user=s.manager, reason=" ")
    services.invoice_transition(invoice=inv, action="dispute", acting_user=s.manager, reason="line 3 is ours")
    assert inv.status == Invoice.Status.DISPUTED and inv.dispute_reason == "line 3 is ours"
    with pytest.raises(ConflictError):  # a disputed invoice is not paid
        services.invoice_transition(invoice=inv, action="pay", acting_user=s.manager)
    # the dispute is settled on the statement (a line disputed), the agency re-issues for the new amount
    services.line_dispute(
        line=st.lines.get(payment=s.pays["recall_day"]), reason="bank's own", acting_user=s.manager
    )
    services.invoice_transition(invoice=inv, action="reissue", acting_user=s.mgr_a)
    assert (
        inv.status == Invoice.Status.ISSUED and inv.amount_fen == 20_400 - 2_400 and inv.dispute_reason == ""
    )
    services.invoice_transition(
        invoice=inv, action="pay", acting_user=s.manager, paid_on=d(15, 4), payment_reference="TX-1"
    )
    assert inv.status == Invoice.Status.PAID and inv.paid_on == d(15, 4)
    with pytest.raises(ConflictError):
        services.invoice_transition(invoice=inv, action="dispute", acting_user=s.manager, reason="late")
    actions = list(
        AuditEntry.objects.filter(object_type="invoice", object_id=str(inv.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["invoice.issue", "invoice.dispute", "invoice.reissue", "invoice.pay"]
    # the database refuses a paid invoice without a date and a disputed one without a reason
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=inv.pk).update(paid_on=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=inv.pk).update(status="disputed", dispute_reason="")


def _claim_csv(
    rows: list[list[object]], *, encoding: str = "utf-8", header: list[str] | None = None
) -> bytes:
    head = header or ["payment_id", "case_id", "paid_on", "amount_fen", "commission_fen"]
    lines: list[list[object]] = [list(head), *rows]
    text = "\n".join(",".join(str(c) for c in r) for r in lines) + "\n"
    return text.encode(encoding)


def test_claim_file_reconciliation_line_by_line(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    p = s.pays
    data = _claim_csv(
        [
            [p["a1"].pk, s.case1.pk, "2025-03-05", 100_000, 12_000],  # matches
            [p["odd"].pk, s.case2.pk, "2025-03-06", 33_333, 6_001],  # commission 1 fen more
            [p["b1"].pk, s.case1.pk, "2025-03-11", 30_001, 4_500],  # agency B's payment: not on A's statement
            ["abc", s.case1.pk, "2025-03-05", 1, 1],  # bad id
            [p["before"].pk, s.case1.pk, "2025-02-30", 50_000, 6_000],  # bad date
            [p["a1"].pk, s.case1.pk, "2025-03-05", 100_000, 12_000],  # claimed twice
            [999_999, "", "", -5, 0],  # negative amount
        ],
        header=["还款编号", "案件编号", "还款日期", "金额(分)", "佣金(分)"],
        encoding="gbk",
    )
    rec = services.claim_file_reconcile(
        statement=st, file_name="C:\\claims\\march.csv", data=data, acting_user=s.mgr_a
    )
    assert rec.file_name == "march.csv" and rec.rows == 7 and rec.matched == 1
    diffs = {(x["kind"], x["payment_id"]): x for x in rec.differences}
    assert diffs[("commission", p["odd"].pk)] == {
        "kind": "commission",
        "payment_id": p["odd"].pk,
        "row": 3,
        "claimed": 6_001,
        "statement": 6_000,
    }
    assert diffs[("not_on_statement", p["b1"].pk)]["row"] == 4
    assert diffs[("not_claimed", p["recall_day"].pk)]["statement"] == 2_400  # on the statement, not claimed
    assert len(rec.differences) == 3
    errors = {(e["row"], e["field"]): e for e in rec.errors}
    assert set(errors) == {(5, "payment_id"), (6, "paid_on"), (7, "payment_id"), (8, "amount_fen")}
    assert (
        errors[(5, "payment_id")]["file"] == "march.csv"
        and "whole number" in errors[(5, "payment_id")]["reason"]
    )
    assert "first at row 2" in errors[(7, "payment_id")]["reason"]
    assert "negative" in errors[(8, "amount_fen")]["reason"]
    assert rec.claimed_fen == 12_000 + 6_001 + 4_500 and rec.statement_fen == 20_400
    assert AuditEntry.objects.filter(action="settlement.claim_reconcile", object_id=str(st.pk)).exists()

    # another agency's manager may not reconcile A's statement
    with pytest.raises(PermissionDeniedError):
        services.claim_file_reconcile(statement=st, file_name="x.csv", data=data, acting_user=s.mgr_b)
    # a file that cannot be read at all is refused, naming the file, row and field; nothing is stored
    with pytest.raises(ApplicationError) as err:
        services.claim_file_reconcile(
            statement=st,
            file_name="bad.csv",
            acting_user=s.mgr_a,
            data=_claim_csv([[1, 2]], header=["payment_id", "amount_fen"]),
        )
    assert err.value.extra["errors"][0] == {
        "file": "bad.csv",
        "row": 1,
        "field": "commission_fen",
        "reason": "column missing from the header",
    }
    assert "bad.csv, row 1, commission_fen" in err.value.message
    with pytest.raises(ApplicationError):
        services.claim_file_reconcile(statement=st, file_name="empty.csv", data=b"", acting_user=s.mgr_a)
    with pytest.raises(ApplicationError):
        services.claim_file_reconcile(
            statement=st, file_name="bin.csv", data=b"\xff\xfe\x00\x81\xff", acting_user=s.mgr_a
        )
    assert ClaimReconciliation.objects.count() == 1


def test_claim_file_xlsx_and_disputed_line(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    services.line_dispute(line=st.lines.get(payment=s.pays["odd"]), reason="not ours", acting_user=s.manager)
    wb = Workbook()
    ws = wb.active
    ws.append(["Payment_ID", "Amount_fen", "Commission_fen"])
    for key, amount, commission in (
        ("a1", 100_000, 12_000),
        ("odd", 33_333, 6_000),
        ("recall_day", 20_000, 2_400),
    ):
        ws.append([s.pays[key].pk, amount, commission])
    buf = io.BytesIO()
    wb.save(buf)
    rec = services.claim_file_reconcile(
        statement=st, file_name="march.xlsx", data=buf.getvalue(), acting_user=s.manager
    )
    assert rec.errors == [] and rec.matched == 2
    assert rec.differences == [
        {"kind": "disputed", "payment_id": s.pays["odd"].pk, "row": 3, "claimed": 6_000, "statement": 0}
    ]


def test_parse_claim_file_utf8_bom():
    rows, errors = parse_claim_file(
        "f.csv", "\ufeffpayment_id,amount_fen,commission_fen\n7,100,12\n".encode()
    )
    assert errors == [] and rows[0].payment_id == 7 and rows[0].commission_fen == 12


def test_settlement_pages_show_adjustments_invoice_and_claims(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    services.payment_reverse(
        payment=s.pays["a1"], reversed_on=d(3, 4), reason="returned", acting_user=s.manager
    )
    mgr, a, b = logged_in(s.manager), logged_in(s.mgr_a), logged_in(s.mgr_b)
    assert mgr.post(f"/settlement/{st.pk}/issue").status_code == 302
    assert b.post(f"/settlement/{st.pk}/invoice", {"action": "issue"}).status_code == 404
    assert a.post(f"/settlement/{st.pk}/invoice", {"action": "issue"}).status_code == 302
    inv = Invoice.objects.get(statement=st)
    assert a.post(f"/settlement/{st.pk}/invoice", {"action": "pay"}).status_code == 302  # refused, message
    inv.refresh_from_db()
    assert inv.status == "issued"
    assert (
        mgr.post(f"/settlement/{st.pk}/invoice", {"action": "dispute", "reason": "check"}).status_code == 302
    )
    inv.refresh_from_db()
    assert inv.status == "disputed"
    data = _claim_csv([[s.pays["a1"].pk, s.case1.pk, "2025-03-05", 100_000, 12_001]])
    resp = a.post(f"/settlement/{st.pk}/claims", {"file": io.BytesIO(data)}, format="multipart")
    assert resp.status_code == 302
    rec = ClaimReconciliation.objects.get()
    page = a.get(f"/settlement/{st.pk}/claims/{rec.pk}")
    assert page.status_code == 200 and "12001" in page.content.decode().replace(",", "").replace(".", "")
    assert b.get(f"/settlement/{st.pk}/claims/{rec.pk}").status_code == 404
    april = services.statement_generate(agency=s.a, month=d(1, 4), acting_user=s.manager)
    body = mgr.get(f"/settlement/{april.pk}/").content.decode()
    assert "120.00" in body and 'id="adjustments"' in body  # the clawback of a1's 12,000 fen
    bad = a.post(f"/settlement/{st.pk}/claims", {"file": io.BytesIO(b"")}, format="multipart")
    assert bad.status_code in (302, 400)
