"""POST /api/v1/results/import: the agency manager's upload, the answer's shape, refusals."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fieldcollect.accounts.tokens import token_create
from fieldcollect.cases import services
from fieldcollect.cases.models import ContactAttempt
from fieldcollect.cases.results_import import COLUMNS
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/results/import"


def client_for(user) -> Client:
    _, secret = token_create(user=user)
    return Client(headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def setup(db):
    agency, other = f.make_agency(), f.make_agency()
    f.make_contract(agency=agency)
    cm = f.make_user(role=Role.COLLECTIONS_MANAGER)
    case = f.make_case()
    services.case_place(case=case, agency=agency, acting_user=cm, starts_on=f.today() - timedelta(days=3))
    f.notice_sent(case, agency=agency)  # the debtor was told long before (notice before outsourcing)
    when = datetime.combine(
        f.today() - timedelta(days=1), time(10), tzinfo=ZoneInfo("Asia/Shanghai")
    ).isoformat()
    body = (
        ",".join(COLUMNS)
        + "\r\n"
        + "\r\n".join(
            [
                f"A1,{case.pk},,{when},phone,debtor,no_answer,0,0,,,",
                f"A2,{case.pk + 1000},,{when},phone,debtor,no_answer,0,0,,,",
            ]
        )
        + "\r\n"
    )
    return {"agency": agency, "other": other, "case": case, "cm": cm, "data": body.encode("gbk")}


def upload(client: Client, data: bytes, name: str = "r.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_manager_imports_and_gets_the_answer(setup):
    manager = f.make_user(role=Role.AGENCY_MANAGER, agency=setup["agency"])
    resp = upload(client_for(manager), setup["data"])
    assert resp.status_code == 200, resp.content
    assert resp.json() == {
        "rows": 2,
        "applied": 1,
        "duplicates": 0,
        "breaches": 0,
        "rejected": [{"row": 3, "column": "case_id", "reason": "unknown_case"}],
    }
    again = upload(client_for(manager), setup["data"]).json()
    assert (again["applied"], again["duplicates"]) == (0, 1)


def test_other_roles_and_other_agencies_cannot_import(setup):
    other_manager = f.make_user(role=Role.AGENCY_MANAGER, agency=setup["other"])
    resp = upload(client_for(other_manager), setup["data"]).json()
    # another agency's manager imports for their own agency: a case it never held is "unknown" (the
    # answer does not reveal that the case exists)
    assert resp["applied"] == 0 and resp["rejected"][0]["reason"] == "unknown_case"
    for user in (setup["cm"], f.make_collector_user(agency=setup["agency"])[0]):
        r = upload(client_for(user), setup["data"])
        assert r.status_code == 403 and r.json()["error"]["code"] == "permission.denied"
    assert not ContactAttempt.objects.exists()


def test_bad_file_is_a_clear_400(setup):
    manager = f.make_user(role=Role.AGENCY_MANAGER, agency=setup["agency"])
    resp = upload(client_for(manager), b"case_id,at\r\n1,x\r\n")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "results.columns"
    assert "missing" in resp.json()["error"]["extra"]


def test_route_in_openapi(db):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/results/import" in paths
