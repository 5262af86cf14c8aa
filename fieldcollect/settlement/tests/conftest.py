from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from fieldcollect.agencies.models import Agency
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import Case, Payment
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f

MARCH = date(2025, 3, 1)
FAR = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}


def d(day: int, month: int = 3) -> date:
    return date(2025, month, day)


@dataclass
class Settled:
    a: Agency
    b: Agency
    manager: User
    auditor: User
    mgr_a: User
    mgr_b: User
    case1: Case
    case2: Case
    pays: dict[str, Payment]



@pytest.fixture
def settled(db: None) -> Settled:
    """Case 1 placed with A on 3 March (bucket M2, 12 %), recalled on 10 March, placed with B the
    same day (B: M2 at 15 %); case 2 placed with A on 3 March (M3, 18 %) and still there."""
    a = f.make_agency()
    b = f.make_agency()
    f.make_contract(agency=a, **FAR)
    f.make_contract(agency=b, commission_tiers={"M2": "0.15", "M3": "0.20"}, **FAR)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case1 = f.make_case(bucket="M2")
    case2 = f.make_case(bucket="M3", overdue_fen=200_000)
    cs.case_place(case=case1, agency=a, acting_user=manager, starts_on=d(3), days=60)
    cs.case_place(case=case2, agency=a, acting_user=manager, starts_on=d(3), days=60)
    pays = {
        "before": cs.payment_record(case=case1, amount_fen=50_000, paid_on=d(2), acting_user=None),
        "a1": cs.payment_record(case=case1, amount_fen=100_000, paid_on=d(5), acting_user=None),
        "odd": cs.payment_record(case=case2, amount_fen=33_333, paid_on=d(6), acting_user=None),
    }
    cs.case_recall(case=case1, reason="manual", acting_user=manager, on=d(10))
    cs.case_place(case=case1, agency=b, acting_user=manager, starts_on=d(10), days=60)
    pays["recall_day"] = cs.payment_record(case=case1, amount_fen=20_000, paid_on=d(10), acting_user=None)
    pays["b1"] = cs.payment_record(case=case1, amount_fen=30_001, paid_on=d(11), acting_user=None)
    pays["april"] = cs.payment_record(case=case2, amount_fen=7_000, paid_on=d(2, 4), acting_user=None)
    return Settled(a=a, b=b, manager=manager, auditor=f.make_user(role=Role.AUDITOR),
                   mgr_a=f.make_user(role=Role.AGENCY_MANAGER, agency=a),
                   mgr_b=f.make_user(role=Role.AGENCY_MANAGER, agency=b), case1=case1, case2=case2, pays=pays)
