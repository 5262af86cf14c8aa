"""The nightly delinquency cycle for one business date ``as_of``.

Stages: per-loan status (the partition kernel, local Polars/NumPy or Spark) → loan_status, roll
rates, vintages, bucket history, summary → atomic publish under ``daily/<DATE>`` → collection cases
opened, updated and closed in the database (when ``as_of`` is not older than the last synced day).

A run's files are written into ``daily/.runs/<DATE>-<run id>/`` and published by atomically
replacing the symlink ``daily/<DATE>``; a crash before that leaves the previous run of that date (if
any) published. Re-running a date reproduces the same files from the same store version.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from fieldcollect.analytics.dates import add_months
from fieldcollect.analytics.delinquency import (
    DEFAULT_RANGES,
    EPOCH,
    NO_DATE,
    DelinquencyRange,
    compute_partition_arrow,
    validate_ranges,
    warm_up,
)
from fieldcollect.home import daily_root, fsync_dir, home_dir
from fieldcollect.ingest.store import StoreVersion, require_current

OUTPUT_FILES = ("loan_status.parquet", "roll_rates.parquet", "vintages.parquet", "bucket_history.parquet",
                "summary.json")


def load_ranges(path: Path | None = None) -> tuple[DelinquencyRange, ...]:
    """Delinquency ranges from ``$FIELDCOLLECT_HOME/delinquency_ranges.json`` if present, else the default."""
    path = path or home_dir() / "delinquency_ranges.json"
    if not path.exists():
        return DEFAULT_RANGES
    raw = json.loads(path.read_text())
    return validate_ranges([DelinquencyRange(r["classification"], int(r["min_age_days"]),
                                             None if r.get("max_age_days") is None else int(r["max_age_days"]))
                            for r in raw])


@dataclass
class CycleResult:
    as_of: date
    run_id: str
    engine: str
    store_version: str
    path: Path
    timings: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    per_loan: pl.DataFrame | None = None


# ---------------------------------------------------------------------------------------- engines
LOAN_COLS = ["loan_id", "disbursed_on", "principal_fen"]
INST_COLS = ["loan_id", "seq", "due_date", "principal_due_fen", "interest_due_fen"]
PAY_COLS = ["loan_id", "paid_on", "amount_fen"]


def run_local_engine(version: StoreVersion, as_of: date, previous: date, ranges: Sequence[DelinquencyRange],
                     on_partition: Callable[[], None] | None = None, workers: int = 2) -> pa.Table:
    """The kernel over each stored partition, two at a time."""

    def one(part: int) -> pa.Table:
        loans = pq.read_table(version.partition_file("loans", part), columns=LOAN_COLS)
        inst = pq.read_table(version.partition_file("installments", part), columns=INST_COLS)
        pays = pq.read_table(version.partition_file("payments", part), columns=PAY_COLS)
        out = compute_partition_arrow(loans, inst, pays, as_of=as_of, previous=previous, ranges=ranges)
        if on_partition:
            on_partition()
        return out

    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(one, range(version.partitions)))
    return pa.concat_tables(parts)


# --------------------------------------------------------------------------------- post-processing
def _to_date(days: pl.Expr) -> pl.Expr:
    return pl.when(days >= NO_DATE).then(None).otherwise(days).cast(pl.Int32).cast(pl.Date)


def build_outputs(per_loan: pl.DataFrame, *, as_of: date, previous: date, ranges: Sequence[DelinquencyRange],
                  prev_history: pl.DataFrame | None) -> dict[str, Any]:
    # only the status file is kept in loan order: the other outputs are aggregates or sorted themselves, so
    # the per-loan frame is not copied whole to sort it (at 10M loans that copy was the night's peak)
    status = per_loan.select(
        "loan_id",
        pl.lit(as_of).alias("as_of"),
        pl.col("dpd").cast(pl.Int32),
        "bucket",
        "overdue_fen",
        "outstanding_principal_fen",
        "paid_total_fen",
        _to_date(pl.col("first_unpaid_day")).alias("first_unpaid_due"),
        "settled",
    ).sort("loan_id")
    order = [r.classification for r in ranges] + ["settled"]
    # roll rates: loans open at the previous date, bucket then → bucket (or settled) now
    roll_src = per_loan.filter(pl.col("prev_active") & ~pl.col("prev_settled")).select(
        pl.col("prev_bucket").alias("from_bucket"),
        pl.when(pl.col("settled")).then(pl.lit("settled")).otherwise(pl.col("bucket")).alias("to_bucket"),
        pl.col("prev_outstanding_principal_fen").alias("balance_fen"),
    )
    roll = roll_src.group_by("from_bucket", "to_bucket").agg(
        pl.len().cast(pl.Int64).alias("loans"), pl.col("balance_fen").sum().alias("balance_fen"))
    roll = roll.with_columns(
        (pl.col("loans") / pl.col("loans").sum().over("from_bucket")).alias("share_loans"),
        (pl.col("balance_fen") / pl.col("balance_fen").sum().over("from_bucket")).fill_nan(0.0).alias("share_balance"),
        pl.col("from_bucket").replace_strict({b: i for i, b in enumerate(order)}, return_dtype=pl.Int32).alias("_f"),
        pl.col("to_bucket").replace_strict({b: i for i, b in enumerate(order)}, return_dtype=pl.Int32).alias("_t"),
    ).sort("_f", "_t").drop("_f", "_t").with_columns(pl.lit(previous).alias("from_date"), pl.lit(as_of).alias("to_date"))

    vint = _vintages(per_loan, as_of)
    history = _bucket_history(per_loan, as_of=as_of, ranges=ranges, prev_history=prev_history)

    total_out = int(status["outstanding_principal_fen"].sum())
    open_loans = status.filter(~pl.col("settled"))
    by_bucket = open_loans.group_by("bucket").agg(pl.len().alias("loans"),
                                                  pl.col("outstanding_principal_fen").sum().alias("balance_fen"),
                                                  pl.col("overdue_fen").sum().alias("overdue_fen"))
    bucket_rows = {r["bucket"]: r for r in by_bucket.iter_rows(named=True)}
    dpd30 = int(open_loans.filter(pl.col("dpd") >= 30)["outstanding_principal_fen"].sum())
    summary = {
        "as_of": as_of.isoformat(),
        "previous": previous.isoformat(),
        "loans": status.height,
        "open_loans": open_loans.height,
        "delinquent_loans": int((status["dpd"] >= 1).sum()),
        "outstanding_principal_fen": total_out,
        "overdue_fen": int(status["overdue_fen"].sum()),
        "balance_30plus_fen": dpd30,
        "balance_30plus_share": (dpd30 / total_out) if total_out else 0.0,
        "buckets": [
            {"bucket": r.classification,
             "loans": int(bucket_rows.get(r.classification, {}).get("loans", 0)),
             "balance_fen": int(bucket_rows.get(r.classification, {}).get("balance_fen", 0) or 0),
             "overdue_fen": int(bucket_rows.get(r.classification, {}).get("overdue_fen", 0) or 0)}
            for r in ranges
        ],
    }
    return {"loan_status": status, "roll_rates": roll, "vintages": vint, "bucket_history": history,
            "summary": summary}


def _vintages(per_loan: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Cumulative share of each disbursement-month cohort that has ever been 30+ dpd, by months on book."""
    d = per_loan["disbursed_day"].to_numpy().astype("datetime64[D]")
    months = d.astype("datetime64[M]").astype(np.int64)
    dom = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    a64 = np.datetime64(as_of, "D")
    a_month = a64.astype("datetime64[M]").astype(np.int64)
    a_dom = int((a64 - a64.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64))
    observed = a_month - months - (a_dom < dom).astype(np.int64)  # full months on book by as_of
    f = per_loan["first_30dpd_day"].to_numpy()
    bad = f < NO_DATE
    f64 = np.where(bad, f, 0).astype("datetime64[D]")
    f_month = f64.astype("datetime64[M]").astype(np.int64)
    f_dom = (f64 - f64.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    mob_bad = np.where(bad, f_month - months + (f_dom > dom).astype(np.int64), 10_000)
    cohort0 = int(months.min()) if len(months) else 0
    c = months - cohort0
    n_c = int(c.max()) + 1 if len(c) else 0
    max_mob = int(observed.max()) + 1 if len(observed) else 0
    if n_c == 0 or max_mob <= 0:
        return pl.DataFrame(schema={"cohort": pl.String, "mob": pl.Int32, "loans": pl.Int64, "bad_loans": pl.Int64,
                                    "principal_fen": pl.Int64, "bad_principal_fen": pl.Int64, "bad_rate": pl.Float64,
                                    "bad_rate_balance": pl.Float64})
    obs = np.clip(observed, 0, max_mob - 1)
    mb = np.clip(mob_bad, 0, max_mob)  # max_mob = never (within the window)
    principal = per_loan["principal_fen"].to_numpy().astype(np.float64)
    # counts by (cohort, observed mob) and (cohort, observed mob, mob of first 30+)
    flat2 = c * max_mob + obs
    denom = np.bincount(flat2, minlength=n_c * max_mob).reshape(n_c, max_mob).astype(np.float64)
    denom_p = np.bincount(flat2, weights=principal, minlength=n_c * max_mob).reshape(n_c, max_mob)
    # loans observed at least m months: reverse cumulative over observed mob
    at_least = np.flip(np.cumsum(np.flip(denom, 1), 1), 1)
    at_least_p = np.flip(np.cumsum(np.flip(denom_p, 1), 1), 1)
    size3 = n_c * max_mob * (max_mob + 1)
    flat3 = flat2 * (max_mob + 1) + mb
    bad_grid = np.bincount(flat3, minlength=size3).reshape(n_c, max_mob, max_mob + 1).astype(np.float64)
    bad_grid_p = np.bincount(flat3, weights=principal, minlength=size3).reshape(n_c, max_mob, max_mob + 1)
    rows = []
    for ci in range(n_c):
        cohort = str(np.datetime64(cohort0 + ci, "M"))
        for m in range(1, max_mob):
            loans = int(at_least[ci, m])
            if loans == 0:
                continue
            # loans observed ≥ m months whose first 30+ came by month m
            bad_loans = int(bad_grid[ci, m:, : m + 1].sum())
            bad_p = round(bad_grid_p[ci, m:, : m + 1].sum())
            p = round(at_least_p[ci, m])
            rows.append((cohort, m, loans, bad_loans, p, bad_p, bad_loans / loans, bad_p / p if p else 0.0))
    return pl.DataFrame(rows, schema={"cohort": pl.String, "mob": pl.Int32, "loans": pl.Int64, "bad_loans": pl.Int64,
                                      "principal_fen": pl.Int64, "bad_principal_fen": pl.Int64,
                                      "bad_rate": pl.Float64, "bad_rate_balance": pl.Float64}, orient="row")


def _bucket_history(per_loan: pl.DataFrame, *, as_of: date, ranges: Sequence[DelinquencyRange],
                    prev_history: pl.DataFrame | None) -> pl.DataFrame:
    """Delinquency tag history (Fineract style): one open tag per loan (lifted_on null) plus lifted ones.

    Without a previous run, a delinquent loan's tag is dated back to when it entered its bucket
    (as_of − (dpd − bucket minimum)); a current loan's tag starts at disbursement.
    """
    mins = {r.classification: r.min_age_days for r in ranges}
    current = per_loan.select(
        "loan_id", "bucket", "dpd",
        pl.col("disbursed_day").cast(pl.Int32).cast(pl.Date).alias("disbursed_on"),
    )
    entry = (pl.lit(as_of) - pl.duration(days=pl.col("dpd") - pl.col("bucket").replace_strict(mins, return_dtype=pl.Int64)))
    derived = pl.when(pl.col("dpd") > 0).then(entry.cast(pl.Date)).otherwise(pl.col("disbursed_on"))
    schema = {"loan_id": pl.Int64, "bucket": pl.String, "added_on": pl.Date, "lifted_on": pl.Date}
    if prev_history is None or prev_history.height == 0:
        return current.select("loan_id", "bucket", derived.alias("added_on"),
                              pl.lit(None, dtype=pl.Date).alias("lifted_on")).cast(schema).sort("loan_id")  # type: ignore[arg-type]
    open_prev = prev_history.filter(pl.col("lifted_on").is_null())
    closed_prev = prev_history.filter(pl.col("lifted_on").is_not_null())
    joined = current.join(open_prev.select("loan_id", pl.col("bucket").alias("prev_bucket"),
                                           pl.col("added_on").alias("prev_added")), on="loan_id", how="left")
    same = joined.filter(pl.col("prev_bucket") == pl.col("bucket")).select(
        "loan_id", "bucket", pl.col("prev_added").alias("added_on"), pl.lit(None, dtype=pl.Date).alias("lifted_on"))
    changed = joined.filter(pl.col("prev_bucket").is_not_null() & (pl.col("prev_bucket") != pl.col("bucket")))
    lifted = changed.select("loan_id", pl.col("prev_bucket").alias("bucket"), pl.col("prev_added").alias("added_on"),
                            pl.lit(as_of).alias("lifted_on"))
    opened = changed.select("loan_id", "bucket", pl.lit(as_of).alias("added_on"),
                            pl.lit(None, dtype=pl.Date).alias("lifted_on"))
    new = joined.filter(pl.col("prev_bucket").is_null()).select(
        "loan_id", "bucket", derived.alias("added_on"), pl.lit(None, dtype=pl.Date).alias("lifted_on"))
    parts = [p.cast(schema) for p in (closed_prev, lifted, same, opened, new)]  # type: ignore[arg-type]
    return pl.concat(parts).sort("loan_id", "added_on", pl.col("lifted_on").is_null())


# -------------------------------------------------------------------------------------- publishing
def published_path(as_of: date) -> Path:
    return daily_root() / as_of.isoformat()


def previous_published(as_of: date) -> Path | None:
    """The newest published run strictly before ``as_of``."""
    root = daily_root()
    dates = sorted(p.name for p in root.iterdir() if p.is_symlink() and p.name < as_of.isoformat())
    return root / dates[-1] if dates else None


def publish_run(run_dir: Path, as_of: date) -> Path:
    link = published_path(as_of)
    old_target = link.resolve() if link.is_symlink() else None
    tmp = link.parent / f".link-{uuid.uuid4().hex}"
    os.symlink(os.path.relpath(run_dir, link.parent), tmp)
    os.replace(tmp, link)
    fsync_dir(link.parent)
    if old_target is not None and old_target != run_dir.resolve():
        shutil.rmtree(old_target, ignore_errors=True)
    return link


def write_outputs(outputs: dict[str, Any], run_dir: Path, *, fail_after: str | None = None) -> None:
    run_dir.mkdir(parents=True)
    for name in ("loan_status", "roll_rates", "vintages", "bucket_history"):
        frame: pl.DataFrame = outputs[name]
        frame.write_parquet(run_dir / f"{name}.parquet", compression="zstd", statistics=True)
        if fail_after == name:
            raise RuntimeError(f"simulated crash after writing {name}")
    (run_dir / "summary.json").write_text(json.dumps(outputs["summary"], indent=2, ensure_ascii=False))


def run_cycle(*, as_of: date, engine: str = "local", spark_master: str | None = None,
              ranges: Sequence[DelinquencyRange] | None = None, progress: bool = True,
              fail_after: str | None = None, keep_per_loan: bool | Sequence[str] = False) -> CycleResult:
    """Compute and publish the day's files. Does not touch the database (see ``daily.services``).

    ``keep_per_loan`` keeps every loan's row in the result (``True``: every column; a list: those columns,
    the rest is freed with the other intermediate results before returning)."""
    from rich.progress import Progress

    ranges = validate_ranges(list(ranges or load_ranges()))
    version = require_current()
    previous = add_months(as_of, -1)
    run_id = f"{as_of.isoformat()}-{uuid.uuid4().hex[:12]}"
    timings: dict[str, float] = {}
    if engine == "local":
        warm_up()  # the compiled kernel is loaded before the clock starts
    t0 = time.perf_counter()
    with Progress(disable=not progress, transient=True) as bar:
        if engine == "local":
            task = bar.add_task(f"dpd {as_of}", total=version.partitions)
            table = run_local_engine(version, as_of, previous, ranges, on_partition=lambda: bar.advance(task))
        elif engine == "spark":
            from fieldcollect.daily.spark_engine import run_spark_engine

            bar.add_task(f"dpd {as_of} (spark)", total=None)
            table = run_spark_engine(version, as_of, previous, ranges, master=spark_master)
        else:
            raise ValueError(f"unknown engine {engine!r}: use local or spark")
        timings["dpd_bucket_s"] = time.perf_counter() - t0
        per_loan = pl.from_arrow(table)
        assert isinstance(per_loan, pl.DataFrame)
        t1 = time.perf_counter()
        prev_dir = previous_published(as_of)
        prev_history = pl.read_parquet(prev_dir / "bucket_history.parquet") if prev_dir else None
        outputs = build_outputs(per_loan, as_of=as_of, previous=previous, ranges=ranges, prev_history=prev_history)
        timings["aggregates_s"] = time.perf_counter() - t1
        outputs["summary"] = outputs["summary"] | {"engine": engine, "store_version": version.name,
                                                   "run_id": run_id, "timings": dict(timings)}
        t2 = time.perf_counter()
        run_dir = daily_root() / ".runs" / run_id
        try:
            write_outputs(outputs, run_dir, fail_after=fail_after)
            publish_run(run_dir, as_of)
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        timings["publish_s"] = time.perf_counter() - t2
    summary = outputs["summary"] | {"timings": timings}
    kept = None
    if keep_per_loan:
        kept = per_loan if keep_per_loan is True else per_loan.select(list(keep_per_loan))
    del per_loan, table, outputs
    # Arrow's pool keeps the pages it freed; the steps after this one allocate through NumPy and Polars,
    # which cannot reuse them: hand them back (at 10M loans several GiB of the night's peak)
    pa.default_memory_pool().release_unused()
    return CycleResult(as_of=as_of, run_id=run_id, engine=engine, store_version=version.name,
                       path=published_path(as_of), timings=timings, summary=summary, per_loan=kept)


def read_published(as_of: date, name: str) -> pl.DataFrame:
    path = published_path(as_of) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no published {name} for {as_of}: run `fieldcollect run-daily --as-of {as_of}`")
    return pl.read_parquet(path)


__all__ = ["OUTPUT_FILES", "CycleResult", "build_outputs", "load_ranges", "previous_published",
           "publish_run", "read_published", "run_cycle"]
_ = (EPOCH, timedelta)
