"""Benchmark of the nightly cycle against DuckDB on the same files.

    .venv/bin/python bench/daily_cycle.py --loans 1000000 --out bench/results/daily_cycle_1m.json

Steps: generate the demo export (cached in --workdir), build the columnar store (streaming, one pass)
and load the customers into the bench database, then in separate processes (so that each peak
memory is its own) run two business days of the whole nightly cycle (`run_daily`: dpd/bucket kernel,
roll rates, vintages, bucket history, publish, case sync, the steps after it, early warning) and DuckDB
SQL computing dpd and bucket from the same Parquet files. The first night opens the cases on an empty
case table; a realistic open book is then seeded on them (placements, promises to pay, performing
plans: ``bench/open_book.py``, a documented bulk path) and the second business day, the one compared
with DuckDB, syncs, judges and watches that book. Asserts that dpd and bucket agree on every loan and reports the time of every step of
``run_daily`` (its ``timings``: one entry per step), loans/s, peak memory, the machine's load average
and the ratio of our dpd/bucket stage to DuckDB's.

Set-up: customers go in through ingestion's bulk path (encrypted, bound to their row; a sample is
checked after loading), and the early-warning champion is trained once (timed apart: a bank's night
scores with the champion it has; the first night of a new data home also trains, which takes longer
than the whole rest of the cycle). ``--database-url`` runs on PostgreSQL (the database is emptied
and restored from a dump of the set-up with ``--reuse-setup``); ``--smoke`` is the size ``make test``
runs (``bench/tests/test_bench_smoke.py``). Step budgets: ``docs/nightly-budget.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


class RssSampler:
    """The process's resident memory sampled every ``every_s`` seconds in a thread, so that the peak can be
    placed in a step: ``peaks(timings)`` lays the steps end to end from the start (their times are
    consecutive, so the windows are close to the real ones) and gives the highest sample in each."""

    def __init__(self, every_s: float = 0.02) -> None:
        import threading

        self.every_s = every_s
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self._rss()))
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self.start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peaks(self, timings: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        t = self.start
        for name, seconds in timings.items():
            inside = [rss for at, rss in self.samples if t <= at <= t + seconds]
            if inside:
                out[name] = round(max(inside) / 2**30, 3)
            t += seconds
        return out


# ------------------------------------------------------------------------------------------ setup
def generate(workdir: Path, loans: int, seed: int, as_of: date) -> tuple[Path, float]:
    from fieldcollect.demodata.generator import write_demo_portfolio

    export = workdir / "export"
    manifest = export / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if meta["counts"]["loans"] == loans and meta["seed"] == seed and meta["as_of"] == as_of.isoformat():
            return export, 0.0
    t = time.perf_counter()
    write_demo_portfolio(export, n_loans=loans, seed=seed, as_of=as_of)
    return export, time.perf_counter() - t


def build_store(export: Path, home: Path) -> float:
    """One streaming pass: split the sorted export files into the store's loan partitions."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from fieldcollect.analytics.schemas import STORE_CUSTOMER_COLUMNS
    from fieldcollect.ingest import store

    t = time.perf_counter()
    root = home / "store"
    root.mkdir(parents=True, exist_ok=True)
    n_loans = pq.read_metadata(export / "loans.parquet").num_rows
    parts = max(1, -(-n_loans // store.LOANS_PER_PARTITION))
    staging = root / "v000001"
    counts = {}
    for table in ("loans", "installments", "payments"):
        (staging / table).mkdir(parents=True, exist_ok=True)
        src = pq.ParquetFile(export / f"{table}.parquet")
        writers: dict[int, pq.ParquetWriter] = {}
        counts[table] = src.metadata.num_rows
        for batch in src.iter_batches(batch_size=2_000_000):
            part = pc.remainder(batch.column("loan_id"), parts) if parts > 1 else None
            for p in range(parts):
                chunk = batch if part is None else batch.filter(pc.equal(part, p))
                if chunk.num_rows == 0:
                    continue
                if p not in writers:
                    writers[p] = pq.ParquetWriter(store.StoreVersion("v000001", staging, parts, {}).partition_file(
                        table, p), chunk.schema, compression="zstd")
                writers[p].write_table(pa.Table.from_batches([chunk]), row_group_size=500_000)
        for w in writers.values():
            w.close()
    customers = pq.read_table(export / "customers.parquet", columns=list(STORE_CUSTOMER_COLUMNS))
    (staging / "customers").mkdir(exist_ok=True)
    pq.write_table(customers, staging / "customers" / "part-00000.parquet", compression="zstd")
    counts["customers"] = customers.num_rows
    (staging / "_VERSION.json").write_text(json.dumps({"partitions": parts, "counts": counts}))
    store.publish(store.StoreVersion("v000001", staging, parts, counts), root)
    return time.perf_counter() - t


CUSTOMER_EXPORT_COLUMNS = ("customer_id", "name", "id_number", "mobile", "province", "city", "district", "address",
                           "lat", "lon")


def load_customers(export: Path) -> float:
    """The customers of the export into the database through ingestion's bulk path
    (:func:`fieldcollect.portfolio.services.customer_rows`: encrypted, bound to the row, blind indexes)."""
    import polars as pl
    import pyarrow.parquet as pq
    from django.db import transaction

    from fieldcollect.portfolio.models import Customer
    from fieldcollect.portfolio.services import CUSTOMER_COLUMNS, bulk_upsert, customer_rows

    t = time.perf_counter()
    src = pq.ParquetFile(export / "customers.parquet")
    with transaction.atomic():
        for batch in src.iter_batches(batch_size=200_000, columns=list(CUSTOMER_EXPORT_COLUMNS)):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            bulk_upsert(model=Customer, columns=CUSTOMER_COLUMNS, rows=customer_rows(frame))
    return time.perf_counter() - t


def check_customers_encrypted(export: Path, sample: int = 50) -> int:
    """Assert that customers landed encrypted: the stored name, ID number, mobile and address of a
    sample of the export's customers are ciphertexts bound to their row (never the clear text), and
    read back through the model as the export has them. Returns how many customers were checked."""
    import polars as pl
    from django.db import connection

    from fieldcollect.core.rawsql import column, table
    from fieldcollect.portfolio.models import Customer
    from fieldcollect.privacy.crypto import is_encrypted

    frame = pl.read_parquet(export / "customers.parquet", columns=list(CUSTOMER_EXPORT_COLUMNS))
    step = max(1, frame.height // sample)
    rows = frame.gather_every(step).head(sample)
    pii = ("name", "id_number", "mobile", "address")
    ids = rows["customer_id"].to_list()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column(Customer, 'customer_id')}, {', '.join(column(Customer, n) for n in pii)} "
            f"FROM {table(Customer)} WHERE {column(Customer, 'customer_id')} IN ({', '.join(['%s'] * len(ids))})",
            ids)
        raw = {r[0]: r[1:] for r in cursor.fetchall()}
    stored = {c.customer_id: c for c in Customer.objects.filter(customer_id__in=ids)}
    if len(raw) != len(ids) or len(stored) != len(ids):
        raise SystemExit(f"customers missing from the database: {len(ids) - len(raw)} of {len(ids)}")
    for r in rows.iter_rows(named=True):
        for name, value in zip(pii, raw[r["customer_id"]], strict=True):
            if r[name] and (not is_encrypted(value) or r[name] in value):
                raise SystemExit(f"customer {r['customer_id']}: {name} stored in clear")
            if getattr(stored[r["customer_id"]], name) != r[name]:
                raise SystemExit(f"customer {r['customer_id']}: {name} does not read back as exported")
    return len(ids)


# ------------------------------------------------------------------------------------- children
def child_champion(as_of: date) -> dict:
    """Train the early-warning champion unless the data home has one: a bank's nightly cycle scores
    with the champion it has, retraining is monthly (or on drift), so the benchmark's nightly figures
    are those of a night with a champion; the training is timed here, in the set-up."""
    from fieldcollect.bootstrap import migrate_quietly, setup_django

    setup_django()
    migrate_quietly()
    from fieldcollect.earlywarning import engine
    from fieldcollect.ingest.store import require_current

    reg = engine.registry()
    why = engine.needs_training(reg, as_of=as_of)
    if why is None:
        return {"trained": False, "seconds": 0.0, "why": "the data home has a champion"}
    t = time.perf_counter()
    try:
        engine.train_model(require_current(), as_of=as_of, reg=reg)
    except engine.NotEnoughHistory as exc:
        return {"trained": False, "seconds": time.perf_counter() - t, "why": f"not enough history: {exc}"}
    return {"trained": True, "seconds": time.perf_counter() - t, "why": why}


def child_cycle(as_of: date, engine: str = "local") -> dict:
    from fieldcollect.bootstrap import migrate_quietly, setup_django

    setup_django()
    migrate_quietly()
    from fieldcollect.daily.services import run_daily

    with RssSampler() as rss:
        t = time.perf_counter()
        result = run_daily(as_of=as_of, engine=engine, progress=False)
        total = time.perf_counter() - t
    timings = dict(result.timings)
    warning = result.summary.get("early_warning", {})
    return {"total_s": total, "timings": timings, "peak_rss_gib": peak_rss_gib(),
            "peak_rss_gib_by_step": rss.peaks(timings),
            "loans": result.summary["loans"], "cases": result.summary.get("cases", {}),
            "early_warning": {k: warning.get(k) for k in ("trained", "train_s", "scored", "timings", "skipped", "error")
                              if k in warning},
            "loan_status": str(result.path / "loan_status.parquet")}


def child_seed(first_day: date, as_of: date) -> dict:
    """Seed the realistic open book (``bench/open_book.py``) on the cases the first night opened."""
    from fieldcollect.bootstrap import setup_django

    setup_django()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from open_book import seed_open_book

    t = time.perf_counter()
    counts = seed_open_book(as_of=first_day, next_day=as_of)
    return {"seconds": round(time.perf_counter() - t, 2), **counts}


def previous_business_day(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def child_bulk_paths(as_of: date, repeat: int = 3) -> dict:
    """Side by side on the same database and rows (the day's delinquent loans, after the cycle), each in
    a rolled-back transaction, alternated ``repeat`` times: the case sync's bulk writes as they were (one
    INSERT per row through ``executemany``) against the bulk path (``core.rawsql.copy_rows``: COPY on
    PostgreSQL). Medians and the ratio after/before; on SQLite both are INSERTs (ratio about 1)."""
    import statistics
    from decimal import Decimal

    import polars as pl

    from fieldcollect.bootstrap import setup_django

    setup_django()
    from django.db import connection, transaction

    from fieldcollect.core import rawsql
    from fieldcollect.daily.cycle import read_published
    from fieldcollect.daily.services import LOAN_FIELDS, STATUS_COLUMNS, STATUS_TABLE
    from fieldcollect.ingest.store import require_current
    from fieldcollect.portfolio.models import Loan
    from fieldcollect.portfolio.services import bulk_upsert

    delinquent = read_published(as_of, "loan_status").filter(pl.col("dpd") >= 1)
    rows = delinquent.select(*STATUS_COLUMNS).rows()
    loans = (require_current().scan("loans").filter(pl.col("loan_id").is_in(delinquent["loan_id"].implode()))
             .select("loan_id", "customer_id", "product", "principal_fen", "annual_rate", "term_months", "method",
                     "disbursed_on").collect())
    loan_rows = [(r[0], r[1], r[2], r[3], Decimal(str(round(r[4], 4))), r[5], r[6], r[7], "CN")
                 for r in loans.iter_rows()]
    qn = connection.ops.quote_name
    names = [rawsql.field(Loan, c).column for c in LOAN_FIELDS]
    upsert_sql = (f"INSERT INTO {rawsql.table(Loan)} ({', '.join(qn(c) for c in names)}) "
                  f"VALUES ({', '.join(['%s'] * len(names))}) ON CONFLICT ({qn('loan_id')}) DO UPDATE SET "
                  + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in names if c != "loan_id"))
    status_sql = f"INSERT INTO {STATUS_TABLE} ({', '.join(STATUS_COLUMNS)}) VALUES ({', '.join(['%s'] * 6)})"

    def per_row(sql: str, data: list) -> None:
        with connection.cursor() as cursor:
            for i in range(0, len(data), 5_000):
                cursor.executemany(sql, data[i:i + 5_000])

    def status_table(fill) -> None:  # type: ignore[no-untyped-def]
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {STATUS_TABLE} (loan_id BIGINT PRIMARY KEY, dpd INTEGER, "
                           "bucket VARCHAR(8), overdue_fen BIGINT, outstanding_principal_fen BIGINT, settled BOOLEAN)")
        fill()

    variants = {
        "status_table_per_row_insert": lambda: status_table(lambda: per_row(status_sql, rows)),
        "status_table_copy_rows": lambda: status_table(lambda: rawsql.copy_rows(STATUS_TABLE, STATUS_COLUMNS, rows)),
        "loan_upsert_per_row_insert": lambda: per_row(upsert_sql, loan_rows),
        "loan_upsert_bulk_upsert": lambda: bulk_upsert(model=Loan, columns=LOAN_FIELDS, rows=iter(loan_rows)),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    load = [os.getloadavg()]
    for _ in range(repeat):
        for name, fn in variants.items():
            with transaction.atomic():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
                transaction.set_rollback(True)
    load.append(os.getloadavg())
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"database": connection.vendor, "status_rows": len(rows), "loan_rows": len(loan_rows), "repeat": repeat,
            "median_s": {k: round(v, 4) for k, v in med.items()},
            "ratio_status_table_copy_over_per_row": round(med["status_table_copy_rows"]
                                                          / med["status_table_per_row_insert"], 4),
            "ratio_loan_upsert_bulk_over_per_row": round(med["loan_upsert_bulk_upsert"]
                                                         / med["loan_upsert_per_row_insert"], 4),
            "load_average_before_after": [[round(x, 2) for x in la] for la in load]}


DUCKDB_SQL = """
WITH t AS (
  SELECT loan_id, SUM(amount_fen) AS paid FROM read_parquet('{store}/payments/*.parquet')
  WHERE paid_on <= DATE '{as_of}' GROUP BY loan_id),
i AS (
  SELECT loan_id, due_date, principal_due_fen + interest_due_fen AS amt,
         SUM(principal_due_fen + interest_due_fen) OVER (PARTITION BY loan_id ORDER BY seq) AS cum
  FROM read_parquet('{store}/installments/*.parquet')),
l AS (SELECT loan_id FROM read_parquet('{store}/loans/*.parquet') WHERE disbursed_on <= DATE '{as_of}'),
d AS (
  SELECT i.loan_id,
         COALESCE(date_diff('day', MIN(i.due_date) FILTER (WHERE i.cum > COALESCE(t.paid, 0)
                                                          AND i.due_date < DATE '{as_of}'), DATE '{as_of}'), 0) AS dpd
  FROM i LEFT JOIN t USING (loan_id) GROUP BY i.loan_id)
SELECT l.loan_id, d.dpd,
  CASE WHEN d.dpd = 0 THEN 'M0' WHEN d.dpd <= 30 THEN 'M1' WHEN d.dpd <= 60 THEN 'M2' WHEN d.dpd <= 90 THEN 'M3'
       WHEN d.dpd <= 120 THEN 'M4' WHEN d.dpd <= 150 THEN 'M5' WHEN d.dpd <= 180 THEN 'M6' ELSE 'M6+' END AS bucket
FROM l JOIN d USING (loan_id)
"""


def child_duckdb(store_path: str, as_of: date, out: str) -> dict:
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"COPY ({DUCKDB_SQL.format(store=store_path, as_of=as_of)}) TO '{out}' (FORMAT parquet)")
    seconds = time.perf_counter() - t
    return {"dpd_bucket_s": seconds, "peak_rss_gib": peak_rss_gib(), "version": duckdb.__version__}


