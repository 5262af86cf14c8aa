"""The case hub on a phone (Debian chromium, 390 px wide): the field collector finds the visit actions
one tap away, in Chinese (the default), and the page does not scroll sideways."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fieldcollect.cases.tests.conftest import HubWorld
from fieldcollect.testing.browser import BROWSER_TEST, PHONE, open_page, sign_in

pytestmark = BROWSER_TEST


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_collector_reaches_the_visit_from_the_case_page_on_a_phone(live_server: Any, hw: HubWorld, browser: Any,
                                                                   language: str) -> None:
    page, ctx, errors = open_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(ctx, client=Client(), user=hw.users["field_collector"], url=live_server.url, language=language)
    page.goto(f"{live_server.url}/cases/{hw.case.pk}/")
    hub = page.locator("#hub")
    assert hub.is_visible()
    propose = hub.locator('a[data-hub="propose"]')
    assert propose.inner_text() == ("提议外访" if language == "zh-hans" else "Propose a visit")
    assert page.locator("#timeline li[data-kind=visit_report]").count() == 1
    assert _no_sideways_scroll(page)
    # the hub's groups are stacked: one column on a phone
    boxes = [g.bounding_box() for g in hub.locator(".hub-group").all()]
    assert len(boxes) >= 3 and len({round(b["x"]) for b in boxes if b}) == 1
    with page.expect_navigation():
        propose.tap()
    assert page.url.endswith(f"/visits/case/{hw.case.pk}/#propose-form")
    assert page.locator("#propose-form").is_visible()
    assert _no_sideways_scroll(page)
    assert not errors, errors
