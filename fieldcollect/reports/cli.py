"""`fieldcollect report ...`: the monthly management report as a PDF."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

app = typer.Typer(no_args_is_help=True, help="Management reports.")


@app.command("management")
def management(
    as_of: Annotated[str, typer.Option("--as-of", help="Business date the report is made on (YYYY-MM-DD)")],
    out: Annotated[Path, typer.Option("--out", help="PDF file to write")],
    lang: Annotated[str, typer.Option("--lang", help="zh-Hans or en")] = "zh-Hans",
) -> None:
    """Write the monthly management report (charts and key tables of the dashboards) to --out."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be a date like 2026-06-30, got {as_of!r}") from exc
    if lang not in {"zh-Hans", "zh-hans", "en"}:
        raise typer.BadParameter("--lang must be zh-Hans or en")
    setup_django()
    migrate_quietly()
    from fieldcollect.core.pdf import FontNotFound
    from fieldcollect.reports.management import SECTIONS, collect, render_pdf

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("dashboards", total=len(SECTIONS))
        parts = collect(as_of=day, lang=lang, progress=lambda step: bar.update(task, advance=1,
                                                                                description=f"data {step}"))
        charts = sum(len(b.figures) for b in parts.boards.values())
        task2 = bar.add_task("charts", total=charts + 1)
        try:
            pdf = render_pdf(parts, progress=lambda step: bar.update(task2, advance=1, description=f"chart {step}"))
        except FontNotFound as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(code=2) from exc
        bar.update(task2, advance=1, description="pdf written")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    typer.echo(f"wrote {out} ({len(pdf):,} bytes, {charts} charts, language {parts.lang})")
