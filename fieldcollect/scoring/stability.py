"""Population and characteristic stability (PSI / CSI).

PSI = sum over buckets of ``(a - e) * ln(a / e)`` where ``e`` and ``a`` are the shares of the expected
(training) and actual (current) population in each bucket. The usual reading, used here:

* below 0.10: stable;
* 0.10 to 0.25: moderate shift, investigate;
* 0.25 or more: significant shift, the model may need rebuilding.

For the model score it is called PSI; applied to one input characteristic it is called CSI.
Numeric buckets are the deciles of the expected data (plus one bucket for missing values);
category buckets are the categories themselves (plus "other" and "missing").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

STABLE = "stable"
MODERATE = "moderate"
SIGNIFICANT = "significant"
MODERATE_THRESHOLD = 0.10
SIGNIFICANT_THRESHOLD = 0.25
_EPS = 1e-4


def stability_status(value: float) -> str:
    """Reading of a PSI/CSI value: ``stable``, ``moderate`` or ``significant``."""
    if value >= SIGNIFICANT_THRESHOLD:
        return SIGNIFICANT
    if value >= MODERATE_THRESHOLD:
        return MODERATE
    return STABLE


def psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two share vectors over the same buckets (empty buckets are smoothed by 1e-4)."""
    e = np.clip(np.asarray(expected, dtype=float), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), _EPS, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class Reference:
    """Bucket definition and expected shares of one characteristic (or of the score)."""

    name: str
    kind: str  # "numeric" or "categorical"
    edges: tuple[float, ...]  # numeric: inner bucket edges
    n_codes: int  # categorical: number of codes including "other"
    shares: tuple[float, ...]  # last bucket = missing

    def bucket_counts(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        missing = np.isnan(values)
        n_buckets = len(self.shares)
        if self.kind == "numeric":
            idx = np.searchsorted(np.asarray(self.edges), values[~missing], side="right")
        else:
            idx = np.clip(values[~missing], 0, self.n_codes - 1).astype(np.intp)
        counts = np.bincount(idx, minlength=n_buckets - 1).astype(float)
        return np.append(counts[: n_buckets - 1], float(missing.sum()))

    def psi(self, values: np.ndarray) -> float:
        counts = self.bucket_counts(values)
        total = counts.sum()
        if total == 0:
            return 0.0
        return psi_from_shares(np.asarray(self.shares), counts / total)


def build_reference(values: np.ndarray, *, name: str, kind: str = "numeric", bins: int = 10, n_codes: int = 0) -> Reference:
    """Bucket ``values`` (the expected population) and remember the shares."""
    values = np.asarray(values, dtype=float)
    present = values[~np.isnan(values)]
    edges: tuple[float, ...] = ()
    if kind == "numeric":
        if len(present):
            qs = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
            edges = tuple(float(v) for v in np.unique(qs))
        n_buckets = len(edges) + 2
    else:
        n_buckets = n_codes + 1
    ref = Reference(name=name, kind=kind, edges=edges, n_codes=n_codes, shares=tuple([0.0] * n_buckets))
    counts = ref.bucket_counts(values)
    shares = counts / max(counts.sum(), 1.0)
    return Reference(name=name, kind=kind, edges=edges, n_codes=n_codes, shares=tuple(float(s) for s in shares))


def psi(expected: Any, actual: Any, *, bins: int = 10) -> float:
    """PSI of a numeric sample ``actual`` against ``expected``, decile buckets of ``expected``."""
    ref = build_reference(np.asarray(expected, dtype=float), name="value", bins=bins)
    return ref.psi(np.asarray(actual, dtype=float))


@dataclass(frozen=True)
class CharacteristicStability:
    name: str
    value: float
    status: str


@dataclass(frozen=True)
class StabilityReport:
    """Score PSI and per-characteristic CSI of a current population against the training one."""

    n_rows: int
    score_psi: float
    score_status: str
    characteristics: tuple[CharacteristicStability, ...]

    @property
    def shifted(self) -> tuple[CharacteristicStability, ...]:
        """Characteristics that moved at least moderately, worst first."""
        moved = [c for c in self.characteristics if c.status != STABLE]
        return tuple(sorted(moved, key=lambda c: -c.value))

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_rows": self.n_rows,
            "score_psi": self.score_psi,
            "score_status": self.score_status,
            "thresholds": {"moderate": MODERATE_THRESHOLD, "significant": SIGNIFICANT_THRESHOLD},
            "characteristics": [{"name": c.name, "csi": c.value, "status": c.status} for c in self.characteristics],
        }
