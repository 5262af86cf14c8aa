"""The `fieldcollect` command. Each feature area contributes a command or a group; heavy imports
stay inside the command functions so that `fieldcollect --help` starts fast."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.compliance.cli import app as compliance_app
from fieldcollect.core.cli import token_app, users_app
from fieldcollect.optimisation.allocation_cli import allocate
from fieldcollect.optimisation.routes_cli import app as routes_app
from fieldcollect.plans.cli import app as plan_app
from fieldcollect.scoring.cli import app as model_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="fieldcollect: collections through agencies.")
app.add_typer(routes_app, name="routes", help="Route planning for field visits.")
app.add_typer(compliance_app, name="compliance", help="Contact-rule checks.")
app.add_typer(plan_app, name="plan", help="Repayment plans and schedules.")
app.add_typer(model_app, name="model", help="Train and score models on tabular data.")
app.command("allocate")(allocate)
app.add_typer(users_app, name="users", help="User accounts.")
app.add_typer(token_app, name="token", help="API tokens.")


def setup_django() -> None:
    """Configure Django for commands that touch the database, and bring the schema up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def migrate_quietly() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
