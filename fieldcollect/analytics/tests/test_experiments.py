"""Experiment analysis: intervals cover the true uplift at their nominal rate; sample sizes give power."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from fieldcollect.analytics.experiments import (
    bootstrap_uplift,
    compare_arms,
    paired_uplift,
    sample_size,
    sample_size_proportions,
    welch_uplift,
)


def test_welch_matches_hand_computation():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, 4.0, 6.0])
    est = welch_uplift(control=a, treatment=b)
    se = math.sqrt(np.var(a, ddof=1) / 4 + np.var(b, ddof=1) / 3)
    assert est.uplift == pytest.approx(1.5)
    assert est.std_error == pytest.approx(se)
    assert est.ci_low == pytest.approx(1.5 - 1.959964 * se, rel=1e-5)
    assert est.ci_high == pytest.approx(1.5 + 1.959964 * se, rel=1e-5)
    assert est.relative_uplift == pytest.approx(1.5 / 2.5)


def test_welch_interval_covers_true_payment_uplift_at_nominal_rate():
    """Simulated A/B: payment rate 20% vs 25% (true uplift 0.05), 400 experiments."""
    rng = np.random.default_rng(2024)
    covered = 0
    significant = 0
    trials = 400
    for _ in range(trials):
        a = (rng.random(1500) < 0.20).astype(float)
        b = (rng.random(1500) < 0.25).astype(float)
        est = welch_uplift(control=a, treatment=b)
        covered += est.ci_low <= 0.05 <= est.ci_high
        significant += est.significant
    assert 0.92 <= covered / trials <= 0.98
    assert significant / trials > 0.8  # ~0.87 power at this size


def test_welch_interval_covers_skewed_recovery_uplift():
    """Net recovery: most pay nothing, payers pay a log-normal amount; treatment adds a known mean."""
    rng = np.random.default_rng(7)
    p_a, p_b, mu, sigma = 0.2, 0.26, math.log(3000), 0.8
    mean_amount = math.exp(mu + sigma**2 / 2)
    true = (p_b - p_a) * mean_amount - 30  # treatment costs 30 per case
    covered = 0
    trials = 300
    for _ in range(trials):
        a = (rng.random(3000) < p_a) * rng.lognormal(mu, sigma, 3000)
        b = (rng.random(3000) < p_b) * rng.lognormal(mu, sigma, 3000) - 30
        est = welch_uplift(control=a, treatment=b)
        covered += est.ci_low <= true <= est.ci_high
    assert 0.91 <= covered / trials <= 0.985


def test_bootstrap_interval_covers_true_uplift():
    rng = np.random.default_rng(11)
    covered = 0
    trials = 80
    for k in range(trials):
        a = rng.exponential(100.0, 400)
        b = rng.exponential(120.0, 300)
        est = bootstrap_uplift(control=a, treatment=b, n_resamples=400, seed=k)
        covered += est.ci_low <= 20.0 <= est.ci_high
    assert 0.85 <= covered / trials <= 1.0


def test_bootstrap_is_seeded_and_close_to_welch_on_large_samples():
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, 5000), rng.normal(10.3, 2, 5000)
    one = bootstrap_uplift(control=a, treatment=b, n_resamples=500, seed=1)
    two = bootstrap_uplift(control=a, treatment=b, n_resamples=500, seed=1)
    assert (one.ci_low, one.ci_high) == (two.ci_low, two.ci_high)
    w = welch_uplift(control=a, treatment=b)
    assert one.ci_low == pytest.approx(w.ci_low, abs=0.03)
    assert one.ci_high == pytest.approx(w.ci_high, abs=0.03)
    assert one.significant and w.significant


def test_paired_uplift_uses_t_interval_for_few_pairs():
    rng = np.random.default_rng(5)
    base = rng.normal(1000, 100, 10)
    treated = base + 5 + rng.normal(0, 1, 10)
    est = paired_uplift(control=base, treatment=treated)
    d = treated - base
    half = 2.262157 * d.std(ddof=1) / math.sqrt(10)  # t(0.975, 9)
    assert est.ci_high - est.uplift == pytest.approx(half, rel=1e-5)
    assert est.significant  # pairing removes the large between-cohort variance
    assert not welch_uplift(control=base, treatment=treated).significant
    boot = paired_uplift(control=base, treatment=treated, method="bootstrap", n_resamples=500)
    assert boot.ci_low > 0


def test_sample_size_textbook_values_and_power():
    assert sample_size(sd=1.0, mde=0.5) == 63
    assert sample_size_proportions(p_control=0.20, p_treatment=0.25) == 1091
    n = sample_size_proportions(p_control=0.20, p_treatment=0.25)
    rng = np.random.default_rng(9)
    rejections = sum(
        welch_uplift(control=(rng.random(n) < 0.20).astype(float),
                     treatment=(rng.random(n) < 0.25).astype(float)).significant
        for _ in range(300)
    )
    assert 0.72 <= rejections / 300 <= 0.88  # 80% power by design
    assert sample_size(sd=1.0, mde=0.5, ratio=3.0) < 63


def test_compare_arms_frame():
    rng = np.random.default_rng(1)
    frame = pl.DataFrame({
        "arm": ["champion"] * 500 + ["challenger"] * 500,
        "net": np.concatenate([rng.normal(100, 10, 500), rng.normal(110, 10, 500)]),
        "paid": np.concatenate([rng.random(500) < 0.3, rng.random(500) < 0.3]).astype(float),
    })
    out = compare_arms(frame, arm="arm", metrics=["net", "paid"], control="champion", n_resamples=300)
    assert out.height == 4
    net = out.filter((pl.col("metric") == "net") & (pl.col("method") == "welch")).row(0, named=True)
    assert net["arm"] == "challenger" and net["ci_low"] <= 10 <= net["ci_high"] and net["ci_low"] > 0


def test_invalid_inputs():
    with pytest.raises(ValueError):
        welch_uplift(control=[1.0], treatment=[1.0, 2.0])
    with pytest.raises(ValueError):
        welch_uplift(control=[1.0, 2.0], treatment=[1.0, 2.0], level=1.5)
    with pytest.raises(ValueError):
        paired_uplift(control=[1.0, 2.0], treatment=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        sample_size_proportions(p_control=0.2, p_treatment=0.2)
