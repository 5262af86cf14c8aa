"""The strategy problem: treatments, capacities, the builder, the immutable problem and the result
with its explanations (see :mod:`fieldcollect.optimisation.strategy`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
