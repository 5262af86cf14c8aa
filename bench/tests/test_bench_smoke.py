"""Every benchmark in ``bench/`` runs at a smoke size in ``make test``, so that none can rot.

Each benchmark runs as its users run it (``python bench/<name>.py ...``, in a child process, with its
own data home and its results written to a temporary file, never to ``bench/results``), at a size that
takes seconds, and the test checks what the benchmark's oracle says (DuckDB agrees, the LP bound is
met, every plan passes the independent checker, no acknowledged write is lost, ...), never a time.

The benchmarks that need PostgreSQL (``audit_log_concurrency``, ``request_cost``, ``load``) run in
``make pg`` (``DATABASE_URL`` names a PostgreSQL server: each gets a scratch database of its own on
it, dropped afterwards); the others run in ``make unit``. :func:`test_every_benchmark_has_a_smoke_run`
fails when a new ``bench/*.py`` is added without one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import pytest

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
AS_OF = "2026-06-30"

# modules of bench/ that are not benchmarks, and the benchmark whose smoke run exercises each
HELPERS = {"load_bodies": "request_cost", "load_locustfile": "load", "contact_floor_app": "load",
           "open_book": "daily_cycle"}
SMOKE_RUNS: set[str] = set()  # filled by @smoke below


def smoke(name: str):  # type: ignore[no-untyped-def]
    SMOKE_RUNS.add(name)
    return lambda fn: fn


def pg_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


needs_postgres = pytest.mark.skipif(pg_url() is None, reason="needs DATABASE_URL of a PostgreSQL server (make pg)")


def run(script: str, *args: str, home: Path, database_url: str | None = None,
        timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FIELDCOLLECT_HOME=str(home), PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="config.settings",
               COLUMNS="150")
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.run([sys.executable, str(BENCH / f"{script}.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"bench/{script}.py {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def run_json(script: str, *args: str, home: Path, out_dir: Path) -> dict[str, Any]:
    """Runs a benchmark that writes its figures to ``--out`` (a file in ``out_dir``); those figures."""
    out = out_dir / f"{script}.json"
    run(script, *args, "--out", str(out), home=home)
    return cast(dict[str, Any], json.loads(out.read_text()))


def smoke_on_postgres(name: str):  # type: ignore[no-untyped-def]
    """:func:`smoke` for a benchmark that needs PostgreSQL: selected by `make pg` (marked postgres and
    django_db), skipped without a DATABASE_URL naming a PostgreSQL server."""

    def mark(fn):  # type: ignore[no-untyped-def]
        return smoke(name)(pytest.mark.postgres(pytest.mark.django_db(needs_postgres(fn))))

    return mark


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def scratch_database() -> Iterator[tuple[str, str]]:
    """A new, empty PostgreSQL database on the server of DATABASE_URL: (name, url); dropped afterwards."""
    import psycopg

    base = pg_url()
    assert base is not None
    name = f"fc_smoke_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_benchmark_has_a_smoke_run() -> None:
    scripts = {p.stem for p in BENCH.glob("*.py")}
    assert scripts - set(HELPERS) == SMOKE_RUNS, "each bench/*.py needs a smoke run here (or is a helper)"
    assert set(HELPERS.values()) <= SMOKE_RUNS


# ------------------------------------------------------------------------------- pure benchmarks

@smoke("allocation")
def test_allocation(home: Path, tmp_path: Path) -> None:
    r = run_json("allocation", "--cases", "3000", "--agencies", "12", "--per-case", "4", "--lp-cases", "400",
                 home=home, out_dir=tmp_path)
    assert r["full"]["certificate"]["optimal"] and r["full"]["objective_equals_lp_bound"]
    assert r["lp_check"]["equal"] and r["lp_check"]["certificate_optimal"]
    assert r["full"]["objective_fen"] >= r["full"]["greedy_objective_fen"] > 0


@smoke("routing")
def test_routing(home: Path, tmp_path: Path) -> None:
    r = run_json("routing", "--time-limit", "0.5", "--instances", "C101,R101", home=home, out_dir=tmp_path)
    assert r["summary"]["instances"] == 2 and r["summary"]["all_feasible"]
    assert all(not i["violations"] for i in r["instances"])


@smoke("route_day")
def test_route_day(home: Path, tmp_path: Path) -> None:
    r = run_json("route_day", "--budgets", "0.5", "--teams", "3", "--visits-per-team", "4", home=home,
                 out_dir=tmp_path)
    assert len(r["runs"]) == 2  # the plan and the re-plan
    assert all(run["feasible"] and not run["independent_check_errors"] for run in r["runs"])


@smoke("strategy")
def test_strategy(home: Path, tmp_path: Path) -> None:
    r = run_json("strategy", "--customers", "400", "--replications", "2", "--history", "3000",
                 "--ab-customers", "2000", "--timing-cases", "2000", "--resamples", "50", home=home,
                 out_dir=tmp_path)
    assert {"champion", "optimised_oracle", "optimised_learned"} <= set(r["strategies"])
    assert len(r["per_replication"]) == 2 * len(r["strategies"])


@smoke("models")
def test_models(home: Path, tmp_path: Path) -> None:
    name = "germancredit"  # the smallest data set of bench/data/credit (1,000 rows)
    r = run_json("models", "--datasets", name, "--folds", "2", "--repeats", "1", "--rows", "2000",
                 "--reason-rows", "200", "--jobs", "1", home=home, out_dir=tmp_path)
    auc = r["auc"][name]
    for key in ("ours", "logreg", "hgb"):
        assert 0.5 < auc[key]["mean"] <= 1.0, (key, auc[key])
    assert r["throughput"][name]["rows_per_s_no_reasons"] > 0


# ------------------------------------------------------------------------- Django, on SQLite

@smoke("daily_cycle")
def test_daily_cycle(home: Path, tmp_path: Path) -> None:
    from fieldcollect.daily.services import CYCLE_STEPS, EARLY_WARNING_STEPS, RECORD_STEPS, SYNC_STEPS

    r = run_json("daily_cycle", "--smoke", "--workdir", str(tmp_path / "work"), home=home, out_dir=tmp_path)
    assert r["dpd_bucket_equal_to_duckdb"] is True
    assert r["customers_checked_encrypted"] >= 10  # and the set-up failed if one was stored in clear
    assert tuple(r["stages_s"]) == (*CYCLE_STEPS, *SYNC_STEPS, *RECORD_STEPS, *EARLY_WARNING_STEPS)
    assert "load_average_before" in r["machine"]
    # the first night opens the cases on an empty table; the second business day works the seeded book
    first, book, second = r["first_night"], r["open_book_seeded"], r["cycle"]["cases"]
    assert tuple(first["stages_s"]) == tuple(r["stages_s"]) and first["cases"]["opened"] > 0
    assert first["as_of"] < r["cycle"]["as_of"]
    assert book["open_cases"] == first["cases"]["opened"] and 0 < book["promises_open"] < book["placed"]
    assert second["updated"] + second["closed"] == book["open_cases"]  # every open case of the book was synced
    assert second["promises_kept"] + second["promises_broken"] + second["promises_pending"] == book["promises_open"]
    assert r["cycle"]["total_s"] > 0 and r["first_night"]["total_s"] > 0
    bulk = r["case_sync_bulk_paths"]  # the before/after comparison of the sync's bulk writes ran
    assert bulk["status_rows"] == bulk["loan_rows"] > 0


@smoke("early_warning")
def test_early_warning(home: Path, tmp_path: Path) -> None:
    export = tmp_path / "export"
    for args in (("demo-data", "--out", str(export), "--loans", "8000", "--as-of", AS_OF),
                 ("ingest", str(export)), ("run-daily", "--as-of", AS_OF)):
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"FIELDCOLLECT_HOME": str(home)}
        proc = subprocess.run([sys.executable, "-m", "fieldcollect.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
    r = run_json("early_warning", "--as-of", AS_OF, home=home, out_dir=tmp_path)
    assert r["current_loans"] > 0 and r["nightly_scoring"]["scored"] == r["current_loans"]
    assert 0.5 <= r["training"]["auc"] <= 1.0


@smoke("qa_scan")
def test_qa_scan(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "qa.json"
    run("qa_scan", "--smoke", "--out", str(out), home=home)
    r = json.loads(out.read_text())
    quality = r["quality"]
    assert quality["transcripts"] >= 60 and quality["transcripts_without_findings"] >= 15
    assert quality["micro"]["precision"] >= 0.9 and quality["micro"]["recall"] >= 0.9
    assert set(quality["per_category"]) >= {"threat", "missing_debt_collector_disclosure"}
    oracle = r["throughput"]["oracle"]
    assert r["throughput"]["transcripts"] == oracle["output_lines"] == 2000
    assert oracle["planted_transcripts"] > 0 and oracle["mismatches"] == 0


@smoke("case_list")
def test_case_list(home: Path, tmp_path: Path) -> None:
    r = run_json("case_list", "--cases", "600", "--agency-cases", "300", "--repeat", "2", "--home", str(home),
                 home=home, out_dir=tmp_path)
    assert r["database"] == "sqlite" and r["cases"] == 600
    assert len(r["results"]) == 7 and all(0 < s["queries"] <= 30 for s in r["results"])


@smoke("audit_log_cost")
def test_audit_log_cost(home: Path) -> None:
    proc = run("audit_log_cost", "200", "3000", home=home)
    assert "sqlite: bulk append" in proc.stdout and "verify" in proc.stdout  # the script asserts the chain verifies
    assert "sqlite: n=200 own-transaction median" in proc.stdout


@smoke("payments")
def test_payments(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "payments.json"
    run("payments", "--smoke", "--out", str(out), home=home)
    r = json.loads(out.read_text())
    assert r["lines"] == 2_000 and r["database"] == "sqlite"
    assert r["checks"] and all(r["checks"].values()), r["checks"]  # each line applied once, effects as the oracle
    assert r["promises_kept"] > 0 and r["visits_cancelled"] > 0  # the effects were exercised


# ------------------------------------------------------------------------- PostgreSQL only

@smoke_on_postgres("audit_log_concurrency")
def test_audit_log_concurrency(home: Path, scratch_database: tuple[str, str]) -> None:
    proc = run("audit_log_concurrency", "3", "20", home=home, database_url=scratch_database[1])
    assert "postgresql: 3 writers x 20 audited transactions" in proc.stdout
    assert "chain verified: 60 entries written" in proc.stdout


@smoke_on_postgres("request_cost")
def test_request_cost(home: Path, scratch_database: tuple[str, str], tmp_path: Path) -> None:
    r = run_json("request_cost", "--requests", "5", "--cases", "10", "--database-url", scratch_database[1],
                 home=home, out_dir=tmp_path)
    ends = r["endpoints"]
    assert ends["healthz"]["statuses"] == {"200": 5} and ends["list"]["statuses"] == {"200": 5}
    assert ends["contact"]["statuses"] == {"201": 5}
    assert ends["list"]["sql_statements"] > 0 and ends["contact"]["sql_statements"] > 0


@smoke_on_postgres("load")
def test_load(home: Path, scratch_database: tuple[str, str], tmp_path: Path) -> None:
    r = run_json("load", "--duration", "3", "--users", "4", "--spawn-rate", "4", "--saturation-duration", "2",
                 "--saturation-users", "2", "--agencies", "2", "--cases-per-agency", "5",
                 "--history-per-case", "1", "--workers", "1", "--database-url", scratch_database[1],
                 home=home, out_dir=tmp_path)
    assert r["targets"]["no_lost_writes"] is True and r["writes"]["lost_writes"] == 0
    assert r["writes"]["contact_rows_added"] > 0  # contacts were recorded at all


@smoke("results_import")
@pytest.mark.postgres
@pytest.mark.django_db  # selected by `make pg`
@needs_postgres
def test_results_import(home: Path, scratch_database: tuple[str, str], tmp_path: Path) -> None:
    out = tmp_path / "results_import.json"
    run("results_import", "--smoke", "--database-url", scratch_database[1], "--out", str(out), home=home)
    r = json.loads(out.read_text())
    assert r["rows"] == 600 and all(r["checks"].values()), r["checks"]
    assert r["answer"]["breaches"] == r["made"]["night_calls"] > 0
    assert r["answer"]["rejected"] == r["made"]["unknown_cases"] > 0
