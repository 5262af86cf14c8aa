from __future__ import annotations

import pytest
from django.db import IntegrityError

from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.settlement import services
from fieldcollect.settlement.models import Statement, StatementLine
from fieldcollect.settlement.selectors import reconcile
from fieldcollect.settlement.tests.conftest import MARCH
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


def _lines(st: Statement) -> dict[int, StatementLine]:
    return {line.payment_id: line for line in st.lines.all()}


def test_attribution_and_commission_by_bucket_tier(settled):
    s = settled
    st_a = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    st_b = services.statement_generate(agency=s.b, month=MARCH, acting_user=s.manager)
    la, lb = _lines(st_a), _lines(st_b)
    p = s.pays
    # before placement: nobody's; recall day: A (outgoing); next day: B; April: not in March
    assert set(la) == {p["a1"].pk, p["odd"].pk, p["recall_day"].pk}
    assert set(lb) == {p["b1"].pk}
    assert la[p["a1"].pk].commission_fen == 12_000  # 100,000 × 12 %
    assert la[p["odd"].pk].commission_fen == 6_000  # 33,333 × 18 % = 5,999.94 → 6,000 (half up)
    assert la[p["recall_day"].pk].commission_fen == 2_400
    assert lb[p["b1"].pk].commission_fen == 4_500  # 30,001 × 15 % = 4,500.15 → 4,500
    assert st_a.payments_fen == 153_333 and st_a.commission_fen == 20_400
    assert st_b.payments_fen == 30_001 and st_b.commission_fen == 4_500
    # the case record's tie-break (newest placement) differs on the recall day: reported, not hidden
    assert reconcile(statement=st_a).differs_from_case_record == 1
    assert AuditEntry.objects.filter(action="settlement.generate", object_id=str(st_a.pk)).exists()


def test_statements_balance_to_the_fen_and_each_payment_once(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    rec = reconcile(statement=st)
    assert rec.ok and rec.lines_commission_fen == st.commission_fen and rec.lines_payments_fen == st.payments_fen
    # rebuilding a draft gives the same lines, not duplicates
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    assert st.line_count == 3 and StatementLine.objects.count() == 3
    # a payment cannot sit on two lines
    line = st.lines.first()
    other = services.statement_generate(agency=s.b, month=MARCH, acting_user=s.manager)
    with pytest.raises(IntegrityError):
        StatementLine.objects.create(statement=other, payment_id=line.payment_id, placement_id=line.placement_id,
                                     case_id=line.case_id, paid_on=line.paid_on, amount_fen=1, bucket="M2",
                                     rate=0, commission_fen=0)


def test_dispute_issue_and_permissions(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    line = st.lines.get(payment=s.pays["a1"])
    with pytest.raises(ApplicationError):
        services.line_dispute(line=line, reason="  ", acting_user=s.mgr_a)
    with pytest.raises(PermissionDeniedError):
        services.line_dispute(line=line, reason="not ours", acting_user=s.mgr_b)
    services.line_dispute(line=line, reason="paid before our visit", acting_user=s.mgr_a)
    st.refresh_from_db()
    assert st.disputed_commission_fen == 12_000 and st.payable_fen == 8_400
    assert reconcile(statement=st).ok
    with pytest.raises(PermissionDeniedError):
        services.statement_issue(statement=st, acting_user=s.auditor)
    services.statement_issue(statement=st, acting_user=s.manager)
    with pytest.raises(ApplicationError):
        services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    services.line_resolve(line=line, acting_user=s.manager)
    st.refresh_from_db()
    assert st.disputed_commission_fen == 0


def test_pages_and_access(settled):
    s = settled
    st_a = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    st_b = services.statement_generate(agency=s.b, month=MARCH, acting_user=s.manager)
    mgr = logged_in(s.manager)
    body = mgr.get("/settlement/").content.decode()
    assert f"/settlement/{st_a.pk}/" in body and f"/settlement/{st_b.pk}/" in body
    page = mgr.get(f"/settlement/{st_a.pk}/")
    assert page.status_code == 200 and "204.00" in page.content.decode()  # commission 20,400 fen
    # agency A's manager: own statement only
    a = logged_in(s.mgr_a)
    listing = a.get("/settlement/").content.decode()
    assert f"/settlement/{st_a.pk}/" in listing and f"/settlement/{st_b.pk}/" not in listing
    assert a.get(f"/settlement/{st_a.pk}/").status_code == 200
    assert a.get(f"/settlement/{st_b.pk}/").status_code == 404
    assert a.get(f"/settlement/{st_b.pk}/csv").status_code == 404
    line = st_a.lines.first()
    resp = a.post(f"/settlement/{st_a.pk}/lines/{line.pk}", {"action": "dispute", "reason": "duplicate"})
    assert resp.status_code == 302
    line.refresh_from_db()
    assert line.disputed and line.dispute_reason == "duplicate"
    # auditor: read-only
    aud = logged_in(s.auditor)
    assert aud.get(f"/settlement/{st_a.pk}/").status_code == 200
    assert aud.post("/settlement/generate", {"month": "2025-03"}).status_code == 403
    assert aud.post(f"/settlement/{st_a.pk}/issue").status_code == 403


def test_csv_in_both_languages(settled):
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    c = logged_in(s.manager)
    en = c.get(f"/settlement/{st.pk}/csv?lang=en").content.decode("utf-8-sig")
    zh = c.get(f"/settlement/{st.pk}/csv?lang=zh-hans").content.decode("utf-8-sig")
    assert "Commission (CNY)" in en and "1533.33" in en and "204.00" in en
    assert "佣金" in zh and "1533.33" in zh


def test_pdf(settled):
    from fieldcollect.core.pdf import FontNotFound, find_cjk_font

    try:
        find_cjk_font()
    except FontNotFound:
        pytest.skip("no CJK font installed")
    s = settled
    st = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    resp = logged_in(s.mgr_a).get(f"/settlement/{st.pk}/pdf?lang=zh-hans")
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
