"""Fault tests: ``kill -9`` in the middle of ingestion, of the nightly cycle and of an export, then restart.

Each command runs as a real ``fieldcollect`` process on its own data home (SQLite) and is killed
with SIGKILL as soon as it has started writing (its staging folder appears). Afterwards the
previous state must be intact, and a re-run must converge to the output of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fieldcollect.analytics.schemas import KEYS
from fieldcollect.demodata.generator import write_demo_portfolio

pytestmark = pytest.mark.slow
LOANS = 10_000
D1, D2 = date(2026, 6, 29), date(2026, 6, 30)
CYCLE_TABLES = ("loan_status", "roll_rates", "vintages", "bucket_history")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FIELDCOLLECT_QUEUE")}
    env |= {"FIELDCOLLECT_HOME": str(home), "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    return env


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "fieldcollect.cli", *args]


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_cmd(*args), env=_env(home), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{args}: {proc.stderr[-2000:]}"
    return proc


def _kill_when(home: Path, args: tuple[str, ...], started_writing: Callable[[], bool]) -> None:
    """Start the command and SIGKILL it the moment ``started_writing()`` is true."""
    proc = subprocess.Popen(_cmd(*args), env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if started_writing():
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, f"{args} was not killed mid-way (rc={proc.returncode}): {stderr[-1500:]}"


def _query(home: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(home / "fieldcollect.sqlite3")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _expected_store(export: Path) -> dict[str, pl.DataFrame]:
    from fieldcollect.ingest.reader import read_export
    from fieldcollect.ingest.store import merge_tables

    return merge_tables(None, read_export(export).tables)


def _sorted(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    key = ["loan_id", "seq"] if table == "installments" else list(KEYS[table])
    return frame.sort(key)


def test_kill_9_during_ingest_and_nightly_cycle_then_rerun_converges(tmp_path, monkeypatch):
    export = tmp_path / "export"
    write_demo_portfolio(export, n_loans=LOANS, seed=5, as_of=D2, progress=False)
    home = tmp_path / "home"
    store_dir = home / "store"

    # ---- ingestion killed while it writes the new store version
    _kill_when(home, ("ingest", str(export)), lambda: store_dir.exists() and any(store_dir.glob(".staging-*")))
    assert not (store_dir / "CURRENT").exists(), "a killed ingestion published a version"
    assert not [p for p in store_dir.iterdir() if p.name.startswith("v")], "a killed ingestion left a version"
    if (home / "fieldcollect.sqlite3").exists():
        tables = {r[0] for r in _query(home, "SELECT name FROM sqlite_master WHERE type='table'")}
        if "portfolio_ingestbatch" in tables:
            assert _query(home, "SELECT COUNT(*) FROM portfolio_ingestbatch") == [(0,)]
            assert _query(home, "SELECT COUNT(*) FROM portfolio_customer") == [(0,)]
    # restart: the re-run applies the export and cleans the leftovers
    _run(home, "ingest", str(export))
    assert not list(store_dir.glob(".staging-*"))
    assert _query(home, "SELECT COUNT(*) FROM portfolio_ingestbatch") == [(1,)]
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(home))
    from fieldcollect.ingest.store import require_current

    version = require_current()
    for table, expected in _expected_store(export).items():
        assert_frame_equal(_sorted(version.read(table), table), _sorted(expected, table))

    # ---- nightly cycle: D1 published, then D2 killed while it writes its files
    _run(home, "run-daily", "--as-of", D1.isoformat())
    d1_link = home / "daily" / D1.isoformat()
    d1_target = d1_link.resolve()
    d1_bytes = {p.name: p.read_bytes() for p in d1_target.iterdir()}
    cases_after_d1 = _query(home, "SELECT id, status, dpd, overdue_fen, closed_on, version FROM cases_case ORDER BY id")
    runs = home / "daily" / ".runs"
    _kill_when(home, ("run-daily", "--as-of", D2.isoformat()),
               lambda: any(p.name.startswith(D2.isoformat()) for p in runs.iterdir()))
    # previous state intact: D1 still published with the same bytes, no D2 run recorded, cases as after D1
    assert d1_link.resolve() == d1_target
    assert {p.name: p.read_bytes() for p in d1_target.iterdir()} == d1_bytes
    assert _query(home, f"SELECT COUNT(*) FROM portfolio_dailyrun WHERE as_of = '{D2}'") == [(0,)]
    assert _query(home, "SELECT id, status, dpd, overdue_fen, closed_on, version FROM cases_case ORDER BY id") \
        == cases_after_d1
    d2_link = home / "daily" / D2.isoformat()
    if d2_link.is_symlink():  # killed after the atomic publish: then the files are complete
        assert all((d2_link / n).exists() for n in ("summary.json", *(f"{t}.parquet" for t in CYCLE_TABLES)))

    # restart: re-run D2, compare with an uninterrupted run computed from a copy of the same state
    reference_home = tmp_path / "reference"
    reference_home.mkdir()
    shutil.copytree(store_dir, reference_home / "store")
    (reference_home / "daily" / ".runs").mkdir(parents=True)
    shutil.copytree(d1_target, reference_home / "daily" / ".runs" / d1_target.name)
    (reference_home / "daily" / D1.isoformat()).symlink_to(Path(".runs") / d1_target.name)
    _run(home, "run-daily", "--as-of", D2.isoformat())
    assert _query(home, f"SELECT COUNT(*) FROM portfolio_dailyrun WHERE as_of = '{D2}'") == [(1,)]
    monkeypatch.setenv("FIELDCOLLECT_HOME", str(reference_home))
    from fieldcollect.daily.cycle import run_cycle

    run_cycle(as_of=D2, progress=False)
    for table in CYCLE_TABLES:
        got = pl.read_parquet(home / "daily" / D2.isoformat() / f"{table}.parquet")
        want = pl.read_parquet(reference_home / "daily" / D2.isoformat() / f"{table}.parquet")
        assert_frame_equal(got, want)
    # no half-written run left next to the published ones
    published = {p.resolve().name for p in (home / "daily").iterdir() if p.is_symlink()}
    leftovers = [p.name for p in runs.iterdir() if p.name not in published]
    assert leftovers == [] or all(p.startswith(D2.isoformat()) for p in leftovers)
    # the cases follow the day: every delinquent loan of D2 has exactly one open case
    status = pl.read_parquet(home / "daily" / D2.isoformat() / "loan_status.parquet")
    open_cases = _query(home, "SELECT loan_id FROM cases_case WHERE closed_on IS NULL ORDER BY loan_id")
    assert [r[0] for r in open_cases] == sorted(status.filter(pl.col("dpd") >= 1)["loan_id"].to_list())


EXPORT_SEED = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from datetime import date
from fieldcollect.cases.models import Case
from fieldcollect.testing import factories as f
case = f.make_case()
Case.objects.bulk_create(
    [Case(loan_id=case.loan_id, customer_id=case.customer_id, status="closed", close_reason="paid",
          opened_on=date(2026, 1, 1), closed_on=date(2026, 2, 1), dpd=i % 400, max_dpd=i % 400, bucket="M2",
          overdue_fen=i * 101, outstanding_principal_fen=i * 997, city="上海") for i in range(N)],
    batch_size=5000)
print(Case.objects.count())
"""


