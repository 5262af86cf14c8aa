"""After the demo set-up nothing under FIELDCOLLECT_HOME holds a demo customer's ID number, mobile or
street address in plaintext: not the SQLite file (raw bytes and every text column of every table), not
the columnar store or the nightly files (every string column of every Parquet file), nor any other
file. The demo runs as the real command, in a subprocess, on a small book."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from fieldcollect.demodata.generator import write_demo_portfolio

LOANS = 1_500
SEED = 7


def _demo_pii(tmp: Path, as_of: date) -> dict[str, set[str]]:
    export = tmp / "plain-export"
    write_demo_portfolio(export, n_loans=LOANS, seed=SEED, as_of=as_of)
    customers = pl.read_parquet(next(export.glob("customers*.parquet")))
    return {
        "id_number": set(customers["id_number"].to_list()),
        "mobile": set(customers["mobile"].to_list()),
        "address": set(customers["address"].to_list()),
    }


def _hits(text: str, needles: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(kind, n) for kind, values in needles.items() for n in values if n and n in text]


@pytest.mark.slow
def test_demo_home_has_no_plaintext_pii(tmp_path: Path, fc_home: Path) -> None:
    as_of = date.today() - timedelta(days=1)
    pii = _demo_pii(tmp_path, as_of)
    assert len(pii["mobile"]) > 500 and all(len(m) == 11 for m in pii["mobile"])
    env = dict(os.environ, FIELDCOLLECT_HOME=str(fc_home), DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("DATABASE_URL", None)
    env.pop("FIELDCOLLECT_MASTER_KEY", None)
    run = subprocess.run(
        [sys.executable, "-m", "fieldcollect.cli", "demo", "--no-serve", "--loans", str(LOANS), "--seed", str(SEED),
         "--days", "1", "--as-of", as_of.isoformat()],
        env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[3],
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # the demo did load these customers, and the application reads them back in plaintext
    db = fc_home / "fieldcollect.sqlite3"
    con = sqlite3.connect(db)
    n_customers = con.execute("SELECT COUNT(*) FROM portfolio_customer").fetchone()[0]
    assert n_customers == len(pii["mobile"]) or n_customers > 500
    stored_mobile = con.execute("SELECT mobile FROM portfolio_customer LIMIT 1").fetchone()[0]
    assert stored_mobile.startswith("fc2$")

    # 1. every text value of every table in the database
    found: list[tuple[str, str, str]] = []
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        for col in cols:
            for (value,) in con.execute(f'SELECT "{col}" FROM "{table}" WHERE typeof("{col}") = \'text\''):
                for kind, needle in _hits(value, pii):
                    found.append((f"{table}.{col}", kind, needle))
    con.close()
    assert not found, f"plaintext PII in the database: {found[:10]}"

    # 2. every string column of every Parquet file (the store is compressed: read, don't grep)
    parquet = sorted(fc_home.rglob("*.parquet"))
    assert any("store" in p.parts for p in parquet)
    for path in parquet:
        frame = pl.read_parquet(path)
        for col, dtype in frame.schema.items():
            if dtype == pl.String:
                values = set(frame[col].drop_nulls().to_list())
                for kind, needles in pii.items():
                    clash = values & needles
                    assert not clash, f"{kind} in {path}:{col}: {sorted(clash)[:3]}"

    # 3. the raw bytes of every file under the home (database, WAL, keys, logs, summaries, ...)
    needles_bytes = [(kind, n.encode()) for kind, values in pii.items() for n in values]
    files = [p for p in fc_home.rglob("*") if p.is_file()]
    assert db in files
    for path in files:
        data = path.read_bytes()
        for kind, raw in needles_bytes:
            assert raw not in data, f"plaintext {kind} {raw.decode()!r} in {path}"
