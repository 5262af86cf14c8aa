"""Visits go through the stored flags too, and a refused visit is stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import flag_add
from fieldcollect.core.errors import ApplicationError
from fieldcollect.testing import factories as f
from fieldcollect.visits import services as visits

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_visit_check_reads_stored_pause_flags(world):
    case = world.case_a1
    at = datetime.combine(f.today(), datetime.min.time(), tzinfo=SH).replace(hour=10)
    ok = visits.visit_decision(case=case, at=at, collectors=2, recording=True, appointment_confirmed=True)
    assert ok.allowed
    flag_add(customer=case.customer, flag="attorney", starts_at=at - timedelta(hours=1), reason="lawyer letter",
             acting_user=None, source="test")
    blocked = visits.visit_decision(case=case, at=at, collectors=2, recording=True, appointment_confirmed=True)
    assert blocked.rule_ids == ("CN-PAUSE-ATTORNEY",) and blocked.next_allowed_at is None
    with pytest.raises(ApplicationError) as exc:
        visits.window_check(case=case, start=at + timedelta(days=1), end=at + timedelta(days=1, hours=2),
                            now=at)
    assert exc.value.code == "appointment.not_compliant" and "CN-PAUSE-ATTORNEY" in exc.value.extra["rule_ids"]


def test_refused_visit_start_is_stored(world):
    case = world.case_a1
    at = datetime.combine(f.today(), datetime.min.time(), tzinfo=SH).replace(hour=10)
    flag_add(customer=case.customer, flag="deceased", starts_at=at - timedelta(days=1), reason="death notice",
             acting_user=None)
    with pytest.raises(ApplicationError) as exc:
        visits.report_start(case=case, acting_user=world.collector_user_a1, recording=True, at=at)
    assert exc.value.code == "visit.not_compliant"
    row = BlockedAttempt.objects.get()
    assert row.path == "visit" and row.channel == "visit" and row.agency_id == world.agency_a.pk
    assert "CN-PAUSE-DECEASED" in row.rule_ids and row.user_id == world.collector_user_a1.pk
