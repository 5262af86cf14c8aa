from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fieldcollect.accounts.models import ApiToken
from fieldcollect.accounts.tokens import token_create, token_revoke
from fieldcollect.cases.models import ContactAttempt, PromiseToPay, Task
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    _, secret = token_create(user=user)
    return Client(headers={"Authorization": f"Bearer {secret}"})


def assert_error(resp, status, code):
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


def test_openapi_is_public_and_lists_endpoints(db):
    resp = Client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}/contacts",
            "/api/v1/cases/{case_id}/promises", "/api/v1/tasks", "/api/v1/tasks/{task_id}/complete"} <= set(paths)


def test_tokens_required_hashed_revocable_expiring(world):
    assert_error(Client().get("/api/v1/cases"), 401, "auth.unauthorized")
    assert_error(Client(headers={"Authorization": "Bearer fc_nope"}).get("/api/v1/cases"), 401, "auth.unauthorized")
    token, secret = token_create(user=world.manager_a)
    assert secret not in token.digest and len(token.digest) == 64
    c = Client(headers={"Authorization": f"Bearer {secret}"})
    assert c.get("/api/v1/me").json() == {"username": world.manager_a.username, "role": "agency_manager",
                                          "agency_id": world.agency_a.pk}
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(c.get("/api/v1/me"), 401, "auth.unauthorized")
    token2, secret2 = token_create(user=world.manager_a)
    c2 = Client(headers={"Authorization": f"Bearer {secret2}"})
    assert c2.get("/api/v1/me").status_code == 200
    token_revoke(token=token2)
    assert_error(c2.get("/api/v1/me"), 401, "auth.unauthorized")


def test_list_my_cases_paged(world):
    resp = client_for(world.manager_a).get("/api/v1/cases?limit=2")
    body = resp.json()
    assert resp.status_code == 200 and body["count"] == 3 and len(body["items"]) == 2
    ids = {i["id"] for i in body["items"]}
    nxt = client_for(world.manager_a).get(f"/api/v1/cases?limit=2&cursor={body['next_cursor']}").json()
    ids |= {i["id"] for i in nxt["items"]}
    assert ids == {world.case_a1.pk, world.case_a2.pk, world.case_a_unassigned.pk}
    mine = client_for(world.collector_user_a1).get("/api/v1/cases").json()
    assert [i["id"] for i in mine["items"]] == [world.case_a1.pk] and mine["count"] == 1
    bank = client_for(world.bank[Role.AUDITOR]).get("/api/v1/cases?bucket=M2").json()
    assert bank["count"] == 5


def test_case_detail_own_vs_other_agency(world):
    c = client_for(world.manager_a)
    resp = c.get(f"/api/v1/cases/{world.case_a1.pk}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == world.case_a1.pk and "id_number" not in body["customer"]
    assert_error(c.get(f"/api/v1/cases/{world.case_b.pk}"), 404, "case.not_found")
    assert_error(client_for(world.collector_user_a1).get(f"/api/v1/cases/{world.case_a2.pk}"), 404, "case.not_found")


def test_record_contact_then_promise_then_conflict(world):
    c = client_for(world.collector_user_a1)
    case = world.case_a1
    resp = c.post(f"/api/v1/cases/{case.pk}/contacts", {"channel": "phone", "outcome": "promise",
                  "conversation": True, "number": "13800000000", "version": case.version,
                  "at": f.in_hours().isoformat()},
                  content_type="application/json")
    assert resp.status_code == 201, resp.content
    contact_id = resp.json()["id"]
    assert ContactAttempt.objects.get(pk=contact_id).collector_id == world.collector_a1.pk
    due = (f.today() + timedelta(days=3)).isoformat()
    resp = c.post(f"/api/v1/cases/{case.pk}/promises",
                  {"amount_fen": 88_800, "due_on": due, "contact_id": contact_id, "version": case.version + 1},
                  content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert PromiseToPay.objects.get(pk=resp.json()["id"]).amount_fen == 88_800
    stale = c.post(f"/api/v1/cases/{case.pk}/promises", {"amount_fen": 1, "due_on": due, "version": case.version},
                   content_type="application/json")
    assert_error(stale, 409, "case.conflict")


def test_recorded_contact_shows_the_debtors_own_mobile_masked_to_an_agency(world):
    """A call without a number is logged to the debtor's mobile; the answer gives an agency that
    number masked (as the case does), the bank in clear, and a number the caller sent as sent."""
    case = world.case_a1
    mobile = case.customer.mobile
    body = {"channel": "phone", "outcome": "no_answer", "at": f.in_hours().isoformat()}
    resp = client_for(world.manager_a).post(f"/api/v1/cases/{case.pk}/contacts", body,
                                            content_type="application/json")
    assert resp.status_code == 201, resp.content
    shown = resp.json()["number"]
    assert shown and shown != mobile and mobile[-4:] in shown and "*" in shown
    assert ContactAttempt.objects.get(pk=resp.json()["id"]).number == mobile  # stored whole (encrypted)
    bank = client_for(world.bank[Role.COLLECTIONS_MANAGER]).post(
        f"/api/v1/cases/{case.pk}/contacts", body | {"at": f.in_hours(hour=11).isoformat()},
        content_type="application/json")
    assert bank.status_code == 201, bank.content
    assert bank.json()["number"] == mobile
    sent = client_for(world.manager_a).post(
        f"/api/v1/cases/{case.pk}/contacts", body | {"number": "13912345678", "at": f.in_hours(hour=12).isoformat()},
        content_type="application/json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["number"] == "13912345678"


def test_write_errors_have_stable_codes(world):
    c = client_for(world.collector_user_a1)
    assert_error(c.post(f"/api/v1/cases/{world.case_b.pk}/contacts", {"channel": "phone", "outcome": "no_answer"},
                        content_type="application/json"), 404, "case.not_found")
    assert_error(c.post(f"/api/v1/cases/{world.case_a1.pk}/contacts", {"channel": "fax", "outcome": "no_answer"},
                        content_type="application/json"), 400, "contact.invalid_channel")
    assert_error(c.post(f"/api/v1/cases/{world.case_a1.pk}/promises", {"amount_fen": -5, "due_on": "2030-01-01"},
                        content_type="application/json"), 422, "request.invalid")
    auditor = client_for(world.bank[Role.AUDITOR])
    assert_error(auditor.post(f"/api/v1/cases/{world.case_a1.pk}/contacts", {"channel": "phone", "outcome": "no_answer"},
                              content_type="application/json"), 403, "permission.denied")


def test_tasks_list_and_complete(world):
    c = client_for(world.collector_user_a1)
    c.post(f"/api/v1/cases/{world.case_a1.pk}/promises",
           {"amount_fen": 100, "due_on": f.today().isoformat()}, content_type="application/json")
    tasks = c.get("/api/v1/tasks").json()
    assert tasks["count"] == 1
    task_id = tasks["items"][0]["id"]
    other = client_for(world.collector_user_a2)
    assert other.get("/api/v1/tasks").json()["count"] == 0
    assert_error(other.post(f"/api/v1/tasks/{task_id}/complete", {}, content_type="application/json"), 404,
                 "task.not_found")
    done = c.post(f"/api/v1/tasks/{task_id}/complete", {"result": "已确认"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert Task.objects.get(pk=task_id).completed_by == world.collector_user_a1
    assert_error(c.post(f"/api/v1/tasks/{task_id}/complete", {}, content_type="application/json"), 409,
                 "task.not_open")
