"""The columnar store: versioned, partitioned Parquet tables under ``$FIELDCOLLECT_HOME/store``.

A version is written whole into a staging folder, renamed to ``v<N>`` and only then published by
atomically replacing the ``CURRENT`` pointer file. Readers always see a complete version; a crash
while writing leaves the previous version published.

Loans, installments and payments are partitioned the same way (``loan_id % partitions``) and sorted
by loan inside each partition, so the nightly kernel reads one partition of each at a time.
Customers keep pseudonymous columns only (no name, ID number, mobile or address).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import SplitResult, urlsplit

import polars as pl

from fieldcollect.analytics.schemas import KEYS, STORE_CUSTOMER_COLUMNS
from fieldcollect.home import fsync_dir, store_root

LOANS_PER_PARTITION = 250_000
PARTITIONED = ("loans", "installments", "payments")
SORT_KEYS = {"loans": ["loan_id"], "installments": ["loan_id", "seq"], "payments": ["loan_id", "paid_on", "payment_id"]}
_VERSION = re.compile(r"^v(\d+)$")
# the schemes a copy of the store may live under for the Spark engine (FIELDCOLLECT_SPARK_STORE_URI):
# Hadoop file systems that Spark reads Parquet from (S3 through s3a, HDFS, GCS, Azure) and file:// for
# a shared mount
STORE_URI_SCHEMES = ("s3a", "hdfs", "viewfs", "gs", "abfs", "abfss", "wasbs", "file")


class StoreLocationError(ValueError):
    """A store location (URI) that cannot be used: relative, unknown scheme, no bucket, ..."""


def partition_name(part: int) -> str:
    """The file name of one partition of a partitioned table (the same in every store version)."""
    return f"part-{part:05d}.parquet"


def store_uri(uri: str, *, setting: str = "store URI") -> SplitResult:
    """``uri`` checked as the root of a copy of the store (the folder holding ``v<N>/``), e.g.
    ``s3a://bank-bucket/fc/store`` or ``hdfs://namenode:8020/fc/store``; refused with a
    :class:`StoreLocationError` naming ``setting`` when it is relative, of an unknown scheme, without a
    bucket or host where the scheme needs one, or carries a query or fragment."""
    parts = urlsplit(uri.strip())
    example = "like s3a://bank-bucket/fc/store or hdfs://namenode:8020/fc/store"
    if not parts.scheme:
        raise StoreLocationError(f"{setting} must be an absolute URI {example}, got {uri!r} (no scheme)")
    if parts.scheme not in STORE_URI_SCHEMES:
        raise StoreLocationError(f"{setting} has the unknown scheme {parts.scheme!r} in {uri!r}: "
                                 f"use one of {', '.join(STORE_URI_SCHEMES)}")
    if parts.scheme not in ("hdfs", "viewfs", "file") and not parts.netloc:
        raise StoreLocationError(f"{setting} {uri!r} names no bucket or container ({parts.scheme}://BUCKET/path)")
    if parts.query or parts.fragment:
        raise StoreLocationError(f"{setting} {uri!r} must not carry a query or fragment")
    path = PurePosixPath(parts.path or "/")
    if not path.is_absolute() or ".." in path.parts:
        raise StoreLocationError(f"{setting} {uri!r} must have an absolute path without '..'")
    return parts._replace(path=str(path))


@dataclass(frozen=True)
class StoreVersion:
    name: str
    path: Path
    partitions: int
    counts: dict[str, int]

    def table_files(self, table: str) -> list[Path]:
        folder = self.path / table
        return sorted(folder.glob("part-*.parquet")) if folder.exists() else []

    def partition_file(self, table: str, part: int) -> Path:
        return self.path / table / partition_name(part)

    def partition_locations(self, table: str, root_uri: str | None = None, *,
                            setting: str = "store URI") -> list[str]:
        """Every partition file of ``table``: local paths, or the same files under ``root_uri``, the root
        of a copy of the store (``s3a://bank-bucket/fc/store`` gives
        ``s3a://bank-bucket/fc/store/v000001/loans/part-00000.parquet``, ...; refused as in
        :func:`store_uri`, whose message names ``setting``)."""
        if root_uri is None:
            return [str(self.partition_file(table, p)) for p in range(self.partitions)]
        root = store_uri(root_uri, setting=setting)
        # scheme://authority/path, also with an empty authority (hdfs:///fc/store: the default name node)
        return [f"{root.scheme}://{root.netloc}{PurePosixPath(root.path, self.name, table, partition_name(p))}"
                for p in range(self.partitions)]

    def scan(self, table: str) -> pl.LazyFrame:
        files = self.table_files(table)
        if not files:
            raise FileNotFoundError(f"table {table} is not in store version {self.name}")
        return pl.scan_parquet(files)

    def read(self, table: str) -> pl.DataFrame:
        return self.scan(table).collect()


def current_version(root: Path | None = None) -> StoreVersion | None:
    root = root or store_root()
    pointer = root / "CURRENT"
    if not pointer.exists():
        return None
    name = pointer.read_text().strip()
    path = root / name
    meta = json.loads((path / "_VERSION.json").read_text())
    return StoreVersion(name=name, path=path, partitions=meta["partitions"], counts=meta["counts"])


def require_current(root: Path | None = None) -> StoreVersion:
    version = current_version(root)
    if version is None:
        raise FileNotFoundError("the columnar store is empty: run `fieldcollect ingest DIR` first")
    return version


def _next_name(root: Path) -> str:
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _VERSION.match(p.name))]
    return f"v{max(numbers, default=0) + 1:06d}"


def merge_tables(old: StoreVersion | None, batch: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """New full tables: batch rows replace stored rows with the same key; installments are replaced
    per loan (a re-sent schedule replaces the loan's whole schedule)."""
    merged: dict[str, pl.DataFrame] = {}
    tables = set(batch) | (set(KEYS) if old else set())
    for table in sorted(tables):
        new = batch.get(table)
        if table == "customers" and new is not None:
            new = new.select(STORE_CUSTOMER_COLUMNS)
        stored = None
        if old is not None and old.table_files(table):
            stored = old.read(table)
        if new is None:
            if stored is not None:
                merged[table] = stored
            continue
        if stored is None:
            merged[table] = new
            continue
        key = ["loan_id"] if table == "installments" else list(KEYS[table])
        kept = stored.join(new.select(key).unique(), on=key, how="anti")
        merged[table] = pl.concat([kept, new.select(stored.columns)], how="vertical")
    return merged


def write_version(tables: dict[str, pl.DataFrame], root: Path | None = None, *,
                  fail_after: str | None = None) -> StoreVersion:
    """Write ``tables`` as a new version and publish it. ``fail_after`` (tests) simulates a crash
    after writing that table, before publishing."""
    root = root or store_root()
    n_loans = tables["loans"].height if "loans" in tables else 0
    partitions = max(1, -(-n_loans // LOANS_PER_PARTITION))
    staging = root / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    counts: dict[str, int] = {}
    try:
        for table, frame in tables.items():
            folder = staging / table
            folder.mkdir()
            counts[table] = frame.height
            if table in PARTITIONED:
                frame = frame.with_columns((pl.col("loan_id") % partitions).alias("_part")).sort(
                    ["_part", *SORT_KEYS[table]])
                for part in range(partitions):
                    chunk = frame.filter(pl.col("_part") == part).drop("_part")
                    chunk.write_parquet(folder / partition_name(part), compression="zstd",
                                        row_group_size=500_000, statistics=True)
            else:
                frame.sort(list(KEYS[table])).write_parquet(folder / "part-00000.parquet", compression="zstd")
            if fail_after == table:
                raise RuntimeError(f"simulated crash after writing {table}")
        (staging / "_VERSION.json").write_text(json.dumps({"partitions": partitions, "counts": counts}))
        name = _next_name(root)
        final = root / name
        os.rename(staging, final)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StoreVersion(name=name, path=final, partitions=partitions, counts=counts)


def publish(version: StoreVersion, root: Path | None = None) -> None:
    """Atomically make ``version`` the current one."""
    root = root or store_root()
    tmp = root / f".CURRENT-{uuid.uuid4().hex}"
    tmp.write_text(version.name)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, root / "CURRENT")
    fsync_dir(root)


def prune(keep: int = 2, root: Path | None = None) -> None:
    """Remove unpublished leftovers and all but the newest ``keep`` versions (the current one stays)."""
    root = root or store_root()
    current = current_version(root)
    for leftover in root.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    versions = sorted((p for p in root.iterdir() if _VERSION.match(p.name)), key=lambda p: p.name)
    for old in versions[:-keep]:
        if current is None or old.name != current.name:
            shutil.rmtree(old, ignore_errors=True)
