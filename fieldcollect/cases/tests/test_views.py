from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from fieldcollect.cases.models import ContactAttempt, PromiseToPay, Task
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


def test_login_page_and_role_redirects(world):
    assert Client().get("/cases/").status_code == 302
    page = Client().get("/accounts/login/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    resp = Client().post("/accounts/login/", {"username": world.collector_user_a1.username, "password": "pw-test-123"})
    assert resp.status_code == 302 and resp["Location"] == "/cases/"
    resp = Client().post("/accounts/login/", {"username": world.bank[Role.AUDITOR].username, "password": "pw-test-123"})
    assert resp.status_code == 302 and resp["Location"] == "/accounts/2fa/setup/"  # bank roles: TOTP next


def test_case_list_scoped_per_role(world):
    body = logged_in(world.collector_user_a1).get("/cases/").content.decode()
    assert f'href="/cases/{world.case_a1.pk}/"' in body
    assert f'href="/cases/{world.case_a2.pk}/"' not in body and f'href="/cases/{world.case_b.pk}/"' not in body
    body = logged_in(world.bank[Role.RISK_ANALYST]).get(f"/cases/?agency={world.agency_b.pk}").content.decode()
    assert f'href="/cases/{world.case_b.pk}/"' in body and f'href="/cases/{world.case_a1.pk}/"' not in body


def test_case_list_more_rows_via_htmx(world):
    c = logged_in(world.bank[Role.COLLECTIONS_MANAGER])
    for i in range(55):
        f.make_case(dpd=10 + i)
    first = c.get("/cases/").content.decode()
    assert "after=" in first
    cursor = first.split("after=")[1].split('"')[0]
    more = c.get(f"/cases/?after={cursor}", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in more and more.count("<tr>") == 10


def test_detail_other_agency_is_404(world):
    c = logged_in(world.manager_a)
    assert c.get(f"/cases/{world.case_a1.pk}/").status_code == 200
    assert c.get(f"/cases/{world.case_b.pk}/").status_code == 404
    assert c.post(f"/cases/{world.case_b.pk}/contact", {"channel": "phone", "outcome": "no_answer",
                                                         "party": "debtor"}).status_code == 404


def test_collector_records_contact_and_promise_through_pages(world):
    c = logged_in(world.collector_user_a1)
    case = world.case_a1
    # a phone call at 10:00 (inside the contact hours whenever the test runs; a visit goes through the
    # visits module, which knows the team, the recording and the appointment)
    resp = c.post(f"/cases/{case.pk}/contact", {"channel": "phone", "party": "debtor", "outcome": "promise",
                                                 "conversation": "on", "notes": "答应月底还", "version": case.version,
                                                 "at": f"{f.today().isoformat()}T10:00"},
                  follow=True)
    assert resp.status_code == 200
    assert ContactAttempt.objects.get(case=case).notes == "答应月底还"
    due = (f.today() + timedelta(days=10)).isoformat()
    resp = c.post(f"/cases/{case.pk}/promise", {"amount": "1234.56", "due_on": due, "version": case.version + 1},
                  follow=True)
    assert PromiseToPay.objects.get(case=case).amount_fen == 123_456
    assert "1,234.56" in resp.content.decode()


def test_stale_form_shows_conflict_and_changes_nothing(world):
    c = logged_in(world.collector_user_a1)
    case = world.case_a1
    resp = c.post(f"/cases/{case.pk}/promise", {"amount": "10", "due_on": f.today().isoformat(),
                                                 "version": case.version - 1}, follow=True)
    assert resp.status_code == 200
    assert not PromiseToPay.objects.exists()
    assert 'class="error"' in resp.content.decode()


def test_agency_manager_assigns_and_auditor_cannot_write(world):
    case = world.case_a_unassigned
    logged_in(world.manager_a).post(f"/cases/{case.pk}/assign", {"collector": world.collector_a2.pk,
                                                                  "version": case.version})
    case.refresh_from_db()
    assert case.collector_id == world.collector_a2.pk
    resp = logged_in(world.bank[Role.AUDITOR]).post(f"/cases/{case.pk}/note", {"body": "x"})
    assert resp.status_code == 403


def test_tasks_page_and_complete(world):
    c = logged_in(world.collector_user_a1)
    c.post(f"/cases/{world.case_a1.pk}/task", {"kind": "visit", "title": "上门拜访", "due_on": f.today().isoformat()})
    task = Task.objects.get(title="上门拜访")
    assert "上门拜访" in c.get("/tasks/").content.decode()
    assert "上门拜访" not in logged_in(world.collector_user_a2).get("/tasks/").content.decode()
    resp = c.post(f"/tasks/{task.pk}/complete", {"result": "见到本人"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "见到本人" in resp.content.decode()
    task.refresh_from_db()
    assert task.status == "done"


def test_agency_pages(world):
    body = logged_in(world.bank[Role.COLLECTIONS_MANAGER]).get("/agencies/").content.decode()
    assert world.agency_a.name in body and world.agency_b.name in body
    assert logged_in(world.manager_a).get(f"/agencies/{world.agency_a.pk}/").status_code == 200
    assert logged_in(world.manager_a).get(f"/agencies/{world.agency_b.pk}/").status_code == 404
    assert logged_in(world.collector_user_a1).get("/agencies/").status_code == 404


def test_browser_language_does_not_override_the_default_but_api_follows_it(world):
    c = logged_in(world.collector_user_a1)
    body = c.get(f"/cases/{world.case_a1.pk}/", headers={"Accept-Language": "en-US,en"}).content.decode()
    assert "登记承诺还款" in body


def test_pages_in_chinese_by_default_and_switchable(world):
    c = logged_in(world.collector_user_a1)
    body = c.get(f"/cases/{world.case_a1.pk}/").content.decode()
    assert "登记承诺还款" in body and "Record a promise to pay" not in body
    c.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    body = c.get(f"/cases/{world.case_a1.pk}/").content.decode()
    assert "Record a promise to pay" in body and "登记承诺还款" not in body


def test_collections_manager_places_recalls_and_closes_through_pages(world):
    c = logged_in(world.bank[Role.COLLECTIONS_MANAGER])
    case = world.case_new
    body = c.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/place"' in body
    c.post(f"/cases/{case.pk}/place", {"agency": world.agency_b.pk, "version": case.version})
    case.refresh_from_db()
    assert case.agency_id == world.agency_b.pk and case.status == "placed"
    c.post(f"/cases/{case.pk}/recall", {"reason": "客户投诉", "version": case.version})
    case.refresh_from_db()
    assert case.agency_id is None and case.status == "recalled"
    c.post(f"/cases/{case.pk}/close", {"close_reason": "settled", "version": case.version})
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "settled"
    body = c.get(f"/cases/{case.pk}/").content.decode()
    assert "客户投诉" in body and f'action="/cases/{case.pk}/contact"' not in body


def test_agency_manager_filters_unassigned_and_by_collector(world):
    c = logged_in(world.manager_a)
    body = c.get("/cases/?collector=none").content.decode()
    assert f'href="/cases/{world.case_a_unassigned.pk}/"' in body and f'href="/cases/{world.case_a1.pk}/"' not in body
    body = c.get(f"/cases/?collector={world.collector_a2.pk}").content.decode()
    assert f'href="/cases/{world.case_a2.pk}/"' in body and f'href="/cases/{world.case_a1.pk}/"' not in body
