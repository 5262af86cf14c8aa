"""Route planner: generic solve, Solomon adapter, field-visit day plans and re-planning."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from fieldcollect.optimisation.routes import (
    DayPlan,
    DayPlanBuilder,
    TeamProgress,
    day_plan_geojson,
    plan_day,
    replan,
)
from fieldcollect.optimisation.solomon import bundled_instances, check_solution, read_instance
from fieldcollect.optimisation.solomon_run import solomon_problem, solve_solomon
from fieldcollect.optimisation.travel import HaversineProvider, LatLon
from fieldcollect.optimisation.vrp import ProblemBuilder, Result, RoutePlan, solve, validate_routes

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)


def at(h: int, m: int = 0) -> datetime:
    return datetime(2026, 12, 1, h, m, tzinfo=TZ)


@pytest.fixture(scope="module")
def c101_25():
    return read_instance(bundled_instances()["C101"]).head(num_customers=25)


# ---------------------------------------------------------------- generic problem and Solomon


def test_builder_rejects_bad_input() -> None:
    b = ProblemBuilder()
    b.add_location(x=0, y=0)
    b.add_location(x=1, y=0)
    b.add_depot(location=0)
    b.add_vehicle_type(start_depot=0)
    b.add_visit(location=1)
    with pytest.raises(ValueError, match="set_matrices"):
        b.build()
    with pytest.raises(ValueError, match="2×2"):
        b.set_matrices(distance=[[0]], duration=[[0]]).build()
    with pytest.raises(ValueError, match="zero diagonal"):
        b.set_matrices(distance=[[1, 1], [1, 0]], duration=[[0, 1], [1, 0]]).build()
    problem = b.set_matrices(distance=[[0, 1], [1, 0]], duration=[[0, 1], [1, 0]]).build()
    with pytest.raises(ValueError):
        problem.distance[0, 1] = 5  # read-only: the problem is immutable
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.visits = ()  # type: ignore[misc]


def test_solver_returns_feasible_routes_on_c101_head(c101_25) -> None:
    run = solve_solomon(c101_25, time_limit=1.0, seed=3)
    assert run.feasible, run.check.violations
    # The independent checker agrees with the run's own figures.
    report = check_solution(c101_25, run.routes)
    assert report.feasible and report.distance == run.distance and report.vehicles == run.vehicles
    assert sorted(c for r in run.routes for c in r) == list(range(1, 26))
    # Clustered instance: the three clusters are served by three routes at 191.3 (the optimum
    # of this sub-instance under truncation; a far worse solution would show up here).
    assert run.vehicles == 3
    assert run.distance <= 191.3 + 1e-9
    assert run.to_json().keys() == {"instance", "routes", "distance", "vehicles", "seconds"}


def test_result_validates_itself(c101_25) -> None:
    problem = solomon_problem(c101_25)
    res = solve(problem, time_limit=1.0, seed=1, max_iterations=300)
    assert res.feasible and res.violations == ()
    assert "feasible: True" in res.summary()
    assert res.distance == sum(r.distance for r in res.routes)
    # Tampering with a route (drop one visit, keep schedule) is caught on construction.
    first = res.routes[0]
    broken = RoutePlan(
        vehicle_type=first.vehicle_type,
        start=first.start,
        end=first.end,
        stops=first.stops[1:],
        distance=first.distance,
        travel=first.travel,
        load=first.load,
    )
    bad = Result(problem=problem, routes=(broken, *res.routes[1:]), unvisited=(), iterations=0, runtime=0.0, seed=0)
    assert not bad.feasible
    assert any("required visits not planned" in v for v in bad.violations)
    assert any("differs from a fresh simulation" in v for v in bad.violations)
    # Reversing a route breaks time windows.
    rev = res.routes[0]
    from fieldcollect.optimisation.vrp import _simulate

    reversed_route, _ = _simulate(problem, rev.vehicle_type, list(reversed(rev.visits)), rev.start)
    assert any("starts at" in v for v in validate_routes(problem, [reversed_route, *res.routes[1:]]))


def test_optional_visits_and_prizes_in_generic_problem() -> None:
    # Depot at 0, a near client worth the detour and a far one that is not.
    b = ProblemBuilder()
    for x in (0, 1, 50):
        b.add_location(x=x, y=0)
    b.add_depot(location=0)
    b.add_vehicle_type(start_depot=0)
    b.add_visit(location=1, prize=10, required=False, name="near")
    b.add_visit(location=2, prize=10, required=False, name="far")
    d = np.abs(np.subtract.outer([0, 1, 50], [0, 1, 50]))
    res = solve(b.set_matrices(distance=d, duration=d).build(), time_limit=0.5, seed=0, max_iterations=200)
    assert res.feasible
    assert [r.visits for r in res.routes] == [(0,)]
    assert res.unvisited == (1,)
    assert res.prizes == 10 and res.objective == 2 + 10


# ---------------------------------------------------------------- field-visit day plans


def _day(**kw) -> DayPlanBuilder:
    b = DayPlanBuilder(city="Chengdu", day=DAY, **kw)
    b.add_team(team_id="A", base=LatLon(30.650, 104.050), shift_start=at(9), shift_end=at(18))
    b.add_team(team_id="B", base=LatLon(30.700, 104.100), shift_start=at(9), shift_end=at(18))
    b.add_appointment(visit_id="ap1", position=LatLon(30.660, 104.060), window_start=at(10), window_end=at(10, 30))
    b.add_appointment(visit_id="ap2", position=LatLon(30.710, 104.110), window_start=at(11), window_end=at(11, 30))
    b.add_appointment(visit_id="ap3", position=LatLon(30.680, 104.080), window_start=at(14), window_end=at(14, 30))
    b.add_optional_visit(visit_id="good", position=LatLon(30.670, 104.070), prize_fen=50_000)
    # ~190 km away: more than a shift's travel at 25 km/h, whatever the prize.
    b.add_optional_visit(visit_id="far", position=LatLon(31.800, 105.500), prize_fen=10_000_000)
    # ~15 km out for 1 fen: never worth it.
    b.add_optional_visit(visit_id="cheap", position=LatLon(30.600, 104.200), prize_fen=1)
    return b


@pytest.fixture(scope="module")
def plan() -> DayPlan:
    return plan_day(_day().build(), time_limit=1.0, seed=0)


def _stops(plan: DayPlan) -> dict[str, tuple[str, object]]:
    return {s.visit_id: (t.team_id, s) for t in plan.teams for s in t.stops}


def _check_times(plan: DayPlan) -> None:
    specs = {v.visit_id: v for v in plan.problem.visits}
    teams = {t.team_id: t for t in plan.problem.teams}
    for t in plan.teams:
        assert t.depart >= teams[t.team_id].shift_start
        assert t.back <= teams[t.team_id].shift_end
        prev = t.depart
        for s in t.stops:
            spec = specs[s.visit_id]
            assert s.arrival >= prev and s.start >= s.arrival
            assert s.departure == s.start + spec.service
            if spec.window_start is not None:
                assert spec.window_start <= s.start
            if spec.window_end is not None:
                assert s.start <= spec.window_end
            prev = s.departure


def test_appointments_are_kept_inside_their_windows(plan: DayPlan) -> None:
    assert plan.feasible, plan.violations
    assert plan.all_appointments_kept
    stops = _stops(plan)
    for vid in ("ap1", "ap2", "ap3"):
        assert vid in stops
    _check_times(plan)
    assert plan.travel_seconds > 0 and plan.travel_metres > 0


def test_optional_visits_dropped_when_infeasible_or_unprofitable(plan: DayPlan) -> None:
    stops = _stops(plan)
    assert "good" in stops
    assert set(plan.skipped) == {"far", "cheap"}
    assert plan.prize_fen == 50_000
    # With a big enough prize the same 15 km detour becomes worth it.
    b = _day()
    rich = DayPlanBuilder(city="Chengdu", day=DAY)
    for t in b.build().teams:
        rich.add_team(team_id=t.team_id, base=t.start, shift_start=t.shift_start, shift_end=t.shift_end)
    rich.add_optional_visit(visit_id="cheap", position=LatLon(30.600, 104.200), prize_fen=200_000)
    assert "cheap" in _stops(plan_day(rich.build(), time_limit=0.5, seed=0))


def test_overbooked_appointments_fall_back_and_are_reported() -> None:
    b = DayPlanBuilder(city="Chengdu", day=DAY)
    b.add_team(team_id="solo", base=LatLon(30.65, 104.05), shift_start=at(9), shift_end=at(18))
    b.add_appointment(visit_id="west", position=LatLon(30.65, 103.90), window_start=at(10), window_end=at(10, 5))
    b.add_appointment(visit_id="east", position=LatLon(30.65, 104.20), window_start=at(10), window_end=at(10, 5))
    b.add_appointment(visit_id="later", position=LatLon(30.66, 104.06), window_start=at(15), window_end=at(16))
    p = plan_day(b.build(), time_limit=1.0, seed=0)
    assert p.feasible, p.violations
    assert len(p.missed_appointments) == 1 and p.missed_appointments[0] in {"west", "east"}
    assert "later" in _stops(p)
    _check_times(p)


def _progress_at(plan: DayPlan, now: datetime) -> list[TeamProgress]:
    out = []
    for t in plan.teams:
        done = [s for s in t.stops if s.departure <= now]
        pos = done[-1].position if done else t.start_position
        out.append(TeamProgress(team_id=t.team_id, position=pos, at=now, done=tuple(s.visit_id for s in done)))
    return out


def test_replan_after_cancellation(plan: DayPlan) -> None:
    now = at(12)
    progress = _progress_at(plan, now)
    done = {v for p in progress for v in p.done}
    assert {"ap1", "ap2"} <= done
    new = replan(plan, now=now, progress=progress, cancelled=["ap3"], time_limit=0.5, seed=0)
    assert new.feasible, new.violations
    remaining = _stops(new)
    assert "ap3" not in remaining and not done & remaining.keys()
    assert "ap3" not in new.skipped and "ap3" not in new.missed_appointments
    for t in new.teams:
        assert t.depart >= now
        start = next(p.position for p in progress if p.team_id == t.team_id)
        assert t.start_position == start
    _check_times(new)


def test_replan_when_a_team_runs_late(plan: DayPlan) -> None:
    # Whoever holds ap3 reports at 14:10 that it is stuck 12 km away until 14:25: it cannot reach
    # ap3 by 14:30, so the other team takes the appointment.
    owner, _ = _stops(plan)["ap3"]
    other = "B" if owner == "A" else "A"
    now = at(14, 10)
    base = {p.team_id: p for p in _progress_at(plan, at(13))}
    late = TeamProgress(team_id=owner, position=LatLon(30.580, 104.000), at=at(14, 25), done=base[owner].done)
    keep = TeamProgress(team_id=other, position=LatLon(30.690, 104.090), at=now, done=base[other].done)
    new = replan(plan, now=now, progress=[late, keep], time_limit=1.0, seed=0)
    assert new.feasible, new.violations
    assert new.all_appointments_kept
    team, stop = _stops(new)["ap3"]
    assert team == other
    assert at(14) <= stop.start <= at(14, 30)  # type: ignore[attr-defined]
    assert new.team(owner).depart >= at(14, 25)
    _check_times(new)
    # Replanning again from the replanned problem works (the plan carries its problem).
    again = replan(new, now=at(15), cancelled=["ap3"], time_limit=0.3, seed=0, max_iterations=200)
    assert "ap3" not in _stops(again)


def test_replan_rejects_unknown_ids(plan: DayPlan) -> None:
    with pytest.raises(ValueError, match="unknown visits"):
        replan(plan, now=at(12), cancelled=["nope"], time_limit=0.2)
    with pytest.raises(ValueError, match="unknown teams"):
        replan(plan, now=at(12), progress=[TeamProgress(team_id="Z", position=LatLon(30, 104), at=at(12))])


def test_naive_datetimes_and_bad_input_are_refused() -> None:
    b = DayPlanBuilder(city="Chengdu", day=DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        b.add_team(team_id="A", base=LatLon(30.6, 104.0), shift_start=datetime(2026, 12, 1, 9), shift_end=at(18))
    with pytest.raises(ValueError, match="shift ends"):
        b.add_team(team_id="A", base=LatLon(30.6, 104.0), shift_start=at(18), shift_end=at(9))
    with pytest.raises(ValueError, match="fen"):
        b.add_optional_visit(visit_id="x", position=LatLon(30.6, 104.0), prize_fen=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one team"):
        b.build()


def test_geojson_for_the_map(plan: DayPlan) -> None:
    gj = day_plan_geojson(plan)
    assert gj["type"] == "FeatureCollection"
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    assert {f["properties"]["team_id"] for f in lines} == {"A", "B"}
    for f in lines:
        team = plan.team(f["properties"]["team_id"])
        coords = f["geometry"]["coordinates"]
        assert len(coords) == len(team.stops) + 2
        assert coords[0] == [team.start_position.lon, team.start_position.lat]  # GeoJSON is [lon, lat]
        assert coords[1:-1] == [[s.position.lon, s.position.lat] for s in team.stops]
    planned = [f for f in gj["features"] if f["properties"].get("status") == "planned"]
    assert len(planned) == sum(len(t.stops) for t in plan.teams)
    assert {f["properties"]["visit_id"] for f in gj["features"] if f["properties"].get("status") == "skipped"} == {
        "far",
        "cheap",
    }


def test_custom_provider_changes_the_plan() -> None:
    slow = plan_day(_day(provider=HaversineProvider(speed_kmh=5.0)).build(), time_limit=0.5, seed=0)
    fast = plan_day(_day().build(), time_limit=0.5, seed=0)
    assert slow.travel_seconds > 3 * fast.travel_seconds / 2
    assert slow.travel_metres == pytest.approx(fast.travel_metres, rel=0.5)
    assert timedelta(seconds=slow.travel_seconds) > timedelta(0)


def test_unreachable_appointment_is_reported_missed_at_once() -> None:
    b = DayPlanBuilder(city="Chengdu", day=DAY)
    b.add_team(team_id="A", base=LatLon(30.65, 104.05), shift_start=at(9), shift_end=at(18))
    # Window closes at 09:05 but it is 30 km away: nobody can be there in time.
    b.add_appointment(visit_id="too-early", position=LatLon(30.92, 104.05), window_start=at(9), window_end=at(9, 5))
    b.add_appointment(visit_id="fine", position=LatLon(30.66, 104.06), window_start=at(11), window_end=at(12))
    p = plan_day(b.build(), time_limit=0.5, seed=0)
    assert p.feasible and p.missed_appointments == ("too-early",)
    assert [s.visit_id for s in p.team("A").stops] == ["fine"]


def test_cpu_clock_and_warm_start(c101_25) -> None:
    problem = solomon_problem(c101_25)
    first = solve(problem, time_limit=0.3, seed=0, clock="cpu")
    assert first.feasible and first.cpu_runtime >= 0.25
    warm = solve(
        problem, time_limit=0.2, seed=1, initial=[(r.vehicle_type, r.visits) for r in first.routes], max_iterations=50
    )
    assert warm.feasible and warm.objective <= first.objective
    with pytest.raises(ValueError, match="clock"):
        solve(problem, time_limit=0.1, clock="sundial")  # type: ignore[arg-type]


def test_nothing_left_to_visit_sends_the_team_home() -> None:
    b = DayPlanBuilder(city="Chengdu", day=DAY)
    b.add_team(team_id="A", base=LatLon(30.60, 104.00), shift_start=at(9), shift_end=at(18))
    b.add_optional_visit(visit_id="o", position=LatLon(30.65, 104.00), prize_fen=100_000)
    p = plan_day(b.build(), time_limit=0.3, seed=0)
    assert [s.visit_id for s in p.team("A").stops] == ["o"]
    done = TeamProgress(team_id="A", position=LatLon(30.65, 104.00), at=at(12), done=("o",))
    home = replan(p, now=at(12), progress=[done], time_limit=5.0)
    assert home.runtime_seconds < 1.0  # no visits: no search
    team = home.team("A")
    assert team.stops == () and team.depart == at(12)
    assert 900 < team.travel_seconds < 1200  # ~5.6 km × 1.3 at 25 km/h ≈ 17 minutes
    assert team.back == at(12) + timedelta(seconds=team.travel_seconds)
