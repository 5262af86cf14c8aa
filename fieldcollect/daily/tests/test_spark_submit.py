"""The application spark-submit runs (fieldcollect/daily/spark_submit.py): its arguments, its exit codes,
and, with Java and pyspark (marker ``spark``), the documented spark-submit command end to end on a
small book with the store read from a ``file://`` copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fieldcollect.daily import spark_submit
from fieldcollect.daily.spark_engine import STORE_URI_SETTING
from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.home import daily_root
from fieldcollect.portfolio.models import DailyRun

AS_OF = date(2026, 6, 30)
REPO = Path(__file__).resolve().parents[3]


def test_path_is_this_modules_file(capsys):
    assert spark_submit.main(["--path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == Path(spark_submit.__file__).resolve()
    assert path.is_file() and path.name == "spark_submit.py"


@pytest.mark.parametrize("argv", [[], ["--as-of", "2026-02-30"], ["--as-of", "yesterday"]])
def test_as_of_required_and_a_date(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        spark_submit.main(argv)
    assert caught.value.code == 2
    assert "--as-of" in capsys.readouterr().err


def test_script_folder_leaves_sys_path(monkeypatch):
    here = str(Path(spark_submit.__file__).resolve().parent)
    monkeypatch.setattr(sys, "path", [here, "/usr/lib/python3.11", here + "/"])
    spark_submit._drop_script_folder()
    assert sys.path == ["/usr/lib/python3.11"]


@pytest.mark.django_db
def test_bad_store_uri_exits_2_and_publishes_nothing(fc_home, tmp_path, monkeypatch, capsys):
    from fieldcollect.portfolio.services import ingest_export

    write_demo_portfolio(tmp_path / "export", n_loans=200, seed=2, as_of=AS_OF, progress=False)
    ingest_export(source=tmp_path / "export")
    monkeypatch.setenv(STORE_URI_SETTING, "data/fc/store")
    assert spark_submit.main(["--as-of", AS_OF.isoformat()]) == 2
    err = capsys.readouterr().err
    assert f"{STORE_URI_SETTING} must be an absolute URI" in err and "'data/fc/store'" in err
    assert DailyRun.objects.count() == 0
    assert not [p for p in daily_root().iterdir() if not p.name.startswith(".")]


@pytest.mark.spark
def test_the_documented_spark_submit_command(tmp_path):
    """spark-submit --master local[2] "$(python -m fieldcollect.daily.spark_submit --path)" --as-of DATE,
    with the executors reading a file:// copy of the store and SQLite as the database. The driver keeps
    its local store (the case sync reads the new cases' loans and the day's payments from it)."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env |= {
        "FIELDCOLLECT_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    py = [sys.executable, "-m", "fieldcollect.cli"]
    subprocess.run(
        [*py, "demo-data", "--out", str(tmp_path / "export"), "--loans", "400", "--as-of", AS_OF.isoformat()],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run([*py, "ingest", str(tmp_path / "export")], env=env, check=True, capture_output=True)
    version = (home / "store" / "CURRENT").read_text().strip()
    bucket = tmp_path / "bucket" / "fc" / "store"
    shutil.copytree(home / "store" / version, bucket / version)
    env[STORE_URI_SETTING] = bucket.as_uri()
    app = subprocess.run(
        [sys.executable, "-m", "fieldcollect.daily.spark_submit", "--path"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    submit = Path(sys.executable).parent / "spark-submit"
    done = subprocess.run(
        [
            str(submit),
            "--master",
            "local[2]",
            "--driver-memory",
            "1g",
            "--conf",
            "spark.ui.enabled=false",
            app,
            "--as-of",
            AS_OF.isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, "\n".join(x for x in done.stderr.splitlines() if " INFO " not in x)[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["engine"] == "spark" and out["as_of"] == AS_OF.isoformat() and out["loans"] == 400
    assert out["store_version"] == version
    assert out["cases"]["opened"] > 0
    assert "dpd_bucket_s" in out["timings"] and "cases_sync_s" in out["timings"]
    assert pq.read_metadata(Path(out["published"]) / "loan_status.parquet").num_rows == 400
    # Spark's scan logs each file it reads (spark-submit's default log level, INFO): the copy's, not the local ones
    assert f"{bucket.as_uri()}/{version}/loans/part-00000.parquet" in done.stderr
    assert str(home / "store" / version / "loans") not in done.stderr
