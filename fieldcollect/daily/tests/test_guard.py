"""The nightly cycle refuses a business date after today or after the newest export's data date, in
the service, the CLI and the jobs page, and refuses a second run while one is running; nothing changes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from typer.testing import CliRunner

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases.models import Case
from fieldcollect.cli import app
from fieldcollect.core.bank_time import bank_today
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.core.models import Role
from fieldcollect.daily.guard import latest_data_date, nightly_lock
from fieldcollect.daily.services import run_daily
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.home import daily_root
from fieldcollect.ops.models import Job
from fieldcollect.portfolio.models import DailyRun
from fieldcollect.portfolio.services import ingest_export
from fieldcollect.testing import factories as f
from fieldcollect.testing.concurrency import in_background
from fieldcollect.testing.demo_book import demo_export

AS_OF = date(2026, 6, 30)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return demo_export(tmp_path_factory.mktemp("export"), n_loans=300, seed=5, as_of=AS_OF)


def nothing_changed() -> None:
    assert DailyRun.objects.count() == 0
    assert Case.objects.count() == 0
    assert not AuditEntry.objects.filter(action__in=["daily.publish", "cases.nightly_sync"]).exists()
    assert not [p for p in daily_root().iterdir() if not p.name.startswith(".")]


@pytest.mark.django_db
def test_data_date_is_the_exports_business_date(loaded):
    assert latest_data_date() == AS_OF


@pytest.mark.django_db
def test_future_date_refused_nothing_changes(loaded):
    with pytest.raises(ApplicationError) as exc:
        run_daily(as_of=bank_today() + timedelta(days=1), progress=False)
    assert exc.value.code == "daily.date_in_future"
    assert (bank_today() + timedelta(days=1)).isoformat() in exc.value.message
    nothing_changed()


@pytest.mark.django_db
def test_date_after_the_exports_data_date_refused(loaded):
    assert AS_OF + timedelta(days=1) <= bank_today()  # in the past, yet after the data
    with pytest.raises(ApplicationError) as exc:
        run_daily(as_of=AS_OF + timedelta(days=1), progress=False)
    assert exc.value.code == "daily.date_after_data"
    assert "2026-06-30" in exc.value.message
    nothing_changed()


@pytest.mark.django_db
def test_hard_negative_the_exports_date_itself_runs(loaded):
    run_daily(as_of=AS_OF, progress=False)
    assert DailyRun.objects.filter(as_of=AS_OF).count() == 1


@pytest.mark.django_db
def test_hard_negative_today_runs(fc_home, tmp_path):
    today = bank_today()
    write_demo_portfolio(tmp_path / "today", n_loans=200, seed=6, as_of=today, progress=False)
    ingest_export(source=tmp_path / "today")
    run_daily(as_of=today, progress=False)
    assert DailyRun.objects.filter(as_of=today).count() == 1


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_a_future_date_with_exit_2(loaded):
    out = CliRunner().invoke(app, ["run-daily", "--as-of", "2099-01-01"])
    assert out.exit_code == 2, out.output
    assert "2099-01-01" in out.output and "Traceback" not in out.output
    out = CliRunner().invoke(app, ["run-daily", "--as-of", "2026-07-01"])
    assert out.exit_code == 2, out.output
    assert "2026-07-01" in out.output and "2026-06-30" in out.output
    nothing_changed()


@pytest.mark.django_db
def test_jobs_page_refuses_a_future_date_without_queueing(loaded, client):
    client.force_login(f.make_user(role=Role.COLLECTIONS_MANAGER))
    r = client.post("/ops/jobs/start/", {"kind": "nightly_cycle", "as_of": "2099-01-01"})
    assert r.status_code == 400
    assert "2099-01-01" in r.content.decode()
    r = client.post("/ops/jobs/start/", {"kind": "nightly_cycle", "as_of": "2026-07-01"})
    assert r.status_code == 400
    # from the page's htmx form: the refusal replaces the alert (htmx swaps no 4xx answer)
    r = client.post("/ops/jobs/start/", {"kind": "nightly_cycle", "as_of": "2099-01-01"}, headers={"HX-Request": "true"})
    assert r["HX-Retarget"] == "#job-alert" and 'role="alert"' in r.content.decode() and "2099-01-01" in r.content.decode()
    assert not Job.objects.exists()
    assert client.post("/ops/jobs/start/", {"kind": "nightly_cycle", "as_of": "2026-06-30"}).status_code == 302


@pytest.mark.django_db
def test_second_run_refused_while_one_holds_the_lock(loaded):
    """Another connection (a thread: its own database session) holds the lock: the run is refused."""
    held, release = threading.Event(), threading.Event()

    def first_run() -> None:
        with nightly_lock():
            held.set()
            release.wait(timeout=30)

    with in_background(first_run, stop=release.set, timeout=30):
        assert held.wait(timeout=30)
        with pytest.raises(ConflictError) as exc:
            run_daily(as_of=AS_OF, progress=False)
        assert exc.value.code == "daily.already_running"
        nothing_changed()
    run_daily(as_of=AS_OF, progress=False)  # once released, the cycle runs
    assert DailyRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_second_process_refused_while_one_holds_the_lock(fc_home):
    """Two processes: the lock of one (advisory lock or flock) refuses the other; released when it exits."""
    env = {**os.environ, "FIELDCOLLECT_HOME": str(fc_home), "DJANGO_SETTINGS_MODULE": "config.settings",
           "PYTHONPATH": str(REPO)}
    env.pop("DATABASE_URL", None)
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    code = ("import sys, django; django.setup()\n"
            "from fieldcollect.daily.guard import nightly_lock\n"
            "with nightly_lock():\n"
            "    print('locked', flush=True); sys.stdin.readline()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(ConflictError) as exc, nightly_lock():
            pass
        assert exc.value.code == "daily.already_running"
    finally:
        proc.communicate("\n", timeout=60)
    with nightly_lock():  # the other process has finished: free again
        pass
