"""Debtor flags: add and lift with audit, rights per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.compliance.models import DebtorFlag
from fieldcollect.compliance.services import flag_add, flag_lift
from fieldcollect.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role

pytestmark = pytest.mark.django_db


def test_flag_add_and_lift_are_audited(world):
    officer = world.bank[Role.COMPLIANCE_OFFICER]
    now = timezone.now()
    row = flag_add(customer=world.case_a1.customer, flag="complaint", starts_at=now, reason="serious complaint",
                   acting_user=officer, source="complaint:7")
    assert row.ends_at is None and row.created_by == officer and row.source == "complaint:7"
    add = AuditEntry.objects.get(action="compliance.flag_add", object_id=str(row.pk))
    assert add.new["flag"] == "complaint" and add.actor == officer
    flag_lift(flag=row, acting_user=officer, reason="resolved", at=now + timedelta(hours=2))
    row.refresh_from_db()
    assert row.ends_at == now + timedelta(hours=2) and row.lifted_by == officer
    assert AuditEntry.objects.filter(action="compliance.flag_lift", object_id=str(row.pk)).count() == 1
    with pytest.raises(ConflictError):
        flag_lift(flag=row, acting_user=officer, reason="again", at=now + timedelta(hours=3))


def test_system_may_add_without_user(world):
    row = flag_add(customer=world.case_b.customer, flag="dispute", starts_at=timezone.now(), reason="x",
                   acting_user=None, source="complaint:1")
    assert AuditEntry.objects.get(action="compliance.flag_add", object_id=str(row.pk)).actor_label == "system"


def test_collector_may_restrict_but_not_loosen_or_lift(world):
    now = timezone.now()
    row = flag_add(customer=world.case_a1.customer, flag="cease", starts_at=now, reason="asked to stop",
                   acting_user=world.collector_user_a1)
    with pytest.raises(PermissionDeniedError):
        flag_add(customer=world.case_a1.customer, flag="consent_hours", starts_at=now, reason="x",
                 acting_user=world.collector_user_a1)
    with pytest.raises(PermissionDeniedError):
        flag_lift(flag=row, acting_user=world.collector_user_a1, reason="x")
    with pytest.raises(PermissionDeniedError):
        flag_add(customer=world.case_a1.customer, flag="cease", starts_at=now, reason="x",
                 acting_user=world.bank[Role.AUDITOR])


def test_invalid_flags_are_refused(world):
    now = timezone.now()
    cm = world.bank[Role.COLLECTIONS_MANAGER]
    c = world.case_a1.customer
    with pytest.raises(ApplicationError):
        flag_add(customer=c, flag="third_party_cease", starts_at=now, reason="x", acting_user=cm)
    with pytest.raises(ApplicationError):
        flag_add(customer=c, flag="bogus", starts_at=now, reason="x", acting_user=cm)
    with pytest.raises(ApplicationError):
        flag_add(customer=c, flag="dispute", starts_at=now, ends_at=now, reason="x", acting_user=cm)
    with pytest.raises(ApplicationError):
        flag_add(customer=c, flag="dispute", starts_at=now, reason="  ", acting_user=cm)
    row = flag_add(customer=c, flag="third_party_cease", phone="139-0000 1111", starts_at=now, reason="x",
                   acting_user=cm)
    assert row.phone == "13900001111"
    assert DebtorFlag.objects.count() == 1
