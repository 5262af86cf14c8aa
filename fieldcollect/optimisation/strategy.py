"""Treatment strategy engine: one treatment per delinquent case under channel capacities.

Each case ``i`` gets exactly one treatment ``t`` (``none``, ``sms``, ``call``, ``visit``,
``restructure``, ``legal`` by default).  Its expected net value, in fen, is::

    value[i, t] = round(p[i, t] * recovery_share[t] * amount[i]) - cost[t]

and the optimiser maximises the total value, which is the same as maximising the total value
*incremental over "none"* because every case contributes its "none" value whatever happens.
An optional complaint penalty (fen per expected complaint) is subtracted in the objective, and a
budget on the expected number of complaints is met by Lagrangian bisection on that penalty.

Constraints
    * compliance: a boolean case × treatment mask; a blocked treatment is never chosen
      ("none" can never be blocked);
    * capacities: a limit per treatment, either global (``city=None``) or per city.  A treatment
      with per-city limits is unavailable in a city that has no limit of its own (no field team
      there).  A treatment without any limit is unlimited.

The problem is a transportation problem (cases → capacity pools → sink), solved exactly as a
min-cost flow with OR-Tools (``method="flow"``, the default) or as an LP with GLOP
(``method="lp"``; the constraint matrix is totally unimodular, so the LP optimum is integral).
Before the flow is built, every case keeps only the capacitated options that beat its best
unlimited option, which makes 500,000 cases a matter of seconds.

Shadow prices (fen per unit of capacity) are recovered from the optimal assignment as the
smallest dual prices consistent with it (longest paths in the small graph of pools), and each
case's explanation names its best alternative and why it was not chosen (compliance block,
capacity price, or simply lower value).

Example
-------
>>> import numpy as np
>>> b = StrategyBuilder(costs={"none": 0, "sms": 10, "call": 300, "visit": 8000,
...                            "restructure": 2000, "legal": 30000})
>>> _ = b.add_cases(case_ids=np.array([1, 2]), amounts_fen=np.array([800_000, 50_000]),
...             cities=np.array(["成都", "成都"]),
...             propensity=np.tile([0.1, 0.15, 0.2, 0.5, 0.3, 0.35], (2, 1)))
>>> _ = b.set_capacity(treatment="visit", city="成都", limit=1)
>>> result = solve(b.build())
>>> result.treatments().tolist()
['visit', 'restructure']
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

TREATMENTS: tuple[str, ...] = ("none", "sms", "call", "visit", "restructure", "legal")
"""Default treatments; the first one is the baseline "do nothing", always allowed and unlimited."""

TREATMENT_LABELS_ZH: dict[str, str] = {
    "none": "不处理",
    "sms": "短信",
    "call": "电话",
    "visit": "上门外访",
    "restructure": "重组方案",
    "legal": "法律诉讼",
}

REASONS: tuple[str, ...] = ("only_option", "compliance", "capacity", "lower_value")
"""Why the best alternative was not chosen."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Method = Literal["flow", "lp"]


class StrategyError(ValueError):
    """Invalid strategy problem (shapes, unknown treatments, blocked baseline...)."""


@dataclass(frozen=True)
class Capacity:
    """A channel capacity: at most ``limit`` cases get ``treatment`` (in ``city``, or overall)."""

    treatment: str
    limit: int
    city: str | None = None


