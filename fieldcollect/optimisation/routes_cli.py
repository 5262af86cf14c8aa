"""`fieldcollect routes ...`: the Solomon routing benchmark and a solution checker.

Heavy imports (PyVRP) stay inside the command functions so ``fieldcollect --help`` is fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)


@app.callback()
def routes() -> None:
    """Route planning for field visits, and the VRPTW benchmark."""


def _resolve_instance(instance: str) -> Path:
    path = Path(instance)
    if path.is_file():
        return path
    from fieldcollect.optimisation.solomon import bundled_instances

    bundled = bundled_instances()
    if instance.upper() in bundled:
        return bundled[instance.upper()]
    raise typer.BadParameter(
        f"no such instance file or bundled instance name: {instance} (bundled: {', '.join(bundled)})"
    )


@app.command("bench")
def bench(
    instance: Annotated[str, typer.Argument(help="Solomon instance file, or a bundled instance name like R101")],
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.05, help="Seconds of search")] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    customers: Annotated[
        int | None, typer.Option("--customers", min=1, help="Use only the first N customers (quick runs)")
    ] = None,
    clock: Annotated[str, typer.Option(help="wall (default) or cpu: measure the limit in process CPU seconds")] = "wall",
) -> None:
    """Solve a Solomon VRPTW instance: distance first, vehicles second (DIMACS: arcs truncated to 0.1)."""
    from fieldcollect.optimisation.solomon import read_instance
    from fieldcollect.optimisation.solomon_run import solve_solomon

    if clock not in ("wall", "cpu"):
        raise typer.BadParameter("clock must be wall or cpu")
    inst = read_instance(_resolve_instance(instance))
    if customers is not None and customers < inst.num_customers:
        inst = inst.head(num_customers=customers)
    run = solve_solomon(inst, time_limit=time_limit, seed=seed, clock="cpu" if clock == "cpu" else "wall")
    if as_json:
        typer.echo(json.dumps(run.to_json()))
    else:
        from rich.console import Console

        console = Console()
        status = "[green]feasible[/]" if run.feasible else "[red]INFEASIBLE[/]"
        console.print(
            f"{run.instance}: distance {run.distance:.1f} (exact {run.exact_distance:.2f}), "
            f"{run.vehicles} vehicles, {run.seconds:.2f} s, {run.iterations} iterations, {status}"
        )
        for k, r in enumerate(run.routes, start=1):
            console.print(f"Route #{k}: {' '.join(map(str, r))}")
        for v in run.check.violations:
            console.print(f"[red]{v}[/]")
    if not run.feasible:
        raise typer.Exit(code=1)


@app.command("check")
def check(
    instance: Annotated[str, typer.Argument(help="Solomon instance file, or a bundled instance name")],
    solution: Annotated[Path, typer.Argument(help="A solution file in the Solomon .sol format (Route #k: ... lines)", exists=True, dir_okay=False)],
    convention: Annotated[str, typer.Option(help="dimacs (arcs truncated) or exact (doubles)")] = "dimacs",
) -> None:
    """Check a solution file with the independent checker and print its cost."""
    from fieldcollect.optimisation.solomon import check_solution, read_instance, read_solution

    if convention not in ("dimacs", "exact"):
        raise typer.BadParameter("convention must be dimacs or exact")
    inst = read_instance(_resolve_instance(instance))
    sol = read_solution(solution)
    report = check_solution(inst, sol.routes, convention="dimacs" if convention == "dimacs" else "exact")
    typer.echo(
        json.dumps(
            {
                "instance": inst.name,
                "feasible": report.feasible,
                "distance": report.distance,
                "vehicles": report.vehicles,
                "stated_cost": sol.cost,
                "violations": list(report.violations),
            }
        )
    )
    if not report.feasible:
        raise typer.Exit(code=1)
