"""Visits go through the stored flags too, through the one entry point of every contact
(:func:`fieldcollect.compliance.services.contact_decision`, channel ``visit``), and a refused visit is
stored and refused as any contact (422 ``compliance.blocked``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.compliance import services as compliance_services
from fieldcollect.compliance.models import BlockedAttempt
from fieldcollect.compliance.services import ContactBlockedError, contact_decision, flag_add
from fieldcollect.core.errors import ApplicationError
from fieldcollect.testing import factories as f
from fieldcollect.visits import services as visits

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_visit_check_reads_stored_pause_flags(world):
    case = world.case_a1
    at = datetime.combine(f.today(), datetime.min.time(), tzinfo=SH).replace(hour=10)
    ok = contact_decision(case=case, channel="visit", at=at, collectors=2, recording=True, appointment_confirmed=True)
    assert ok.allowed
    flag_add(customer=case.customer, flag="attorney", starts_at=at - timedelta(hours=1), reason="lawyer letter",
             acting_user=None, source="test")
    blocked = contact_decision(case=case, channel="visit", at=at, collectors=2, recording=True,
                               appointment_confirmed=True)
    assert blocked.rule_ids == ["CN-PAUSE-ATTORNEY"] and blocked.next_allowed_at is None
    with pytest.raises(ApplicationError) as exc:
        visits.window_check(case=case, start=at + timedelta(days=1), end=at + timedelta(days=1, hours=2),
                            now=at)
    assert isinstance(exc.value, ContactBlockedError) and exc.value.status_code == 422
    assert exc.value.code == "compliance.blocked" and "CN-PAUSE-ATTORNEY" in exc.value.extra["rule_ids"]


def test_refused_visit_start_is_stored(world):
    case = world.case_a1
    at = datetime.combine(f.today(), datetime.min.time(), tzinfo=SH).replace(hour=10)
    flag_add(customer=case.customer, flag="deceased", starts_at=at - timedelta(days=1), reason="death notice",
             acting_user=None)
    with pytest.raises(ApplicationError) as exc:
        visits.report_start(case=case, acting_user=world.collector_user_a1, recording=True, at=at)
    assert isinstance(exc.value, ContactBlockedError) and exc.value.status_code == 422
    assert exc.value.code == "compliance.blocked"
    assert exc.value.extra["blocked_attempt_id"] == BlockedAttempt.objects.get().pk
    row = BlockedAttempt.objects.get()
    assert row.path == "visit" and row.channel == "visit" and row.agency_id == world.agency_a.pk
    assert "CN-PAUSE-DECEASED" in row.rule_ids and row.user_id == world.collector_user_a1.pk


def test_visit_windows_and_visits_ask_the_one_contact_check(world, monkeypatch):
    """No second copy of the check in visits: windows and the visit itself call ``contact_decision``
    with channel ``visit`` (its bounded ledger, its channel map)."""
    asked: list[tuple[str, str]] = []
    real = compliance_services.contact_decision

    def spy(**kw):  # type: ignore[no-untyped-def]
        asked.append((kw["channel"], kw.get("request_id", "")))
        return real(**kw)

    monkeypatch.setattr(compliance_services, "contact_decision", spy)
    case = world.case_a1
    at = datetime.combine(f.today(), datetime.min.time(), tzinfo=SH).replace(hour=10)
    visits.window_check(case=case, start=at + timedelta(days=1), end=at + timedelta(days=1, hours=2), now=at)
    assert asked == [("visit", "window-0"), ("visit", "window-1")]
    with pytest.raises(ApplicationError):
        visits.report_start(case=case, acting_user=world.collector_user_a1, recording=False, at=at)
    assert asked[-1] == ("visit", "visit")
