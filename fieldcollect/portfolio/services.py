"""Writes for the portfolio: applying a core-banking export (store + database) atomically."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from django.db import connection, models, transaction

from fieldcollect.agencies.models import Agency, Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.core import rawsql
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.models import User
from fieldcollect.ingest import store
from fieldcollect.ingest.reader import MAX_REPORTED, IngestError, ValidationIssue, read_export
from fieldcollect.portfolio.models import Customer, IngestBatch
from fieldcollect.privacy.crypto import Binding
from fieldcollect.privacy.fields import ROW_BINDING, current_keyring, new_row_binding
from fieldcollect.privacy.masking import mask_id_number

BATCH = 5_000
LOOKUP_BATCH = 900  # parameters per IN (...) query, below SQLite's oldest limit
BINDING_LOOKUP = 900  # customer ids per query for the stored row bindings (under SQLite's 999 parameters)


@dataclass(frozen=True)
class IngestResult:
    applied: bool
    fingerprint: str
    store_version: str
    counts: dict[str, int]
    message: str


STAGE_TABLE = "fc_upsert_stage"  # the temporary table bulk_upsert copies a slice of rows into (PostgreSQL)


def bulk_upsert(*, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT ... ON CONFLICT (pk) DO UPDATE for many rows of ``model`` (SQLite and PostgreSQL); the
    table, the primary key and the columns of ``columns`` (field or attribute names, in the rows'
    order) are named from the model's metadata. A primary key given twice: the later row wins.

    On PostgreSQL each slice of :data:`BATCH` rows is copied into a temporary table
    (:func:`fieldcollect.core.rawsql.copy_rows`) and upserted from it in one statement; elsewhere one
    INSERT per row (``executemany``)."""
    qn = connection.ops.quote_name
    names = [rawsql.field(model, c).column for c in columns]
    pk = model._meta.pk.column  # type: ignore[union-attr]
    key = names.index(pk)
    cols = ", ".join(qn(c) for c in names)
    marks = ", ".join(["%s"] * len(names))
    updates = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in names if c != pk)
    target = qn(model._meta.db_table)
    conflict = f"ON CONFLICT ({qn(pk)}) DO UPDATE SET {updates}"
    staged = connection.vendor == "postgresql"

    def flush(cursor: Any, batch: list[Sequence[Any]]) -> None:
        if not staged:
            cursor.executemany(f"INSERT INTO {target} ({cols}) VALUES ({marks}) {conflict}", batch)
            return
        last = {row[key]: row for row in batch}  # one row per key (an upsert may touch a row once)
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        rawsql.copy_rows(STAGE_TABLE, names, last.values())
        cursor.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {STAGE_TABLE} {conflict}")

    total = 0
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        if staged:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGE_TABLE} AS SELECT {cols} FROM {target} WITH NO DATA")
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                flush(cursor, batch)
                total += len(batch)
                batch = []
        if batch:
            flush(cursor, batch)
            total += len(batch)
        if staged:  # (after an error the transaction's rollback drops it, or the next call does)
            cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return total


def customer_rows(frame: pl.DataFrame) -> Iterable[tuple[Any, ...]]:
    """Customer rows as stored, in the order of :data:`CUSTOMER_COLUMNS`: name, ID number, mobile and
    address encrypted and bound to the row, blind indexes added (raw SQL bypasses the model fields, so
    this does what their ``pre_save`` does). A customer already stored keeps its row binding (read per
    slice of the export); a new one gets one.

    The documented bulk path for customers (ingestion, the benchmarks' set-up)::

        bulk_upsert(model=Customer, columns=CUSTOMER_COLUMNS, rows=customer_rows(frame))

    ``frame`` holds the export's customer columns (``customer_id``, ``name``, ``id_number``, ``mobile``,
    ``province``, ``city``, ``district``, ``address``, ``lat``, ``lon``); the time zone is the bank's."""
    ring = current_keyring()
    zone_name = bank_time_zone_name()
    table = Customer._meta.db_table
    cols = ["customer_id", "name", "id_number", "mobile", "province", "city", "district", "address", "lat", "lon"]
    for part in frame.select(cols).iter_slices(BINDING_LOOKUP):
        ids = part["customer_id"].to_list()
        known = dict(Customer.objects.filter(customer_id__in=ids).values_list("customer_id", ROW_BINDING))
        for cid, name, id_number, mobile, province, city, district, address, lat, lon in part.iter_rows():
            row = known.get(cid) or new_row_binding()

            def enc(value: str | None, column: str, row: str = row) -> str | None:
                return ring.encrypt(value, Binding(table, column, row)) if value else value

            yield (cid, enc(name, "name"), enc(id_number, "id_number"), enc(mobile, "mobile"), province, city,
                   district, enc(address, "address"), lat, lon, zone_name,
                   ring.blind_index(mobile or "", "phone"), ring.blind_index(id_number or "", "id_number"), row)


def _agency_rows(frame: pl.DataFrame) -> Iterable[tuple[Any, ...]]:
    for r in frame.iter_rows(named=True):
        yield (
            r["agency_id"], r["name"], r["name_en"] or "", "approved",
            json.dumps(r["regions"].split("|"), ensure_ascii=False), r["capacity"],
            json.dumps(r["eligible_buckets"].split("|")), r["placement_days"], r["commission_tiers"],
            r["min_amount_fen"], r["max_amount_fen"], r["dsa_valid_until"], r["founded_year"],
        )


