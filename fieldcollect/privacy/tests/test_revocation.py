"""Revocation: access ends at once on recall, expiry and contract end; deletion attestations;
sub-processors; data-sharing records purged after three years and not before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services
from fieldcollect.cases.access import cases_visible_to
from fieldcollect.cases.models import RECALL_CONTRACT_ENDED, Placement
from fieldcollect.core.errors import PermissionDeniedError
from fieldcollect.core.models import Role
from fieldcollect.privacy import services as privacy
from fieldcollect.privacy.exports import export_table_result
from fieldcollect.privacy.models import RETENTION_DAYS, DeletionAttestation, ExportRecord, SubProcessor
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(fc_home):
    agency = f.make_agency()
    contract = f.make_contract(agency=agency)
    manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    cuser, collector = f.make_collector_user(agency=agency)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case = f.make_case()
    services.case_place(case=case, agency=agency, acting_user=cm)
    services.case_assign(case=case, collector=collector, acting_user=manager)
    return type("W", (), {"agency": agency, "contract": contract, "manager": manager, "collector_user": cuser,
                          "cm": cm, "case": case})


def _sees(user, case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def _page_status(user, case) -> int:
    return logged_in(user).get(f"/cases/{case.pk}/").status_code


def test_recall_ends_access_at_once_and_raises_an_attestation(world):
    assert _sees(world.manager, world.case) and _sees(world.collector_user, world.case)
    assert _page_status(world.manager, world.case) == 200
    services.case_recall(case=world.case, reason="complaint", acting_user=world.cm)
    assert not _sees(world.manager, world.case) and not _sees(world.collector_user, world.case)
    assert _page_status(world.manager, world.case) == 404
    assert _page_status(world.collector_user, world.case) == 404
    att = DeletionAttestation.objects.get()
    assert att.agency == world.agency and att.reason == "recalled" and att.status == "open"
    assert att.due_on == timezone.localdate() + timedelta(days=14)
    assert [i.case_id_ref for i in att.items.all()] == [world.case.pk]


def test_contract_end_ends_access_at_once_then_the_nightly_step_recalls(world):
    world.contract.status = "terminated"
    world.contract.save()
    assert not _sees(world.manager, world.case) and not _sees(world.collector_user, world.case)
    assert _page_status(world.manager, world.case) == 404
    assert services.placements_recall_for_ended_contracts(as_of=timezone.localdate()) == 1
    privacy.revocations_after_cycle(as_of=timezone.localdate())
    placement = Placement.objects.get(case=world.case)
    assert placement.status == "recalled" and placement.recall_reason == RECALL_CONTRACT_ENDED
    assert DeletionAttestation.objects.get().reason == "contract_ended"
    # idempotent: a second run raises nothing new
    assert privacy.revocations_after_cycle(as_of=timezone.localdate())["attestation_items_raised"] == 0


def test_expiry_ends_access_and_groups_attestations_per_agency_and_day(world):
    second = f.make_case()
    services.case_place(case=second, agency=world.agency, acting_user=world.cm, days=1)
    Placement.objects.filter(case=world.case).update(ends_on=timezone.localdate() - timedelta(days=1))
    world.case.refresh_from_db()
    services.Case.objects.filter(pk=world.case.pk).update(placed_until=timezone.localdate() - timedelta(days=1))
    assert not _sees(world.manager, world.case)  # expired placements are invisible even before the recall
    assert services.placements_expire(as_of=timezone.localdate() + timedelta(days=2)) == 2
    att = DeletionAttestation.objects.get()
    assert att.reason == "expired" and att.items.count() == 2


def test_nightly_sweep_covers_placements_ended_for_closed_cases(world):
    services.case_transition(case=world.case, target="closed", close_reason="paid", acting_user=world.cm)
    ended = Placement.objects.filter(case=world.case).exclude(status="active")
    assert ended.exists()
    privacy.revocations_after_cycle(as_of=timezone.localdate())
    assert set(DeletionAttestation.objects.values_list("agency_id", flat=True)) == {world.agency.pk}


def test_attest_by_the_agency_manager_only_and_bank_sees_overdue(world):
    services.case_recall(case=world.case, reason="complaint", acting_user=world.cm)
    att = DeletionAttestation.objects.get()
    other_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=f.make_agency())
    with pytest.raises(PermissionDeniedError):
        privacy.deletion_attest(attestation=att, acting_user=other_manager, statement="deleted")
    # pages: the other agency's manager gets 404, the own manager attests through the page
    c = logged_in(other_manager)
    assert c.get(f"/privacy/attestations/{att.pk}/").status_code == 404
    c.force_login(world.manager)
    assert c.get(f"/privacy/attestations/{att.pk}/").status_code == 200
    r = c.post(f"/privacy/attestations/{att.pk}/", {"statement": "CRM rows and call recordings deleted"})
    assert r.status_code == 302
    att.refresh_from_db()
    assert att.status == "attested" and att.attested_by == world.manager and att.attested_at is not None
    assert AuditEntry.objects.filter(action="privacy.attest_deletion").count() == 1
    # bank view of overdue attestations
    DeletionAttestation.objects.create(agency=world.agency, reason="expired", raised_on=timezone.localdate() - timedelta(days=30),
                                       due_on=timezone.localdate() - timedelta(days=16))
    compliance = f.make_user(role=Role.COMPLIANCE_OFFICER)
    c.force_login(compliance)
    page = c.get("/privacy/attestations/?overdue=1")
    assert page.status_code == 200 and page.context["rows"].count() == 1


def test_sub_processors_registered_per_agency(world):
    c = logged_in(world.manager)
    r = c.post("/privacy/sub-processors/", {"name": "云呼叫中心", "service": "outbound calls", "location": "杭州",
                                            "data_categories": ["name", "mobile"]})
    assert r.status_code == 302
    sp = SubProcessor.objects.get()
    assert sp.agency == world.agency and sp.data_categories == ["mobile", "name"]
    other_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=f.make_agency())
    c.force_login(other_manager)
    assert "云呼叫中心" not in c.get("/privacy/sub-processors/").content.decode()
    assert c.post(f"/privacy/sub-processors/{sp.pk}/end").status_code == 404
    c.force_login(f.make_user(role=Role.COMPLIANCE_OFFICER))
    assert "云呼叫中心" in c.get("/privacy/sub-processors/").content.decode()


def test_purge_deletes_only_records_older_than_three_years(world):
    old = export_table_result(user=world.cm, purpose="p", name="t", columns=["a"], rows=[["x"]], fmt="csv").record
    young = export_table_result(user=world.cm, purpose="p", name="t", columns=["a"], rows=[["y"]], fmt="csv").record
    now = timezone.now()
    ExportRecord.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=RETENTION_DAYS, seconds=1))
    ExportRecord.objects.filter(pk=young.pk).update(created_at=now - timedelta(days=RETENTION_DAYS - 1))
    counts = privacy.data_sharing_records_purge(now=now)
    assert counts["export_records"] == 1
    assert list(ExportRecord.objects.values_list("pk", flat=True)) == [young.pk]
    assert AuditEntry.objects.filter(action="privacy.purge").count() == 1
    assert privacy.data_sharing_records_purge(now=now)["export_records"] == 0


def test_contract_end_and_recall_end_api_access(world):
    from fieldcollect.accounts.tokens import token_create

    secret = token_create(user=world.manager)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"/api/v1/cases/{world.case.pk}").status_code == 200
    world.contract.ends_on = timezone.localdate() - timedelta(days=1)
    world.contract.save()
    assert client.get(f"/api/v1/cases/{world.case.pk}").status_code == 404
    assert str(world.case.loan_id) not in client.get("/api/v1/cases").content.decode()


def test_purge_command(world):
    from typer.testing import CliRunner

    from fieldcollect.cli import app

    record = export_table_result(user=world.cm, purpose="p", name="t", columns=["a"], rows=[["x"]], fmt="csv").record
    ExportRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=RETENTION_DAYS + 1))
    out = CliRunner().invoke(app, ["sharing-records", "purge"])
    assert out.exit_code == 0 and "export_records=1" in out.output
    assert not ExportRecord.objects.exists()
