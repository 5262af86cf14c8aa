"""The Spark engine: the same partition kernel, run per Spark partition through ``mapInArrow``.

Loans, instalments and payments are unioned into one event frame (``kind`` 0/1/2), repartitioned by
``loan_id`` so that every loan's rows meet in one partition, and handed to the kernel as Arrow.

Where the executors read the store: the local store (``$FIELDCOLLECT_HOME/store``, a shared mount on a
cluster) unless ``FIELDCOLLECT_SPARK_STORE_URI`` names a copy of it, e.g. ``s3a://bank-bucket/fc/store``:
the current version's partition files are then read under that root (``.../v000001/loans/part-00000.parquet``).
The driver still reads which version is current from the local store. Submitting to a cluster:
``docs/spark-cluster.md`` and :mod:`fieldcollect.daily.spark_submit`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pyarrow as pa

from fieldcollect.analytics.delinquency import DelinquencyRange, compute_partition_arrow
from fieldcollect.ingest.store import StoreVersion

STORE_URI_SETTING = "FIELDCOLLECT_SPARK_STORE_URI"
ENGINE_TABLES = ("loans", "installments", "payments")
OUTPUT_SCHEMA = (
    "loan_id long, dpd int, bucket string, overdue_fen long, outstanding_principal_fen long, paid_total_fen long, "
    "first_unpaid_day long, settled boolean, disbursed_day long, principal_fen long, prev_active boolean, "
    "prev_dpd int, prev_bucket string, prev_settled boolean, prev_outstanding_principal_fen long, "
    "first_30dpd_day long"
)


def submitted() -> bool:
    """True in a driver started by ``spark-submit`` (PySpark then joins the JVM it started: the master,
    the driver's memory and every ``--conf`` come from the spark-submit command line)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_session(master: str | None = None):  # type: ignore[no-untyped-def]
    """The session of the cycle. ``master`` (``--spark-master``) wins; without it, a driver started by
    spark-submit keeps spark-submit's master and settings, and a plain ``fieldcollect run-daily`` runs on
    ``local[2]`` with ``FIELDCOLLECT_SPARK_DRIVER_MEMORY`` / ``FIELDCOLLECT_SPARK_MAX_RESULT_SIZE``."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("fieldcollect-daily")
    if submitted():
        if master:
            builder = builder.master(master)
    else:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.master(master or "local[2]")
            .config("spark.driver.memory", os.environ.get("FIELDCOLLECT_SPARK_DRIVER_MEMORY", "4g"))
            # the per-loan result is collected to the driver (about 100 bytes a loan)
            .config("spark.driver.maxResultSize", os.environ.get("FIELDCOLLECT_SPARK_MAX_RESULT_SIZE", "4g"))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
        )
    # always: the kernel's day numbers are UTC dates; batches as large as the kernel likes them
    return (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000000")
        .getOrCreate()
    )


def spark_input_files(version: StoreVersion) -> dict[str, list[str]]:
    """The Parquet files the engine hands to ``spark.read.parquet``, per table: the local store's, or
    their copies under ``FIELDCOLLECT_SPARK_STORE_URI`` (refused with a clear error when that is not an
    absolute URI of a known scheme)."""
    root_uri = os.environ.get(STORE_URI_SETTING, "").strip() or None
    return {t: version.partition_locations(t, root_uri, setting=STORE_URI_SETTING) for t in ENGINE_TABLES}


def _kernel(as_of: date, previous: date, ranges: Sequence[DelinquencyRange]):  # type: ignore[no-untyped-def]
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = pa.Table.from_batches(list(batches))
        if table.num_rows == 0:
            return
        import pyarrow.compute as pc

        kind = table["kind"]
        loans = table.filter(pc.equal(kind, 0))
        inst = table.filter(pc.equal(kind, 1))
        pays = table.filter(pc.equal(kind, 2))
        loans_t = pa.table(
            {"loan_id": loans["loan_id"], "disbursed_on": loans["d"], "principal_fen": loans["a"]}
        )
        inst_t = pa.table(
            {
                "loan_id": inst["loan_id"],
                "seq": inst["seq"],
                "due_date": inst["d"],
                "principal_due_fen": inst["a"],
                "interest_due_fen": inst["b"],
            }
        )
        pay_t = pa.table({"loan_id": pays["loan_id"], "paid_on": pays["d"], "amount_fen": pays["a"]})
        out = compute_partition_arrow(loans_t, inst_t, pay_t, as_of=as_of, previous=previous, ranges=ranges)
        out = out.set_column(out.schema.get_field_index("dpd"), "dpd", out["dpd"].cast(pa.int32()))
        out = out.set_column(
            out.schema.get_field_index("prev_dpd"), "prev_dpd", out["prev_dpd"].cast(pa.int32())
        )
        yield from out.to_batches()

    return run


def run_spark_engine(
    version: StoreVersion,
    as_of: date,
    previous: date,
    ranges: Sequence[DelinquencyRange],
    *,
    master: str | None = None,
) -> pa.Table:
    from pyspark.sql import functions as F

    files = spark_input_files(version)  # a bad store URI is refused before Spark starts
    spark = spark_session(master)

    def column_or_null(name: str | None, spark_type: str) -> Any:
        return F.lit(None).cast(spark_type) if name is None else F.col(name).cast(spark_type)

    def as_events(table: str, kind: int, day: str, a: str, seq: str | None = None, b: str | None = None) -> Any:
        """One table's rows as events ``(loan_id, kind, d, seq, a, b)``, the kernel's input."""
        return spark.read.parquet(*files[table]).select(
            "loan_id",
            F.lit(kind).cast("byte").alias("kind"),
            F.col(day).alias("d"),
            column_or_null(seq, "int").alias("seq"),
            F.col(a).alias("a"),
            column_or_null(b, "long").alias("b"),
        )

    loans = as_events("loans", 0, "disbursed_on", "principal_fen")
    inst = as_events("installments", 1, "due_date", "principal_due_fen", seq="seq", b="interest_due_fen")
    pays = as_events("payments", 2, "paid_on", "amount_fen")
    n_parts = max(2, version.partitions)
    events = loans.unionByName(inst).unionByName(pays).repartition(n_parts, "loan_id")
    result = events.mapInArrow(_kernel(as_of, previous, list(ranges)), OUTPUT_SCHEMA)
    table = result.toArrow()
    return table.sort_by("loan_id")
