"""Route planning with PyVRP: a builder → an immutable :class:`Problem` → :func:`solve` → :class:`Result`.

Two uses share the engine:

* the Solomon VRPTW benchmark (:func:`solomon_problem`, :func:`solve_solomon`): distance first,
  vehicles second, arcs as integer tenths ``floor(10 * d)`` (the DIMACS convention);
* field-visit day plans (:class:`DayPlanBuilder`, :func:`plan_day`, :func:`replan`,
  :func:`day_plan_geojson`): one vehicle per team with its own base and shift, confirmed
  appointments as required visits with hard time windows, unconfirmed visits as optional visits
  whose prize is their expected recovery (fen), travel times from a pluggable
  :class:`~fieldcollect.optimisation.travel.TravelMatrixProvider`.

Every :class:`Result` re-simulates its routes with its own code (not PyVRP's) and records any
violation in ``Result.violations``; ``Result.feasible`` is true only when there is none.
PyVRP is imported inside :func:`solve` so importing this module stays cheap.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from fieldcollect.optimisation.solomon import (
    CheckReport,
    SolomonInstance,
    check_solution,
    solution_cost,
)
from fieldcollect.optimisation.travel import HaversineProvider, LatLon, TravelMatrix, TravelMatrixProvider

if TYPE_CHECKING:
    from pyvrp import Model, ProblemData, SolveParams
    from pyvrp import Result as PyVRPResult

__all__ = [
    "DayPlan",
    "DayPlanBuilder",
    "DayProblem",
    "DepotSpec",
    "FieldVisit",
    "PlannedStop",
    "Problem",
    "ProblemBuilder",
    "Result",
    "RoutePlan",
    "SolomonRun",
    "Stop",
    "TeamPlan",
    "TeamProgress",
    "TeamSpec",
    "VehicleSpec",
    "VisitSpec",
    "day_plan_geojson",
    "geojson_keep_visits",
    "plan_day",
    "replan",
    "solomon_problem",
    "solve",
    "solve_solomon",
    "validate_routes",
]

UNBOUNDED = int(np.iinfo(np.int64).max)
"""Time-window end meaning "no limit" (PyVRP's own default)."""

_INFEASIBLE_COST = UNBOUNDED
"""PyVRP's ``CostEvaluator.cost`` of an infeasible solution."""


# --------------------------------------------------------------------------------------------
# Generic problem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DepotSpec:
    """A depot (start or end point of routes) at ``location`` open during ``[tw_early, tw_late]``."""

    location: int
    tw_early: int = 0
    tw_late: int = UNBOUNDED
    name: str = ""


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """A vehicle type: ``num_available`` identical vehicles.

    Attributes
    ----------
    start_depot, end_depot
        Depot indices where routes start and end.
    capacity
        Load capacity, or ``None`` when load does not matter.
    tw_early, tw_late
        Shift: leave the start depot no earlier than ``tw_early``, be back by ``tw_late``.
    shift_duration
        Maximum route duration (``UNBOUNDED`` by default).
    fixed_cost, unit_distance_cost
        Objective: ``fixed_cost`` per used vehicle plus ``unit_distance_cost`` per distance unit.
    """

    start_depot: int
    end_depot: int
    num_available: int = 1
    capacity: int | None = None
    tw_early: int = 0
    tw_late: int = UNBOUNDED
    shift_duration: int = UNBOUNDED
    fixed_cost: int = 0
    unit_distance_cost: int = 1
    name: str = ""


@dataclass(frozen=True, slots=True)
class VisitSpec:
    """A client visit at ``location``.

    ``required=False`` makes the visit optional; the solver then weighs ``prize`` (objective
    units) against the extra distance.
    """

    location: int
    demand: int = 0
    service: int = 0
    tw_early: int = 0
    tw_late: int = UNBOUNDED
    prize: int = 0
    required: bool = True
    name: str = ""


def _readonly(a: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.array(a, dtype=np.int64, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True)
class Problem:
    """Immutable routing problem; build it with :class:`ProblemBuilder`.

    Distances and durations are integers (``[from, to]`` over ``locations``); times are integers
    in the same unit as durations.
    """

    locations: tuple[tuple[float, float], ...]
    depots: tuple[DepotSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    visits: tuple[VisitSpec, ...]
    distance: npt.NDArray[np.int64] = field(compare=False, repr=False)
    duration: npt.NDArray[np.int64] = field(compare=False, repr=False)

    @property
    def uses_capacity(self) -> bool:
        """True when some vehicle has a capacity (one load dimension is modelled)."""
        return any(v.capacity is not None for v in self.vehicles)


class ProblemBuilder:
    """Collects locations, depots, vehicle types, visits and matrices, then :meth:`build` s a Problem."""

    def __init__(self) -> None:
        self._locations: list[tuple[float, float]] = []
        self._depots: list[DepotSpec] = []
        self._vehicles: list[VehicleSpec] = []
        self._visits: list[VisitSpec] = []
        self._distance: npt.NDArray[np.int64] | None = None
        self._duration: npt.NDArray[np.int64] | None = None

    def add_location(self, *, x: float, y: float) -> int:
        """Add a location (coordinates are informative only) and return its index."""
        self._locations.append((float(x), float(y)))
        return len(self._locations) - 1

    def add_depot(self, *, location: int, tw_early: int = 0, tw_late: int = UNBOUNDED, name: str = "") -> int:
        """Add a depot and return its index."""
        self._depots.append(DepotSpec(location=location, tw_early=tw_early, tw_late=tw_late, name=name))
        return len(self._depots) - 1

    def add_vehicle_type(
        self,
        *,
        start_depot: int,
        end_depot: int | None = None,
        num_available: int = 1,
        capacity: int | None = None,
        tw_early: int = 0,
        tw_late: int = UNBOUNDED,
        shift_duration: int = UNBOUNDED,
        fixed_cost: int = 0,
        unit_distance_cost: int = 1,
        name: str = "",
    ) -> int:
        """Add a vehicle type and return its index (see :class:`VehicleSpec`)."""
        self._vehicles.append(
            VehicleSpec(
                start_depot=start_depot,
                end_depot=start_depot if end_depot is None else end_depot,
                num_available=num_available,
                capacity=capacity,
                tw_early=tw_early,
                tw_late=tw_late,
                shift_duration=shift_duration,
                fixed_cost=fixed_cost,
                unit_distance_cost=unit_distance_cost,
                name=name,
            )
        )
        return len(self._vehicles) - 1

    def add_visit(
        self,
        *,
        location: int,
        demand: int = 0,
        service: int = 0,
        tw_early: int = 0,
        tw_late: int = UNBOUNDED,
        prize: int = 0,
        required: bool = True,
        name: str = "",
    ) -> int:
        """Add a visit and return its index (see :class:`VisitSpec`)."""
        self._visits.append(
            VisitSpec(
                location=location,
                demand=demand,
                service=service,
                tw_early=tw_early,
                tw_late=tw_late,
                prize=prize,
                required=required,
                name=name,
            )
        )
        return len(self._visits) - 1

    def set_matrices(self, *, distance: npt.ArrayLike, duration: npt.ArrayLike) -> ProblemBuilder:
        """Set the integer distance and duration matrices over all locations."""
        self._distance = _readonly(distance)
        self._duration = _readonly(duration)
        return self

    def build(self) -> Problem:
        """Validate and return the immutable :class:`Problem`.

        Raises
        ------
        ValueError
            On missing or mis-shaped matrices, bad indices, negative values or empty windows.
        """
        n = len(self._locations)
        if self._distance is None or self._duration is None:
            raise ValueError("set_matrices() must be called before build()")
        for label, mat in (("distance", self._distance), ("duration", self._duration)):
            if mat.shape != (n, n):
                raise ValueError(f"{label} matrix must be {n}×{n}, got {mat.shape}")
            if (mat < 0).any() or np.diag(mat).any():
                raise ValueError(f"{label} matrix must be non-negative with a zero diagonal")
        if not self._depots or not self._vehicles:
            raise ValueError("a problem needs at least one depot and one vehicle type")
        for d in self._depots:
            if not 0 <= d.location < n:
                raise ValueError(f"depot location {d.location} out of range")
        for v in self._vehicles:
            if not (0 <= v.start_depot < len(self._depots) and 0 <= v.end_depot < len(self._depots)):
                raise ValueError("vehicle depot index out of range")
            if v.num_available < 1 or v.tw_early > v.tw_late:
                raise ValueError(f"invalid vehicle type {v}")
        for c in self._visits:
            if not 0 <= c.location < n:
                raise ValueError(f"visit location {c.location} out of range")
            if c.tw_early > c.tw_late or c.service < 0 or c.prize < 0 or c.demand < 0:
                raise ValueError(f"invalid visit {c}")
        return Problem(
            locations=tuple(self._locations),
            depots=tuple(self._depots),
            vehicles=tuple(self._vehicles),
            visits=tuple(self._visits),
            distance=self._distance,
            duration=self._duration,
        )


@dataclass(frozen=True, slots=True)
class Stop:
    """A visit in a route, with its schedule (problem time units)."""

    visit: int
    arrival: int
    start: int
    end: int

    @property
    def wait(self) -> int:
        """Time spent waiting for the window to open."""
        return self.start - self.arrival


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """One vehicle's route: visits in order and their schedule."""

    vehicle_type: int
    start: int
    end: int
    stops: tuple[Stop, ...]
    distance: int
    travel: int
    load: int

    @property
    def visits(self) -> tuple[int, ...]:
        """Visit indices in order."""
        return tuple(s.visit for s in self.stops)


def _simulate(problem: Problem, vehicle_type: int, visits: Sequence[int], start: int) -> tuple[RoutePlan, int]:
    """Forward schedule from ``start``; return the route and its arrival time at the end depot."""
    vt = problem.vehicles[vehicle_type]
    loc = problem.depots[vt.start_depot].location
    t = start
    dist = travel = load = 0
    stops: list[Stop] = []
    for v in visits:
        spec = problem.visits[v]
        leg = int(problem.duration[loc, spec.location])
        dist += int(problem.distance[loc, spec.location])
        travel += leg
        arrival = t + leg
        begin = max(arrival, spec.tw_early)
        t = begin + spec.service
        stops.append(Stop(visit=v, arrival=arrival, start=begin, end=t))
        load += spec.demand
        loc = spec.location
    end_loc = problem.depots[vt.end_depot].location
    leg = int(problem.duration[loc, end_loc])
    dist += int(problem.distance[loc, end_loc])
    travel += leg
    back = t + leg
    route = RoutePlan(
        vehicle_type=vehicle_type,
        start=start,
        end=back,
        stops=tuple(stops),
        distance=dist,
        travel=travel,
        load=load,
    )
    return route, back


def validate_routes(problem: Problem, routes: Sequence[RoutePlan]) -> tuple[str, ...]:
    """Independently check routes against the problem (no PyVRP code involved).

    Checks: visit indices valid and used at most once; every required visit planned; vehicles of
    each type within ``num_available``; capacity; service starts inside each window (waiting
    allowed); depot and shift windows; shift duration; the stored schedule and distance equal a
    fresh forward simulation.

    Returns
    -------
    tuple of str
        Violations, empty when the routes are feasible.
    """
    out: list[str] = []
    seen: dict[int, int] = {}
    per_type: dict[int, int] = {}
    for r, route in enumerate(routes):
        if not 0 <= route.vehicle_type < len(problem.vehicles):
            out.append(f"route {r}: unknown vehicle type {route.vehicle_type}")
            continue
        per_type[route.vehicle_type] = per_type.get(route.vehicle_type, 0) + 1
        bad = [v for v in route.visits if not 0 <= v < len(problem.visits)]
        if bad:
            out.append(f"route {r}: unknown visits {bad}")
            continue
        for v in route.visits:
            seen[v] = seen.get(v, 0) + 1
        vt = problem.vehicles[route.vehicle_type]
        fresh, back = _simulate(problem, route.vehicle_type, route.visits, route.start)
        if fresh != route:
            out.append(f"route {r}: stored schedule differs from a fresh simulation")
        if vt.capacity is not None and fresh.load > vt.capacity:
            out.append(f"route {r}: load {fresh.load} > capacity {vt.capacity}")
        start_depot = problem.depots[vt.start_depot]
        end_depot = problem.depots[vt.end_depot]
        if route.start < max(vt.tw_early, start_depot.tw_early):
            out.append(f"route {r}: leaves at {route.start} before the shift/depot opens")
        for s in fresh.stops:
            spec = problem.visits[s.visit]
            if s.start > spec.tw_late:
                out.append(f"route {r}: visit {s.visit} ({spec.name}) starts at {s.start} > {spec.tw_late}")
        if back > min(vt.tw_late, end_depot.tw_late):
            out.append(f"route {r}: back at {back} after the shift/depot closes")
        if back - route.start > vt.shift_duration:
            out.append(f"route {r}: duration {back - route.start} > shift {vt.shift_duration}")
    for v, k in sorted(seen.items()):
        if k > 1:
            out.append(f"visit {v} planned {k} times")
    missing = [i for i, c in enumerate(problem.visits) if c.required and i not in seen]
    if missing:
        out.append(f"required visits not planned: {missing[:10]}")
    for t, k in sorted(per_type.items()):
        if k > problem.vehicles[t].num_available:
            out.append(f"vehicle type {t}: {k} routes > {problem.vehicles[t].num_available} available")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Result:
    """Outcome of :func:`solve`; validates itself on construction.

    Attributes
    ----------
    problem
        The solved problem (not compared).
    routes
        Non-empty routes.
    unvisited
        Visit indices not planned (optional ones, or required ones when infeasible).
    iterations, runtime, cpu_runtime
        Solver iterations, wall-clock and CPU seconds (model building included).
    seed
        Random seed.
    violations
        Filled by :func:`validate_routes` in ``__post_init__``.
    """

    problem: Problem = field(compare=False, repr=False)
    routes: tuple[RoutePlan, ...]
    unvisited: tuple[int, ...]
    iterations: int
    runtime: float
    seed: int
    cpu_runtime: float = 0.0
    violations: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "violations", validate_routes(self.problem, self.routes))

    @property
    def feasible(self) -> bool:
        """True when the independent validation found nothing wrong."""
        return not self.violations

    @property
    def distance(self) -> int:
        """Total distance (problem units)."""
        return sum(r.distance for r in self.routes)

    @property
    def travel(self) -> int:
        """Total travel time (problem units)."""
        return sum(r.travel for r in self.routes)

    @property
    def num_vehicles(self) -> int:
        """Number of routes used."""
        return len(self.routes)

    @property
    def prizes(self) -> int:
        """Sum of prizes of the planned optional visits."""
        return sum(self.problem.visits[s.visit].prize for r in self.routes for s in r.stops)

    @property
    def objective(self) -> int:
        """Distance cost + fixed vehicle costs + prizes of unvisited visits (PyVRP's objective)."""
        vehicles = self.problem.vehicles
        cost = sum(r.distance * vehicles[r.vehicle_type].unit_distance_cost for r in self.routes)
        cost += sum(vehicles[r.vehicle_type].fixed_cost for r in self.routes)
        return cost + sum(self.problem.visits[v].prize for v in self.unvisited)

    def summary(self) -> str:
        """Return a short human-readable summary."""
        lines = [
            "Route plan",
            "==========",
            f"   feasible: {self.feasible}",
            f"     routes: {self.num_vehicles}",
            f"     visits: {sum(len(r.stops) for r in self.routes)} planned, {len(self.unvisited)} not planned",
            f"   distance: {self.distance}",
            f"     travel: {self.travel}",
            f"     prizes: {self.prizes}",
            f"  objective: {self.objective}",
            f" iterations: {self.iterations}",
            f"    runtime: {self.runtime:.2f} s wall, {self.cpu_runtime:.2f} s CPU (seed {self.seed})",
        ]
        lines += [f"  violation: {v}" for v in self.violations[:10]]
        return "\n".join(lines)


Clock = Literal["wall", "cpu"]
_CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}

DEFAULT_NUM_NEIGHBOURS = 40
"""Granular neighbourhood size for the local search. PyVRP's default is 50; on the Solomon
instances with budgets of a few seconds, 40 gave a lower mean gap (bench/routing.py)."""


class _Deadline:
    """PyVRP stopping criterion: a deadline on ``clock``, optional iteration cap, and optionally give
    up at ``give_up_at`` when no feasible solution has been found by then."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        deadline: float,
        max_iterations: int | None,
        give_up_at: float | None = None,
        stop_when_feasible: bool = False,
    ) -> None:
        self._clock = clock
        self._stop_when_feasible = stop_when_feasible
        self._deadline = deadline
        self._max_iterations = max_iterations
        self._give_up_at = give_up_at
        self.iterations = 0
        self.gave_up = False

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        if self._max_iterations is not None and self.iterations > self._max_iterations:
            return True
        if self._stop_when_feasible and best_cost < _INFEASIBLE_COST:
            return True
        now = self._clock()
        if self._give_up_at is not None and now >= self._give_up_at and best_cost >= _INFEASIBLE_COST:
            self.gave_up = True
            return True
        return now >= self._deadline


def _to_pyvrp(problem: Problem) -> Model:
    from pyvrp import Model

    m = Model()
    locs = [m.add_location(x=x, y=y) for x, y in problem.locations]
    depots = [m.add_depot(locs[d.location], tw_early=d.tw_early, tw_late=d.tw_late, name=d.name) for d in problem.depots]
    cap = problem.uses_capacity
    for v in problem.vehicles:
        m.add_vehicle_type(
            num_available=v.num_available,
            capacity=([v.capacity if v.capacity is not None else UNBOUNDED // 4] if cap else []),
            start_depot=depots[v.start_depot],
            end_depot=depots[v.end_depot],
            fixed_cost=v.fixed_cost,
            tw_early=v.tw_early,
            tw_late=v.tw_late,
            shift_duration=v.shift_duration,
            unit_distance_cost=v.unit_distance_cost,
            name=v.name,
        )
    for c in problem.visits:
        m.add_client(
            locs[c.location],
            delivery=[c.demand] if cap else [],
            service_duration=c.service,
            tw_early=c.tw_early,
            tw_late=c.tw_late,
            prize=c.prize,
            required=c.required,
            name=c.name,
        )
    dist = problem.distance.tolist()
    dur = problem.duration.tolist()
    n = len(locs)
    for i in range(n):
        row_d, row_t, frm = dist[i], dur[i], locs[i]
        for j in range(n):
            if i != j:
                m.add_edge(frm, locs[j], distance=row_d[j], duration=row_t[j])
    return m


def _run_ils(
    data: ProblemData,
    stop: _Deadline,
    *,
    seed: int,
    params: SolveParams,
    initial: Sequence[tuple[int, Sequence[int]]] | None,
) -> PyVRPResult:
    """``pyvrp.solve`` with one change: a warm start also gets the exhaustive local search that
    PyVRP applies to its own random start (so e.g. optional visits are inserted at once)."""
    from pyvrp import IteratedLocalSearch, PenaltyManager, RandomNumberGenerator, Route, Solution
    from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours

    rng = RandomNumberGenerator(seed=seed)
    ls = LocalSearch(data, rng, compute_neighbours(data, params.neighbourhood), PerturbationManager(params.perturbation))
    for op in params.operators:
        if op.supports(data):
            ls.add_operator(op(data))
    pm = PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    if initial:
        start = Solution(data, [Route(data, list(visits), vt) for vt, visits in initial if visits])
    else:
        start = Solution.make_random(data, rng)
    init = ls(start, pm.max_cost_evaluator(), exhaustive=True)
    if initial and start.is_feasible() and not init.is_feasible():
        init = start
    algo = IteratedLocalSearch(data, pm, ls, init, params.ils)
    return algo.run(stop, collect_stats=False, display=False)


def solve(
    problem: Problem,
    *,
    time_limit: float,
    seed: int = 0,
    max_iterations: int | None = None,
    give_up_after: float | None = None,
    clock: Clock = "wall",
    initial: Sequence[tuple[int, Sequence[int]]] | None = None,
    stop_when_feasible: bool = False,
) -> Result:
    """Solve ``problem`` with PyVRP's iterated local search.

    Parameters
    ----------
    problem
        The problem.
    time_limit
        Budget in seconds, model building included.
    seed
        Random seed (same seed and iteration cap give the same result).
    max_iterations
        Optional iteration cap (for reproducible tests).
    give_up_after
        Optional: stop after this many seconds if no feasible solution has been found yet.
    clock
        ``"wall"`` (default) or ``"cpu"``: process CPU time, i.e. "seconds on one core" even on a
        machine shared with other work.
    initial
        Optional warm start: ``(vehicle type, visit indices)`` per route; may be infeasible.
    stop_when_feasible
        Stop as soon as a feasible solution is found (used to seed a larger search).

    Returns
    -------
    Result
        Routes, unvisited visits and the independent validation.
    """
    from pyvrp import PenaltyParams, SolveParams
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.search import NeighbourhoodParams

    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if clock not in _CLOCKS:
        raise ValueError(f"clock must be one of {sorted(_CLOCKS)}")
    now = _CLOCKS[clock]
    t0, wall0, cpu0 = now(), time.perf_counter(), time.process_time()
    data = _to_pyvrp(problem).data()
    # Penalties are per unit of violation; scale them with the distance cost so that scaling the
    # objective (e.g. to make vehicles a tie-breaker) leaves the search dynamics unchanged.
    scale = max(v.unit_distance_cost for v in problem.vehicles)
    params = SolveParams(
        penalty=PenaltyParams(min_penalty=0.1 * scale, max_penalty=100_000.0 * scale),
        neighbourhood=NeighbourhoodParams(num_neighbours=DEFAULT_NUM_NEIGHBOURS),
    )
    give_up_at = None if give_up_after is None else t0 + give_up_after
    stop = _Deadline(
        clock=now,
        deadline=t0 + time_limit,
        max_iterations=max_iterations,
        give_up_at=give_up_at,
        stop_when_feasible=stop_when_feasible,
    )
    with warnings.catch_warnings():
        if give_up_after is not None or initial:  # infeasible attempts are expected here; no noise
            warnings.simplefilter("ignore", PenaltyBoundWarning)
        res = _run_ils(data, stop, seed=seed, params=params, initial=initial)

    routes: list[RoutePlan] = []
    planned: set[int] = set()
    for r in res.best.routes():
        visits = [act.idx for act in r.schedule() if act.is_client()]
        if not visits:
            continue
        route, _ = _simulate(problem, r.vehicle_type(), visits, int(r.start_time()))
        routes.append(route)
        planned.update(visits)
    unvisited = tuple(i for i in range(len(problem.visits)) if i not in planned)
    return Result(
        problem=problem,
        routes=tuple(routes),
        unvisited=unvisited,
        iterations=res.num_iterations,
        runtime=time.perf_counter() - wall0,
        cpu_runtime=time.process_time() - cpu0,
        seed=seed,
    )


# --------------------------------------------------------------------------------------------
# Solomon benchmark
# --------------------------------------------------------------------------------------------


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
    now = _CLOCKS[clock]
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


# --------------------------------------------------------------------------------------------
# Field-visit day plans
# --------------------------------------------------------------------------------------------

DEFAULT_TRAVEL_COST_FEN_PER_HOUR = 8_000
"""What an hour of a two-person team on the road costs (wages and vehicle), fen."""


def _aware(value: datetime, label: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be timezone-aware")
    return value


@dataclass(frozen=True, slots=True)
class TeamSpec:
    """A field team (one vehicle): where it starts and ends, and its shift."""

    team_id: str
    start: LatLon
    end: LatLon
    shift_start: datetime
    shift_end: datetime


@dataclass(frozen=True, slots=True)
class FieldVisit:
    """A visit to plan: a confirmed appointment (hard window) or an optional visit with a prize.

    Attributes
    ----------
    visit_id
        Caller's identifier.
    position
        Where the visit happens.
    service
        Time on site.
    window_start, window_end
        Service must start inside this window (``None``: no window).
    confirmed
        Confirmed by the customer: must be kept.
    prize_fen
        Expected recovery in fen (optional visits; 0 for appointments).
    """

    visit_id: str
    position: LatLon
    service: timedelta
    window_start: datetime | None
    window_end: datetime | None
    confirmed: bool
    prize_fen: int


@dataclass(frozen=True, slots=True)
class DayProblem:
    """Immutable day-plan input for one city, day and set of teams (see :class:`DayPlanBuilder`)."""

    city: str
    day: date
    origin: datetime
    teams: tuple[TeamSpec, ...]
    visits: tuple[FieldVisit, ...]
    travel_cost_fen_per_hour: int
    provider: TravelMatrixProvider = field(compare=False, repr=False)
    matrix: TravelMatrix = field(compare=False, repr=False)

    def points(self) -> list[LatLon]:
        """Matrix order: each team's start then end, then every visit."""
        pts: list[LatLon] = []
        for t in self.teams:
            pts += [t.start, t.end]
        pts += [v.position for v in self.visits]
        return pts

    def seconds(self, when: datetime) -> int:
        """Whole seconds from :attr:`origin` (floored)."""
        return math.floor((when - self.origin).total_seconds())

    def at(self, seconds: int) -> datetime:
        """Datetime for a time in seconds from :attr:`origin`."""
        return self.origin + timedelta(seconds=seconds)

    def prize_seconds(self, prize_fen: int) -> int:
        """A prize in fen expressed in travel seconds (the objective's unit)."""
        return prize_fen * 3600 // self.travel_cost_fen_per_hour


class DayPlanBuilder:
    """Collects teams and visits for one city and day.

    Parameters
    ----------
    city
        City name (informative).
    day
        The day planned.
    provider
        Travel-matrix provider; default :class:`~fieldcollect.optimisation.travel.HaversineProvider`
        (haversine × 1.3 at 25 km/h).
    travel_cost_fen_per_hour
        Cost of one team-hour on the road; converts prizes into travel time.
    """

    def __init__(
        self,
        *,
        city: str,
        day: date,
        provider: TravelMatrixProvider | None = None,
        travel_cost_fen_per_hour: int = DEFAULT_TRAVEL_COST_FEN_PER_HOUR,
    ) -> None:
        if travel_cost_fen_per_hour <= 0:
            raise ValueError("travel_cost_fen_per_hour must be positive")
        self._city = city
        self._day = day
        self._provider: TravelMatrixProvider = provider if provider is not None else HaversineProvider()
        self._cost = travel_cost_fen_per_hour
        self._teams: list[TeamSpec] = []
        self._visits: list[FieldVisit] = []

    def add_team(
        self,
        *,
        team_id: str,
        base: LatLon,
        shift_start: datetime,
        shift_end: datetime,
        end: LatLon | None = None,
    ) -> DayPlanBuilder:
        """Add a team starting at ``base`` (ending at ``end``, default ``base``) during its shift."""
        _aware(shift_start, "shift_start")
        _aware(shift_end, "shift_end")
        if shift_end <= shift_start:
            raise ValueError(f"team {team_id}: shift ends before it starts")
        if any(t.team_id == team_id for t in self._teams):
            raise ValueError(f"duplicate team {team_id}")
        self._teams.append(
            TeamSpec(team_id=team_id, start=base, end=base if end is None else end, shift_start=shift_start, shift_end=shift_end)
        )
        return self

    def _add(self, visit: FieldVisit) -> DayPlanBuilder:
        if any(v.visit_id == visit.visit_id for v in self._visits):
            raise ValueError(f"duplicate visit {visit.visit_id}")
        if visit.service < timedelta(0):
            raise ValueError("service time must be non-negative")
        if visit.window_start is not None and visit.window_end is not None and visit.window_end < visit.window_start:
            raise ValueError(f"visit {visit.visit_id}: window ends before it starts")
        self._visits.append(visit)
        return self

    def add_appointment(
        self,
        *,
        visit_id: str,
        position: LatLon,
        window_start: datetime,
        window_end: datetime,
        service: timedelta = timedelta(minutes=30),
    ) -> DayPlanBuilder:
        """Add a confirmed appointment: it must be kept and service must start within the window."""
        return self._add(
            FieldVisit(
                visit_id=visit_id,
                position=position,
                service=service,
                window_start=_aware(window_start, "window_start"),
                window_end=_aware(window_end, "window_end"),
                confirmed=True,
                prize_fen=0,
            )
        )

    def add_optional_visit(
        self,
        *,
        visit_id: str,
        position: LatLon,
        prize_fen: int,
        service: timedelta = timedelta(minutes=30),
        window_start: datetime | None = None,
        window_end: datetime | None = None,
    ) -> DayPlanBuilder:
        """Add an unconfirmed visit, planned only when its expected recovery is worth the detour."""
        if not isinstance(prize_fen, int) or prize_fen < 0:
            raise ValueError("prize_fen must be a non-negative integer (fen)")
        return self._add(
            FieldVisit(
                visit_id=visit_id,
                position=position,
                service=service,
                window_start=None if window_start is None else _aware(window_start, "window_start"),
                window_end=None if window_end is None else _aware(window_end, "window_end"),
                confirmed=False,
                prize_fen=prize_fen,
            )
        )

    def build(self) -> DayProblem:
        """Compute the travel matrix and return the immutable :class:`DayProblem`."""
        if not self._teams:
            raise ValueError("a day plan needs at least one team")
        return _day_problem(
            city=self._city,
            day=self._day,
            teams=tuple(self._teams),
            visits=tuple(self._visits),
            provider=self._provider,
            travel_cost_fen_per_hour=self._cost,
        )


def _day_problem(
    *,
    city: str,
    day: date,
    teams: tuple[TeamSpec, ...],
    visits: tuple[FieldVisit, ...],
    provider: TravelMatrixProvider,
    travel_cost_fen_per_hour: int,
) -> DayProblem:
    origin = min(t.shift_start for t in teams)
    pts: list[LatLon] = []
    for t in teams:
        pts += [t.start, t.end]
    pts += [v.position for v in visits]
    matrix = provider.matrix(pts)
    if matrix.seconds.shape != (len(pts), len(pts)):
        raise ValueError("travel-matrix provider returned a matrix of the wrong shape")
    return DayProblem(
        city=city,
        day=day,
        origin=origin,
        teams=teams,
        visits=visits,
        travel_cost_fen_per_hour=travel_cost_fen_per_hour,
        provider=provider,
        matrix=matrix,
    )


def _reachable(day: DayProblem, visit: int, early: int, late: int) -> bool:
    """Can some team reach ``visit`` inside its window and still get back before its shift ends?"""
    secs = day.matrix.seconds
    loc = 2 * len(day.teams) + visit
    service = int(day.visits[visit].service.total_seconds())
    for k, t in enumerate(day.teams):
        begin = max(max(0, day.seconds(t.shift_start)) + int(secs[2 * k, loc]), early)
        if begin <= late and begin + service + int(secs[loc, 2 * k + 1]) <= day.seconds(t.shift_end):
            return True
    return False


def _to_problem(day: DayProblem, *, appointments_required: bool, only: Sequence[int] | None = None) -> Problem:
    """Model the day. Distance (the objective) is travel time in seconds.

    Appointments that no team can reach in time are made optional with no prize (so they are
    reported as missed). The others are required, or, when ``appointments_required`` is false,
    optional with a prize larger than all optional prizes and all possible travel together:
    such an appointment is dropped only if no plan keeping it is found. ``only`` restricts the
    visits to a subset (visit ``j`` of the result is ``only[j]`` of the day).
    """
    optional_total = sum(day.prize_seconds(v.prize_fen) for v in day.visits if not v.confirmed)
    travel_bound = sum(max(0, day.seconds(t.shift_end) - day.seconds(t.shift_start)) for t in day.teams)
    appointment_prize = optional_total + travel_bound + 1
    b = ProblemBuilder()
    for p in day.points():
        b.add_location(x=p.lon, y=p.lat)
    for k, t in enumerate(day.teams):
        start = b.add_depot(location=2 * k, name=f"{t.team_id}:start")
        end = b.add_depot(location=2 * k + 1, name=f"{t.team_id}:end")
        b.add_vehicle_type(
            start_depot=start,
            end_depot=end,
            tw_early=max(0, day.seconds(t.shift_start)),
            tw_late=day.seconds(t.shift_end),
            name=t.team_id,
        )
    base = 2 * len(day.teams)
    for i in range(len(day.visits)) if only is None else only:
        v = day.visits[i]
        early = 0 if v.window_start is None else max(0, day.seconds(v.window_start))
        late = UNBOUNDED if v.window_end is None else day.seconds(v.window_end)
        if v.confirmed:
            required = appointments_required
            prize = 0 if appointments_required else appointment_prize
            if late < early or not _reachable(day, i, early, late):
                required, prize, late = False, 0, max(late, early)
        else:
            required, prize = False, day.prize_seconds(v.prize_fen)
            late = max(late, early)
        b.add_visit(
            location=base + i,
            service=int(v.service.total_seconds()),
            tw_early=early,
            tw_late=late,
            prize=prize,
            required=required,
            name=v.visit_id,
        )
    return b.set_matrices(distance=day.matrix.seconds, duration=day.matrix.seconds).build()


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A stop in a team's day, with datetimes."""

    visit_id: str
    position: LatLon
    confirmed: bool
    prize_fen: int
    arrival: datetime
    start: datetime
    departure: datetime
    travel_seconds: int
    window_start: datetime | None
    window_end: datetime | None

    @property
    def wait_seconds(self) -> int:
        """Seconds waited on site before the window opens."""
        return int((self.start - self.arrival).total_seconds())


@dataclass(frozen=True, slots=True)
class TeamPlan:
    """One team's ordered stops for the day."""

    team_id: str
    start_position: LatLon
    end_position: LatLon
    depart: datetime
    back: datetime
    stops: tuple[PlannedStop, ...]
    travel_seconds: int
    travel_metres: int

    @property
    def prize_fen(self) -> int:
        """Expected recovery of this team's optional visits."""
        return sum(s.prize_fen for s in self.stops)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """A planned (or re-planned) day.

    Attributes
    ----------
    problem
        The day problem that was solved (use it to :func:`replan`).
    teams
        One plan per team (teams with nothing to do have no stops).
    skipped
        Optional visits left out (not worth it, or no room).
    missed_appointments
        Confirmed appointments that could not be kept (only when keeping all was impossible).
    runtime_seconds
        Wall-clock time to plan.
    violations
        From the independent validation of the underlying :class:`Result`.
    """

    problem: DayProblem = field(compare=False, repr=False)
    teams: tuple[TeamPlan, ...]
    skipped: tuple[str, ...]
    missed_appointments: tuple[str, ...]
    runtime_seconds: float
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        """True when every planned stop and shift window is respected."""
        return not self.violations

    @property
    def all_appointments_kept(self) -> bool:
        """True when no confirmed appointment had to be dropped."""
        return not self.missed_appointments

    @property
    def travel_seconds(self) -> int:
        """Total travel of all teams, seconds."""
        return sum(t.travel_seconds for t in self.teams)

    @property
    def travel_metres(self) -> int:
        """Total travel of all teams, metres."""
        return sum(t.travel_metres for t in self.teams)

    @property
    def prize_fen(self) -> int:
        """Total expected recovery of the optional visits planned."""
        return sum(t.prize_fen for t in self.teams)

    def team(self, team_id: str) -> TeamPlan:
        """The plan of one team."""
        for t in self.teams:
            if t.team_id == team_id:
                return t
        raise KeyError(team_id)

    def summary(self) -> str:
        """Return a short human-readable summary."""
        stops = sum(len(t.stops) for t in self.teams)
        lines = [
            f"Day plan {self.problem.city} {self.problem.day.isoformat()}",
            f"  teams: {len(self.teams)} ({sum(1 for t in self.teams if t.stops)} with visits)",
            f"  stops: {stops}; skipped optional: {len(self.skipped)}; missed appointments: {len(self.missed_appointments)}",
            f"  travel: {self.travel_seconds / 3600:.2f} h, {self.travel_metres / 1000:.1f} km",
            f"  expected recovery of optional visits: {self.prize_fen / 100:.2f} CNY",
            f"  feasible: {self.feasible}; planned in {self.runtime_seconds:.2f} s",
        ]
        lines += [f"  violation: {v}" for v in self.violations[:10]]
        return "\n".join(lines)


def _day_plan(day: DayProblem, result: Result, *, runtime: float) -> DayPlan:
    base = 2 * len(day.teams)
    metres = day.matrix.metres
    teams: list[TeamPlan] = []
    by_type = {r.vehicle_type: r for r in result.routes}
    for k, team in enumerate(day.teams):
        route = by_type.get(k)
        if route is None:
            # Nothing to visit: go straight to the end point (a team re-planned in the field
            # still has to get back).
            start_s = max(0, day.seconds(team.shift_start))
            leg = int(day.matrix.seconds[2 * k, 2 * k + 1])
            teams.append(
                TeamPlan(
                    team_id=team.team_id,
                    start_position=team.start,
                    end_position=team.end,
                    depart=day.at(start_s),
                    back=day.at(start_s + leg),
                    stops=(),
                    travel_seconds=leg,
                    travel_metres=int(metres[2 * k, 2 * k + 1]),
                )
            )
            continue
        stops: list[PlannedStop] = []
        prev_loc, prev_end = 2 * k, route.start
        total_m = 0
        for s in route.stops:
            v = day.visits[s.visit]
            loc = base + s.visit
            total_m += int(metres[prev_loc, loc])
            stops.append(
                PlannedStop(
                    visit_id=v.visit_id,
                    position=v.position,
                    confirmed=v.confirmed,
                    prize_fen=0 if v.confirmed else v.prize_fen,
                    arrival=day.at(s.arrival),
                    start=day.at(s.start),
                    departure=day.at(s.end),
                    travel_seconds=s.arrival - prev_end,
                    window_start=v.window_start,
                    window_end=v.window_end,
                )
            )
            prev_loc, prev_end = loc, s.end
        total_m += int(metres[prev_loc, 2 * k + 1])
        teams.append(
            TeamPlan(
                team_id=team.team_id,
                start_position=team.start,
                end_position=team.end,
                depart=day.at(route.start),
                back=day.at(route.end),
                stops=tuple(stops),
                travel_seconds=route.travel,
                travel_metres=total_m,
            )
        )
    unvisited = [day.visits[i] for i in result.unvisited]
    return DayPlan(
        problem=day,
        teams=tuple(teams),
        skipped=tuple(v.visit_id for v in unvisited if not v.confirmed),
        missed_appointments=tuple(v.visit_id for v in unvisited if v.confirmed),
        runtime_seconds=runtime,
        violations=result.violations,
    )


def plan_day(day: DayProblem, *, time_limit: float = 5.0, seed: int = 0, max_iterations: int | None = None) -> DayPlan:
    """Plan the day: keep every confirmed appointment, add optional visits worth their travel.

    Two phases. First the appointments alone are routed until a plan keeps them all; that plan
    warm-starts the search over all visits (appointments required, optional visits chosen by
    prize against travel). Appointments no team can reach in time (e.g. a window already past)
    are reported as missed at once. If phase 1 finds no plan keeping all the others within
    40 % of the budget (overbooked teams), phase 2 treats appointments as optional visits whose
    prize outweighs all optional prizes and travel together, so as many as possible are kept;
    the rest are listed in ``DayPlan.missed_appointments``.

    Parameters
    ----------
    day
        The day problem.
    time_limit
        Seconds for the whole planning.
    seed
        Random seed.
    max_iterations
        Optional iteration cap per attempt (reproducible tests).
    """
    t0 = time.perf_counter()
    if not day.visits:
        empty = Result(
            problem=_to_problem(day, appointments_required=True), routes=(), unvisited=(), iterations=0, runtime=0.0, seed=seed
        )
        return _day_plan(day, empty, runtime=time.perf_counter() - t0)
    appointments = [i for i, v in enumerate(day.visits) if v.confirmed]
    required = True
    initial: list[tuple[int, Sequence[int]]] | None = None
    if appointments:
        # Phase 1: appointments only, until the first plan that keeps them all (fast: a third of
        # the visits, no optional choices), within 40 % of the budget.
        first = solve(
            _to_problem(day, appointments_required=True, only=appointments),
            time_limit=0.4 * time_limit,
            seed=seed,
            max_iterations=max_iterations,
            give_up_after=0.4 * time_limit,
            stop_when_feasible=True,
        )
        initial = [(r.vehicle_type, [appointments[j] for j in r.visits]) for r in first.routes]
        required = first.feasible
    # Phase 2: all visits, warm-started; appointments required if phase 1 kept them all.
    remaining = max(time_limit - (time.perf_counter() - t0), 0.2)
    result = solve(
        _to_problem(day, appointments_required=required),
        time_limit=remaining,
        seed=seed,
        max_iterations=max_iterations,
        initial=initial,
    )
    return _day_plan(day, result, runtime=time.perf_counter() - t0)


@dataclass(frozen=True, slots=True)
class TeamProgress:
    """Where a team is now: its position, the time it is free there, and the visits already done.

    A team running late reports the position and time at which it will be free (e.g. the end of
    the visit it is on); a team still at its base reports the base.
    """

    team_id: str
    position: LatLon
    at: datetime
    done: tuple[str, ...] = ()


def replan(
    plan: DayPlan,
    *,
    now: datetime,
    progress: Sequence[TeamProgress] = (),
    cancelled: Collection[str] = (),
    time_limit: float = 5.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> DayPlan:
    """Re-plan the rest of the day after a cancellation or a team running late.

    Visits done (by any team) or cancelled are removed. A team listed in ``progress`` starts
    from its position at ``at``; other teams start from their start point no earlier than
    ``now``. Teams whose shift is over are left out. Confirmed appointments stay required
    (see :func:`plan_day` for the fallback when one cannot be kept); optional visits are
    reconsidered from scratch.

    Parameters
    ----------
    plan
        The current plan (its ``problem`` is re-used).
    now
        Current time (timezone-aware).
    progress
        Position, free-at time and completed visits per team.
    cancelled
        Visit ids cancelled.
    time_limit, seed, max_iterations
        As for :func:`plan_day`.

    Returns
    -------
    DayPlan
        The remaining day; its ``problem`` is the reduced problem (replan it again later).
    """
    _aware(now, "now")
    day = plan.problem
    known_teams = {t.team_id for t in day.teams}
    by_team = {p.team_id: p for p in progress}
    unknown = set(by_team) - known_teams
    if unknown:
        raise ValueError(f"unknown teams in progress: {sorted(unknown)}")
    known_visits = {v.visit_id for v in day.visits}
    done = {v for p in progress for v in p.done}
    stray = (set(cancelled) | done) - known_visits
    if stray:
        raise ValueError(f"unknown visits: {sorted(stray)}")
    teams: list[TeamSpec] = []
    for t in day.teams:
        p = by_team.get(t.team_id)
        if p is not None:
            start_pos, start_at = p.position, max(_aware(p.at, "progress.at"), t.shift_start)
        else:
            start_pos, start_at = t.start, max(now, t.shift_start)
        if start_at >= t.shift_end:
            continue
        teams.append(TeamSpec(team_id=t.team_id, start=start_pos, end=t.end, shift_start=start_at, shift_end=t.shift_end))
    if not teams:
        raise ValueError("no team has shift time left")
    visits = tuple(v for v in day.visits if v.visit_id not in done and v.visit_id not in cancelled)
    reduced = _day_problem(
        city=day.city,
        day=day.day,
        teams=tuple(teams),
        visits=visits,
        provider=day.provider,
        travel_cost_fen_per_hour=day.travel_cost_fen_per_hour,
    )
    return plan_day(reduced, time_limit=time_limit, seed=seed, max_iterations=max_iterations)


def day_plan_geojson(plan: DayPlan) -> dict[str, Any]:
    """GeoJSON FeatureCollection for a map: one LineString per team and one Point per stop.

    Coordinates are ``[lon, lat]`` (GeoJSON order). Skipped optional visits and missed
    appointments are Points with ``"status": "skipped"`` / ``"missed"``.
    """
    features: list[dict[str, Any]] = []
    for team in plan.teams:
        path = [team.start_position, *(s.position for s in team.stops), team.end_position]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in path]},
                "properties": {
                    "kind": "route",
                    "team_id": team.team_id,
                    "depart": team.depart.isoformat(),
                    "back": team.back.isoformat(),
                    "stops": len(team.stops),
                    "travel_seconds": team.travel_seconds,
                    "travel_metres": team.travel_metres,
                },
            }
        )
        for order, s in enumerate(team.stops, start=1):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [s.position.lon, s.position.lat]},
                    "properties": {
                        "kind": "stop",
                        "status": "planned",
                        "team_id": team.team_id,
                        "order": order,
                        "visit_id": s.visit_id,
                        "confirmed": s.confirmed,
                        "arrival": s.arrival.isoformat(),
                        "start": s.start.isoformat(),
                        "departure": s.departure.isoformat(),
                    },
                }
            )
    by_id = {v.visit_id: v for v in plan.problem.visits}
    for status, ids in (("skipped", plan.skipped), ("missed", plan.missed_appointments)):
        for vid in ids:
            pos = by_id[vid].position
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [pos.lon, pos.lat]},
                    "properties": {"kind": "stop", "status": status, "visit_id": vid, "confirmed": by_id[vid].confirmed},
                }
            )
    return {"type": "FeatureCollection", "features": features}



