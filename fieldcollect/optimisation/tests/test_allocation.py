"""Allocation optimiser: constraints, optimality against an independent LP, holdout, exclusions, explanations."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from fieldcollect.optimisation.allocation import (
    AllocationBuilder,
    AllocationProblem,
    build_problem,
    greedy,
    lp_upper_bound,
    solve,
)
from fieldcollect.optimisation.tests.allocation_instances import draw_pairs


def lp_optimum(p: AllocationProblem, capacity: np.ndarray | None = None) -> float:
    """The LP relaxation solved independently by scipy's HiGHS (integral for this network matrix)."""
    pos = np.flatnonzero(p.pair_value > 0)
    if not len(pos):
        return 0.0
    k = len(pos)
    rows = np.concatenate([p.pair_case[pos], p.n_cases + p.pair_agency[pos]])
    a = coo_matrix((np.ones(2 * k), (rows, np.concatenate([np.arange(k)] * 2))), shape=(p.n_cases + p.n_agencies, k))
    cap = p.capacity if capacity is None else capacity
    b = np.concatenate([np.ones(p.n_cases), cap.astype(float)])
    res = linprog(-p.pair_value[pos].astype(float), A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    assert res.status == 0
    return -res.fun


def random_problem(rng: np.random.Generator, *, n: int, m: int, max_share: float | None = None) -> AllocationProblem:
    pairs = {(int(rng.integers(n)), int(rng.integers(m))) for _ in range(int(rng.integers(1, 4 * n)))}
    cases = np.array([c for c, _ in pairs])
    agencies = np.array([a for _, a in pairs])
    return build_problem(case_ids=cases, agency_ids=agencies, values_fen=rng.integers(-40, 100, len(cases)),
                         capacity_agency_ids=np.arange(m), capacities=rng.integers(0, max(2, n // 2), m),
                         max_share=max_share)


@st.composite
def instances(draw):
    _, pairs, values, caps = draw_pairs(draw, max_cases=12, max_agencies=4, max_pairs=30, max_capacity=5)
    excluded = draw(st.lists(st.sampled_from(pairs), max_size=3))
    share = draw(st.sampled_from([None, 0.5, 0.34]))
    holdout = draw(st.sampled_from([0.0, 0.3, 1.0]))
    seed = draw(st.integers(0, 5))
    return pairs, values, caps, excluded, share, holdout, seed


@settings(max_examples=120, deadline=None)
@given(instances())
def test_constraints_always_hold(inst) -> None:
    pairs, values, caps, excluded, share, holdout, seed = inst
    p = build_problem(
        case_ids=[c for c, _ in pairs], agency_ids=[a for _, a in pairs], values_fen=values,
        capacity_agency_ids=list(range(len(caps))), capacities=caps,
        excluded_case_ids=[c for c, _ in excluded], excluded_agency_ids=[a for _, a in excluded], max_share=share,
    )
    r = solve(p, holdout_share=holdout, seed=seed)
    r.validate()
    placed_c, placed_a = r.placements()
    value = dict(zip(pairs, values, strict=True))
    assert len(set(placed_c.tolist())) == len(placed_c)  # a case at most once
    for c, a in zip(placed_c.tolist(), placed_a.tolist(), strict=True):
        assert value[(c, a)] > 0  # only eligible, positive pairs
        assert (c, a) not in excluded  # never back to the agency that returned it
    counts = np.bincount(placed_a, minlength=len(caps)) if len(placed_a) else np.zeros(len(caps), int)
    assert np.all(counts <= np.array(caps))
    if share is not None:
        assert np.all(counts <= math.floor(Fraction(str(share)) * len(placed_c)))
    if holdout == 0.0 and share is None:
        assert r.certificate.optimal
        assert r.objective_fen == pytest.approx(lp_optimum(p))


@pytest.mark.parametrize("first_arcs", [None, 1, 2])
def test_optimal_against_independent_lp(first_arcs: int | None) -> None:
    rng = np.random.default_rng(11)
    for _ in range(40):
        p = random_problem(rng, n=int(rng.integers(2, 40)), m=int(rng.integers(1, 7)))
        r = solve(p, first_arcs_per_case=first_arcs)
        lp = lp_optimum(p)
        assert r.objective_fen == round(lp)
        assert r.certificate.optimal
        assert r.certificate.dual_fen == r.certificate.primal_fen == r.objective_fen
        assert r.certificate.min_reduced_cost_fen >= 0
        assert lp_upper_bound(p, prices_fen=r.agency_price_fen) == r.objective_fen
        assert greedy(p).objective_fen <= r.objective_fen


@settings(max_examples=60, deadline=None)
@given(instances(), st.lists(st.integers(0, 200), min_size=4, max_size=4))
def test_any_prices_give_an_upper_bound(inst, prices) -> None:
    pairs, values, caps, *_ = inst
    p = build_problem(case_ids=[c for c, _ in pairs], agency_ids=[a for _, a in pairs], values_fen=values,
                      capacity_agency_ids=list(range(len(caps))), capacities=caps)
    assert lp_upper_bound(p, prices_fen=prices[: len(caps)]) >= solve(p).objective_fen


def two_agency_example() -> AllocationProblem:
    # A has room for one case. Greedy gives A to case 1 (100.50) and leaves case 2 unplaced;
    # the optimum sends case 1 to B (80.00) and case 2 to A (90.10).
    return (
        AllocationBuilder()
        .add_pairs(case_ids=[1, 1, 2, 2, 3], agency_ids=["A", "B", "A", "B", "B"],
                   values_fen=[10050, 8000, 9010, -500, 1000])
        .set_capacities(agency_ids=["A", "B"], capacities=[1, 5])
        .build()
    )


def test_hand_example_beats_greedy_and_explains() -> None:
    p = two_agency_example()
    r = solve(p)
    assert r.objective_fen == 8000 + 9010 + 1000
    assert greedy(p).objective_fen == 10050 + 1000
    cases, agencies = r.placements()
    assert dict(zip(cases.tolist(), agencies.tolist(), strict=True)) == {1: "B", 2: "A", 3: "B"}

    e = r.explain(1)
    assert e is not None
    assert (e.agency_id, e.value_fen, e.holdout, e.n_eligible) == ("B", 8000, False, 2)
    assert (e.best_alternative_agency_id, e.best_alternative_value_fen) == ("A", 10050)
    # A's single slot is worth at least what moving case 1 there would lose: 10050 - 8000
    assert e.best_alternative_shadow_price_fen is not None and e.best_alternative_value_fen is not None
    assert e.best_alternative_shadow_price_fen >= 10050 - 8000
    assert e.value_fen - e.agency_shadow_price_fen >= e.best_alternative_value_fen - e.best_alternative_shadow_price_fen
    assert "agency B" in e.text() and "alternative A" in e.text()
    e3 = r.explain(3)
    assert e3 is not None and e3.best_alternative_agency_id is None
    assert r.explain(2) is not None

    table = r.explanations()
    row = int(np.flatnonzero(p.case_ids[table["case"]] == 1)[0])
    assert p.agency_ids[table["best_alternative_agency"][row]] == "A"
    assert table["best_alternative_value_fen"][row] == 10050
    assert table["agency_shadow_price_fen"][row] == e.agency_shadow_price_fen
    with pytest.raises(KeyError):
        r.explain(99)


def test_negative_values_are_never_placed() -> None:
    p = build_problem(case_ids=[1, 2, 2], agency_ids=[0, 0, 1], values_fen=[-1, 0, -7],
                      capacity_agency_ids=[0, 1], capacities=[10, 10])
    for holdout in (0.0, 1.0):
        r = solve(p, holdout_share=holdout)
        assert r.n_placed == 0 and r.objective_fen == 0


def test_exclusion_sends_case_elsewhere() -> None:
    b = (AllocationBuilder()
         .add_pairs(case_ids=[1, 1, 1], agency_ids=["A", "B", "C"], values_fen=[900, 500, 100])
         .set_capacities(agency_ids=["A", "B", "C"], capacities=[1, 1, 1]))
    assert solve(b.build()).placements()[1].tolist() == ["A"]
    p = b.exclude(case_ids=[1], agency_ids=["A"]).build()
    assert p.n_excluded == 1
    assert solve(p, holdout_share=0.0).placements()[1].tolist() == ["B"]
    for seed in range(10):  # holdout cases never go back either
        assert solve(p, holdout_share=1.0, seed=seed).placements()[1].tolist() in (["B"], ["C"])


def big_even_problem(n: int = 2000) -> AllocationProblem:
    rng = np.random.default_rng(2)
    cases = np.repeat(np.arange(n), 2)
    agencies = np.tile([0, 1], n)
    return build_problem(case_ids=cases, agency_ids=agencies, values_fen=rng.integers(1, 1000, 2 * n),
                         capacity_agency_ids=[0, 1], capacities=[n, n])


def test_holdout_share_and_reproducibility() -> None:
    p = big_even_problem()
    r1 = solve(p, holdout_share=0.1, seed=42)
    r2 = solve(p, holdout_share=0.1, seed=42)
    r3 = solve(p, holdout_share=0.1, seed=43)
    assert r1.holdout.sum() == 200
    assert np.array_equal(r1.holdout, r2.holdout) and np.array_equal(r1.assigned, r2.assigned)
    assert not np.array_equal(r1.holdout, r3.holdout)
    assert r1.n_holdout_placed == 200
    # uniform among the two eligible agencies: about half each (binomial sd ~7)
    at_zero = int((r1.assigned[r1.holdout] == 0).sum())
    assert 70 < at_zero < 130
    # the holdout is really random: it does not follow the values like the optimiser does
    best = np.where(p.pair_value[0::2] >= p.pair_value[1::2], 0, 1)
    assert (r1.assigned[r1.holdout] == best[r1.holdout]).mean() < 0.7
    assert np.array_equal(r1.assigned[~r1.holdout], best[~r1.holdout])
    assert r1.objective_fen == r1.holdout_objective_fen + r1.optimised_objective_fen
    e = r1.explain(int(np.flatnonzero(r1.holdout)[0]))
    assert e is not None and e.holdout and "holdout" in e.text()


def test_holdout_respects_capacity() -> None:
    p = build_problem(case_ids=np.arange(50), agency_ids=np.zeros(50, int), values_fen=np.full(50, 10),
                      capacity_agency_ids=[0], capacities=[7])
    r = solve(p, holdout_share=0.5, seed=1)
    r.validate()
    assert r.n_placed == 7


def test_concentration_limit_binds() -> None:
    # agency 0 is best for every case; it may hold at most 40 % of what is placed
    n = 30
    cases = np.repeat(np.arange(n), 3)
    agencies = np.tile([0, 1, 2], n)
    values = np.tile([100, 50, 40], n)
    p = build_problem(case_ids=cases, agency_ids=agencies, values_fen=values, capacity_agency_ids=[0, 1, 2],
                      capacities=[n, 10, 5], max_share=0.4)
    r = solve(p)
    r.validate()
    counts = r.agency_counts()
    assert counts[0] <= math.floor(0.4 * r.n_placed)
    assert counts.tolist() == [10, 10, 5]  # 40 % of 25 placed
    assert r.effective_capacity[0] == 10
    assert r.certificate.optimal  # for the effective capacities
    assert r.objective_fen == round(lp_optimum(p, r.effective_capacity))


@pytest.mark.parametrize("kwargs, message", [
    ({"case_ids": [1, 1], "agency_ids": [0, 0], "values_fen": [1, 2]}, "more than once"),
    ({"case_ids": [1], "agency_ids": [5], "values_fen": [1]}, "no capacity"),
    ({"case_ids": [1], "agency_ids": [0], "values_fen": [1.5]}, "integers"),
    ({"case_ids": [1, 2], "agency_ids": [0], "values_fen": [1]}, "same length"),
])
def test_build_problem_rejects_bad_input(kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_problem(capacity_agency_ids=[0], capacities=[1], **kwargs)


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="capacities"):
        build_problem(case_ids=[1], agency_ids=[0], values_fen=[1], capacity_agency_ids=[0], capacities=[-1])
    with pytest.raises(ValueError, match="max_share"):
        build_problem(case_ids=[1], agency_ids=[0], values_fen=[1], capacity_agency_ids=[0], capacities=[1],
                      max_share=1.5)
    with pytest.raises(ValueError, match="holdout"):
        solve(two_agency_example(), holdout_share=1.5)
