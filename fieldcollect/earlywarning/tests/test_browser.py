"""The model card's charts render in a real browser (Debian chromium) without console errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fieldcollect.earlywarning.tests.factories import AS_OF, make_customers
from fieldcollect.testing.browser import BROWSER_TEST, open_page, sign_in

pytestmark = BROWSER_TEST


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_model_card_charts_render(live_server, book, browser, language):
    from fieldcollect.core.models import Role, User
    from fieldcollect.earlywarning.services import early_warning_nightly

    make_customers(book, list(range(1, 601)))
    early_warning_nightly(as_of=AS_OF, now=datetime(2026, 6, 30, 15, tzinfo=UTC))
    from django.test import Client

    user = User.objects.create_user(username="risk", password="pw-test-123", role=Role.RISK_ANALYST)
    page, context, errors = open_page(browser, timeout_ms=20_000)
    sign_in(context, client=Client(), user=user, url=live_server.url, language=language)
    page.goto(f"{live_server.url}/earlywarning/models/early_warning/")
    assert page.locator("html").get_attribute("lang") == language
    for chart in ("chart-calibration", "chart-drift", "chart-csi"):
        page.wait_for_selector(f"#{chart}[data-rendered='1'] .main-svg")
    page.goto(f"{live_server.url}/earlywarning/")
    page.wait_for_selector("#chart-histogram[data-rendered='1'] .main-svg")
    assert page.locator("#warning-list tbody tr").count() >= 10
    assert errors == []
