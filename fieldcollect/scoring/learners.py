"""Base learners working on the matrix made by :class:`TabularPreprocessor`.

Each learner gives a raw log-odds score (``decision``) and per-feature contributions in log-odds units
(``contributions``), centred so that zero means "as for the average training row". They are internal
building blocks of :class:`fieldcollect.scoring.RiskModel`, not estimators of their own.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from fieldcollect.scoring.preprocessing import TabularPreprocessor


def _fit_logistic(matrix: np.ndarray, y: np.ndarray, *, C: float) -> LogisticRegression:
    model = LogisticRegression(C=C, max_iter=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(matrix, y)
    return model


# ----------------------------------------------------------------------------------------------
# Logistic regression on one-hot categories and standardised, winsorised numbers
# ----------------------------------------------------------------------------------------------
@dataclass
class LogitLearner:
    """L2 logistic regression; categories are one-hot, numbers are clipped (training range widened
    by its width), median-imputed (with a missing indicator) and standardised."""

    C: float = 1.0
    name: str = "logit"
    lo_: np.ndarray = field(default_factory=lambda: np.empty(0))
    hi_: np.ndarray = field(default_factory=lambda: np.empty(0))
    fill_: np.ndarray = field(default_factory=lambda: np.empty(0))
    mean_: np.ndarray = field(default_factory=lambda: np.empty(0))
    scale_: np.ndarray = field(default_factory=lambda: np.empty(0))
    has_missing_: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    numeric_idx_: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    categorical_idx_: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    n_codes_: list[int] = field(default_factory=list)
    intercept_: float = 0.0
    w_num_: np.ndarray = field(default_factory=lambda: np.empty(0))
    w_missing_: np.ndarray = field(default_factory=lambda: np.empty(0))
    tables_: list[np.ndarray] = field(default_factory=list)
    centre_: np.ndarray = field(default_factory=lambda: np.empty(0))

    def fit(self, Z: np.ndarray, y: np.ndarray, pre: TabularPreprocessor) -> LogitLearner:
        mask = pre.categorical_mask_
        self.numeric_idx_ = np.flatnonzero(~mask)
        self.categorical_idx_ = np.flatnonzero(mask)
        self.n_codes_ = [pre.n_codes(int(j)) for j in self.categorical_idx_]
        num = Z[:, self.numeric_idx_]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # clip to the training range widened by its width: guards against wild values in new data
            lo = np.nan_to_num(np.nanmin(num, axis=0)) if num.shape[1] else np.empty(0)
            hi = np.nan_to_num(np.nanmax(num, axis=0)) if num.shape[1] else np.empty(0)
            self.lo_, self.hi_ = lo - (hi - lo), hi + (hi - lo)
        self.has_missing_ = np.isnan(num).any(axis=0)
        clipped = np.clip(num, self.lo_, self.hi_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.fill_ = np.nan_to_num(np.nanmedian(clipped, axis=0)) if num.shape[1] else np.empty(0)
        filled = np.where(np.isnan(clipped), self.fill_, clipped)
        self.mean_ = filled.mean(axis=0)
        sd = filled.std(axis=0)
        self.scale_ = np.where(sd > 0, sd, 1.0)
        design = self._design(Z)
        model = _fit_logistic(design, y, C=self.C)
        coef = model.coef_[0]
        self.intercept_ = float(model.intercept_[0])
        k = len(self.numeric_idx_)
        self.w_num_ = coef[:k]
        n_miss = int(self.has_missing_.sum())
        self.w_missing_ = np.zeros(k)
        self.w_missing_[self.has_missing_] = coef[k : k + n_miss]
        pos = k + n_miss
        self.tables_ = []
        for n_codes in self.n_codes_:
            self.tables_.append(coef[pos : pos + n_codes + 1].copy())  # last slot: missing
            pos += n_codes + 1
        self.centre_ = np.zeros(Z.shape[1])
        self.centre_ = self._terms(Z).mean(axis=0)
        return self

    def _design(self, Z: np.ndarray) -> np.ndarray:
        num = Z[:, self.numeric_idx_]
        miss = np.isnan(num)
        clipped = np.clip(num, self.lo_, self.hi_)
        std = (np.where(miss, self.fill_, clipped) - self.mean_) / self.scale_
        blocks = [std, miss[:, self.has_missing_].astype(np.float64)]
        for j, n_codes in zip(self.categorical_idx_, self.n_codes_, strict=True):
            codes = _slot(Z[:, j], n_codes)
            onehot = np.zeros((len(Z), n_codes + 1))
            onehot[np.arange(len(Z)), codes] = 1.0
            blocks.append(onehot)
        return np.hstack(blocks)

    def _column_terms(self, Z: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(feature index, raw log-odds term) per feature; column by column on contiguous arrays."""
        out: list[tuple[int, np.ndarray]] = []
        for k, j in enumerate(self.numeric_idx_):
            column = Z[:, j]
            miss = np.isnan(column)
            value = np.where(miss, self.fill_[k], np.clip(column, self.lo_[k], self.hi_[k]))
            term = (value - self.mean_[k]) * (self.w_num_[k] / self.scale_[k])
            if self.has_missing_[k]:
                term += miss * self.w_missing_[k]
            out.append((int(j), term))
        for j, n_codes, table in zip(self.categorical_idx_, self.n_codes_, self.tables_, strict=True):
            out.append((int(j), table[_slot(Z[:, j], n_codes)]))
        return out

    def _terms(self, Z: np.ndarray) -> np.ndarray:
        terms = np.empty(Z.shape, dtype=np.float64, order="F")
        for j, term in self._column_terms(Z):
            terms[:, j] = term - self.centre_[j]
        return terms

    def decision(self, Z: np.ndarray) -> np.ndarray:
        total = np.full(len(Z), self.intercept_)
        for _j, term in self._column_terms(Z):
            total += term
        return total

    def contributions(self, Z: np.ndarray) -> np.ndarray:
        return self._terms(Z)


