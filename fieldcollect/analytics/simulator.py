"""Portfolio simulator for evaluating collection strategies offline.

A cohort of delinquent customers is simulated over several periods (a period is one strategy
cycle, e.g. a month, during which each open case gets one treatment).  Every customer has two
latent traits — ability to pay and willingness to pay — that the bank never observes; it sees
noisy proxies (a bureau score, an on-time ratio) and the case facts (amount, bucket, city,
contact history).  Treatments shift the probability of payment in a way that depends on the
latent traits; contacts cost money and can cause complaints, more so when a customer is
contacted intensively.  All assumptions and numbers are in ``docs/simulator.md``.

Everything is seeded: :func:`make_population` with a seed gives the same customers, and a
:class:`PortfolioSimulator` with a seed draws the same uniforms for payments and complaints, so
two strategies run on the same simulator seed face exactly the same luck (common random
numbers; their difference has a small variance).

Typical use::

    pop = make_population(n=20_000, seed=1)
    sim = PortfolioSimulator(population=pop, seed=1)
    result = sim.run(policy=my_policy)  # my_policy(view) -> treatment index per open case
    result.totals()
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

TREATMENTS: tuple[str, ...] = ("none", "sms", "call", "visit", "restructure", "legal")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _vec(*values: float) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class SimulatorConfig:
    """Parameters of the simulated portfolio (defaults documented in docs/simulator.md).

    Vectors indexed by treatment follow ``TREATMENTS`` order:
    none, sms, call, visit, restructure, legal.
    """

    n_cities: int = 12
    cities_with_field_team: int = 8
    periods: int = 3
    # case facts
    amount_median_cny: float = 4000.0
    amount_sigma: float = 0.8
    bucket_probs: tuple[float, ...] = _vec(0.45, 0.2, 0.12, 0.09, 0.07, 0.07)  # M1..M6 at start
    trait_correlation: float = 0.3
    do_not_call_share: float = 0.08
    initial_contacts_mean: float = 1.0
    # payment model: logit p = intercept + a*z_ability + w*z_willingness - b*(bucket-1) + effect
    intercept: float = -2.0
    coef_ability: float = 0.6
    coef_willingness: float = 0.6
    coef_bucket: float = 0.25
    # effect of treatment t: base[t] + by_willing[t]*W + by_able_unwilling[t]*A*(1-W) + by_unable[t]*(1-A)
    effect_base: tuple[float, ...] = _vec(0.0, 0.25, 0.35, 0.4, 0.1, -0.2)
    effect_willing: tuple[float, ...] = _vec(0.0, 0.5, 0.6, 0.3, 0.0, 0.0)
    effect_able_unwilling: tuple[float, ...] = _vec(0.0, 0.0, 0.3, 2.2, 0.0, 1.8)
    effect_unable: tuple[float, ...] = _vec(0.0, 0.0, 0.0, 0.0, 2.0, 0.0)
    fatigue: float = 0.25  # effects divided by 1 + fatigue * contact intensity
    # money
    cost_fen: tuple[int, ...] = (0, 10, 400, 12_000, 3_000, 60_000)
    recovery_share: tuple[float, ...] = _vec(1.0, 1.0, 1.0, 1.0, 0.75, 1.0)
    # complaints: hazard = base[t] * exp(kappa * intensity) * (0.5 + (1 - W))
    complaint_base: tuple[float, ...] = _vec(0.0, 0.0005, 0.004, 0.012, 0.001, 0.02)
    complaint_kappa: float = 0.6
    contact_weight: tuple[float, ...] = _vec(0.0, 0.5, 1.0, 1.5, 0.5, 1.5)
    intensity_decay: float = 0.5
    willingness_drop_on_complaint: float = 0.3
    # compliance (eligibility)
    max_intensity_for_contact: float = 3.0  # calls and visits blocked at or above this intensity
    legal_min_bucket: int = 3
    legal_min_amount_cny: float = 2000.0
    restructure_min_bucket: int = 2
    # capacities per period, as shares of the initial cohort
    visit_share_per_city: float = 0.02
    call_share: float = 0.20
    restructure_share: float = 0.04
    legal_share: float = 0.01


@dataclass(frozen=True, eq=False)
class Population:
    """A cohort of delinquent customers (latent traits included: never show them to a policy)."""

    customer_id: IntArray
    city: npt.NDArray[np.str_]
    amount_fen: IntArray
    bucket: IntArray  # 1 = M1 ... 7 = M6+
    z_ability: FloatArray
    z_willingness: FloatArray
    bureau_score: FloatArray  # observable proxy of ability
    on_time_ratio: FloatArray  # observable proxy of willingness
    tenure_months: IntArray
    do_not_call: BoolArray
    contact_intensity: FloatArray  # decayed count of recent contacts at the start
    field_team_cities: tuple[str, ...]
    seed: int

    @property
    def n(self) -> int:
        """Number of customers."""
        return int(self.customer_id.size)

    @property
    def ability(self) -> FloatArray:
        """Latent ability to pay in (0, 1) (normal CDF of ``z_ability``)."""
        return _phi(self.z_ability)

    @property
    def willingness(self) -> FloatArray:
        """Latent willingness to pay in (0, 1) (normal CDF of ``z_willingness``)."""
        return _phi(self.z_willingness)


def _phi(z: FloatArray) -> FloatArray:
    from scipy.special import ndtr

    return np.asarray(ndtr(z), dtype=np.float64)


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def make_population(*, n: int, seed: int, config: SimulatorConfig | None = None) -> Population:
    """Draw a cohort of ``n`` delinquent customers (same seed, same cohort)."""
    cfg = config or SimulatorConfig()
    rng = np.random.default_rng([seed, 0])
    cities = np.array([f"city{k:02d}" for k in range(cfg.n_cities)])
    city_weights = 1.0 / np.arange(1, cfg.n_cities + 1) ** 0.7
    city = cities[rng.choice(cfg.n_cities, size=n, p=city_weights / city_weights.sum())]
    amount = np.rint(np.exp(rng.normal(math.log(cfg.amount_median_cny * 100), cfg.amount_sigma, n)))
    amount = np.maximum(amount, 10_000).astype(np.int64)  # at least 100 CNY
    probs = np.asarray(cfg.bucket_probs, dtype=np.float64)
    bucket = (rng.choice(len(probs), size=n, p=probs / probs.sum()) + 1).astype(np.int64)
    rho = cfg.trait_correlation
    z1 = rng.standard_normal(n)
    z2 = rng.standard_normal(n)
    z_a = z1
    z_w = rho * z1 + math.sqrt(1 - rho**2) * z2
    bureau = 0.8 * z_a + 0.6 * rng.standard_normal(n)
    on_time = _phi(0.8 * z_w + 0.6 * rng.standard_normal(n))
    tenure = rng.integers(3, 60, n).astype(np.int64)
    dnc = rng.random(n) < cfg.do_not_call_share
    intensity = rng.exponential(cfg.initial_contacts_mean, n) * (rng.random(n) < 0.7)
    return Population(
        customer_id=np.arange(1, n + 1, dtype=np.int64), city=city, amount_fen=amount, bucket=bucket,
        z_ability=z_a, z_willingness=z_w, bureau_score=bureau, on_time_ratio=on_time, tenure_months=tenure,
        do_not_call=dnc, contact_intensity=intensity,
        field_team_cities=tuple(str(c) for c in cities[: cfg.cities_with_field_team]), seed=seed,
    )


def payment_probability(*, config: SimulatorConfig, z_ability: FloatArray, z_willingness: FloatArray,
                        bucket: IntArray, intensity: FloatArray) -> FloatArray:
    """True probability of payment per customer × treatment, shape (n, T)."""
    a = _phi(z_ability)[:, None]
    w = _phi(z_willingness)[:, None]
    base = (config.intercept + config.coef_ability * z_ability + config.coef_willingness * z_willingness
            - config.coef_bucket * (bucket - 1))[:, None]
    effect = (np.asarray(config.effect_base)[None, :] + np.asarray(config.effect_willing)[None, :] * w
              + np.asarray(config.effect_able_unwilling)[None, :] * a * (1 - w)
              + np.asarray(config.effect_unable)[None, :] * (1 - a))
    effect = effect / (1.0 + config.fatigue * intensity[:, None])
    effect[:, 0] = 0.0
    return _sigmoid(base + effect)


def complaint_probability(*, config: SimulatorConfig, z_willingness: FloatArray,
                          intensity: FloatArray) -> FloatArray:
    """True probability of a complaint per customer × treatment, shape (n, T)."""
    w = _phi(z_willingness)[:, None]
    hazard = (np.asarray(config.complaint_base)[None, :] * np.exp(config.complaint_kappa * intensity)[:, None]
              * (0.5 + (1 - w)))
    return 1.0 - np.exp(-hazard)


def capacities(*, population: Population, config: SimulatorConfig | None = None) -> dict[tuple[str, str | None], int]:
    """Channel capacities per period: ``{(treatment, city or None): limit}``.

    Visits exist only in cities with a field team; calls, restructure offers and legal actions
    are national; SMS is unlimited.
    """
    cfg = config or SimulatorConfig()
    n = population.n
    caps: dict[tuple[str, str | None], int] = {}
    cities, counts = np.unique(population.city, return_counts=True)
    per_city = dict(zip(cities.tolist(), counts.tolist(), strict=True))
    for c in population.field_team_cities:
        caps["visit", c] = math.ceil(cfg.visit_share_per_city * per_city.get(c, 0))
    caps["call", None] = math.ceil(cfg.call_share * n)
    caps["restructure", None] = math.ceil(cfg.restructure_share * n)
    caps["legal", None] = math.ceil(cfg.legal_share * n)
    return caps


@dataclass(frozen=True, eq=False)
class CaseView:
    """What a policy sees in a period: the open cases.

    ``features`` holds only observable columns.  ``oracle_propensity`` and
    ``oracle_complaint_prob`` are the simulator's true probabilities, offered for "oracle"
    upper-bound policies; an honest policy estimates them from ``features``.
    """

    period: int
    index: IntArray  # positions in the population
    features: pl.DataFrame
    eligible: BoolArray
    capacities: dict[tuple[str, str | None], int]
    oracle_propensity: FloatArray
    oracle_complaint_prob: FloatArray
    treatments: tuple[str, ...] = TREATMENTS

    @property
    def n(self) -> int:
        """Number of open cases."""
        return int(self.index.size)


@dataclass(frozen=True)
class PeriodOutcome:
    """Totals of one period."""

    period: int
    open_cases: int
    treated: dict[str, int]
    payers: int
    recovered_fen: int
    cost_fen: int
    complaints: int
    contacts: int

    @property
    def net_fen(self) -> int:
        """Recovered minus treatment cost, fen."""
        return self.recovered_fen - self.cost_fen


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Outcome of a run: per-period totals and per-customer results."""

    periods: tuple[PeriodOutcome, ...]
    customers: pl.DataFrame  # customer_id, recovered_fen, cost_fen, net_fen, complaints, contacts, paid

    def totals(self) -> dict[str, float]:
        """Totals over the run (money in fen)."""
        c = self.customers
        n = c.height
        complaints = int(c["complaints"].sum())
        contacts = int(c["contacts"].sum())
        return {
            "customers": n,
            "recovered_fen": int(c["recovered_fen"].sum()),
            "cost_fen": int(c["cost_fen"].sum()),
            "net_fen": int(c["net_fen"].sum()),
            "payers": int(c["paid"].sum()),
            "complaints": complaints,
            "contacts": contacts,
            "complaints_per_1000_customers": 1000 * complaints / n if n else 0.0,
            "complaints_per_10000_contacts": 10_000 * complaints / contacts if contacts else 0.0,
        }


