"""Fault test: PostgreSQL restarted under load.

A production server (gunicorn, ``fieldcollect serve-prod``) runs against a PostgreSQL server this
test owns (``pgcluster.PgCluster``; the shared one is never touched). Client threads record
contacts through the API without pause; mid-way the database is restarted (``pg_ctl restart -m
fast`` cuts every connection). Then:

* clients recover: a few seconds after the database is back every request succeeds again, and the
  gunicorn workers are the same processes (nothing crashed);
* nothing is lost: every contact the server acknowledged (201) is in the database, and every row
  beyond those belongs to a request whose answer the client never saw.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from fieldcollect.ops.tests import pgcluster

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not pgcluster.available(), reason="PostgreSQL binaries missing")]
ROOT = Path(__file__).resolve().parents[3]
CLIENTS, BEFORE_S, AFTER_S, RECOVERY_S = 6, 3.0, 6.0, 3.0

SEED = r"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from fieldcollect.cases import services
from fieldcollect.testing import factories as f
from fieldcollect.core.models import Role
from fieldcollect.accounts.tokens import token_create
cm = f.make_user(role=Role.COLLECTIONS_MANAGER, username="restart-cm")
agency = f.make_agency()
f.make_contract(agency=agency, capacity=10_000)
manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency, username="restart-agency")
_, secret = token_create(user=manager, name="restart")
ids = []
for _ in range(40):
    case = f.make_case()
    services.case_place(case=case, agency=agency, acting_user=cm)
    f.notice_sent(case, agency=agency)  # told long before (notice before outsourcing)
    ids.append(case.pk)
print("SEED" + json.dumps({"token": secret, "cases": ids}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"server at {url} not ready after {timeout} s")


def _worker_pids(server_pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server_pid)], capture_output=True, text=True, check=False)
    return {int(x) for x in out.stdout.split()}


def test_postgres_restart_under_load_loses_nothing_and_clients_recover(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with pgcluster.PgCluster() as pg:
        env = {k: v for k, v in os.environ.items() if k != "FIELDCOLLECT_QUEUE"}
        env |= {"DATABASE_URL": pg.url, "FIELDCOLLECT_HOME": str(home), "DJANGO_SETTINGS_MODULE": "config.settings",
                "DEBUG": "0", "ACCESS_LOG": "0", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        seeded = subprocess.run([sys.executable, "-c", SEED], env=env, cwd=ROOT, capture_output=True, text=True,
                                timeout=300, check=False)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        client = json.loads(next(line[4:] for line in seeded.stdout.splitlines() if line.startswith("SEED")))
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "fieldcollect.ops", "serve-prod", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "2", "--threads", "4", "--no-migrate"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"))  # noqa: SIM115
        try:
            _wait_ready(url)
            workers_before = _worker_pids(server.pid)
            results: list[tuple[float, str, int | None]] = []  # (time, "ok"|"refused"|"error: …", contact id)
            lock = threading.Lock()
            stop = threading.Event()

            def client_loop(n: int) -> None:
                session = requests.Session()
                headers = {"Authorization": f"Bearer {client['token']}"}
                i = 0
                while not stop.is_set():
                    case_id = client["cases"][(n * 7 + i) % len(client["cases"])]
                    i += 1
                    # a letter logged at 10:00 Beijing time: inside every pack's contact hours
                    body = {"channel": "letter", "outcome": "no_answer", "party": "debtor",
                            "at": "2026-11-25T10:00:00+08:00", "notes": f"restart test {n}-{i}"}
                    t = time.monotonic()
                    try:
                        r = session.post(f"{url}/api/v1/cases/{case_id}/contacts", json=body, headers=headers,
                                         timeout=15)
                        if r.status_code == 201:
                            outcome: tuple[float, str, int | None] = (t, "ok", int(r.json()["id"]))
                        elif r.status_code in (409, 422) and r.headers.get("content-type", "").startswith(
                                "application/json"):
                            outcome = (t, "refused", None)
                        else:
                            outcome = (t, f"error: {r.status_code} {r.text[:200]}", None)
                    except requests.RequestException as exc:
                        outcome = (t, f"error: {type(exc).__name__}", None)
                        session = requests.Session()
                    with lock:
                        results.append(outcome)
                    if outcome[1].startswith("error"):
                        time.sleep(0.1)

            threads = [threading.Thread(target=client_loop, args=(n,), daemon=True) for n in range(CLIENTS)]
            for t in threads:
                t.start()
            time.sleep(BEFORE_S)
            restart_started = time.monotonic()
            postmaster = pg.pid()
            pg.restart()
            restart_done = time.monotonic()
            assert pg.pid() != postmaster, "the database was not restarted"
            time.sleep(AFTER_S)
            stop.set()
            for t in threads:
                t.join(timeout=30)

            before = [r for r in results if r[0] < restart_started]
            after = [r for r in results if r[0] > restart_done + RECOVERY_S]
            errors_after = [r[1] for r in after if r[1].startswith("error")]
            assert sum(r[1] == "ok" for r in before) >= 10, f"too little traffic before the restart: {len(before)}"
            assert sum(r[1] == "ok" for r in after) >= 10, f"clients did not recover: {after[-5:]}"
            assert errors_after == [], f"errors {RECOVERY_S} s after the restart: {errors_after[:5]}"
            assert server.poll() is None, "the server died"
            assert _worker_pids(server.pid) == workers_before, "gunicorn workers crashed and were replaced"
            assert requests.get(url + "/readyz", timeout=10).status_code == 200

            acked = [r[2] for r in results if r[1] == "ok"]
            unanswered = sum(r[1].startswith("error") for r in results)
            import psycopg

            with psycopg.connect(pg.url) as conn:
                stored = {row[0] for row in conn.execute(
                    "SELECT id FROM cases_contactattempt WHERE case_id = ANY(%s)", (client["cases"],))}
            lost = sorted(set(acked) - stored)
            print(f"requests {len(results)}, acknowledged {len(acked)}, refused "
                  f"{sum(r[1] == 'refused' for r in results)}, unanswered {unanswered}, "
                  f"restart {restart_done - restart_started:.2f} s, rows {len(stored)}")
            assert lost == [], f"acknowledged contacts missing from the database: {lost[:10]}"
            assert len(stored) - len(set(acked)) <= unanswered, "rows that no request accounts for"
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
