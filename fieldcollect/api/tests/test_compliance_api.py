"""The API and the compliance rules: field visits logged with their facts, and the debtor flags
(list, add restrictive ones from an agency, lift by bank compliance roles only)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    _, secret = token_create(user=user)
    return Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})


def post(c: Client, url: str, body: dict):
    return c.post(url, body, content_type="application/json")


def _visit(**facts) -> dict:
    return {"channel": "visit", "outcome": "not_home", "at": f.in_hours(15).isoformat(), **facts}


def test_openapi_documents_the_visit_facts_and_the_flag_endpoints(db):
    schema = Client().get("/api/v1/openapi.json").json()
    props = schema["components"]["schemas"]["ContactIn"]["properties"]
    for name in ("collectors", "recording", "appointment_confirmed"):
        assert name in props and props[name]["description"]
    assert "collectors" not in schema["components"]["schemas"]["ContactIn"].get("required", [])
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases/{case_id}/flags"])
    assert "post" in paths["/api/v1/cases/{case_id}/flags/{flag_id}/lift"]


def test_a_visit_with_its_facts_is_recorded(world):
    c = client_for(world.collector_user_a1)
    resp = post(c, f"/api/v1/cases/{world.case_a1.pk}/contacts",
                _visit(collectors=2, recording=True, appointment_confirmed=True))
    assert resp.status_code == 201, resp.content
    contact = ContactAttempt.objects.get(pk=resp.json()["id"])
    assert contact.channel == "visit" and contact.agency_id == world.agency_a.pk
    assert not BlockedAttempt.objects.exists()


@pytest.mark.parametrize(("facts", "rules"), [
    ({}, {"CN-VISIT-TEAM", "CN-VISIT-RECORDING", "CN-VISIT-APPOINTMENT"}),
    ({"collectors": 1, "recording": True, "appointment_confirmed": True}, {"CN-VISIT-TEAM"}),
    ({"collectors": 2, "recording": False, "appointment_confirmed": True}, {"CN-VISIT-RECORDING"}),
    ({"collectors": 2, "recording": True, "appointment_confirmed": False}, {"CN-VISIT-APPOINTMENT"}),
])
def test_a_visit_missing_a_fact_is_refused_and_stored(world, facts, rules):
    c = client_for(world.collector_user_a1)
    resp = post(c, f"/api/v1/cases/{world.case_a1.pk}/contacts", _visit(**facts))
    assert resp.status_code == 422, resp.content
    err = resp.json()["error"]
    assert err["code"] == "compliance.blocked" and set(err["extra"]["rule_ids"]) == rules
    assert len(err["extra"]["explanations"]) == len(rules)
    row = BlockedAttempt.objects.get()
    assert err["extra"]["blocked_attempt_id"] == row.pk
    assert (row.path, row.channel, row.user_id) == ("api", "visit", world.collector_user_a1.pk)
    assert not ContactAttempt.objects.exists()


def test_negative_collectors_is_a_request_error(world):
    resp = post(client_for(world.collector_user_a1), f"/api/v1/cases/{world.case_a1.pk}/contacts",
                _visit(collectors=-1, recording=True, appointment_confirmed=True))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "request.invalid"


def test_flags_added_by_an_agency_and_lifted_by_bank_compliance(world):
    case = world.case_a1
    collector = client_for(world.collector_user_a1)
    manager = client_for(world.manager_a)
    url = f"/api/v1/cases/{case.pk}/flags"
    assert collector.get(url).json() == {"items": [], "can_manage": False}

    resp = post(collector, url, {"flag": "complaint", "reason": "customer complained on the phone"})
    assert resp.status_code == 201, resp.content
    flag = resp.json()
    assert flag["flag"] == "complaint" and flag["active"] and flag["ends_at"] is None
    assert flag["created_by_id"] == world.collector_user_a1.pk and flag["label"] == "Complaint"
    stored = DebtorFlag.objects.get(pk=flag["id"])
    assert stored.source == f"api:case:{case.pk}" and stored.customer_id == case.customer_id
    assert AuditEntry.objects.filter(action="compliance.flag_add", object_id=str(stored.pk),
                                     actor=world.collector_user_a1).exists()

    # the pause holds at once: a call through the API is refused (a call now, after the flag: a fixed
    # hour of today would come before the flag when the test runs later in the day)
    call = post(collector, f"/api/v1/cases/{case.pk}/contacts",
                {"channel": "phone", "outcome": "no_answer", "at": timezone.now().isoformat()})
    assert call.status_code == 422 and "CN-PAUSE-COMPLAINT" in call.json()["error"]["extra"]["rule_ids"]

    # agencies may not loosen the rules nor lift
    for c, body in ((collector, {"flag": "consent_hours", "reason": "said ok"}),
                    (manager, {"flag": "no_valid_number", "reason": "all numbers dead"})):
        denied = post(c, url, body)
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission.denied"
    for c in (collector, manager, client_for(world.bank[Role.AUDITOR]), client_for(world.bank[Role.RISK_ANALYST])):
        denied = post(c, f"{url}/{flag['id']}/lift", {"reason": "resolved"})
        assert denied.status_code == 403, denied.content
    assert DebtorFlag.objects.get(pk=flag["id"]).lifted_at is None

    officer = client_for(world.bank[Role.COMPLIANCE_OFFICER])
    lifted = post(officer, f"{url}/{flag['id']}/lift", {"reason": "complaint resolved"})
    assert lifted.status_code == 200, lifted.content
    body = lifted.json()
    assert body["lifted_by_id"] == world.bank[Role.COMPLIANCE_OFFICER].pk and not body["active"]
    assert body["lift_reason"] == "complaint resolved"
    again = post(officer, f"{url}/{flag['id']}/lift", {"reason": "twice"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "flag.ended"
    # the bank's collections manager may add a loosening flag
    consent = post(client_for(world.bank[Role.COLLECTIONS_MANAGER]), url,
                   {"flag": "consent_hours", "reason": "written consent on file"})
    assert consent.status_code == 201, consent.content


def test_third_party_phone_is_masked_for_agencies_and_other_agencies_see_nothing(world):
    case = world.case_a1
    url = f"/api/v1/cases/{case.pk}/flags"
    resp = post(client_for(world.collector_user_a1), url,
                {"flag": "third_party_cease", "reason": "employer asked to stop", "phone": "13912345678"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["phone"] == "139****5678"
    assert client_for(world.manager_a).get(url).json()["items"][0]["phone"] == "139****5678"
    officer = client_for(world.bank[Role.COMPLIANCE_OFFICER]).get(url).json()
    assert officer["can_manage"] and officer["items"][0]["phone"] == "13912345678"
    for other in (world.manager_b, world.collector_user_b, world.collector_user_a2):
        c = client_for(other)
        assert c.get(url).status_code == 404
        assert post(c, url, {"flag": "cease", "reason": "x"}).status_code == 404
    missing_phone = post(client_for(world.collector_user_a1), url, {"flag": "third_party_cease", "reason": "x"})
    assert missing_phone.status_code == 400 and missing_phone.json()["error"]["code"] == "flag.no_phone"
    other_case_flag = DebtorFlag.objects.create(customer=world.case_b.customer, flag="cease", reason="x",
                                                starts_at=f.in_hours(9))
    lift = post(client_for(world.bank[Role.COMPLIANCE_OFFICER]), f"{url}/{other_case_flag.pk}/lift", {"reason": "x"})
    assert lift.status_code == 404 and lift.json()["error"]["code"] == "flag.not_found"
