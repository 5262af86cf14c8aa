"""Schemathesis over the API's OpenAPI spec (/api/v1/openapi.json) with each role's token: no 5xx,
responses valid for the spec's status codes, no customer data of another agency (or collector), and
no write on another's object. Each operation gets a few generated examples, each sent by every role
as generated and with the path ids replaced by the own, the peer collector's and the other agency's
objects (the same world as the isolation test)."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.privacy.tests import test_isolation as iso

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("FC_FUZZ_EXAMPLES", "6"))  # more for a deeper run by hand
world = iso.world  # the fixture, shared


@pytest.fixture
def keep_test_connection():
    """Schemathesis calls the WSGI app directly: keep Django from closing the test transaction's database
    connection at the end of each request (what Django's own test client does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def test_spec_is_served_and_lists_the_case_operations():
    from django.test import Client

    spec = json.loads(Client().get("/api/v1/openapi.json").content)
    paths = set(spec["paths"])
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/payments"} <= paths
    # the payments route is signed by its channel (HMAC), not by a bearer token: its headers are documented
    payments = spec["paths"]["/api/v1/payments"]["post"]
    assert {p["name"] for p in payments["parameters"]} >= {"X-FC-Channel", "X-FC-Timestamp", "X-FC-Signature"}


def test_api_fuzz_each_role_no_5xx_no_cross_agency_data(world, keep_test_connection):
    schema = _schema()
    tokens = {actor.key: token_create(user=world.users[actor.key], name="fuzz")[1] for actor in iso.ACTORS}
    failures: list[str] = []
    calls = 0
    foreign_calls: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    def fuzz(op):
        id_params = [p for p in (op.path_parameters or []) if p.name in iso.OBJECT_RULES]

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case):
            nonlocal calls
            for actor in iso.ACTORS:
                forbidden = [m for s in actor.others for m in world.sides[s].markers]
                variants = [("generated", case)]
                for side in ([actor.own, *actor.others] if actor.own else ["b"]) if id_params else []:
                    variant = op.Case(
                        method=case.method, headers=dict(case.headers or {}), cookies=case.cookies,
                        query=case.query, body=case.body, media_type=case.media_type,
                        path_parameters=dict(case.path_parameters or {}) | {
                            p.name: world.sides[side].objects[iso.OBJECT_RULES[p.name]].pk for p in id_params})
                    variants.append((side, variant))
                for label, variant in variants:
                    calls += 1
                    mark = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
                    resp = variant.call(headers={"Authorization": f"Bearer {tokens[actor.key]}"})
                    where = f"{actor.key} {op.method.upper()} {op.path} [{label}] {variant.path_parameters} {variant.query} -> " \
                            f"{resp.status_code}"
                    if resp.status_code >= 500:
                        failures.append(f"{where}: server error")
                        continue
                    leaked = [m for m in forbidden if m in resp.text]
                    if leaked:
                        failures.append(f"{where}: contains {leaked}")
                    if label in actor.others:
                        foreign_calls[op.path] = foreign_calls.get(op.path, 0) + 1
                        writes = list(AuditEntry.objects.filter(id__gt=mark).exclude(
                            action__regex=r"^(login|logout|auth|token)").values_list("action", flat=True))
                        if writes:
                            failures.append(f"{where}: wrote {writes} on another's object")

        run()

    for op in operations:
        fuzz(op)
    assert calls >= len(operations) * MAX_EXAMPLES
    with_ids = {op.path for op in operations if any(p.name in iso.OBJECT_RULES for p in (op.path_parameters or []))}
    assert with_ids and with_ids <= set(foreign_calls), (with_ids, foreign_calls)  # others' ids were tried
    assert not failures, f"{len(failures)} API failures:\n" + "\n".join(failures[:60])


def test_api_answers_hostile_query_and_path_values_without_a_server_error(world):
    """The hostile values of the page fuzz test (test_page_fuzz.HOSTILE: Infinity, NaN, 1e309, 20- and
    400-digit integers, Unicode digits, empty, 10,000 characters, NUL, impossible dates, another agency's ids)
    in every query and path parameter of every GET operation, alone, with each role's token: 4xx, never 5xx."""
    from django.test import Client

    from fieldcollect.privacy.tests.test_page_fuzz import HOSTILE, _other_ids

    spec = json.loads(Client().get("/api/v1/openapi.json").content)
    values = [*HOSTILE, *_other_ids(world)]
    own = {name: str(obj.pk) for name, kind in iso.OBJECT_RULES.items()
           if (obj := world.sides["a1"].objects.get(kind)) is not None}
    failures: list[str] = []
    calls = 0
    for actor in iso.ACTORS:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=world.users[actor.key], name='hostile')[1]}")
        for path, ops in spec["paths"].items():
            op = ops.get("get")
            if op is None:
                continue
            params = op.get("parameters", [])
            path_values = {p["name"]: own.get(p["name"], "1") for p in params if p["in"] == "path"}
            for p in params:
                for value in values:
                    pv = path_values | ({p["name"]: value} if p["in"] == "path" else {})
                    url = path.format(**{k: quote(v, safe="") for k, v in pv.items()})
                    query = {p["name"]: value} if p["in"] == "query" else {}
                    calls += 1
                    resp = client.get(url, query)
                    if resp.status_code >= 500:
                        failures.append(f"{actor.key} GET {url[:80]} {str(query)[:80]} -> {resp.status_code}")
    assert calls > 200
    assert not failures, f"{len(failures)} API server errors:\n" + "\n".join(failures[:60])