def run_child(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reset_postgres(url: str) -> None:
    """Empty the PostgreSQL database ``url`` (its ``public`` schema): the benchmark owns it."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS public CASCADE")
        con.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=None, help="default 1,000,000 (--smoke: 3,000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-06-30")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--database-url", default="",
                        help="run on this PostgreSQL database (EMPTIED by the set-up) instead of SQLite in the workdir")
    parser.add_argument("--smoke", action="store_true",
                        help="a few thousand loans: checks that the benchmark runs and agrees with DuckDB (make test)")
    parser.add_argument("--reuse-setup", action="store_true", help="reuse the store and database set-up of an earlier run")
    parser.add_argument("--setup-only", action="store_true", help="generate and set up, do not run the benchmark")
    parser.add_argument("--child", choices=["cycle", "duckdb", "champion", "bulk-paths", "seed"], default=None)
    parser.add_argument("--first-day", default="")
    parser.add_argument("--engine", choices=["local", "spark"], default="local",
                        help="the dpd/bucket engine of the nightly cycle (spark runs on local[2])")
    parser.add_argument("--store", default="")
    parser.add_argument("--result", default="")
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    if args.child == "cycle":
        print(json.dumps(child_cycle(as_of, args.engine)))
        return
    if args.child == "duckdb":
        print(json.dumps(child_duckdb(args.store, as_of, args.result)))
        return
    if args.child == "champion":
        print(json.dumps(child_champion(as_of)))
        return
    if args.child == "bulk-paths":
        print(json.dumps(child_bulk_paths(as_of)))
        return
    if args.child == "seed":
        print(json.dumps(child_seed(date.fromisoformat(args.first_day), as_of)))
        return
    loans = args.loans or (3_000 if args.smoke else 1_000_000)

    import shutil

    import polars as pl
    from rich.console import Console
    from rich.table import Table

    load_before = os.getloadavg()
    workdir = args.workdir or Path(os.environ.get("TMPDIR", "/tmp")) / f"fieldcollect-bench-{loans}"
    workdir.mkdir(parents=True, exist_ok=True)
    console = Console()
    console.print(f"[bold]daily cycle benchmark[/] loans={loans:,} workdir={workdir} "
                  f"database={'PostgreSQL' if args.database_url else 'SQLite'}")
    export, gen_s = generate(workdir, loans, args.seed, as_of)

    home = workdir / "home"
    db_tag = "postgresql" if args.database_url else "sqlite"
    snapshot = workdir / ("setup.pgdump" if args.database_url else "setup.sqlite3")
    marker = workdir / f"setup-{db_tag}.json"
    settings = {"FIELDCOLLECT_HOME": str(home), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env = dict(os.environ, **settings)
    env.pop("DATABASE_URL", None)
    os.environ.update(settings)
    os.environ.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = os.environ["DATABASE_URL"] = args.database_url
    if args.reuse_setup and marker.exists() and gen_s == 0.0:
        # same export: keep the store, restore the database as it was right after set-up
        setup = json.loads(marker.read_text())
        store_s, cust_s, encrypted = setup["build_store"], setup["load_customers"], setup["customers_checked"]
        shutil.rmtree(home / "daily", ignore_errors=True)
        if args.database_url:
            reset_postgres(args.database_url)
            subprocess.run(["pg_restore", "--no-owner", "-d", args.database_url, str(snapshot)], check=True)
        else:
            for suffix in ("", "-wal", "-shm"):
                (home / f"fieldcollect.sqlite3{suffix}").unlink(missing_ok=True)
            shutil.copy(snapshot, home / "fieldcollect.sqlite3")
    else:
        if home.exists():
            shutil.rmtree(home)
        home.mkdir()
        if args.database_url:
            reset_postgres(args.database_url)
        store_s = build_store(export, home)
        from fieldcollect.bootstrap import migrate_quietly, setup_django

        setup_django()
        migrate_quietly()
        cust_s = load_customers(export)
        encrypted = check_customers_encrypted(export)
        from django.db import connection

        connection.close()
        if args.database_url:
            subprocess.run(["pg_dump", "-Fc", "-f", str(snapshot), args.database_url], check=True)
        else:
            shutil.copy(home / "fieldcollect.sqlite3", snapshot)
        marker.write_text(json.dumps({"build_store": store_s, "load_customers": cust_s,
                                      "customers_checked": encrypted}))
    if args.setup_only:
        console.print(f"set-up done in {workdir}")
        return
    champion = run_child(["--child", "champion", "--as-of", args.as_of], env)
    console.print(f"generated in {gen_s:.1f}s, store built in {store_s:.1f}s, customers loaded in {cust_s:.1f}s "
                  f"({encrypted} checked encrypted); early-warning champion: {champion['why']} "
                  f"({champion['seconds']:.1f}s)")

    # the first night opens the cases on an empty case table; the open book is seeded on them; the second
    # business day (as_of) is the night measured against DuckDB, with every nightly step reading a real book
    first_day = previous_business_day(as_of)
    first = run_child(["--child", "cycle", "--as-of", first_day.isoformat(), "--engine", args.engine], env)
    console.print(f"first night ({first_day}): {first['total_s']:.2f}s, cases {first['cases'].get('opened', 0):,} opened")
    seeded = run_child(["--child", "seed", "--first-day", first_day.isoformat(), "--as-of", args.as_of], env)
    console.print(f"open book seeded in {seeded['seconds']:.1f}s: {seeded}")
    ours = run_child(["--child", "cycle", "--as-of", args.as_of, "--engine", args.engine], env)
    duck_out = str(workdir / "duckdb_status.parquet")
    duck = run_child(["--child", "duckdb", "--store", str(home / "store" / "v000001"), "--as-of", args.as_of,
                      "--result", duck_out], env)
    bulk = run_child(["--child", "bulk-paths", "--as-of", args.as_of], env)
    load_after = os.getloadavg()

    mine = pl.read_parquet(ours["loan_status"], columns=["loan_id", "dpd", "bucket"]).sort("loan_id")
    ref = pl.read_parquet(duck_out).sort("loan_id").cast({"dpd": pl.Int32})
    equal = mine.equals(ref)
    if not equal:
        diff = mine.join(ref, on="loan_id", how="full", suffix="_duckdb").filter(
            (pl.col("dpd") != pl.col("dpd_duckdb")) | (pl.col("bucket") != pl.col("bucket_duckdb"))
            | pl.col("dpd").is_null() | pl.col("dpd_duckdb").is_null())
        console.print(diff.head(10))
        raise SystemExit("dpd/bucket differ from DuckDB")
    t = ours["timings"]
    ratio = t["dpd_bucket_s"] / duck["dpd_bucket_s"]
    table = Table(title=f"Nightly cycle, {loans:,} loans, {db_tag} ({platform.machine()}, {os.cpu_count()} cores, "
                        f"load {load_before[0]:.1f})")
    for col in ("step", "seconds", "peak RSS GiB"):
        table.add_column(col, justify="right")
    for step, seconds in t.items():
        table.add_row(step, f"{seconds:.3f}", "")
    table.add_row("[bold]whole cycle, second business day[/]", f"{ours['total_s']:.2f}", f"{ours['peak_rss_gib']:.2f}")
    table.add_row("[bold]whole cycle, first night[/]", f"{first['total_s']:.2f}", f"{first['peak_rss_gib']:.2f}")
    table.add_row("DuckDB dpd + bucket", f"{duck['dpd_bucket_s']:.2f}", f"{duck['peak_rss_gib']:.2f}")
    console.print(table)
    console.print(f"ratio ours/DuckDB (dpd+bucket) = {ratio:.3f}; loans/s (whole cycle) = "
                  f"{loans / ours['total_s']:,.0f}; outputs equal: {equal}")
    result = {
        "benchmark": "daily_cycle",
        "command": " ".join([".venv/bin/python", "bench/daily_cycle.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        "database": db_tag,
        "engine": args.engine,
        "loans": loans,
        "installments": int(pq_rows(export / "installments.parquet")),
        "payments": int(pq_rows(export / "payments.parquet")),
        "setup_seconds": {"generate": round(gen_s, 2), "build_store": round(store_s, 2),
                          "load_customers": round(cust_s, 2), "train_early_warning": round(champion["seconds"], 2)},
        "early_warning_champion": champion,
        "customers_checked_encrypted": encrypted,
        "open_book_seeded": seeded,
        "first_night": {"as_of": first_day.isoformat(),
                        **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in first.items()
                           if k not in ("loan_status", "timings")},
                        "stages_s": {k: round(v, 3) for k, v in first["timings"].items()}},
        "cycle": {"as_of": args.as_of, **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in ours.items()
                                          if k not in ("loan_status", "timings")}},
        "stages_s": {k: round(v, 3) for k, v in t.items()},
        "duckdb": duck,
        "ratio_dpd_bucket_vs_duckdb": round(ratio, 4),
        "case_sync_bulk_paths": bulk,
        "loans_per_second_whole_cycle": round(loans / ours["total_s"]),
        "dpd_bucket_equal_to_duckdb": equal,
        "targets": {"whole_cycle_10m_s_max": 90, "peak_gib_max": 6, "ratio_max_1m": 1.0, "ratio_max_10m": 0.7},
    }
    out = args.out or (workdir / "daily_cycle_smoke.json" if args.smoke
                       else ROOT / "bench" / "results" / f"daily_cycle_{loans}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {out}")


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


if __name__ == "__main__":
    main()
