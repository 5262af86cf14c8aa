"""A NUL byte never reaches the database (PostgreSQL text cannot hold one: the query failed with a 500,
found by the API fuzz test on PostgreSQL): refused at the door, in the API's error shape or as a 400
page; the same requests without it still work."""

from __future__ import annotations

import json

from fieldcollect.api.tests.test_api import client_for
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in


def test_api_refuses_a_nul_byte_in_the_query_or_the_json_body(world):
    c = client_for(world.manager_a)
    for query in ("bucket=a%00b", "status=%00", "city=x%00", "cursor=%00"):
        resp = c.get(f"/api/v1/cases?{query}")
        assert resp.status_code == 422, (query, resp.content)
        assert resp.json()["error"]["code"] == "request.invalid"
    resp = c.get("/api/v1/tasks?status=open%00")
    assert resp.status_code == 422
    resp = c.post(f"/api/v1/cases/{world.case_a1.pk}/contact-check", data=json.dumps({"channel": "phone\u0000"}),
                  content_type="application/json")
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "request.invalid"
    # hard negatives: the same requests without the byte
    assert c.get("/api/v1/cases?bucket=M1&city=%E4%B8%8A%E6%B5%B7").status_code == 200
    assert c.get("/api/v1/tasks?status=open").status_code == 200


def test_pages_refuse_a_nul_byte_in_the_query_or_a_form(db):
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    c = logged_in(manager)
    assert c.get("/cases/?city=a%00b").status_code == 400
    assert c.post("/ops/jobs/start/", {"kind": "export", "purpose": "audit\x00trail"}).status_code == 400
    assert c.get("/cases/?city=abc").status_code == 200
