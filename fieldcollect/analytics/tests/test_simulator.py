"""Portfolio simulator: reproducible by seed, behaviour as documented in docs/simulator.md."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fieldcollect.analytics.experiments import welch_uplift
from fieldcollect.analytics.simulator import (
    TREATMENTS,
    CaseView,
    PortfolioSimulator,
    SimulatorConfig,
    capacities,
    complaint_probability,
    make_population,
    payment_probability,
    simulate_history,
)

SMS, CALL, VISIT, RESTRUCTURE, LEGAL = (TREATMENTS.index(t) for t in ("sms", "call", "visit", "restructure", "legal"))


def greedy_policy(view: CaseView) -> np.ndarray:
    """Call everyone allowed up to capacity (largest first), SMS the rest."""
    choice = np.zeros(view.n, dtype=np.int64)
    sms_ok = view.eligible[:, SMS]
    choice[sms_ok] = SMS
    call_ok = np.flatnonzero(view.eligible[:, CALL])
    order = call_ok[np.argsort(-view.features["amount_fen"].to_numpy()[call_ok], kind="stable")]
    choice[order[: view.capacities["call", None]]] = CALL
    return choice


def test_population_is_reproducible_by_seed():
    a = make_population(n=2000, seed=42)
    b = make_population(n=2000, seed=42)
    c = make_population(n=2000, seed=43)
    for name in ("amount_fen", "bucket", "z_ability", "z_willingness", "bureau_score", "city"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.amount_fen, c.amount_fen)
    assert a.amount_fen.dtype == np.int64 and a.amount_fen.min() >= 10_000
    assert set(np.unique(a.bucket)) <= set(range(1, 8))


def test_run_is_reproducible_by_seed_and_differs_across_seeds():
    pop = make_population(n=3000, seed=1)
    one = PortfolioSimulator(population=pop, seed=5).run(policy=greedy_policy)
    two = PortfolioSimulator(population=pop, seed=5).run(policy=greedy_policy)
    other = PortfolioSimulator(population=pop, seed=6).run(policy=greedy_policy)
    assert_frame_equal(one.customers, two.customers)
    assert one.periods == two.periods
    assert not one.customers.equals(other.customers)


def test_accounting_is_consistent():
    pop = make_population(n=3000, seed=2)
    result = PortfolioSimulator(population=pop, seed=2).run(policy=greedy_policy)
    c = result.customers
    assert (c["net_fen"] == c["recovered_fen"] - c["cost_fen"]).all()
    totals = result.totals()
    assert totals["net_fen"] == sum(p.net_fen for p in result.periods)
    assert totals["complaints"] == sum(p.complaints for p in result.periods)
    # a payer's recovery is its amount (no restructure in this policy), others recover nothing
    paid = c["paid"].to_numpy()
    assert np.array_equal(c["recovered_fen"].to_numpy()[paid], pop.amount_fen[paid])
    assert (c["recovered_fen"].to_numpy()[~paid] == 0).all()
    # closed cases are not treated again: open cases shrink period by period
    opens = [p.open_cases for p in result.periods]
    assert opens[0] == 3000 and opens == sorted(opens, reverse=True)
    assert opens[1] == 3000 - result.periods[0].payers


def test_treatment_effects_follow_latent_traits():
    cfg = SimulatorConfig()
    z = np.array([-1.5, 1.5])
    bucket = np.array([2, 2])
    none = np.zeros(2)
    # able (z_a = 1.5) but unwilling (z_w = -1.5) vs able and willing: visits help the first far more
    p = payment_probability(config=cfg, z_ability=np.array([1.5, 1.5]), z_willingness=z, bucket=bucket, intensity=none)
    lift_visit = p[:, VISIT] - p[:, 0]
    assert lift_visit[0] > 0 and np.log(p[0, VISIT] / (1 - p[0, VISIT])) - np.log(p[0, 0] / (1 - p[0, 0])) > 1.5
    logit = np.log(p / (1 - p))
    assert (logit[0, VISIT] - logit[0, 0]) > 2 * (logit[1, VISIT] - logit[1, 0])
    # restructure helps low ability
    p = payment_probability(config=cfg, z_ability=z, z_willingness=np.array([0.0, 0.0]), bucket=bucket, intensity=none)
    logit = np.log(p / (1 - p))
    assert (logit[0, RESTRUCTURE] - logit[0, 0]) > 3 * (logit[1, RESTRUCTURE] - logit[1, 0])
    # every contact treatment helps somebody; effects fade with contact intensity (fatigue)
    tired = payment_probability(config=cfg, z_ability=z, z_willingness=z, bucket=bucket, intensity=np.array([3.0, 3.0]))
    fresh = payment_probability(config=cfg, z_ability=z, z_willingness=z, bucket=bucket, intensity=none)
    assert ((tired[:, CALL] - tired[:, 0]) < (fresh[:, CALL] - fresh[:, 0])).all()


def test_complaints_rise_with_contact_intensity_and_by_channel():
    cfg = SimulatorConfig()
    c = complaint_probability(config=cfg, z_willingness=np.zeros(3), intensity=np.array([0.0, 1.0, 3.0]))
    assert (c[:, 0] == 0).all()
    assert (np.diff(c[:, CALL]) > 0).all() and (np.diff(c[:, VISIT]) > 0).all()
    assert (c[:, SMS] < c[:, CALL]).all() and (c[:, CALL] < c[:, VISIT]).all() and (c[:, VISIT] < c[:, LEGAL]).all()


def test_over_contact_raises_realised_complaint_rate():
    """Visit everyone every period (no capacity check) vs SMS only: complaints per customer go up."""
    pop = make_population(n=20_000, seed=3)
    sim = PortfolioSimulator(population=pop, seed=3)

    def heavy(view: CaseView) -> np.ndarray:
        return np.where(view.eligible[:, VISIT], VISIT, np.where(view.eligible[:, SMS], SMS, 0))

    def light(view: CaseView) -> np.ndarray:
        return np.where(view.eligible[:, SMS], SMS, 0)

    a = sim.run(policy=light).customers["complaints"].to_numpy()
    b = sim.run(policy=heavy, check=False).customers["complaints"].to_numpy()
    assert welch_uplift(control=a, treatment=b).ci_low > 0


def test_known_treatment_effect_is_recovered_by_an_ab_test():
    """Randomise SMS vs nothing on a cohort: the Welch CI covers the true mean payment uplift."""
    pop = make_population(n=40_000, seed=9)
    sim = PortfolioSimulator(population=pop, seed=9)
    arm = np.random.default_rng(0).random(pop.n) < 0.5
    seen: dict[str, CaseView] = {}

    def policy(view: CaseView) -> np.ndarray:
        seen["view"] = view
        return np.where(arm[view.index] & view.eligible[:, SMS], SMS, 0)

    result = sim.run(policy=policy, periods=1)
    view = seen["view"]
    p = view.oracle_propensity
    treat = arm[view.index] & view.eligible[:, SMS]
    true_uplift = float(((p[:, SMS] - p[:, 0]) * view.eligible[:, SMS]).mean())
    paid = result.customers["paid"].to_numpy().astype(float)
    est = welch_uplift(control=paid[~arm], treatment=paid[arm])
    assert est.ci_low <= true_uplift <= est.ci_high
    assert treat.sum() > 15_000


def test_policy_breaking_rules_is_refused():
    pop = make_population(n=1000, seed=4)
    sim = PortfolioSimulator(population=pop, seed=4)
    with pytest.raises(ValueError, match="blocked"):
        sim.run(policy=lambda v: np.full(v.n, LEGAL))  # legal needs M3+ and 2,000 CNY
    with pytest.raises(ValueError, match="capacity"):
        sim.run(policy=lambda v: np.where(v.eligible[:, CALL], CALL, 0))
    with pytest.raises(ValueError, match="shape"):
        sim.run(policy=lambda v: np.zeros(3, dtype=np.int64))


def test_capacities_and_eligibility_rules():
    pop = make_population(n=5000, seed=5)
    caps = capacities(population=pop)
    assert caps["call", None] == 1000
    visit_cities = {c for (t, c) in caps if t == "visit"}
    assert visit_cities == set(pop.field_team_cities) and len(visit_cities) == 8
    view: dict[str, CaseView] = {}
    PortfolioSimulator(population=pop, seed=5).run(
        policy=lambda v: (view.setdefault("v", v), np.zeros(v.n, dtype=np.int64))[1], periods=1)
    v = view["v"]
    f = v.features
    assert not v.eligible[f["do_not_call"].to_numpy(), CALL].any()
    assert not v.eligible[(f["bucket"] < 3).to_numpy(), LEGAL].any()
    assert v.eligible[:, 0].all()
    assert "z_ability" not in f.columns and "z_willingness" not in f.columns


def test_history_is_reproducible_and_randomised():
    a = simulate_history(n=6000, seed=1)
    b = simulate_history(n=6000, seed=1)
    assert_frame_equal(a, b)
    counts = a["treatment"].value_counts().sort("treatment")
    assert counts.height == len(TREATMENTS)
    assert {"paid", "complained", "bureau_score", "on_time_ratio"} <= set(a.columns)
    rates = a.group_by("treatment").agg(pl.col("paid").mean()).sort("treatment")["paid"].to_list()
    assert rates[CALL] > rates[0]
