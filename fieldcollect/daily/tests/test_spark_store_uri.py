"""The Spark engine reads the store where ``FIELDCOLLECT_SPARK_STORE_URI`` says (S3, HDFS, ...): the
files it hands to ``spark.read.parquet`` are the current version's partitions under that root, the local
engine keeps the local store, and a relative path or an unknown scheme is refused before Spark starts,
in the CLI with exit 2 and nothing published. No network, no Spark."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from fieldcollect.cli import app
from fieldcollect.daily.spark_engine import STORE_URI_SETTING, spark_input_files
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.home import daily_root, store_root
from fieldcollect.ingest import store
from fieldcollect.ingest.reader import read_export
from fieldcollect.ingest.store import StoreLocationError, store_uri
from fieldcollect.portfolio.models import DailyRun

AS_OF = date(2026, 6, 30)
TABLES = ("loans", "installments", "payments")


@pytest.fixture
def version(fc_home, tmp_path, monkeypatch):
    """A published store of 250 loans in three partitions (100 loans a partition)."""
    monkeypatch.setattr(store, "LOANS_PER_PARTITION", 100)
    write_demo_portfolio(tmp_path / "export", n_loans=250, seed=3, as_of=AS_OF, progress=False)
    v = store.write_version(store.merge_tables(None, read_export(tmp_path / "export").tables))
    store.publish(v)
    assert v.partitions == 3
    return v


def test_files_handed_to_spark_are_under_the_s3a_root(version, monkeypatch):
    monkeypatch.setenv(STORE_URI_SETTING, "s3a://bank-bucket/fc/store")
    files = spark_input_files(version)
    assert files == {
        t: [f"s3a://bank-bucket/fc/store/{version.name}/{t}/part-{p:05d}.parquet" for p in range(3)]
        for t in TABLES
    }
    assert files["loans"][0] == "s3a://bank-bucket/fc/store/v000001/loans/part-00000.parquet"
    # every URI is the copy of a file of the local version, at the same place relative to the store's root
    for uris in files.values():
        for uri in uris:
            relative = Path(urlsplit(uri).path).relative_to("/fc/store")
            assert (store_root() / relative).is_file(), uri


@pytest.mark.parametrize(
    ("root", "first"),
    [
        ("hdfs://namenode:8020/fc/store/", "hdfs://namenode:8020/fc/store/v000001/loans/part-00000.parquet"),
        ("hdfs:///fc/store", "hdfs:///fc/store/v000001/loans/part-00000.parquet"),  # the default name node
        (
            "abfss://fc@bankdata.dfs.core.windows.net/store",
            "abfss://fc@bankdata.dfs.core.windows.net/store/v000001/loans/part-00000.parquet",
        ),
        ("file:///mnt/shared/fc/store", "file:///mnt/shared/fc/store/v000001/loans/part-00000.parquet"),
    ],
)
def test_other_schemes_and_forms(version, monkeypatch, root, first):
    monkeypatch.setenv(STORE_URI_SETTING, root)
    files = spark_input_files(version)
    assert files["loans"][0] == first
    assert files["payments"][2] == first.replace("loans/part-00000", "payments/part-00002")


def test_without_the_setting_the_local_store(version, monkeypatch):
    monkeypatch.delenv(STORE_URI_SETTING, raising=False)
    files = spark_input_files(version)
    assert files["installments"] == [
        str(version.path / "installments" / f"part-{p:05d}.parquet") for p in range(3)
    ]
    assert all(Path(f).is_absolute() and Path(f).is_file() for fs in files.values() for f in fs)
    monkeypatch.setenv(STORE_URI_SETTING, "  ")  # blank is unset
    assert spark_input_files(version) == files


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("fc/store", "must be an absolute URI"),  # relative path
        ("/srv/fieldcollect/store", "must be an absolute URI"),  # a local path must say file://
        ("ftp://bank/fc/store", "unknown scheme 'ftp'"),
        ("s3://bank-bucket/fc/store", "unknown scheme 's3'"),  # Spark's Hadoop reads S3 through s3a
        ("s3a:///fc/store", "names no bucket"),
        ("s3a://bank-bucket/fc/../store", "without '..'"),
        ("s3a://bank-bucket/fc/store?versionId=3", "query or fragment"),
        ("file:relative/store", "absolute path"),
    ],
)
def test_bad_store_uri_is_refused(version, monkeypatch, bad, reason):
    monkeypatch.setenv(STORE_URI_SETTING, bad)
    with pytest.raises(StoreLocationError) as caught:
        spark_input_files(version)
    assert reason in str(caught.value)
    assert STORE_URI_SETTING in str(caught.value)
    assert repr(bad) in str(caught.value)


def test_store_uri_names_the_caller_setting():
    with pytest.raises(StoreLocationError, match=r"^store URI must be an absolute URI"):
        store_uri("var/store")
    assert store_uri("s3a://b/x/").path == "/x"


@pytest.mark.django_db
def test_cli_refuses_a_bad_store_uri_before_spark(version, monkeypatch):
    monkeypatch.setenv(STORE_URI_SETTING, "bogus://bank/fc/store")
    result = CliRunner().invoke(app, ["run-daily", "--as-of", AS_OF.isoformat(), "--engine", "spark"])
    assert result.exit_code == 2, result.output
    assert f"{STORE_URI_SETTING} has the unknown scheme 'bogus'" in result.output
    assert DailyRun.objects.count() == 0
    assert not [p for p in daily_root().iterdir() if not p.name.startswith(".")]
