from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import Case
from fieldcollect.compliance.engine import zone
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f

SHANGHAI = zone("Asia/Shanghai")
BASE = (31.2304, 121.4737)  # People's Square


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


@dataclass
class VisitWorld:
    agency: Agency
    manager: User
    user1: User
    c1: Collector
    user2: User
    c2: Collector
    case1: Case
    case2: Case
    day: date


def place_case(*, agency: Agency, manager: User, collector: Collector, lat: float, lon: float, cm: User) -> Case:
    case = f.make_case()
    case.customer.lat, case.customer.lon = lat, lon
    case.customer.save(update_fields=["lat", "lon"])
    case_services.case_place(case=case, agency=agency, acting_user=cm)
    case_services.case_assign(case=case, collector=collector, acting_user=manager)
    case.refresh_from_db()
    return case


@pytest.fixture
def vw(db: None, tmp_path, monkeypatch) -> VisitWorld:
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(tmp_path))
    agency = f.make_agency()
    f.make_contract(agency=agency)
    manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    user1, c1 = f.make_collector_user(agency=agency)
    user2, c2 = f.make_collector_user(agency=agency)
    for c, dx in ((c1, 0.0), (c2, 0.01)):
        c.base_lat, c.base_lon = BASE[0], BASE[1] + dx
        c.save(update_fields=["base_lat", "base_lon"])
    case1 = place_case(agency=agency, manager=manager, collector=c1, lat=31.2400, lon=121.4900, cm=cm)
    case2 = place_case(agency=agency, manager=manager, collector=c1, lat=31.2200, lon=121.4500, cm=cm)
    return VisitWorld(agency=agency, manager=manager, user1=user1, c1=c1, user2=user2, c2=c2, case1=case1,
                      case2=case2, day=timezone.localdate() + timedelta(days=2))

