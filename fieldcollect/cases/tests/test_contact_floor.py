"""``bench/contact_floor_app.py``, the load benchmark's floor (the contact's SQL with no framework),
still speaks the product's schema: on a real database it records a contact, moves the case's version
and appends an audit row, and answers 404 to a token or case it cannot use."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.db import connection

from fieldcollect.accounts.tokens import token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import Case, ContactAttempt

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the floor speaks PostgreSQL (psycopg)"),
]

APP = Path(__file__).resolve().parents[3] / "bench" / "contact_floor_app.py"


@pytest.fixture
def floor(monkeypatch: pytest.MonkeyPatch) -> Any:
    db = connection.settings_dict
    monkeypatch.setenv("FC_FLOOR_DATABASE_URL", f"host={db['HOST'] or 'localhost'} port={db['PORT'] or 5432} "
                                                f"dbname={db['NAME']} user={db['USER'] or 'postgres'}")
    spec = importlib.util.spec_from_file_location("contact_floor_app", APP)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    if module._conn is not None:
        module._conn.close()


def _post(app: Any, path: str, token: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    raw = json.dumps(body).encode()
    seen: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "CONTENT_LENGTH": str(len(raw)),
               "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.input": io.BytesIO(raw)}
    out = b"".join(app(environ, lambda status, headers: seen.append(status)))
    return seen[0], json.loads(out)


def test_floor_records_a_contact_with_its_audit_row(world: Any, floor: Any) -> None:
    case = world.case_a1
    version = Case.objects.get(pk=case.pk).version
    _, secret = token_create(user=world.manager_a)
    body = {"channel": "phone", "outcome": "no_answer", "party": "debtor", "at": "2026-01-05T02:00:00+00:00",
            "notes": "floor"}
    status, doc = _post(floor.app, f"/api/v1/cases/{case.pk}/contacts", secret, body)
    assert status.startswith("201"), doc
    contact = ContactAttempt.objects.get(pk=doc["id"])
    assert (contact.case_id, contact.channel, contact.outcome) == (case.pk, "phone", "no_answer")
    assert Case.objects.get(pk=case.pk).version == version + 1
    assert AuditEntry.objects.filter(action="case.contact", object_type="case", object_id=str(case.pk)).count() == 1

    # another agency's case, or a token that is not one: nothing recorded
    status, _ = _post(floor.app, f"/api/v1/cases/{world.case_b.pk}/contacts", secret, body)
    assert status.startswith("404")
    status, _ = _post(floor.app, f"/api/v1/cases/{case.pk}/contacts", "fc_not-a-token", body)
    assert status.startswith("404")
    assert ContactAttempt.objects.count() == 1
