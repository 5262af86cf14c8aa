"""`fieldcollect payments ...`: same-day payments from a file, payment channels, the reconciliation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

app = typer.Typer(no_args_is_help=True)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                yield number, raw


@app.command("post")
def post(
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            help="JSON lines: one payment per line "
            '{"reference", "loan_id", "amount_fen", "paid_at", "channel"}',
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
) -> None:
    """Apply the payments of a file at once (idempotent by each channel's reference). Prints
    {"applied", "duplicates", "rejected": [{"line", "reason"}]}; exit 1 when a line was refused."""
    if not file.is_file():
        typer.echo(f"{file}: no such file", err=True)
        raise typer.Exit(2)
    setup_django()
    migrate_quietly()
    import gc

    from fieldcollect.payments.services import payments_post

    # a file of 100,000 lines allocates millions of short-lived objects: the start-up's objects out of
    # the collector's way and fewer collections (about half the time of a large file)
    gc.freeze()
    gc.set_threshold(200_000, 50, 100)

    result = payments_post(lines=_lines(file), actor_label="cli")
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        typer.echo(
            f"applied={result.applied} duplicates={result.duplicates} rejected={len(result.rejected)} "
            + " ".join(f"{k}={v}" for k, v in sorted(result.effects.items()))
        )
        for r in result.rejected[:50]:
            typer.echo(f"{file} line {r['line']}: {r['reason']}", err=True)
    if result.rejected:
        raise typer.Exit(1)


@app.command("channel-add")
def channel_add_cmd(
    name: Annotated[str, typer.Argument(help="Channel name (lower-case letters, digits, _ and -)")],
    rotate: Annotated[bool, typer.Option("--rotate", help="Generate a new secret")] = False,
) -> None:
    """Create a payment channel; its HMAC secret is generated into the data home's keys folder
    (never committed) and printed once, for the channel's operator."""
    setup_django()
    migrate_quietly()
    from fieldcollect.core.errors import ApplicationError
    from fieldcollect.payments.channels import channel_add

    try:
        secret = channel_add(name=name, rotate=rotate)
    except ApplicationError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from None
    typer.echo(secret)


@app.command("reconciliation")
def reconciliation(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    last: Annotated[int, typer.Option(help="How many nights")] = 7,
) -> None:
    """The last nights' reconciliations of the same-day payments with the export."""
    setup_django()
    migrate_quietly()
    from fieldcollect.payments.models import Reconciliation

    rows = [
        {
            "as_of": r.as_of.isoformat(),
            "matched": r.matched,
            "amount_differs": r.amount_differs,
            "missing": r.missing,
            "extra": r.extra,
        }
        for r in Reconciliation.objects.all()[: max(1, min(last, 366))]
    ]
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        for r in rows:
            typer.echo(" ".join(f"{k}={v}" for k, v in r.items()))


@app.command("core-dispatch")
def core_dispatch(
    demo: Annotated[
        bool, typer.Option("--demo", help="Deliver to the simulated core (answers at once)")
    ] = False,
    drop: Annotated[
        Path | None,
        typer.Option("--drop", help="Folder of the file drop (default: the data home's core/outbox)"),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many instructions")] = 500,
) -> None:
    """Write-back: queue an instruction for each accepted plan and deliver the pending ones (retried)."""
    setup_django()
    migrate_quietly()
    from fieldcollect.payments.writeback import DemoCoreBanking, FileDropAdapter, writeback_dispatch

    file_drop = FileDropAdapter(directory=drop)
    counts = writeback_dispatch(adapter=DemoCoreBanking(drop=file_drop) if demo else file_drop, limit=limit)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@app.command("core-answers")
def core_answers(
    file: Annotated[
        Path, typer.Option("--file", help="CSV: instruction_id,status,reason (acknowledged or refused)")
    ],
) -> None:
    """Apply the core banking system's answers to the instructions."""
    if not file.is_file():
        typer.echo(f"{file}: no such file", err=True)
        raise typer.Exit(2)
    setup_django()
    migrate_quietly()
    from fieldcollect.payments.writeback import core_answers_from_csv

    result = core_answers_from_csv(file)
    typer.echo(json.dumps({"answered": result.answered, "rejected": result.rejected}, ensure_ascii=False))
    if result.rejected:
        raise typer.Exit(1)


@app.command("credit-marks")
def credit_marks_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write")],
    as_of: Annotated[str, typer.Option("--as-of", help="Business date (YYYY-MM-DD); default today")] = "",
) -> None:
    """Export the credit-reporting (征信) marks: loans restructured (重组) or settled (协商结清)."""
    from datetime import date

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"--as-of must be a date like 2026-12-07, got {as_of!r}") from None
    setup_django()
    migrate_quietly()
    from fieldcollect.core.bank_time import bank_today
    from fieldcollect.payments.writeback import credit_marks, credit_marks_csv

    n = credit_marks_csv(credit_marks(as_of=day or bank_today()), out)
    typer.echo(f"{n} marks written to {out}")
