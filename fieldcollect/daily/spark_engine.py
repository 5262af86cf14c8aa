"""The Spark engine: the same partition kernel, run per Spark partition through ``mapInArrow``.

Loans, instalments and payments are unioned into one event frame (``kind`` 0/1/2), repartitioned by
``loan_id`` so that every loan's rows meet in one partition, and handed to the kernel as Arrow.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date

import pyarrow as pa

from fieldcollect.analytics.delinquency import DelinquencyRange, compute_partition_arrow
from fieldcollect.ingest.store import StoreVersion

OUTPUT_SCHEMA = (
    "loan_id long, dpd int, bucket string, overdue_fen long, outstanding_principal_fen long, paid_total_fen long, "
    "first_unpaid_day long, settled boolean, disbursed_day long, principal_fen long, prev_active boolean, "
    "prev_dpd int, prev_bucket string, prev_settled boolean, prev_outstanding_principal_fen long, "
    "first_30dpd_day long"
)


def spark_session(master: str):  # type: ignore[no-untyped-def]
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("fieldcollect-daily")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("FIELDCOLLECT_SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000000")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )


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
        loans_t = pa.table({"loan_id": loans["loan_id"], "disbursed_on": loans["d"], "principal_fen": loans["a"]})
        inst_t = pa.table({"loan_id": inst["loan_id"], "seq": inst["seq"], "due_date": inst["d"],
                           "principal_due_fen": inst["a"], "interest_due_fen": inst["b"]})
        pay_t = pa.table({"loan_id": pays["loan_id"], "paid_on": pays["d"], "amount_fen": pays["a"]})
        out = compute_partition_arrow(loans_t, inst_t, pay_t, as_of=as_of, previous=previous, ranges=ranges)
        out = out.set_column(out.schema.get_field_index("dpd"), "dpd", out["dpd"].cast(pa.int32()))
        out = out.set_column(out.schema.get_field_index("prev_dpd"), "prev_dpd", out["prev_dpd"].cast(pa.int32()))
        yield from out.to_batches()

    return run


def run_spark_engine(version: StoreVersion, as_of: date, previous: date, ranges: Sequence[DelinquencyRange], *,
                     master: str = "local[2]") -> pa.Table:
    from pyspark.sql import functions as F

    spark = spark_session(master)
    files = {t: [str(p) for p in version.table_files(t)] for t in ("loans", "installments", "payments")}
    loans = spark.read.parquet(*files["loans"]).select(
        "loan_id", F.lit(0).cast("byte").alias("kind"), F.col("disbursed_on").alias("d"),
        F.lit(None).cast("int").alias("seq"), F.col("principal_fen").alias("a"), F.lit(None).cast("long").alias("b"))
    inst = spark.read.parquet(*files["installments"]).select(
        "loan_id", F.lit(1).cast("byte").alias("kind"), F.col("due_date").alias("d"), F.col("seq").cast("int"),
        F.col("principal_due_fen").alias("a"), F.col("interest_due_fen").alias("b"))
    pays = spark.read.parquet(*files["payments"]).select(
        "loan_id", F.lit(2).cast("byte").alias("kind"), F.col("paid_on").alias("d"),
        F.lit(None).cast("int").alias("seq"), F.col("amount_fen").alias("a"), F.lit(None).cast("long").alias("b"))
    n_parts = max(2, version.partitions)
    events = loans.unionByName(inst).unionByName(pays).repartition(n_parts, "loan_id")
    result = events.mapInArrow(_kernel(as_of, previous, list(ranges)), OUTPUT_SCHEMA)
    table = result.toArrow()
    return table.sort_by("loan_id")
