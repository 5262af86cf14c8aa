"""Champion/challenger experiment analysis: uplift between arms with confidence intervals.

The uplift of arm B over arm A is ``mean(B) − mean(A)`` of a per-case metric (net recovery in
fen, a 0/1 payment flag, complaints...).  Two intervals are offered:

* :func:`welch_uplift` — normal approximation with Welch's unequal-variance standard error
  ``sqrt(s_A²/n_A + s_B²/n_B)``; right for the large arms of collection experiments;
* :func:`bootstrap_uplift` — percentile bootstrap resampling each arm independently; makes no
  normality assumption (skewed recoveries, small arms).

:func:`paired_uplift` handles paired designs (the same simulated portfolio under two strategies),
and :func:`sample_size` / :func:`sample_size_proportions` say how many cases per arm an
experiment needs to detect a given effect.  Pure NumPy/Polars; no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class UpliftEstimate:
    """Difference of means ``treatment − control`` with a confidence interval."""

    method: str
    n_control: int
    n_treatment: int
    mean_control: float
    mean_treatment: float
    uplift: float
    ci_low: float
    ci_high: float
    level: float
    std_error: float
    p_value: float | None = None

    @property
    def relative_uplift(self) -> float:
        """Uplift as a share of the control mean (nan when the control mean is 0)."""
        return self.uplift / self.mean_control if self.mean_control else math.nan

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0

    def as_dict(self) -> dict[str, float | int | str | None]:
        """Plain dictionary (for JSON)."""
        return {
            "method": self.method, "n_control": self.n_control, "n_treatment": self.n_treatment,
            "mean_control": self.mean_control, "mean_treatment": self.mean_treatment,
            "uplift": self.uplift, "ci_low": self.ci_low, "ci_high": self.ci_high, "level": self.level,
            "std_error": self.std_error, "p_value": self.p_value,
        }


def _as_array(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 observations")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds non-finite values")
    return arr


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    return NormalDist().inv_cdf(0.5 + level / 2)


def welch_uplift(*, control: npt.ArrayLike, treatment: npt.ArrayLike, level: float = 0.95) -> UpliftEstimate:
    """Uplift with a Welch (unequal variances) normal-approximation interval.

    Parameters
    ----------
    control, treatment : array-like
        Per-case metric in each arm.
    level : float
        Confidence level.
    """
    a = _as_array(control, "control")
    b = _as_array(treatment, "treatment")
    diff = float(b.mean() - a.mean())
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    z = _z(level)
    p = 2 * (1 - NormalDist().cdf(abs(diff) / se)) if se > 0 else (0.0 if diff else 1.0)
    return UpliftEstimate("welch", a.size, b.size, float(a.mean()), float(b.mean()), diff,
                          diff - z * se, diff + z * se, level, se, p)


def bootstrap_uplift(*, control: npt.ArrayLike, treatment: npt.ArrayLike, level: float = 0.95,
                     n_resamples: int = 2000, seed: int = 0, chunk: int = 50) -> UpliftEstimate:
    """Uplift with a percentile bootstrap interval (each arm resampled on its own).

    Parameters
    ----------
    control, treatment, level
        As in :func:`welch_uplift`.
    n_resamples : int
        Number of bootstrap resamples.
    seed : int
        Seed of the resampling (same seed, same interval).
    chunk : int
        Resamples drawn at once (memory: ``chunk × n`` indices).
    """
    a = _as_array(control, "control")
    b = _as_array(treatment, "treatment")
    _z(level)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_resamples)
    done = 0
    while done < n_resamples:
        k = min(chunk, n_resamples - done)
        ma = a[rng.integers(0, a.size, (k, a.size))].mean(axis=1)
        mb = b[rng.integers(0, b.size, (k, b.size))].mean(axis=1)
        diffs[done:done + k] = mb - ma
        done += k
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    diff = float(b.mean() - a.mean())
    share_below = float(np.mean(diffs <= 0))
    p = min(1.0, 2 * min(share_below, 1 - share_below))
    return UpliftEstimate("bootstrap", a.size, b.size, float(a.mean()), float(b.mean()), diff,
                          float(lo), float(hi), level, float(diffs.std(ddof=1)), p)


def paired_uplift(*, control: npt.ArrayLike, treatment: npt.ArrayLike, level: float = 0.95,
                  method: str = "normal", n_resamples: int = 2000, seed: int = 0) -> UpliftEstimate:
    """Uplift for paired observations (e.g. one simulated portfolio under two strategies).

    The interval is on the mean of the differences: normal approximation (``t`` quantile for
    fewer than 30 pairs) or percentile bootstrap of the pairs.
    """
    a = _as_array(control, "control")
    b = _as_array(treatment, "treatment")
    if a.size != b.size:
        raise ValueError("paired samples must have the same length")
    d = b - a
    diff = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(d.size))
    if method == "normal":
        q = _t_quantile(level, d.size - 1)
        lo, hi = diff - q * se, diff + q * se
    elif method == "bootstrap":
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, d.size, (n_resamples, d.size))].mean(axis=1)
        lo, hi = (float(x) for x in np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))
    else:
        raise ValueError(f"unknown method {method!r}")
    return UpliftEstimate(f"paired-{method}", a.size, b.size, float(a.mean()), float(b.mean()), diff,
                          float(lo), float(hi), level, se, None)


def _t_quantile(level: float, dof: int) -> float:
    """Student t quantile (SciPy when available, else a Cornish-Fisher expansion)."""
    z = _z(level)
    if dof >= 30:
        return z
    try:
        from scipy.special import stdtrit

        return float(stdtrit(dof, 0.5 + level / 2))
    except ImportError:  # pragma: no cover
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        return z + g1 / dof + g2 / dof**2


def sample_size(*, sd: float, mde: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> int:
    """Cases needed in the control arm to detect a difference of means ``mde``.

    Two-sided test, normal approximation; the treatment arm has ``ratio`` times as many cases
    and the same standard deviation ``sd``.  Returns the control arm size (rounded up).
    """
    if sd <= 0 or mde == 0 or ratio <= 0:
        raise ValueError("sd and ratio must be > 0 and mde != 0")
    za = NormalDist().inv_cdf(1 - alpha / 2)
    zb = NormalDist().inv_cdf(power)
    return math.ceil((za + zb) ** 2 * sd**2 * (1 + 1 / ratio) / mde**2)


def sample_size_proportions(*, p_control: float, p_treatment: float, alpha: float = 0.05,
                            power: float = 0.8, ratio: float = 1.0) -> int:
    """Cases needed in the control arm to tell two payment rates apart (two-sided)."""
    if not (0 < p_control < 1 and 0 < p_treatment < 1) or p_control == p_treatment:
        raise ValueError("rates must be distinct and in (0, 1)")
    za = NormalDist().inv_cdf(1 - alpha / 2)
    zb = NormalDist().inv_cdf(power)
    var = p_control * (1 - p_control) + p_treatment * (1 - p_treatment) / ratio
    return math.ceil((za + zb) ** 2 * var / (p_treatment - p_control) ** 2)


def compare_arms(frame: pl.DataFrame, *, arm: str, metrics: Sequence[str], control: str,
                 level: float = 0.95, bootstrap: bool = True, n_resamples: int = 2000,
                 seed: int = 0) -> pl.DataFrame:
    """Uplift of every other arm over ``control`` for each metric, Welch and (optionally) bootstrap.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per case, with an arm column and metric columns.
    arm : str
        Name of the arm column.
    metrics : sequence of str
        Metric columns (e.g. ``net_recovery_fen``, ``paid``, ``complaints``).
    control : str
        Label of the control (champion) arm.
    """
    arms = [a for a in frame[arm].unique(maintain_order=True).to_list() if a != control]
    if control not in frame[arm].to_list():
        raise ValueError(f"no case in control arm {control!r}")
    rows: list[dict[str, object]] = []
    base = frame.filter(pl.col(arm) == control)
    for other in arms:
        sub = frame.filter(pl.col(arm) == other)
        for m in metrics:
            estimates = [welch_uplift(control=base[m].to_numpy(), treatment=sub[m].to_numpy(), level=level)]
            if bootstrap:
                estimates.append(bootstrap_uplift(control=base[m].to_numpy(), treatment=sub[m].to_numpy(),
                                                  level=level, n_resamples=n_resamples, seed=seed))
            for est in estimates:
                rows.append({"arm": other, "control": control, "metric": m, **est.as_dict()})
    return pl.DataFrame(rows)
