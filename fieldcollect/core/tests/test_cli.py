from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fieldcollect.accounts.tokens import token_authenticate
from fieldcollect.cli import app
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_users_list_json_and_token_create():
    agency = f.make_agency()
    f.make_user(role=Role.AGENCY_MANAGER, agency=agency, username="mgr")
    f.make_user(role=Role.AUDITOR, username="aud")
    runner = CliRunner()
    out = runner.invoke(app, ["users", "list", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {"username": "mgr", "role": "agency_manager", "agency_id": agency.pk} in [
        {k: r[k] for k in ("username", "role", "agency_id")} for r in rows
    ]
    out = runner.invoke(app, ["token", "create", "--username", "aud"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    user = token_authenticate(lines[0])
    assert user is not None and user.username == "aud"
    assert runner.invoke(app, ["token", "create", "--username", "ghost"]).exit_code == 1