def geojson_keep_visits(geojson: dict[str, Any], keep: Collection[str]) -> dict[str, Any]:
    """``geojson`` (as made by :func:`day_plan_geojson`) with only the visits in ``keep``.

    Stop points of other visits are dropped, and so are their vertices in each team's route line
    (vertex ``i`` of a line is the team's planned stop of order ``i``, between the start and the end
    position). Default deny: a feature of an unknown kind, or a line whose vertices do not match its
    stops, keeps nothing of the visits (a line becomes start → end)."""
    features = [f for f in geojson.get("features", []) if isinstance(f, dict)]
    planned: dict[str, dict[int, str]] = {}
    for f in features:
        props = f.get("properties") or {}
        if props.get("kind") == "stop" and props.get("status") == "planned":
            planned.setdefault(str(props.get("team_id")), {})[int(props.get("order", 0))] = str(props.get("visit_id"))
    out: list[dict[str, Any]] = []
    for f in features:
        props = dict(f.get("properties") or {})
        geometry = f.get("geometry") or {}
        if props.get("kind") == "route":
            coords = list(geometry.get("coordinates") or [])
            orders = planned.get(str(props.get("team_id")), {})
            if len(coords) >= 2 and len(coords) == len(orders) + 2 and set(orders) == set(range(1, len(orders) + 1)):
                kept = [coords[i] for i in range(1, len(coords) - 1) if orders[i] in keep]
            else:
                kept = []
            props["stops"] = len(kept)
            line = [coords[0], *kept, coords[-1]] if coords else []
            out.append({**f, "geometry": {**geometry, "coordinates": line}, "properties": props})
        elif props.get("kind") == "stop" and props.get("visit_id") in keep:
            out.append(f)
    return {**geojson, "type": "FeatureCollection", "features": out}
