"""Reading tabular files for the models: raw text for faithful output, typed frames for scoring."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from fieldcollect.scoring.preprocessing import NUMERIC

NULL_VALUES = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"]
NUMERIC_PARSE_RATIO = 0.98


class DataError(ValueError):
    """The input file or column cannot be used (unreadable, empty, unknown column, ...)."""


def read_raw(path: Path | str) -> pl.DataFrame:
    """Read a CSV file with every column as text, exactly as written (only surrounding blanks stay)."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"file not found: {file}")
    try:
        frame = pl.read_csv(file, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {file} as CSV: {exc}") from exc
    if frame.width == 0:
        raise DataError(f"{file} has no columns")
    return frame


def _clean(column: pl.Expr) -> pl.Expr:
    text = column.str.strip_chars()
    return pl.when(text.is_in(NULL_VALUES)).then(None).otherwise(text)


def typed_frame(raw: pl.DataFrame, *, kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Convert an all-text frame into a pandas frame of float and category columns.

    ``kinds`` (column -> "numeric"/"categorical", e.g. from a fitted model) forces the type of the
    columns it names; other columns are numeric when at least 98 % of their non-missing values parse
    as numbers.
    """
    kinds = kinds or {}
    cleaned = raw.select([_clean(pl.col(c)).alias(c) for c in raw.columns])
    parsed = cleaned.select([pl.col(c).cast(pl.Float64, strict=False).alias(c) for c in cleaned.columns])
    present = cleaned.select([pl.col(c).is_not_null().sum().alias(c) for c in cleaned.columns]).row(0)
    numeric_ok = parsed.select([pl.col(c).is_not_null().sum().alias(c) for c in parsed.columns]).row(0)
    exprs: list[pl.Series] = []
    for name, n_present, n_numeric in zip(cleaned.columns, present, numeric_ok, strict=True):
        kind = kinds.get(name)
        if kind is None:
            is_numeric = n_present > 0 and n_numeric >= NUMERIC_PARSE_RATIO * n_present
        else:
            is_numeric = kind == NUMERIC
        if is_numeric:
            exprs.append(parsed.get_column(name))
        else:
            exprs.append(cleaned.get_column(name).cast(pl.Categorical))
    return pl.DataFrame(exprs).to_pandas()


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV into a typed pandas frame (numbers as float, text as category)."""
    return typed_frame(read_raw(path))


def _label(value: Any) -> str:
    if isinstance(value, float | np.floating) and math.isfinite(float(value)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def target_vector(column: pd.Series, *, positive: str) -> np.ndarray:
    """1 where ``column`` equals ``positive`` (compared as text: ``1``, ``1.0`` and `` 1 `` match), else 0.

    Raises :class:`DataError` when ``positive`` never occurs or the column has missing values.
    """
    if column.isna().any():
        raise DataError(f"target column {column.name!r} has {int(column.isna().sum())} missing values")
    wanted = _label(positive)
    try:
        wanted_num = float(wanted)
    except ValueError:
        wanted_num = math.nan
    codes, uniques = pd.factorize(column)
    labels = [_label(u) for u in uniques]
    hits = np.array(
        [lab == wanted or (not math.isnan(wanted_num) and _as_float(lab) == wanted_num) for lab in labels], dtype=bool
    )
    if not hits.any():
        shown = ", ".join(sorted(labels)[:20])
        raise DataError(f"positive value {positive!r} not found in column {column.name!r} (values: {shown})")
    if hits.all():
        raise DataError(f"every row of {column.name!r} is {positive!r}; need both classes")
    return hits[codes].astype(np.int64)


def _as_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan
