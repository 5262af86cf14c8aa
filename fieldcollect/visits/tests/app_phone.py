"""Test support for the collector's phone app in a real browser: a chromium with the fake camera and
microphone, a phone-sized context with a position and the permissions granted, and small helpers to
drive the app."""

from __future__ import annotations

from typing import Any

from django.test import Client
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page

from fieldcollect.testing.browser import PHONE, open_page, sign_in


def phone(browser: Browser, *, url: str, user: Any, lat: float, lon: float, language: str = "en",
          **context: Any) -> tuple[Page, BrowserContext, list[str]]:
    """A phone (390×844, touch, Shanghai time) signed in as ``user``, standing at ``lat``/``lon``
    (as the phone reports it) with location, microphone and camera allowed."""
    page, ctx, errors = open_page(browser, viewport=PHONE, is_mobile=True, has_touch=True,
                                  timezone_id="Asia/Shanghai", geolocation={"latitude": lat, "longitude": lon,
                                                                            "accuracy": 12},
                                  permissions=["geolocation", "microphone", "camera"], **context)
    sign_in(ctx, client=Client(), user=user, url=url, language=language)
    return page, ctx, errors


def open_app(page: Page, url: str) -> None:
    page.goto(f"{url}/app/")
    page.wait_for_selector("body[data-ready=yes]")


def installed(page: Page) -> str:
    """Waits until the service worker is active and controls the page; its script URL."""
    script = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    return str(script)


def queue_states(page: Page) -> list[tuple[str, str]]:
    """(kind, state) of each item of the phone's queue as the app shows it."""
    rows = page.locator("#queue li[data-client-id]")
    return [(str(rows.nth(i).get_attribute("data-kind")), str(rows.nth(i).get_attribute("data-state")))
            for i in range(rows.count())]


def wait_queue(page: Page, expected: list[tuple[str, str]], timeout_ms: int = 20_000) -> None:
    kinds = [k for k, _ in expected]
    states = [s for _, s in expected]
    page.wait_for_function(
        """([kinds, states]) => {
             const rows = [...document.querySelectorAll('#queue li[data-client-id]')];
             return !document.getElementById('sync-now').disabled
               && JSON.stringify(rows.map((r) => r.dataset.kind)) === JSON.stringify(kinds)
               && JSON.stringify(rows.map((r) => r.dataset.state)) === JSON.stringify(states);
           }""", arg=[kinds, states], timeout=timeout_ms)


def stored(page: Page, store: str) -> list[dict[str, Any]]:
    """What the phone keeps in one IndexedDB store (blobs left out)."""
    return page.evaluate(
        """async (store) => {
             const db = await new Promise((ok, ko) => { const r = indexedDB.open('fieldcollect-app');
               r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
             const rows = await new Promise((ok, ko) => { const r = db.transaction(store).objectStore(store).getAll();
               r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
             db.close();
             rows.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));  // in the order they were made
             return rows.map((row) => { const { blob, ...rest } = row; return { ...rest, has_blob: !!blob }; });
           }""", store)


def write_report(page: Page, *, met: str, outcome: str, identity: str = "", notes: str = "",
                 promise_yuan: str = "", promise_due: str = "", photo: bytes | None = None, new_phone: str = "",
                 new_address: str = "", submit: bool = True) -> None:
    page.locator(f"#report-form input[name=met][value={met}]").check()
    if identity:
        page.select_option("#report-form select[name=identity_check]", identity)
    page.select_option("#report-form select[name=outcome]", outcome)
    if notes:
        page.fill("#report-form textarea[name=notes]", notes)
    if promise_yuan:
        page.fill("#report-form input[name=promise_amount]", promise_yuan)
        page.fill("#report-form input[name=promise_due]", promise_due)
    if new_phone:
        page.fill("#report-form input[name=new_phone]", new_phone)
    if new_address:
        page.fill("#report-form input[name=new_address]", new_address)
    if photo is not None:
        page.set_input_files("#report-form input[name=photo]",
                             files=[FilePayload(name="door.png", mimeType="image/png", buffer=photo)])
    if not submit:
        return
    page.click("#end-visit")
    page.wait_for_selector("#route")


def record_visit(page: Page, *, stop: str = "#stops li", recording_ms: int = 1500, **report: Any) -> None:
    """Opens the ``stop``, checks in, lets the fake microphone record for ``recording_ms`` and writes the
    report (``report``: :func:`write_report`'s arguments)."""
    page.click(f"{stop} button")
    page.click("#checkin-btn")
    page.wait_for_selector("#recording-state[data-recording=on]")
    page.wait_for_timeout(recording_ms)
    write_report(page, **report)
