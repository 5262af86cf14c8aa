"""Both engines give identical output on 100,000 loans, and on a small book read from the store's URI."""

from __future__ import annotations

import shutil
from datetime import date

import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from fieldcollect.daily.cycle import read_published, run_cycle
from fieldcollect.daily.spark_engine import STORE_URI_SETTING, spark_input_files
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.ingest import store
from fieldcollect.ingest.reader import read_export

pytestmark = pytest.mark.spark
AS_OF = date(2026, 6, 30)


def test_local_equals_spark_on_100k_loans(fc_home, tmp_path):
    src = tmp_path / "export"
    write_demo_portfolio(src, n_loans=100_000, seed=5, as_of=AS_OF, progress=False)
    export = read_export(src)
    version = store.write_version(store.merge_tables(None, export.tables))
    store.publish(version)
    assert version.partitions == 1 or version.partitions > 0
    local = run_cycle(as_of=AS_OF, engine="local", progress=False, keep_per_loan=True)
    local_files = {n: read_published(AS_OF, n) for n in ("loan_status", "roll_rates", "vintages")}
    spark = run_cycle(as_of=AS_OF, engine="spark", progress=False, keep_per_loan=True)
    assert local.per_loan is not None and spark.per_loan is not None
    assert local.per_loan.height == 100_000
    assert_frame_equal(
        local.per_loan.sort("loan_id"),
        spark.per_loan.sort("loan_id").select(local.per_loan.columns),
        check_dtypes=False,
    )
    for name, frame in local_files.items():
        assert_frame_equal(read_published(AS_OF, name), frame)
    assert pq.read_metadata(local.path / "loan_status.parquet").num_rows == 100_000


def test_spark_reads_the_store_at_its_uri(fc_home, tmp_path, monkeypatch):
    """With FIELDCOLLECT_SPARK_STORE_URI, Spark reads the version's files under that root only: the local
    partition files are gone after the local run, and Spark still gives the local engine's result."""
    monkeypatch.setattr(store, "LOANS_PER_PARTITION", 1_000)
    write_demo_portfolio(tmp_path / "export", n_loans=2_500, seed=7, as_of=AS_OF, progress=False)
    version = store.write_version(store.merge_tables(None, read_export(tmp_path / "export").tables))
    store.publish(version)
    assert version.partitions == 3
    local = run_cycle(as_of=AS_OF, engine="local", progress=False, keep_per_loan=True)
    local_status = read_published(AS_OF, "loan_status")
    mirror = tmp_path / "bucket" / "fc" / "store"
    shutil.copytree(version.path, mirror / version.name)
    for table in ("loans", "installments", "payments"):
        shutil.rmtree(version.path / table)
    monkeypatch.setenv(STORE_URI_SETTING, mirror.as_uri())
    assert (
        spark_input_files(version)["loans"][0] == f"{mirror.as_uri()}/{version.name}/loans/part-00000.parquet"
    )
    spark = run_cycle(as_of=AS_OF, engine="spark", progress=False, keep_per_loan=True)
    assert local.per_loan is not None and spark.per_loan is not None
    assert local.per_loan.height == 2_500 and local.per_loan["dpd"].max() > 0
    assert_frame_equal(
        local.per_loan.sort("loan_id"),
        spark.per_loan.sort("loan_id").select(local.per_loan.columns),
        check_dtypes=False,
    )
    assert_frame_equal(read_published(AS_OF, "loan_status"), local_status)
