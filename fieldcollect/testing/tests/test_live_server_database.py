"""The browser tests' live server and the test itself write to the database at the same time (the phone
syncs while the test raises a flag): on SQLite each thread needs its own connection to the test database,
so that one waits for the other instead of failing with "database table is locked"."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

from django.conf import settings
from django.db import connection

from fieldcollect.core.models import Role
from fieldcollect.testing import factories as f
from fieldcollect.testing.browser import BROWSER_TEST
from fieldcollect.testing.clients import logged_in

pytestmark = BROWSER_TEST


def test_the_test_database_is_not_shared_with_the_live_server_thread(live_server):
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
        assert connection.settings_dict["NAME"] != ":memory:"


def test_requests_in_flight_while_the_test_writes_all_succeed(live_server):
    user = f.make_user(role=Role.COMPLIANCE_OFFICER)
    cookie = f"{settings.SESSION_COOKIE_NAME}={logged_in(user).cookies[settings.SESSION_COOKIE_NAME].value}"
    failures: list[str] = []
    done = threading.Event()

    def read_pages() -> None:
        while not done.is_set():
            request = urllib.request.Request(live_server.url + "/compliance/report/", headers={"Cookie": cookie})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
            except urllib.error.HTTPError as e:
                failures.append(f"{e.code}")

    readers = [threading.Thread(target=read_pages) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for _ in range(60):  # each a session written by the test thread
            logged_in(user)
    finally:
        done.set()
        for t in readers:
            t.join()
    assert failures == []
