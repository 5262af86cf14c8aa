"""Treatment choice for the open delinquent cases (pure: no Django).

Propensity of payment per treatment (none, SMS, call, field visit, restructure offer, legal) comes from
an S-learner (one LightGBM classifier with the treatment as a feature) fitted on the randomised
history of the portfolio simulator (:func:`fieldcollect.analytics.simulator.simulate_history`):
the bank has no record yet of randomised treatments on its own cases, so the simulator's documented
assumptions stand in until champion/challenger experiments on real cases exist. Only features a
real case has are used; the bureau score, which the bank's export lacks, is set to the simulated
population's median for every real case.

Observable features of a real case (as of the business date):

* ``amount_fen`` — overdue amount; ``bucket`` — M1 = 1 … M6+ = 6;
* ``on_time_ratio`` — 1 − share of instalments paid late (store features, payments up to the date);
* ``tenure_months`` — months since disbursement;
* ``contact_intensity`` — contacts of the last 30 days weighted SMS 0.5, call 1, visit 1.5;
* ``do_not_call`` — no valid number; ``paused`` — an active complaint/dispute/cease/attorney/deceased
  flag (no contact at all).

The choice is :func:`fieldcollect.optimisation.strategy.solve` (min-cost flow) under channel
capacities: field visits per city that has field collectors, calls per day, restructure offers and
legal referrals per day; eligibility follows the simulator's compliance rules (legal from M3 and
2,000 CNY, restructure from M2) plus the debtor's flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from fieldcollect.analytics.simulator import TREATMENTS, SimulatorConfig, simulate_history
from fieldcollect.optimisation.strategy import StrategyBuilder, StrategyProblem

BUCKET_INDEX = {"M1": 1, "M2": 2, "M3": 3, "M4": 4, "M5": 5, "M6": 6, "M6+": 6}
OBSERVABLE = ("log_amount", "bucket", "bureau_score", "on_time_ratio", "tenure_months", "contact_intensity",
              "do_not_call")
CASE_COLUMNS = ("case_id", "city", "amount_fen", "bucket", "on_time_ratio", "tenure_months", "contact_intensity",
                "do_not_call", "paused")
CONTACT_WEIGHTS = {"sms": 0.5, "wechat": 0.5, "phone": 1.0, "call": 1.0, "visit": 1.5, "letter": 0.0, "email": 0.0}


def _matrix(frame: pl.DataFrame, bureau: float | None = None) -> np.ndarray:
    f = frame.with_columns(log_amount=pl.col("amount_fen").clip(lower_bound=1).cast(pl.Float64).log(),
                           do_not_call=pl.col("do_not_call").cast(pl.Int8))
    if bureau is not None:
        f = f.with_columns(bureau_score=pl.lit(bureau))
    return f.select(OBSERVABLE).to_numpy().astype(np.float64)


@dataclass
class PropensityModel:
    """Probability of payment and of a complaint per treatment for observable case features."""

    pay: Any
    complaint_rate: np.ndarray
    bureau_median: float
    source: dict[str, Any]

    @classmethod
    def fit_on_simulated_history(cls, *, n: int = 20_000, seed: int = 0) -> PropensityModel:
        import lightgbm as lgb

        history = simulate_history(n=n, seed=seed)
        x = _matrix(history)
        t = history["treatment"].to_numpy()
        pay = lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=100,
                                 random_state=seed, n_jobs=1, verbose=-1)
        pay.fit(np.column_stack([x, t]), history["paid"].to_numpy(), categorical_feature=[x.shape[1]])
        complained = history["complained"].to_numpy()
        rate = np.array([complained[t == j].mean() if (t == j).any() else 0.0 for j in range(len(TREATMENTS))])
        return cls(pay=pay, complaint_rate=rate, bureau_median=float(np.median(history["bureau_score"].to_numpy())),
                   source={"history": "simulated", "rows": n, "seed": seed, "learner": "LightGBM S-learner"})

    def predict(self, cases: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = _matrix(cases, bureau=self.bureau_median)
        p = np.column_stack([self.pay.predict_proba(np.column_stack([x, np.full(len(x), j)]))[:, 1]
                             for j in range(len(TREATMENTS))]) if len(x) else np.zeros((0, len(TREATMENTS)))
        c = np.tile(self.complaint_rate, (len(x), 1))
        return np.clip(p, 0.0, 1.0), np.clip(c, 0.0, 1.0)


def eligibility(cases: pl.DataFrame, config: SimulatorConfig | None = None) -> np.ndarray:
    cfg = config or SimulatorConfig()
    n = cases.height
    ok = np.ones((n, len(TREATMENTS)), dtype=bool)
    paused = cases["paused"].to_numpy().astype(bool)
    bucket = cases["bucket"].to_numpy()
    amount = cases["amount_fen"].to_numpy()
    ok[:, 1:] &= ~paused[:, None]
    idx = {t: i for i, t in enumerate(TREATMENTS)}
    ok[:, idx["call"]] &= ~cases["do_not_call"].to_numpy().astype(bool)
    ok[:, idx["restructure"]] &= bucket >= cfg.restructure_min_bucket
    ok[:, idx["legal"]] &= (bucket >= cfg.legal_min_bucket) & (amount >= cfg.legal_min_amount_cny * 100)
    return ok


def build_problem(cases: pl.DataFrame, *, model: PropensityModel, visit_cities: dict[str, int], calls: int,
                  restructures: int, legal: int, config: SimulatorConfig | None = None) -> StrategyProblem:
    """The strategy problem of ``cases`` (columns :data:`CASE_COLUMNS`) under the given capacities."""
    cfg = config or SimulatorConfig()
    p, c = model.predict(cases)
    b = StrategyBuilder(costs=dict(zip(TREATMENTS, cfg.cost_fen, strict=True)),
                        recovery_share=dict(zip(TREATMENTS, cfg.recovery_share, strict=True)))
    b.add_cases(case_ids=cases["case_id"].to_numpy(), amounts_fen=cases["amount_fen"].to_numpy().astype(np.int64),
                cities=cases["city"].to_numpy(), propensity=p, eligible=eligibility(cases, cfg), complaint_prob=c,
                attributes={"bucket": cases["bucket"].to_numpy()})
    for city, limit in sorted(visit_cities.items()):
        b.set_capacity(treatment="visit", city=city, limit=limit)
    if not visit_cities:
        b.set_capacity(treatment="visit", limit=0)
    b.set_capacity(treatment="call", limit=calls)
    b.set_capacity(treatment="restructure", limit=restructures)
    b.set_capacity(treatment="legal", limit=legal)
    return b.build()


__all__ = ["BUCKET_INDEX", "CASE_COLUMNS", "CONTACT_WEIGHTS", "PropensityModel", "build_problem", "eligibility"]
