"""Early warning, the pure part (no Django): train on the portfolio's own history, score current loans.

Target: a loan current (dpd 0) on a date reaches 30+ days past due within the next 3 months.

Training (:func:`train_model`) takes snapshots ``T0 = as_of − 3 months, − 4 months, …``; at each one the
features of the loans current then (:func:`fieldcollect.analytics.features.loan_features`, payments up
to ``T0`` only) are labelled from ``(T0, T0 + 3 months]``, so every label window ends by ``as_of`` and
no feature sees a payment after its snapshot. Validation is time-aware (train on earlier snapshots,
validate on the next). The model is a :class:`~fieldcollect.scoring.RiskModel` registered in the model
registry (``$FIELDCOLLECT_HOME/models``) under purpose ``early_warning``; the first version becomes
champion, and a retrained one (stale champion) replaces it.

Scoring (:func:`score_current`) computes the features of every current loan on ``as_of`` partition by
partition, scores them, writes every score to ``early_warning.parquet`` in the day's published run
folder, and returns the top of the list with reasons (zh-Hans and English) naming real features.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fieldcollect.analytics.dates import add_months
from fieldcollect.analytics.features import (
    FEATURE_LABELS,
    FEATURE_VERSION,
    FEATURES,
    current_loans,
    store_features,
    training_frame,
)
from fieldcollect.home import home_dir
from fieldcollect.ingest.store import StoreVersion
from fieldcollect.scoring.registry import ModelArtefact, ModelRegistry, RegistryError

PURPOSE = "early_warning"
HORIZON_MONTHS = 3
LABEL = "reaches 30+ dpd within 3 months (loans current on the date)"
SCORES_FILE = "early_warning.parquet"
DEFAULT_SNAPSHOTS = 4
DEFAULT_SAMPLE = 60_000
MIN_POSITIVES = 20
MAX_AGE_DAYS = 35
MIN_AGE_FOR_DRIFT_DAYS = 7  # a champion younger than this is not retrained for drift (no nightly retraining loop)
STABILITY_SAMPLE = 100_000


class NotEnoughHistory(ValueError):
    """The store has too little history (or too few bad loans) to train the model."""


def registry_root() -> Path:
    return home_dir() / "models"


def registry() -> ModelRegistry:
    return ModelRegistry(registry_root())


def snapshot_dates(as_of: date, *, n: int = DEFAULT_SNAPSHOTS, horizon_months: int = HORIZON_MONTHS) -> list[date]:
    """``as_of − horizon``, one month earlier, … (``n`` dates, oldest first)."""
    return sorted(add_months(as_of, -(horizon_months + i)) for i in range(n))


def _earliest_disbursement(version: StoreVersion) -> date | None:
    value = version.scan("loans").select(pl.col("disbursed_on").min()).collect().item()
    return value if isinstance(value, date) else None


def train_model(version: StoreVersion, *, as_of: date, reg: ModelRegistry | None = None, kind: str = "gbm",
                n_snapshots: int = DEFAULT_SNAPSHOTS, sample_per_snapshot: int | None = DEFAULT_SAMPLE,
                seed: int = 0, n_jobs: int = 1, make_champion: bool = True,
                progress: Any = None) -> ModelArtefact:
    """Build the training set from the store's history, fit, register (champion by default)."""
    from fieldcollect.scoring.model import RiskModel

    reg = reg or registry()
    first = _earliest_disbursement(version)
    snaps = [d for d in snapshot_dates(as_of, n=n_snapshots) if first is not None and d > first]
    if len(snaps) < 2:
        raise NotEnoughHistory(f"need at least {HORIZON_MONTHS + 1} months of history before {as_of} for 2 snapshots")
    t0 = time.perf_counter()
    frame = training_frame(version, as_of=as_of, snapshots=snaps, horizon_months=HORIZON_MONTHS,
                           sample_per_snapshot=sample_per_snapshot, seed=seed)
    build_s = time.perf_counter() - t0
    positives = int(frame["label"].sum())
    if positives < MIN_POSITIVES or positives == frame.height:
        raise NotEnoughHistory(f"{positives} loans of {frame.height} reached 30+ dpd in the windows: too few to learn")
    data = frame.select(*FEATURES, "snapshot").to_pandas()
    target = frame["label"].to_numpy()
    model = RiskModel(kind=kind, date_column="snapshot", n_splits=max(2, min(3, len(snaps) - 1)),
                      feature_labels=FEATURE_LABELS, random_state=seed, n_jobs=n_jobs)
    t1 = time.perf_counter()
    model.fit(data, target, progress=progress)
    fit_s = time.perf_counter() - t1
    by_snapshot = (frame.group_by("snapshot").agg(pl.len().alias("rows"), pl.col("label").sum().alias("positives"))
                   .sort("snapshot"))
    extra = {
        "trained_as_of": as_of.isoformat(),
        "feature_version": FEATURE_VERSION,
        "store_version": getattr(version, "name", ""),
        "label": LABEL,
        "horizon_months": HORIZON_MONTHS,
        "snapshots": [{"date": r["snapshot"].isoformat(), "rows": int(r["rows"]), "positives": int(r["positives"])}
                      for r in by_snapshot.iter_rows(named=True)],
        "rows": frame.height,
        "positives": positives,
        "sample_per_snapshot": sample_per_snapshot,
        "timings": {"build_s": round(build_s, 3), "fit_s": round(fit_s, 3)},
        "feature_labels": {k: list(v) for k, v in FEATURE_LABELS.items()},
    }
    return reg.register(model, purpose=PURPOSE, training_data=frame.to_pandas(), extra=extra,
                        make_champion=make_champion)


