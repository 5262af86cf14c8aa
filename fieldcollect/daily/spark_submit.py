"""The nightly cycle as a Spark application: the file ``spark-submit`` runs.

::

    spark-submit --master spark://spark-master:7077 --driver-memory 8g \\
        "$(python -m fieldcollect.daily.spark_submit --path)" --as-of 2026-06-30

The driver is this process: it computes the day on the cluster (the Spark engine, with spark-submit's
master and settings), publishes the files under ``$FIELDCOLLECT_HOME/daily`` and syncs the cases in the
database (``DATABASE_URL``), exactly as ``fieldcollect run-daily --engine spark``. Exit 0 with one JSON
line (published path, loans, cases, each step's seconds); exit 2 with the reason on stderr for a refused
date, another cycle running, an empty store or a bad ``FIELDCOLLECT_SPARK_STORE_URI``. The cluster set-up
(executors' Python, the store on S3 or HDFS, memory): ``docs/spark-cluster.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date


def _drop_script_folder() -> None:
    """spark-submit runs this file as a script, which puts its folder (``fieldcollect/daily``) first on
    ``sys.path``: its modules (``services``, ``errors``, ``tests``, ...) would shadow top-level ones."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fieldcollect.daily.spark_submit",
        description="Run the nightly cycle on the Spark cluster spark-submit names.",
    )
    parser.add_argument("--as-of", help="business date (YYYY-MM-DD)")
    parser.add_argument(
        "--path",
        action="store_true",
        help="print this file's path (the application spark-submit runs) and exit",
    )
    args = parser.parse_args(argv)
    if not args.path:
        if args.as_of is None:
            parser.error("--as-of is required")
        try:
            args.as_of = date.fromisoformat(args.as_of)
        except ValueError:
            parser.error(f"--as-of must be a date like 2026-06-30, got {args.as_of!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.path:
        print(os.path.abspath(__file__))
        return 0
    from fieldcollect.bootstrap import migrate_quietly, setup_django

    setup_django()
    migrate_quietly()
    from fieldcollect.core.errors import ApplicationError
    from fieldcollect.daily.services import run_daily
    from fieldcollect.ingest.store import StoreLocationError

    try:
        result = run_daily(as_of=args.as_of, engine="spark", spark_master=None, progress=False)
    except (FileNotFoundError, StoreLocationError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except ApplicationError as exc:  # a business date after today or after the data, another run going on
        print(exc.message, file=sys.stderr)
        return 2
    finally:
        _stop_spark()
    s = result.summary
    print(
        json.dumps(
            {
                "published": str(result.path),
                "as_of": s["as_of"],
                "engine": result.engine,
                "store_version": result.store_version,
                "loans": s["loans"],
                "cases": s.get("cases", {}),
                "timings": {k: round(v, 3) for k, v in result.timings.items()},
            }
        )
    )
    return 0


def _stop_spark() -> None:
    if "pyspark" in sys.modules:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()


if __name__ == "__main__":
    _drop_script_folder()
    sys.exit(main())
