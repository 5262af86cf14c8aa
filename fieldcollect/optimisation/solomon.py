"""Solomon (1987) VRPTW instances: parsing, an independent feasibility checker and cost conventions.

This module never calls a solver: it is the referee for :mod:`fieldcollect.optimisation.solomon_run`
and for ``bench/routing.py``.

Conventions
-----------
``"dimacs"``
    Every arc is truncated to one decimal, ``floor(10 * d) / 10``, and the truncated value is
    also the travel time. The reference ``.sol`` files and the ``dimacs_*`` columns of
    ``solomon_bks.csv`` use it. The checker works in integer tenths, so it is exact.
``"exact"``
    Arcs are double-precision Euclidean distances (the hierarchical SINTEF best known
    solutions, ``bks_*`` columns, use it). The checker allows a tolerance of ``1e-6``.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Convention = Literal["dimacs", "exact"]
CONVENTIONS: tuple[Convention, ...] = ("dimacs", "exact")
_EPS = 1e-6


SOLOMON_DATA = Path(__file__).resolve().parent / "solomon_data"
"""The bundled instances (``instances/NAME.txt``) and ``solomon_bks.csv``: package data, with their
sources and licences in ``README.md`` beside them."""


def bundled_instances() -> dict[str, Path]:
    """Return the bundled Solomon instance files by name (``"C101"``), sorted by name."""
    return {p.stem: p for p in sorted((SOLOMON_DATA / "instances").glob("*.txt"))}


@dataclass(frozen=True, slots=True)
class SolomonInstance:
    """A Solomon instance; index 0 is the depot and its due date is the horizon.

    Attributes
    ----------
    name
        Instance name from line 1 (e.g. ``"C101"``).
    num_vehicles, capacity
        Fleet limit and vehicle capacity.
    x, y, demand, ready, due, service
        Per-node columns, depot first (customer number == index).
    """

    name: str
    num_vehicles: int
    capacity: int
    x: tuple[int, ...]
    y: tuple[int, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def num_customers(self) -> int:
        """Number of customers (nodes minus the depot)."""
        return len(self.x) - 1

    @property
    def horizon(self) -> int:
        """The depot's due date: every route must be back by then."""
        return self.due[0]

    def tenths(self, i: int, j: int) -> int:
        """Return ``floor(10 * d(i, j))`` exactly (integer square root, no float rounding)."""
        dx = self.x[i] - self.x[j]
        dy = self.y[i] - self.y[j]
        return math.isqrt(100 * (dx * dx + dy * dy))

    def exact(self, i: int, j: int) -> float:
        """Return the double-precision Euclidean distance between nodes ``i`` and ``j``."""
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])

    def truncated_tenths_matrix(self) -> list[list[int]]:
        """Full matrix of ``floor(10 * d)`` values (integers, used by the solver)."""
        n = len(self.x)
        return [[self.tenths(i, j) for j in range(n)] for i in range(n)]

    def head(self, *, num_customers: int) -> SolomonInstance:
        """Return the instance restricted to its first ``num_customers`` customers (for fast tests)."""
        k = num_customers + 1
        return SolomonInstance(
            name=f"{self.name}-{num_customers}",
            num_vehicles=self.num_vehicles,
            capacity=self.capacity,
            x=self.x[:k],
            y=self.y[:k],
            demand=self.demand[:k],
            ready=self.ready[:k],
            due=self.due[:k],
            service=self.service[:k],
        )


@dataclass(frozen=True, slots=True)
class SolomonSolution:
    """Routes (customer numbers, depot omitted) and the ``Cost`` line of a ``.sol`` file."""

    routes: tuple[tuple[int, ...], ...]
    cost: float | None


