"""Solvers of the strategy problem: exact min-cost flow (the shared capacitated-assignment kernel
:func:`fieldcollect.optimisation.flow.max_weight_assignment`, with arc pricing for large instances)
or GLOP LP, dual prices, and Lagrangian bisection on the complaint penalty."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import numpy as np

from fieldcollect.optimisation.flow import max_weight_assignment
from fieldcollect.optimisation.strategy.problem import (
    BoolArray,
    IntArray,
    StrategyError,
    StrategyProblem,
    StrategyResult,
)

Method = Literal["flow", "lp"]


def _free_best(obj: IntArray, eligible: BoolArray, pool_of: IntArray) -> tuple[IntArray, IntArray]:
    """Best unlimited, eligible option per case: (index, objective)."""
    free = eligible & (pool_of < 0)
    masked = np.where(free, obj, np.iinfo(np.int64).min)
    best = np.argmax(masked, axis=1)
    return best.astype(np.int64), masked[np.arange(obj.shape[0]), best]


def _top_arcs(cand: BoolArray, gain: IntArray, pool_of: IntArray, keep: IntArray) -> BoolArray:
    """Candidate arcs restricted to the ``keep[k]`` best gains of each pool ``k``."""
    out = cand.copy()
    ci, tj = np.nonzero(cand)
    pools = pool_of[ci, tj]
    counts = np.bincount(pools, minlength=keep.size)
    for k in np.flatnonzero(counts > keep):
        sel = np.flatnonzero(pools == k)
        g = gain[ci[sel], tj[sel]]
        drop = sel[np.argpartition(-g, int(keep[k]))[int(keep[k]):]]
        out[ci[drop], tj[drop]] = False
    return out


def _flow_on(cand: BoolArray, gain: IntArray, pool_of: IntArray, limits: IntArray,
             choice: IntArray) -> IntArray:
    """Max-weight assignment over the arcs in ``cand`` (gains over the free option); updates a copy of ``choice``."""
    choice = choice.copy()
    active = np.flatnonzero(cand.any(axis=1))
    if active.size == 0:
        return choice
    ci, tj = np.nonzero(cand[active])  # local case index, treatment
    used, _ = max_weight_assignment(ci, pool_of[active[ci], tj], gain[active[ci], tj], n_items=active.size,
                                    capacity=limits)
    choice[active[ci[used]]] = tj[used]
    return choice


FULL_FLOW_ARCS = 200_000
"""Below this many candidate arcs the flow is solved in one go; above, by arc pricing."""
PRICING_FACTOR = 6
"""First arc-pricing round keeps this many times each pool's capacity in arcs."""


def _solve_flow(obj: IntArray, eligible: BoolArray, pool_of: IntArray, limits: IntArray) -> IntArray:
    """Exact min-cost flow, with two reductions for large instances.

    1. Each case keeps only the capacitated options that beat its best unlimited option, and
       each pool only its ``S`` best such arcs (``S`` = total capacity): if a case outside them
       used the pool, one of those ``S`` cases would be free, and swapping loses nothing.
    2. Arc pricing: solve on the ``PRICING_FACTOR × capacity`` best arcs per pool, certify the answer with
       dual prices on *all* cases (:func:`_duals`), add the arcs that price out, repeat; fall
       back to the full flow if certification does not come quickly.
    """
    free_idx, free_val = _free_best(obj, eligible, pool_of)
    if limits.size == 0:
        return free_idx
    gain = obj - free_val[:, None]
    cand = eligible & (pool_of >= 0) & (gain > 0)
    cand &= limits[np.maximum(pool_of, 0)] > 0
    cand = _top_arcs(cand, gain, pool_of, np.full(limits.size, int(limits.sum()), dtype=np.int64))
    if int(cand.sum()) <= FULL_FLOW_ARCS:
        return _flow_on(cand, gain, pool_of, limits, free_idx)
    factor = PRICING_FACTOR
    keep = _top_arcs(cand, gain, pool_of, limits * factor)
    rows = np.arange(obj.shape[0])
    for _ in range(5):
        choice = _flow_on(keep, gain, pool_of, limits, free_idx)
        lam, ok = _duals(obj, eligible, pool_of, limits, choice)
        if ok:
            return choice
        price = np.where(pool_of >= 0, lam[np.maximum(pool_of, 0)], 0)
        chosen = obj[rows, choice] - price[rows, choice]
        keep |= cand & (obj - price > chosen[:, None])
        factor *= 2
        keep |= _top_arcs(cand, gain, pool_of, limits * factor)
    return _flow_on(cand, gain, pool_of, limits, free_idx)


def _solve_lp(obj: IntArray, eligible: BoolArray, pool_of: IntArray, limits: IntArray) -> IntArray:
    from ortools.linear_solver import pywraplp

    n, t = obj.shape
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover
        raise RuntimeError("GLOP unavailable")
    x: dict[tuple[int, int], pywraplp.Variable] = {}
    pool_terms: dict[int, list[pywraplp.Variable]] = {}
    for i in range(n):
        row = []
        for j in range(t):
            if not eligible[i, j]:
                continue
            var = solver.NumVar(0.0, 1.0, f"x{i}_{j}")
            x[i, j] = var
            row.append(var)
            if pool_of[i, j] >= 0:
                pool_terms.setdefault(int(pool_of[i, j]), []).append(var)
        solver.Add(sum(row) == 1)
    for k, terms in pool_terms.items():
        solver.Add(sum(terms) <= int(limits[k]))
    solver.Maximize(sum(float(obj[i, j]) * var for (i, j), var in x.items()))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:  # pragma: no cover
        raise RuntimeError("LP failed")
    choice = np.zeros(n, dtype=np.int64)
    for (i, j), var in x.items():
        if var.solution_value() > 0.5:
            choice[i] = j
    return choice


