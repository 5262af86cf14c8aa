from __future__ import annotations

from dataclasses import dataclass

import pytest

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases import services
from fieldcollect.cases.models import Case
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f


@dataclass
class World:
    agency_a: Agency
    agency_b: Agency
    manager_a: User
    manager_b: User
    collector_user_a1: User
    collector_a1: Collector
    collector_user_a2: User
    collector_a2: Collector
    collector_user_b: User
    collector_b: Collector
    bank: dict[Role, User]
    case_a1: Case  # placed with A, assigned to collector a1
    case_a2: Case  # placed with A, assigned to collector a2
    case_a_unassigned: Case  # placed with A, not assigned
    case_b: Case  # placed with B, assigned to collector b
    case_new: Case  # not placed


@pytest.fixture
def world(db: None) -> World:
    agency_a = f.make_agency()
    agency_b = f.make_agency()
    f.make_contract(agency=agency_a)
    f.make_contract(agency=agency_b)
    manager_a = f.make_user(role=Role.AGENCY_MANAGER, agency=agency_a)
    manager_b = f.make_user(role=Role.AGENCY_MANAGER, agency=agency_b)
    cu_a1, c_a1 = f.make_collector_user(agency=agency_a)
    cu_a2, c_a2 = f.make_collector_user(agency=agency_a)
    cu_b, c_b = f.make_collector_user(agency=agency_b)
    bank = {role: f.make_user(role=role) for role in
            (Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST, Role.AUDITOR)}
    cm = bank[Role.COLLECTIONS_MANAGER]

    def placed(agency: Agency, manager: User, collector: Collector | None) -> Case:
        case = f.make_case()
        services.case_place(case=case, agency=agency, acting_user=cm)
        if collector is not None:
            services.case_assign(case=case, collector=collector, acting_user=manager)
        case.refresh_from_db()
        return case

    return World(
        agency_a=agency_a, agency_b=agency_b, manager_a=manager_a, manager_b=manager_b,
        collector_user_a1=cu_a1, collector_a1=c_a1, collector_user_a2=cu_a2, collector_a2=c_a2,
        collector_user_b=cu_b, collector_b=c_b, bank=bank,
        case_a1=placed(agency_a, manager_a, c_a1), case_a2=placed(agency_a, manager_a, c_a2),
        case_a_unassigned=placed(agency_a, manager_a, None), case_b=placed(agency_b, manager_b, c_b),
        case_new=f.make_case(),
    )