def _slot(column: np.ndarray, n_codes: int) -> np.ndarray:
    """Category codes as integer slots; missing goes to slot ``n_codes``."""
    out = np.where(np.isnan(column), n_codes, column)
    return np.clip(out, 0, n_codes).astype(np.intp)


# ----------------------------------------------------------------------------------------------
# WOE scorecard: optbinning's optimal binning + logistic regression, with points
# ----------------------------------------------------------------------------------------------
@dataclass
class ScorecardLearner:
    """Weight-of-evidence scorecard. Binning by optbinning, fast table look-ups at scoring time.

    ``pdo``/``base_points``/``base_odds`` set the usual points scale: ``base_points`` at odds
    ``base_odds`` (against the positive class), ``pdo`` more points for doubled odds.
    """

    C: float = 1.0
    pdo: float = 20.0
    base_points: float = 600.0
    base_odds: float = 50.0
    name: str = "scorecard"
    splits_: list[Any] = field(default_factory=list)
    woe_: list[np.ndarray] = field(default_factory=list)
    bin_labels_: list[list[str]] = field(default_factory=list)
    categorical_: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    coef_: np.ndarray = field(default_factory=lambda: np.empty(0))
    intercept_: float = 0.0
    centre_: np.ndarray = field(default_factory=lambda: np.empty(0))
    iv_: np.ndarray = field(default_factory=lambda: np.empty(0))

    def fit_binning(self, Z: np.ndarray, y: np.ndarray, pre: TabularPreprocessor) -> ScorecardLearner:
        from optbinning import OptimalBinning

        self.categorical_ = pre.categorical_mask_.copy()
        self.splits_, self.woe_, self.bin_labels_ = [], [], []
        for j in range(Z.shape[1]):
            column = Z[:, j]
            dtype = "categorical" if self.categorical_[j] else "numerical"
            optb = OptimalBinning(name=f"f{j}", dtype=dtype, min_bin_size=0.03, monotonic_trend="auto_asc_desc")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                optb.fit(column, y)
            if self.categorical_[j]:
                n_codes = pre.n_codes(j)
                seen = set(np.unique(column[~np.isnan(column)]).astype(int).tolist())
                probes = np.array([*range(n_codes), np.nan])
                woe = np.asarray(optb.transform(probes, metric="woe", metric_missing="empirical"), dtype=float)
                for code in range(n_codes):
                    if code not in seen:
                        woe[code] = 0.0
                self.splits_.append(None)
                self.bin_labels_.append([*pre.categories_[pre.features_[j]], "other", "missing"])
            else:
                splits = np.asarray(optb.splits, dtype=float)
                reps = np.array([splits[0] - 1.0, *splits]) if len(splits) else np.array([0.0])
                woe = np.asarray(
                    optb.transform(np.append(reps, np.nan), metric="woe", metric_missing="empirical"), dtype=float
                )
                self.splits_.append(splits)
                edges = [-math.inf, *splits.tolist(), math.inf]
                self.bin_labels_.append([f"[{edges[i]:.6g}, {edges[i + 1]:.6g})" for i in range(len(edges) - 1)] + ["missing"])
            self.woe_.append(np.nan_to_num(woe))
        self.iv_ = np.array([self._iv(Z[:, j], y, j) for j in range(Z.shape[1])])
        return self

    def _iv(self, column: np.ndarray, y: np.ndarray, j: int) -> float:
        bins = self._bins(column, j)
        size = len(self.woe_[j])
        events = np.bincount(bins, weights=y, minlength=size)
        non_events = np.bincount(bins, weights=1 - y, minlength=size)
        e = events / max(events.sum(), 1.0)
        ne = non_events / max(non_events.sum(), 1.0)
        return float(np.sum((ne - e) * self.woe_[j]))

    def woe_matrix(self, Z: np.ndarray) -> np.ndarray:
        out = np.empty(Z.shape, dtype=np.float64, order="F")
        for j in range(Z.shape[1]):
            out[:, j] = self.woe_[j][self._bins(Z[:, j], j)]
        return out

    def _bins(self, column: np.ndarray, j: int) -> np.ndarray:
        table = self.woe_[j]
        missing_slot = len(table) - 1
        if self.categorical_[j]:
            return _slot(column, missing_slot)
        splits = self.splits_[j]
        idx = np.searchsorted(splits, column, side="right")
        idx[np.isnan(column)] = missing_slot
        return idx

    def fit_logistic(self, Z: np.ndarray, y: np.ndarray, *, woe: np.ndarray | None = None) -> ScorecardLearner:
        W = self.woe_matrix(Z) if woe is None else woe
        model = _fit_logistic(W, y, C=self.C)
        self.coef_ = model.coef_[0].copy()
        self.intercept_ = float(model.intercept_[0])
        self.centre_ = (W * self.coef_).mean(axis=0)
        return self

    def fit(self, Z: np.ndarray, y: np.ndarray, pre: TabularPreprocessor) -> ScorecardLearner:
        return self.fit_binning(Z, y, pre).fit_logistic(Z, y)

    def contributions(self, Z: np.ndarray) -> np.ndarray:
        out = np.empty(Z.shape, dtype=np.float64, order="F")
        for j in range(Z.shape[1]):
            out[:, j] = (self.woe_[j] * self.coef_[j] - self.centre_[j])[self._bins(Z[:, j], j)]
        return out

    def decision(self, Z: np.ndarray) -> np.ndarray:
        out = np.full(len(Z), self.intercept_)
        for j in range(Z.shape[1]):
            out += (self.woe_[j] * self.coef_[j])[self._bins(Z[:, j], j)]
        return out

    # points -----------------------------------------------------------------------------------
    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points + self.factor * math.log(self.base_odds)

    def points_table(self, features: list[str]) -> list[tuple[str, str, float, float]]:
        """Rows ``(feature, bin, woe, points)``; a row's total points = sum over its bins.

        Higher points mean lower odds of the positive class. Points are spread evenly over features
        so that ``sum(points) = offset - factor * log-odds``.
        """
        m = len(features)
        rows: list[tuple[str, str, float, float]] = []
        for j, feature in enumerate(features):
            for label, woe in zip(self.bin_labels_[j], self.woe_[j], strict=False):
                logit_part = self.coef_[j] * woe + self.intercept_ / m
                rows.append((feature, label, float(woe), float(self.offset / m - self.factor * logit_part)))
        return rows

    def points(self, Z: np.ndarray) -> np.ndarray:
        return self.offset - self.factor * self.decision(Z)