@dataclass(frozen=True, slots=True)
class BksRow:
    """One row of ``solomon_bks.csv`` (figures used by the benchmark)."""

    instance: str
    family: str
    bks_vehicles: int
    bks_distance: float
    dimacs_vehicles: int
    dimacs_distance: float
    dimacs_routes_exact_distance: float
    dimacs_routes_feasible_untruncated: bool
    note: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Result of :func:`check_solution`.

    Attributes
    ----------
    feasible
        True when there are no violations.
    violations
        Human-readable violations (empty when feasible).
    distance
        Total distance under the convention (tenths summed then divided by 10 for ``"dimacs"``).
    vehicles
        Number of non-empty routes.
    convention
        The convention the check used.
    """

    feasible: bool
    violations: tuple[str, ...]
    distance: float
    vehicles: int
    convention: Convention


def _ints(line: str) -> list[int]:
    return [int(float(tok)) for tok in line.split()]


def parse_instance(text: str) -> SolomonInstance:
    """Parse the text of a Solomon instance (CRLF or LF line endings).

    Parameters
    ----------
    text
        File content.

    Returns
    -------
    SolomonInstance

    Raises
    ------
    ValueError
        When a section is missing or a customer row is malformed.
    """
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    nonempty = [ln for ln in lines if ln]
    if not nonempty:
        raise ValueError("empty instance")
    name = nonempty[0]
    try:
        vidx = next(i for i, ln in enumerate(nonempty) if ln.upper().startswith("VEHICLE"))
        cidx = next(i for i, ln in enumerate(nonempty) if ln.upper().startswith("CUSTOMER"))
    except StopIteration as exc:
        raise ValueError("missing VEHICLE or CUSTOMER section") from exc
    num_vehicles, capacity = _ints(nonempty[vidx + 2])[:2]
    rows: list[list[int]] = []
    for ln in nonempty[cidx + 1 :]:
        if not ln[0].isdigit():
            continue  # the column header line
        vals = _ints(ln)
        if len(vals) != 7:
            raise ValueError(f"customer row needs 7 columns: {ln!r}")
        rows.append(vals)
    for expected, row in enumerate(rows):
        if row[0] != expected:
            raise ValueError(f"customer numbers must be 0..n in order; got {row[0]} at {expected}")
    cols = list(zip(*rows, strict=True))
    return SolomonInstance(
        name=name,
        num_vehicles=num_vehicles,
        capacity=capacity,
        x=tuple(cols[1]),
        y=tuple(cols[2]),
        demand=tuple(cols[3]),
        ready=tuple(cols[4]),
        due=tuple(cols[5]),
        service=tuple(cols[6]),
    )


def read_instance(path: Path | str) -> SolomonInstance:
    """Read a Solomon instance file (see :func:`parse_instance`)."""
    return parse_instance(Path(path).read_text(encoding="ascii"))


def parse_solution(text: str) -> SolomonSolution:
    """Parse a ``.sol`` file: ``Route #k: c1 c2 ...`` lines and a final ``Cost X`` line."""
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    for raw in text.splitlines():
        ln = raw.strip()
        if ln.lower().startswith("route"):
            _, _, rest = ln.partition(":")
            routes.append(tuple(int(tok) for tok in rest.split()))
        elif ln.lower().startswith("cost"):
            cost = float(ln.split()[1])
    return SolomonSolution(routes=tuple(routes), cost=cost)


def read_solution(path: Path | str) -> SolomonSolution:
    """Read a ``.sol`` file (see :func:`parse_solution`)."""
    return parse_solution(Path(path).read_text(encoding="ascii"))


def read_bks(path: Path | str | None = None) -> dict[str, BksRow]:
    """Read ``solomon_bks.csv`` into a dict keyed by instance name.

    Parameters
    ----------
    path
        CSV path; defaults to the bundled ``solomon_bks.csv``.
    """
    csv_path = Path(path) if path is not None else SOLOMON_DATA / "solomon_bks.csv"
    out: dict[str, BksRow] = {}
    with csv_path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = BksRow(
                instance=row["instance"],
                family=row["family"],
                bks_vehicles=int(row["bks_vehicles"]),
                bks_distance=float(row["bks_distance"]),
                dimacs_vehicles=int(row["dimacs_vehicles"]),
                dimacs_distance=float(row["dimacs_distance"]),
                dimacs_routes_exact_distance=float(row["dimacs_routes_exact_distance"]),
                dimacs_routes_feasible_untruncated=row["dimacs_routes_feasible_untruncated"].strip().lower()
                == "true",
                note=row.get("note", "") or "",
            )
    return out


