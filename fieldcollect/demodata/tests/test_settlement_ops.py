"""The demo of contract versions, penalties, reversal, invoice and batch recall runs through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fieldcollect.agencies.models import AgencyContractVersion
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import BatchAction
from fieldcollect.core.models import Role
from fieldcollect.demodata.settlement_ops import DEMO_PENALTY_TERMS, settlement_ops_demo
from fieldcollect.settlement import services as settlement
from fieldcollect.settlement.models import Invoice, PaymentReversal
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def test_settlement_ops_demo():
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER, username="manager")
    f.make_user(role=Role.COMPLIANCE_OFFICER, username="compliance")
    agency = f.make_agency()
    f.make_contract(agency=agency)
    f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    today = f.today()
    cases = [f.make_case() for _ in range(4)]
    for c in cases:
        cs.case_place(case=c, agency=agency, acting_user=manager, starts_on=today - timedelta(days=20))
    cs.payment_record(case=cases[0], amount_fen=100_000, paid_on=today - timedelta(days=1), acting_user=None)
    st = settlement.statement_generate(agency=agency, month=today - timedelta(days=1), acting_user=manager)
    settlement.statement_issue(statement=st, acting_user=manager)
    made = settlement_ops_demo(as_of=today)
    assert made == {
        "versions_approved": 1,
        "versions_pending": 1,
        "reversals": 1,
        "invoices": 1,
        "batches_pending": 1,
    }
    v2 = AgencyContractVersion.objects.get(number=2)
    assert v2.state == "approved" and v2.penalty_terms == DEMO_PENALTY_TERMS
    assert AgencyContractVersion.objects.get(number=3).state == "pending"
    assert PaymentReversal.objects.count() == 1 and Invoice.objects.count() == 1
    assert BatchAction.objects.get().state == "pending"
    assert settlement_ops_demo(as_of=today) == {
        "versions_approved": 0,
        "versions_pending": 0,
        "reversals": 0,
        "invoices": 0,
        "batches_pending": 0,
    }
