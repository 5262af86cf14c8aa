"""Benchmark: optimal case allocation (min-cost flow) vs greedy, with optimality checked in the same run.

Full size (default): 500,000 cases × 100 agencies, ~10 eligible agencies per case (5M pairs), seeded.
- min-cost flow (OR-Tools) via ``fieldcollect.optimisation.allocation.solve``: time, peak RSS, objective;
- dual certificate at full size (reduced costs ≥ 0 on every arc and dual objective == primal), plus the
  LP bound re-evaluated independently from the prices with ``lp_upper_bound``;
- greedy-by-value baseline on the same capacities: uplift and time ratio;
- on a smaller instance (default 20,000 cases) the same solver against scipy ``linprog`` (HiGHS);
- customer-level placement on another instance (default 100,000 cases, half of them in customers of
  2-3 loans): the grouped solve (bounded by ``--time-limit``) never splits a customer, is within 0.1 %
  of the relaxation's bound (called optimal only when proven) and is worth no more than the ungrouped
  optimum of the same instance; side by side with the relaxation alone (value ratio, seconds).
  ``--only-grouped`` runs this check alone (written to ``--out`` only when given).

Run: ``.venv/bin/python bench/allocation.py`` (``--cases``/``--lp-cases``/``--group-cases`` to change
sizes; ``--smoke``: 5,000 cases, checks only, written to a temporary file). Exits 1 when a check fails.
Writes ``bench/results/allocation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fieldcollect.optimisation.allocation import (  # noqa: E402
    AllocationProblem,
    build_problem,
    greedy,
    grouped_relaxation_bound,
    lp_upper_bound,
    solve,
)


def generate(*, n_cases: int, n_agencies: int, per_case: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded instance: value = P(recover) × amount × (1 − commission) − visit cost, in fen."""
    rng = np.random.default_rng(seed)
    amount_fen = np.exp(rng.normal(np.log(800_000), 0.9, n_cases)).astype(np.int64)  # median 8,000 CNY
    case_logit = rng.normal(-1.4, 1.0, n_cases)
    skill = rng.normal(0.0, 0.35, n_agencies)
    commission = rng.uniform(0.15, 0.35, n_agencies)
    visit_cost_fen = rng.integers(15_000, 40_000, n_agencies)
    # eligible agencies per case: a random subset of `per_case` (regions served, contract buckets)
    eligible = np.argpartition(rng.random((n_cases, n_agencies), dtype=np.float32), per_case, axis=1)[:, :per_case]
    case = np.repeat(np.arange(n_cases, dtype=np.int64), per_case)
    agency = eligible.ravel().astype(np.int64)
    logit = case_logit[case] + skill[agency] + rng.normal(0.0, 0.3, len(case))
    prob = 1.0 / (1.0 + np.exp(-logit))
    value = np.floor(prob * amount_fen[case] * (1.0 - commission[agency])).astype(np.int64) - visit_cost_fen[agency]
    share = rng.dirichlet(np.full(n_agencies, 2.0))
    capacity = np.maximum(1, np.floor(share * 0.8 * n_cases)).astype(np.int64)  # 80% of the cases fit
    return {"case": case, "agency": agency, "value": value, "capacity": capacity,
            "agencies": np.arange(n_agencies, dtype=np.int64)}


