"""``core`` is split by what it is (issue 18): users' authentication in ``accounts`` (``User`` and
``Role`` stay in core, the ``AUTH_USER_MODEL``), the audit log in ``audit``, the outbox in ``outbox``,
demo set-up in ``demodata``; core keeps the shared infrastructure (page, parameter, PDF, cell,
bank-time and raw-SQL helpers)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.urls import resolve
from django.utils.module_loading import import_string

from fieldcollect.accounts import login_security, views

PACKAGE = Path(__file__).resolve().parents[2]
CORE = PACKAGE / "core"
ACCOUNTS = {"cli.py", "login_security.py", "services.py", "tokens.py", "totp.py", "views.py", "errors.py"}
AUDIT = {"chain.py", "cli.py", "models.py", "services.py", "verify.py"}


def test_authentication_audit_and_outbox_have_their_own_apps() -> None:
    assert {p.name for p in (PACKAGE / "accounts").glob("*.py")} >= ACCOUNTS
    assert {p.name for p in (PACKAGE / "audit").glob("*.py")} >= AUDIT
    assert (PACKAGE / "outbox" / "services.py").exists()
    assert not (CORE / "auth").exists() and not (PACKAGE / "visits" / "outbox.py").exists()
    assert not {"audit.py", "audit_chain.py", "audit_cli.py", "admin_base.py", "admin.py", "demo_setup.py"} & {
        p.name for p in CORE.glob("*.py")}


def test_core_models_are_the_user_only() -> None:
    assert [m.__name__ for m in apps.get_app_config("core").get_models()] == ["User"]
    assert {m.__name__ for m in apps.get_app_config("accounts").get_models()} == {
        "ApiToken", "AgencyApiNetworks", "TotpDevice", "LoginFailure"}
    assert {m.__name__ for m in apps.get_app_config("audit").get_models()} == {"AuditEntry", "AuditChainHead"}
    assert [m.__name__ for m in apps.get_app_config("outbox").get_models()] == ["OutboxMessage"]


def test_authentication_backend_and_views_resolve(settings) -> None:
    assert [import_string(b) for b in settings.AUTHENTICATION_BACKENDS] == [login_security.ThrottledModelBackend]
    assert resolve("/accounts/2fa/").func is views.totp_verify
