"""`fieldcollect results ...`: an agency's work results (催记) imported in bulk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

results_app = typer.Typer(no_args_is_help=True)


@results_app.command("import")
def import_results(
    agency: Annotated[int, typer.Option("--agency", help="The agency's id (agency_id)")],
    file: Annotated[Path, typer.Option("--file", help="CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
) -> None:
    """Import an agency's work results: each good row recorded once (by the agency's own agency_ref), each
    bad row refused with its row, column and reason, contacts that broke a rule at their time recorded
    as breaches. Exit 0 when the file was read (even with refused rows), 2 when it could not be."""
    setup_django()
    migrate_quietly()
    from fieldcollect.agencies.models import Agency
    from fieldcollect.cases.results_import import results_import
    from fieldcollect.core.errors import ApplicationError

    found = Agency.objects.filter(pk=agency).first()
    if found is None:
        typer.echo(f"--agency: no agency {agency}", err=True)
        raise typer.Exit(code=2)
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"{file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        result = results_import(agency=found, data=data, filename=file.name, acting_user=None)
    except ApplicationError as exc:
        if as_json:
            typer.echo(
                json.dumps(
                    {"error": {"code": str(exc.code), "message": exc.message, "extra": exc.extra}},
                    ensure_ascii=False,
                    default=str,
                )
            )
        else:
            typer.echo(exc.message, err=True)
        raise typer.Exit(code=2) from exc
    answer = result.as_dict()
    if as_json:
        typer.echo(json.dumps(answer, ensure_ascii=False))
        return
    typer.echo(
        f"rows={answer['rows']} applied={answer['applied']} duplicates={answer['duplicates']} "
        f"rejected={len(answer['rejected'])} breaches={answer['breaches']}"
    )
    for r in answer["rejected"][:50]:
        typer.echo(f"  row {r['row']} {r['column']}: {r['reason']}")
    if len(answer["rejected"]) > 50:
        typer.echo(f"  ... and {len(answer['rejected']) - 50} more (use --json for all)")