def champion_age_days(artefact: ModelArtefact, as_of: date) -> int:
    trained = artefact.manifest.get("trained_as_of")
    return (as_of - date.fromisoformat(trained)).days if trained else 10**6


def needs_training(reg: ModelRegistry, *, as_of: date, max_age_days: int = MAX_AGE_DAYS,
                   last_psi: float | None = None) -> str | None:
    """Why the champion must be (re)trained: ``"missing"``, ``"features"`` (trained on another definition
    of the features), ``"stale"``, ``"drift"``; None when fine."""
    try:
        champ = reg.champion(PURPOSE)
    except RegistryError:
        return "missing"
    if champ.manifest.get("feature_version") != FEATURE_VERSION:
        return "features"
    age = champion_age_days(champ, as_of)
    if age > max_age_days:
        return "stale"
    if last_psi is not None and last_psi >= 0.25 and age > MIN_AGE_FOR_DRIFT_DAYS:
        return "drift"
    return None


@dataclass
class ScoreResult:
    as_of: date
    model_version: str
    n_scored: int
    top: pl.DataFrame  # loan_id, customer_id, product, probability, rank, reasons..., next_due_on, ...
    stability: dict[str, Any]
    histogram: list[dict[str, float]]
    mean_probability: float
    timings: dict[str, float] = field(default_factory=dict)
    scores_path: Path | None = None


