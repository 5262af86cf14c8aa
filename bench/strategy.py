"""Benchmark: optimised treatment strategy vs a rule-based champion in the portfolio simulator.

Strategies, all under the same channel capacities and compliance masks:

* ``champion`` — rules: field visit every M2+ case over 5,000 CNY, call the other M2+ cases,
  SMS the M1 cases (largest amounts first; a full or blocked channel falls back visit → call → SMS);
* ``optimised_oracle`` — the strategy engine fed the simulator's true payment and complaint
  probabilities (upper bound);
* ``optimised_learned`` — the strategy engine fed probabilities from models fitted on simulated
  history (randomised treatments on a separate cohort): one LightGBM classifier per treatment for
  payment, one logistic regression per treatment for complaints.

Both optimised strategies carry a complaint budget per period: at most the expected complaints of
the champion's choice on the same open cases (under the same complaint model), so they may not buy
recovery with complaints.

Replications: R seeded cohorts, each run under every strategy with common random numbers (paired
design); uplift CI from the paired differences (t and bootstrap).  Also: a champion/challenger A/B
in one large cohort (random 50/50 split, capacities split in proportion) analysed with Welch and
bootstrap intervals per customer; and the solve time for 500,000 cases.

Run::

    .venv/bin/python bench/strategy.py            # full run (several minutes)
    .venv/bin/python bench/strategy.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fieldcollect.analytics.experiments import (  # noqa: E402
    bootstrap_uplift,
    paired_uplift,
    welch_uplift,
)
from fieldcollect.analytics.simulator import (  # noqa: E402
    TREATMENTS,
    CaseView,
    PortfolioSimulator,
    SimulatorConfig,
    make_population,
    simulate_history,
)
from fieldcollect.optimisation.strategy import (  # noqa: E402
    Rule,
    RuleStrategy,
    StrategyBuilder,
    StrategyProblem,
    champion_challenger,
    solve,
    split_arms,
)

FEATURES = ["log_amount", "bucket", "bureau_score", "on_time_ratio", "tenure_months", "contact_intensity", "do_not_call"]
CNY_5000 = 500_000


def champion_rules() -> RuleStrategy:
    """Field visit every M2+ case over 5,000 CNY, call the rest (M2+), SMS M1."""

    def big_m2(p: StrategyProblem) -> np.ndarray:
        return (p.attributes["bucket"] >= 2) & (p.amounts_fen > CNY_5000)

    def m2(p: StrategyProblem) -> np.ndarray:
        return p.attributes["bucket"] >= 2

    def m1(p: StrategyProblem) -> np.ndarray:
        return p.attributes["bucket"] == 1

    return RuleStrategy(rules=(
        Rule(big_m2, ("visit", "call", "sms")),
        Rule(m2, ("call", "sms")),
        Rule(m1, ("sms",)),
    ))


def features_frame(f: pl.DataFrame) -> np.ndarray:
    return f.with_columns(log_amount=pl.col("amount_fen").log(), do_not_call=pl.col("do_not_call").cast(pl.Int8)) \
        .select(FEATURES).to_numpy().astype(np.float64)


class LearnedModels:
    """Propensity models fitted on simulated history (observable features only).

    Payment: one LightGBM classifier with the treatment as a categorical feature (an "S-learner":
    the treatments share what they have in common, which halves the noise of per-treatment
    models on this data).  Complaints: one logistic regression per treatment on the on-time
    ratio and the contact intensity (a per-treatment rate when a treatment has almost no complaint).
    """

    def __init__(self, history: pl.DataFrame, seed: int) -> None:
        import lightgbm as lgb
        from sklearn.linear_model import LogisticRegression

        x = features_frame(history)
        t = history["treatment"].to_numpy()
        paid = history["paid"].to_numpy()
        comp = history["complained"].to_numpy()
        self.pay = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=15, min_child_samples=100,
                                      random_state=seed, n_jobs=1, verbose=-1)
        self.pay.fit(np.column_stack([x, t]), paid, categorical_feature=[x.shape[1]])
        self.comp: list[object | float] = []
        for j in range(len(TREATMENTS)):
            m = t == j
            if comp[m].sum() < 5:
                self.comp.append(float(comp[m].mean()))
            else:
                lr = LogisticRegression(max_iter=500)
                lr.fit(x[m][:, [3, 5]], comp[m])  # on_time_ratio, contact_intensity
                self.comp.append(lr)

    def predict(self, f: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = features_frame(f)
        p = np.column_stack([np.asarray(self.pay.predict_proba(np.column_stack([x, np.full(len(x), j)])))[:, 1]
                             for j in range(len(TREATMENTS))])
        c = np.column_stack([
            np.full(len(x), m) if isinstance(m, float) else m.predict_proba(x[:, [3, 5]])[:, 1]  # type: ignore[attr-defined]
            for m in self.comp
        ])
        return np.clip(p, 0, 1), np.clip(c, 0, 1)


def build_problem(view: CaseView, cfg: SimulatorConfig, propensity: np.ndarray, complaint: np.ndarray,
                  budget: float | None = None) -> StrategyProblem:
    f = view.features
    b = StrategyBuilder(costs=dict(zip(TREATMENTS, cfg.cost_fen, strict=True)),
                        recovery_share=dict(zip(TREATMENTS, cfg.recovery_share, strict=True)))
    b.add_cases(case_ids=f["customer_id"].to_numpy(), amounts_fen=f["amount_fen"].to_numpy(),
                cities=f["city"].to_numpy(), propensity=propensity, eligible=view.eligible, complaint_prob=complaint,
                attributes={"bucket": f["bucket"].to_numpy()})
    for (t, c), lim in view.capacities.items():
        b.set_capacity(treatment=t, city=c, limit=lim)
    b.set_complaint_budget(max_expected=budget)
    return b.build()


def make_policies(cfg: SimulatorConfig, models: LearnedModels, stats: dict[str, list[float]]):
    champion = champion_rules()

    def champion_policy(view: CaseView) -> np.ndarray:
        problem = build_problem(view, cfg, view.oracle_propensity, view.oracle_complaint_prob)
        return champion(problem)

    def optimised(kind: str):
        def policy(view: CaseView) -> np.ndarray:
            if kind == "oracle":
                p, c = view.oracle_propensity, view.oracle_complaint_prob
            else:
                p, c = models.predict(view.features)
            base = build_problem(view, cfg, p, c)
            champ = champion(base)
            budget = float(c[np.arange(view.n), champ].sum())
            problem = build_problem(view, cfg, p, c, budget=budget)
            t0 = time.perf_counter()
            result = solve(problem)
            stats[f"seconds_{kind}"].append(time.perf_counter() - t0)
            stats[f"solves_{kind}"].append(result.solves)
            return np.asarray(result.choice)
        return policy

    return {"champion": champion_policy, "optimised_oracle": optimised("oracle"),
            "optimised_learned": optimised("learned")}


def timing_500k(n: int, seed: int) -> dict[str, object]:
    cfg = SimulatorConfig()
    pop = make_population(n=n, seed=seed, config=cfg)
    sim = PortfolioSimulator(population=pop, seed=seed, config=cfg)
    captured: dict[str, CaseView] = {}

    def grab(view: CaseView) -> np.ndarray:
        captured["v"] = view
        return np.zeros(view.n, dtype=np.int64)

    sim.run(policy=grab, periods=1, check=False)
    view = captured["v"]
    t0 = time.perf_counter()
    problem = build_problem(view, cfg, view.oracle_propensity, view.oracle_complaint_prob)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = solve(problem)
    t_solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    expl = result.explanations()
    t_explain = time.perf_counter() - t0
    champ = champion_rules()
    t0 = time.perf_counter()
    champ_choice = champ(problem)
    t_rules = time.perf_counter() - t0
    budget = float(problem.complaint_prob[np.arange(n), champ_choice].sum())
    problem_b = build_problem(view, cfg, view.oracle_propensity, view.oracle_complaint_prob, budget=budget)
    t0 = time.perf_counter()
    result_b = solve(problem_b)
    t_budget = time.perf_counter() - t0
    return {"cases": n, "build_seconds": t_build, "solve_seconds": t_solve, "explain_seconds": t_explain,
            "rules_seconds": t_rules, "solve_with_complaint_budget_seconds": t_budget,
            "budget_solves": result_b.solves, "explanation_rows": expl.height,
            "reasons": dict(expl["reason"].value_counts().iter_rows())}


def ab_experiment(n: int, seed: int, cfg: SimulatorConfig, models: LearnedModels,
                  resamples: int) -> dict[str, object]:
    """One cohort, customers split 50/50 once (seeded) into champion and optimised (learned) arms.

    Every period each arm treats its own open cases with its share of every capacity
    (``champion_challenger`` with the fixed arms); per-customer outcomes are then compared.
    """
    pop = make_population(n=n, seed=seed, config=cfg)
    sim = PortfolioSimulator(population=pop, seed=seed, config=cfg)
    champion = champion_rules()
    shares = {"champion": 0.5, "optimised": 0.5}
    arm_of = dict(zip(pop.customer_id.tolist(), split_arms(n=n, shares=shares, seed=seed).tolist(), strict=True))

    def optimised(problem: StrategyProblem) -> np.ndarray:
        champ = champion(problem)
        budget = float(problem.complaint_prob[np.arange(problem.n_cases), champ].sum())
        return np.asarray(solve(problem.with_complaint_budget(max_expected=budget)).choice)

    def policy(view: CaseView) -> np.ndarray:
        p, c = models.predict(view.features)
        problem = build_problem(view, cfg, p, c)
        arms = [arm_of[i] for i in view.features["customer_id"].to_list()]
        assignment = champion_challenger(problem, strategies={"champion": champion, "optimised": optimised},
                                         shares=shares, seed=seed, arms=arms)
        return np.asarray(assignment.choice)

    result = sim.run(policy=policy)
    per = result.customers.with_columns(arm=pl.Series([arm_of[i] for i in result.customers["customer_id"].to_list()]))
    out: dict[str, object] = {"customers": n, "shares": shares}
    for metric in ("net_fen", "complaints", "paid"):
        a = per.filter(pl.col("arm") == "champion")[metric].cast(pl.Float64).to_numpy()
        b = per.filter(pl.col("arm") == "optimised")[metric].cast(pl.Float64).to_numpy()
        out[metric] = {"welch": welch_uplift(control=a, treatment=b).as_dict(),
                       "bootstrap": bootstrap_uplift(control=a, treatment=b, n_resamples=resamples,
                                                     seed=seed).as_dict()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--history", type=int, default=60_000)
    ap.add_argument("--ab-customers", type=int, default=100_000)
    ap.add_argument("--timing-cases", type=int, default=500_000)
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "strategy.json")
    args = ap.parse_args()
    if args.quick:
        args.customers, args.replications, args.history = 3000, 4, 20_000
        args.ab_customers, args.timing_cases, args.resamples = 10_000, 50_000, 300
    console = Console(width=150)
    cfg = SimulatorConfig()
    t_start = time.perf_counter()

    console.print(f"fitting propensity models on {args.history:,} simulated history rows")
    history = simulate_history(n=args.history, seed=10_000 + args.seed, config=cfg)
    models = LearnedModels(history, seed=args.seed)

    stats: dict[str, list[float]] = {"seconds_oracle": [], "seconds_learned": [], "solves_oracle": [],
                                     "solves_learned": []}
    policies = make_policies(cfg, models, stats)
    rows: list[dict[str, object]] = []
    for r in range(args.replications):
        seed = args.seed * 1000 + r
        pop = make_population(n=args.customers, seed=seed, config=cfg)
        for name, policy in policies.items():
            sim = PortfolioSimulator(population=pop, seed=seed, config=cfg)
            tot = sim.run(policy=policy).totals()
            rows.append({"replication": r, "strategy": name, **tot})
        console.print(f"replication {r + 1}/{args.replications} done "
                      f"({time.perf_counter() - t_start:.0f}s)")
    frame = pl.DataFrame(rows)

    def col(strategy: str, metric: str) -> np.ndarray:
        return frame.filter(pl.col("strategy") == strategy).sort("replication")[metric].cast(pl.Float64).to_numpy()

    summary: dict[str, object] = {}
    table = Table(title=f"strategy vs champion: {args.replications} cohorts × {args.customers:,} customers, "
                        f"{cfg.periods} periods (paired, 95% CI)")
    for c in ("strategy", "net recovery / cohort (CNY)", "uplift vs champion (CNY) [95% CI]", "uplift %",
              "complaints / 1000 cust.", "Δ complaints [95% CI]"):
        table.add_column(c)
    for name in policies:
        net = col(name, "net_fen") / 100
        comp = col(name, "complaints_per_1000_customers")
        entry: dict[str, object] = {
            "net_recovery_cny_mean": float(net.mean()),
            "net_recovery_cny_sd": float(net.std(ddof=1)),
            "complaints_per_1000_customers_mean": float(comp.mean()),
            "complaints_per_10000_contacts_mean": float(col(name, "complaints_per_10000_contacts").mean()),
            "recovered_cny_mean": float(col(name, "recovered_fen").mean() / 100),
            "cost_cny_mean": float(col(name, "cost_fen").mean() / 100),
            "payers_mean": float(col(name, "payers").mean()),
        }
        if name != "champion":
            up = paired_uplift(control=col("champion", "net_fen") / 100, treatment=net)
            up_b = paired_uplift(control=col("champion", "net_fen") / 100, treatment=net, method="bootstrap",
                                 n_resamples=args.resamples, seed=args.seed)
            dc = paired_uplift(control=col("champion", "complaints_per_1000_customers"), treatment=comp)
            dc_b = paired_uplift(control=col("champion", "complaints_per_1000_customers"), treatment=comp,
                                 method="bootstrap", n_resamples=args.resamples, seed=args.seed)
            entry["net_uplift"] = up.as_dict()
            entry["net_uplift_bootstrap"] = up_b.as_dict()
            entry["complaint_delta_per_1000"] = dc.as_dict()
            entry["complaint_delta_per_1000_bootstrap"] = dc_b.as_dict()
            entry["target_met"] = bool(up.ci_low > 0 and up_b.ci_low > 0 and dc.uplift <= 0)
            table.add_row(name, f"{net.mean():,.0f}", f"{up.uplift:,.0f} [{up.ci_low:,.0f}, {up.ci_high:,.0f}]",
                          f"{100 * up.relative_uplift:.1f}%", f"{comp.mean():.2f}",
                          f"{dc.uplift:+.2f} [{dc.ci_low:+.2f}, {dc.ci_high:+.2f}]")
        else:
            table.add_row(name, f"{net.mean():,.0f}", "—", "—", f"{comp.mean():.2f}", "—")
        summary[name] = entry
    console.print(table)

    console.print(f"A/B experiment in one cohort of {args.ab_customers:,} customers")
    ab = ab_experiment(args.ab_customers, 777 + args.seed, cfg, models, args.resamples)
    ab_table = Table(title="champion/challenger A/B (per customer, 95% CI)")
    for c in ("metric", "champion mean", "optimised mean", "uplift", "Welch CI", "bootstrap CI"):
        ab_table.add_column(c)
    for metric in ("net_fen", "complaints", "paid"):
        w = ab[metric]["welch"]  # type: ignore[index]
        b = ab[metric]["bootstrap"]  # type: ignore[index]
        ab_table.add_row(metric, f"{w['mean_control']:.4f}", f"{w['mean_treatment']:.4f}", f"{w['uplift']:.4f}",
                         f"[{w['ci_low']:.4f}, {w['ci_high']:.4f}]", f"[{b['ci_low']:.4f}, {b['ci_high']:.4f}]")
    console.print(ab_table)

    console.print(f"timing: {args.timing_cases:,} cases")
    timing = timing_500k(args.timing_cases, 4242 + args.seed)
    t_table = Table(title=f"strategy engine on {args.timing_cases:,} cases")
    t_table.add_column("step")
    t_table.add_column("seconds")
    for k in ("build_seconds", "solve_seconds", "explain_seconds", "rules_seconds",
              "solve_with_complaint_budget_seconds"):
        t_table.add_row(k, f"{timing[k]:.2f}")
    console.print(t_table)

    out = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "design": {
            "customers_per_cohort": args.customers, "replications": args.replications, "periods": cfg.periods,
            "history_rows": args.history, "capacities_per_period": {
                "visit_share_per_city": cfg.visit_share_per_city, "call_share": cfg.call_share,
                "restructure_share": cfg.restructure_share, "legal_share": cfg.legal_share},
            "complaint_budget": "per period, expected complaints of the champion's choice on the same cases",
            "ci": "paired over cohorts (common random numbers): t interval and percentile bootstrap",
        },
        "strategies": summary,
        "per_replication": frame.to_dicts(),
        "optimiser_seconds_per_period": {k: float(np.mean(v)) if v else None for k, v in stats.items()},
        "ab_experiment": ab,
        "timing": timing,
        "total_seconds": time.perf_counter() - t_start,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
