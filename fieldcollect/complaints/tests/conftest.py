from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.cases import services as case_services
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.core.models import Role, User
from fieldcollect.testing import factories as f
from fieldcollect.testing.factories import at


@dataclass
class World:
    agency: Agency
    manager: User
    cm: User
    officer: User
    collector_user: User
    collector: Collector
    case: Case
    day: date

    def call(self, hh: int, *, conversation: bool = True, outcome: str = "promise") -> ContactAttempt:
        return case_services.contact_record(case=self.case, acting_user=self.collector_user, channel="phone",
                                            outcome=outcome, connected=conversation, conversation=conversation,
                                            at=at(self.day, hh))


@pytest.fixture
def w(db: None, tmp_path, monkeypatch) -> World:
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(tmp_path))
    agency, manager = f.make_contracted_agency()
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    officer = f.make_user(role=Role.COMPLIANCE_OFFICER)
    user, collector = f.make_collector_user(agency=agency)
    case = f.place(f.make_case(), agency=agency, cm=cm, collector=collector, manager=manager)
    return World(agency=agency, manager=manager, cm=cm, officer=officer, collector_user=user, collector=collector,
                 case=case, day=timezone.localdate() - timedelta(days=1))

