"""Solomon parser, bks table and the independent feasibility checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldcollect.optimisation.solomon import (
    SOLOMON_DATA,
    bundled_instances,
    check_solution,
    parse_instance,
    read_bks,
    read_instance,
    read_solution,
    solution_cost,
)

SOLUTIONS = Path(__file__).resolve().parent / "data" / "solomon_solutions"
INSTANCES = sorted(bundled_instances())


def _inst(name: str):
    return read_instance(bundled_instances()[name])


def _sol(name: str):
    return read_solution(SOLUTIONS / f"{name}.sol.txt")


def test_the_instances_ship_inside_the_package() -> None:
    package = Path(__file__).resolve().parents[1]
    assert package / "solomon_data" == SOLOMON_DATA
    assert len(INSTANCES) == 37
    assert all(p.is_relative_to(package) for p in bundled_instances().values())
    assert sorted(p.name.removesuffix(".sol.txt") for p in SOLUTIONS.glob("*.sol.txt")) == INSTANCES


def test_parse_c101_header_and_rows() -> None:
    raw = bundled_instances()["C101"].read_bytes()
    assert b"\r\n" in raw  # the shipped files are CRLF
    inst = _inst("C101")
    assert inst.name == "C101"
    assert (inst.num_vehicles, inst.capacity, inst.num_customers, inst.horizon) == (25, 200, 100, 1236)
    # row "1  45  68  10  912  967  90"
    assert (inst.x[1], inst.y[1], inst.demand[1], inst.ready[1], inst.due[1], inst.service[1]) == (45, 68, 10, 912, 967, 90)
    assert (inst.x[0], inst.y[0], inst.demand[0]) == (40, 50, 0)
    # LF endings give the same instance
    assert parse_instance(raw.decode().replace("\r\n", "\n")) == inst


def test_parse_rejects_bad_rows() -> None:
    text = "X\n\nVEHICLE\nNUMBER CAPACITY\n 2 10\n\nCUSTOMER\nCUST NO. ...\n 0 0 0 0 0 100 0\n 2 1 1 1 0 100 5\n"
    with pytest.raises(ValueError, match="in order"):
        parse_instance(text)
    with pytest.raises(ValueError, match="7 columns"):
        parse_instance(text.replace(" 2 1 1 1 0 100 5", " 1 1 1 1 0 100"))


def test_tenths_are_exact_truncations() -> None:
    inst = parse_instance("T\nVEHICLE\nN C\n 1 10\nCUSTOMER\n 0 0 0 0 0 100 0\n 1 3 4 1 0 100 0\n 2 1 1 1 0 100 0\n")
    assert inst.tenths(0, 1) == 50  # 5.0 exactly, not 49
    assert inst.tenths(0, 2) == 14  # sqrt(2) = 1.414...
    assert inst.exact(0, 2) == pytest.approx(2**0.5)


def test_read_bks() -> None:
    bks = read_bks()
    assert len(bks) == 37
    assert (bks["R101"].bks_vehicles, bks["R101"].bks_distance) == (19, 1650.80)
    assert bks["C101"].dimacs_distance == 827.3
    assert bks["R102"].dimacs_routes_feasible_untruncated is False


@pytest.mark.parametrize("name", INSTANCES)
def test_every_reference_solution_is_feasible_and_costs_its_cost_line(name: str) -> None:
    inst, sol = _inst(name), _sol(name)
    report = check_solution(inst, sol.routes, convention="dimacs")
    assert report.feasible, report.violations
    assert report.distance == sol.cost
    row = read_bks()[name]
    assert report.vehicles == row.dimacs_vehicles
    exact = check_solution(inst, sol.routes, convention="exact")
    assert exact.feasible == row.dimacs_routes_feasible_untruncated
    assert round(exact.distance, 2) == pytest.approx(row.dimacs_routes_exact_distance, abs=1e-9)


def test_truncation_matters_for_r102() -> None:
    report = check_solution(_inst("R102"), _sol("R102").routes, convention="exact")
    assert not report.feasible
    assert any("customer" in v and "due" in v for v in report.violations)


def test_checker_catches_each_kind_of_violation() -> None:
    inst, sol = _inst("C101"), _sol("C101")
    routes = [list(r) for r in sol.routes]

    dup = [*routes[:-1], [*routes[-1], routes[0][0]]]
    assert any("visited 2 times" in v for v in check_solution(inst, dup).violations)

    missing = [routes[0][1:], *routes[1:]]
    assert any("not visited" in v for v in check_solution(inst, missing).violations)

    unknown = [*routes, [101]]
    assert any("unknown customer" in v for v in check_solution(inst, unknown).violations)

    merged = [routes[0] + routes[1] + routes[2], *routes[3:]]
    assert any("capacity" in v for v in check_solution(inst, merged).violations)

    reversed_first = [list(reversed(routes[0])), *routes[1:]]
    assert any("due" in v for v in check_solution(inst, reversed_first).violations)

    assert any("fleet" in v for v in check_solution(inst, routes, max_vehicles=9).violations)


def test_horizon_is_enforced() -> None:
    # Customer 1 of C101 is ready at 912 with 90 of service: 1002 + travel back is fine (< 1236).
    inst = _inst("C101")
    tight = parse_instance(bundled_instances()["C101"].read_text().replace("1236", "1010", 1))
    routes = [[c] for c in range(1, 101)]
    assert check_solution(inst.head(num_customers=100), routes, max_vehicles=100).feasible
    report = check_solution(tight, routes, max_vehicles=100)
    assert any("depot (horizon)" in v for v in report.violations)


def test_solution_cost_conventions() -> None:
    inst, sol = _inst("C101"), _sol("C101")
    assert solution_cost(inst, sol.routes, convention="dimacs") == 827.3
    assert solution_cost(inst, sol.routes, convention="exact") == pytest.approx(828.94, abs=0.005)


def test_head_restricts_customers() -> None:
    small = _inst("C101").head(num_customers=25)
    assert small.num_customers == 25 and small.name == "C101-25"
    assert check_solution(small, [list(range(1, 26))]).violations  # one route cannot serve all windows