def solution_cost(
    instance: SolomonInstance, routes: Sequence[Sequence[int]], *, convention: Convention = "dimacs"
) -> float:
    """Total distance of ``routes`` (depot omitted) under a convention.

    For ``"dimacs"`` the arcs are summed in integer tenths and the result is ``tenths / 10``
    rounded to one decimal, so it compares exactly with a ``.sol`` ``Cost`` line.
    """
    if convention == "dimacs":
        total = 0
        for route in routes:
            if not route:
                continue
            path = [0, *route, 0]
            total += sum(instance.tenths(a, b) for a, b in itertools.pairwise(path))
        return round(total / 10, 1)
    exact = 0.0
    for route in routes:
        if not route:
            continue
        path = [0, *route, 0]
        exact += math.fsum(instance.exact(a, b) for a, b in itertools.pairwise(path))
    return exact


def check_solution(
    instance: SolomonInstance,
    routes: Sequence[Sequence[int]],
    *,
    convention: Convention = "dimacs",
    max_vehicles: int | None = None,
) -> CheckReport:
    """Check a solution independently of any solver.

    Rules: every customer exactly once and nothing else; route load within capacity; service
    starts inside ``[ready, due]`` (early arrivals wait); the vehicle is back at the depot by the
    horizon; at most ``max_vehicles`` (default: the instance fleet) non-empty routes.

    Parameters
    ----------
    instance
        The instance.
    routes
        Customer numbers per route, depot omitted.
    convention
        ``"dimacs"`` (integer tenths, exact) or ``"exact"`` (doubles, tolerance 1e-6).
    max_vehicles
        Fleet limit; defaults to ``instance.num_vehicles``.

    Returns
    -------
    CheckReport
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}")
    violations: list[str] = []
    n = instance.num_customers
    seen: dict[int, int] = {}
    for r, route in enumerate(routes):
        for c in route:
            if not 1 <= c <= n:
                violations.append(f"route {r + 1}: unknown customer {c}")
            seen[c] = seen.get(c, 0) + 1
    for c, k in sorted(seen.items()):
        if k > 1:
            violations.append(f"customer {c} visited {k} times")
    missing = [c for c in range(1, n + 1) if c not in seen]
    if missing:
        violations.append(f"{len(missing)} customers not visited: {missing[:10]}")
    used = [r for r in routes if r]
    fleet = instance.num_vehicles if max_vehicles is None else max_vehicles
    if len(used) > fleet:
        violations.append(f"{len(used)} routes exceed the fleet of {fleet}")

    scale = 10 if convention == "dimacs" else 1
    for r, route in enumerate(routes):
        if not route or any(not 1 <= c <= n for c in route):
            continue
        load = sum(instance.demand[c] for c in route)
        if load > instance.capacity:
            violations.append(f"route {r + 1}: load {load} > capacity {instance.capacity}")
        t: float = instance.ready[0] * scale
        prev = 0
        for c in [*route, 0]:
            if convention == "dimacs":
                t += instance.tenths(prev, c)
            else:
                t += instance.exact(prev, c)
            ready = instance.ready[c] * scale
            due = instance.due[c] * scale
            t = max(t, ready)
            tol = 0 if convention == "dimacs" else _EPS
            if t > due + tol:
                where = "depot (horizon)" if c == 0 else f"customer {c}"
                violations.append(f"route {r + 1}: {where} reached at {t / scale:.4f} > due {due / scale:g}")
            t += instance.service[c] * scale
            prev = c
    return CheckReport(
        feasible=not violations,
        violations=tuple(violations),
        distance=solution_cost(
            instance, [r for r in routes if all(1 <= c <= n for c in r)], convention=convention
        ),
        vehicles=len(used),
        convention=convention,
    )
