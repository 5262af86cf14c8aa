"""Pytest plugin for the tests in a real browser (Debian chromium at ``/usr/bin/chromium``, driven by
Playwright; never ``playwright install``). Registered in the root ``conftest.py``, so every app's tests
get the ``browser`` fixture.

A browser test module declares ``pytestmark = BROWSER_TEST`` (marker ``browser``, a transactional
database for ``live_server``, skipped where chromium is missing) and opens its pages with
:func:`open_page`, which gives the page and the console/page errors it collects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}

BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                                 django_db_modify_db_settings_parallel_suffix: None) -> None:
    """pytest-django's hook before the test databases are created: when the run holds a browser test and the
    database is SQLite, the test database is a file (WAL, the settings' busy timeout), not SQLite's in-memory
    database.

    With an in-memory database the live server's thread is handed the test thread's own connection, so a
    request still in flight (the phone's sync, an audited read) and a write by the test share one
    connection, and SQLite answers "database table is locked" instead of waiting. With a file each thread
    has its own connection and a writer waits for the other."""
    if not any(item.get_closest_marker("browser") for item in request.session.items):
        return
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not db.get("TEST", {}).get("NAME"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def _launch(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself
    # are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """A headless chromium, closed after the test."""
    yield from _launch(monkeypatch, ARGS)


@pytest.fixture
def phone_browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """A headless chromium whose microphone and camera are Chromium's fake devices (a beep, a test
    pattern), allowed without a prompt (the collector app's tests)."""
    yield from _launch(monkeypatch, [*ARGS, *MEDIA_ARGS])


def open_page(browser: Browser, *, timeout_ms: int = 15_000, **context: Any) -> tuple[Page, BrowserContext, list[str]]:
    """A page in a new context (``context``: Playwright's ``new_context`` options, e.g. a viewport) and the
    list that collects its console errors and uncaught page errors."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    page.set_default_timeout(timeout_ms)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, ctx, errors


def sign_in(context: BrowserContext, *, client: Client, user: Any, url: str, language: str | None = None) -> None:
    """Give ``context`` the session of ``user`` (logged in through the test ``client``: bank users log in
    with a second factor, the session stands for that here) and, when given, the language cookie."""
    client.force_login(user)
    cookies: list[Any] = [{"name": settings.SESSION_COOKIE_NAME,
                           "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": url}]
    if language is not None:
        cookies.append({"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": url})
    context.add_cookies(cookies)


def log_in(page: Page, *, url: str, username: str, password: str = "pw-test-123", language: str | None = None) -> None:
    """Log in through the log-in page as a person does (``language``: chosen there first, when given);
    the page then stands where the log-in leads."""
    page.goto(f"{url}/accounts/login/")
    if language is not None:
        with page.expect_navigation():
            page.select_option("select[name=language]", language)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
