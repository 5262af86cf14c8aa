"""Agency selection: rank candidate agencies on weighted criteria (weighted score or TOPSIS).

Criteria are *benefit* (more is better: years in business, licensed and trained staff share,
recovery rates by bucket, inspection score) or *cost* (less is better: complaints per 10,000
contacts, fee rate). Weights are editable (:func:`with_weights`) and normalised to sum to 1.

- :func:`weighted_score`: each criterion is min–max scaled to ``[0, 1]`` across the candidates in its
  good direction (1 = best candidate); the score is ``100 × Σ w_j s_ij`` points and each criterion's
  ``contribution`` is its ``100 × w_j s_ij`` points, so contributions add up to the score.
- :func:`topsis`: vector normalisation, weighting, distances to the ideal and anti-ideal candidates;
  the score is the closeness ``D⁻ / (D⁺ + D⁻)`` in ``[0, 1]``. Closeness is not additive, so each
  criterion's part is shown as its share of the squared distance to the anti-ideal
  (``contribution``, what lifts the candidate above the worst) and to the ideal
  (``gap_to_ideal_share``, what holds it back). Both shares sum to 1 per candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl

Kind = Literal["benefit", "cost"]

__all__ = ["DEFAULT_CRITERIA", "Criterion", "Ranking", "topsis", "weighted_score", "with_weights"]


@dataclass(frozen=True)
class Criterion:
    """One column of the candidate file, its weight and direction."""

    name: str
    weight: float
    kind: Kind
    label: str = ""
    # what the criterion measures and where its value comes from (an English msgid: the pages translate it)
    explanation: str = ""


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("years_in_business", 0.08, "benefit", "Years in business"),
    Criterion("licensed_staff_share", 0.10, "benefit", "Licensed staff share"),
    Criterion("trained_staff_share", 0.10, "benefit", "Trained staff share"),
    Criterion("recovery_rate_m1_m2", 0.12, "benefit", "Recovery rate M1–M2"),
    Criterion("recovery_rate_m3_m4", 0.12, "benefit", "Recovery rate M3–M4"),
    Criterion("recovery_rate_m5_plus", 0.08, "benefit", "Recovery rate M5+"),
    Criterion("complaints_per_10k_contacts", 0.15, "cost", "Complaints per 10,000 contacts"),
    Criterion("inspection_score", 0.13, "benefit", "Inspection score"),
    Criterion("fee_rate", 0.12, "cost", "Fee (commission rate)"),
    Criterion("conduct_findings_per_1k_contacts", 0.10, "cost", "Confirmed conduct findings per 1,000 contacts",
              "Findings confirmed at quality inspection and still in force (an upheld appeal withdraws one) per "
              "1,000 of the agency's recorded contacts over the last 90 days; computed from the records, not "
              "typed into the selection file. Less is better."),
)


@dataclass(frozen=True)
class Ranking:
    """Ranked candidates and each criterion's part in their score.

    ``scores``: ``id_col, score, rank`` (rank 1 = best; ties share the best rank), sorted by rank.
    ``contributions``: one row per candidate × criterion with ``criterion, kind, weight, value,
    normalised, contribution`` (and ``gap_to_ideal_share`` for TOPSIS).
    """

    method: str
    id_col: str
    criteria: tuple[Criterion, ...]
    scores: pl.DataFrame
    contributions: pl.DataFrame

    def explain(self, candidate: object) -> pl.DataFrame:
        """The contribution rows of one candidate, largest contribution first."""
        rows = self.contributions.filter(pl.col(self.id_col) == candidate)
        if rows.is_empty():
            raise KeyError(candidate)
        return rows.sort("contribution", descending=True)


def with_weights(criteria: Sequence[Criterion], weights: Mapping[str, float]) -> tuple[Criterion, ...]:
    """Copy of ``criteria`` with some weights changed (unknown names raise ``KeyError``)."""
    names = {c.name for c in criteria}
    unknown = set(weights) - names
    if unknown:
        raise KeyError(f"unknown criteria: {sorted(unknown)}")
    return tuple(replace(c, weight=float(weights[c.name])) if c.name in weights else c for c in criteria)


def _matrix(candidates: pl.DataFrame, criteria: Sequence[Criterion], id_col: str) -> tuple[np.ndarray, np.ndarray]:
    if not criteria:
        raise ValueError("at least one criterion is needed")
    if id_col not in candidates.columns:
        raise ValueError(f"missing id column {id_col!r}")
    if candidates.is_empty():
        raise ValueError("no candidates")
    if candidates[id_col].n_unique() != candidates.height:
        raise ValueError(f"duplicate values in {id_col!r}")
    for c in criteria:
        if c.kind not in ("benefit", "cost"):
            raise ValueError(f"criterion {c.name!r}: kind must be 'benefit' or 'cost'")
        if not np.isfinite(c.weight) or c.weight < 0:
            raise ValueError(f"criterion {c.name!r}: weight must be >= 0")
        if c.name not in candidates.columns:
            raise ValueError(f"missing criterion column {c.name!r}")
        col = candidates[c.name]
        if col.null_count():
            raise ValueError(f"criterion {c.name!r} has missing values")
        if not col.dtype.is_numeric():
            raise ValueError(f"criterion {c.name!r} must be numeric")
    weights = np.array([c.weight for c in criteria], float)
    if weights.sum() <= 0:
        raise ValueError("weights must not all be zero")
    x = np.column_stack([candidates[c.name].cast(pl.Float64).to_numpy() for c in criteria])
    if not np.isfinite(x).all():
        raise ValueError("criteria must be finite numbers")
    return x, weights / weights.sum()


def _ranked(candidates: pl.DataFrame, id_col: str, score: np.ndarray) -> pl.DataFrame:
    return (
        pl.DataFrame({id_col: candidates[id_col], "score": score})
        .with_columns(pl.col("score").rank(method="min", descending=True).cast(pl.Int64).alias("rank"))
        .sort(["rank", id_col])
    )


def _long(candidates: pl.DataFrame, criteria: Sequence[Criterion], id_col: str, weights: np.ndarray,
          columns: Mapping[str, np.ndarray]) -> pl.DataFrame:
    n, k = len(candidates), len(criteria)
    data: dict[str, object] = {
        id_col: np.repeat(candidates[id_col].to_numpy(), k),
        "criterion": [c.name for c in criteria] * n,
        "kind": [c.kind for c in criteria] * n,
        "weight": np.tile(weights, n),
    }
    data.update({name: arr.reshape(-1) for name, arr in columns.items()})
    return pl.DataFrame(data)


def weighted_score(
    *, candidates: pl.DataFrame, criteria: Sequence[Criterion] = DEFAULT_CRITERIA, id_col: str = "agency_id"
) -> Ranking:
    """Weighted score in points (0–100) from min–max scaled criteria; contributions add up to the score.

    A criterion on which all candidates are equal scales to 1 for everyone (it does not discriminate).
    """
    x, w = _matrix(candidates, criteria, id_col)
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    scaled = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 1.0)
    cost = np.array([c.kind == "cost" for c in criteria])
    scaled[:, cost] = np.where(span[cost] > 0, 1.0 - scaled[:, cost], 1.0)
    contrib = 100.0 * scaled * w
    return Ranking(
        method="weighted_score",
        id_col=id_col,
        criteria=tuple(criteria),
        scores=_ranked(candidates, id_col, contrib.sum(axis=1)),
        contributions=_long(candidates, criteria, id_col, w,
                            {"value": x, "normalised": scaled, "contribution": contrib}),
    )


def topsis(
    *, candidates: pl.DataFrame, criteria: Sequence[Criterion] = DEFAULT_CRITERIA, id_col: str = "agency_id"
) -> Ranking:
    """TOPSIS closeness to the ideal candidate (1 = is the ideal, 0 = is the anti-ideal)."""
    x, w = _matrix(candidates, criteria, id_col)
    norm = np.sqrt((x**2).sum(axis=0))
    r = np.where(norm > 0, x / np.where(norm > 0, norm, 1.0), 0.0)
    v = r * w
    cost = np.array([c.kind == "cost" for c in criteria])
    ideal = np.where(cost, v.min(axis=0), v.max(axis=0))
    worst = np.where(cost, v.max(axis=0), v.min(axis=0))
    sq_ideal = (v - ideal) ** 2
    sq_worst = (v - worst) ** 2
    d_plus = np.sqrt(sq_ideal.sum(axis=1))
    d_minus = np.sqrt(sq_worst.sum(axis=1))
    total = d_plus + d_minus
    closeness = np.where(total > 0, d_minus / np.where(total > 0, total, 1.0), 1.0)

    def share(sq: np.ndarray) -> np.ndarray:
        s = sq.sum(axis=1, keepdims=True)
        return np.where(s > 0, sq / np.where(s > 0, s, 1.0), 0.0)

    return Ranking(
        method="topsis",
        id_col=id_col,
        criteria=tuple(criteria),
        scores=_ranked(candidates, id_col, closeness),
        contributions=_long(candidates, criteria, id_col, w, {
            "value": x, "normalised": r, "contribution": share(sq_worst), "gap_to_ideal_share": share(sq_ideal),
        }),
    )
