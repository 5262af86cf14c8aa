"""Expected recovery rate per agency × segment, learned from placement history with empirical Bayes.

An agency with 3 placements and 3 recoveries has a raw rate of 100 %; nobody believes that. For each
segment (e.g. bucket × amount band) we fit a beta prior ``Beta(α, β)`` to all agencies' counts by
maximising the beta-binomial marginal likelihood, then report each agency's posterior mean
``(k + α) / (n + α + β)``: agencies with few cases are pulled toward the segment mean, agencies with
many keep close to their own rate. ``shrinkage = κ / (n + κ)`` (``κ = α + β``) is the weight of the
segment mean. When a segment has fewer than two agencies (no between-agency spread to learn) the
prior is the segment's pooled rate with strength ``default_strength`` pseudo-cases.

The allocation optimiser turns these rates into pair values: ``rate × amount − commission − cost``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = ["BetaPrior", "RecoveryEstimates", "estimate_from_counts", "estimate_recovery_rates", "fit_beta_prior"]

_MIN_KAPPA, _MAX_KAPPA = 1e-2, 1e6
_EPS = 1e-6


@dataclass(frozen=True)
class BetaPrior:
    """Beta prior of a segment: mean ``α / (α + β)``, strength ``κ = α + β`` pseudo-cases."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        return self.alpha + self.beta


