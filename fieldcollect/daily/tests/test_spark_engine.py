"""Both engines give identical output on 100,000 loans."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from fieldcollect.daily.cycle import read_published, run_cycle
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
    assert_frame_equal(local.per_loan.sort("loan_id"), spark.per_loan.sort("loan_id").select(local.per_loan.columns),
                       check_dtypes=False)
    for name, frame in local_files.items():
        assert_frame_equal(read_published(AS_OF, name), frame)
    assert pq.read_metadata(local.path / "loan_status.parquet").num_rows == 100_000