AGENCY_COLUMNS = ("agency_id", "name", "name_en", "status", "regions", "capacity", "eligible_buckets",
                  "placement_days", "commission_tiers", "min_amount_fen", "max_amount_fen", "dsa_valid_until",
                  "founded_year")
COLLECTOR_COLUMNS = ("collector_id", "agency_id", "name", "city", "base_lat", "base_lon", "certified_until",
                     "trained_until")
CUSTOMER_COLUMNS = ("customer_id", "name", "id_number", "mobile", "province", "city", "district", "address",
                    "lat", "lon", "timezone", "mobile_bidx", "id_number_bidx", ROW_BINDING)


def _id_number_clashes(*, frame: pl.DataFrame, file: str) -> list[ValidationIssue]:
    """Rows of the export whose resident ID number belongs to another customer already in the database
    (found through the blind index; customers of the export itself are left to the reader's check,
    as the export replaces their numbers)."""
    ring = current_keyring()
    in_export = set(frame["customer_id"].to_list())
    by_index: dict[str, tuple[int, int, str]] = {}
    for row, (cid, id_number) in enumerate(frame.select("customer_id", "id_number").iter_rows(), start=1):
        key = ring.blind_index(id_number or "", "id_number")
        if key:
            by_index.setdefault(key, (row, cid, id_number))
    issues: list[ValidationIssue] = []
    keys = sorted(by_index)
    for i in range(0, len(keys), LOOKUP_BATCH):
        found = Customer.objects.filter(id_number_bidx__in=keys[i:i + LOOKUP_BATCH]).exclude(
            customer_id__in=in_export).values_list("id_number_bidx", "customer_id")
        for key, other in found:
            row, cid, id_number = by_index[key]
            issues.append(ValidationIssue(
                file, row, "id_number",
                f"ID number {mask_id_number(id_number)} of customer {cid} belongs to customer {other} already "
                f"loaded: one person must be one customer"))
    return sorted(issues, key=lambda i: i.row or 0)


def ingest_export(*, source: Path, actor: User | None = None, fail_after: str | None = None) -> IngestResult:
    """Validate and apply an export: a new store version and the database rows, all or nothing.

    The same export twice is a no-op; a later export (new loans, new payments) updates the store.
    ``fail_after`` (tests only) simulates a crash after writing one table of the new version.
    """
    current = store.current_version()
    known: dict[str, pl.Series | None] = {"loans": None, "customers": None, "agencies": None}
    if current is not None:
        for table, col in (("loans", "loan_id"), ("customers", "customer_id"), ("agencies", "agency_id")):
            if current.table_files(table):
                known[table] = current.scan(table).select(col).collect()[col]
    export = read_export(source, known_loans=known["loans"], known_customers=known["customers"],
                         known_agencies=known["agencies"])
    previous = IngestBatch.objects.filter(fingerprint=export.fingerprint).first()
    if previous is not None and current is not None and previous.store_version <= current.name:
        return IngestResult(False, export.fingerprint, current.name, previous.counts,
                            "this export was already ingested; nothing changed")

    clashes = _id_number_clashes(frame=export.tables["customers"], file=export.files["customers"].name)
    if clashes:
        raise IngestError(clashes[:MAX_REPORTED], total=len(clashes))
    merged = store.merge_tables(current, export.tables)
    version = store.write_version(merged, fail_after=fail_after)
    counts = {t: f.height for t, f in export.tables.items()}
    try:
        with transaction.atomic():
            if "agencies" in export.tables:
                bulk_upsert(model=Agency, columns=AGENCY_COLUMNS,
                            rows=_agency_rows(export.tables["agencies"]))
            if "collectors" in export.tables:
                bulk_upsert(model=Collector, columns=COLLECTOR_COLUMNS,
                            rows=export.tables["collectors"].select(COLLECTOR_COLUMNS).iter_rows())
            bulk_upsert(model=Customer, columns=CUSTOMER_COLUMNS,
                        rows=customer_rows(export.tables["customers"]))
            batch = IngestBatch.objects.update_or_create(
                fingerprint=export.fingerprint,
                defaults={"source": str(source), "store_version": version.name, "counts": counts,
                          "data_date": export.data_date},
            )[0]
            audit_log(actor=actor, action="portfolio.ingest", object_type="IngestBatch", object_id=batch.pk,
                      new={"source": str(source), "store_version": version.name, "counts": counts,
                           "encodings": export.encodings,
                           "data_date": export.data_date.isoformat() if export.data_date else None})
            # publish the store version last, inside the transaction: a crash before this line
            # rolls the database back and leaves the previous version current
            store.publish(version)
    except BaseException:
        cur = store.current_version()
        if cur is None or cur.name != version.name:
            import shutil

            shutil.rmtree(version.path, ignore_errors=True)
        raise
    store.prune(keep=2)
    return IngestResult(True, export.fingerprint, version.name, counts,
                        f"applied {', '.join(f'{v} {k}' for k, v in counts.items())} as store {version.name}")
