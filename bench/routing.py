"""Solomon VRPTW benchmark for the route planner (issue 7, part 6).

Runs every bundled instance (``fieldcollect/optimisation/solomon_data/instances``) one after the other on
one core (PyVRP is single-threaded), checks each solution with our own checker
(:func:`fieldcollect.optimisation.solomon.check_solution`), and reports:

* the gap to the distance-only reference solution (``.sol`` / ``dimacs_distance``), both measured
  with arcs truncated to one decimal (DIMACS) — this is the target (mean ≤ 1.0 % at 10 s);
* the gap to the SINTEF best known solution (``bks_*``), which is hierarchical (fewest vehicles
  first) and in double precision: our routes are re-measured without truncation and re-checked
  for feasibility in double precision. A distance-first solver often uses more vehicles than the
  BKS and then beats its distance, so this gap can be negative and is reported for context only.

Usage::

    .venv/bin/python bench/routing.py                      # 10 s per instance, writes bench/results/routing.json
    .venv/bin/python bench/routing.py --time-limit 2 --instances C101,R108 --out /tmp/routing.json
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fieldcollect.optimisation.solomon import (  # noqa: E402
    bundled_instances,
    check_solution,
    read_bks,
    read_instance,
)
from fieldcollect.optimisation.solomon_run import solve_solomon  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "results" / "routing.json"
TARGET_MEAN_GAP_PCT = 1.0


def _machine() -> dict[str, Any]:
    import pyvrp

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "pyvrp": pyvrp.__version__ if hasattr(pyvrp, "__version__") else "0.14.x",
    }
    info["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def _pct(value: float, ref: float) -> float:
    return 100.0 * (value - ref) / ref


def main(
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds per instance")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    instances: Annotated[str, typer.Option(help="Comma-separated subset, e.g. C101,R108 (default: all)")] = "",
    out: Annotated[Path, typer.Option(help="Where to write the JSON results")] = DEFAULT_OUT,
    clock: Annotated[
        str, typer.Option(help="wall: wall-clock seconds; cpu: process CPU seconds (one core, fair on a busy machine)")
    ] = "wall",
) -> None:
    """Run the benchmark, print a Rich table and write the JSON results."""
    from importlib.metadata import version

    if clock not in ("wall", "cpu"):
        raise typer.BadParameter("clock must be wall or cpu")
    console = Console(width=150)
    files = bundled_instances()
    names = sorted(files)
    if instances:
        wanted = [n.strip().upper() for n in instances.split(",") if n.strip()]
        missing = sorted(set(wanted) - set(names))
        if missing:
            raise typer.BadParameter(f"unknown instances: {missing}")
        names = [n for n in names if n in wanted]
    bks = read_bks()
    machine = _machine()
    machine["pyvrp"] = version("pyvrp")
    started = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    with console.status("") as status:
        for k, name in enumerate(names, start=1):
            status.update(f"[{k}/{len(names)}] {name} ({time_limit:g} s {clock})")
            inst = read_instance(files[name])
            run = solve_solomon(inst, time_limit=time_limit, seed=seed, clock="cpu" if clock == "cpu" else "wall")
            dimacs = check_solution(inst, run.routes, convention="dimacs")
            exact = check_solution(inst, run.routes, convention="exact")
            ref = bks[name]
            rows.append(
                {
                    "instance": name,
                    "family": ref.family,
                    "feasible": dimacs.feasible,
                    "violations": list(dimacs.violations),
                    "vehicles": run.vehicles,
                    "distance": dimacs.distance,
                    "ref_vehicles": ref.dimacs_vehicles,
                    "ref_distance": ref.dimacs_distance,
                    "gap_ref_pct": round(_pct(dimacs.distance, ref.dimacs_distance), 4),
                    "exact_distance": round(exact.distance, 4),
                    "feasible_exact": exact.feasible,
                    "bks_vehicles": ref.bks_vehicles,
                    "bks_distance": ref.bks_distance,
                    "gap_bks_pct": round(_pct(exact.distance, ref.bks_distance), 4),
                    "seconds": round(run.seconds, 3),
                    "cpu_seconds": round(run.cpu_seconds, 3),
                    "iterations": run.iterations,
                    "routes": [list(r) for r in run.routes],
                }
            )
    finished = datetime.now(UTC)
    machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    table = Table(title=f"Solomon VRPTW, {time_limit:g} s ({clock}) per instance, seed {seed}")
    for col in (
        "instance", "feas.", "veh./ref", "distance", "ref", "gap ref %", "exact", "BKS (veh.)", "gap BKS %", "wall s", "CPU s", "iter.",
    ):
        table.add_column(col, justify="left" if col == "instance" else "right")
    for r in rows:
        table.add_row(
            r["instance"],
            "yes" if r["feasible"] else "[red]NO[/]",
            f"{r['vehicles']}/{r['ref_vehicles']}",
            f"{r['distance']:.1f}",
            f"{r['ref_distance']:.1f}",
            f"{r['gap_ref_pct']:.2f}",
            f"{r['exact_distance']:.2f}" + ("" if r["feasible_exact"] else "*"),
            f"{r['bks_distance']:.2f} ({r['bks_vehicles']})",
            f"{r['gap_bks_pct']:.2f}",
            f"{r['seconds']:.1f}",
            f"{r['cpu_seconds']:.1f}",
            str(r["iterations"]),
        )
    console.print(table)

    gaps = [r["gap_ref_pct"] for r in rows]
    families: dict[str, list[float]] = {}
    for r in rows:
        families.setdefault(r["family"], []).append(r["gap_ref_pct"])
    summary = {
        "instances": len(rows),
        "all_feasible": all(r["feasible"] for r in rows),
        "feasible": sum(r["feasible"] for r in rows),
        "feasible_exact": sum(r["feasible_exact"] for r in rows),
        "mean_gap_ref_pct": round(statistics.fmean(gaps), 4) if gaps else None,
        "max_gap_ref_pct": round(max(gaps), 4) if gaps else None,
        "median_gap_ref_pct": round(statistics.median(gaps), 4) if gaps else None,
        "instances_at_or_below_ref": sum(g <= 1e-9 for g in gaps),
        "mean_gap_ref_pct_by_family": {f: round(statistics.fmean(v), 4) for f, v in sorted(families.items())},
        "mean_gap_bks_pct": round(statistics.fmean(r["gap_bks_pct"] for r in rows), 4) if rows else None,
        "vehicles_total": sum(r["vehicles"] for r in rows),
        "ref_vehicles_total": sum(r["ref_vehicles"] for r in rows),
        "bks_vehicles_total": sum(r["bks_vehicles"] for r in rows),
        "wall_seconds": round((finished - started).total_seconds(), 1),
        "mean_cpu_seconds_per_instance": round(statistics.fmean(r["cpu_seconds"] for r in rows), 2) if rows else None,
        "mean_iterations": round(statistics.fmean(r["iterations"] for r in rows)) if rows else None,
        "target": f"mean gap to the distance-only reference <= {TARGET_MEAN_GAP_PCT} % with 10 s per instance, all feasible",
        "target_met": bool(rows)
        and all(r["feasible"] for r in rows)
        and statistics.fmean(gaps) <= TARGET_MEAN_GAP_PCT
        and time_limit <= 10.0
        and len(rows) == 37,
    }
    console.print(
        f"feasible {summary['feasible']}/{len(rows)} (DIMACS), {summary['feasible_exact']}/{len(rows)} in double precision; "
        f"gap to reference: mean {summary['mean_gap_ref_pct']:.3f} %, max {summary['max_gap_ref_pct']:.3f} %, "
        f"{summary['instances_at_or_below_ref']} at or below; mean gap to BKS (exact, hierarchical) "
        f"{summary['mean_gap_bks_pct']:.3f} % with {summary['vehicles_total']} vs {summary['bks_vehicles_total']} vehicles; "
        f"target met: {summary['target_met']}"
    )
    payload = {
        "benchmark": "routing",
        "command": " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/routing.py", *sys.argv[1:]]),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "time_limit_seconds": time_limit,
        "clock": clock,
        "seed": seed,
        "machine": machine,
        "conventions": {
            "distance, ref_distance, gap_ref_pct": "arcs truncated to one decimal (DIMACS); reference = .sol files, distance-only",
            "exact_distance, gap_bks_pct": "double precision; BKS = SINTEF hierarchical (fewest vehicles, then distance)",
            "feasible": "own checker, DIMACS (truncated travel times)",
            "feasible_exact": "own checker, double precision travel times (needed to compare with BKS)",
        },
        "summary": summary,
        "instances": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {out}")


if __name__ == "__main__":
    typer.run(main)
