"""Strategies (the optimiser, rule-based, random) and champion/challenger experiments."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from fieldcollect.optimisation.strategy.problem import (
    BoolArray,
    Capacity,
    FloatArray,
    IntArray,
    StrategyError,
    StrategyProblem,
)
from fieldcollect.optimisation.strategy.solvers import solve

Strategy = Callable[[StrategyProblem], IntArray]
"""A strategy maps a problem to one treatment index per case (feasible for that problem)."""


def optimised_strategy(problem: StrategyProblem) -> IntArray:
    """The optimiser as a strategy."""
    return np.asarray(solve(problem).choice, dtype=np.int64)


@dataclass(frozen=True)
class Rule:
    """Cases matching ``condition`` get the first treatment of ``preference`` that is allowed
    and has capacity left (higher ``priority`` first); otherwise the baseline."""

    condition: Callable[[StrategyProblem], BoolArray]
    preference: tuple[str, ...]


@dataclass(frozen=True)
class RuleStrategy:
    """A rule-based strategy: the first matching rule decides the preference list per case.

    Capacities are consumed greedily, largest ``priority`` first (by default the amount), and a
    case falls back along its preference list when a treatment is blocked or full.
    """

    rules: tuple[Rule, ...]
    priority: Callable[[StrategyProblem], FloatArray] | None = None

    def __call__(self, problem: StrategyProblem) -> IntArray:
        n = problem.n_cases
        index = {t: k for k, t in enumerate(problem.treatments)}
        rule_of = np.full(n, -1, dtype=np.int64)
        for r, rule in enumerate(self.rules):
            hit = np.asarray(rule.condition(problem), dtype=bool) & (rule_of < 0)
            rule_of[hit] = r
        key = (problem.amounts_fen.astype(np.float64) if self.priority is None
               else np.asarray(self.priority(problem), dtype=np.float64))
        order = np.argsort(-key, kind="stable")
        left = problem.pool_limits.copy()
        choice = np.zeros(n, dtype=np.int64)
        pool_of, eligible = problem.pool_of, problem.eligible
        prefs = [tuple(index[t] for t in rule.preference) for rule in self.rules]
        for i in order:
            r = rule_of[i]
            if r < 0:
                continue
            for j in prefs[r]:
                if eligible[i, j] and _take_place(left, pool_of[i, j]):
                    choice[i] = j
                    break
        return choice


def _take_place(left: IntArray, k: int) -> bool:
    """Whether a treatment of pool ``k`` (``-1``: in no pool) is still open; takes one of its ``left``
    places if so."""
    if k >= 0:
        if left[k] <= 0:
            return False
        left[k] -= 1
    return True


@dataclass(frozen=True)
class RandomStrategy:
    """Uniformly random allowed treatment per case (exploration arm); full channels fall back
    to the baseline, in random order."""

    seed: int = 0
    include_baseline: bool = True

    def __call__(self, problem: StrategyProblem) -> IntArray:
        rng = np.random.default_rng(self.seed)
        n, t = problem.propensity.shape
        allowed = problem.eligible.copy()
        if not self.include_baseline and t > 1:
            allowed[:, 0] = ~allowed[:, 1:].any(axis=1)
        scores = np.where(allowed, rng.random((n, t)), -1.0)
        wish = np.argmax(scores, axis=1)
        choice = np.zeros(n, dtype=np.int64)
        left = problem.pool_limits.copy()
        for i in rng.permutation(n):
            j = wish[i]
            if _take_place(left, problem.pool_of[i, j]):
                choice[i] = j
        return choice


def split_arms(*, n: int, shares: Mapping[str, float], seed: int) -> npt.NDArray[np.str_]:
    """Random arm label per case with the given shares (exact counts, seeded)."""
    names = list(shares)
    weights = np.array([shares[a] for a in names], dtype=np.float64)
    if np.any(weights < 0) or not math.isclose(weights.sum(), 1.0, abs_tol=1e-9):
        raise StrategyError("arm shares must be >= 0 and sum to 1")
    counts = _apportion(n, weights)
    labels = np.repeat(np.asarray(names), counts)
    return np.random.default_rng(seed).permutation(labels)


def _apportion(total: int, weights: FloatArray) -> IntArray:
    """Largest-remainder split of ``total`` by ``weights``."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


@dataclass(frozen=True, eq=False)
class ExperimentAssignment:
    """Champion/challenger assignment: arm and treatment per case."""

    problem: StrategyProblem
    arms: npt.NDArray[np.str_]
    choice: IntArray

    def treatments(self) -> npt.NDArray[np.str_]:
        """Chosen treatment name per case."""
        return np.asarray(self.problem.treatments)[self.choice]

    def frame(self) -> pl.DataFrame:
        """case_id, arm, treatment."""
        return pl.DataFrame({"case_id": self.problem.case_ids, "arm": self.arms, "treatment": self.treatments()})


def champion_challenger(problem: StrategyProblem, *, strategies: Mapping[str, Strategy],
                        shares: Mapping[str, float], seed: int,
                        arms: npt.ArrayLike | None = None) -> ExperimentAssignment:
    """Randomly split cases into arms and let each arm's strategy treat its cases.

    Each capacity is apportioned between arms in proportion to their shares (largest remainder),
    so the arms compete on equal terms and the total never exceeds the channel's capacity.

    Parameters
    ----------
    problem : StrategyProblem
    strategies : mapping arm -> strategy
        E.g. ``{"champion": optimised_strategy, "challenger": RandomStrategy(seed=1)}``.
    shares : mapping arm -> share of cases (sums to 1)
    seed : int
        Seed of the random split (the same seed gives the same split).
    arms : array-like of str, optional
        Arm per case decided earlier (e.g. by :func:`split_arms` when the case entered the
        experiment, so that it keeps its arm over several periods); ``seed`` is then unused.
    """
    if set(strategies) != set(shares):
        raise StrategyError("strategies and shares must name the same arms")
    if arms is None:
        labels = split_arms(n=problem.n_cases, shares=shares, seed=seed)
    else:
        labels = np.asarray(arms).astype(str)
        if labels.shape != (problem.n_cases,) or not set(labels.tolist()) <= set(shares):
            raise StrategyError("arms must give a known arm per case")
    names = list(shares)
    weights = np.array([shares[a] for a in names], dtype=np.float64)
    split_caps: dict[str, list[Capacity]] = {a: [] for a in names}
    for cap in problem.capacities:
        for a, lim in zip(names, _apportion(cap.limit, weights), strict=True):
            split_caps[a].append(Capacity(cap.treatment, int(lim), cap.city))
    choice = np.zeros(problem.n_cases, dtype=np.int64)
    for a, w in zip(names, weights, strict=True):
        mask = labels == a
        if not mask.any():
            continue
        sub = problem.subset(mask=mask, capacities=split_caps[a])
        if problem.max_expected_complaints is not None:
            sub = sub.with_complaint_budget(max_expected=problem.max_expected_complaints * w)
        choice[mask] = strategies[a](sub)
    violations = problem.check(choice)
    if violations:
        raise StrategyError("; ".join(violations))
    return ExperimentAssignment(problem=problem, arms=labels, choice=choice)
