"""In a real browser (Debian chromium): a bank user logs in with password and TOTP code, the portfolio
overview draws its Plotly charts, the language switch and the API docs work under the
Content-Security-Policy, and no page reports a CSP violation."""

from __future__ import annotations

from datetime import date

import pyotp
import pytest

from fieldcollect.accounts.models import TotpDevice
from fieldcollect.core.models import Role
from fieldcollect.daily.services import run_daily
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.portfolio.services import ingest_export
from fieldcollect.testing import factories as f
from fieldcollect.testing.browser import BROWSER_TEST, log_in, open_page

pytestmark = BROWSER_TEST


@pytest.fixture
def page(browser):
    pg, _, _ = open_page(browser, timeout_ms=20_000)
    pg.violations = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.violations.append(m.text) if "Content Security Policy" in m.text else None)
    return pg


def test_bank_login_with_totp_and_charts_under_csp(live_server, fc_home, tmp_path, page):
    src = tmp_path / "export"
    write_demo_portfolio(src, n_loans=600, seed=3, as_of=date(2026, 6, 30), progress=False)
    ingest_export(source=src)
    run_daily(as_of=date(2026, 6, 30), progress=False)
    user = f.make_user(role=Role.COLLECTIONS_MANAGER, username="mgr-browser", password="pw-browser-123")

    log_in(page, url=live_server.url, username="mgr-browser", password="pw-browser-123")
    assert page.url.endswith("/accounts/2fa/setup/")
    assert page.locator("#totp-qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().strip()
    assert TotpDevice.objects.get(user=user).secret == secret
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.click("#totp-form button[type=submit]")
    assert page.url == f"{live_server.url}/"
    page.wait_for_selector("[data-rendered='1']")
    page.wait_for_function("document.querySelectorAll('[data-rendered=\"1\"] .main-svg').length >= 4")
    # the language switch (an inline onchange handler allowed by its hash) still submits
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{live_server.url}/cases/")
    assert page.locator("h1").count() >= 1
    # the API docs (Swagger UI) come from local static files and render under the same policy
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.violations == [], page.violations