def _duals(obj: IntArray, eligible: BoolArray, pool_of: IntArray, limits: IntArray,
           choice: IntArray) -> tuple[IntArray, bool]:
    """Smallest capacity prices under which ``choice`` is optimal, and whether it is optimal.

    With prices λ ≥ 0 (0 for unlimited options), ``choice`` is optimal when every case's chosen
    option maximises ``obj − λ`` (λ_k ≥ λ_a + obj[i, k] − obj[i, a] for case i in pool a) and
    pools with spare capacity have λ = 0 (complementary slackness).  The smallest λ meeting the
    difference constraints are longest paths from the price-zero node in the small graph of
    pools; a positive cycle, a positive path back to the zero node, or a price on a pool with
    spare capacity proves that ``choice`` is not optimal.
    """
    n_pools = limits.size
    if n_pools == 0:
        return np.zeros(0, dtype=np.int64), True
    n = obj.shape[0]
    rows = np.arange(n)
    zero = n_pools  # node of the unlimited options, price 0
    src = pool_of[rows, choice]
    src_node = np.where(src >= 0, src, zero)
    chosen_obj = obj[rows, choice]
    lowest = np.iinfo(np.int64).min
    weight = np.full((n_pools + 1) ** 2, lowest, dtype=np.int64)
    for j in range(obj.shape[1]):
        ok = eligible[:, j] & (choice != j)
        if not ok.any():
            continue
        dst = np.where(pool_of[ok, j] >= 0, pool_of[ok, j], zero)
        np.maximum.at(weight, src_node[ok] * (n_pools + 1) + dst, obj[ok, j] - chosen_obj[ok])
    w = weight.reshape(n_pools + 1, n_pools + 1)
    has = w > lowest
    lam = np.zeros(n_pools + 1, dtype=np.int64)
    converged = False
    for _ in range(n_pools + 2):
        reach = np.where(has, lam[:, None] + np.where(has, w, 0), lowest).max(axis=0)
        new = np.maximum(lam, reach)
        if new[zero] > 0:  # improving path back to the unlimited options
            lam = new
            lam[zero] = 0
            break
        if np.array_equal(new, lam):
            converged = True
            break
        lam = new
    used = np.bincount(src[src >= 0], minlength=n_pools)
    optimal = converged and not np.any((lam[:n_pools] > 0) & (used < limits))
    return lam[:n_pools].astype(np.int64), bool(optimal)


def solve(problem: StrategyProblem, *, method: Method = "flow", tolerance: float = 1e-6,
          max_bisections: int = 30, penalty_rtol: float = 0.01) -> StrategyResult:
    """Choose one treatment per case maximising expected net value under the constraints.

    Parameters
    ----------
    problem : StrategyProblem
    method : {"flow", "lp"}
        Exact min-cost flow (fast; default) or GLOP LP (small instances, cross-checks).
    tolerance : float
        Relative tolerance on the complaint budget when bisecting on the penalty.
    max_bisections : int
        Bound on the number of solves when a complaint budget is set.
    penalty_rtol : float
        Bisection stops when the complaint penalty is known within this relative precision.

    Returns
    -------
    StrategyResult
    """
    start = time.perf_counter()
    run: Callable[[IntArray, BoolArray, IntArray, IntArray], IntArray]
    run = _solve_flow if method == "flow" else _solve_lp
    if method not in ("flow", "lp"):
        raise StrategyError(f"unknown method {method!r}")
    n = problem.n_cases
    rows = np.arange(n)

    def attempt(mu: float) -> tuple[IntArray, IntArray, float]:
        obj = problem.objective_fen(complaint_cost_fen=mu)
        ch = run(obj, problem.eligible, problem.pool_of, problem.pool_limits)
        return ch, obj, float(problem.complaint_prob[rows, ch].sum())

    mu = float(problem.complaint_cost_fen)
    choice, obj, complaints = attempt(mu)
    solves = 1
    budget = problem.max_expected_complaints
    if budget is not None and complaints > budget * (1 + tolerance):
        lo, hi = mu, max(2.0 * mu, 100_000.0)  # start at 1,000 CNY per expected complaint
        while True:
            c_hi, o_hi, k_hi = attempt(hi)
            solves += 1
            if k_hi <= budget * (1 + tolerance) or solves >= max_bisections // 2:
                break
            lo, hi = hi, hi * 4
        best = (c_hi, o_hi, hi)
        while solves < max_bisections and hi - lo > max(1.0, penalty_rtol * hi):
            mid = (lo + hi) / 2
            c_mid, o_mid, k_mid = attempt(mid)
            solves += 1
            if k_mid <= budget * (1 + tolerance):
                hi, best = mid, (c_mid, o_mid, mid)
            else:
                lo = mid
        choice, obj, mu = best
    met = budget is None or float(problem.complaint_prob[rows, choice].sum()) <= budget * (1 + tolerance)
    prices, _ = _duals(obj, problem.eligible, problem.pool_of, problem.pool_limits, choice)
    return StrategyResult(problem=problem, choice=choice, objective_fen=obj, shadow_prices_fen=prices,
                          complaint_cost_fen=mu, method=method, seconds=time.perf_counter() - start,
                          solves=solves, complaint_budget_met=met)