Policy = Callable[[CaseView], npt.ArrayLike]


@dataclass(eq=False)
class PortfolioSimulator:
    """Runs a policy on a population period by period (seeded, reproducible).

    Parameters
    ----------
    population : Population
    seed : int
        Seed of the payment and complaint draws (common random numbers across policies).
    config : SimulatorConfig, optional
    """

    population: Population
    seed: int
    config: SimulatorConfig = field(default_factory=SimulatorConfig)

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 1])
        n, p = self.population.n, self.config.periods
        self._u_pay = rng.random((p, n))
        self._u_complaint = rng.random((p, n))
        self._caps = capacities(population=self.population, config=self.config)

    def _view(self, period: int, open_idx: IntArray, bucket: IntArray, intensity: FloatArray,
              z_w: FloatArray, paused: BoolArray) -> CaseView:
        pop, cfg = self.population, self.config
        i = open_idx
        eligible = np.ones((i.size, len(TREATMENTS)), dtype=bool)
        contact_ok = ~paused[i]
        eligible[:, 1:] &= contact_ok[:, None]
        eligible[:, 2] &= ~pop.do_not_call[i] & (intensity[i] < cfg.max_intensity_for_contact)
        eligible[:, 3] &= intensity[i] < cfg.max_intensity_for_contact
        eligible[:, 4] &= bucket[i] >= cfg.restructure_min_bucket
        eligible[:, 5] &= (bucket[i] >= cfg.legal_min_bucket) & (pop.amount_fen[i] >= cfg.legal_min_amount_cny * 100)
        features = pl.DataFrame({
            "customer_id": pop.customer_id[i],
            "city": pop.city[i],
            "amount_fen": pop.amount_fen[i],
            "bucket": bucket[i],
            "bureau_score": pop.bureau_score[i],
            "on_time_ratio": pop.on_time_ratio[i],
            "tenure_months": pop.tenure_months[i],
            "contact_intensity": intensity[i],
            "do_not_call": pop.do_not_call[i],
            "period": np.full(i.size, period, dtype=np.int64),
        })
        prop = payment_probability(config=cfg, z_ability=pop.z_ability[i], z_willingness=z_w[i],
                                   bucket=bucket[i], intensity=intensity[i])
        comp = complaint_probability(config=cfg, z_willingness=z_w[i], intensity=intensity[i])
        return CaseView(period=period, index=i, features=features, eligible=eligible, capacities=dict(self._caps),
                        oracle_propensity=prop, oracle_complaint_prob=comp)

    def run(self, *, policy: Policy, periods: int | None = None, check: bool = True) -> SimulationResult:
        """Simulate ``periods`` periods (default: the configured number) under ``policy``.

        ``policy(view)`` returns a treatment index per open case.  With ``check`` the run fails
        when the policy breaks eligibility or a capacity.
        """
        pop, cfg = self.population, self.config
        n_periods = cfg.periods if periods is None else periods
        if n_periods > cfg.periods:
            raise ValueError("more periods than drawn; raise config.periods")
        n, t = pop.n, len(TREATMENTS)
        cost = np.asarray(cfg.cost_fen, dtype=np.int64)
        share = np.asarray(cfg.recovery_share, dtype=np.float64)
        weight = np.asarray(cfg.contact_weight, dtype=np.float64)
        is_contact = weight > 0
        bucket = pop.bucket.copy()
        intensity = pop.contact_intensity.copy()
        z_w = pop.z_willingness.copy()
        paused = np.zeros(n, dtype=bool)
        open_ = np.ones(n, dtype=bool)
        recovered = np.zeros(n, dtype=np.int64)
        spent = np.zeros(n, dtype=np.int64)
        complaints = np.zeros(n, dtype=np.int64)
        contacts = np.zeros(n, dtype=np.int64)
        outcomes: list[PeriodOutcome] = []
        for period in range(n_periods):
            idx = np.flatnonzero(open_)
            view = self._view(period, idx, bucket, intensity, z_w, paused)
            choice = np.asarray(policy(view), dtype=np.int64)
            if choice.shape != (idx.size,):
                raise ValueError(f"policy returned shape {choice.shape}, expected ({idx.size},)")
            if check:
                _check_choice(view, choice, pop)
            pay = self._u_pay[period, idx] < view.oracle_propensity[np.arange(idx.size), choice]
            comp = self._u_complaint[period, idx] < view.oracle_complaint_prob[np.arange(idx.size), choice]
            gained = np.where(pay, np.rint(share[choice] * pop.amount_fen[idx]).astype(np.int64), 0)
            recovered[idx] += gained
            spent[idx] += cost[choice]
            complaints[idx] += comp
            contacts[idx] += is_contact[choice]
            # state transitions
            paused[:] = False
            paused[idx[comp]] = True
            z_w[idx[comp]] -= cfg.willingness_drop_on_complaint
            intensity[idx] = cfg.intensity_decay * intensity[idx] + weight[choice]
            open_[idx[pay]] = False
            still = idx[~pay]
            bucket[still] = np.minimum(bucket[still] + 1, 7)
            counts = np.bincount(choice, minlength=t)
            outcomes.append(PeriodOutcome(
                period=period, open_cases=int(idx.size),
                treated={name: int(c) for name, c in zip(TREATMENTS, counts, strict=True)},
                payers=int(pay.sum()), recovered_fen=int(gained.sum()), cost_fen=int(cost[choice].sum()),
                complaints=int(comp.sum()), contacts=int(is_contact[choice].sum()),
            ))
        customers = pl.DataFrame({
            "customer_id": pop.customer_id,
            "recovered_fen": recovered,
            "cost_fen": spent,
            "net_fen": recovered - spent,
            "complaints": complaints,
            "contacts": contacts,
            "paid": ~open_,
        })
        return SimulationResult(periods=tuple(outcomes), customers=customers)


