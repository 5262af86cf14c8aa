"""Turn any tabular frame into one numeric matrix that every model in this package understands.

Numeric columns stay numeric (``NaN`` for missing or unparsable values). Text columns become integer
category codes stored as floats: code ``k`` is the ``k``-th kept category, the code ``len(kept)``
("other") collects rare categories at fit time and categories never seen before at transform time,
and a missing value stays ``NaN``. Identifier-like text columns (almost one value per row) are dropped.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

_ID_NAME = re.compile(r"(^|[_\s-])(id|no|number|key|编号)$|^id[_\s-]", re.IGNORECASE)

NUMERIC = "numeric"
CATEGORICAL = "categorical"


def as_pandas(X: Any) -> pd.DataFrame:
    """Return ``X`` as a pandas DataFrame (accepts pandas, polars, or a dict of columns)."""
    if isinstance(X, pd.DataFrame):
        return X
    to_pandas = getattr(X, "to_pandas", None)
    if callable(to_pandas):
        out = to_pandas()
        if isinstance(out, pd.DataFrame):
            return out
    if isinstance(X, dict):
        return pd.DataFrame(X)
    raise TypeError(f"expected a DataFrame (pandas or polars), got {type(X).__name__}")


def _normalise_label(value: Any) -> str:
    """Canonical text of one category value: stripped text; whole floats lose their ``.0``."""
    if isinstance(value, float | np.floating) and math.isfinite(float(value)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _factorize(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and the distinct raw values, using the categorical dtype when present."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cat = series.cat
        return np.asarray(cat.codes, dtype=np.int64), list(cat.categories)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _is_missing_label(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating) and math.isnan(float(value)):
        return True
    return bool(isinstance(value, str) and value.strip() == "")


def _parse_float(value: Any) -> float:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def _to_numeric(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype("float64").to_numpy(na_value=np.nan)
    codes, uniques = _factorize(series)
    values = np.array([_parse_float(u) for u in uniques] + [math.nan], dtype=np.float64)
    return values[codes]  # code -1 picks the trailing NaN


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Detect numeric and text columns of a frame and encode them into a float matrix.

    Parameters
    ----------
    exclude : sequence of str
        Columns never used as features (target, dates, identifiers you know about).
    max_categories : int
        Most frequent categories kept per text column; the rest go to "other".
    min_category_count : int
        Categories seen fewer times than this at fit time go to "other".
    numeric_parse_ratio : float
        A text column is numeric when at least this share of its non-missing values parse as numbers.
    id_cardinality_ratio : float
        A text column with more distinct values than this share of the rows is an identifier and dropped.
    """

    def __init__(
        self,
        *,
        exclude: Sequence[str] = (),
        max_categories: int = 100,
        min_category_count: int = 5,
        numeric_parse_ratio: float = 0.98,
        id_cardinality_ratio: float = 0.5,
    ) -> None:
        self.exclude = exclude
        self.max_categories = max_categories
        self.min_category_count = min_category_count
        self.numeric_parse_ratio = numeric_parse_ratio
        self.id_cardinality_ratio = id_cardinality_ratio

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> TabularPreprocessor:
        frame = as_pandas(X)
        excluded = set(self.exclude)
        n = len(frame)
        features: list[str] = []
        kinds: list[str] = []
        categories: dict[str, list[str]] = {}
        dropped: dict[str, str] = {}
        for col in frame.columns:
            name = str(col)
            if name in excluded:
                continue
            series = frame[col]
            kind = self._detect_kind(series)
            if kind == NUMERIC:
                values = _to_numeric(series)
                if np.all(np.isnan(values)):
                    dropped[name] = "all values missing"
                    continue
                if np.nanmin(values) == np.nanmax(values) and not np.isnan(values).any():
                    dropped[name] = "constant"
                    continue
                if self._looks_like_row_id(name, values):
                    dropped[name] = "identifier-like (distinct whole numbers)"
                    continue
                features.append(name)
                kinds.append(NUMERIC)
                continue
            labels = self._category_counts(series)
            if not labels:
                dropped[name] = "all values missing"
                continue
            n_distinct = len(labels)
            if n > 50 and n_distinct > self.id_cardinality_ratio * n:
                dropped[name] = f"identifier-like ({n_distinct} distinct values)"
                continue
            if n_distinct == 1 and series.isna().sum() == 0:
                dropped[name] = "constant"
                continue
            ranked = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))
            kept = [lab for lab, cnt in ranked if cnt >= self.min_category_count][: self.max_categories]
            if not kept:
                kept = [ranked[0][0]]
            features.append(name)
            kinds.append(CATEGORICAL)
            categories[name] = kept
        if not features:
            raise ValueError("no usable feature columns")
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(frame.columns)
        self.features_ = features
        self.kinds_ = kinds
        self.categories_ = categories
        self.dropped_ = dropped
        matrix = self.transform(frame)
        self.medians_ = np.array(
            [np.nanmedian(matrix[:, j]) if kinds[j] == NUMERIC and not np.all(np.isnan(matrix[:, j])) else np.nan for j in range(len(features))]
        )
        return self

    @staticmethod
    def _looks_like_row_id(name: str, values: np.ndarray) -> bool:
        """Distinct whole numbers that are a consecutive run or sit in a column named like an id."""
        present = values[~np.isnan(values)]
        if len(present) < 50 or len(present) != len(values) or not np.all(present == np.round(present)):
            return False
        if len(np.unique(present)) != len(present):
            return False
        consecutive = float(present.max() - present.min()) == len(present) - 1
        return consecutive or bool(_ID_NAME.search(name))

    def _detect_kind(self, series: pd.Series) -> str:
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return NUMERIC
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            return NUMERIC
        codes, uniques = _factorize(series)
        if not uniques:
            return CATEGORICAL
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        parsed = np.array([not math.isnan(_parse_float(u)) for u in uniques])
        blank = np.array([_is_missing_label(u) for u in uniques])
        total = counts[~blank].sum()
        if total == 0:
            return CATEGORICAL
        return NUMERIC if counts[parsed & ~blank].sum() >= self.numeric_parse_ratio * total else CATEGORICAL

    @staticmethod
    def _category_counts(series: pd.Series) -> dict[str, int]:
        codes, uniques = _factorize(series)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        out: dict[str, int] = {}
        for value, count in zip(uniques, counts, strict=True):
            if count == 0 or _is_missing_label(value):
                continue
            label = _normalise_label(value)
            out[label] = out.get(label, 0) + int(count)
        return out

    # -- transforming --------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Encode ``X`` into a float64 matrix (Fortran order) with one column per entry of ``features_``.

        Columns absent from ``X`` are treated as all missing (a warning says which).
        """
        check_is_fitted(self, "features_")
        frame = as_pandas(X)
        n = len(frame)
        out = np.empty((n, len(self.features_)), dtype=np.float64, order="F")  # columns contiguous
        absent = [f for f in self.features_ if f not in frame.columns]
        if absent:
            warnings.warn(f"columns missing from the data, treated as missing values: {absent}", stacklevel=2)
        for j, (name, kind) in enumerate(zip(self.features_, self.kinds_, strict=True)):
            if name not in frame.columns:
                out[:, j] = np.nan
                continue
            series = frame[name]
            if kind == NUMERIC:
                out[:, j] = _to_numeric(series)
            else:
                out[:, j] = self._encode_categories(series, self.categories_[name])
        return out

    @staticmethod
    def _encode_categories(series: pd.Series, kept: list[str]) -> np.ndarray:
        codes, uniques = _factorize(series)
        other = float(len(kept))
        index = {label: float(i) for i, label in enumerate(kept)}
        lookup = np.empty(len(uniques) + 1, dtype=np.float64)
        for i, value in enumerate(uniques):
            lookup[i] = np.nan if _is_missing_label(value) else index.get(_normalise_label(value), other)
        lookup[-1] = np.nan
        return lookup[codes]

    # -- helpers used by models and reason codes -----------------------------------------------
    @property
    def categorical_mask_(self) -> np.ndarray:
        return np.array([k == CATEGORICAL for k in self.kinds_])

    def n_codes(self, j: int) -> int:
        """Number of codes of categorical feature ``j`` including "other"."""
        return len(self.categories_[self.features_[j]]) + 1

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "features_")
        return np.array(self.features_, dtype=object)