def fit_beta_prior(*, successes: Sequence[int] | np.ndarray, trials: Sequence[int] | np.ndarray,
                   default_strength: float = 20.0) -> BetaPrior:
    """Maximum-likelihood beta prior from per-group (successes, trials) under a beta-binomial model.

    Parameters
    ----------
    successes, trials
        Recovered and placed counts per agency of one segment (``0 <= successes <= trials``).
    default_strength
        Prior strength used when there are fewer than two groups with trials.
    """
    from scipy.optimize import minimize
    from scipy.special import betaln

    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    if k.shape != n.shape:
        raise ValueError("successes and trials must have the same length")
    if np.any(n < 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= successes <= trials")
    keep = n > 0
    k, n = k[keep], n[keep]
    if not len(n):
        raise ValueError("no trials")
    pooled = float(np.clip(k.sum() / n.sum(), _EPS, 1 - _EPS))
    if len(n) < 2:
        return BetaPrior(alpha=pooled * default_strength, beta=(1 - pooled) * default_strength)

    # method-of-moments start: between-group variance in excess of the binomial noise
    rates = k / n
    var = float(np.var(rates, ddof=1))
    noise = pooled * (1 - pooled) * float(np.mean(1 / n))
    excess = var - noise
    kappa0 = pooled * (1 - pooled) / excess - 1 if excess > 0 else _MAX_KAPPA / 10
    kappa0 = float(np.clip(kappa0, 1.0, _MAX_KAPPA / 10))

    def nll(theta: np.ndarray) -> float:
        mu = 1 / (1 + math.exp(-theta[0]))
        kappa = math.exp(theta[1])
        a, b = mu * kappa, (1 - mu) * kappa
        return -float(np.sum(betaln(k + a, n - k + b) - betaln(a, b)))

    logit = math.log(pooled / (1 - pooled))
    bound = math.log((1 - _EPS) / _EPS)
    res = minimize(nll, np.array([logit, math.log(kappa0)]), method="L-BFGS-B",
                   bounds=[(-bound, bound), (math.log(_MIN_KAPPA), math.log(_MAX_KAPPA))])
    mu = 1 / (1 + math.exp(-float(res.x[0])))
    kappa = math.exp(float(res.x[1]))
    return BetaPrior(alpha=mu * kappa, beta=(1 - mu) * kappa)


@dataclass(frozen=True)
class RecoveryEstimates:
    """Shrunk recovery rates.

    ``table`` has one row per agency × segment seen in history: ``agency_id, segment, cases,
    recovered, raw_rate, expected_rate, lower, upper, segment_mean, shrinkage``.
    ``priors`` maps each segment to its :class:`BetaPrior`.
    """

    table: pl.DataFrame
    priors: dict[object, BetaPrior]
    agency_col: str
    segment_col: str

    def rate(self, *, agency_id: object, segment: object) -> float:
        """Expected rate; an agency never seen in the segment gets the segment mean."""
        row = self.table.filter((pl.col(self.agency_col) == agency_id) & (pl.col(self.segment_col) == segment))
        if row.height:
            return float(row["expected_rate"][0])
        if segment not in self.priors:
            raise KeyError(segment)
        return self.priors[segment].mean


def _require_columns(frame: pl.DataFrame, *columns: str) -> None:
    """``ValueError`` naming the first of ``columns`` that ``frame`` lacks."""
    for col in columns:
        if col not in frame.columns:
            raise ValueError(f"missing column {col!r}")


def estimate_from_counts(
    *,
    counts: pl.DataFrame,
    agency_col: str = "agency_id",
    segment_col: str = "segment",
    cases_col: str = "cases",
    recovered_col: str = "recovered",
    credible: float = 0.9,
    default_strength: float = 20.0,
) -> RecoveryEstimates:
    """Shrunk rates from aggregated counts (one row per agency × segment)."""
    from scipy.stats import beta as beta_dist

    _require_columns(counts, agency_col, segment_col, cases_col, recovered_col)
    if not 0 < credible < 1:
        raise ValueError("credible must be in (0, 1)")
    df = counts.select(
        pl.col(agency_col), pl.col(segment_col),
        pl.col(cases_col).cast(pl.Int64).alias("cases"), pl.col(recovered_col).cast(pl.Int64).alias("recovered"),
    )
    if df.select(pl.any_horizontal(pl.all().is_null()).any()).item():
        raise ValueError("counts contain missing values")
    if df.select(((pl.col("recovered") < 0) | (pl.col("recovered") > pl.col("cases"))).any()).item():
        raise ValueError("need 0 <= recovered <= cases")
    if df.select(pl.struct(agency_col, segment_col).is_duplicated().any()).item():
        raise ValueError("duplicate agency × segment rows")
    df = df.filter(pl.col("cases") > 0)

    priors: dict[object, BetaPrior] = {}
    parts = []
    for (segment,), part in df.group_by([segment_col], maintain_order=True):
        prior = fit_beta_prior(successes=part["recovered"].to_numpy(), trials=part["cases"].to_numpy(),
                               default_strength=default_strength)
        priors[segment] = prior
        k = part["recovered"].to_numpy().astype(float)
        n = part["cases"].to_numpy().astype(float)
        a, b = k + prior.alpha, n - k + prior.beta
        tail = (1 - credible) / 2
        parts.append(part.with_columns(
            pl.Series("raw_rate", k / n),
            pl.Series("expected_rate", a / (a + b)),
            pl.Series("lower", beta_dist.ppf(tail, a, b)),
            pl.Series("upper", beta_dist.ppf(1 - tail, a, b)),
            pl.lit(prior.mean).alias("segment_mean"),
            pl.Series("shrinkage", prior.strength / (n + prior.strength)),
        ))
    table = pl.concat(parts) if parts else df.with_columns(
        *(pl.lit(None, pl.Float64).alias(c)
          for c in ("raw_rate", "expected_rate", "lower", "upper", "segment_mean", "shrinkage")))
    return RecoveryEstimates(table=table.sort([segment_col, agency_col]), priors=priors,
                             agency_col=agency_col, segment_col=segment_col)


def estimate_recovery_rates(
    *,
    placements: pl.DataFrame,
    agency_col: str = "agency_id",
    segment_col: str = "segment",
    outcome_col: str = "recovered",
    credible: float = 0.9,
    default_strength: float = 20.0,
) -> RecoveryEstimates:
    """Shrunk rates from placement history (one row per placement, ``outcome_col`` true if recovered)."""
    _require_columns(placements, agency_col, segment_col, outcome_col)
    if placements[outcome_col].null_count():
        raise ValueError(f"{outcome_col!r} has missing values")
    outcome = pl.col(outcome_col).cast(pl.Int64)
    if placements.select(((outcome < 0) | (outcome > 1)).any()).item():
        raise ValueError(f"{outcome_col!r} must be 0/1 or boolean")
    counts = placements.group_by([agency_col, segment_col]).agg(
        pl.len().alias("cases"), outcome.sum().alias("recovered"))
    return estimate_from_counts(counts=counts, agency_col=agency_col, segment_col=segment_col,
                                credible=credible, default_strength=default_strength)