class PeakRss:
    """Sample the process RSS every 20 ms (C++ allocations are invisible to tracemalloc)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def scipy_lp(problem: AllocationProblem) -> tuple[float, float]:
    """Objective (fen) and seconds of the LP relaxation solved by scipy's HiGHS."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    t0 = time.perf_counter()
    pos = np.flatnonzero(problem.pair_value > 0)
    k = len(pos)
    rows = np.concatenate([problem.pair_case[pos], problem.n_cases + problem.pair_agency[pos]])
    cols = np.concatenate([np.arange(k), np.arange(k)])
    a = coo_matrix((np.ones(2 * k), (rows, cols)), shape=(problem.n_cases + problem.n_agencies, k)).tocsr()
    b = np.concatenate([np.ones(problem.n_cases), problem.capacity.astype(float)])
    res = linprog(-problem.pair_value[pos].astype(float), A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    if res.status != 0:
        raise RuntimeError(res.message)
    return -float(res.fun), time.perf_counter() - t0


def grouped_check(*, n_cases: int, n_agencies: int, per_case: int, seed: int, share: float,
                  time_limit_s: float) -> dict[str, Any]:
    """Customer-level placement: ``share`` of the cases in customers of 2-3 loans, solved grouped (whole
    per customer, bounded by ``time_limit_s``), side by side with the relaxation alone (its bound)."""
    data = generate(n_cases=n_cases, n_agencies=n_agencies, per_case=per_case, seed=seed)
    rng = np.random.default_rng(seed)
    customer = np.arange(n_cases, dtype=np.int64)
    k = 0
    while k < int(n_cases * share):
        size = int(rng.integers(2, 4))
        customer[k : k + size] = k
        k += size
    # a customer's loans share the eligible agencies (regions served): copy the first loan's agencies
    case, agency = data["case"], data["agency"].copy()
    first = customer[case] * per_case + (np.arange(len(case)) % per_case)
    agency = agency[first]
    ungrouped = solve(build_problem(case_ids=case, agency_ids=agency, values_fen=data["value"],
                                    capacity_agency_ids=data["agencies"], capacities=data["capacity"]))
    problem = build_problem(case_ids=case, agency_ids=agency, values_fen=data["value"],
                            capacity_agency_ids=data["agencies"], capacities=data["capacity"],
                            group_case_ids=np.arange(n_cases), group_ids=customer)
    t0 = time.perf_counter()
    relaxation = grouped_relaxation_bound(problem)
    relaxation_s = time.perf_counter() - t0
    result = solve(problem, time_limit_s=time_limit_s)
    result.validate()  # raises if a customer is split, an agency over capacity, or the objective is off
    cert = result.certificate
    return {
        "cases": n_cases, "pairs": problem.n_pairs, "agencies": n_agencies,
        "customers_with_several_loans": len(np.unique(customer[:k])), "cases_in_such_customers": k,
        "time_limit_s": time_limit_s,
        "objective_fen": result.objective_fen, "ungrouped_objective_fen": ungrouped.objective_fen,
        "relaxation_bound_fen": relaxation, "relaxation_seconds": round(relaxation_s, 3),
        "bound_fen": cert.dual_fen, "gap_fen": cert.gap_fen, "gap_ratio": cert.gap_ratio,
        "objective_over_relaxation": result.objective_fen / relaxation if relaxation else 1.0,
        "time_over_relaxation": round(result.seconds / relaxation_s, 2) if relaxation_s else None,
        "cases_placed": result.n_placed, "seconds": round(result.seconds, 3),
        "solved_by": result.solved_by, "time_limit_hit": result.time_limit_hit,
        "never_split": True, "certificate_optimal": cert.optimal,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def grouped_only(args: argparse.Namespace, console: Console) -> None:
    """``--only-grouped``: the customer-level check alone; writes ``--out`` only when given."""
    g = grouped_check(n_cases=args.group_cases, n_agencies=args.agencies, per_case=args.per_case,
                      seed=args.seed + 2, share=args.group_share, time_limit_s=args.time_limit)
    out = {"benchmark": "allocation.customer_level", "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
           "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
           "seed": args.seed, "customer_level": g}
    console.print_json(json.dumps(out))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")
        console.print(f"wrote {args.out}")
    if not (g["gap_ratio"] <= 1e-3 and g["certificate_optimal"] == (g["gap_fen"] == 0)):
        console.print("FAILED: customer-level gap above 0.1 % or optimal without proof")
        sys.exit(1)


def cny(fen: int) -> str:
    q, r = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{q:,}.{r:02d}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=500_000)
    ap.add_argument("--agencies", type=int, default=100)
    ap.add_argument("--per-case", type=int, default=10)
    ap.add_argument("--lp-cases", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--group-cases", type=int, default=100_000)
    ap.add_argument("--group-share", type=float, default=0.5, help="share of the cases in customers of 2-3 loans")
    ap.add_argument("--time-limit", type=float, default=10.0, help="CP-SAT time limit of the grouped solve (s)")
    ap.add_argument("--only-grouped", action="store_true", help="the customer-level check alone")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--smoke", action="store_true", help="small sizes (5,000 cases, 20 agencies), checks only")
    args = ap.parse_args()
    if args.smoke:
        args.cases, args.agencies, args.lp_cases, args.group_cases = 5_000, 20, 2_000, 5_000
        args.out = args.out or Path(tempfile.mkdtemp(prefix="fc-allocation-")) / "allocation.json"
    console = Console()
    if args.only_grouped:
        grouped_only(args, console)
        return
    args.out = args.out or ROOT / "bench" / "results" / "allocation.json"

    t0 = time.perf_counter()
    data = generate(n_cases=args.cases, n_agencies=args.agencies, per_case=args.per_case, seed=args.seed)
    gen_s = time.perf_counter() - t0
    console.print(f"generated {len(data['value']):,} pairs in {gen_s:.1f} s")

    rss_before = psutil.Process().memory_info().rss
    with PeakRss() as mem:
        c0 = time.process_time()
        t0 = time.perf_counter()
        problem = build_problem(case_ids=data["case"], agency_ids=data["agency"], values_fen=data["value"],
                                capacity_agency_ids=data["agencies"], capacities=data["capacity"])
        build_s = time.perf_counter() - t0
        result = solve(problem)
        solve_s = result.seconds
        flow_cpu_s = time.process_time() - c0
    flow_total_s = build_s + solve_s
    result.validate()
    cert = result.certificate
    t0 = time.perf_counter()
    bound = lp_upper_bound(problem, prices_fen=result.agency_price_fen)
    bound_s = time.perf_counter() - t0

    c0 = time.process_time()
    g = greedy(problem)
    greedy_cpu_s = time.process_time() - c0
    t0 = time.perf_counter()
    expl = result.explanations()
    expl_s = time.perf_counter() - t0

    lp_data = generate(n_cases=args.lp_cases, n_agencies=args.agencies, per_case=args.per_case, seed=args.seed + 1)
    small = build_problem(case_ids=lp_data["case"], agency_ids=lp_data["agency"], values_fen=lp_data["value"],
                          capacity_agency_ids=lp_data["agencies"], capacities=lp_data["capacity"])
    small_res = solve(small)
    lp_obj, lp_s = scipy_lp(small)
    small_greedy = greedy(small)

    grouped = grouped_check(n_cases=args.group_cases, n_agencies=args.agencies, per_case=args.per_case,
                            seed=args.seed + 2, share=args.group_share, time_limit_s=args.time_limit)

    uplift = result.objective_fen - g.objective_fen
    figures = {
        "full": {
            "cases": problem.n_cases, "agencies": problem.n_agencies, "pairs": problem.n_pairs,
            "capacity_total": int(problem.capacity.sum()),
            "build_seconds": round(build_s, 3), "solve_seconds": round(solve_s, 3),
            "flow_total_seconds": round(flow_total_s, 3),
            "flow_total_cpu_seconds": round(flow_cpu_s, 3),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "peak_rss_mib_during_solve": round(mem.peak / 2**20, 1),
            "rss_mib_before_solve": round(rss_before / 2**20, 1),
            "process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "objective_fen": result.objective_fen, "objective_cny": cny(result.objective_fen),
            "cases_placed": result.n_placed,
            "certificate": {"primal_fen": cert.primal_fen, "dual_fen": cert.dual_fen,
                            "min_reduced_cost_fen": cert.min_reduced_cost_fen, "optimal": cert.optimal},
            "lp_upper_bound_fen": bound, "lp_upper_bound_seconds": round(bound_s, 3),
            "objective_equals_lp_bound": bound == result.objective_fen,
            "greedy_objective_fen": g.objective_fen, "greedy_seconds": round(g.seconds, 3),
            "greedy_cpu_seconds": round(greedy_cpu_s, 3),
            "greedy_cases_placed": int((g.assigned >= 0).sum()),
            "uplift_fen": uplift, "uplift_pct": round(100 * uplift / g.objective_fen, 3),
            "time_ratio_flow_over_greedy": round(flow_total_s / g.seconds, 2),
            "cpu_time_ratio_flow_over_greedy": round(flow_cpu_s / greedy_cpu_s, 2),
            "explanations_seconds": round(expl_s, 3), "explained_placements": len(expl["case"]),
            "within_target_20s_wall": flow_total_s <= 20.0,
            "within_target_20s_cpu": flow_cpu_s <= 20.0,
            "within_target_4gib": mem.peak <= 4 * 2**30,
        },
        "lp_check": {
            "cases": small.n_cases, "pairs": small.n_pairs,
            "flow_objective_fen": small_res.objective_fen, "flow_seconds": round(small_res.seconds, 3),
            "scipy_highs_objective_fen": lp_obj, "scipy_highs_seconds": round(lp_s, 3),
            "equal": abs(lp_obj - small_res.objective_fen) < 0.5,
            "certificate_optimal": small_res.certificate.optimal,
            "greedy_objective_fen": small_greedy.objective_fen,
        },
        "customer_level": grouped,
    }
    out = {
        "benchmark": "allocation",
        "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "note": "shared, noisy machine (other agents running); ratios are from the same run"},
        "seed": args.seed,
        "generation_seconds": round(gen_s, 3),
        **figures,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")

    f = figures["full"]
    t = Table(title=f"Allocation: {f['cases']:,} cases × {f['agencies']} agencies, {f['pairs']:,} pairs")
    t.add_column("figure")
    t.add_column("value", justify="right")
    rows = [
        ("min-cost flow: build + solve + certificate, wall (s)", f"{flow_total_s:.2f}"),
        ("  same, CPU time of this process (s)", f"{flow_cpu_s:.2f}"),
        ("  of which build (s)", f"{build_s:.2f}"),
        ("peak RSS during solve (MiB)", f"{f['peak_rss_mib_during_solve']:,}"),
        ("objective (CNY)", cny(result.objective_fen)),
        ("dual objective (CNY)", cny(cert.dual_fen)),
        ("LP bound re-evaluated (CNY)", cny(bound)),
        ("min reduced cost (fen)", str(cert.min_reduced_cost_fen)),
        ("certified optimal", str(cert.optimal and bound == result.objective_fen)),
        ("cases placed", f"{result.n_placed:,}"),
        ("greedy objective (CNY)", cny(g.objective_fen)),
        ("greedy time, wall / CPU (s)", f"{g.seconds:.2f} / {greedy_cpu_s:.2f}"),
        ("uplift over greedy", f"{cny(uplift)} CNY ({f['uplift_pct']}%)"),
        ("time ratio flow / greedy, wall / CPU", f"{f['time_ratio_flow_over_greedy']} / {f['cpu_time_ratio_flow_over_greedy']}"),
        ("load average (1 min) at end", f"{f['load_average_1m_at_end']}"),
        (f"LP check {small.n_cases:,} cases: flow = HiGHS", f"{figures['lp_check']['equal']}"),
        ("  flow / HiGHS seconds", f"{small_res.seconds:.2f} / {lp_s:.2f}"),
        (f"customers {grouped['cases']:,} cases: never split, proven optimal", f"{grouped['never_split']}, "
         f"{grouped['certificate_optimal']}"),
        ("  gap to the relaxation's bound (CNY, share)", f"{cny(grouped['gap_fen'])} ({grouped['gap_ratio']:.2e})"),
        ("  whole / relaxation alone: value ratio, seconds", f"{grouped['objective_over_relaxation']:.6f}, "
         f"{grouped['seconds']} / {grouped['relaxation_seconds']}"),
        ("  grouped / ungrouped objective (CNY)", f"{cny(grouped['objective_fen'])} / "
         f"{cny(grouped['ungrouped_objective_fen'])}"),
    ]
    for r in rows:
        t.add_row(*r)
    console.print(t)
    console.print(f"wrote {args.out}")
    checks = {
        "full_certified": cert.optimal and bound == result.objective_fen,
        "lp_check_equal": figures["lp_check"]["equal"],
        "customer_level_never_split": grouped["never_split"],
        # whole per customer: within 0.1 % of the relaxation's bound (optimal only when proven)
        "customer_level_gap_small": grouped["gap_ratio"] <= 1e-3,
        "customer_level_optimal_only_when_proven": grouped["certificate_optimal"] == (grouped["gap_fen"] == 0),
        "customer_level_not_above_ungrouped": grouped["objective_fen"] <= grouped["ungrouped_objective_fen"],
    }
    failed = [k for k, ok in checks.items() if not ok]
    if failed:
        console.print(f"FAILED checks: {failed}")
        sys.exit(1)


if __name__ == "__main__":
    main()
