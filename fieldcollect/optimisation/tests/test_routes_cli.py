"""`fieldcollect routes bench|check` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fieldcollect.optimisation.routes_cli import app
from fieldcollect.optimisation.solomon import bundled_instances, check_solution, read_instance

runner = CliRunner()
SOLUTIONS = Path(__file__).resolve().parent / "data" / "solomon_solutions"


def test_bench_json_shape_on_a_small_instance(tmp_path) -> None:
    # A 25-customer instance written to a file (CRLF, like the bundled ones).
    text = bundled_instances()["C101"].read_text()
    lines = text.splitlines()
    first_rows = next(i for i, ln in enumerate(lines) if ln.strip().startswith("0 "))
    small = tmp_path / "C101_25.txt"
    small.write_bytes("\r\n".join(lines[: first_rows + 26]).encode() + b"\r\n")

    res = runner.invoke(app, ["bench", str(small), "--time-limit", "1", "--seed", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"instance", "routes", "distance", "vehicles", "seconds"}
    assert out["instance"] == "C101"
    assert out["vehicles"] == len(out["routes"])
    assert sorted(c for r in out["routes"] for c in r) == list(range(1, 26))
    report = check_solution(read_instance(small), out["routes"])
    assert report.feasible and report.distance == out["distance"]
    assert 0 < out["seconds"] < 5


def test_bench_by_bundled_name_and_human_output() -> None:
    res = runner.invoke(app, ["bench", "r101", "--customers", "20", "--time-limit", "0.5"])
    assert res.exit_code == 0, res.output
    assert "R101-20" in res.output and "feasible" in res.output and "Route #1:" in res.output


def test_bench_unknown_instance() -> None:
    res = runner.invoke(app, ["bench", "NOPE999", "--time-limit", "0.1"])
    assert res.exit_code != 0


def test_check_command() -> None:
    ok = runner.invoke(app, ["check", "C101", str(SOLUTIONS / "C101.sol.txt")])
    assert ok.exit_code == 0
    assert json.loads(ok.output)["distance"] == 827.3
    bad = runner.invoke(app, ["check", "R102", str(SOLUTIONS / "R102.sol.txt"), "--convention", "exact"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["feasible"] is False
