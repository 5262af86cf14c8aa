"""Empirical-Bayes recovery rates per agency × segment."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fieldcollect.analytics.recovery_estimates import (
    estimate_from_counts,
    estimate_recovery_rates,
    fit_beta_prior,
)


def test_prior_recovers_known_beta() -> None:
    rng = np.random.default_rng(3)
    true_rates = rng.beta(6.0, 14.0, size=400)  # mean 0.3, strength 20
    trials = rng.integers(20, 200, size=400)
    successes = rng.binomial(trials, true_rates)
    prior = fit_beta_prior(successes=successes, trials=trials)
    assert prior.mean == pytest.approx(0.3, abs=0.02)
    assert 12 < prior.strength < 32


def test_small_agencies_are_pulled_to_the_segment_mean() -> None:
    rng = np.random.default_rng(5)
    rows = []
    for a in range(30):  # established agencies, rates around 20 %
        n = 500
        rows.append({"agency_id": f"big{a}", "segment": "M2", "cases": n,
                     "recovered": int(rng.binomial(n, rng.beta(20, 80)))})
    rows.append({"agency_id": "lucky", "segment": "M2", "cases": 3, "recovered": 3})
    rows.append({"agency_id": "huge", "segment": "M2", "cases": 20_000, "recovered": 8_000})
    est = estimate_from_counts(counts=pl.DataFrame(rows))
    t = est.table
    lucky = t.filter(pl.col("agency_id") == "lucky").row(0, named=True)
    huge = t.filter(pl.col("agency_id") == "huge").row(0, named=True)
    mean = est.priors["M2"].mean
    assert lucky["raw_rate"] == 1.0
    assert lucky["expected_rate"] < 0.35  # pulled strongly toward ~0.2
    assert abs(lucky["expected_rate"] - mean) < abs(1.0 - mean) / 3
    assert lucky["shrinkage"] > 0.9
    assert huge["expected_rate"] == pytest.approx(0.4, abs=0.01)  # many cases: keeps its own rate
    assert huge["shrinkage"] < 0.05
    assert lucky["lower"] < lucky["expected_rate"] < lucky["upper"]


def test_from_placements_per_segment_and_fallback() -> None:
    placements = pl.DataFrame({
        "agency_id": ["A"] * 10 + ["B"] * 10 + ["A"] * 4,
        "segment": ["M1"] * 20 + ["M3"] * 4,
        "recovered": [True] * 8 + [False] * 2 + [True] * 2 + [False] * 8 + [True, False, False, False],
    })
    est = estimate_recovery_rates(placements=placements)
    assert set(est.priors) == {"M1", "M3"}
    a = est.rate(agency_id="A", segment="M1")
    b = est.rate(agency_id="B", segment="M1")
    assert 0.2 < b < a < 0.8  # shrunk toward the middle, order kept
    # M3 has one agency: prior = pooled rate with the default strength
    assert est.priors["M3"].mean == pytest.approx(0.25)
    assert est.priors["M3"].strength == pytest.approx(20.0)
    # B never worked M3: gets the segment mean
    assert est.rate(agency_id="B", segment="M3") == pytest.approx(0.25)
    with pytest.raises(KeyError):
        est.rate(agency_id="A", segment="M9")


def test_identical_agencies_fully_pooled() -> None:
    counts = pl.DataFrame({"agency_id": list("ABCDEFGH"), "segment": ["s"] * 8, "cases": [100] * 8,
                           "recovered": [30] * 8})
    est = estimate_from_counts(counts=counts)
    np.testing.assert_allclose(est.table["expected_rate"].to_numpy(), 0.3, atol=1e-3)


def test_bad_counts() -> None:
    with pytest.raises(ValueError, match="recovered <= cases"):
        estimate_from_counts(counts=pl.DataFrame({"agency_id": ["A"], "segment": ["s"], "cases": [1],
                                                  "recovered": [2]}))
    with pytest.raises(ValueError, match="missing column"):
        estimate_recovery_rates(placements=pl.DataFrame({"agency_id": ["A"]}))
