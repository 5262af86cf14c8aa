"""Benchmark of fieldcollect.scoring against plain baselines on the credit data sets in ``bench/data/credit``.

For each data set, in the same run and on the same folds (5x5 repeated stratified CV):
* ours: ``RiskModel(kind="auto")`` (chooses LightGBM / WOE scorecard / logistic or a blend by inner CV);
* plain logistic regression: one-hot text columns + standardised numbers, L2 (C=1);
* plain gradient boosting: HistGradientBoosting, 200 iterations, learning rate 0.05, native categories.
Then scoring throughput of the model fitted on all rows, on a frame of ``--rows`` rows resampled
from the data set: batch probabilities without reasons, and with reason strings.

Run: ``.venv/bin/python bench/models.py`` (writes bench/results/models.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data" / "credit"  # copied into the repository: sources and licences in its README.md
DATASETS = {
    "germancredit": ("germancredit.csv", "creditability", "bad"),
    "uci_credit_card_sample": ("uci_credit_card_sample.csv", "default", "1"),
    "islp_default": ("islp_default.csv", "default", "Yes"),
}


def load(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    from fieldcollect.scoring.io import read_table, target_vector

    file, target, positive = DATASETS[name]
    frame = read_table(DATA / file)
    y = target_vector(frame[target], positive=positive)
    return frame.drop(columns=[target]), y


def _baseline_lr() -> Any:
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    text = make_column_selector(dtype_include=["object", "category", "string"])
    nums = make_column_selector(dtype_include="number")
    prep = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), text),
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
    )
    return make_pipeline(prep, LogisticRegression(C=1.0, max_iter=5000))


def one_fold(name: str, fold: int, train: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from fieldcollect.scoring import RiskModel

    X, y = load(name)
    out: dict[str, Any] = {"fold": fold}
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        text_cols = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        Xb = X.copy()
        for c in text_cols:
            Xb[c] = Xb[c].astype(str)
        t0 = time.perf_counter()
        lr = _baseline_lr().fit(Xb.iloc[train], y[train])
        out["logreg"] = float(roc_auc_score(y[test], lr.predict_proba(Xb.iloc[test])[:, 1]))
        t1 = time.perf_counter()
        hgb = _hgb_fit(Xb.iloc[train], y[train], text_cols)
        out["hgb"] = float(roc_auc_score(y[test], hgb.predict_proba(_hgb_frame(Xb.iloc[test], hgb))[:, 1]))
        t2 = time.perf_counter()
        ours = RiskModel(kind="auto", random_state=fold).fit(X.iloc[train], y[train])
        out["ours"] = float(roc_auc_score(y[test], ours.predict_proba(X.iloc[test])[:, 1]))
        t3 = time.perf_counter()
    out["selected"] = ours.selected_
    out["inner_cv"] = ours.cv_auc_
    out["seconds"] = {"logreg": t1 - t0, "hgb": t2 - t1, "ours": t3 - t2}
    return out


def _hgb_fit(X: pd.DataFrame, y: np.ndarray, text_cols: list[str]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.preprocessing import OrdinalEncoder

    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    if text_cols:
        enc.fit(X[text_cols])
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, categorical_features=[c in text_cols for c in X.columns], random_state=0
    )
    model.text_cols_ = text_cols
    model.encoder_ = enc
    model.fit(_hgb_frame(X, model), y)
    return model


def _hgb_frame(X: pd.DataFrame, model: Any) -> np.ndarray:
    out = X.copy()
    if model.text_cols_:
        codes = model.encoder_.transform(X[model.text_cols_])
        codes[codes < 0] = np.nan
        out[model.text_cols_] = codes
    return out.to_numpy(dtype=float)


def throughput(name: str, rows: int, reason_rows: int, console: Console) -> dict[str, Any]:
    """Scoring speed of the model fitted on all rows; wall clock and CPU time (all threads)."""
    from fieldcollect.scoring import RiskModel
    from fieldcollect.scoring.learners import COMPILE_MIN_ROWS

    X, y = load(name)
    model = RiskModel(kind="auto").fit(X, y)
    rng = np.random.default_rng(0)
    big = X.iloc[rng.integers(0, len(X), size=rows)].reset_index(drop=True)
    c0 = time.perf_counter()
    model.predict_proba(big.head(max(COMPILE_MIN_ROWS, 1000)), n_jobs=2)  # warm-up; compiles trees if lleaves is present
    compile_s = time.perf_counter() - c0
    w0, p0 = time.perf_counter(), time.process_time()
    p = model.predict_proba(big, n_jobs=2)[:, 1]
    w1, p1 = time.perf_counter(), time.process_time()
    n_reasons = min(rows, reason_rows)
    p2, reasons = model.score_with_reasons(big.head(n_reasons), top=3, lang="both", n_jobs=2)
    w2, p2_cpu = time.perf_counter(), time.process_time()
    assert np.allclose(p[:n_reasons], p2)
    compiled = any(getattr(learner, "compiled_", None) for learner in model.learners_)
    res = {
        "model": model.selected_,
        "rows": rows,
        "gbm_compiled_with_lleaves": bool(compiled),
        "warm_up_and_compile_seconds": compile_s,
        "seconds_no_reasons": w1 - w0,
        "rows_per_s_no_reasons": rows / (w1 - w0),
        "cpu_seconds_no_reasons": p1 - p0,
        "rows_per_s_no_reasons_2_idle_cores": 2 * rows / (p1 - p0),
        "rows_with_reasons": n_reasons,
        "seconds_with_reasons": w2 - w1,
        "rows_per_s_with_reasons": n_reasons / (w2 - w1),
        "cpu_seconds_with_reasons": p2_cpu - p1,
        "rows_per_s_with_reasons_2_idle_cores": 2 * n_reasons / (p2_cpu - p1),
        "example_reason": str(reasons[0]),
    }
    console.log(
        f"{name}: {res['rows_per_s_no_reasons']:,.0f} rows/s wall ({res['rows_per_s_no_reasons_2_idle_cores']:,.0f} "
        f"on 2 idle cores) without reasons; {res['rows_per_s_with_reasons']:,.0f} wall with reasons ({model.selected_})"
    )
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the throughput test")
    parser.add_argument("--reason-rows", type=int, default=200_000, help="rows for the with-reasons speed test")
    parser.add_argument("--jobs", type=int, default=2, help="parallel CV folds")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "models.json")
    args = parser.parse_args()
    from sklearn.model_selection import RepeatedStratifiedKFold

    console = Console()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name in args.datasets:
        X, y = load(name)
        cv = RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=42)
        t0 = time.perf_counter()
        folds = Parallel(n_jobs=args.jobs)(
            delayed(one_fold)(name, i, tr, te) for i, (tr, te) in enumerate(cv.split(X, y))
        )
        summary: dict[str, Any] = {"rows": len(X), "positive_rate": float(y.mean()), "seconds": time.perf_counter() - t0}
        for key in ("ours", "logreg", "hgb"):
            vals = np.array([f[key] for f in folds])
            summary[key] = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)), "folds": vals.tolist()}
        diffs_lr = np.array([f["ours"] - f["logreg"] for f in folds])
        diffs_hgb = np.array([f["ours"] - f["hgb"] for f in folds])
        summary["ours_minus_logreg"] = {"mean": float(diffs_lr.mean()), "wins": int((diffs_lr > 0).sum())}
        summary["ours_minus_hgb"] = {"mean": float(diffs_hgb.mean()), "wins": int((diffs_hgb > 0).sum())}
        selected: dict[str, int] = {}
        for f in folds:
            selected[f["selected"]] = selected.get(f["selected"], 0) + 1
        summary["selected"] = selected
        keys = folds[0]["inner_cv"].keys()
        summary["inner_cv_auc_mean"] = {k: float(np.mean([f["inner_cv"][k] for f in folds])) for k in keys}
        summary["fit_seconds_mean"] = {
            k: float(np.mean([f["seconds"][k] for f in folds])) for k in ("ours", "logreg", "hgb")
        }
        summary["meets_target"] = summary["ours"]["mean"] >= max(summary["logreg"]["mean"], summary["hgb"]["mean"])
        console.log(f"{name}: ours {summary['ours']['mean']:.4f}  logreg {summary['logreg']['mean']:.4f}  "
                    f"hgb {summary['hgb']['mean']:.4f}  ({summary['seconds']:.0f}s)")
        results[name] = summary

    partial = args.out.with_suffix(".auc.json")
    partial.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # kept if the speed part is stopped
    speed = {name: throughput(name, args.rows, args.reason_rows, console) for name in args.datasets} if args.rows else {}

    table = Table(title="ROC-AUC, 5x5 repeated stratified CV (same folds)")
    for col in ("data set", "ours", "logistic", "hist GB", "ours−LR", "ours−GB", "picked", "target"):
        table.add_column(col)
    for name, s in results.items():
        table.add_row(
            name,
            f"{s['ours']['mean']:.4f} ± {s['ours']['std']:.3f}",
            f"{s['logreg']['mean']:.4f} ± {s['logreg']['std']:.3f}",
            f"{s['hgb']['mean']:.4f} ± {s['hgb']['std']:.3f}",
            f"{s['ours_minus_logreg']['mean']:+.4f}",
            f"{s['ours_minus_hgb']['mean']:+.4f}",
            ", ".join(f"{k}×{v}" for k, v in sorted(s["selected"].items(), key=lambda kv: -kv[1])),
            "met" if s["meets_target"] else "MISSED",
        )
    console.print(table)
    if speed:
        t2 = Table(title=f"Scoring throughput, {args.rows:,} rows, 2 threads (wall clock | CPU-time based, 2 idle cores)")
        for col in ("data set", "model", "rows/s no reasons", "rows/s with reasons", "target 500k"):
            t2.add_column(col)
        for name, s in speed.items():
            t2.add_row(
                name,
                s["model"],
                f"{s['rows_per_s_no_reasons']:,.0f} | {s['rows_per_s_no_reasons_2_idle_cores']:,.0f}",
                f"{s['rows_per_s_with_reasons']:,.0f} | {s['rows_per_s_with_reasons_2_idle_cores']:,.0f}",
                "met" if s["rows_per_s_no_reasons"] >= 500_000 else
                ("met on CPU time only" if s["rows_per_s_no_reasons_2_idle_cores"] >= 500_000 else "MISSED"),
            )
        console.print(t2)

    import lightgbm
    import optbinning
    import sklearn

    payload = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_end": list(os.getloadavg())},
        "versions": {"scikit-learn": sklearn.__version__, "lightgbm": lightgbm.__version__,
                     "optbinning": optbinning.__version__},
        "protocol": {"cv": f"{args.repeats}x{args.folds} repeated stratified", "cv_random_state": 42,
                     "logreg": "one-hot text + standardised numbers, L2 C=1 (stronger than also scaling the one-hot columns)", "hgb": "HistGradientBoosting 200 it, lr 0.05, native categories",
                     "ours": "RiskModel(kind='auto') with its own inner 5-fold CV on each training fold"},
        "auc": results,
        "throughput": speed,
        "total_seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.log(f"wrote {args.out} in {payload['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
