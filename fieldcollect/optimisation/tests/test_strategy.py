"""Strategy engine: constraints always honoured, optimal on small instances, duals and explanations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldcollect.optimisation.strategy import (
    TREATMENTS,
    RandomStrategy,
    Rule,
    RuleStrategy,
    StrategyBuilder,
    StrategyError,
    StrategyProblem,
    champion_challenger,
    optimised_strategy,
    solve,
    split_arms,
)

COSTS = {"none": 0, "sms": 10, "call": 300, "visit": 8000, "restructure": 2000, "legal": 30000}
SMALL = ("none", "sms", "call", "visit")


def random_problem(seed: int, n: int, treatments: tuple[str, ...] = SMALL, *, block: float = 0.2,
                   caps: dict[tuple[str, str | None], int] | None = None) -> StrategyProblem:
    rng = np.random.default_rng(seed)
    t = len(treatments)
    b = StrategyBuilder(costs={k: v for k, v in COSTS.items() if k in treatments}, treatments=treatments)
    eligible = rng.random((n, t)) > block
    eligible[:, 0] = True
    b.add_cases(
        case_ids=np.arange(100, 100 + n),
        amounts_fen=rng.integers(10_000, 2_000_000, n),
        cities=rng.choice(["北京", "成都"], n),
        propensity=np.clip(rng.beta(2, 6, (n, 1)) + rng.uniform(0, 0.3, (n, t)), 0, 1),
        eligible=eligible,
        complaint_prob=rng.uniform(0, 0.05, (n, t)) * (np.arange(t) > 0),
        attributes={"bucket": rng.integers(1, 5, n)},
    )
    for (treatment, city), limit in (caps or {}).items():
        b.set_capacity(treatment=treatment, city=city, limit=limit)
    return b.build()


def brute_force(problem: StrategyProblem) -> int:
    """Best total objective by enumerating every assignment (vectorised)."""
    obj = problem.objective_fen()
    n, t = obj.shape
    combos = np.array(list(itertools.product(range(t), repeat=n)), dtype=np.int64)  # (t**n, n)
    rows = np.arange(n)
    ok = problem.eligible[rows, combos].all(axis=1)
    pools = problem.pool_of[rows, combos]
    for k, limit in enumerate(problem.pool_limits):
        ok &= (pools == k).sum(axis=1) <= limit
    totals = obj[rows, combos].sum(axis=1)
    return int(totals[ok].max())


caps_strategy = st.fixed_dictionaries({
    ("call", None): st.integers(0, 3),
    ("visit", "北京"): st.integers(0, 2),
    ("visit", "成都"): st.integers(0, 2),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 6), caps=caps_strategy, block=st.sampled_from([0.0, 0.3, 0.6]))
def test_flow_is_feasible_and_optimal_against_brute_force(seed, n, caps, block):
    problem = random_problem(seed, n, caps=caps, block=block)
    result = solve(problem)
    assert problem.check(result.choice) == []
    rows = np.arange(n)
    assert problem.eligible[rows, result.choice].all()
    assert int(result.objective_fen[rows, result.choice].sum()) == brute_force(problem)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), caps=caps_strategy)
def test_lp_matches_flow(seed, n, caps):
    problem = random_problem(seed, n, caps=caps)
    flow, lp = solve(problem, method="flow"), solve(problem, method="lp")
    rows = np.arange(n)
    assert int(flow.objective_fen[rows, flow.choice].sum()) == int(lp.objective_fen[rows, lp.choice].sum())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30), caps=caps_strategy, block=st.sampled_from([0.0, 0.5, 0.9]))
def test_every_strategy_honours_capacities_and_compliance(seed, n, caps, block):
    problem = random_problem(seed, n, treatments=TREATMENTS, caps={**caps, ("legal", None): 1}, block=block)
    rules = RuleStrategy(rules=(
        Rule(lambda p: p.attributes["bucket"] >= 2, ("visit", "call", "sms")),
        Rule(lambda p: p.attributes["bucket"] == 1, ("sms",)),
    ))
    for strategy in (optimised_strategy, rules, RandomStrategy(seed=seed)):
        assert problem.check(strategy(problem)) == []
    shares = {"champion": 0.5, "challenger": 0.5}
    exp = champion_challenger(problem, strategies={"champion": rules, "challenger": optimised_strategy},
                              shares=shares, seed=seed)
    assert problem.check(exp.choice) == []


def lp_value(problem: StrategyProblem) -> int:
    result = solve(problem, method="lp")
    return int(result.objective_fen[np.arange(problem.n_cases), result.choice].sum())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 12), caps=caps_strategy)
def test_shadow_price_is_value_of_one_more_unit(seed, n, caps):
    """The reported price is the smallest dual: exactly what one more slot would add (GLOP check)."""
    problem = random_problem(seed, n, caps=caps, block=0.1)
    result = solve(problem)
    base = lp_value(problem)
    for k, (treatment, city) in enumerate(problem.pool_labels):
        if city == "*other*":
            continue
        more = dict(caps)
        more[treatment, city] += 1
        bigger = random_problem(seed, n, caps=more, block=0.1)
        assert result.shadow_prices_fen[k] == lp_value(bigger) - base


def test_capacity_binds_and_explanation_names_the_price():
    b = StrategyBuilder(costs=COSTS)
    p = np.tile([0.1, 0.12, 0.15, 0.6, 0.1, 0.1], (3, 1))
    b.add_cases(case_ids=[1, 2, 3], amounts_fen=np.array([1_000_000, 900_000, 500_000]),
                cities=["成都"] * 3, propensity=p)
    b.set_capacity(treatment="visit", city="成都", limit=1)
    result = solve(b.build())
    assert result.treatments().tolist()[0] == "visit"
    assert (result.treatments() == "visit").sum() == 1
    exp = result.explain(2)
    assert exp.treatment == "call"
    assert exp.alternative == "visit" and exp.reason == "capacity"
    # visit on case 3 is worth 0.6*5000-80 = 2920 CNY vs call 0.15*5000-3 = 747 CNY: gain 2173;
    # the slot is worth 0.45*9000 - 77 = 3973 CNY on case 2 (its call value is its next best)
    assert exp.shadow_price_fen == (540_000 - 8000) - (135_000 - 300)
    assert "channel is full" in exp.text_en and "产能已满" in exp.text_zh
    usage = result.usage().row(0, named=True)
    assert usage["used"] == usage["limit"] == 1


def test_compliance_block_is_explained_and_honoured():
    b = StrategyBuilder(costs=COSTS)
    p = np.tile([0.1, 0.12, 0.5, 0.2, 0.1, 0.1], (2, 1))
    eligible = np.ones((2, 6), dtype=bool)
    eligible[0, 2] = False  # calls blocked for case 1
    b.add_cases(case_ids=[1, 2], amounts_fen=np.array([500_000, 500_000]), cities=["北京", "北京"],
                propensity=p, eligible=eligible)
    result = solve(b.build())
    assert result.treatments().tolist() == ["visit", "call"]  # no visit capacity set: unlimited
    exp = result.explain(0)
    assert exp.alternative == "call" and exp.reason == "compliance"
    assert "blocked" in exp.text_en
    frame = result.explanations()
    assert frame["reason"].to_list() == ["compliance", "lower_value"]


def test_city_without_capacity_gets_no_visit():
    problem = random_problem(1, 40, caps={("visit", "北京"): 5})
    result = solve(problem)
    visit = result.treatments() == "visit"
    assert not np.any(visit & (problem.cities == "成都"))
    assert visit.sum() <= 5


def test_complaint_budget_is_met_and_trades_value():
    problem = random_problem(3, 300, caps={("call", None): 100})
    free = solve(problem)
    budget = free.expected_complaints() * 0.5
    tight = solve(problem.with_complaint_budget(max_expected=budget))
    assert tight.complaint_budget_met
    assert tight.expected_complaints() <= budget * (1 + 1e-6)
    assert tight.solves > 1 and tight.complaint_cost_fen > 0
    assert tight.expected_value_fen() <= free.expected_value_fen()
    assert tight.expected_uplift_fen() >= 0  # never worse than doing nothing


def test_optimiser_beats_rules_on_its_own_objective():
    problem = random_problem(5, 500, treatments=TREATMENTS,
                             caps={("call", None): 80, ("visit", "北京"): 10, ("visit", "成都"): 10})
    rules = RuleStrategy(rules=(Rule(lambda p: p.attributes["bucket"] >= 1, ("visit", "call", "sms")),))
    values = problem.values_fen()
    rows = np.arange(problem.n_cases)
    opt = values[rows, solve(problem).choice].sum()
    assert opt > values[rows, rules(problem)].sum()


def test_rule_strategy_falls_back_in_priority_order():
    b = StrategyBuilder(costs=COSTS)
    b.add_cases(case_ids=[1, 2, 3], amounts_fen=np.array([100_000, 300_000, 200_000]), cities=["北京"] * 3,
                propensity=np.full((3, 6), 0.2))
    b.set_capacity(treatment="visit", city="北京", limit=1)
    b.set_capacity(treatment="call", limit=1)
    rules = RuleStrategy(rules=(Rule(lambda p: np.ones(p.n_cases, dtype=bool), ("visit", "call", "sms")),))
    assert np.asarray(TREATMENTS)[rules(b.build())].tolist() == ["sms", "visit", "call"]


def test_champion_challenger_split_is_seeded_exact_and_fair():
    arms = split_arms(n=1001, shares={"a": 0.9, "b": 0.1}, seed=7)
    assert (arms == "b").sum() == 100 and (arms == "a").sum() == 901
    assert (split_arms(n=1001, shares={"a": 0.9, "b": 0.1}, seed=7) == arms).all()
    assert not (split_arms(n=1001, shares={"a": 0.9, "b": 0.1}, seed=8) == arms).all()
    problem = random_problem(2, 400, caps={("call", None): 40})
    exp = champion_challenger(problem, strategies={"champion": optimised_strategy, "challenger": RandomStrategy(seed=1)},
                              shares={"champion": 0.75, "challenger": 0.25}, seed=3)
    calls = exp.treatments() == "call"
    assert calls[exp.arms == "challenger"].sum() <= 10  # a quarter of the capacity
    assert calls[exp.arms == "champion"].sum() <= 30
    again = champion_challenger(problem, strategies={"champion": optimised_strategy,
                                                     "challenger": RandomStrategy(seed=1)},
                                shares={"champion": 0.75, "challenger": 0.25}, seed=3)
    assert (again.choice == exp.choice).all()
    fixed = champion_challenger(problem, strategies={"champion": optimised_strategy,
                                                     "challenger": RandomStrategy(seed=1)},
                                shares={"champion": 0.75, "challenger": 0.25}, seed=99, arms=exp.arms)
    assert (fixed.arms == exp.arms).all()
    assert set(fixed.frame().columns) == {"case_id", "arm", "treatment"}


def test_invalid_problems_are_rejected():
    b = StrategyBuilder(costs=COSTS)
    eligible = np.ones((1, 6), dtype=bool)
    eligible[0, 0] = False
    b.add_cases(case_ids=[1], amounts_fen=np.array([100]), cities=["x"], propensity=np.full((1, 6), 0.1),
                eligible=eligible)
    with pytest.raises(StrategyError, match="baseline"):
        b.build()
    b = StrategyBuilder(costs=COSTS)
    b.add_cases(case_ids=[1], amounts_fen=np.array([100]), cities=["x"], propensity=np.full((1, 6), 0.1))
    b.set_capacity(treatment="visit", limit=3)
    b.set_capacity(treatment="visit", city="x", limit=3)
    with pytest.raises(StrategyError, match="mixes"):
        b.build()
    with pytest.raises(StrategyError, match="integer fen"):
        StrategyBuilder(costs=COSTS).add_cases(case_ids=[1], amounts_fen=np.array([1.5]), cities=["x"],
                                               propensity=np.full((1, 6), 0.1))
    with pytest.raises(StrategyError, match="unknown"):
        StrategyBuilder(costs={"fax": 1})


def test_medium_instance_is_fast_and_valid():
    problem = random_problem(11, 20_000, treatments=TREATMENTS,
                             caps={("call", None): 3000, ("visit", "北京"): 100, ("visit", "成都"): 100,
                                   ("legal", None): 50, ("restructure", None): 400})
    result = solve(problem)
    assert result.seconds < 10
    assert problem.check(result.choice) == []
    usage = result.usage()
    assert (usage["used"] <= usage["limit"]).all()
    frame = result.explanations()
    assert frame.height == 20_000
    assert set(frame["reason"].unique().to_list()) <= {"compliance", "capacity", "lower_value"}


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), caps=st.fixed_dictionaries({
    ("call", None): st.integers(1, 6), ("visit", "北京"): st.integers(0, 2), ("visit", "成都"): st.integers(0, 2)}))
def test_arc_pricing_path_is_exact(seed, caps):
    """Force the large-instance path (restricted flow + dual certificate) and compare with GLOP."""
    import fieldcollect.optimisation.strategy.solvers as strategy_module

    problem = random_problem(seed, 150, caps=caps, block=0.2)
    old = strategy_module.FULL_FLOW_ARCS, strategy_module.PRICING_FACTOR
    strategy_module.FULL_FLOW_ARCS, strategy_module.PRICING_FACTOR = 0, 1  # first round too small
    try:
        priced = solve(problem)
    finally:
        strategy_module.FULL_FLOW_ARCS, strategy_module.PRICING_FACTOR = old
    assert problem.check(priced.choice) == []
    assert int(priced.objective_fen[np.arange(150), priced.choice].sum()) == lp_value(problem)


def test_dual_certificate_rejects_a_suboptimal_choice():
    from fieldcollect.optimisation.strategy.solvers import _duals

    problem = random_problem(4, 60, caps={("call", None): 5, ("visit", "北京"): 2, ("visit", "成都"): 2})
    result = solve(problem)
    obj = problem.objective_fen()
    _, ok = _duals(obj, problem.eligible, problem.pool_of, problem.pool_limits, result.choice)
    assert ok
    worse = result.choice.copy()
    worse[np.flatnonzero(worse == SMALL.index("call"))[0]] = 0  # free a call slot: value lost
    _, ok = _duals(obj, problem.eligible, problem.pool_of, problem.pool_limits, worse)
    assert not ok
