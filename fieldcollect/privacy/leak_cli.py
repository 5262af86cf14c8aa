"""`fieldcollect leak trace FILE`: name the recipient and the export of a leaked file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Trace leaked exports.")


@app.command("trace")
def trace_cmd(
    file: Annotated[Path, typer.Argument(help="The leaked file (CSV or XLSX, whole or a part of it)")],
) -> None:
    """Name the recipient and the export a leaked file came from (exit 1 when no fingerprint is found)."""
    if not file.is_file():
        typer.echo(f"error: {file} is not a readable file", err=True)
        raise typer.Exit(code=2)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from fieldcollect.privacy.leak import trace

    result = trace(file)
    if not result.records and not result.unknown:
        typer.echo(f"no fingerprint found in {file} ({result.rows_read} rows read): neither zero-width codes nor "
                   "enough rows with the whitespace marks; the file may have been retyped or normalised, or "
                   "did not come from a fieldcollect export", err=True)
        raise typer.Exit(code=1)
    for record in result.records:
        agency = f"agency {record.agency_id} ({record.agency.name})" if record.agency_id and record.agency else "bank"
        count = result.codes.get(record.fingerprint)
        evidence = f"{count} verified code(s)" if count else "whitespace marks on every row"
        typer.echo(f"export {record.fingerprint}: recipient {record.recipient_label} — {agency}; "
                   f"'{record.name}' ({record.fmt}, {record.rows} rows, columns {', '.join(record.columns)}) "
                   f"exported {record.created_at:%Y-%m-%d %H:%M:%S} UTC for purpose '{record.purpose}' "
                   f"[{result.channel}: {evidence}]")
    for export_id in result.unknown:
        typer.echo(f"export {export_id}: fingerprint verified ({result.codes[export_id]} code(s)) but no export "
                   "record is kept (older than the retention period, or from another installation)", err=True)
    if not result.records:
        raise typer.Exit(code=3)


records_app = typer.Typer(no_args_is_help=True, add_completion=False,
                          help="Data-sharing records (exports, deletion attestations).")


@records_app.command("purge")
def purge_cmd() -> None:
    """Delete the data-sharing records older than three years (the nightly cycle does this too)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from fieldcollect.privacy.services import data_sharing_records_purge

    counts = data_sharing_records_purge()
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
