"""The legal pages and API routes: who may see and do what, the forms, the dashboard's chart, the
audited clear read and the vendor import's report; another agency's objects are 404."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services as cs
from fieldcollect.cases.models import Placement
from fieldcollect.core.models import Role
from fieldcollect.legal import services
from fieldcollect.legal.models import AltContact, LegalReferral, Letter
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    a, b = f.make_agency(), f.make_agency()
    f.make_contract(agency=a)
    f.make_contract(agency=b)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    am = f.make_user(role=Role.AGENCY_MANAGER, agency=a)
    bm = f.make_user(role=Role.AGENCY_MANAGER, agency=b)
    case = f.make_case(bucket="M2", overdue_fen=500_000)
    cs.case_place(case=case, agency=a, acting_user=manager)
    other = f.make_case(bucket="M2")
    cs.case_place(case=other, agency=b, acting_user=manager)
    return {"manager": manager, "am": am, "bm": bm, "case": case, "other": other}


def test_pages_for_the_bank(w):
    c = logged_in(w["manager"], language="en")
    case = w["case"]
    page = c.get(f"/cases/{case.pk}/legal/").content.decode()
    assert 'id="refer-form"' in page and 'id="letter-form"' in page and 'id="contact-form"' in page
    r = c.post(
        f"/cases/{case.pk}/legal/",
        {
            "action": "contact",
            "kind": "phone",
            "value": "13912340000",
            "party": "debtor",
            "source": "customer",
            "consent": "given",
        },
    )
    assert r.status_code == 302
    contact = AltContact.objects.get(case=case)
    page = c.get(f"/cases/{case.pk}/legal/").content.decode()
    assert "139****0000" in page and "13912340000" not in page
    r = c.post(f"/legal/contacts/{contact.pk}/reveal", {"purpose": "verify the number before a call"})
    assert r.status_code == 200 and "13912340000" in r.content.decode()
    assert AuditEntry.objects.filter(action="pii.unmask", new__alt_contact=contact.pk).exists()
    r = c.post(
        f"/cases/{case.pk}/legal/",
        {"action": "refer", "kind": "litigation", "forum": "浦东法院", "claim": "5000.00"},
    )
    assert r.status_code == 302
    referral = LegalReferral.objects.get(case=case)
    assert referral.claim_fen == 500_000 and Placement.objects.get(case=case).status == "recalled"
    r = c.post(
        f"/legal/referrals/{referral.pk}/", {"action": "cost", "kind": "court_fee", "amount": "123.45"}
    )
    assert r.status_code == 302 and referral.costs.get().amount_fen == 12_345
    page = c.get("/legal/").content.decode()
    assert 'data-chart="chart-legal"' in page and "123.45" in page
    assert json.loads(page.split('data-chart="chart-legal">')[1].split("</script>")[0])["data"]
    # bad input is a message or a 400, never a 500
    assert c.post(
        f"/legal/referrals/{referral.pk}/", {"action": "cost", "kind": "court_fee", "amount": "-1"}
    ).status_code in (302, 400)
    assert (
        c.post(f"/cases/{case.pk}/legal/", {"action": "refer", "kind": "duel", "forum": "x"}).status_code
        == 302
    )


def test_pages_for_agencies(w):
    a = logged_in(w["am"], language="en")
    case = w["case"]
    assert a.get("/legal/").status_code == 403
    page = a.get(f"/cases/{case.pk}/legal/").content.decode()
    assert 'id="refer-form"' not in page and 'id="letter-form"' in page
    contact = services.alt_contact_add(
        case=w["other"], kind="phone", value="13700007777", source="customer", acting_user=w["manager"]
    )
    assert a.get(f"/cases/{w['other'].pk}/legal/").status_code == 404
    assert a.post(f"/legal/contacts/{contact.pk}/reveal", {"purpose": "x" * 20}).status_code == 404
    assert a.post(f"/legal/contacts/{contact.pk}/verify", {"verification": "verified"}).status_code == 404
    own = services.alt_contact_add(
        case=case, kind="phone", value="13700008888", source="customer", acting_user=w["manager"]
    )
    assert a.post(f"/legal/contacts/{own.pk}/reveal", {"purpose": "x" * 20}).status_code == 403  # bank only
    assert a.get("/legal/repair/").status_code == 200
    assert a.get("/legal/vendor-import/").status_code == 403


def test_vendor_import_page_names_file_row_field_reason(w):
    c = logged_in(w["manager"], language="en")
    loan = w["case"].loan.loan_id
    body = (
        f"loan_id,kind,value,party,label,consent,lawful_basis\n{loan},phone,1,debtor,,unknown,授权\n".encode()
    )
    page = c.post("/legal/vendor-import/", {"file": SimpleUploadedFile("bad.csv", body)}).content.decode()
    assert "bad.csv" in page and "Not a phone number." in page and "<td>2</td>" in page


def test_api_routes(w):
    case = w["case"]
    _t, token = token_create(user=w["manager"], name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = api.post(
        f"/api/v1/cases/{case.pk}/alt-contacts",
        {"kind": "phone", "value": "13611110000", "source": "vendor"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["value"] == "136****0000"
    r = api.post(
        f"/api/v1/cases/{case.pk}/alt-contacts",
        {"kind": "phone", "value": "13611110000", "source": "vendor"},
        content_type="application/json",
    )
    assert r.status_code == 409
    night = timezone.localtime(f.in_hours(23)).isoformat()
    r = api.post(
        f"/api/v1/cases/{case.pk}/letters", {"kind": "demand", "at": night}, content_type="application/json"
    )
    assert r.status_code == 422 and "CN-HOURS" in r.json()["error"]["extra"]["rule_ids"]
    r = api.post(
        f"/api/v1/cases/{case.pk}/letters",
        {"kind": "demand", "at": f.in_hours(10).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    letter_id = r.json()["id"]
    r = api.post(
        f"/api/v1/cases/{case.pk}/letters/{letter_id}/delivery",
        {"status": "delivered"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    assert api.get(f"/api/v1/cases/{case.pk}/letters").json()[0]["id"] == letter_id
    r = api.post(
        f"/api/v1/cases/{case.pk}/legal-referrals",
        {"kind": "arbitration", "forum": "上海仲裁委员会", "claim_fen": 500_000},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["recalled_placement_id"]
    assert api.get(f"/api/v1/cases/{case.pk}/legal-referrals").json()[0]["kind"] == "arbitration"
    # another agency: 404 on the case, whatever the route
    _t, btoken = token_create(user=w["bm"], name="b")
    b = Client(HTTP_AUTHORIZATION=f"Bearer {btoken}")
    assert b.get(f"/api/v1/cases/{case.pk}/letters").status_code == 404
    assert (
        b.post(
            f"/api/v1/cases/{case.pk}/letters/{letter_id}/delivery",
            {"status": "returned", "reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert Letter.objects.get(pk=letter_id).status == "delivered"
    # an agency may not read referrals
    _t, atoken = token_create(user=w["am"], name="a")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {atoken}")
    assert (
        other.get(f"/api/v1/cases/{w['case'].pk}/legal-referrals").status_code == 404
    )  # recalled: not its case
