"""``fieldcollect early-warning``: train the model, run the nightly step, send due reminders."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

app = typer.Typer(no_args_is_help=True, help="Early warning: model training, nightly list, pre-due reminders.")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be YYYY-MM-DD, got {value!r}") from exc


@app.command("train")
def train(
    as_of: Annotated[str, typer.Option("--as-of", help="Business date: history up to it is used")],
    kind: Annotated[str, typer.Option(help="gbm, logit, scorecard or auto")] = "gbm",
) -> None:
    """Train the early-warning model on the store's history and make it champion."""
    from rich.progress import Progress

    setup_django()
    migrate_quietly()
    from fieldcollect.earlywarning import engine
    from fieldcollect.ingest.store import require_current

    with Progress(transient=True) as bar:
        task = bar.add_task("training", total=None)

        def report(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        try:
            artefact = engine.train_model(require_current(), as_of=_date(as_of), kind=kind, progress=report)
        except engine.NotEnoughHistory as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
    typer.echo(json.dumps({"version": artefact.version, "kind": artefact.kind, "auc": artefact.metrics.get("auc"),
                           "ks": artefact.metrics.get("ks"), "brier": artefact.metrics.get("brier"),
                           "rows": artefact.manifest.get("rows"), "timings": artefact.manifest.get("timings")}))


@app.command("run")
def run(as_of: Annotated[str, typer.Option("--as-of", help="Business date (its nightly cycle must be published)")]) -> None:
    """The nightly early-warning step alone: (re)train if needed, score, list, reminders."""
    setup_django()
    migrate_quietly()
    from fieldcollect.earlywarning.services import early_warning_nightly

    typer.echo(json.dumps(early_warning_nightly(as_of=_date(as_of), progress=True), default=str))


@app.command("reminders")
def reminders() -> None:
    """Send the planned pre-due reminders whose time has come (run during the day, e.g. every 15 minutes)."""
    setup_django()
    migrate_quietly()
    from fieldcollect.earlywarning.services import reminders_send_due

    typer.echo(json.dumps(reminders_send_due()))


@app.command("strategy")
def strategy(
    as_of: Annotated[str, typer.Option("--as-of", help="Business date")],
    visits_per_city: Annotated[int, typer.Option(help="Field visits per city with field collectors")] = 5,
    calls: Annotated[int, typer.Option(help="Calls for the day")] = 200,
    restructures: Annotated[int, typer.Option(help="Restructure offers for the day")] = 20,
    legal: Annotated[int, typer.Option(help="Legal referrals for the day")] = 5,
) -> None:
    """Choose one treatment per open case under channel capacities (result page: /earlywarning/strategy/)."""
    setup_django()
    migrate_quietly()
    from fieldcollect.earlywarning.services import strategy_run

    run = strategy_run(as_of=_date(as_of), actor=None, visits_per_city=visits_per_city, calls=calls,
                       restructures=restructures, legal=legal)
    typer.echo(json.dumps({"run": run.pk, "cases": run.cases, "expected_value_fen": run.expected_value_fen,
                           "expected_uplift_fen": run.expected_uplift_fen, **run.summary}, default=str))