@dataclass(frozen=True, eq=False)
class StrategyProblem:
    """Immutable problem data; build it with :class:`StrategyBuilder`.

    Attributes
    ----------
    treatments : tuple of str
        Treatment names; index 0 is the baseline ("none").
    case_ids : ndarray of int64, shape (n,)
    amounts_fen : ndarray of int64, shape (n,)
        Amount at stake per case (overdue amount), fen.
    cities : ndarray of str, shape (n,)
    propensity : ndarray of float64, shape (n, T)
        Probability of payment within the horizon under each treatment.
    eligible : ndarray of bool, shape (n, T)
        Compliance mask; column 0 is all True.
    complaint_prob : ndarray of float64, shape (n, T)
        Probability of a complaint under each treatment (zeros when unknown).
    costs_fen : ndarray of int64, shape (T,)
    recovery_share : ndarray of float64, shape (T,)
        Share of the amount recovered when the customer pays under the treatment
        (e.g. below 1 for a restructure offer that waives penalties).
    capacities : tuple of Capacity
    complaint_cost_fen : int
        Penalty per expected complaint in the objective.
    max_expected_complaints : float or None
        Budget on the total expected complaints; met by raising the penalty.
    attributes : mapping str -> ndarray, shape (n,)
        Extra case columns for rule-based strategies (e.g. ``bucket``); not used by the optimiser.
    """

    treatments: tuple[str, ...]
    case_ids: IntArray
    amounts_fen: IntArray
    cities: npt.NDArray[np.str_]
    propensity: FloatArray
    eligible: BoolArray
    complaint_prob: FloatArray
    costs_fen: IntArray
    recovery_share: FloatArray
    capacities: tuple[Capacity, ...]
    complaint_cost_fen: int = 0
    max_expected_complaints: float | None = None
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)
    # derived: pool index per case × treatment (-1 = unlimited), pool limits and labels
    pool_of: IntArray = field(init=False, repr=False)
    pool_limits: IntArray = field(init=False, repr=False)
    pool_labels: tuple[tuple[str, str | None], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n, t = self.propensity.shape
        for name, arr, shape in (
            ("case_ids", self.case_ids, (n,)),
            ("amounts_fen", self.amounts_fen, (n,)),
            ("cities", self.cities, (n,)),
            ("eligible", self.eligible, (n, t)),
            ("complaint_prob", self.complaint_prob, (n, t)),
            ("costs_fen", self.costs_fen, (t,)),
            ("recovery_share", self.recovery_share, (t,)),
            *((f"attributes[{k!r}]", v, (n,)) for k, v in self.attributes.items()),
        ):
            if arr.shape != shape:
                raise StrategyError(f"{name} has shape {arr.shape}, expected {shape}")
        if len(self.treatments) != t:
            raise StrategyError("propensity must have one column per treatment")
        if n and not bool(self.eligible[:, 0].all()):
            raise StrategyError(f"the baseline treatment {self.treatments[0]!r} cannot be blocked")
        if np.any(self.amounts_fen < 0):
            raise StrategyError("amounts must be non-negative")
        if n and (np.any(~np.isfinite(self.propensity)) or self.propensity.min() < 0 or self.propensity.max() > 1):
            raise StrategyError("propensities must lie in [0, 1]")
        index = {name: k for k, name in enumerate(self.treatments)}
        by_treatment: dict[int, list[Capacity]] = {}
        for cap in self.capacities:
            if cap.treatment not in index:
                raise StrategyError(f"capacity for unknown treatment {cap.treatment!r}")
            if index[cap.treatment] == 0:
                raise StrategyError("the baseline treatment is unlimited")
            if cap.limit < 0:
                raise StrategyError("capacity limits must be >= 0")
            by_treatment.setdefault(index[cap.treatment], []).append(cap)
        pool_of = np.full((n, t), -1, dtype=np.int64)
        limits: list[int] = []
        labels: list[tuple[str, str | None]] = []
        zero_pool: dict[int, int] = {}
        for k, caps in sorted(by_treatment.items()):
            kinds = {cap.city is None for cap in caps}
            if len(kinds) > 1:
                raise StrategyError(f"treatment {self.treatments[k]!r} mixes global and per-city capacities")
            if caps[0].city is None:
                if len(caps) > 1:
                    raise StrategyError(f"treatment {self.treatments[k]!r} has several global capacities")
                pool_of[:, k] = len(limits)
                limits.append(caps[0].limit)
                labels.append((self.treatments[k], None))
                continue
            cities_seen: set[str] = set()
            pool_of[:, k] = -2  # placeholder: city without capacity
            for cap in caps:
                assert cap.city is not None
                if cap.city in cities_seen:
                    raise StrategyError(f"duplicate capacity for {self.treatments[k]!r} in {cap.city!r}")
                cities_seen.add(cap.city)
                pool_of[self.cities == cap.city, k] = len(limits)
                limits.append(cap.limit)
                labels.append((self.treatments[k], cap.city))
            if np.any(pool_of[:, k] == -2):
                zero_pool[k] = len(limits)
                pool_of[pool_of[:, k] == -2, k] = len(limits)
                limits.append(0)
                labels.append((self.treatments[k], "*other*"))
        object.__setattr__(self, "pool_of", pool_of)
        object.__setattr__(self, "pool_limits", np.asarray(limits, dtype=np.int64))
        object.__setattr__(self, "pool_labels", tuple(labels))
        for arr in (self.case_ids, self.amounts_fen, self.cities, self.propensity, self.eligible,
                    self.complaint_prob, self.costs_fen, self.recovery_share, self.pool_of, self.pool_limits):
            arr.setflags(write=False)

    @property
    def n_cases(self) -> int:
        """Number of cases."""
        return int(self.propensity.shape[0])

    def values_fen(self) -> IntArray:
        """Expected net value per case × treatment, fen (without complaint penalty)."""
        gross = np.rint(self.propensity * self.recovery_share[None, :] * self.amounts_fen[:, None].astype(np.float64))
        return gross.astype(np.int64) - self.costs_fen[None, :]

    def objective_fen(self, *, complaint_cost_fen: float | None = None) -> IntArray:
        """Objective per case × treatment: value minus complaint penalty, fen."""
        mu = self.complaint_cost_fen if complaint_cost_fen is None else complaint_cost_fen
        values = self.values_fen()
        if mu:
            values = values - np.rint(mu * self.complaint_prob).astype(np.int64)
        return values

    def subset(self, *, mask: BoolArray, capacity_share: float | None = None,
               capacities: Sequence[Capacity] | None = None) -> StrategyProblem:
        """Sub-problem on the cases selected by ``mask``.

        Capacities are either given explicitly, or scaled by ``capacity_share`` (floored), or
        kept as they are.
        """
        if capacities is None:
            if capacity_share is None:
                capacities = self.capacities
            else:
                capacities = tuple(
                    Capacity(c.treatment, math.floor(c.limit * capacity_share + 1e-9), c.city) for c in self.capacities
                )
        budget = self.max_expected_complaints
        if budget is not None and capacity_share is not None:
            budget = budget * capacity_share
        return StrategyProblem(
            treatments=self.treatments,
            case_ids=self.case_ids[mask].copy(),
            amounts_fen=self.amounts_fen[mask].copy(),
            cities=self.cities[mask].copy(),
            propensity=self.propensity[mask].copy(),
            eligible=self.eligible[mask].copy(),
            complaint_prob=self.complaint_prob[mask].copy(),
            costs_fen=self.costs_fen.copy(),
            recovery_share=self.recovery_share.copy(),
            capacities=tuple(capacities),
            complaint_cost_fen=self.complaint_cost_fen,
            max_expected_complaints=budget,
            attributes={k: v[mask].copy() for k, v in self.attributes.items()},
        )

    def with_complaint_budget(self, *, max_expected: float | None) -> StrategyProblem:
        """The same problem with another complaint budget."""
        return StrategyProblem(
            treatments=self.treatments, case_ids=self.case_ids, amounts_fen=self.amounts_fen,
            cities=self.cities, propensity=self.propensity, eligible=self.eligible,
            complaint_prob=self.complaint_prob, costs_fen=self.costs_fen,
            recovery_share=self.recovery_share, capacities=self.capacities,
            complaint_cost_fen=self.complaint_cost_fen, max_expected_complaints=max_expected,
            attributes=self.attributes,
        )

    def check(self, choice: npt.ArrayLike) -> list[str]:
        """Constraint violations of an assignment (empty list when feasible)."""
        c = np.asarray(choice, dtype=np.int64)
        problems: list[str] = []
        if c.shape != (self.n_cases,):
            return [f"choice has shape {c.shape}, expected ({self.n_cases},)"]
        if np.any((c < 0) | (c >= len(self.treatments))):
            return ["choice holds unknown treatment indices"]
        rows = np.arange(self.n_cases)
        blocked = ~self.eligible[rows, c]
        if blocked.any():
            problems.append(f"{int(blocked.sum())} cases get a blocked treatment")
        pools = self.pool_of[rows, c]
        used = np.bincount(pools[pools >= 0], minlength=len(self.pool_limits))
        for k in np.flatnonzero(used > self.pool_limits):
            t, city = self.pool_labels[k]
            problems.append(f"capacity of {t} in {city or 'all cities'} exceeded: {used[k]} > {self.pool_limits[k]}")
        return problems


class StrategyBuilder:
    """Collects cases, costs and capacities, then :meth:`build` an immutable problem.

    Parameters
    ----------
    costs : mapping treatment -> fen
        Cost of applying each treatment once (missing treatments cost 0).
    treatments : sequence of str
        Treatment names, baseline first.
    recovery_share : mapping treatment -> float, optional
        Share of the amount recovered when the customer pays (default 1).
    """

    def __init__(self, *, costs: Mapping[str, int], treatments: Sequence[str] = TREATMENTS,
                 recovery_share: Mapping[str, float] | None = None) -> None:
        self.treatments = tuple(treatments)
        unknown = (set(costs) | set(recovery_share or {})) - set(self.treatments)
        if unknown:
            raise StrategyError(f"unknown treatments: {sorted(unknown)}")
        self.costs_fen = np.array([int(costs.get(t, 0)) for t in self.treatments], dtype=np.int64)
        share = recovery_share or {}
        self.recovery_share = np.array([float(share.get(t, 1.0)) for t in self.treatments])
        self._cases: dict[str, np.ndarray] | None = None
        self._capacities: list[Capacity] = []
        self._complaint_cost_fen = 0
        self._max_complaints: float | None = None
        self._attributes: dict[str, np.ndarray] = {}

    def add_cases(self, *, case_ids: npt.ArrayLike, amounts_fen: npt.ArrayLike, cities: npt.ArrayLike,
                  propensity: npt.ArrayLike, eligible: npt.ArrayLike | None = None,
                  complaint_prob: npt.ArrayLike | None = None,
                  attributes: Mapping[str, npt.ArrayLike] | None = None) -> StrategyBuilder:
        """Set the cases (arrays aligned on cases; matrices have one column per treatment).

        ``attributes`` are extra case columns for rule-based strategies (e.g. ``bucket``).
        """
        p = np.asarray(propensity, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != len(self.treatments):
            raise StrategyError(f"propensity must be (n, {len(self.treatments)})")
        n = p.shape[0]
        amounts = np.asarray(amounts_fen)
        if amounts.dtype.kind not in "iu":
            raise StrategyError("amounts must be integer fen")
        self._cases = {
            "case_ids": np.asarray(case_ids, dtype=np.int64),
            "amounts_fen": amounts.astype(np.int64),
            "cities": np.asarray(cities).astype(str),
            "propensity": p,
            "eligible": (np.ones((n, p.shape[1]), dtype=bool) if eligible is None
                         else np.asarray(eligible, dtype=bool)),
            "complaint_prob": (np.zeros_like(p) if complaint_prob is None
                               else np.asarray(complaint_prob, dtype=np.float64)),
        }
        self._attributes = {k: np.asarray(v) for k, v in (attributes or {}).items()}
        return self

    def set_capacity(self, *, treatment: str, limit: int, city: str | None = None) -> StrategyBuilder:
        """Limit the number of cases given ``treatment`` (overall, or in ``city``)."""
        self._capacities.append(Capacity(treatment, int(limit), city))
        return self

    def set_complaint_cost(self, *, fen: int) -> StrategyBuilder:
        """Penalty per expected complaint, subtracted from the objective."""
        self._complaint_cost_fen = int(fen)
        return self

    def set_complaint_budget(self, *, max_expected: float | None) -> StrategyBuilder:
        """Cap the total expected complaints (needs ``complaint_prob``)."""
        self._max_complaints = max_expected
        return self

    def build(self) -> StrategyProblem:
        """Validate and freeze the problem."""
        if self._cases is None:
            raise StrategyError("add_cases() first")
        return StrategyProblem(
            treatments=self.treatments,
            costs_fen=self.costs_fen.copy(),
            recovery_share=self.recovery_share.copy(),
            capacities=tuple(self._capacities),
            complaint_cost_fen=self._complaint_cost_fen,
            max_expected_complaints=self._max_complaints,
            attributes={k: v.copy() for k, v in self._attributes.items()},
            **{k: v.copy() for k, v in self._cases.items()},
        )


@dataclass(frozen=True)
class Explanation:
    """Why a case got its treatment."""

    case_id: int
    treatment: str
    value_fen: int
    alternative: str | None
    alternative_value_fen: int | None
    reason: str
    shadow_price_fen: int
    text_en: str
    text_zh: str


@dataclass(frozen=True, eq=False)
class StrategyResult:
    """Optimal assignment with its duals.

    Attributes
    ----------
    problem : StrategyProblem
    choice : ndarray of int64, shape (n,)
        Treatment index per case.
    objective_fen : ndarray of int64, shape (n, T)
        Objective used (value minus complaint penalty).
    shadow_prices_fen : ndarray of int64, shape (n_pools,)
        Value of one more unit of each capacity pool (see ``problem.pool_labels``).
    complaint_cost_fen : float
        Complaint penalty actually used (raised above the problem's when a budget binds).
    method : str
    seconds : float
    solves : int
        Number of optimisation runs (more than one when bisecting for a complaint budget).
    complaint_budget_met : bool
        False only when a complaint budget could not be met within ``max_bisections``.
    """

    problem: StrategyProblem
    choice: IntArray
    objective_fen: IntArray
    shadow_prices_fen: IntArray
    complaint_cost_fen: float
    method: str
    seconds: float
    solves: int = 1
    complaint_budget_met: bool = True

    def __post_init__(self) -> None:
        self.choice.setflags(write=False)
        violations = self.problem.check(self.choice)
        if violations:
            raise AssertionError("; ".join(violations))

    def treatments(self) -> npt.NDArray[np.str_]:
        """Chosen treatment name per case."""
        return np.asarray(self.problem.treatments)[self.choice]

    def expected_value_fen(self) -> int:
        """Total expected net value (without complaint penalty), fen."""
        v = self.problem.values_fen()
        return int(v[np.arange(self.problem.n_cases), self.choice].sum())

    def expected_uplift_fen(self) -> int:
        """Total expected net value over giving every case the baseline, fen."""
        v = self.problem.values_fen()
        return int((v[np.arange(self.problem.n_cases), self.choice] - v[:, 0]).sum())

    def expected_complaints(self) -> float:
        """Total expected complaints."""
        cp = self.problem.complaint_prob
        return float(cp[np.arange(self.problem.n_cases), self.choice].sum())

    def usage(self) -> pl.DataFrame:
        """Use of each capacity pool with its limit and shadow price."""
        rows = np.arange(self.problem.n_cases)
        pools = self.problem.pool_of[rows, self.choice]
        used = np.bincount(pools[pools >= 0], minlength=len(self.problem.pool_limits))
        return pl.DataFrame({
            "treatment": [t for t, _ in self.problem.pool_labels],
            "city": [c for _, c in self.problem.pool_labels],
            "used": used.astype(np.int64),
            "limit": self.problem.pool_limits,
            "shadow_price_fen": self.shadow_prices_fen,
        }, schema={"treatment": pl.String, "city": pl.String, "used": pl.Int64, "limit": pl.Int64,
                   "shadow_price_fen": pl.Int64})

    def summary(self) -> str:
        """One paragraph for humans."""
        counts = np.bincount(self.choice, minlength=len(self.problem.treatments))
        mix = ", ".join(f"{t}={c}" for t, c in zip(self.problem.treatments, counts, strict=True) if c)
        return (f"{self.problem.n_cases} cases, expected net value {self.expected_value_fen() / 100:,.2f} CNY "
                f"(+{self.expected_uplift_fen() / 100:,.2f} over doing nothing), expected complaints "
                f"{self.expected_complaints():.1f}; {mix}; {self.method} in {self.seconds:.2f}s")

    def _prices(self) -> IntArray:
        """Capacity price per case × treatment (0 for unlimited treatments)."""
        pool = self.problem.pool_of
        prices = np.zeros(pool.shape, dtype=np.int64)
        capped = pool >= 0
        prices[capped] = self.shadow_prices_fen[pool[capped]]
        return prices

    def explanations(self) -> pl.DataFrame:
        """Per-case explanation: chosen treatment, its value, best alternative and why not.

        ``reason`` is ``compliance`` (the alternative is blocked), ``capacity`` (it is worth more
        but its channel is full: ``shadow_price_fen`` is what a unit of that channel earns
        elsewhere), ``lower_value`` (it is simply worth less) or ``only_option``.
        """
        prob = self.problem
        n, t = prob.propensity.shape
        rows = np.arange(n)
        obj = self.objective_fen
        names = np.asarray(prob.treatments)
        chosen_value = obj[rows, self.choice]
        masked = obj.astype(np.float64).copy()
        masked[rows, self.choice] = -np.inf
        alt = np.argmax(masked, axis=1) if t > 1 else np.zeros(n, dtype=np.int64)
        alt_value = obj[rows, alt]
        blocked = ~prob.eligible[rows, alt]
        prices = self._prices()
        alt_price = prices[rows, alt]
        reason = np.where(blocked, "compliance", np.where(alt_value > chosen_value, "capacity", "lower_value"))
        if t == 1:
            reason[:] = "only_option"
        treatment = names[self.choice]
        alternative = names[alt]
        frame = pl.DataFrame({
            "case_id": prob.case_ids,
            "treatment": treatment,
            "value_fen": chosen_value,
            "alternative": alternative,
            "alternative_value_fen": alt_value,
            "reason": reason,
            "shadow_price_fen": np.where(reason == "capacity", alt_price, 0),
        })
        t_zh = pl.col("treatment").replace(TREATMENT_LABELS_ZH)
        a_zh = pl.col("alternative").replace(TREATMENT_LABELS_ZH)
        yuan = (pl.col("value_fen") / 100).round(2).cast(pl.String)
        alt_yuan = (pl.col("alternative_value_fen") / 100).round(2).cast(pl.String)
        price_yuan = (pl.col("shadow_price_fen") / 100).round(2).cast(pl.String)
        return frame.with_columns(
            text_en=pl.when(pl.col("reason") == "compliance").then(pl.concat_str([
                pl.col("treatment"), pl.lit(" (expected "), yuan, pl.lit(" CNY); "), pl.col("alternative"),
                pl.lit(" would be worth "), alt_yuan, pl.lit(" CNY but is blocked by compliance rules")]))
            .when(pl.col("reason") == "capacity").then(pl.concat_str([
                pl.col("treatment"), pl.lit(" (expected "), yuan, pl.lit(" CNY); "), pl.col("alternative"),
                pl.lit(" would be worth "), alt_yuan, pl.lit(" CNY but its channel is full: a slot is worth "),
                price_yuan, pl.lit(" CNY at the margin on other cases")]))
            .otherwise(pl.concat_str([
                pl.col("treatment"), pl.lit(" (expected "), yuan, pl.lit(" CNY); next best "),
                pl.col("alternative"), pl.lit(" is worth "), alt_yuan, pl.lit(" CNY")])),
            text_zh=pl.when(pl.col("reason") == "compliance").then(pl.concat_str([
                t_zh, pl.lit("（预期"), yuan, pl.lit("元）；"), a_zh, pl.lit("预期"), alt_yuan,
                pl.lit("元，但被合规规则禁止")]))
            .when(pl.col("reason") == "capacity").then(pl.concat_str([
                t_zh, pl.lit("（预期"), yuan, pl.lit("元）；"), a_zh, pl.lit("预期"), alt_yuan,
                pl.lit("元，但该渠道产能已满：边际名额价值"), price_yuan, pl.lit("元")]))
            .otherwise(pl.concat_str([
                t_zh, pl.lit("（预期"), yuan, pl.lit("元）；次优"), a_zh, pl.lit("预期"), alt_yuan, pl.lit("元")])),
        )

    def explain(self, index: int) -> Explanation:
        """Explanation of the case at position ``index``."""
        row = self.explanations().row(index, named=True)
        return Explanation(
            case_id=int(row["case_id"]), treatment=row["treatment"], value_fen=int(row["value_fen"]),
            alternative=row["alternative"] if row["reason"] != "only_option" else None,
            alternative_value_fen=int(row["alternative_value_fen"]) if row["reason"] != "only_option" else None,
            reason=row["reason"], shadow_price_fen=int(row["shadow_price_fen"]),
            text_en=row["text_en"], text_zh=row["text_zh"],
        )


# ----------------------------------------------------------------------------------------------
# solving


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
    """Min-cost flow over the arcs in ``cand`` (gains over the free option); updates a copy of ``choice``."""
    from ortools.graph.python import min_cost_flow

    choice = choice.copy()
    active = np.flatnonzero(cand.any(axis=1))
    if active.size == 0:
        return choice
    m = active.size
    n_pools = limits.size
    ci, tj = np.nonzero(cand[active])  # local case index, treatment
    g = gain[active[ci], tj]  # > 0
    big = int(g.max())
    sink = m + n_pools
    tails = np.concatenate([np.arange(m), ci, m + np.arange(n_pools)])
    heads = np.concatenate([np.full(m, sink), m + pool_of[active[ci], tj], np.full(n_pools, sink)])
    caps = np.concatenate([np.ones(m, dtype=np.int64), np.ones(ci.size, dtype=np.int64), limits])
    # cost = big - gain on capacitated arcs, big on the free arc: every case ships one unit
    costs = np.concatenate([np.full(m, big, dtype=np.int64), big - g, np.zeros(n_pools, dtype=np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:m] = 1
    supplies[sink] = -m
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    used = smcf.flows(arcs[m:m + ci.size]) > 0
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


# ----------------------------------------------------------------------------------------------
# strategies and champion/challenger experiments

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
                if not eligible[i, j]:
                    continue
                k = pool_of[i, j]
                if k >= 0:
                    if left[k] <= 0:
                        continue
                    left[k] -= 1
                choice[i] = j
                break
        return choice


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
            k = problem.pool_of[i, j]
            if k >= 0:
                if left[k] <= 0:
                    continue
                left[k] -= 1
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

