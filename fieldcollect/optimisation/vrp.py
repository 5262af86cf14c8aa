"""Vehicle routing with PyVRP: a builder → an immutable :class:`Problem` → :func:`solve` → :class:`Result`.

The engine under the Solomon VRPTW benchmark (:mod:`fieldcollect.optimisation.solomon_run`) and
the field-visit day plans (:mod:`fieldcollect.optimisation.routes`).

Every :class:`Result` re-simulates its routes with its own code (not PyVRP's) and records any
violation in ``Result.violations``; ``Result.feasible`` is true only when there is none.
PyVRP is imported inside :func:`solve` so importing this module stays cheap.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from pyvrp import Model, ProblemData, SolveParams
    from pyvrp import Result as PyVRPResult

__all__ = [
    "CLOCKS",
    "UNBOUNDED",
    "Clock",
    "DepotSpec",
    "Problem",
    "ProblemBuilder",
    "Result",
    "RoutePlan",
    "Stop",
    "VehicleSpec",
    "VisitSpec",
    "solve",
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
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}

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
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}")
    now = CLOCKS[clock]
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
