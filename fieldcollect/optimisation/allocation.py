"""Optimal allocation of collection cases to agencies (min-cost flow), with a champion/challenger holdout.

The problem
-----------
Each eligible pair (case *i*, agency *j*) has an expected net recovery ``v_ij`` in integer fen
(probability of recovery × amount − commission − cost). Each agency takes at most ``c_j`` cases;
optionally no agency takes more than a share ``α`` of the cases placed in the run. A case goes to at
most one agency and may stay unplaced; pairs with a value ≤ 0 are never placed; excluded pairs (the
agency that just returned the case) are removed. We maximise ``Σ v_ij x_ij``.

This is a transportation problem, solved exactly as a min-cost flow (OR-Tools ``SimpleMinCostFlow``)
on ``source → case (cap 1) → agency (cost −v, cap 1) → sink (cap c_j)`` plus a zero-cost
``source → sink`` bypass so that cases can stay unplaced: the capacitated-assignment kernel
:func:`fieldcollect.optimisation.flow.max_weight_assignment`, shared with the strategy engine.

Champion/challenger
-------------------
A share of the cases (chosen by ``seed``) is the *holdout*: each is placed uniformly at random among
its eligible agencies (positive value) that still have capacity, so scorecards can compare agencies
on cases that were not selected for them. The rest is placed optimally on the remaining capacity.

Optimality certificate
----------------------
``SimpleMinCostFlow`` does not expose its node potentials, so we rebuild them from the optimal flow:
the residual graph of a bipartite flow collapses to a difference-constraint system on the agency
prices ``p_j`` (plus a zero node), solved by Bellman–Ford on ``m + 1`` nodes. With ``u_i`` the case
surplus, the LP dual is ``min Σ u_i + Σ c_j p_j`` s.t. ``u_i + p_j ≥ v_ij``, ``u, p ≥ 0``. The
certificate checks every arc's reduced cost ``u_i + p_j − v_ij ≥ 0`` and that the dual objective
equals the primal objective; by weak duality the allocation is then optimal (for the capacities it
was solved with). :func:`lp_upper_bound` evaluates the dual bound for any prices.

Customer-level placement (groups)
----------------------------------
Optionally each case belongs to a *group* (the customer: all their open loans): a group is one
assignment unit. It goes whole to one agency or stays unplaced, never split across agencies; it may
go to agency ``j`` only if every case of the group has an (unexcluded) pair with ``j`` and the
group's value ``V_gj = Σ_i v_ij`` is positive; it takes ``size_g`` units of the agency's capacity (each
case counts). Without a group of two or more cases nothing changes (the flow above). With groups the
problem is a multiple-knapsack assignment, solved exactly in two steps:

1. its LP relaxation is a transportation problem (group ``g`` supplies ``size_g`` units, one unit at
   ``j`` is worth ``V_gj / size_g``): a min-cost flow on the values scaled by ``L = lcm(sizes)``. If
   that optimum places every group whole on one agency or not at all, it is optimal for the grouped
   problem too; the same dual certificate (agency prices rebuilt from the flow, dual objective
   weighted by the group sizes) proves it;
2. otherwise (the relaxation splits some customers) see "Large runs" below.

Large runs (bounded, exact where cheap)
---------------------------------------
A bank run has 100,000+ cases: CP-SAT on the whole grouped problem can take minutes. When the
relaxation splits customers, every customer it placed whole stays where it is; CP-SAT places only the
split customers on the capacity left (a basic transportation optimum splits at most one customer per
agency, so this is small); the customers still unplaced then go greedily, best value first, where
they fit. The relaxation's optimum is an upper bound on the grouped problem, so the result carries its
*gap* to that bound (``certificate.dual_fen − certificate.primal_fen``) and is called optimal only
when the gap is 0. If a gap is left and the problem is small (at most ``exact_max_pairs`` customer-agency
pairs), CP-SAT solves it whole, hinted with the repair; its proof makes it optimal. Every CP-SAT call
runs with one worker and a fixed seed, is limited by ``time_limit_s`` (CP-SAT's deterministic time,
so the same input gives the same answer, with the wall clock from the start of :func:`solve` as a
backstop) and, when the limit hits, returns the best whole solution found (at worst the repair's).

The holdout is drawn by group (a customer's loans are held out together).

Concentration limit
-------------------
``x_j ≤ α · (cases placed)`` depends on the solution. We solve with capacities
``min(c_j, ⌊α·P⌋)`` starting from ``P`` = number of placeable cases; if some agency exceeds ``α``
times the number actually placed, ``P`` becomes that number and we solve again. ``P`` strictly
decreases, so this terminates, and the returned allocation always satisfies the limit; it is optimal
(and certified) for the final effective capacities, reported in the result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from fieldcollect.optimisation.flow import max_weight_assignment, max_weight_sized_flow

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_INF = np.int64(1) << np.int64(60)
_I64_MIN = np.iinfo(np.int64).min

# Customer-level placement when the relaxation splits a customer (see :func:`solve`)
DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_EXACT_MAX_PAIRS = 2_000

__all__ = [
    "DEFAULT_EXACT_MAX_PAIRS",
    "DEFAULT_TIME_LIMIT_S",
    "AllocationBuilder",
    "AllocationProblem",
    "AllocationResult",
    "Certificate",
    "GreedyResult",
    "PlacementExplanation",
    "build_problem",
    "greedy",
    "grouped_relaxation_bound",
    "lp_upper_bound",
    "solve",
]


# --------------------------------------------------------------------------------------------- problem


@dataclass(frozen=True)
class AllocationProblem:
    """Immutable allocation instance (indices into ``case_ids`` / ``agency_ids``).

    Pairs are sorted by (case, agency), so the pairs of case ``i`` are
    ``case_offsets[i]:case_offsets[i + 1]``. Excluded pairs are already removed.
    """

    case_ids: np.ndarray
    agency_ids: np.ndarray
    pair_case: IntArray
    pair_agency: IntArray
    pair_value: IntArray
    capacity: IntArray
    max_share: Fraction | None = None
    n_excluded: int = 0
    case_offsets: IntArray = field(repr=False, default_factory=lambda: np.zeros(1, np.int64))
    # group index of each case (customer-level placement); ``None``: every case is its own group
    case_group: IntArray | None = field(repr=False, default=None)

    @property
    def grouped(self) -> bool:
        """True when some group holds two or more cases (the grouped solver is used)."""
        if self.case_group is None or not len(self.case_group):
            return False
        return bool(np.bincount(self.case_group).max() > 1)

    def group_sizes(self) -> IntArray:
        """Cases of each case's group (1 without groups)."""
        if self.case_group is None:
            return np.ones(self.n_cases, np.int64)
        return np.bincount(self.case_group)[self.case_group].astype(np.int64)

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    @property
    def n_agencies(self) -> int:
        return len(self.agency_ids)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_value)


def _as_array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    return arr


