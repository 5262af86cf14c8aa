"""The Solomon VRPTW benchmark on the routing engine: distance first, vehicles second, arcs as
integer tenths ``floor(10 * d)`` (the DIMACS convention), each run checked by the independent
referee :mod:`fieldcollect.optimisation.solomon` (which never calls a solver).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fieldcollect.optimisation.solomon import (
    CheckReport,
    SolomonInstance,
    check_solution,
    solution_cost,
)
from fieldcollect.optimisation.vrp import CLOCKS, Clock, Problem, ProblemBuilder, solve

__all__ = [
    "SolomonRun",
    "solomon_problem",
    "solve_solomon",
]


@dataclass(frozen=True, slots=True)
class SolomonRun:
    """A Solomon instance solved by :func:`solve_solomon` and checked by the independent checker.

    ``distance`` is under the DIMACS convention (arcs truncated to one decimal); ``seconds`` is
    wall-clock time and ``cpu_seconds`` process CPU time, both including model building.
    """

    instance: str
    routes: tuple[tuple[int, ...], ...]
    distance: float
    exact_distance: float
    vehicles: int
    seconds: float
    cpu_seconds: float
    iterations: int
    seed: int
    check: CheckReport

    @property
    def feasible(self) -> bool:
        """Feasible under the DIMACS convention according to :func:`check_solution`."""
        return self.check.feasible

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON shape: instance, routes, distance, vehicles, seconds."""
        return {
            "instance": self.instance,
            "routes": [list(r) for r in self.routes],
            "distance": self.distance,
            "vehicles": self.vehicles,
            "seconds": round(self.seconds, 3),
        }


def solomon_problem(instance: SolomonInstance) -> Problem:
    """Model a Solomon instance: integer tenths (``floor(10 * d)``) for distance and travel time.

    Times are multiplied by 10. The objective is ``(fleet + 1) × distance + vehicles`` so that
    distance comes first and the number of vehicles only breaks ties.
    """
    b = ProblemBuilder()
    for x, y in zip(instance.x, instance.y, strict=True):
        b.add_location(x=x, y=y)
    depot = b.add_depot(location=0, tw_early=instance.ready[0] * 10, tw_late=instance.due[0] * 10, name="depot")
    b.add_vehicle_type(
        start_depot=depot,
        num_available=instance.num_vehicles,
        capacity=instance.capacity,
        tw_early=instance.ready[0] * 10,
        tw_late=instance.due[0] * 10,
        fixed_cost=1,
        unit_distance_cost=instance.num_vehicles + 1,
    )
    for c in range(1, instance.num_customers + 1):
        b.add_visit(
            location=c,
            demand=instance.demand[c],
            service=instance.service[c] * 10,
            tw_early=instance.ready[c] * 10,
            tw_late=instance.due[c] * 10,
            name=str(c),
        )
    mat = instance.truncated_tenths_matrix()
    return b.set_matrices(distance=mat, duration=mat).build()


def solve_solomon(
    instance: SolomonInstance, *, time_limit: float, seed: int = 0, clock: Clock = "wall"
) -> SolomonRun:
    """Solve a Solomon instance (distance first, vehicles second) and check it independently.

    ``time_limit`` covers model building and search, measured on ``clock`` (see :func:`solve`).

    Returns
    -------
    SolomonRun
        Routes as customer numbers; ``check`` is :func:`check_solution` under DIMACS.
    """
    now = CLOCKS[clock]
    t0, wall0, cpu0 = now(), time.perf_counter(), time.process_time()
    problem = solomon_problem(instance)
    budget = max(time_limit - (now() - t0), 0.05)
    result = solve(problem, time_limit=budget, seed=seed, clock=clock)
    routes = tuple(tuple(v + 1 for v in r.visits) for r in result.routes)
    seconds = time.perf_counter() - wall0
    cpu_seconds = time.process_time() - cpu0
    check = check_solution(instance, routes, convention="dimacs")
    return SolomonRun(
        instance=instance.name,
        routes=routes,
        distance=check.distance,
        exact_distance=solution_cost(instance, routes, convention="exact"),
        vehicles=len(routes),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        iterations=result.iterations,
        seed=seed,
        check=check,
    )
