"""The model card's charts render in a real browser (Debian chromium) without console errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fieldcollect.earlywarning.tests.factories import AS_OF, make_customers

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_model_card_charts_render(live_server, book, monkeypatch, language):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from fieldcollect.core.models import Role, User
    from fieldcollect.earlywarning.services import early_warning_nightly

    make_customers(book, list(range(1, 601)))
    early_warning_nightly(as_of=AS_OF, now=datetime(2026, 6, 30, 15, tzinfo=UTC))
    from django.conf import settings
    from django.test import Client

    user = User.objects.create_user(username="risk", password="pw-test-123", role=Role.RISK_ANALYST)
    client = Client()
    client.force_login(user)  # bank users log in with a second factor; the session stands for that here
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--headless", "--disable-gpu",
                                          "--disable-background-networking"])
        context = browser.new_context()
        context.add_cookies([
            {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
             "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ])
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server.url}/earlywarning/models/early_warning/")
        assert page.locator("html").get_attribute("lang") == language
        for chart in ("chart-calibration", "chart-drift", "chart-csi"):
            page.wait_for_selector(f"#{chart}[data-rendered='1'] .main-svg")
        page.goto(f"{live_server.url}/earlywarning/")
        page.wait_for_selector("#chart-histogram[data-rendered='1'] .main-svg")
        assert page.locator("#warning-list tbody tr").count() >= 10
        browser.close()
    assert errors == []
