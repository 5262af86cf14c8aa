"""`fieldcollect plan quote` and `plan options`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from fieldcollect.cli import app

runner = CliRunner()
QUOTE = ["plan", "quote", "--principal", "12000.00", "--annual-rate", "0.18", "--term", "12", "--start", "2026-01-15"]


def test_quote_json_equal_instalment() -> None:
    result = runner.invoke(app, [*QUOTE, "--method", "equal-instalment", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = data["instalments"]
    assert len(rows) == 12
    assert set(rows[0]) == {"seq", "due_date", "principal", "interest", "payment"}
    assert rows[0] == {"seq": 1, "due_date": "2026-02-15", "principal": "920.16", "interest": "180.00",
                       "payment": "1100.16"}
    assert rows[-1]["payment"] == "1100.19"
    assert sum(Decimal(r["principal"]) for r in rows) == Decimal("12000.00")
    assert data["total_interest"] == "1201.95"
    assert Decimal(data["apr"]) == Decimal("0.180004")


def test_quote_json_equal_principal() -> None:
    result = runner.invoke(app, [*QUOTE, "--method", "equal-principal", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["principal"] for r in data["instalments"]] == ["1000.00"] * 12
    assert data["instalments"][0]["interest"] == "180.00"
    assert data["total_interest"] == "1170.00"
    assert data["apr"] == "0.180000"


def test_quote_table() -> None:
    result = runner.invoke(app, [*QUOTE, "--method", "equal-principal"])
    assert result.exit_code == 0, result.output
    assert "2027-01-15" in result.stdout
    assert "1,170.00" in result.stdout
    assert "APR" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["--principal", "12000.001"], "two decimals"),
        (["--principal", "abc"], "not an amount"),
        (["--principal", "0"], "more than zero"),
        (["--annual-rate", "-0.1"], "between 0 and 10"),
        (["--annual-rate", "x"], "decimal fraction"),
        (["--term", "0"], "between 1 and 600"),
        (["--start", "2026-02-30"], "date like"),
        (["--method", "balloon"], "method must be one of"),
    ],
)
def test_quote_bad_input_exits_2(override: list[str], message: str) -> None:
    args = list(QUOTE)
    flag = override[0]
    if flag in args:
        i = args.index(flag)
        args[i + 1] = override[1]
    else:
        args += override
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_options_json() -> None:
    result = runner.invoke(app, [
        "plan", "options", "--outstanding", "8000", "--remaining-term", "8", "--annual-rate", "0.18",
        "--income", "4000", "--expenses", "2500", "--as-of", "2026-06-30", "--arrears-principal", "1800",
        "--arrears-interest", "300", "--arrears-penalty", "120", "--probability", "0.6", "--json",
    ])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    kinds = [o["kind"] for o in data["options"]]
    assert set(kinds) == {"current", "term_extension", "lower_instalment", "payment_holiday", "penalty_waiver",
                          "interest_waiver", "settlement"}
    lower = next(o for o in data["options"] if o["kind"] == "lower_instalment")
    assert Decimal(lower["max_instalment"]) <= Decimal("750.00")
    assert lower["affordable"] is True
    recoveries = [Decimal(o["expected_recovery"]) for o in data["options"]]
    assert recoveries == sorted(recoveries, reverse=True)


def test_options_reports_infeasible_and_bad_input() -> None:
    base = ["plan", "options", "--outstanding", "8000", "--remaining-term", "8", "--annual-rate", "0.18",
            "--as-of", "2026-06-30"]
    result = runner.invoke(app, [*base, "--income", "1000", "--expenses", "2500", "--json"])
    assert result.exit_code == 0, result.output
    assert {"kind": "lower_instalment", "reason": "no disposable income (declared expenses ≥ income)"} in json.loads(
        result.stdout)["infeasible"]
    bad = runner.invoke(app, [*base, "--income", "x", "--expenses", "2500"])
    assert bad.exit_code == 2
