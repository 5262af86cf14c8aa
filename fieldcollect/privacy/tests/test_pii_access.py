"""Who sees customer data in clear, on the case pages and in the API.

Bank roles: masked by default; unmasking needs a stated purpose, is audited ("pii.unmask" with the
purpose and fields) and holds for that response only. Agency users: masked, except the collector of a
confirmed visit appointment to the customer from one day before to one day after it. Agencies receive
only the fields their contract permits (case list rows included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fieldcollect.accounts.tokens import token_create
from fieldcollect.agencies.models import AgencyContract
from fieldcollect.agencies.selectors import DEFAULT_PERMITTED_FIELDS
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.cases.tests import conftest as cases_conftest
from fieldcollect.core.models import Role
from fieldcollect.privacy.masking import mask_mobile, mask_name
from fieldcollect.testing.clients import logged_in
from fieldcollect.visits.models import Appointment

pytestmark = pytest.mark.django_db
world = cases_conftest.world  # the case-management fixtures: two agencies, their users and cases


def page(user, case_id: int) -> str:
    resp = logged_in(user).get(f"/cases/{case_id}/")
    assert resp.status_code == 200
    return resp.content.decode()


def api(user, path: str):
    _, secret = token_create(user=user)
    resp = Client(headers={"Authorization": f"Bearer {secret}"}).get(f"/api/v1{path}")
    assert resp.status_code == 200, resp.content
    return resp.json()


def appointment(case, collector, *, starts_in: timedelta, status=Appointment.Status.CONFIRMED) -> Appointment:
    start = timezone.now() + starts_in
    return Appointment.objects.create(case=case, collector=collector, windows=[], chosen_start=start,
                                      chosen_end=start + timedelta(hours=1), status=status,
                                      expires_at=start + timedelta(days=2))


def test_bank_user_sees_masked_data_by_default(world) -> None:
    customer = world.case_a1.customer
    html = page(world.bank[Role.COLLECTIONS_MANAGER], world.case_a1.pk)
    assert mask_mobile(customer.mobile) in html and mask_name(customer.name) in html
    for plain in (customer.mobile, customer.id_number, customer.address, customer.name):
        assert plain not in html
    assert 'id="unmask-form"' in html
    body = api(world.bank[Role.AUDITOR], f"/cases/{world.case_a1.pk}")
    assert body["customer"]["mobile"] == mask_mobile(customer.mobile)
    assert customer.id_number not in str(body)


def test_bank_unmask_with_purpose_is_audited_and_for_that_response_only(world) -> None:
    user = world.bank[Role.COMPLIANCE_OFFICER]
    customer = world.case_a1.customer
    c = logged_in(user)
    resp = c.post(f"/cases/{world.case_a1.pk}/unmask",
                  {"show": ["mobile", "id_number"], "purpose": "Complaint 2026-113: verify the caller's number"})
    html = resp.content.decode()
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    assert customer.mobile in html and customer.id_number in html
    assert customer.address not in html and customer.name not in html  # not asked for
    entry = AuditEntry.objects.filter(action="pii.unmask").get()
    assert entry.actor == user and entry.object_id == str(customer.pk)
    assert entry.new == {"case_id": world.case_a1.pk, "purpose": "Complaint 2026-113: verify the caller's number",
                         "fields": ["id_number", "mobile"]}
    again = c.get(f"/cases/{world.case_a1.pk}/").content.decode()
    assert customer.mobile not in again and mask_mobile(customer.mobile) in again


def test_unmask_without_purpose_or_by_agency_shows_nothing(world) -> None:
    customer = world.case_a1.customer
    c = logged_in(world.bank[Role.COLLECTIONS_MANAGER])
    resp = c.post(f"/cases/{world.case_a1.pk}/unmask", {"show": ["mobile"], "purpose": "look"})
    assert resp.status_code == 302 and customer.mobile not in resp.content.decode()
    c = logged_in(world.manager_a)
    resp = c.post(f"/cases/{world.case_a1.pk}/unmask",
                  {"show": ["mobile"], "purpose": "we need to call the customer"})
    assert resp.status_code == 403 and customer.mobile not in resp.content.decode()
    c.force_login(world.manager_b)  # another agency's case: not found
    resp = c.post(f"/cases/{world.case_a1.pk}/unmask",
                  {"show": ["mobile"], "purpose": "we need to call the customer"})
    assert resp.status_code == 404
    assert not AuditEntry.objects.filter(action="pii.unmask").exists()


def test_collector_sees_clear_data_only_around_a_confirmed_visit(world) -> None:
    case, customer = world.case_a1, world.case_a1.customer
    user = world.collector_user_a1
    html = page(user, case.pk)
    assert customer.mobile not in html and customer.address not in html

    appointment(case, world.collector_a1, starts_in=timedelta(days=3))  # too far ahead
    appointment(case, world.collector_a1, starts_in=timedelta(hours=5), status=Appointment.Status.PROPOSED)
    appointment(case, world.collector_a2, starts_in=timedelta(hours=5))  # someone else's visit
    html = page(user, case.pk)
    assert customer.mobile not in html and customer.address not in html
    assert not AuditEntry.objects.filter(action="pii.unmask").exists()

    appointment(case, world.collector_a1, starts_in=timedelta(hours=20))  # within a day before
    html = page(user, case.pk)
    assert customer.mobile in html and customer.address in html and customer.name in html
    assert customer.id_number not in html
    assert 'id="pii-visit"' in html
    entry = AuditEntry.objects.filter(action="pii.unmask").get()
    assert entry.new is not None
    assert entry.new["purpose"] == "visit" and entry.new["fields"] == ["address", "mobile", "name"]
    body = api(user, f"/cases/{case.pk}")
    assert body["customer"]["mobile"] == customer.mobile
    # the agency manager of the same agency still sees masked data
    html = page(world.manager_a, case.pk)
    assert customer.mobile not in html


def test_visit_window_ends_a_day_after_the_appointment(world) -> None:
    case, customer = world.case_a1, world.case_a1.customer
    appointment(case, world.collector_a1, starts_in=-timedelta(hours=23))  # ended 22 hours ago
    assert customer.mobile in page(world.collector_user_a1, case.pk)
    Appointment.objects.all().delete()
    appointment(case, world.collector_a1, starts_in=-timedelta(hours=26))  # ended 25 hours ago
    assert customer.mobile not in page(world.collector_user_a1, case.pk)


def test_contract_fields_limit_pages_and_api(world) -> None:
    contract = AgencyContract.objects.get(agency=world.agency_a)
    contract.permitted_fields = ["city", "district"]
    contract.save()
    case, customer = world.case_a1, world.case_a1.customer
    ContactAttempt.objects.create(case=case, agency=world.agency_a, collector=world.collector_a1, channel="phone",
                                  number=customer.mobile, at=timezone.now(), outcome="no_answer")

    c = logged_in(world.manager_a)
    listing = c.get("/cases/").content.decode()
    assert f"/cases/{case.pk}/" in listing
    assert mask_name(customer.name) not in listing and customer.name not in listing
    assert f'<td class="num">{case.dpd}</td>' not in listing
    detail = page(world.manager_a, case.pk)
    assert mask_mobile(customer.mobile) not in detail and mask_name(customer.name) not in detail
    assert customer.district in detail

    rows = api(world.manager_a, "/cases")["items"]
    row = next(r for r in rows if r["id"] == case.pk)
    assert row["dpd"] is None and row["overdue_fen"] is None and row["bucket"] is None
    body = api(world.manager_a, f"/cases/{case.pk}")
    assert set(body["customer"]) == {"province", "city", "district"}
    assert body["dpd"] is None and body["outstanding_principal_fen"] is None
    assert [x["number"] for x in body["contacts"]] == [mask_mobile(customer.mobile)]

    # the other agency (default contract fields) still sees masked names and the amounts
    AgencyContract.objects.filter(agency=world.agency_b).update(permitted_fields=list(DEFAULT_PERMITTED_FIELDS))
    other = world.case_b
    listing_b = logged_in(world.manager_b)
    html_b = listing_b.get("/cases/").content.decode()
    assert mask_name(other.customer.name) in html_b and other.customer.name not in html_b
    assert next(r for r in api(world.manager_b, "/cases")["items"] if r["id"] == other.pk)["dpd"] == other.dpd


def test_bank_list_shows_masked_names(world) -> None:
    c = logged_in(world.bank[Role.RISK_ANALYST])
    html = c.get("/cases/").content.decode()
    assert mask_name(world.case_a1.customer.name) in html and world.case_a1.customer.name not in html


def test_case_page_renders_a_store_schedule(world) -> None:
    """Regression: the schedule rows from the columnar store have ``seq`` and no ``n``."""
    from fieldcollect.cases.selectors import set_loan_history_reader

    set_loan_history_reader(lambda loan_id: {"installments": [
        {"seq": 7, "due_on": timezone.localdate(), "amount_due_fen": 100, "amount_paid_fen": 0}], "payments": []})
    try:
        html = page(world.bank[Role.AUDITOR], world.case_a1.pk)
        assert "<td>7</td>" in html
    finally:
        set_loan_history_reader(None)


def test_api_case_list_reads_no_customer_rows(world) -> None:
    """The API list has no customer column: masking must not cost a query (or a decryption) per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, secret = token_create(user=world.bank[Role.RISK_ANALYST])
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/api/v1/cases?limit=50")
    assert resp.status_code == 200 and len(resp.json()["items"]) == 5
    assert not any("portfolio_customer" in q["sql"] for q in ctx.captured_queries)
