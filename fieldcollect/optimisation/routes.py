"""Field-visit day plans on the routing engine (:mod:`fieldcollect.optimisation.vrp`).

:class:`DayPlanBuilder`, :func:`plan_day`, :func:`replan`, :func:`day_plan_geojson`: one vehicle
per team with its own base and shift, confirmed appointments as required visits with hard time
windows, unconfirmed visits as optional visits whose prize is their expected recovery (fen), travel
times from a pluggable :class:`~fieldcollect.optimisation.travel.TravelMatrixProvider`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fieldcollect.optimisation.travel import HaversineProvider, LatLon, TravelMatrix, TravelMatrixProvider
from fieldcollect.optimisation.vrp import UNBOUNDED, Problem, ProblemBuilder, Result, solve

__all__ = [
    "DayPlan",
    "DayPlanBuilder",
    "DayProblem",
    "FieldVisit",
    "PlannedStop",
    "TeamPlan",
    "TeamProgress",
    "TeamSpec",
    "day_plan_geojson",
    "geojson_keep_visits",
    "plan_day",
    "replan",
]

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