def _csv_rows(path: Path) -> list[list[str]]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:  # the watermark line starts with '#'
        return [row for row in csv.reader(fh) if row and not row[0].startswith("#")]


def test_kill_9_during_export_keeps_the_previous_file_and_rerun_completes(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    seeded = subprocess.run([sys.executable, "-c", EXPORT_SEED.replace("range(N)", "range(60_000)")],
                            env=_env(home), capture_output=True, text=True, timeout=300, check=False)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    cases = int(seeded.stdout.split()[-1])
    out = tmp_path / "exports" / "cases.csv"
    _run(home, "export-cases", "--out", str(out), "--purpose", "fault test")
    first = out.read_bytes()
    assert len(_csv_rows(out)) == cases + 1  # header + one row per case

    # killed while it writes: the published file is the previous one, byte for byte
    _kill_when(home, ("export-cases", "--out", str(out), "--purpose", "fault test"),
               lambda: any(p.name.startswith(f".{out.name}.tmp-") and p.stat().st_size > 0
                           for p in out.parent.iterdir()))
    assert out.read_bytes() == first, "a killed export replaced the published file"
    leftovers = [p.name for p in out.parent.iterdir() if p != out]
    assert all(name.startswith(f".{out.name}.tmp-") for name in leftovers), leftovers

    # restart: the re-run writes a complete export again, and clears what the killed run left
    _run(home, "export-cases", "--out", str(out), "--purpose", "fault test")
    rows = _csv_rows(out)
    assert len(rows) == cases + 1
    ids = [int(r[0].strip().strip("\u200b\u200c\u200d\u2060\ufeff")) for r in rows[1:]]
    assert ids == sorted(ids) and len(set(ids)) == cases
    assert [p for p in out.parent.iterdir() if p != out] == [], "the killed export's partial file was left"