def build_problem(
    *,
    case_ids: Any,
    agency_ids: Any,
    values_fen: Any,
    capacity_agency_ids: Any,
    capacities: Any,
    excluded_case_ids: Any = None,
    excluded_agency_ids: Any = None,
    max_share: float | Fraction | None = None,
    group_case_ids: Any = None,
    group_ids: Any = None,
) -> AllocationProblem:
    """Validate the inputs and build an :class:`AllocationProblem`.

    Parameters
    ----------
    case_ids, agency_ids, values_fen
        One entry per eligible pair; values are integer fen (may be ≤ 0: such pairs are never placed).
    capacity_agency_ids, capacities
        One entry per agency (each agency at most once); every agency in a pair needs a capacity.
    excluded_case_ids, excluded_agency_ids
        Pairs that must never be placed (e.g. the agency that just returned the case).
    max_share
        Optional concentration limit: no agency takes more than this share of the placed cases.
    group_case_ids, group_ids
        Optional customer-level placement: case ``group_case_ids[k]`` belongs to group ``group_ids[k]``
        (e.g. the customer id); the cases of a group go whole to one agency or stay unplaced. A case
        not listed is its own group; listed cases without a pair are ignored.

    Raises
    ------
    ValueError
        On length mismatches, non-integer values, negative capacities, duplicate pairs or agencies,
        or agencies without a capacity.
    """
    c_raw = _as_array(case_ids, "case_ids")
    a_raw = _as_array(agency_ids, "agency_ids")
    v_raw = _as_array(values_fen, "values_fen")
    if not (len(c_raw) == len(a_raw) == len(v_raw)):
        raise ValueError("case_ids, agency_ids and values_fen must have the same length")
    if len(v_raw) and not np.issubdtype(v_raw.dtype, np.integer):
        raise ValueError("values_fen must be integers (fen)")
    values = v_raw.astype(np.int64, copy=False)
    cap_ids = _as_array(capacity_agency_ids, "capacity_agency_ids")
    caps_raw = _as_array(capacities, "capacities")
    if len(cap_ids) != len(caps_raw):
        raise ValueError("capacity_agency_ids and capacities must have the same length")
    if len(caps_raw) and not np.issubdtype(caps_raw.dtype, np.integer):
        raise ValueError("capacities must be integers")
    if len(caps_raw) and caps_raw.min() < 0:
        raise ValueError("capacities must be >= 0")
    if max_share is not None:
        share = Fraction(str(max_share)) if isinstance(max_share, float) else Fraction(max_share)
        if not (0 < share <= 1):
            raise ValueError("max_share must be in (0, 1]")
    else:
        share = None

    order = np.argsort(cap_ids, kind="stable")
    agencies = cap_ids[order]
    if len(agencies) > 1 and np.any(agencies[1:] == agencies[:-1]):
        dup = agencies[1:][agencies[1:] == agencies[:-1]][0]
        raise ValueError(f"agency {dup!r} has more than one capacity")
    capacity = caps_raw[order].astype(np.int64)
    m = len(agencies)

    if m == 0 and len(a_raw):
        raise ValueError("pairs refer to agencies but no capacity was given")
    a_idx = np.searchsorted(agencies, a_raw).astype(np.int64)
    if len(a_raw):
        a_clip = np.minimum(a_idx, m - 1)
        bad = agencies[a_clip] != a_raw
        if bad.any():
            raise ValueError(f"agency {a_raw[np.flatnonzero(bad)[0]]!r} has no capacity")
        a_idx = a_clip

    cases, c_idx = np.unique(c_raw, return_inverse=True)
    c_idx = c_idx.astype(np.int64).reshape(-1)
    key = c_idx * max(m, 1) + a_idx
    order = np.argsort(key, kind="stable")
    key = key[order]
    if len(key) > 1:
        dup_mask = key[1:] == key[:-1]
        if dup_mask.any():
            k = int(key[1:][dup_mask][0])
            raise ValueError(f"pair (case {cases[k // m]!r}, agency {agencies[k % m]!r}) appears more than once")
    c_idx, a_idx, values = c_idx[order], a_idx[order], values[order]

    n_excluded = 0
    if excluded_case_ids is not None or excluded_agency_ids is not None:
        ec = _as_array(excluded_case_ids if excluded_case_ids is not None else [], "excluded_case_ids")
        ea = _as_array(excluded_agency_ids if excluded_agency_ids is not None else [], "excluded_agency_ids")
        if len(ec) != len(ea):
            raise ValueError("excluded_case_ids and excluded_agency_ids must have the same length")
        if len(ec) and len(cases) and m:
            ci = np.minimum(np.searchsorted(cases, ec), len(cases) - 1)
            ai = np.minimum(np.searchsorted(agencies, ea), m - 1)
            known = (cases[ci] == ec) & (agencies[ai] == ea)
            ex_key = ci[known].astype(np.int64) * m + ai[known]
            drop = np.isin(key, ex_key)
            n_excluded = int(drop.sum())
            keep = ~drop
            c_idx, a_idx, values = c_idx[keep], a_idx[keep], values[keep]

    offsets = np.zeros(len(cases) + 1, np.int64)
    np.cumsum(np.bincount(c_idx, minlength=len(cases)), out=offsets[1:])
    case_group = _case_groups(cases, group_case_ids, group_ids)
    return AllocationProblem(
        case_ids=cases,
        agency_ids=agencies,
        pair_case=c_idx,
        pair_agency=a_idx,
        pair_value=values,
        capacity=capacity,
        max_share=share,
        n_excluded=n_excluded,
        case_offsets=offsets,
        case_group=case_group,
    )


def _case_groups(cases: np.ndarray, group_case_ids: Any, group_ids: Any) -> IntArray | None:
    """Group index of each case (groups numbered from 0; an unlisted case is a group of its own)."""
    if group_case_ids is None and group_ids is None:
        return None
    gc = _as_array(group_case_ids if group_case_ids is not None else [], "group_case_ids")
    gk = _as_array(group_ids if group_ids is not None else [], "group_ids")
    if len(gc) != len(gk):
        raise ValueError("group_case_ids and group_ids must have the same length")
    n = len(cases)
    if n == 0:
        return np.zeros(0, np.int64)
    if len(np.unique(gc)) != len(gc):
        raise ValueError("a case is listed in more than one group")
    ci = np.minimum(np.searchsorted(cases, gc), n - 1) if len(gc) else np.zeros(0, np.int64)
    known = cases[ci] == gc if len(gc) else np.zeros(0, bool)
    # listed cases take their group key; the others a key of their own (after every listed key)
    _keys, listed_group = np.unique(gk[known], return_inverse=True)
    group = np.full(n, -1, np.int64)
    group[ci[known]] = listed_group.reshape(-1)
    alone = np.flatnonzero(group < 0)
    group[alone] = len(_keys) + np.arange(len(alone))
    # renumber in order of first case, so that group numbers do not depend on the key type
    _u, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


