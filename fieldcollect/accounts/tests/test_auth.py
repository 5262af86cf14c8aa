"""Authentication: login audit, throttling and lock-out, TOTP for bank roles, admin login through the
app, security headers and cookies, API token IP allow-lists, audited role changes."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from fieldcollect.accounts.models import LoginFailure, TotpDevice
from fieldcollect.accounts.services import user_set_role
from fieldcollect.accounts.tokens import agency_networks_set, token_authenticate, token_create
from fieldcollect.audit.models import AuditEntry
from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.clients import logged_in

pytestmark = pytest.mark.django_db
PW = "pw-test-123"


def _login(client: Client, username: str, password: str = PW, ip: str = "198.51.100.7"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _actions(**kw) -> list[str]:
    return list(AuditEntry.objects.filter(**kw).order_by("id").values_list("action", flat=True))


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_login_success_failure_and_logout_are_audited():
    agency = f.make_agency()
    user = f.make_user(role=Role.AGENCY_MANAGER, agency=agency, username="mgr1")
    c = Client()
    assert _login(c, "mgr1", "wrong").status_code == 200
    resp = _login(c, "mgr1")
    assert resp.status_code == 302 and resp["Location"] == "/cases/"
    c.post("/accounts/logout/")
    assert _actions(object_type="user", object_id__in=["mgr1", str(user.pk)]) == [
        "login.failed", "login.success", "logout"]
    failed = AuditEntry.objects.get(action="login.failed")
    assert failed.new == {"username": "mgr1", "ip": "198.51.100.7"} and "wrong" not in str(failed.new)
    assert AuditEntry.objects.get(action="login.success").actor_id == user.pk


def test_lockout_per_username_refuses_even_the_right_password(settings):
    settings.FIELDCOLLECT_LOGIN_MAX_FAILURES = 5
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="col1")
    c = Client()
    for i in range(5):
        _login(c, "col1", f"guess{i}")
    resp = _login(c, "col1")  # right password, but locked
    assert resp.status_code == 200 and not _logged_in(c)
    assert "15" in resp.content.decode() and 'id="login-error"' in resp.content.decode()
    assert _actions(action__startswith="login.") == ["login.failed"] * 5 + ["login.locked"]
    assert LoginFailure.objects.count() == 5  # blocked attempts are not counted again
    # another address is locked out for this username too; another username from here is not
    assert not _logged_in(Client()) and _login(Client(), "col1", ip="192.0.2.9").status_code == 200
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="col2")
    assert _login(Client(), "col2").status_code == 302
    # 15 minutes after the last failure the lock ends; a success clears the failures
    LoginFailure.objects.update(at=timezone.now() - timedelta(minutes=16))
    c2 = Client()
    assert _login(c2, "col1").status_code == 302 and _logged_in(c2)
    assert not LoginFailure.objects.filter(username="col1").exists()


def test_lockout_per_address(settings):
    settings.FIELDCOLLECT_LOGIN_MAX_FAILURES_PER_IP = 3
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="victim")
    for name in ("a", "b", "c"):  # password spraying from one address
        _login(Client(), name, "x", ip="203.0.113.5")
    assert _login(Client(), "victim", ip="203.0.113.5").status_code == 200
    assert _login(Client(), "victim", ip="203.0.113.6").status_code == 302


def test_lock_needs_the_failures_within_the_window(settings):
    settings.FIELDCOLLECT_LOGIN_MAX_FAILURES = 3
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="slow")
    now = timezone.now()
    for minutes in (40, 20, 1):  # three failures, but never three within 15 minutes
        LoginFailure.objects.create(username="slow", ip="192.0.2.1", at=now - timedelta(minutes=minutes))
    assert _login(Client(), "slow").status_code == 302


def _code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


def test_bank_user_enrols_then_verifies_totp():
    user = f.make_user(role=Role.RISK_ANALYST, username="analyst1")
    c = Client()
    resp = _login(c, "analyst1")
    assert resp.status_code == 302 and resp["Location"] == "/accounts/2fa/setup/"
    assert not _logged_in(c)
    assert c.get("/cases/").status_code == 302  # not in yet
    page = c.get("/accounts/2fa/setup/").content.decode()
    secret = TotpDevice.objects.get(user=user).secret
    assert f'id="totp-secret">{secret}<' in page and "<svg" in page and "otpauth://totp/" in page
    resp = c.post("/accounts/2fa/setup/", {"code": "000000" if _code(secret) != "000000" else "111111"})
    assert resp.status_code == 200 and 'id="totp-error"' in resp.content.decode() and not _logged_in(c)
    used = _code(secret)
    resp = c.post("/accounts/2fa/setup/", {"code": used})
    assert resp.status_code == 302 and resp["Location"] == "/" and _logged_in(c)
    assert TotpDevice.objects.get(user=user).confirmed_at is not None
    assert c.get("/cases/").status_code == 200
    success = AuditEntry.objects.filter(action="login.success", actor=user).last()
    assert success.new["second_factor"] is True
    assert {"login.password_ok", "login.second_factor_failed", "user.totp_enrol", "login.success"} <= set(
        _actions(object_type="user", object_id=str(user.pk)))

    # the next login asks for a code; the code already used is refused (replay), a fresh one works
    c2 = Client()
    resp = _login(c2, "analyst1")
    assert resp["Location"] == "/accounts/2fa/"
    assert c2.get("/accounts/2fa/setup/")["Location"] == "/accounts/2fa/"  # no re-enrolment
    # (the very code of the enrolment: one computed now could be of the next time step on a slow machine)
    assert c2.post("/accounts/2fa/", {"code": used}).status_code == 200 and not _logged_in(c2)
    resp = c2.post("/accounts/2fa/", {"code": _code(secret, 30)})
    assert resp.status_code == 302 and _logged_in(c2)


def test_second_factor_failures_lock_out_and_pending_state_expires(settings):
    settings.FIELDCOLLECT_LOGIN_MAX_FAILURES = 3
    user = f.make_user(role=Role.AUDITOR, username="aud1")
    secret = pyotp.random_base32(32)
    TotpDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
    c = Client()
    _login(c, "aud1")
    wrong = "123456" if _code(secret) != "123456" else "654321"
    for _ in range(3):
        c.post("/accounts/2fa/", {"code": wrong})
    resp = c.post("/accounts/2fa/", {"code": _code(secret)})  # locked: even the right code is refused
    assert resp.status_code == 200 and not _logged_in(c)
    assert "15" in resp.content.decode()
    LoginFailure.objects.all().delete()
    session = c.session
    session["fc_2fa_pending"]["at"] = time.time() - 301
    session.save()
    resp = c.post("/accounts/2fa/", {"code": _code(secret)})
    assert resp.status_code == 302 and resp["Location"] == "/accounts/login/" and not _logged_in(c)
    assert Client().get("/accounts/2fa/")["Location"] == "/accounts/login/"


def test_agency_roles_log_in_without_second_factor():
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="col9")
    c = Client()
    assert _login(c, "col9")["Location"] == "/cases/" and _logged_in(c)


def test_admin_login_goes_through_the_app_login():
    resp = Client().get("/admin/login/?next=/admin/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/?next=/admin/")
    agency = f.make_agency()
    c = logged_in(f.make_user(role=Role.FIELD_COLLECTOR, agency=agency))
    assert c.get("/admin/login/").status_code == 403


def test_security_headers_and_cookies():
    resp = Client().get("/accounts/login/")
    csp = resp["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "https:" not in csp and "cdn" not in csp.lower()
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["Referrer-Policy"] == "same-origin"
    assert "geolocation=(self)" in resp["Permissions-Policy"]
    csrf = resp.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="cookie")
    session = _login(Client(), "cookie").cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_token_ip_allow_list_on_the_token_and_the_agency():
    agency = f.make_agency()
    other = f.make_agency()
    user = f.make_user(role=Role.AGENCY_MANAGER, agency=agency)
    _, open_secret = token_create(user=user)
    _, lan_secret = token_create(user=user, allowed_networks=["10.0.0.0/8", "2001:db8::/32"])
    api = Client()

    def me(secret: str, ip: str) -> int:
        return api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR=ip).status_code

    assert me(open_secret, "192.0.2.1") == 200
    assert me(lan_secret, "10.20.30.40") == 200
    assert me(lan_secret, "2001:db8::1") == 200
    assert me(lan_secret, "192.0.2.1") == 401
    refused = AuditEntry.objects.get(action="token.ip_refused")
    assert refused.new["ip"] == "192.0.2.1" and refused.actor_id == user.pk
    # the agency's list applies to every token of its users, on top of the token's own
    agency_networks_set(agency_id=agency.pk, networks=["192.0.2.0/24"])
    assert me(open_secret, "192.0.2.1") == 200
    assert me(open_secret, "198.51.100.1") == 401
    assert me(lan_secret, "10.20.30.40") == 401  # in the token's list, not in the agency's
    other_user = f.make_user(role=Role.AGENCY_MANAGER, agency=other)
    _, other_secret = token_create(user=other_user)
    assert me(other_secret, "198.51.100.1") == 200  # another agency is unaffected
    agency_networks_set(agency_id=agency.pk, networks=[])
    assert me(open_secret, "198.51.100.1") == 200
    # without the check (internal callers) the lists do not apply; with it, no address means refused
    assert token_authenticate(lan_secret) == user
    assert token_authenticate(lan_secret, ip=None, check_ip=True) is None
    with pytest.raises(Exception, match="Not an IP network"):
        token_create(user=user, allowed_networks=["10.0.0.300/8"])


def test_role_changes_are_audited():
    agency = f.make_agency()
    user = f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="promoted")
    user_set_role(user=user, role=Role.AGENCY_MANAGER, agency_id=agency.pk, acting_user=None)
    entry = AuditEntry.objects.get(action="user.permissions_change", object_id=str(user.pk))
    assert entry.old == {"role": "field_collector", "agency_id": agency.pk}
    assert entry.new == {"role": "agency_manager", "agency_id": agency.pk}


def test_admin_role_change_is_audited():
    admin_user = f.make_user(role=Role.COLLECTIONS_MANAGER, username="boss")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    target = f.make_user(role=Role.RISK_ANALYST, username="target")
    c = logged_in(admin_user)
    page = c.get(f"/admin/core/user/{target.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, tuple))}
    data.update({"username": "target", "role": Role.AUDITOR, "is_active": "on", "is_staff": "on",
                 "date_joined_0": target.date_joined.strftime("%Y-%m-%d"),
                 "date_joined_1": target.date_joined.strftime("%H:%M:%S"), "agency": ""})
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    resp = c.post(f"/admin/core/user/{target.pk}/change/", data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    entry = AuditEntry.objects.filter(action="user.permissions_change", object_id=str(target.pk)).get()
    assert entry.actor_id == admin_user.pk
    assert entry.old == {"role": "risk_analyst", "is_staff": False}
    assert entry.new == {"role": "auditor", "is_staff": True, "via": "admin"}


@pytest.mark.django_db(transaction=True)
def test_cli_set_role_reset_2fa_and_agency_networks():
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="cli-user")
    bank = f.make_user(role=Role.AUDITOR, username="cli-bank")
    TotpDevice.objects.create(user=bank, secret=pyotp.random_base32(32), confirmed_at=timezone.now())
    runner = CliRunner()
    out = runner.invoke(app_cli(), ["users", "set-role", "--username", "cli-user", "--role", "agency_manager",
                                    "--agency-id", str(agency.pk)])
    assert out.exit_code == 0, out.output
    assert runner.invoke(app_cli(), ["users", "set-role", "--username", "cli-user", "--role", "auditor",
                                     "--agency-id", str(agency.pk)]).exit_code != 0
    out = runner.invoke(app_cli(), ["users", "reset-2fa", "--username", "cli-bank"])
    assert out.exit_code == 0 and not TotpDevice.objects.filter(user=bank).exists()
    out = runner.invoke(app_cli(), ["token", "agency-networks", "--agency-id", str(agency.pk), "10.1.0.0/16"])
    assert out.exit_code == 0 and "10.1.0.0/16" in out.output
    out = runner.invoke(app_cli(), ["token", "create", "--username", "cli-user", "--allow", "10.1.2.3"])
    assert out.exit_code == 0
    assert token_authenticate(out.stdout.strip(), ip="10.1.2.3", check_ip=True) is not None
    assert token_authenticate(out.stdout.strip(), ip="10.1.2.4", check_ip=True) is None
    assert set(_actions(action__in=["user.permissions_change", "user.totp_reset", "agency.api_networks",
                                    "token.create"])) == {"user.permissions_change", "user.totp_reset",
                                                          "agency.api_networks", "token.create"}


def app_cli():
    from fieldcollect.cli import app

    return app


def test_totp_secret_is_encrypted_at_rest():
    from django.db import connection

    user = f.make_user(role=Role.AUDITOR, username="enc")
    secret = pyotp.random_base32(32)
    TotpDevice.objects.create(user=user, secret=secret)
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM core_totpdevice WHERE user_id = %s", [user.pk])
        stored = cur.fetchone()[0]
    assert stored.startswith("fc2$") and secret not in stored
    assert TotpDevice.objects.get(user=user).secret == secret


def test_client_address_behind_a_trusted_proxy(settings):
    from django.test import RequestFactory

    from fieldcollect.accounts.login_security import client_ip

    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert client_ip(spoofed) == "198.51.100.7"  # no trusted proxy: the header is ignored
    settings.FIELDCOLLECT_TRUSTED_PROXIES = ["127.0.0.1"]
    proxied = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9")
    assert client_ip(proxied) == "203.0.113.9"  # the address the proxy saw, not what the client claimed
    assert client_ip(spoofed) == "198.51.100.7"
    # two clients behind the proxy are locked out separately
    settings.FIELDCOLLECT_LOGIN_MAX_FAILURES_PER_IP = 2
    agency = f.make_agency()
    f.make_user(role=Role.FIELD_COLLECTOR, agency=agency, username="behind")
    for name in ("x", "y"):
        Client().post("/accounts/login/", {"username": name, "password": "no"}, REMOTE_ADDR="127.0.0.1",
                      HTTP_X_FORWARDED_FOR="203.0.113.9")
    ok = Client().post("/accounts/login/", {"username": "behind", "password": PW}, REMOTE_ADDR="127.0.0.1",
                       HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert ok.status_code == 302
    locked = Client().post("/accounts/login/", {"username": "behind", "password": PW}, REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert locked.status_code == 200
