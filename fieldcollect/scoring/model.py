"""`RiskModel`: one estimator for a gradient-boosted model, a WOE scorecard, or the best blend.

How ``fit`` works
-----------------
1. :class:`TabularPreprocessor` detects numbers and categories and encodes the frame.
2. Validation folds: stratified K-fold, or, when ``date_column`` is given, expanding time splits
   (train on the earlier periods, validate on the next one).
3. On every fold each candidate learner is fitted and scores the held-out rows: a LightGBM model
   (number of trees chosen on the mean validation-AUC curve), a WOE scorecard and a logistic
   regression (their L2 strength chosen from a small grid).
4. ``kind="auto"`` compares, by mean validation AUC, the single learners and the equal-weight
   log-odds blends of two or three of them, and keeps the simplest candidate within 0.002 AUC of
   the best (logit, then scorecard, then gbm, then blends).
5. The chosen learners are refitted on all rows; a calibrator (Platt, or isotonic when both
   classes have at least 1000 validated rows) maps the blended log-odds of the held-out rows to
   probabilities, so calibration never sees in-sample scores.
6. Reference distributions of every feature and of the score are kept for PSI/CSI monitoring.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from fieldcollect.scoring.learners import GBMLearner, LogitLearner, ScorecardLearner
from fieldcollect.scoring.preprocessing import CATEGORICAL, TabularPreprocessor, as_pandas
from fieldcollect.scoring.reasons import PhraseBook, Reason, reasons_for_rows, render, top_positive
from fieldcollect.scoring.stability import (
    CharacteristicStability,
    Reference,
    StabilityReport,
    build_reference,
    stability_status,
)

KINDS = ("auto", "gbm", "scorecard", "logit")
CALIBRATIONS = ("auto", "sigmoid", "isotonic", "none")
LOGIT_C_GRID = (0.03, 0.3, 1.0, 3.0)
SCORECARD_C_GRID = (0.05, 1.0)
GBM_MAX_ROUNDS = 500
GBM_AUC_TOLERANCE = 0.002
AUC_TOLERANCE = 0.002
SIMPLICITY = ("logit", "scorecard", "gbm")

Progress = Callable[[str, int, int], None]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    if len(np.unique(y)) < 2:
        return math.nan
    return float(roc_auc_score(y, s))


def time_splits(dates: pd.Series, *, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window splits: fold ``i`` trains on periods ``0..i`` and validates on period ``i+1``.

    Periods are consecutive blocks of roughly equal row counts, cut only between distinct dates,
    so no date is on both sides of a split. Rows without a date are never used for validation.
    """
    parsed = pd.to_datetime(dates, errors="coerce")
    values = parsed.to_numpy(dtype="datetime64[ns]")
    known = ~np.isnat(values)
    if known.sum() == 0:
        raise ValueError("the date column has no parsable dates")
    order = np.flatnonzero(known)[np.argsort(values[known], kind="stable")]
    sorted_dates = values[order]
    cuts: list[int] = []
    for q in range(1, n_splits + 1):
        pos = round(q * len(order) / (n_splits + 1))
        pos = int(np.searchsorted(sorted_dates, sorted_dates[min(pos, len(order) - 1)], side="left"))
        if 0 < pos < len(order) and (not cuts or pos > cuts[-1]):
            cuts.append(pos)
    bounds = [0, *cuts, len(order)]
    undated = np.flatnonzero(~known)
    folds = []
    for i in range(1, len(bounds) - 1):
        train = np.concatenate([order[: bounds[i]], undated])
        valid = order[bounds[i] : bounds[i + 1]]
        if len(valid):
            folds.append((np.sort(train), valid))
    if not folds:
        raise ValueError("too few distinct dates for time-aware validation")
    return folds


@dataclass(frozen=True)
class Explanation:
    """Top reasons per row: feature indices (-1 = none) and their log-odds contributions."""

    features: tuple[str, ...]
    index: np.ndarray
    contribution: np.ndarray


