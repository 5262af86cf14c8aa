"""Benchmark of the early-warning step on a book already in a data home (store ingested, the day's
nightly cycle published so that ``loan_status.parquet`` lists the current loans).

    FIELDCOLLECT_HOME=/tmp/home1m .venv/bin/python bench/early_warning.py --as-of 2026-06-30 \
        --out bench/results/early_warning_1m.json

Measures, in this process: the features of every loan on the date (all partitions), the training
(training set from 4 monthly snapshots + the fit, registered as a new version in a scratch registry
unless --registry-home is the data home), and the nightly scoring of the current loans with the
champion (features of the current loans, probabilities, reasons of the top 200, PSI/CSI).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-training", action="store_true", help="score with the home's champion only")
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)

    from fieldcollect.analytics.features import current_loans, store_features
    from fieldcollect.daily.cycle import published_path
    from fieldcollect.earlywarning import engine
    from fieldcollect.ingest.store import require_current
    from fieldcollect.scoring.registry import ModelRegistry

    version = require_current()
    results: dict[str, object] = {"command": " ".join(sys.argv), "created_at": datetime.now(UTC).isoformat(
        timespec="seconds"), "machine": {"nproc": os.cpu_count(), "platform": platform.platform(),
                                         "python": platform.python_version()},
                                  "loans": version.counts.get("loans"), "as_of": as_of.isoformat()}
    t = time.perf_counter()
    current = sum(current_loans(f).height for f in store_features(version, as_of=as_of))
    results["features_all_loans_s"] = round(time.perf_counter() - t, 2)
    results["current_loans"] = current
    results["load_average_after_features"] = os.getloadavg()

    if not args.skip_training:
        with tempfile.TemporaryDirectory() as scratch:
            reg = ModelRegistry(scratch)
            t = time.perf_counter()
            artefact = engine.train_model(version, as_of=as_of, reg=reg)
            results["training"] = {"seconds": round(time.perf_counter() - t, 2), **artefact.manifest["timings"],
                                   "rows": artefact.manifest["rows"], "positives": artefact.manifest["positives"],
                                   "kind": artefact.kind, "auc": artefact.metrics["auc"], "ks": artefact.metrics["ks"],
                                   "brier": artefact.metrics["brier"], "validation": artefact.metrics["validation"]}
        results["load_average_after_training"] = os.getloadavg()

    model, artefact = engine.registry().load(engine.PURPOSE)
    t = time.perf_counter()
    scored = engine.score_current(version, as_of=as_of, model=model, artefact=artefact,
                                  scores_dir=published_path(as_of).resolve())
    results["nightly_scoring"] = {"seconds": round(time.perf_counter() - t, 2), "scored": scored.n_scored,
                                  "model": artefact.version, **scored.timings,
                                  "score_psi": scored.stability.get("score_psi")}
    results["load_average_at_end"] = os.getloadavg()
    results["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024, 2)
    text = json.dumps(results, indent=1, default=str)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
