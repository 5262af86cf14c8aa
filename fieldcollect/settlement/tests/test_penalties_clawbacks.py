"""Penalties (per the contract's terms, from complaints, late deletion attestations and any registered
source such as QA findings) and clawbacks (reversed payments) on commission statements."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.agencies.models import AgencyContract, AgencyContractVersion
from fieldcollect.audit.models import AuditEntry
from fieldcollect.complaints.models import Complaint
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.privacy.models import DeletionAttestation
from fieldcollect.settlement import penalties, services
from fieldcollect.settlement.models import Adjustment, PaymentReversal
from fieldcollect.settlement.penalties import PenaltyEvent, penalty_fen
from fieldcollect.settlement.selectors import reconcile
from fieldcollect.settlement.tests.conftest import MARCH, d

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
APRIL = date(2025, 4, 1)
_ref = itertools.count(1)
TERMS = {
    "complaint": 1_000,
    "complaint_serious": 5_000,
    "late_attestation": 500,
    "late_attestation_per_day": 10,
}


def _complaint(
    case, agency, *, resolved: date | None, finding: str = "upheld", severity: str = "medium"
) -> Complaint:
    at = datetime(2025, 3, 1, 9, tzinfo=SH)
    return Complaint.objects.create(
        reference=f"CP-T-{next(_ref)}",
        source="hotline",
        customer=case.customer,
        case=case,
        agency=agency,
        category="harassment",
        severity=severity,
        description="calls at night",
        received_at=at,
        acknowledge_due_at=at + timedelta(days=1),
        resolve_due_at=at + timedelta(days=15),
        finding=finding if resolved else "",
        resolved_at=datetime(resolved.year, resolved.month, resolved.day, 23, 30, tzinfo=SH)
        if resolved
        else None,
        status="resolved" if resolved else "investigating",
    )


@pytest.fixture
def priced(settled):
    AgencyContract.objects.filter(agency=settled.a).update(penalty_terms=TERMS)
    return settled


def test_penalty_pricing_is_integer_and_per_day():
    e = PenaltyEvent(
        source="late_attestation",
        ref="1",
        agency_id=1,
        kind="late_attestation",
        occurred_on=d(1),
        days_late=7,
    )
    assert penalty_fen(TERMS, e) == 570
    assert penalty_fen({}, e) == 0  # a contract without the term charges nothing
    assert penalty_fen(TERMS, PenaltyEvent("complaint", "2", 1, "complaint", d(1))) == 1_000


def test_penalties_and_clawback_in_statements(priced):
    s = priced
    _complaint(s.case1, s.a, resolved=d(20))  # 1,000
    _complaint(s.case2, s.a, resolved=d(21), severity="critical")  # 5,000 (serious)
    _complaint(s.case2, s.a, resolved=d(22), finding="not_upheld")  # nothing: not upheld
    _complaint(s.case2, s.b, resolved=d(22))  # agency B's, not A's
    april_complaint = _complaint(s.case2, s.a, resolved=d(5, 4))  # April: not in March
    _complaint(s.case1, s.a, resolved=None)  # still open: nothing
    att = DeletionAttestation.objects.get(agency=s.a)  # raised by the recall of case 1 on 10 March
    assert att.due_on == d(24)

    march = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    pen = {(a.source, a.term): a.amount_fen for a in march.adjustments.all()}
    assert pen == {
        ("complaint", "complaint"): 1_000,
        ("complaint", "complaint_serious"): 5_000,
        ("late_attestation", "late_attestation"): 500 + 7 * 10,
    }  # 7 days late at the month's end
    assert march.penalties_fen == 6_570 and march.clawbacks_fen == 0
    assert march.commission_fen == 20_400 and march.payable_fen == 20_400 - 6_570
    assert reconcile(statement=march).ok
    # rebuilding the draft charges the same events, not twice
    march = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    assert march.penalties_fen == 6_570 and Adjustment.objects.count() == 3
    services.statement_issue(statement=march, acting_user=s.manager)

    # payment a1 (100,000 fen, 12,000 commission on the issued March statement) is reversed in April
    a1 = s.pays["a1"]
    with pytest.raises(ApplicationError):
        services.payment_reverse(payment=a1, reversed_on=d(4), reason="too early", acting_user=s.manager)
    with pytest.raises(ApplicationError):
        services.payment_reverse(payment=a1, reversed_on=d(3, 4), reason="  ", acting_user=s.manager)
    with pytest.raises(PermissionDeniedError):
        services.payment_reverse(payment=a1, reversed_on=d(3, 4), reason="returned", acting_user=s.mgr_a)
    services.payment_reverse(
        payment=a1, reversed_on=d(3, 4), reason="transfer returned", acting_user=s.manager
    )
    with pytest.raises(ConflictError):
        services.payment_reverse(payment=a1, reversed_on=d(4, 4), reason="again", acting_user=s.manager)
    assert AuditEntry.objects.filter(action="payment.reverse").count() == 1

    april = services.statement_generate(agency=s.a, month=APRIL, acting_user=s.manager)
    claw = april.adjustments.get(kind=Adjustment.Kind.CLAWBACK)
    assert claw.source_ref == str(a1.pk) and claw.amount_fen == 12_000 and claw.occurred_on == d(3, 4)
    # April: case 2's payment of 7,000 at 18 % = 1,260; the April complaint (1,000); the attestation
    # was charged in March and is not charged again
    assert april.commission_fen == 1_260 and april.clawbacks_fen == 12_000 and april.penalties_fen == 1_000
    assert april.adjustments.get(kind="penalty").source_ref == str(april_complaint.pk)
    assert april.payable_fen == 1_260 - 1_000 - 12_000  # the agency owes the bank this month
    assert reconcile(statement=april).ok
    # the issued March statement is unchanged: the reversal is settled in April, once
    march.refresh_from_db()
    assert march.commission_fen == 20_400 and march.clawbacks_fen == 0

    # a payment reversed within its own month never earns commission (no line, no clawback)
    services.payment_reverse(
        payment=s.pays["april"], reversed_on=d(20, 4), reason="bounced", acting_user=s.manager
    )
    april = services.statement_generate(agency=s.a, month=APRIL, acting_user=s.manager)
    assert april.line_count == 0 and april.commission_fen == 0 and april.clawbacks_fen == 12_000
    assert reconcile(statement=april).ok
    # May: nothing left to claw back or to charge
    may = services.statement_generate(agency=s.a, month=date(2025, 5, 1), acting_user=s.manager)
    assert may.clawbacks_fen == 0 and may.penalties_fen == 0
    assert PaymentReversal.objects.count() == 2


def test_disputed_line_is_not_clawed_back(priced):
    s = priced
    march = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    line = march.lines.get(payment=s.pays["a1"])
    services.line_dispute(line=line, reason="paid before our visit", acting_user=s.mgr_a)
    services.payment_reverse(
        payment=s.pays["a1"], reversed_on=d(3, 4), reason="returned", acting_user=s.manager
    )
    april = services.statement_generate(agency=s.a, month=APRIL, acting_user=s.manager)
    assert april.clawbacks_fen == 0  # its commission was never payable


def test_penalty_priced_by_the_version_in_force_on_the_event_date(priced):
    s = priced
    contract = AgencyContract.objects.get(agency=s.a)
    AgencyContractVersion.objects.create(
        contract=contract,
        number=2,
        effective_from=d(1, 4),
        state="approved",
        note="higher complaint penalty",
        **{
            f: getattr(contract, f)
            for f in (
                "regions",
                "capacity",
                "eligible_buckets",
                "placement_days",
                "max_retentions",
                "commission_tiers",
                "permitted_fields",
            )
        },
        penalty_terms={**TERMS, "complaint": 3_000},
    )
    _complaint(s.case1, s.a, resolved=d(31))  # 31 March: old price
    _complaint(s.case1, s.a, resolved=d(1, 4))  # 1 April: new price
    march = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    april = services.statement_generate(agency=s.a, month=APRIL, acting_user=s.manager)
    assert list(march.adjustments.filter(source="complaint").values_list("amount_fen", flat=True)) == [1_000]
    assert list(april.adjustments.filter(source="complaint").values_list("amount_fen", flat=True)) == [3_000]


def test_monthly_cap_and_a_registered_qa_source(priced, monkeypatch):
    s = priced
    AgencyContract.objects.filter(agency=s.a).update(
        penalty_terms={**TERMS, "qa_finding": 4_000, "monthly_cap": 6_000}
    )

    class QaFindings:
        name = "qa_finding"

        def events(self, *, agency_id, until):
            if agency_id == s.a.pk:
                for ref, day, detail in (("F-1", 2, "no recording"), ("F-2", 3, "no ID shown")):
                    yield PenaltyEvent(source="qa_finding", ref=ref, agency_id=agency_id, kind="qa_finding",
                                       occurred_on=d(day), case_id=s.case1.pk, detail=detail)

    monkeypatch.setitem(penalties._SOURCES, "qa_finding", QaFindings())
    with pytest.raises(TypeError):
        penalties.register_penalty_source(object())  # type: ignore[arg-type]
    march = services.statement_generate(agency=s.a, month=MARCH, acting_user=s.manager)
    qa = list(
        march.adjustments.filter(source="qa_finding")
        .order_by("occurred_on")
        .values_list("amount_fen", "detail")
    )
    # 4,000 then 2,000 (capped at 6,000 for the month); the late attestation then adds nothing
    assert qa == [(4_000, "no recording"), (2_000, "no ID shown (monthly cap)")]
    assert march.penalties_fen == 6_000
    # the other agency is not charged for A's findings
    assert services.statement_generate(agency=s.b, month=MARCH, acting_user=s.manager).penalties_fen == 0