def _check_choice(view: CaseView, choice: IntArray, pop: Population) -> None:
    rows = np.arange(view.n)
    if np.any((choice < 0) | (choice >= len(view.treatments))):
        raise ValueError("policy chose an unknown treatment")
    if not view.eligible[rows, choice].all():
        raise ValueError("policy chose a treatment blocked by compliance")
    city = view.features["city"].to_numpy()
    for (treatment, c), limit in view.capacities.items():
        j = view.treatments.index(treatment)
        used = int(((choice == j) & (city == c)).sum()) if c is not None else int((choice == j).sum())
        if used > limit:
            raise ValueError(f"policy exceeds capacity of {treatment} in {c or 'all cities'}: {used} > {limit}")
    if "visit" in view.treatments:
        j = view.treatments.index("visit")
        no_team = ~np.isin(city, np.asarray(pop.field_team_cities))
        if np.any((choice == j) & no_team):
            raise ValueError("policy sends a visit to a city without a field team")


def simulate_history(*, n: int, seed: int, config: SimulatorConfig | None = None) -> pl.DataFrame:
    """One period of a randomised policy on a fresh cohort: training data for propensity models.

    Each case gets a uniformly random allowed treatment (capacities ignored: this is the
    exploration arm of past experiments).  Columns: the observable features, ``treatment``
    (index), ``paid`` and ``complained`` (0/1).
    """
    cfg = config or SimulatorConfig()
    pop = make_population(n=n, seed=seed, config=cfg)
    sim = PortfolioSimulator(population=pop, seed=seed, config=cfg)
    rng = np.random.default_rng([seed, 2])
    views: list[CaseView] = []
    choices: list[IntArray] = []

    def explore(view: CaseView) -> IntArray:
        allowed = view.eligible.copy()
        city = view.features["city"].to_numpy()
        allowed[:, 3] &= np.isin(city, np.asarray(pop.field_team_cities))
        scores = np.where(allowed, rng.random(allowed.shape), -1.0)
        choice = np.argmax(scores, axis=1).astype(np.int64)
        views.append(view)
        choices.append(choice)
        return choice

    result = sim.run(policy=explore, periods=1, check=False)
    per = result.customers
    return views[0].features.with_columns(
        treatment=pl.Series(choices[0]),
        paid=per["paid"].cast(pl.Int8),
        complained=per["complaints"].cast(pl.Int8),
    )
