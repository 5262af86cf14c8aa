"""Customer-level placement in the allocation optimiser: a customer's cases (a group) go whole to one
agency or stay unplaced, capacity counts every case, and the grouped solve stays exact (against a
brute-force oracle)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcollect.optimisation.allocation import (
    AllocationBuilder,
    build_problem,
    greedy,
    grouped_relaxation_bound,
    lp_upper_bound,
    solve,
)
from fieldcollect.optimisation.tests.allocation_instances import draw_pairs


def brute_force(pairs: dict[tuple[int, int], int], groups: dict[int, list[int]], caps: list[int]) -> int:
    """Best total over every choice of one agency (or none) per group: the oracle."""
    options = []
    for cases in groups.values():
        opts: list[tuple[int | None, int]] = [(None, 0)]
        for a in range(len(caps)):
            if all((c, a) in pairs for c in cases):
                v = sum(pairs[(c, a)] for c in cases)
                if v > 0:
                    opts.append((a, v))
        options.append([(a, v, len(cases)) for a, v in opts])
    best = 0
    for choice in itertools.product(*options):
        used = [0] * len(caps)
        total = 0
        for agency, v, k in choice:
            if agency is not None:
                used[agency] += k
                total += v
        if all(u <= c for u, c in zip(used, caps, strict=True)):
            best = max(best, total)
    return best


def problem(pairs: dict[tuple[int, int], int], groups: dict[int, list[int]], caps: list[int], **kw):
    return build_problem(
        case_ids=[c for c, _ in pairs], agency_ids=[a for _, a in pairs], values_fen=list(pairs.values()),
        capacity_agency_ids=list(range(len(caps))), capacities=caps,
        group_case_ids=[c for cs in groups.values() for c in cs],
        group_ids=[g for g, cs in groups.items() for _ in cs], **kw,
    )


def test_a_customers_three_loans_go_together_and_capacity_counts_each_case() -> None:
    # customer 7 has loans 1, 2, 3. Agency A values each loan most but has room for two cases only:
    # without the group constraint two loans would go to A and one to B (split).
    pairs = {(1, 0): 900, (2, 0): 800, (3, 0): 700, (1, 1): 500, (2, 1): 500, (3, 1): 500}
    free = problem(pairs, {}, [2, 5])
    split = solve(free)
    assert len(set(split.placements()[1].tolist())) == 2  # the ungrouped optimum splits the customer

    p = problem(pairs, {7: [1, 2, 3]}, [2, 5])
    r = solve(p)
    r.validate()
    cases, agencies = r.placements()
    assert sorted(cases.tolist()) == [1, 2, 3] and set(agencies.tolist()) == {1}
    assert r.objective_fen == 1500 and r.certificate.optimal
    ex = r.explanations()
    assert ex["group_size"].tolist() == [3, 3, 3] and ex["group_value_fen"].tolist() == [1500] * 3
    # capacity 3 at A: the whole customer fits there now
    r3 = solve(problem(pairs, {7: [1, 2, 3]}, [3, 5]))
    assert set(r3.placements()[1].tolist()) == {0} and r3.objective_fen == 2400
    assert r3.agency_counts().tolist() == [3, 0]


def test_a_group_needs_every_case_eligible_at_the_agency() -> None:
    # loan 2 has no pair with A: the customer can only go to B, where both loans are eligible
    pairs = {(1, 0): 900, (1, 1): 100, (2, 1): 100}
    r = solve(problem(pairs, {5: [1, 2]}, [5, 5]))
    assert set(r.placements()[1].tolist()) == {1} and r.objective_fen == 200
    # no agency takes both loans: nothing is placed and the cases are reported as unplaceable together
    r2 = solve(problem({(1, 0): 900, (2, 1): 100}, {5: [1, 2]}, [5, 5]))
    assert r2.n_placed == 0 and r2.unplaceable_groups().all()


def test_a_negative_loan_goes_with_its_customer_when_the_customer_is_worth_it() -> None:
    r = solve(problem({(1, 0): 900, (2, 0): -100}, {5: [1, 2]}, [5]))
    r.validate()
    assert r.n_placed == 2 and r.objective_fen == 800
    r2 = solve(problem({(1, 0): 50, (2, 0): -100}, {5: [1, 2]}, [5]))
    assert r2.n_placed == 0


def test_the_relaxation_splits_and_the_integer_programme_decides() -> None:
    # A holds 3 cases; two customers of two loans each: the LP takes one and a half customers
    pairs = {(1, 0): 100, (2, 0): 100, (3, 0): 90, (4, 0): 90}
    r = solve(problem(pairs, {1: [1, 2], 2: [3, 4]}, [3]))
    r.validate()
    assert r.flow_rounds == 2  # CP-SAT decided
    assert r.objective_fen == 200 and r.certificate.optimal
    assert r.certificate.dual_fen == r.certificate.primal_fen == 200


def test_without_multi_case_groups_the_result_is_the_ungrouped_one() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        pairs = {(int(rng.integers(20)), int(rng.integers(4))): int(rng.integers(-20, 100)) for _ in range(50)}
        caps = rng.integers(0, 8, 4).tolist()
        plain = solve(problem(pairs, {}, caps))
        alone = solve(problem(pairs, {1000 + c: [c] for c, _ in pairs}, caps))
        assert np.array_equal(plain.assigned, alone.assigned) and plain.objective_fen == alone.objective_fen


@st.composite
def grouped_instances(draw):
    n, pairs_l, values, caps = draw_pairs(draw, max_cases=9, max_agencies=3, max_pairs=20, max_capacity=6)
    group_of = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return dict(zip(pairs_l, values, strict=True)), group_of, caps


@settings(max_examples=150, deadline=None)
@given(grouped_instances())
def test_grouped_optimum_equals_brute_force(inst) -> None:
    pairs, group_of, caps = inst
    cases = sorted({c for c, _ in pairs})
    groups: dict[int, list[int]] = {}
    for c in cases:
        groups.setdefault(group_of[c], []).append(c)
    p = problem(pairs, groups, caps)
    r = solve(p)
    r.validate()  # never split, capacity per case, group value > 0
    assert r.objective_fen == brute_force(pairs, groups, caps)
    assert r.certificate.optimal
    assert greedy(p).objective_fen <= r.objective_fen
    assert lp_upper_bound(p, prices_fen=np.zeros(len(caps), np.int64)) >= r.objective_fen
    # holdout and concentration limit keep every constraint
    for share, hold in ((None, 0.5), (0.5, 0.0), (0.5, 0.3)):
        rr = solve(problem(pairs, groups, caps, max_share=share), holdout_share=hold, seed=1)
        rr.validate()


def test_builder_groups_and_bad_input() -> None:
    p = (AllocationBuilder().add_pairs(case_ids=[1, 2], agency_ids=["A", "A"], values_fen=[5, 5])
         .set_capacities(agency_ids=["A"], capacities=[1]).set_groups(case_ids=[1, 2], group_ids=["c", "c"]).build())
    assert p.grouped and solve(p).n_placed == 0  # two cases do not fit in one slot
    with pytest.raises(ValueError, match="same length"):
        build_problem(case_ids=[1], agency_ids=[0], values_fen=[1], capacity_agency_ids=[0], capacities=[1],
                      group_case_ids=[1, 2], group_ids=[1])
    with pytest.raises(ValueError, match="more than one group"):
        build_problem(case_ids=[1], agency_ids=[0], values_fen=[1], capacity_agency_ids=[0], capacities=[1],
                      group_case_ids=[1, 1], group_ids=[1, 2])



def _large_grouped(n: int, m: int, per_case: int, seed: int):
    """A seeded instance with half the cases in customers of 2-3 loans sharing their eligible agencies."""
    rng = np.random.default_rng(seed)
    amount = np.exp(rng.normal(np.log(800_000), 0.9, n)).astype(np.int64)
    customer = np.arange(n, dtype=np.int64)
    k = 0
    while k < n // 2:
        size = int(rng.integers(2, 4))
        customer[k : k + size] = k
        k += size
    eligible = np.argpartition(rng.random((n, m)), per_case, axis=1)[:, :per_case]
    case = np.repeat(np.arange(n, dtype=np.int64), per_case)
    agency = eligible[customer[case], np.arange(len(case)) % per_case].astype(np.int64)
    prob = 1.0 / (1.0 + np.exp(-(rng.normal(-1.4, 1.0, n)[case] + rng.normal(0, 0.35, m)[agency])))
    value = np.floor(prob * amount[case] * 0.75).astype(np.int64) - rng.integers(15_000, 40_000, m)[agency]
    capacity = np.maximum(1, np.floor(rng.dirichlet(np.full(m, 2.0)) * 0.8 * n)).astype(np.int64)
    kw: dict[str, Any] = {"case_ids": case, "agency_ids": agency, "values_fen": value,
                          "capacity_agency_ids": np.arange(m), "capacities": capacity}
    return build_problem(**kw, group_case_ids=np.arange(n), group_ids=customer), build_problem(**kw), customer


def test_a_large_run_is_whole_per_customer_fast_and_reports_its_gap() -> None:
    grouped, free, customer = _large_grouped(20_000, 30, 5, seed=9)
    r = solve(grouped)
    r.validate()  # whole per customer, capacities, values
    assert r.flow_rounds == 2 and r.solved_by == "repair"  # the relaxation split customers: not trivially whole
    assert not r.time_limit_hit and r.seconds < 30
    c = r.certificate
    assert c.primal_fen == r.objective_fen
    # the bound is the grouped relaxation: above the whole solution, below the ungrouped optimum
    assert c.primal_fen <= c.dual_fen <= solve(free).objective_fen
    assert c.dual_fen == grouped_relaxation_bound(grouped)
    assert 0 <= c.gap_fen <= c.dual_fen // 1000  # gap within 0.1 % of the bound
    assert c.optimal == (c.gap_fen == 0)
    # a customer's loans share one agency (or none)
    placed = r.assigned
    for g in np.unique(customer[:200]):
        assert len(set(placed[customer == g].tolist())) == 1
    # deterministic: the same input gives the same answer
    again = solve(grouped)
    assert np.array_equal(again.assigned, r.assigned) and again.certificate == c


def test_the_time_limit_is_honoured_and_the_best_whole_solution_returned() -> None:
    grouped, _free, _customer = _large_grouped(4_000, 20, 5, seed=4)
    # CP-SAT on the whole problem (exact_max_pairs above its size) would take long: the limit stops it
    r = solve(grouped, time_limit_s=1.0, exact_max_pairs=10**9)
    r.validate()
    assert r.time_limit_hit
    assert r.seconds < 1.0 + 8.0  # the limit counts from the start of solve; slack for a busy machine
    # stopped before its proof (with a longer limit CP-SAT proves the optimum: about 3 s here)
    assert r.certificate.gap_fen > 0 and not r.certificate.optimal
    assert r.certificate.primal_fen <= r.certificate.dual_fen
    with pytest.raises(ValueError, match="time_limit_s"):
        solve(grouped, time_limit_s=0)


def test_optimal_is_said_only_when_proven() -> None:
    # A holds 3 cases; two customers of two loans: the relaxation is worth 290 (one and a half customers)
    pairs = {(1, 0): 100, (2, 0): 100, (3, 0): 90, (4, 0): 90}
    p = problem(pairs, {1: [1, 2], 2: [3, 4]}, [3])
    repaired = solve(p, exact_max_pairs=0)  # the repair only: no proof that 200 is the best
    repaired.validate()
    c = repaired.certificate
    assert repaired.solved_by == "repair" and repaired.objective_fen == 200
    assert (c.primal_fen, c.dual_fen, c.gap_fen) == (200, 290, 90) and not c.optimal
    exact = solve(p)  # small: CP-SAT proves it
    assert exact.solved_by == "cp-sat" and exact.certificate.optimal and exact.certificate.gap_fen == 0
    # whole relaxation: proven by the flow, gap 0
    whole = solve(problem(pairs, {1: [1, 2], 2: [3, 4]}, [4]))
    assert whole.solved_by == "relaxation" and whole.certificate.optimal and whole.certificate.gap_fen == 0