class RiskModel(ClassifierMixin, BaseEstimator):
    """Binary risk model for any tabular frame, with calibrated probabilities and reason codes.

    Parameters
    ----------
    kind : {"auto", "gbm", "scorecard", "logit"}
        Model family; ``auto`` chooses (or blends) by validated AUC.
    date_column : str or None
        Column of dates for time-aware validation; it is never used as a feature.
    n_splits : int
        Validation folds (stratified K-fold, or time splits with ``date_column``).
    calibration : {"auto", "sigmoid", "isotonic", "none"}
        Probability calibration fitted on held-out scores.
    exclude : tuple of str
        Columns never used as features (besides ``date_column``).
    feature_labels : mapping or None
        ``{column: (zh_label, en_label)}`` used in reason phrases.
    random_state : int
        Seed of the folds and of LightGBM.
    n_jobs : int
        Threads for LightGBM training.
    """

    def __init__(
        self,
        *,
        kind: str = "auto",
        date_column: str | None = None,
        n_splits: int = 5,
        calibration: str = "auto",
        exclude: tuple[str, ...] = (),
        feature_labels: Mapping[str, tuple[str, str]] | None = None,
        max_categories: int = 100,
        min_category_count: int = 5,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.kind = kind
        self.date_column = date_column
        self.n_splits = n_splits
        self.calibration = calibration
        self.exclude = exclude
        self.feature_labels = feature_labels
        self.max_categories = max_categories
        self.min_category_count = min_category_count
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        if not isinstance(self.n_splits, int) or self.n_splits < 2:
            raise ValueError("n_splits must be an integer >= 2")

    def fit(self, X: Any, y: Any, *, progress: Progress | None = None) -> RiskModel:
        """Fit on frame ``X`` and binary target ``y`` (1 = positive class)."""
        from threadpoolctl import threadpool_limits

        self._check_params()
        with threadpool_limits(limits=max(1, self.n_jobs)):
            return self._fit(X, y, progress)

    def _fit(self, X: Any, y: Any, progress: Progress | None) -> RiskModel:
        report = progress or (lambda _msg, _done, _total: None)
        frame = as_pandas(X)
        target = np.asarray(y).astype(np.int64).ravel()
        if len(target) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(target)}")
        if set(np.unique(target).tolist()) - {0, 1} or len(np.unique(target)) < 2:
            raise ValueError("y must contain both classes, coded 0 and 1")
        excluded = tuple(self.exclude) + ((self.date_column,) if self.date_column else ())
        if self.date_column and self.date_column not in frame.columns:
            raise ValueError(f"date column {self.date_column!r} not in the data")
        pre = TabularPreprocessor(
            exclude=excluded, max_categories=self.max_categories, min_category_count=self.min_category_count
        ).fit(frame)
        Z = pre.transform(frame)
        self.preprocessor_ = pre
        self.feature_names_in_ = pre.feature_names_in_
        self.n_features_in_ = pre.n_features_in_
        self.classes_ = np.array([0, 1])

        if self.date_column:
            folds = time_splits(frame[self.date_column], n_splits=self.n_splits)
            self.validation_ = "time-split"
        else:
            splitter = StratifiedKFold(n_splits=self.n_splits, shuffle=True, random_state=self.random_state)
            folds = [(tr, va) for tr, va in splitter.split(Z, target)]
            self.validation_ = "stratified-kfold"
        families = ["gbm", "scorecard", "logit"] if self.kind == "auto" else [self.kind]
        total = len(folds) * len(families) + len(families) + 1
        step = 0

        oof: dict[str, np.ndarray] = {}
        fold_auc: dict[str, list[float]] = {}
        chosen_param: dict[str, Any] = {}
        n = len(target)
        for family in families:
            if family == "gbm":
                boosters: list[GBMLearner] = []
                for tr, va in folds:
                    learner = GBMLearner(n_rounds=GBM_MAX_ROUNDS, seed=self.random_state, n_jobs=self.n_jobs)
                    learner.fit(Z[tr], target[tr], pre, Z_valid=Z[va], y_valid=target[va])
                    boosters.append(learner)
                    step += 1
                    report(f"gradient boosting, fold {len(boosters)}/{len(folds)}", step, total)
                curve = np.mean([b.curve_ for b in boosters], axis=0)
                # fewest trees within GBM_AUC_TOLERANCE of the best mean validation AUC (faster scoring)
                best = int(np.flatnonzero(curve >= curve.max() - GBM_AUC_TOLERANCE)[0]) + 1
                chosen_param["gbm"] = best
                pred = np.full(n, np.nan)
                for (_tr, va), learner in zip(folds, boosters, strict=True):
                    pred[va] = learner.decision(Z[va], num_iteration=best)
                oof["gbm"] = pred
            else:
                grid = LOGIT_C_GRID if family == "logit" else SCORECARD_C_GRID
                preds = {c: np.full(n, np.nan) for c in grid}
                for i, (tr, va) in enumerate(folds):
                    if family == "logit":
                        for c in grid:
                            preds[c][va] = LogitLearner(C=c).fit(Z[tr], target[tr], pre).decision(Z[va])
                    else:
                        card = ScorecardLearner().fit_binning(Z[tr], target[tr], pre)
                        woe_tr = card.woe_matrix(Z[tr])
                        for c in grid:
                            card.C = c
                            preds[c][va] = card.fit_logistic(Z[tr], target[tr], woe=woe_tr).decision(Z[va])
                    step += 1
                    report(f"{family}, fold {i + 1}/{len(folds)}", step, total)
                scores = {c: self._mean_fold_auc(target, preds[c], folds) for c in grid}
                # C = 1 unless another strength is better by more than AUC_TOLERANCE
                top_c = max(grid, key=lambda c: scores[c])
                best_c = 1.0 if 1.0 in grid and scores[1.0] >= scores[top_c] - AUC_TOLERANCE else top_c
                chosen_param[family] = best_c
                oof[family] = preds[best_c]

        candidates: dict[str, tuple[str, ...]] = {f: (f,) for f in families}
        if self.kind == "auto":
            for size in (2, 3):
                for combo in itertools.combinations(families, size):
                    candidates["+".join(combo)] = combo
        cand_scores: dict[str, float] = {}
        for name, members in candidates.items():
            blended = self._blend_oof(oof, members)
            cand_scores[name] = self._mean_fold_auc(target, blended, folds)
            fold_auc[name] = self._fold_aucs(target, blended, folds)
        # the simplest candidate within AUC_TOLERANCE of the best: blends must earn their keep
        best_auc = max(cand_scores.values())
        near = [k for k in candidates if cand_scores[k] >= best_auc - AUC_TOLERANCE]
        selected = min(near, key=lambda k: (len(candidates[k]), SIMPLICITY.index(candidates[k][0]), -cand_scores[k]))
        members = candidates[selected]
        self.selected_ = selected
        self.cv_auc_ = cand_scores
        self.cv_fold_auc_ = fold_auc
        self.params_ = {k: v for k, v in chosen_param.items() if k in members}

        learners: list[Any] = []
        for family in members:
            if family == "gbm":
                rounds = max(10, round(chosen_param["gbm"] * (1.0 + 1.0 / self.n_splits)))
                learners.append(GBMLearner(n_rounds=rounds, seed=self.random_state, n_jobs=self.n_jobs).fit(Z, target, pre))
            elif family == "logit":
                learners.append(LogitLearner(C=chosen_param["logit"]).fit(Z, target, pre))
            else:
                learners.append(ScorecardLearner(C=chosen_param["scorecard"]).fit(Z, target, pre))
            step += 1
            report(f"final {family} on all rows", step, total)
        self.learners_ = learners
        self.weights_ = np.full(len(learners), 1.0 / len(learners))

        validated = np.zeros(n, dtype=bool)
        for _tr, va in folds:
            validated[va] = True
        held_out = self._blend_oof(oof, members)[validated]
        y_held = target[validated]
        self.calibrator_ = self._fit_calibrator(held_out, y_held)
        p_held = self._calibrate(held_out)
        self.metrics_ = self._metrics(y_held, p_held, held_out)
        self.metrics_["cv_auc_mean"] = cand_scores[selected]
        self.metrics_["cv_auc_folds"] = fold_auc[selected]

        score_train = self._calibrate(self._decision_z(Z))
        self.score_reference_ = build_reference(score_train, name="score", bins=10)
        self.references_ = [
            build_reference(
                Z[:, j],
                name=name,
                kind="categorical" if kind == CATEGORICAL else "numeric",
                n_codes=pre.n_codes(j) if kind == CATEGORICAL else 0,
            )
            for j, (name, kind) in enumerate(zip(pre.features_, pre.kinds_, strict=True))
        ]
        self.phrases_ = PhraseBook(pre=pre, labels=self.feature_labels)
        step += 1
        report("calibration and references", step, total)
        return self

    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _fold_aucs(y: np.ndarray, s: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
        return [_auc(y[va], s[va]) for _tr, va in folds]

    def _mean_fold_auc(self, y: np.ndarray, s: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> float:
        values = [v for v in self._fold_aucs(y, s, folds) if not math.isnan(v)]
        return float(np.mean(values)) if values else math.nan

    @staticmethod
    def _blend_oof(oof: dict[str, np.ndarray], members: tuple[str, ...]) -> np.ndarray:
        return np.mean([oof[m] for m in members], axis=0)

    def _fit_calibrator(self, s: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        method = self.calibration
        if method == "auto":
            method = "isotonic" if min(int(y.sum()), int(len(y) - y.sum())) >= 1000 else "sigmoid"
        if method == "none":
            return {"method": "none"}
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
            return {"method": "isotonic", "x": iso.X_thresholds_.copy(), "y": iso.y_thresholds_.copy()}
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000).fit(s.reshape(-1, 1), y)
        return {"method": "sigmoid", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}

    def _calibrate(self, s: np.ndarray) -> np.ndarray:
        cal = self.calibrator_
        if cal["method"] == "none":
            return _sigmoid(s)
        if cal["method"] == "sigmoid":
            return _sigmoid(cal["a"] * s + cal["b"])
        p = np.interp(s, cal["x"], cal["y"])
        # strictly increasing tie-break inside isotonic steps, so ranking (AUC) is not lost
        return np.clip(p + 1e-6 * (_sigmoid(s) - 0.5), 0.0, 1.0)

    @staticmethod
    def _metrics(y: np.ndarray, p: np.ndarray, s: np.ndarray) -> dict[str, Any]:
        auc = _auc(y, s)
        order = np.argsort(-s, kind="stable")
        cum_pos = np.cumsum(y[order]) / max(y.sum(), 1)
        cum_neg = np.cumsum(1 - y[order]) / max(len(y) - y.sum(), 1)
        p_clip = np.clip(p, 1e-12, 1 - 1e-12)
        bins = np.minimum((np.argsort(np.argsort(p, kind="stable"), kind="stable") * 10) // len(p), 9)
        curve = []
        for b in range(10):
            m = bins == b
            if m.any():
                curve.append({"mean_predicted": float(p[m].mean()), "observed_rate": float(y[m].mean()), "n": int(m.sum())})
        return {
            "n_validated": len(y),
            "positive_rate": float(y.mean()),
            "auc": auc,
            "gini": 2 * auc - 1,
            "ks": float(np.max(np.abs(cum_pos - cum_neg))),
            "brier": float(np.mean((p - y) ** 2)),
            "log_loss": float(-np.mean(y * np.log(p_clip) + (1 - y) * np.log(1 - p_clip))),
            "calibration_curve": curve,
        }

    # ------------------------------------------------------------------------------------------
    def _decision_z(self, Z: np.ndarray, *, n_jobs: int | None = None) -> np.ndarray:
        total = np.zeros(len(Z))
        for w, learner in zip(self.weights_, self.learners_, strict=True):
            part = learner.decision(Z, n_jobs=n_jobs) if isinstance(learner, GBMLearner) else learner.decision(Z)
            total += w * part
        return total

    def _contributions_z(self, Z: np.ndarray, *, n_jobs: int | None = None) -> np.ndarray:
        total = np.zeros(Z.shape, order="F")
        for w, learner in zip(self.weights_, self.learners_, strict=True):
            part = learner.contributions(Z, n_jobs=n_jobs) if isinstance(learner, GBMLearner) else learner.contributions(Z)
            for j in range(Z.shape[1]):
                total[:, j] += w * part[:, j]
        return np.ascontiguousarray(total)

    def transform_features(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "learners_")
        return self.preprocessor_.transform(as_pandas(X))

    def decision_function(self, X: Any, *, n_jobs: int | None = None) -> np.ndarray:
        """Uncalibrated log-odds of the positive class."""
        return self._decision_z(self.transform_features(X), n_jobs=n_jobs)

    def predict_proba(self, X: Any, *, n_jobs: int | None = None) -> np.ndarray:
        p = self._calibrate(self.decision_function(X, n_jobs=n_jobs))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any, *, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """ROC-AUC of the positive-class probability (higher is better)."""
        return _auc(np.asarray(y).astype(np.int64), self.predict_proba(X)[:, 1])

    # reason codes -----------------------------------------------------------------------------
    def explain(self, X: Any, *, top: int = 3, n_jobs: int | None = None) -> Explanation:
        Z = self.transform_features(X)
        idx, vals = top_positive(self._contributions_z(Z, n_jobs=n_jobs), top=top)
        return Explanation(features=tuple(self.preprocessor_.features_), index=idx, contribution=vals)

    def score_with_reasons(
        self, X: Any, *, top: int = 3, lang: str = "both", n_jobs: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of the positive class and one reason string per row (batch, vectorised)."""
        Z = self.transform_features(X)
        p = self._calibrate(self._decision_z(Z, n_jobs=n_jobs))
        idx, _vals = top_positive(self._contributions_z(Z, n_jobs=n_jobs), top=top)
        return p, render(self.phrases_, Z, idx, lang=lang)

    def reasons(self, X: Any, *, top: int = 3) -> list[list[Reason]]:
        """Reasons per row as objects (feature, state, value, contribution, English and Chinese text)."""
        frame = as_pandas(X)
        Z = self.transform_features(frame)
        idx, vals = top_positive(self._contributions_z(Z), top=top)
        features = self.preprocessor_.features_
        raw: list[list[str]] = []
        for i in range(len(frame)):
            row = []
            for slot in range(idx.shape[1]):
                j = int(idx[i, slot])
                row.append(str(frame[features[j]].iloc[i]) if j >= 0 and features[j] in frame.columns else "")
            raw.append(row)
        return reasons_for_rows(self.phrases_, Z, idx, vals, raw)

    # monitoring -------------------------------------------------------------------------------
    def stability(self, X: Any) -> StabilityReport:
        """PSI of the score and CSI of every characteristic of ``X`` against the training data."""
        Z = self.transform_features(X)
        p = self._calibrate(self._decision_z(Z))
        score_psi = self.score_reference_.psi(p)
        chars = tuple(
            CharacteristicStability(name=ref.name, value=(v := ref.psi(Z[:, j])), status=stability_status(v))
            for j, ref in enumerate(self.references_)
        )
        return StabilityReport(
            n_rows=len(Z), score_psi=score_psi, score_status=stability_status(score_psi), characteristics=chars
        )

    def points_table(self) -> list[tuple[str, str, float, float]] | None:
        """Scorecard points per (feature, bin) when the model contains a scorecard."""
        for learner in self.learners_:
            if isinstance(learner, ScorecardLearner):
                return learner.points_table(self.preprocessor_.features_)
        return None

    @property
    def references(self) -> list[Reference]:
        return list(self.references_)