class AllocationBuilder:
    """Collect pairs, capacities, exclusions and a concentration limit, then :meth:`build`.

    Examples
    --------
    >>> b = AllocationBuilder()
    >>> _ = b.add_pairs(case_ids=[1, 1, 2], agency_ids=["A", "B", "A"], values_fen=[500, 400, 200])
    >>> _ = b.set_capacities(agency_ids=["A", "B"], capacities=[1, 1])
    >>> solve(b.build()).objective_fen
    600
    """

    def __init__(self) -> None:
        self._pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._caps: list[tuple[np.ndarray, np.ndarray]] = []
        self._excluded: list[tuple[np.ndarray, np.ndarray]] = []
        self._max_share: float | Fraction | None = None
        self._groups: list[tuple[np.ndarray, np.ndarray]] = []

    def add_pairs(self, *, case_ids: Any, agency_ids: Any, values_fen: Any) -> AllocationBuilder:
        """Add eligible pairs with their expected net value in fen."""
        self._pairs.append((np.asarray(case_ids), np.asarray(agency_ids), np.asarray(values_fen)))
        return self

    def set_capacities(self, *, agency_ids: Any, capacities: Any) -> AllocationBuilder:
        """Add agencies with their capacity (number of cases they can take)."""
        self._caps.append((np.asarray(agency_ids), np.asarray(capacities)))
        return self

    def exclude(self, *, case_ids: Any, agency_ids: Any) -> AllocationBuilder:
        """Never place these pairs (e.g. the agency that just returned the case)."""
        self._excluded.append((np.asarray(case_ids), np.asarray(agency_ids)))
        return self

    def set_concentration_limit(self, *, max_share: float | Fraction | None) -> AllocationBuilder:
        """No agency may take more than ``max_share`` of the placed cases (``None`` = no limit)."""
        self._max_share = max_share
        return self

    def set_groups(self, *, case_ids: Any, group_ids: Any) -> AllocationBuilder:
        """Customer-level placement: the cases of one group go whole to one agency (or stay unplaced)."""
        self._groups.append((np.asarray(case_ids), np.asarray(group_ids)))
        return self

    def build(self) -> AllocationProblem:
        def cat(parts: Sequence[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)

        return build_problem(
            case_ids=cat([p[0] for p in self._pairs]),
            agency_ids=cat([p[1] for p in self._pairs]),
            values_fen=cat([p[2] for p in self._pairs]),
            capacity_agency_ids=cat([c[0] for c in self._caps]),
            capacities=cat([c[1] for c in self._caps]),
            excluded_case_ids=cat([e[0] for e in self._excluded]) if self._excluded else None,
            excluded_agency_ids=cat([e[1] for e in self._excluded]) if self._excluded else None,
            max_share=self._max_share,
            group_case_ids=cat([g[0] for g in self._groups]) if self._groups else None,
            group_ids=cat([g[1] for g in self._groups]) if self._groups else None,
        )


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Certificate:
    """Dual certificate of the optimised (non-holdout) part.

    ``optimal`` is true when every arc has a non-negative reduced cost (dual feasible) and the dual
    objective equals the primal objective: by weak duality no allocation can do better.
    """

    primal_fen: int
    dual_fen: int
    min_reduced_cost_fen: int
    optimal: bool

    @property
    def gap_fen(self) -> int:
        """Proven bound less the objective (fen): no allocation is worth more than ``primal + gap``."""
        return self.dual_fen - self.primal_fen

    @property
    def gap_ratio(self) -> float:
        """``gap_fen`` relative to the bound (0.0 when optimal or when the bound is not positive)."""
        return self.gap_fen / self.dual_fen if self.dual_fen > 0 else 0.0


@dataclass(frozen=True)
class PlacementExplanation:
    """Why a case went where it went."""

    case_id: Any
    agency_id: Any
    value_fen: int
    holdout: bool
    n_eligible: int
    agency_shadow_price_fen: int
    best_alternative_agency_id: Any | None
    best_alternative_value_fen: int | None
    best_alternative_shadow_price_fen: int | None

    def text(self) -> str:
        """One sentence a collections manager can read."""
        v = _cny(self.value_fen)
        if self.holdout:
            return (
                f"Case {self.case_id} is in the champion/challenger holdout: placed at random with agency "
                f"{self.agency_id} among {self.n_eligible} eligible agencies (expected net {v} CNY)."
            )
        head = (
            f"Case {self.case_id} went to agency {self.agency_id}: expected net {v} CNY, less the agency's "
            f"capacity opportunity cost {_cny(self.agency_shadow_price_fen)} CNY"
            f" = {_cny(self.value_fen - self.agency_shadow_price_fen)} CNY."
        )
        if self.best_alternative_agency_id is None:
            return head + " No other eligible agency."
        assert self.best_alternative_value_fen is not None and self.best_alternative_shadow_price_fen is not None
        alt_net = self.best_alternative_value_fen - self.best_alternative_shadow_price_fen
        return head + (
            f" Best alternative {self.best_alternative_agency_id}: {_cny(self.best_alternative_value_fen)} CNY"
            f" less {_cny(self.best_alternative_shadow_price_fen)} CNY = {_cny(alt_net)} CNY."
        )


def _cny(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(int(fen)), 100)
    return f"{sign}{q}.{r:02d}"


@dataclass(frozen=True)
class AllocationResult:
    """Outcome of :func:`solve`.

    ``assigned[i]`` is the agency index of case ``i`` (``-1`` = unplaced); ``holdout[i]`` marks the cases
    drawn into the holdout (placed or not). Objectives are integer fen.
    """

    problem: AllocationProblem = field(repr=False)
    assigned: IntArray = field(repr=False)
    holdout: BoolArray = field(repr=False)
    objective_fen: int
    holdout_objective_fen: int
    optimised_objective_fen: int
    effective_capacity: IntArray = field(repr=False)
    agency_price_fen: IntArray = field(repr=False)
    case_surplus_fen: IntArray = field(repr=False)
    certificate: Certificate
    iterations: int
    seconds: float
    flow_rounds: int = 1
    flow_arcs: int = 0
    # how the optimised part was solved: "relaxation" (flow, certified), "cp-sat" (the whole grouped
    # problem) or "repair" (split customers only); and whether a time limit stopped CP-SAT
    solved_by: str = "relaxation"
    time_limit_hit: bool = False

    @property
    def n_placed(self) -> int:
        return int((self.assigned >= 0).sum())

    @property
    def n_holdout_placed(self) -> int:
        return int(((self.assigned >= 0) & self.holdout).sum())

    def agency_counts(self) -> IntArray:
        """Cases placed per agency (indexed like ``problem.agency_ids``)."""
        placed = self.assigned[self.assigned >= 0]
        return np.bincount(placed, minlength=self.problem.n_agencies).astype(np.int64)

    def placements(self) -> tuple[np.ndarray, np.ndarray]:
        """``(case_ids, agency_ids)`` of the placed cases."""
        idx = np.flatnonzero(self.assigned >= 0)
        return self.problem.case_ids[idx], self.problem.agency_ids[self.assigned[idx]]

    def validate(self) -> None:
        """Raise ``ValueError`` unless every constraint holds and the objective adds up."""
        p = self.problem
        counts = self.agency_counts()
        if np.any(counts > p.capacity):
            raise ValueError("an agency is over capacity")
        if np.any(counts > self.effective_capacity):
            raise ValueError("an agency is over its effective capacity")
        placed = np.flatnonzero(self.assigned >= 0)
        if p.max_share is not None and len(placed):
            limit = math.floor(p.max_share * len(placed))
            if np.any(counts > limit):
                raise ValueError("concentration limit violated")
        values = _assigned_values(p, self.assigned)
        if p.grouped:
            assert p.case_group is not None
            if np.any(values[placed] == _I64_MIN):
                raise ValueError("a placed pair is not eligible")
            g = p.case_group
            n_g = int(g.max()) + 1
            lo = np.full(n_g, np.iinfo(np.int64).max, np.int64)
            hi = np.full(n_g, -2, np.int64)
            np.minimum.at(lo, g, self.assigned)
            np.maximum.at(hi, g, self.assigned)
            if np.any(lo != hi):
                raise ValueError("a customer's cases are split (across agencies, or placed in part)")
            group_value = np.zeros(n_g, np.int64)
            np.add.at(group_value, g[placed], values[placed])
            if np.any(group_value[np.unique(g[placed])] <= 0):
                raise ValueError("a placed group has a value <= 0")
        elif np.any(values[placed] <= 0):
            raise ValueError("a placed pair is not eligible or has a value <= 0")
        if int(values[placed].sum()) != self.objective_fen:
            raise ValueError("objective does not match the placements")

    def explain(self, case_id: Any) -> PlacementExplanation | None:
        """Explanation for one placed case (``None`` if the case is not placed)."""
        p = self.problem
        i = int(np.searchsorted(p.case_ids, case_id))
        if i >= p.n_cases or p.case_ids[i] != case_id:
            raise KeyError(case_id)
        j = int(self.assigned[i])
        if j < 0:
            return None
        lo, hi = int(p.case_offsets[i]), int(p.case_offsets[i + 1])
        ag, val = p.pair_agency[lo:hi], p.pair_value[lo:hi]
        own = int(val[ag == j][0])
        others = (ag != j) & (val > 0)
        alt_id = alt_v = alt_p = None
        if others.any():
            k = int(np.flatnonzero(others)[np.argmax(val[others])])
            alt_id = p.agency_ids[ag[k]]
            alt_v = int(val[k])
            alt_p = int(self.agency_price_fen[ag[k]])
        return PlacementExplanation(
            case_id=p.case_ids[i],
            agency_id=p.agency_ids[j],
            value_fen=own,
            holdout=bool(self.holdout[i]),
            n_eligible=int((val > 0).sum()),
            agency_shadow_price_fen=int(self.agency_price_fen[j]),
            best_alternative_agency_id=alt_id,
            best_alternative_value_fen=alt_v,
            best_alternative_shadow_price_fen=alt_p,
        )

    def explanations(self) -> dict[str, np.ndarray]:
        """Explanation columns for every placed case (vectorised; alternative index ``-1`` = none).

        Keys: ``case``, ``agency``, ``value_fen``, ``holdout``, ``agency_shadow_price_fen``,
        ``case_surplus_fen``, ``best_alternative_agency`` (index or -1), ``best_alternative_value_fen``.
        """
        p = self.problem
        placed = np.flatnonzero(self.assigned >= 0)
        own = _assigned_values(p, self.assigned)
        mask = (self.assigned[p.pair_case] >= 0) & (p.pair_agency != self.assigned[p.pair_case]) & (p.pair_value > 0)
        best = np.full(p.n_cases, _I64_MIN, np.int64)
        np.maximum.at(best, p.pair_case[mask], p.pair_value[mask])
        hit = np.flatnonzero(mask & (p.pair_value == best[p.pair_case]))
        alt = np.full(p.n_cases, -1, np.int64)
        alt[p.pair_case[hit[::-1]]] = p.pair_agency[hit[::-1]]  # first alternative wins
        return {
            "case": placed,
            "agency": self.assigned[placed],
            "value_fen": own[placed],
            "holdout": self.holdout[placed],
            "agency_shadow_price_fen": self.agency_price_fen[self.assigned[placed]],
            "case_surplus_fen": self.case_surplus_fen[placed],
            "best_alternative_agency": alt[placed],
            "best_alternative_value_fen": np.where(alt[placed] >= 0, best[placed], 0),
            # customer-level placement: cases of the case's group (placed together) and their value
            "group_size": p.group_sizes()[placed],
            "group_value_fen": self.group_values()[placed],
        }

    def group_values(self) -> IntArray:
        """Value of each case's group at its agency (the case's own value without groups; 0 unplaced)."""
        p = self.problem
        own = _assigned_values(p, self.assigned)
        own = np.where(self.assigned >= 0, own, 0)
        if p.case_group is None:
            return own
        total = np.zeros(int(p.case_group.max()) + 1 if len(p.case_group) else 0, np.int64)
        np.add.at(total, p.case_group, own)
        return total[p.case_group]

    def unplaceable_groups(self) -> BoolArray:
        """Cases in a group of two or more that no agency may take whole (some case of the group has no
        pair with each agency, or the group's value there is not positive)."""
        p = self.problem
        if not p.grouped:
            return np.zeros(p.n_cases, bool)
        units = _group_units(p)
        ok = np.zeros(units.n_groups, bool)
        ok[units.group[units.value > 0]] = True
        assert p.case_group is not None
        return (~ok[p.case_group]) & (p.group_sizes() > 1)

    def summary(self) -> str:
        return (
            f"placed {self.n_placed}/{self.problem.n_cases} cases ({self.n_holdout_placed} holdout), "
            f"objective {_cny(self.objective_fen)} CNY, optimal part certified: {self.certificate.optimal}, "
            f"gap to bound {_cny(self.certificate.gap_fen)} CNY ({100 * self.certificate.gap_ratio:.4f}%), "
            f"{self.seconds:.2f} s"
        )


def _assigned_values(p: AllocationProblem, assigned: IntArray) -> IntArray:
    """Value of each case's assigned pair (0 for unplaced; ``_I64_MIN`` if the pair does not exist)."""
    out = np.zeros(p.n_cases, np.int64)
    placed = assigned >= 0
    out[placed] = _I64_MIN
    hit = (assigned[p.pair_case] == p.pair_agency)
    out[p.pair_case[hit]] = p.pair_value[hit]
    return out


# --------------------------------------------------------------------------------------------- solving


def solve(
    problem: AllocationProblem, *, holdout_share: float = 0.0, seed: int = 0,
    first_arcs_per_case: int | None = None, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    exact_max_pairs: int = DEFAULT_EXACT_MAX_PAIRS,
) -> AllocationResult:
    """Place cases: a random holdout share, the rest by min-cost flow (maximum total value).

    Parameters
    ----------
    problem
        The instance from :func:`build_problem` or :class:`AllocationBuilder`.
    holdout_share
        Share of the cases (rounded to the nearest case) drawn by ``seed`` into the holdout and
        placed uniformly at random among their eligible agencies with remaining capacity.
    seed
        Seed of the holdout draw; the same seed gives the same holdout and the same placements.
    first_arcs_per_case
        ``None`` (default): one flow on all pairs. A number: the first flow uses only each case's
        best pairs and more are added while the dual certificate finds a pair with a negative
        reduced cost (same result; can be faster when few pairs per case matter).
    time_limit_s
        Customer-level placement only: time allowed to the integer steps (CP-SAT) when the relaxation
        splits a customer (default :data:`DEFAULT_TIME_LIMIT_S`). When it runs out the best whole
        solution found is returned, with its gap to the bound in ``certificate``.
    exact_max_pairs
        Customer-level placement only: when the repair leaves a gap, CP-SAT solves the whole problem if
        it has at most this many (customer, agency) pairs (default :data:`DEFAULT_EXACT_MAX_PAIRS`).

    Returns
    -------
    AllocationResult
        Assignment, objectives, agency shadow prices and the optimality certificate.
    """
    if not (0.0 <= holdout_share <= 1.0):
        raise ValueError("holdout_share must be in [0, 1]")
    if first_arcs_per_case is not None and first_arcs_per_case < 1:
        raise ValueError("first_arcs_per_case must be >= 1")
    if not time_limit_s > 0:
        raise ValueError("time_limit_s must be > 0")
    if exact_max_pairs < 0:
        raise ValueError("exact_max_pairs must be >= 0")
    t0 = time.perf_counter()
    p = problem
    if p.grouped:
        limits = _Limits(time_limit_s=time_limit_s, exact_max_pairs=exact_max_pairs, deadline=t0 + time_limit_s)
        return _solve_grouped(p, holdout_share=holdout_share, seed=seed, t0=t0, limits=limits)
    n, m = p.n_cases, p.n_agencies
    positive = p.pair_value > 0
    has_positive = np.zeros(n, bool)
    has_positive[p.pair_case[positive]] = True

    holdout, h_order, draws = _draw_holdout(n, holdout_share, seed)

    target = int(has_positive.sum())
    iterations = 0
    while True:
        iterations += 1
        caps = _effective_caps(p, target)
        assigned = np.full(n, -1, np.int64)
        remaining = caps.copy()
        _place_holdout(p.case_offsets, p.pair_agency, p.pair_value, None, h_order, draws, remaining, assigned)
        opt = _solve_flow(p, ~holdout, remaining, assigned, positive, first_arcs_per_case=first_arcs_per_case)
        target_next = _over_concentration(p, assigned, m)
        if target_next is None:
            break
        target = target_next  # strictly smaller than before: see the module docstring

    _, hold_obj, opt_obj = _objectives(p, assigned, holdout)
    return AllocationResult(
        problem=p,
        assigned=assigned,
        holdout=holdout,
        objective_fen=hold_obj + opt_obj,
        holdout_objective_fen=hold_obj,
        optimised_objective_fen=opt_obj,
        effective_capacity=caps,
        agency_price_fen=opt.prices,
        case_surplus_fen=opt.surplus,
        certificate=opt.certificate,
        iterations=iterations,
        seconds=time.perf_counter() - t0,
        flow_rounds=opt.rounds,
        flow_arcs=opt.arcs,
    )


def _draw_holdout(n: int, holdout_share: float, seed: int) -> tuple[BoolArray, IntArray, np.ndarray]:
    """The holdout among ``n`` items (cases, or groups): its mask, its items in draw order, and one uniform
    draw per item that picks its agency (:func:`_place_holdout`)."""
    holdout = np.zeros(n, bool)
    h_order = np.zeros(0, np.int64)
    draws = np.zeros(0)
    if holdout_share > 0 and n:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        n_h = math.floor(holdout_share * n + 0.5)
        h_order = perm[:n_h].astype(np.int64)
        draws = rng.random(n_h)
        holdout[h_order] = True
    return holdout, h_order, draws


def _effective_caps(p: AllocationProblem, target: int) -> IntArray:
    """Each agency's capacity, cut to the concentration limit's share of ``target`` placed cases."""
    caps = p.capacity.copy()
    if p.max_share is not None:
        caps = np.minimum(caps, math.floor(p.max_share * target))
    return caps


def _over_concentration(p: AllocationProblem, assigned: IntArray, m: int) -> int | None:
    """``None`` when no agency holds more than its share of the placed cases, else the number placed (the
    next, strictly smaller target: see the module docstring)."""
    counts = np.bincount(assigned[assigned >= 0], minlength=m)
    placed = int((assigned >= 0).sum())
    if p.max_share is None or not np.any(counts > math.floor(p.max_share * placed)):
        return None
    return placed


def _objectives(p: AllocationProblem, assigned: IntArray, holdout: BoolArray) -> tuple[IntArray, int, int]:
    """Each case's own value, and the objective of the placed holdout and of the placed optimised cases."""
    own = _assigned_values(p, assigned)
    hold_obj = int(own[holdout & (assigned >= 0)].sum())
    opt_obj = int(own[~holdout & (assigned >= 0)].sum())
    return own, hold_obj, opt_obj


def _place_holdout(
    offsets: IntArray, agency: IntArray, value: IntArray, size: IntArray | None,
    order: IntArray, draws: np.ndarray, remaining: IntArray, assigned: IntArray,
) -> None:
    """Place holdout items (in ``order``; item ``i`` owns pairs ``offsets[i]:offsets[i + 1]``) at random
    among positive-value agencies with room left for the item's ``size`` (1 when ``None``); takes the room
    from ``remaining``."""
    for i, u in zip(order.tolist(), draws.tolist(), strict=True):
        lo, hi = offsets[i], offsets[i + 1]
        need = 1 if size is None else size[i]
        ag = agency[lo:hi]
        cands = ag[(value[lo:hi] > 0) & (remaining[ag] >= need)]
        if len(cands):
            j = int(cands[int(u * len(cands))])
            assigned[i] = j
            remaining[j] -= need


@dataclass(frozen=True)
class _FlowOutcome:
    prices: IntArray
    surplus: IntArray
    certificate: Certificate
    rounds: int = 1
    arcs: int = 0
    solved_by: str = "relaxation"
    time_limit_hit: bool = False


def _rank_within_case(local: IntArray, sv: IntArray) -> IntArray:
    """Rank of each pair by decreasing value within its case (pairs grouped by case)."""
    if not len(sv):
        return np.zeros(0, np.int64)
    lo, hi = int(sv.min()), int(sv.max())
    span = hi - lo + 1
    if (int(local[-1]) + 1) * span < (1 << 62):
        order = np.argsort(local * span + (hi - sv), kind="stable")
    else:
        order = np.lexsort((-sv, local))
    starts = np.zeros(int(local[-1]) + 2, np.int64)
    np.cumsum(np.bincount(local), out=starts[1:])
    rank = np.empty(len(sv), np.int64)
    rank[order] = np.arange(len(sv)) - starts[local[order]]
    return rank


def _solve_flow(
    p: AllocationProblem, case_mask: BoolArray, residual: IntArray, assigned: IntArray, positive: BoolArray,
    *, first_arcs_per_case: int | None = None,
) -> _FlowOutcome:
    """Optimal placement of the cases in ``case_mask`` within ``residual`` capacities; fills ``assigned``.

    Optional pricing loop (exact): solve the flow on each case's ``first_arcs_per_case`` best pairs, then check
    the dual certificate on *all* pairs. If some pair has a negative reduced cost under the prices
    of the restricted optimum, add those pairs and solve again; stop when the certificate holds on
    every pair (then the restricted optimum is optimal for the full problem).
    """
    n, m = p.n_cases, p.n_agencies
    sel = positive & case_mask[p.pair_case] & (residual[p.pair_agency] > 0)
    sc, sa, sv = p.pair_case[sel], p.pair_agency[sel], p.pair_value[sel]
    if len(sc):
        new_case = np.empty(len(sc), bool)
        new_case[0] = True
        np.not_equal(sc[1:], sc[:-1], out=new_case[1:])
        local = np.cumsum(new_case) - 1
        case_of_local = sc[new_case]
    else:
        local = np.zeros(0, np.int64)
        case_of_local = np.zeros(0, np.int64)
    nc = len(case_of_local)
    if len(sv) and int(sv.max()) > (1 << 62) // (nc + m + 3) // 4:
        raise ValueError("values too large for exact min-cost flow; use fen below 10^12")
    # price for agencies the flow tells nothing about (e.g. no room left): their highest pair value
    top = np.zeros(m, np.int64)
    np.maximum.at(top, p.pair_agency[positive], p.pair_value[positive])

    if first_arcs_per_case is None:
        active = np.ones(len(sv), bool)
    else:
        active = _rank_within_case(local, sv) < first_arcs_per_case
    rounds = 0
    while True:
        rounds += 1
        idx = np.flatnonzero(active)
        chosen, primal = max_weight_assignment(local[idx], sa[idx], sv[idx], n_items=nc, capacity=residual)
        assigned[case_of_local] = -1
        assigned[sc[idx[chosen]]] = sa[idx[chosen]]
        full = _certify(sc, sa, sv, assigned, residual, m, n, primal, top)
        if full.certificate.optimal or active.all():
            return _FlowOutcome(full.prices, full.surplus, full.certificate, rounds, len(idx))
        restricted = _certify(sc[idx], sa[idx], sv[idx], assigned, residual, m, n, primal, top)
        violated = (restricted.surplus[sc] + restricted.prices[sa] - sv < 0) & ~active
        if violated.any():
            active |= violated
        else:  # cannot happen when the restricted certificate holds; be safe
            active[:] = True


def _certify(
    sc: IntArray, sa: IntArray, sv: IntArray, assigned: IntArray, residual: IntArray, m: int, n: int, primal: int,
    top: IntArray, item_size: IntArray | None = None,
) -> _FlowOutcome:
    """Rebuild agency prices from the flow and check dual feasibility and equal objectives.

    ``item_size`` (groups): item ``i`` takes ``item_size[i]`` units of capacity and ``sv`` is the value of one
    unit; the dual objective is ``Σ size_i u_i + Σ c_j p_j`` (the transportation LP)."""
    zero = m  # index of the zero-price node
    size = m + 1
    w = np.full(size * size, _INF, np.int64)
    own_agency = assigned[sc]
    placed_pair = own_agency >= 0
    own_value = np.zeros(n, np.int64)
    hit = own_agency == sa
    own_value[sc[hit]] = sv[hit]
    # placed case i at j, other eligible k: p_j - p_k <= v_ij - v_ik   (edge k -> j)
    other = placed_pair & ~hit
    np.minimum.at(w, sa[other] * size + own_agency[other], own_value[sc[other]] - sv[other])
    # placed case i at j: u_i >= 0  =>  p_j - p_zero <= v_ij            (edge zero -> j)
    np.minimum.at(w, zero * size + sa[hit], sv[hit])
    # unplaced case i eligible at k: v_ik - p_k <= 0  =>  p_zero - p_k <= -v_ik   (edge k -> zero)
    unpl = ~placed_pair
    np.minimum.at(w, sa[unpl] * size + zero, -sv[unpl])
    w2 = w.reshape(size, size)
    if item_size is None:
        counts = np.bincount(sa[hit], minlength=m)
    else:
        counts = np.zeros(m, np.int64)
        np.add.at(counts, sa[hit], item_size[sc[hit]])
    idx = np.arange(m)
    w2[idx, zero] = np.minimum(w2[idx, zero], 0)  # p_j >= 0
    not_full = counts < residual
    w2[zero, idx[not_full]] = np.minimum(w2[zero, idx[not_full]], 0)  # p_j <= 0 when capacity is left
    np.fill_diagonal(w2, 0)

    d = w2[zero].copy()
    d[zero] = 0
    converged = False
    finite_w = w2 < _INF
    for _ in range(size + 1):
        reach = (d < _INF)[:, None] & finite_w
        cand = np.where(reach, d[:, None] + np.where(reach, w2, 0), _INF)
        nd = np.minimum(d, cand.min(axis=0))
        if np.array_equal(nd, d):
            converged = True
            break
        d = nd
    prices = d[:m].copy()
    # agencies no placed case reaches (no room, or no eligible placed case): any large price is feasible
    unreachable = prices >= _INF
    prices[unreachable] = top[unreachable]
    if not converged or d[zero] < 0:
        prices = np.maximum(prices, 0)

    surplus = np.zeros(n, np.int64)
    placed_cases = sc[hit]
    surplus[placed_cases] = sv[hit] - prices[sa[hit]]
    reduced = surplus[sc] + prices[sa] - sv
    min_reduced = int(min(reduced.min() if len(reduced) else 0, surplus.min() if n else 0, prices.min() if m else 0))
    weighted = surplus if item_size is None else surplus * item_size
    dual = int(weighted.sum()) + int((np.maximum(residual, 0) * prices).sum())
    cert = Certificate(primal_fen=primal, dual_fen=dual, min_reduced_cost_fen=min_reduced,
                       optimal=converged and min_reduced >= 0 and dual == primal)
    return _FlowOutcome(prices=prices, surplus=surplus, certificate=cert)


# --------------------------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class _Units:
    """The groups as assignment units: ``size`` per group and the (group, agency) pairs every case of
    the group has, with the group's value there (sorted by group, then agency)."""

    n_groups: int
    size: IntArray
    group: IntArray
    agency: IntArray
    value: IntArray


def _group_units(p: AllocationProblem) -> _Units:
    assert p.case_group is not None
    g = p.case_group
    n_groups = int(g.max()) + 1 if len(g) else 0
    size = np.bincount(g, minlength=n_groups).astype(np.int64)
    m = max(p.n_agencies, 1)
    key = g[p.pair_case] * m + p.pair_agency
    keys, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    members = np.bincount(inverse, minlength=len(keys))
    value = np.zeros(len(keys), np.int64)
    np.add.at(value, inverse, p.pair_value)
    ug = keys // m
    whole = members == size[ug]  # every case of the group has this agency
    return _Units(n_groups=n_groups, size=size, group=ug[whole], agency=keys[whole] % m, value=value[whole])


def _solve_grouped(
    p: AllocationProblem, *, holdout_share: float, seed: int, t0: float, limits: _Limits,
) -> AllocationResult:
    """:func:`solve` with groups: units drawn into the holdout, the rest exactly (module docstring)."""
    assert p.case_group is not None
    u = _group_units(p)
    n_g, m = u.n_groups, p.n_agencies
    positive = u.value > 0
    has_positive = np.zeros(n_g, bool)
    has_positive[u.group[positive]] = True
    offsets = np.zeros(n_g + 1, np.int64)
    np.cumsum(np.bincount(u.group, minlength=n_g), out=offsets[1:])

    holdout_g, h_order, draws = _draw_holdout(n_g, holdout_share, seed)

    target = int(u.size[has_positive].sum())
    iterations = 0
    limit_hit = False
    while True:
        iterations += 1
        caps = _effective_caps(p, target)
        assigned_g = np.full(n_g, -1, np.int64)
        remaining = caps.copy()
        _place_holdout(offsets, u.agency, u.value, u.size, h_order, draws, remaining, assigned_g)
        opt = _solve_units(u, ~holdout_g, remaining, assigned_g, positive, limits)
        limit_hit |= opt.time_limit_hit
        assigned = assigned_g[p.case_group]
        target_next = _over_concentration(p, assigned, m)
        if target_next is None:
            break
        target = target_next  # strictly smaller than before: see the module docstring

    holdout = holdout_g[p.case_group]
    own, hold_obj, opt_obj = _objectives(p, assigned, holdout)
    # a case's surplus: its own value less the price of the capacity it takes
    surplus = np.where(assigned >= 0, own - opt.prices[np.maximum(assigned, 0)], 0)
    return AllocationResult(
        problem=p, assigned=assigned, holdout=holdout, objective_fen=hold_obj + opt_obj,
        holdout_objective_fen=hold_obj, optimised_objective_fen=opt_obj, effective_capacity=caps,
        agency_price_fen=opt.prices, case_surplus_fen=surplus, certificate=opt.certificate,
        iterations=iterations, seconds=time.perf_counter() - t0, flow_rounds=opt.rounds, flow_arcs=opt.arcs,
        solved_by=opt.solved_by, time_limit_hit=limit_hit,
    )


def _solve_units(
    u: _Units, mask: BoolArray, residual: IntArray, assigned_g: IntArray, positive: BoolArray, limits: _Limits,
) -> _FlowOutcome:
    """Optimal placement of the units in ``mask`` within ``residual``; fills ``assigned_g``.

    Prices are in fen per case (unit of capacity). ``rounds`` is 1 when the relaxation was whole, 2 when
    CP-SAT decided."""
    m = len(residual)
    sel = positive & mask[u.group] & (residual[u.agency] >= u.size[u.group])
    sg, sa, sv = u.group[sel], u.agency[sel], u.value[sel]
    if not len(sg):
        cert = Certificate(primal_fen=0, dual_fen=0, min_reduced_cost_fen=0, optimal=True)
        return _FlowOutcome(np.zeros(m, np.int64), np.zeros(u.n_groups, np.int64), cert, 1, 0)
    local_ids, local = np.unique(sg, return_inverse=True)
    local = local.reshape(-1)
    size = u.size[local_ids]
    scale = math.lcm(*{int(x) for x in size.tolist()})
    w = sv * (scale // size[local])  # value of one unit of capacity, scaled by lcm(sizes)
    if int(np.abs(w).max()) > (1 << 62) // (len(local_ids) + m + 3) // 4 // int(size.max()):
        raise ValueError("values too large for exact min-cost flow; use fen below 10^12")
    units, relaxed = max_weight_sized_flow(local, sa, w, size=size, capacity=residual)
    whole = units == size[local]
    in_part = (units > 0) & ~whole
    top = np.zeros(m, np.int64)
    np.maximum.at(top, sa, w)
    chosen_local = np.full(len(local_ids), -1, np.int64)
    chosen_local[local[whole]] = sa[whole]
    if not in_part.any():
        primal_scaled = int((w[whole] * size[local[whole]]).sum())
        out = _certify(local, sa, w, chosen_local, residual, m, len(local_ids), primal_scaled, top, item_size=size)
        if out.certificate.optimal and primal_scaled == relaxed:
            assigned_g[local_ids] = chosen_local
            c = out.certificate
            cert = Certificate(primal_fen=c.primal_fen // scale, dual_fen=c.dual_fen // scale,
                               min_reduced_cost_fen=c.min_reduced_cost_fen // scale, optimal=True)
            return _FlowOutcome(_per_case(out.prices, scale), np.zeros(u.n_groups, np.int64), cert, 1, len(sg))
    # the relaxation split some groups: bounded repair (module docstring, "Large runs")
    bound = relaxed // scale  # the relaxation's optimum (floored: objectives are whole fen) bounds the grouped one
    chosen_local, cert, solved_by, limit_hit = _repair_split(
        local, sa, sv, w, size, units, residual, bound=bound, limits=limits)
    assigned_g[local_ids] = chosen_local
    primal_scaled = int(sum(int(w[k]) * int(size[local[k]]) for k in np.flatnonzero(chosen_local[local] == sa)))
    prices = _certify(local, sa, w, chosen_local, residual, m, len(local_ids), primal_scaled, top, item_size=size).prices
    return _FlowOutcome(_per_case(prices, scale), np.zeros(u.n_groups, np.int64), cert, 2, len(sg),
                        solved_by=solved_by, time_limit_hit=limit_hit)


@dataclass(frozen=True)
class _Limits:
    """Bounds of the integer step when the relaxation splits a customer (see :func:`solve`)."""

    time_limit_s: float
    exact_max_pairs: int
    deadline: float  # perf_counter() value after which no integer search starts


def _repair_split(
    local: IntArray, sa: IntArray, sv: IntArray, w: IntArray, size: IntArray, units: IntArray,
    residual: IntArray, *, bound: int, limits: _Limits,
) -> tuple[IntArray, Certificate, str, bool]:
    """Whole assignment when the relaxation split some groups, with its gap to the relaxation's bound.

    1. Fix every group the relaxation placed whole; CP-SAT places the split groups exactly on the
       capacity left (a small problem: a basic transportation optimum splits at most one group per
       agency); then the groups still unplaced go greedily (best value first) where they fit.
    2. If that is worth the relaxation's bound, it is optimal (proven by the bound). Otherwise, when the
       whole problem has at most ``exact_max_pairs`` pairs, CP-SAT solves it whole, hinted with step 1.

    Returns the choice per unit, the certificate (``dual_fen``: the best proven bound), how it was
    solved (``"cp-sat"`` or ``"repair"``) and whether a time limit stopped a search."""
    n_units = len(size)
    whole = units == size[local]
    split_units = np.unique(local[(units > 0) & ~whole])
    chosen = np.full(n_units, -1, np.int64)
    chosen[local[whole]] = sa[whole]
    used = np.zeros(len(residual), np.int64)
    np.add.at(used, sa[whole], size[local[whole]])
    left = residual - used
    limit_hit = False
    # step 1a: the split groups, exactly, on the capacity left
    is_split = np.zeros(n_units, bool)
    is_split[split_units] = True
    sub = np.flatnonzero(is_split[local] & (left[sa] >= size[local]))
    if len(sub):
        sub_ids, sub_local = np.unique(local[sub], return_inverse=True)
        sub_hint = _round_down(sub_local.reshape(-1), sa[sub], w[sub], size[sub_ids], units[sub], left)
        sub_chosen, _sub_bound, sub_hit = _solve_units_exact(
            sub_local.reshape(-1), sa[sub], sv[sub], size[sub_ids], left, hint=sub_hint,
            limits=limits)
        limit_hit |= sub_hit
        chosen[sub_ids] = sub_chosen
        left = residual - _used(size, chosen, len(residual))
    # step 1b: the groups still unplaced, greedily by value where they fit
    free = np.flatnonzero(chosen[local] < 0)
    order = free[np.argsort(-sv[free], kind="stable")]
    left_l = left.tolist()
    sizes = size.tolist()
    for i, j in zip(local[order].tolist(), sa[order].tolist(), strict=True):
        if chosen[i] < 0 and left_l[j] >= sizes[i]:
            chosen[i] = j
            left_l[j] -= sizes[i]
    primal = _value(local, sa, sv, chosen)
    solved_by = "repair"
    best_bound = bound
    # step 1c: CP-SAT on a neighbourhood: the split groups, the cheapest groups (per case) placed at each
    # agency and the best unplaced groups may all move; every other group stays where it is
    if primal < bound and len(sa) > limits.exact_max_pairs:
        hood = _neighbourhood(local, sa, w, size, chosen, is_split, per_agency=_HOOD_PER_AGENCY)
        sub = np.flatnonzero(hood[local])
        fixed = np.where(hood, -1, chosen)
        left = residual - _used(size, fixed, len(residual))
        sub = sub[left[sa[sub]] >= size[local[sub]]]
        if len(sub):
            sub_ids, sub_local = np.unique(local[sub], return_inverse=True)
            sub_hint = np.where(hood[sub_ids], chosen[sub_ids], -1)
            sub_chosen, _sub_bound, sub_hit = _solve_units_exact(
                sub_local.reshape(-1), sa[sub], sv[sub], size[sub_ids], left, hint=sub_hint, limits=limits)
            limit_hit |= sub_hit
            candidate = fixed.copy()
            candidate[sub_ids] = sub_chosen
            value = _value(local, sa, sv, candidate)
            if value > primal:
                chosen, primal = candidate, value
    # step 2: small problems are solved whole (exact, within the limits)
    if primal < bound and len(sa) <= limits.exact_max_pairs:
        full, full_bound, full_hit = _solve_units_exact(local, sa, sv, size, residual, hint=chosen, limits=limits)
        limit_hit |= full_hit
        full_primal = _value(local, sa, sv, full)
        if full_primal >= primal:
            chosen, primal = full, full_primal
        best_bound = min(bound, full_bound)
        solved_by = "cp-sat"
    best_bound = max(best_bound, primal)
    cert = Certificate(primal_fen=primal, dual_fen=best_bound, min_reduced_cost_fen=0, optimal=primal == best_bound)
    return chosen, cert, solved_by, limit_hit


_HOOD_PER_AGENCY = 8  # groups per agency in the repair's neighbourhood (placed there; as many unplaced)


def _neighbourhood(
    local: IntArray, sa: IntArray, w: IntArray, size: IntArray, chosen: IntArray, is_split: BoolArray,
    *, per_agency: int,
) -> BoolArray:
    """Units CP-SAT may move in the repair: the split ones, at each agency the ``per_agency`` placed there
    with the lowest value per case, and the ``per_agency × agencies`` unplaced ones with the highest."""
    hood = is_split.copy()
    on = np.flatnonzero(chosen[local] == sa)  # the chosen pair of each placed unit
    if len(on):
        order = on[np.lexsort((w[on], sa[on]))]  # by agency, cheapest per case first
        ag = sa[order]
        starts = np.searchsorted(ag, ag, side="left")
        rank = np.arange(len(order)) - starts
        hood[local[order[rank < per_agency]]] = True
    off = np.flatnonzero(chosen[local] < 0)
    if len(off):
        best = np.full(len(size), _I64_MIN, np.int64)
        np.maximum.at(best, local[off], w[off])
        unplaced = np.flatnonzero(best > _I64_MIN)
        take = unplaced[np.argsort(-best[unplaced], kind="stable")[: per_agency * (int(sa.max()) + 1)]]
        hood[take] = True
    return hood


def _used(size: IntArray, chosen: IntArray, m: int) -> IntArray:
    """Capacity each agency gives to the chosen units."""
    placed = np.flatnonzero(chosen >= 0)
    return np.bincount(chosen[placed], weights=size[placed], minlength=m).astype(np.int64)


def _value(local: IntArray, sa: IntArray, sv: IntArray, chosen: IntArray) -> int:
    """Total value (fen) of the chosen (unit, agency) pairs."""
    return int(sv[chosen[local] == sa].sum())


def _round_down(
    local: IntArray, sa: IntArray, w: IntArray, size: IntArray, units: IntArray, residual: IntArray
) -> IntArray:
    """A whole assignment from the relaxation: the groups it places whole stay; the others go greedily
    (their relaxed arcs first, then the best value per case) where they still fit."""
    n_units = len(size)
    chosen = np.full(n_units, -1, np.int64)
    whole = units == size[local]
    chosen[local[whole]] = sa[whole]
    used = np.zeros(len(residual), np.int64)
    np.add.at(used, sa[whole], size[local[whole]])
    left = (residual - used).tolist()
    rest = np.flatnonzero(chosen[local] < 0)
    order = rest[np.lexsort((-w[rest], -units[rest]))]
    sizes = size.tolist()
    for i, j in zip(local[order].tolist(), sa[order].tolist(), strict=True):
        if chosen[i] < 0 and left[j] >= sizes[i]:
            chosen[i] = j
            left[j] -= sizes[i]
    return chosen


def _per_case(prices_scaled: IntArray, scale: int) -> IntArray:
    """Scaled prices back to fen per case (rounded half up)."""
    return (prices_scaled * 2 + scale) // (2 * scale)


def _solve_units_exact(
    local: IntArray, sa: IntArray, sv: IntArray, size: IntArray, residual: IntArray, *, hint: IntArray,
    limits: _Limits,
) -> tuple[IntArray, int, bool]:
    """Units on agencies as an integer programme (CP-SAT, one worker, fixed seed: deterministic).

    ``hint`` must be feasible: it is returned when CP-SAT finds nothing better within the limits.
    Returns the choice per unit, CP-SAT's proven upper bound (fen) and whether a limit stopped it.
    The limit is CP-SAT's deterministic time (same input, same answer) with the wall clock as a backstop
    (``limits.deadline``; only a very loaded machine reaches it first)."""
    from ortools.sat.python import cp_model  # heavy: only when the relaxation splits a group

    n_units = len(size)
    hint_value = _value(local, sa, sv, hint)
    upper = int(np.clip(sv, 0, None).sum())
    wall = limits.deadline - time.perf_counter()
    if wall <= 0:
        return hint.copy(), upper, True
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{k}") for k in range(len(sa))]
    by_unit: list[list[int]] = [[] for _ in range(n_units)]
    by_agency: dict[int, list[int]] = {}
    for k, (i, j) in enumerate(zip(local.tolist(), sa.tolist(), strict=True)):
        by_unit[i].append(k)
        by_agency.setdefault(j, []).append(k)
    for ks in by_unit:
        if len(ks) > 1:
            model.add_at_most_one(x[k] for k in ks)
    sizes = size[local].tolist()
    for j, ks in by_agency.items():
        model.add(sum(sizes[k] * x[k] for k in ks) <= int(residual[j]))
    values = sv.tolist()
    model.maximize(sum(values[k] * x[k] for k in range(len(x))))
    for k, (i, j) in enumerate(zip(local.tolist(), sa.tolist(), strict=True)):
        model.add_hint(x[k], bool(hint[i] == j))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = max(limits.time_limit_s, 0.001)
    solver.parameters.max_time_in_seconds = max(wall, 0.001)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint.copy(), upper, True  # nothing found within the limits: the (feasible) hint stands
    chosen = np.full(n_units, -1, np.int64)
    for k in range(len(x)):
        if solver.boolean_value(x[k]):
            chosen[local[k]] = sa[k]
    primal = _value(local, sa, sv, chosen)  # exact, not the float
    if primal < hint_value:
        chosen, primal = hint.copy(), hint_value
    if status == cp_model.OPTIMAL:  # CP-SAT proved no assignment is worth more
        return chosen, primal, False
    return chosen, max(primal, math.floor(solver.best_objective_bound)), True


def _greedy_grouped(p: AllocationProblem, capacity: Any, t0: float) -> GreedyResult:
    """Greedy by group value: best (group, agency) pairs first while the group is free and fits."""
    assert p.case_group is not None
    u = _group_units(p)
    remaining = (p.capacity if capacity is None else np.asarray(capacity, np.int64)).copy()
    pos = np.flatnonzero(u.value > 0)
    order = pos[np.argsort(-u.value[pos], kind="stable")]
    chosen = np.full(u.n_groups, -1, np.int64)
    total = 0
    for g, j, v in zip(u.group[order].tolist(), u.agency[order].tolist(), u.value[order].tolist(), strict=True):
        if chosen[g] < 0 and remaining[j] >= u.size[g]:
            chosen[g] = j
            remaining[j] -= u.size[g]
            total += v
    return GreedyResult(assigned=chosen[p.case_group], objective_fen=total, seconds=time.perf_counter() - t0)


def grouped_relaxation_bound(problem: AllocationProblem, *, capacity: Any = None) -> int:
    """The customer-level relaxation's optimum (fen, floored): no whole-customer allocation within
    ``capacity`` (default: the problem's) is worth more. This is the flow :func:`solve` starts from,
    alone (no holdout, no concentration limit); without groups it is the optimum itself."""
    p = problem
    cap = (p.capacity if capacity is None else np.asarray(capacity, np.int64)).copy()
    if not p.grouped:
        pos = p.pair_value > 0
        sel = pos & (cap[p.pair_agency] > 0)
        _chosen, total = max_weight_assignment(p.pair_case[sel], p.pair_agency[sel], p.pair_value[sel],
                                               n_items=p.n_cases, capacity=cap)
        return int(total)
    u = _group_units(p)
    sel = (u.value > 0) & (cap[u.agency] >= u.size[u.group])
    if not sel.any():
        return 0
    local_ids, local = np.unique(u.group[sel], return_inverse=True)
    local = local.reshape(-1)
    size = u.size[local_ids]
    scale = math.lcm(*{int(x) for x in size.tolist()})
    w = u.value[sel] * (scale // size[local])
    _units, relaxed = max_weight_sized_flow(local, u.agency[sel], w, size=size, capacity=cap)
    return relaxed // scale


def lp_upper_bound(problem: AllocationProblem, *, prices_fen: Any, capacity: Any = None) -> int:
    """LP dual bound ``Σ_i max(0, max_j (v_ij − p_j)) + Σ_j c_j p_j`` for any prices ``p ≥ 0``.

    By weak duality no allocation within ``capacity`` (default: the problem's capacities) is worth
    more; with the prices of an optimal solution it equals the optimal objective.
    """
    p = problem
    prices = np.asarray(prices_fen, np.int64)
    if np.any(prices < 0):
        raise ValueError("prices must be >= 0")
    cap = p.capacity if capacity is None else np.asarray(capacity, np.int64)
    best = np.zeros(p.n_cases, np.int64)
    np.maximum.at(best, p.pair_case, p.pair_value - prices[p.pair_agency])
    return int(best.sum()) + int((cap * prices).sum())


# --------------------------------------------------------------------------------------------- baseline


@dataclass(frozen=True)
class GreedyResult:
    """Greedy-by-value allocation: highest-value pairs first while case and agency are free."""

    assigned: IntArray = field(repr=False)
    objective_fen: int
    seconds: float


def greedy(problem: AllocationProblem, *, capacity: Any = None) -> GreedyResult:
    """Baseline: take pairs by decreasing value while the case is free and the agency has room."""
    t0 = time.perf_counter()
    p = problem
    if p.grouped:
        return _greedy_grouped(p, capacity, t0)
    remaining = (p.capacity if capacity is None else np.asarray(capacity, np.int64)).copy().tolist()
    pos = np.flatnonzero(p.pair_value > 0)
    order = pos[np.argsort(-p.pair_value[pos], kind="stable")]
    assigned_l = [-1] * p.n_cases
    cases = p.pair_case[order].tolist()
    agencies = p.pair_agency[order].tolist()
    values = p.pair_value[order].tolist()
    left_cases = p.n_cases
    left_slots = sum(remaining)
    total = 0
    for c, a, v in zip(cases, agencies, values, strict=True):
        if assigned_l[c] < 0 and remaining[a] > 0:
            assigned_l[c] = a
            remaining[a] -= 1
            total += v
            left_cases -= 1
            left_slots -= 1
            if left_cases == 0 or left_slots == 0:
                break
    return GreedyResult(assigned=np.asarray(assigned_l, np.int64), objective_fen=total,
                        seconds=time.perf_counter() - t0)
