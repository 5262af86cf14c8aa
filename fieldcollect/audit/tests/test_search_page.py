"""The auditor's audit-log search (actor, object, action, days), its CSV export (itself audited) and
who may use them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.audit.services import audit_log
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(db):
    alice = f.make_user(role=Role.COLLECTIONS_MANAGER, username="alice")
    bob = f.make_user(role=Role.COMPLIANCE_OFFICER, username="bob")
    audit_log(actor=alice, action="case.place", object_type="case", object_id=11, new={"agency": 1})
    audit_log(actor=alice, action="case.recall", object_type="case", object_id=12, new={"reason": "=cmd()"})
    audit_log(actor=bob, action="compliance.flag_add", object_type="debtor_flag", object_id=5)
    AuditEntry.objects.create(
        actor=bob,
        actor_label="bob",
        action="case.place",
        object_type="case",
        object_id="13",
        at=timezone.now() - timedelta(days=40),
    )
    return alice, bob


def rows_of(resp) -> list[dict[str, str]]:
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_search_by_actor_object_action_and_days(client, entries):
    client.force_login(f.make_user(role=Role.AUDITOR))
    page = client.get("/audit/", {"actor": "alice"}).content.decode()
    assert "case.place" in page and "case.recall" in page and "compliance.flag_add" not in page
    page = client.get("/audit/", {"object_type": "case", "object_id": "12"}).content.decode()
    assert "case.recall" in page and "case.place" not in page
    page = client.get("/audit/", {"action": "case."}).content.decode()
    assert "case.recall" in page and "compliance.flag_add" not in page
    today = timezone.localdate()
    resp = client.get(
        "/audit/export.csv", {"action": "case.place", "since": (today - timedelta(days=1)).isoformat()}
    )
    got = rows_of(resp)
    assert [r["object_id"] for r in got] == ["11"]  # 13 is 40 days old
    assert client.get("/audit/", {"since": "2026-13-01"}).status_code == 400


def test_export_is_audited_and_safe(client, entries):
    auditor = f.make_user(role=Role.AUDITOR)
    client.force_login(auditor)
    got = rows_of(client.get("/audit/export.csv", {"actor": "alice"}))
    assert {r["action"] for r in got} == {"case.place", "case.recall"}
    assert all(not r["new"].startswith("=") for r in got)
    export = AuditEntry.objects.filter(action="audit.export").get()
    assert export.actor_id == auditor.pk and export.new == {"filters": {"actor": "alice"}, "rows": 2}


@pytest.mark.parametrize("role", [Role.COLLECTIONS_MANAGER, Role.RISK_ANALYST, Role.AGENCY_MANAGER])
def test_other_roles_may_not_search(client, entries, role):
    agency = f.make_agency() if role == Role.AGENCY_MANAGER else None
    client.force_login(f.make_user(role=role, agency=agency))
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_page_in_chinese(client, entries):
    client.force_login(f.make_user(role=Role.COMPLIANCE_OFFICER))
    assert client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200
