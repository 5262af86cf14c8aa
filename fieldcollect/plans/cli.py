"""`fieldcollect plan ...`: repayment schedules and restructuring options from the command line."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Repayment plans and schedules.")


def _amount_fen(value: str, name: str, *, allow_zero: bool = False) -> int:
    from fieldcollect.plans.schedule import yuan_to_fen

    try:
        fen = yuan_to_fen(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{exc} (e.g. 12000.00)", param_hint=name) from None
    if fen < 0 or (fen == 0 and not allow_zero):
        need = "zero or more" if allow_zero else "more than zero"
        raise typer.BadParameter(f"must be {need}, got {value!r}", param_hint=name)
    return fen


def _rate(value: str, name: str) -> Decimal:
    try:
        rate = Decimal(value.strip())
    except InvalidOperation:
        raise typer.BadParameter(f"must be a decimal fraction like 0.18, got {value!r}", param_hint=name) from None
    if not rate.is_finite() or rate < 0 or rate >= 10:
        raise typer.BadParameter(f"must be a fraction between 0 and 10 (0.18 = 18 %), got {value!r}", param_hint=name)
    return rate


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"must be a date like 2026-01-15, got {value!r}", param_hint=name) from None


@app.command("quote")
def quote(
    principal: Annotated[str, typer.Option(help="Amount advanced in CNY, at most two decimals (12000.00)")],
    annual_rate: Annotated[str, typer.Option("--annual-rate", help="Nominal annual rate as a fraction (0.18)")],
    term: Annotated[int, typer.Option(help="Number of monthly instalments")],
    start: Annotated[str, typer.Option(help="Start date YYYY-MM-DD; the first instalment is due a month later")],
    method: Annotated[
        str, typer.Option(help="equal-instalment (等额本息) or equal-principal (等额本金)")
    ] = "equal-instalment",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Quote an exact monthly schedule with its total interest and annualised rate (APR/IRR)."""
    from fieldcollect.plans.schedule import build_schedule, parse_method

    principal_fen = _amount_fen(principal, "--principal")
    rate = _rate(annual_rate, "--annual-rate")
    if not 1 <= term <= 600:
        raise typer.BadParameter(f"must be between 1 and 600 months, got {term}", param_hint="--term")
    try:
        m = parse_method(method)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--method") from None
    start_date = _date(start, "--start")
    schedule = build_schedule(principal_fen=principal_fen, annual_rate=rate, term_months=term, method=m, start=start_date)
    if as_json:
        typer.echo(json.dumps(schedule.as_json(), ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    from fieldcollect.plans.schedule import fen_to_yuan

    table = Table(title=f"{m.value} · {fen_to_yuan(principal_fen)} CNY · {rate} · {term} months")
    for col in ("No.", "Due date", "Principal", "Interest", "Payment", "Balance"):
        table.add_column(col, justify="right")
    for i in schedule.instalments:
        table.add_row(
            str(i.seq),
            i.due_date.isoformat(),
            f"{fen_to_yuan(i.principal_fen):,}",
            f"{fen_to_yuan(i.interest_fen):,}",
            f"{fen_to_yuan(i.payment_fen):,}",
            f"{fen_to_yuan(i.closing_fen):,}",
        )
    table.add_section()
    table.add_row(
        "",
        "Total",
        f"{fen_to_yuan(schedule.total_principal_fen):,}",
        f"{fen_to_yuan(schedule.total_interest_fen):,}",
        f"{fen_to_yuan(schedule.total_payment_fen):,}",
        "",
    )
    console = Console()
    console.print(table)
    console.print(f"APR (IRR × 12): {schedule.apr * 100:.4f} %   effective: {schedule.apr_effective * 100:.4f} %")


@app.command("options")
def options(
    outstanding: Annotated[str, typer.Option(help="Principal not yet due, CNY")],
    remaining_term: Annotated[int, typer.Option("--remaining-term", help="Instalments not yet due")],
    annual_rate: Annotated[str, typer.Option("--annual-rate", help="Contract rate as a fraction (0.18)")],
    income: Annotated[str, typer.Option(help="Declared monthly income, CNY")],
    expenses: Annotated[str, typer.Option(help="Declared monthly expenses, CNY")],
    as_of: Annotated[str, typer.Option("--as-of", help="Restructuring date YYYY-MM-DD")],
    arrears_principal: Annotated[str, typer.Option("--arrears-principal")] = "0",
    arrears_interest: Annotated[str, typer.Option("--arrears-interest")] = "0",
    arrears_penalty: Annotated[str, typer.Option("--arrears-penalty")] = "0",
    reason: Annotated[str, typer.Option(help="Hardship reason")] = "unspecified",
    probability: Annotated[float, typer.Option(help="Probability of payment under any option")] = 0.5,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="TOML file with a [restructure] policy table")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Compare the restructuring options for a customer in hardship."""
    import tomllib

    from fieldcollect.plans.options import (
        HardshipCase,
        RestructurePolicy,
        compare_options,
        restructuring_options,
    )

    if not 0 <= probability <= 1:
        raise typer.BadParameter("must be between 0 and 1", param_hint="--probability")
    policy = RestructurePolicy()
    if policy_file is not None:
        try:
            data = tomllib.loads(policy_file.read_text(encoding="utf-8"))
            policy = RestructurePolicy.from_mapping(data.get("restructure", data))
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--policy") from None
    try:
        case = HardshipCase(
            reason=reason,
            monthly_income_fen=_amount_fen(income, "--income", allow_zero=True),
            monthly_expenses_fen=_amount_fen(expenses, "--expenses", allow_zero=True),
            outstanding_principal_fen=_amount_fen(outstanding, "--outstanding", allow_zero=True),
            arrears_principal_fen=_amount_fen(arrears_principal, "--arrears-principal", allow_zero=True),
            arrears_interest_fen=_amount_fen(arrears_interest, "--arrears-interest", allow_zero=True),
            arrears_penalty_fen=_amount_fen(arrears_penalty, "--arrears-penalty", allow_zero=True),
            remaining_term_months=remaining_term,
            annual_rate=_rate(annual_rate, "--annual-rate"),
            as_of=_date(as_of, "--as-of"),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    result = restructuring_options(case, policy=policy, probability=Decimal(str(probability)))
    rows = compare_options(result)
    if as_json:
        payload = {
            "options": [r.as_dict() for r in rows],
            "infeasible": [{"kind": k.value, "reason": why} for k, why in result.infeasible],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Options · owed {case.total_owed_fen / 100:,.2f} CNY · {reason}")
    cols = ("Option", "Months", "Max/month", "Total", "Waiver", "PV loss", "Expected", "Fits")
    for col in cols:
        table.add_column(col, justify="left" if col == "Option" else "right")
    for r in rows:
        d = r.as_dict()
        fits = {True: "yes", False: "no", None: "—"}[r.affordable]
        table.add_row(
            r.kind.value,
            str(r.term_months),
            str(d["max_instalment"]),
            str(d["total_cost"]),
            str(d["waiver"]),
            str(d["bank_loss_pv"]),
            str(d["expected_recovery"]),
            fits,
        )
    console = Console()
    console.print(table)
    for kind, why in result.infeasible:
        console.print(f"[yellow]{kind.value}[/]: {why}")
