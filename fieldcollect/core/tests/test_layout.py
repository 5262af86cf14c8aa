"""``core`` is split by what it is: users and authentication in ``core/auth``; demo set-up in
``demodata``; the page, PDF and bank-time helpers as shared infrastructure."""

from __future__ import annotations

from pathlib import Path

from django.urls import resolve
from django.utils.module_loading import import_string

from fieldcollect.core.auth import login_security, views

CORE = Path(__file__).resolve().parents[1]
AUTH = {"cli.py", "login_security.py", "services.py", "tokens.py", "totp.py", "views.py"}


def test_authentication_modules_are_grouped() -> None:
    assert {p.name for p in (CORE / "auth").glob("*.py")} >= AUTH
    assert not AUTH & {p.name for p in CORE.glob("*.py")}
    assert not (CORE / "demo_setup.py").exists()


def test_authentication_backend_and_views_resolve(settings) -> None:
    assert [import_string(b) for b in settings.AUTHENTICATION_BACKENDS] == [login_security.ThrottledModelBackend]
    assert resolve("/accounts/2fa/").func is views.totp_verify