# ----------------------------------------------------------------------------------------------
# LightGBM
# ----------------------------------------------------------------------------------------------
GBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 8,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "max_cat_to_onehot": 8,
    "cat_smooth": 10.0,
    "cat_l2": 10.0,
    "min_data_per_group": 20,
    "verbose": -1,
}


# Batches at least this large are scored by the booster compiled to native code (lleaves), when available.
COMPILE_MIN_ROWS = 100_000


@dataclass
class GBMLearner:
    """LightGBM booster on the preprocessed matrix; text columns are native categorical features."""

    n_rounds: int = 200
    params: dict[str, Any] = field(default_factory=lambda: dict(GBM_PARAMS))
    seed: int = 0
    n_jobs: int = 1
    name: str = "gbm"
    booster_: Any = None
    curve_: np.ndarray = field(default_factory=lambda: np.empty(0))
    compiled_: Any = None

    def _dataset(self, Z: np.ndarray, y: np.ndarray, pre: TabularPreprocessor, reference: Any = None) -> Any:
        import lightgbm as lgb

        cats = np.flatnonzero(pre.categorical_mask_).tolist()
        return lgb.Dataset(Z, label=y, categorical_feature=cats, reference=reference, free_raw_data=True,
                           params={"verbose": -1, "max_bin": 255})

    def fit(
        self,
        Z: np.ndarray,
        y: np.ndarray,
        pre: TabularPreprocessor,
        *,
        Z_valid: np.ndarray | None = None,
        y_valid: np.ndarray | None = None,
        patience: int = 100,
    ) -> GBMLearner:
        import lightgbm as lgb

        params = {**self.params, "seed": self.seed, "num_threads": self.n_jobs, "deterministic": True}
        train = self._dataset(Z, y, pre)
        if Z_valid is None or y_valid is None:
            self.booster_ = lgb.train(params, train, num_boost_round=self.n_rounds)
            return self
        valid = self._dataset(Z_valid, y_valid, pre, reference=train)
        record: dict[str, Any] = {}
        params["metric"] = "auc"
        self.booster_ = lgb.train(
            params,
            train,
            num_boost_round=self.n_rounds,
            valid_sets=[valid],
            valid_names=["valid"],
            callbacks=[lgb.record_evaluation(record), lgb.early_stopping(patience, verbose=False)],
        )
        curve = np.asarray(record["valid"]["auc"], dtype=float)
        full = np.full(self.n_rounds, curve[-1] if len(curve) else 0.5)
        full[: len(curve)] = curve
        self.curve_ = full
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["compiled_"] = None  # native code is rebuilt on demand, never pickled
        return state

    def _compiled_model(self) -> Any:
        """The booster compiled to native code by lleaves (optional dependency), or None."""
        if self.compiled_ is not None:
            return self.compiled_ or None
        try:
            import lleaves

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.txt")
                self.booster_.save_model(path)
                model = lleaves.Model(model_file=path)
                model.compile(raw_score=True)
            self.compiled_ = model
        except Exception:  # lleaves missing or unable to compile: LightGBM's own predictor is used
            self.compiled_ = False
            return None
        return model

    def decision(self, Z: np.ndarray, *, num_iteration: int | None = None, n_jobs: int | None = None) -> np.ndarray:
        threads = self.n_jobs if n_jobs is None else n_jobs
        if num_iteration is None and len(Z) >= COMPILE_MIN_ROWS:
            compiled = self._compiled_model()
            if compiled is not None:
                return np.asarray(compiled.predict(np.ascontiguousarray(Z, dtype=np.float64), n_jobs=threads), dtype=float)
        return np.asarray(
            self.booster_.predict(Z, raw_score=True, num_iteration=num_iteration, num_threads=threads), dtype=float
        )

    def contributions(self, Z: np.ndarray, *, n_jobs: int | None = None) -> np.ndarray:
        threads = self.n_jobs if n_jobs is None else n_jobs
        contrib = np.asarray(self.booster_.predict(Z, pred_contrib=True, num_threads=threads), dtype=float)
        return np.asfortranarray(contrib[:, :-1])
