"""`fieldcollect allocate`: round trips on CSV and Parquet, exact money, clear errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from fieldcollect.optimisation.allocation_cli import allocate

app = typer.Typer()
app.command("allocate")(allocate)
app.command("noop")(lambda: None)  # keep allocate a named sub-command, as in fieldcollect.cli

VALUES = [  # case, agency, value (CNY text)
    ("c1", "A", "100.50"), ("c1", "B", "80"), ("c2", "A", "90.1"), ("c2", "B", "-5"),
    ("c3", "B", "0.10"), ("c4", "B", "0.20"), ("c5", "C", "-1.00"),
]
CAPACITY = [("A", 1), ("B", 5), ("C", 3)]
EXPECTED_CNY = Decimal("80") + Decimal("90.1") + Decimal("0.10") + Decimal("0.20")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["allocate", *args])
    return result.exit_code, result.stdout, result.stderr


def write_csv(path: Path, header: str, rows) -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def check_output(out: pl.DataFrame, values: pl.DataFrame, capacity: pl.DataFrame) -> None:
    assert out.columns == ["case_id", "agency_id"]
    assert out["case_id"].is_unique().all()
    counts = out.group_by("agency_id").len().join(capacity, on="agency_id")
    assert (counts["len"] <= counts["capacity"]).all()
    assert out.join(values, on=["case_id", "agency_id"], how="anti").is_empty()  # only listed pairs


def test_csv_round_trip(tmp_path: Path) -> None:
    v = write_csv(tmp_path / "values.csv", "case_id,agency_id,value", VALUES)
    c = write_csv(tmp_path / "capacity.csv", "agency_id,capacity", CAPACITY)
    out = tmp_path / "out" / "placements.csv"
    code, stdout, stderr = run("--values", str(v), "--capacity", str(c), "--out", str(out))
    assert code == 0, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert Decimal(summary["objective"]) == EXPECTED_CNY  # exactly 170.40, no float error
    assert summary["objective"] == "170.40"
    assert summary["cases_placed"] == 4 and summary["cases"] == 5
    assert summary["seconds"] >= 0 and summary["optimal"] is True
    placed = pl.read_csv(out, schema_overrides={"case_id": pl.String, "agency_id": pl.String})
    assert dict(placed.iter_rows()) == {"c1": "B", "c2": "A", "c3": "B", "c4": "B"}
    check_output(placed, pl.read_csv(v), pl.read_csv(c))
    assert [p.name for p in out.parent.iterdir()] == ["placements.csv"]  # no temporary file left


def test_parquet_round_trip_with_integer_ids_and_decimals(tmp_path: Path) -> None:
    n_cases, agencies = 300, [10, 20, 30]
    rows = [(i, a, Decimal(f"{(i * 37 + a * 11) % 500 - 50}.{(i * a) % 100:02d}")) for i in range(n_cases)
            for a in agencies if (i + a) % 4]
    values = pl.DataFrame({"case_id": [r[0] for r in rows], "agency_id": [r[1] for r in rows],
                           "value": pl.Series([r[2] for r in rows], dtype=pl.Decimal(12, 2))})
    capacity = pl.DataFrame({"agency_id": agencies, "capacity": [40, 50, 60]})
    values.write_parquet(tmp_path / "v.parquet")
    capacity.write_parquet(tmp_path / "c.parquet")
    out = tmp_path / "o.parquet"
    args = ["--values", str(tmp_path / "v.parquet"), "--capacity", str(tmp_path / "c.parquet"), "--out", str(out)]
    code, stdout, stderr = run(*args, "--holdout", "0.2", "--seed", "7")
    assert code == 0, stderr
    placed = pl.read_parquet(out)
    assert placed.schema["case_id"] == pl.Int64 and placed.schema["agency_id"] == pl.Int64
    check_output(placed, values, capacity)
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["cases_placed"] == placed.height == 150  # capacity binds
    value_of = {(c, a): v for c, a, v in rows}
    assert sum(value_of[r] for r in placed.iter_rows()) == Decimal(summary["objective"])
    # same seed, same placements
    out2 = tmp_path / "o2.parquet"
    assert run(*args[:-1], str(out2), "--holdout", "0.2", "--seed", "7")[0] == 0
    assert pl.read_parquet(out2).equals(placed)


@pytest.mark.parametrize("values_rows, capacity_rows, expect", [
    ([("c1", "A", "1.005")], CAPACITY, ["values.csv", "row 1", "'value'", "more than 2 decimal places"]),
    ([("c1", "A", "1"), ("c2", "A", "abc")], CAPACITY, ["row 2", "'value'", "not a decimal number"]),
    ([("c1", "A", "1"), ("c1", "A", "2")], CAPACITY, ["row 2", "duplicate (case_id, agency_id) pair"]),
    ([("c1", "Z", "1")], CAPACITY, ["values.csv", "row 1", "'agency_id'", "agency 'Z' has no row in"]),
    ([("c1", "A", "1")], [("A", "-3")], ["capacity.csv", "row 1", "'capacity'", "negative"]),
    ([("c1", "A", "1")], [("A", "2.5")], ["capacity.csv", "'capacity'", "whole number"]),
    ([("c1", "A", "1")], [("A", "1"), ("A", "2")], ["capacity.csv", "row 2", "duplicate agency_id"]),
    ([("", "A", "1")], CAPACITY, ["row 1", "'case_id'", "missing identifier"]),
])
def test_bad_input_names_file_row_column(tmp_path: Path, values_rows, capacity_rows, expect) -> None:
    v = write_csv(tmp_path / "values.csv", "case_id,agency_id,value", values_rows)
    c = write_csv(tmp_path / "capacity.csv", "agency_id,capacity", capacity_rows)
    out = tmp_path / "out.csv"
    code, stdout, stderr = run("--values", str(v), "--capacity", str(c), "--out", str(out))
    assert code == 2
    for part in expect:
        assert part in stderr
    assert not out.exists() and stdout == ""


def test_missing_column_and_unknown_extension(tmp_path: Path) -> None:
    v = write_csv(tmp_path / "values.csv", "case_id,agency,value", [("c1", "A", "1")])
    c = write_csv(tmp_path / "capacity.csv", "agency_id,capacity", CAPACITY)
    code, _, stderr = run("--values", str(v), "--capacity", str(c), "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "missing column(s) agency_id" in stderr
    code, _, stderr = run("--values", str(v), "--capacity", str(c), "--out", str(tmp_path / "o.xlsx"))
    assert code == 2 and "unsupported file extension" in stderr
    code, _, stderr = run("--values", str(tmp_path / "nope.csv"), "--capacity", str(c), "--out",
                          str(tmp_path / "o.csv"))
    assert code == 2 and "file not found" in stderr
