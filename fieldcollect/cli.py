"""The `fieldcollect` command. Each feature area contributes a command or a group; heavy imports
stay inside the command functions so that `fieldcollect --help` starts fast."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.accounts.cli import token_app, users_app
from fieldcollect.audit.cli import app as audit_app
from fieldcollect.bootstrap import migrate_quietly, setup_django
from fieldcollect.cases.cli import results_app
from fieldcollect.compliance.cli import app as compliance_app
from fieldcollect.earlywarning.cli import app as early_warning_app
from fieldcollect.ops.cli import backup as ops_backup
from fieldcollect.ops.cli import export_cases_cmd, serve_prod
from fieldcollect.ops.cli import restore as ops_restore
from fieldcollect.ops.cli import worker as ops_worker
from fieldcollect.optimisation.allocation_cli import allocate
from fieldcollect.optimisation.routes_cli import app as routes_app
from fieldcollect.payments.cli import app as payments_app
from fieldcollect.plans.cli import app as plan_app
from fieldcollect.privacy.keys_cli import app as keys_app
from fieldcollect.privacy.leak_cli import app as leak_app
from fieldcollect.privacy.leak_cli import records_app as sharing_app
from fieldcollect.qa.cli import app as qa_app
from fieldcollect.reports.cli import app as report_app
from fieldcollect.scoring.cli import app as model_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="fieldcollect: collections through agencies.")
app.add_typer(routes_app, name="routes", help="Route planning for field visits.")
app.add_typer(compliance_app, name="compliance", help="Contact-rule checks.")
app.add_typer(plan_app, name="plan", help="Repayment plans and schedules.")
app.add_typer(payments_app, name="payments", help="Same-day payments, payment channels, reconciliation.")
app.add_typer(report_app, name="report", help="Management reports (PDF).")
app.add_typer(model_app, name="model", help="Train and score models on tabular data.")
app.add_typer(early_warning_app, name="early-warning", help="Early warning: model, nightly list, reminders.")
app.command("allocate")(allocate)
app.add_typer(users_app, name="users", help="User accounts.")
app.add_typer(token_app, name="token", help="API tokens.")
app.add_typer(audit_app, name="audit", help="Tamper-evident audit log.")
app.add_typer(results_app, name="results", help="Agency work results (催记): bulk import.")
app.command("worker")(ops_worker)
app.command("backup")(ops_backup)
app.command("restore")(ops_restore)
app.command("export-cases")(export_cases_cmd)
app.add_typer(keys_app, name="keys", help="Encryption keys: init, status, rotate.")
app.add_typer(leak_app, name="leak", help="Trace leaked exports to their recipient.")
app.add_typer(sharing_app, name="sharing-records", help="Data-sharing records: purge after 3 years.")
app.add_typer(qa_app, name="qa", help="Quality inspection: conduct findings on transcripts.")


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{name} must be a date like 2026-06-30, got {value!r}") from exc


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Folder to write the export to")],
    loans: Annotated[int, typer.Option(help="Number of loans")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 42,
    as_of: Annotated[str, typer.Option("--as-of", help="Business date of the export (YYYY-MM-DD)")] = "2026-06-30",
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
) -> None:
    """Write a seeded, realistic book of a Chinese consumer lender."""
    from fieldcollect.demodata.generator import write_demo_portfolio

    if fmt not in {"parquet", "csv"}:
        raise typer.BadParameter("--format must be parquet or csv")
    counts = write_demo_portfolio(out, n_loans=loans, seed=seed, as_of=_parse_date(as_of, "--as-of"), fmt=fmt)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@app.command("ingest")
def ingest(
    source: Annotated[Path, typer.Argument(help="Folder with the export (Parquet or CSV, UTF-8 or GBK)")],
) -> None:
    """Validate and load a core-banking export into FIELDCOLLECT_HOME (all or nothing, idempotent)."""
    setup_django()
    migrate_quietly()
    from fieldcollect.ingest.reader import IngestError
    from fieldcollect.portfolio.services import ingest_export

    try:
        result = ingest_export(source=source)
    except IngestError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(result.message)


@app.command("run-daily")
def run_daily_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Business date (YYYY-MM-DD)")],
    engine: Annotated[str, typer.Option(help="local (Polars/NumPy) or spark")] = "local",
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", help="Spark master URL (default local[2]; for a cluster see docs/spark-cluster.md)")] = None,
) -> None:
    """Run the nightly delinquency cycle for one business date and publish it."""
    setup_django()
    migrate_quietly()
    from rich.console import Console
    from rich.table import Table

    from fieldcollect.core.errors import ApplicationError
    from fieldcollect.daily.services import run_daily
    from fieldcollect.ingest.store import StoreLocationError

    if engine not in {"local", "spark"}:
        raise typer.BadParameter("--engine must be local or spark")
    try:
        result = run_daily(as_of=_parse_date(as_of, "--as-of"), engine=engine, spark_master=spark_master)
    except (FileNotFoundError, StoreLocationError) as exc:  # no store yet; a bad FIELDCOLLECT_SPARK_STORE_URI
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    except ApplicationError as exc:  # a business date after today or after the data, another run going on
        typer.echo(exc.message, err=True)
        raise typer.Exit(code=2) from exc
    s = result.summary
    table = Table(title=f"Nightly cycle {s['as_of']} ({engine})")
    for col in ("bucket", "loans", "balance (CNY)", "overdue (CNY)"):
        table.add_column(col, justify="right")
    for b in s["buckets"]:
        table.add_row(b["bucket"], f"{b['loans']:,}", f"{b['balance_fen'] / 100:,.2f}", f"{b['overdue_fen'] / 100:,.2f}")
    Console().print(table)
    typer.echo(f"published {result.path}  loans={s['loans']} 30+ balance share={s['balance_30plus_share']:.2%} "
               f"cases={s.get('cases', {})} seconds={sum(result.timings.values()):.1f}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    prod: Annotated[bool, typer.Option("--prod", help="Production server (gunicorn; settings from the environment)")] = False,
) -> None:
    """Serve the web application (development server, or gunicorn with --prod; see docs/operations.md)."""
    if prod:
        serve_prod(host=os.environ.get("HOST", host), port=int(os.environ.get("PORT", port)), workers=0, threads=0,
                   migrate=True)
        return
    setup_django()
    migrate_quietly()
    from django.core.management import call_command

    call_command("runserver", f"{host}:{port}", use_reloader=False)


@app.command("demo")
def demo(
    loans: Annotated[int, typer.Option(help="Number of loans in the demo book")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 42,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date (default: yesterday)")] = None,
    days: Annotated[int, typer.Option(help="Business days to play (operation and nightly cycle), ending on --as-of")] = 60,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up only; do not start the server")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Set up the whole demo in FIELDCOLLECT_HOME: book, ingestion, nightly cycles, placements, users."""
    from datetime import timedelta

    from rich.console import Console
    from rich.table import Table

    from fieldcollect.home import home_dir

    console = Console()
    business = _parse_date(as_of, "--as-of") if as_of else date.today() - timedelta(days=1)
    setup_django()
    migrate_quietly()
    from fieldcollect.demodata.demo import build_demo, save_logins

    console.print(f"[bold]fieldcollect demo[/] home={home_dir()} loans={loans:,} business date={business}")
    started = time.perf_counter()
    logins = build_demo(loans=loans, seed=seed, business=business, days=days, say=console.print)
    console.print(f"demo built in {time.perf_counter() - started:.0f} s")
    table = Table(title="Demo logins (passwords and keys are new on every `fieldcollect demo`)")
    for col in ("username", "password", "role", "agency", "authenticator key (TOTP)"):
        table.add_column(col, overflow="fold")  # keys and passwords must show in full
    for username, password, role, agency_id, totp_key in logins:
        table.add_row(username, password, role, "" if agency_id is None else str(agency_id), totp_key)
    console.print(table)
    console.print("Bank logins ask for a one-time code after the password: add the key to an authenticator app, "
                  "or print the current code with `.venv/bin/python -c \"import pyotp; print(pyotp.TOTP('KEY').now())\"`.")
    console.print(f"logins saved to {save_logins(logins)}")
    if not no_serve:
        console.print(f"serving on http://{host}:{port}/  (Ctrl-C to stop)")
        serve(host=host, port=port)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