def _write_atomic(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    frame.write_parquet(tmp, compression="zstd")
    os.replace(tmp, path)


def score_current(version: StoreVersion, *, as_of: date, model: Any, artefact: ModelArtefact, top_n: int = 200,
                  scores_dir: Path | None = None, n_jobs: int = 1, seed: int = 0) -> ScoreResult:
    """Score every loan current on ``as_of``; the ``top_n`` riskiest come back with reasons."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    score_s = 0.0
    parts: list[pl.DataFrame] = []
    loan_filter = None
    status_file = scores_dir / "loan_status.parquet" if scores_dir is not None else None
    if status_file is not None and status_file.is_file():
        # the night's cycle already knows which loans are current: compute features for those only
        current_ids = (pl.scan_parquet(status_file).filter((pl.col("dpd") == 0) & ~pl.col("settled"))
                       .select("loan_id").collect()["loan_id"])
        loan_filter = pl.col("loan_id").is_in(current_ids.implode())
    for feats in store_features(version, as_of=as_of, loan_filter=loan_filter):
        cur = current_loans(feats)
        if cur.height == 0:
            continue
        t2 = time.perf_counter()
        p = model.predict_proba(cur.select(FEATURES).to_pandas(), n_jobs=n_jobs)[:, 1]
        score_s += time.perf_counter() - t2
        parts.append(cur.with_columns(pl.Series("probability", p)))
    total = time.perf_counter() - t0
    timings["features_s"] = round(total - score_s, 3)
    timings["score_s"] = round(score_s, 3)
    if not parts:
        empty = pl.DataFrame(schema={"loan_id": pl.Int64, "probability": pl.Float64})
        return ScoreResult(as_of=as_of, model_version=artefact.version, n_scored=0, top=empty, stability={},
                           histogram=[], mean_probability=0.0, timings=timings)
    scored = pl.concat(parts).sort(["probability", "loan_id"], descending=[True, False])
    scored = scored.with_columns(pl.int_range(1, scored.height + 1).alias("rank"))
    t3 = time.perf_counter()
    if scores_dir is not None:
        scores_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(scored.select("loan_id", "probability", "rank", "next_due_on", "next_due_fen"),
                      scores_dir / SCORES_FILE)
    timings["write_s"] = round(time.perf_counter() - t3, 3)

    t4 = time.perf_counter()
    top = scored.head(top_n)
    reasons = model.reasons(top.select(FEATURES).to_pandas(), top=3)
    loans = (version.scan("loans").filter(pl.col("loan_id").is_in(top["loan_id"].implode()))
             .select("loan_id", "customer_id").collect())
    customers = (version.scan("customers").filter(pl.col("customer_id").is_in(loans["customer_id"].implode()))
                 .select("customer_id", "city").collect())
    top = (top.join(loans, on="loan_id", how="left").join(customers, on="customer_id", how="left")
           .with_columns(pl.Series("reason_features", [[r.feature for r in row] for row in reasons],
                                   dtype=pl.List(pl.String)),
                         pl.Series("reasons_en", ["; ".join(r.text_en for r in row) for row in reasons]),
                         pl.Series("reasons_zh", ["；".join(r.text_zh for r in row) for row in reasons]),
                         pl.Series("reason_contributions", [[round(r.contribution, 4) for r in row] for row in reasons],
                                   dtype=pl.List(pl.Float64)))
           .sort("rank"))
    timings["reasons_s"] = round(time.perf_counter() - t4, 3)

    t5 = time.perf_counter()
    sample = scored if scored.height <= STABILITY_SAMPLE else scored.sample(n=STABILITY_SAMPLE, seed=seed)
    report = model.stability(sample.select(FEATURES).to_pandas())
    stability = report.to_dict()
    timings["stability_s"] = round(time.perf_counter() - t5, 3)
    probs = scored["probability"].to_numpy()
    edges = np.linspace(0.0, max(float(probs.max()), 1e-6), 21)
    counts, _ = np.histogram(probs, bins=edges)
    histogram = [{"low": float(edges[i]), "high": float(edges[i + 1]), "loans": int(c)} for i, c in enumerate(counts)]
    return ScoreResult(as_of=as_of, model_version=artefact.version, n_scored=scored.height, top=top,
                       stability=stability, histogram=histogram, mean_probability=float(probs.mean()),
                       timings=timings, scores_path=(scores_dir / SCORES_FILE) if scores_dir else None)


__all__ = ["HORIZON_MONTHS", "LABEL", "PURPOSE", "SCORES_FILE", "NotEnoughHistory", "ScoreResult", "champion_age_days",
           "needs_training", "registry", "registry_root", "score_current", "snapshot_dates", "train_model"]
