"""Batch actions: select by filter or uploaded list; assign, recall, retain; recall and retention
beyond the contract wait for a second person's approval; everything audited."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import batch
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import BatchAction, Case, Placement
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    a, b = f.make_agency(), f.make_agency()
    f.make_contract(agency=a)  # max_retentions 1, 60 days
    f.make_contract(agency=b)
    cm1, cm2 = f.make_user(role=Role.COLLECTIONS_MANAGER), f.make_user(role=Role.COLLECTIONS_MANAGER)
    today = f.today()
    early = [f.make_case(bucket="M2", dpd=45) for _ in range(3)]
    for c in early:
        cs.case_place(case=c, agency=a, acting_user=cm1, starts_on=today - timedelta(days=5))
    expired = f.make_case(bucket="M3", dpd=70)
    cs.case_place(case=expired, agency=a, acting_user=cm1, starts_on=today - timedelta(days=20), days=10)
    other = f.make_case(bucket="M2", dpd=45)
    cs.case_place(case=other, agency=b, acting_user=cm1, starts_on=today)
    return {
        "a": a,
        "b": b,
        "cm1": cm1,
        "cm2": cm2,
        "early": early,
        "expired": expired,
        "other": other,
        "mgr_a": f.make_user(role=Role.AGENCY_MANAGER, agency=a),
        "mgr_b": f.make_user(role=Role.AGENCY_MANAGER, agency=b),
        "co": f.make_user(role=Role.COMPLIANCE_OFFICER),
        "auditor": f.make_user(role=Role.AUDITOR),
        "col1": f.make_collector(agency=a),
        "col2": f.make_collector(agency=a),
        "col_b": f.make_collector(agency=b),
    }


def _placement(case: Case) -> Placement:
    placement = Placement.objects.filter(case=case).order_by("-id").first()
    assert placement is not None
    return placement


def test_recall_after_the_period_applies_at_once(w):
    made = batch.batch_create(
        kind="recall", case_ids=[w["expired"].pk], acting_user=w["cm1"], reason="period over"
    )
    assert made.state == "done" and not made.needs_approval and made.applied == 1
    assert _placement(w["expired"]).status == "recalled"
    assert AuditEntry.objects.filter(action="case.recall", object_id=str(w["expired"].pk)).exists()


def test_early_recall_needs_a_second_person(w):
    ids = [c.pk for c in w["early"]] + [w["expired"].pk]
    with pytest.raises(ApplicationError):  # a recall needs a reason
        batch.batch_create(kind="recall", case_ids=ids, acting_user=w["cm1"], reason=" ")
    with pytest.raises(PermissionDeniedError):  # an agency manager does not recall
        batch.batch_create(kind="recall", case_ids=ids, acting_user=w["mgr_a"], reason="x")
    made = batch.batch_create(kind="recall", case_ids=ids, acting_user=w["cm1"], reason="complaint spike")
    assert made.state == "pending" and made.needs_approval
    assert made.beyond_contract == sorted(c.pk for c in w["early"])
    assert all(_placement(c).status == "active" for c in [*w["early"], w["expired"]])  # nothing yet
    for who in ("cm1", "mgr_a", "auditor"):  # the maker, and roles that may not check
        with pytest.raises(PermissionDeniedError):
            batch.batch_decide(batch=made, decision="approve", acting_user=w[who])
    batch.batch_decide(batch=made, decision="approve", acting_user=w["cm2"], note="agreed")
    made.refresh_from_db()
    assert made.state == "done" and made.applied == 4 and made.failed == 0 and made.checked_by == w["cm2"]
    assert all(_placement(c).status == "recalled" for c in [*w["early"], w["expired"]])
    assert _placement(w["other"]).status == "active"
    actions = list(
        AuditEntry.objects.filter(object_type="batch_action", object_id=str(made.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["batch.create", "batch.approve", "batch.apply"]
    with pytest.raises(ApplicationError) as err:
        batch.batch_decide(batch=made, decision="reject", acting_user=w["cm2"])
    assert err.value.status_code == 409


def test_retention_beyond_the_contract_needs_approval_and_a_rejection_changes_nothing(w):
    c1, c2, c3 = w["early"]
    cs.placement_retain(case=c1, acting_user=w["cm1"])  # c1 used its one retention
    ends_before = {c.pk: _placement(c).ends_on for c in (c1, c2)}
    within = batch.batch_create(
        kind="retain", case_ids=[c2.pk], acting_user=w["cm1"], reason="promise due", days=15
    )
    assert within.state == "done" and _placement(c2).ends_on == ends_before[c2.pk] + timedelta(days=15)
    entry = AuditEntry.objects.filter(action="placement.retain", object_id=str(c2.pk)).latest("id")
    assert entry.new["reason"] == "promise due"
    beyond = batch.batch_create(
        kind="retain", case_ids=[c1.pk, c3.pk], acting_user=w["cm1"], reason="plan", days=10
    )
    assert beyond.state == "pending" and beyond.beyond_contract == [c1.pk]
    batch.batch_decide(batch=beyond, decision="reject", acting_user=w["co"], note="no")  # compliance checks too
    beyond.refresh_from_db()
    assert beyond.state == "rejected" and beyond.applied == 0
    assert _placement(c1).ends_on == ends_before[c1.pk] and _placement(c1).retained_count == 1
    again = batch.batch_create(kind="retain", case_ids=[c1.pk], acting_user=w["cm1"], reason="plan", days=10)
    with pytest.raises(PermissionDeniedError):
        batch.batch_decide(batch=again, decision="withdraw", acting_user=w["cm2"])  # only the maker withdraws
    batch.batch_decide(batch=again, decision="approve", acting_user=w["cm2"])
    assert _placement(c1).retained_count == 2  # beyond the contract, approved
    entry = AuditEntry.objects.filter(action="placement.retain", object_id=str(c1.pk)).latest("id")
    assert entry.new["beyond_limit_approved_by"] == w["cm2"].pk


def test_assign_from_an_uploaded_list_never_touches_another_agencys_case(w):
    c1, c2, _c3 = w["early"]
    data = f"case_id\n{c1.pk}\n{c2.pk}\n{w['other'].pk}\nabc\n{c1.pk}\n".encode("gbk")
    ids, errors = batch.parse_case_list("list.csv", data)
    assert ids == [c1.pk, c2.pk, w["other"].pk]
    assert [(e.row, e.field) for e in errors] == [(5, "case_id")] and "list.csv, row 5, case_id" in str(
        errors[0]
    )
    with pytest.raises(ApplicationError):  # a collector of another agency
        batch.batch_create(kind="assign", case_ids=ids, acting_user=w["mgr_a"], collector=w["col_b"])
    with pytest.raises(PermissionDeniedError):  # the bank does not assign collectors
        batch.batch_create(kind="assign", case_ids=ids, acting_user=w["cm1"], collector=w["col1"])
    made = batch.batch_create(
        kind="assign", case_ids=ids, acting_user=w["mgr_a"], collector=w["col1"], selection="file list.csv"
    )
    assert made.state == "done" and made.applied == 2 and made.failed == 1
    assert made.outcomes[str(w["other"].pk)]["code"] == "case.not_found"  # not revealed as another agency's
    assert w["other"].pk not in made.case_ids
    c1.refresh_from_db()
    assert c1.collector_id == w["col1"].pk
    w["other"].refresh_from_db()
    assert w["other"].collector_id is None
    # reassign
    batch.batch_create(kind="assign", case_ids=[c1.pk], acting_user=w["mgr_a"], collector=w["col2"])
    c1.refresh_from_db()
    assert c1.collector_id == w["col2"].pk
    assert batch.parse_case_list("x.csv", b"name\nabc\n")[1][0].field == "case_id"
    assert batch.parse_case_list("x.csv", b"")[1][0].reason == "the file is empty"


def test_batch_pages(w):
    cm1, cm2 = logged_in(w["cm1"]), logged_in(w["cm2"])
    page = cm1.get("/cases/batch/?bucket=M2&dpd_min=40")
    assert (
        page.status_code == 200
        and 'id="batch-form"' in page.content.decode()
        and 'id="matching"' in page.content.decode()
    )
    assert (
        logged_in(f.make_user(role=Role.FIELD_COLLECTOR, agency=w["a"])).get("/cases/batch/").status_code == 404
    )
    aud = logged_in(w["auditor"])
    assert (
        aud.get("/cases/batch/").status_code == 200
        and 'id="batch-form"' not in aud.get("/cases/batch/").content.decode()
    )
    assert aud.post("/cases/batch/new", {"kind": "recall", "reason": "x", "bucket": "M2"}).status_code == 403
    # no filter at all: refused (never "every case")
    assert (
        cm1.post("/cases/batch/new", {"kind": "recall", "reason": "x", "source": "filter"}).status_code == 302
    )
    assert not BatchAction.objects.exists()
    assert cm1.post("/cases/batch/new", {"kind": "bogus"}).status_code == 400
    resp = cm1.post(
        "/cases/batch/new",
        {
            "kind": "recall",
            "reason": "agency audit",
            "source": "filter",
            "agency": str(w["a"].pk),
            "bucket": "M2",
        },
    )
    made = BatchAction.objects.get()
    assert (
        resp.status_code == 302
        and made.state == "pending"
        and set(made.case_ids) == {c.pk for c in w["early"]}
    )
    detail = f"/cases/batch/{made.pk}/"
    assert 'id="decide"' not in cm1.get(detail).content.decode()  # the maker sees no approve button
    assert 'id="decide"' in cm2.get(detail).content.decode()
    assert logged_in(w["mgr_b"]).get(detail).status_code == 404
    assert logged_in(w["mgr_b"]).post(f"{detail}decide", {"decision": "approve"}).status_code == 404
    assert cm2.post(f"{detail}decide", {"decision": "approve"}).status_code == 302
    made.refresh_from_db()
    assert made.state == "done" and made.applied == 3
    # an agency manager's upload
    upload = io.BytesIO(f"{w['other'].pk}\n".encode())
    upload.name = "mine.csv"
    resp = logged_in(w["mgr_b"]).post(
        "/cases/batch/new",
        {"kind": "assign", "source": "file", "collector": str(w["col_b"].pk), "file": upload},
    )
    assert resp.status_code == 302
    mine = BatchAction.objects.get(kind="assign")
    assert mine.applied == 1 and logged_in(w["mgr_b"]).get(f"/cases/batch/{mine.pk}/").status_code == 200
    assert logged_in(w["mgr_a"]).get(f"/cases/batch/{mine.pk}/").status_code == 404
