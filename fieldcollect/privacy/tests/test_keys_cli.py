"""`fieldcollect keys init|status|rotate` through the command line (in-process)."""

from __future__ import annotations

import pytest
from django.db import connection
from typer.testing import CliRunner

from fieldcollect.cli import app
from fieldcollect.portfolio.models import Customer
from fieldcollect.privacy import crypto
from fieldcollect.privacy.fields import count_by_key, current_keyring
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_keys_init_status_rotate(fc_home, monkeypatch) -> None:
    monkeypatch.delenv(crypto.MASTER_ENV, raising=False)
    monkeypatch.setattr(crypto, "RELOAD_SECONDS", 0.0)
    runner = CliRunner()
    out = runner.invoke(app, ["keys", "init"])
    assert out.exit_code == 0, out.output
    assert (fc_home / "keys" / "master.key").exists() and "master key: " in out.output
    cases = [f.make_case() for _ in range(5)]
    old = current_keyring().primary_id
    legacy = current_keyring().encrypt(cases[1].customer.mobile, None)  # unbound, as before the row binding
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portfolio_customer SET mobile = %s WHERE customer_id = %s", [legacy, cases[1].customer_id])
    out = runner.invoke(app, ["keys", "status"])
    assert out.exit_code == 0, out.output
    assert old in out.output and "primary" in out.output
    assert "values not bound to their row (fc1 or clear): 1\n" in out.output
    out = runner.invoke(app, ["keys", "rotate", "--batch-size", "2"])
    assert out.exit_code == 0, out.output
    new = current_keyring().primary_id
    assert new != old and f"retired {old}" in out.output
    assert set(count_by_key(Customer)) == {new}
    assert Customer.objects.get(pk=cases[0].customer_id).mobile == cases[0].customer.mobile
    assert Customer.objects.get(pk=cases[1].customer_id).mobile == cases[1].customer.mobile  # bound now
    out = runner.invoke(app, ["keys", "status"])
    assert "retired" in out.output
    assert "values not bound to their row (fc1 or clear): 0\n" in out.output
