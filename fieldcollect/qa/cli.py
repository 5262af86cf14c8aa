"""`fieldcollect qa …`: quality inspection from the command line.

``fieldcollect qa scan --pack CN|US --transcripts T.jsonl --out F.jsonl`` runs the conduct detector
(:mod:`fieldcollect.analytics.conduct`) over transcripts, one JSON object a line::

    {"transcript_id", "language": "zh"|"en", "channel": "call"|"visit",
     "segments": [{"speaker": "collector"|"customer"|"third_party", "start_s", "end_s", "text"}]}

and writes one line per transcript, in input order::

    {"transcript_id", "findings": [{"category", "segment_index" (null for missing_*), "rule_id", "evidence"}]}

A malformed line stops the command with exit code 2 and a message naming the file, the line, the
field and the reason (the output file is then left incomplete under a ``.partial`` name).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from fieldcollect.analytics.conduct.detector import (
    PackError,
    Transcript,
    TranscriptError,
    load_detector,
    parse_transcript,
)

app = typer.Typer(no_args_is_help=True, help="Quality inspection: conduct findings on transcripts.")


class ScanInputError(Exception):
    def __init__(self, path: Path, line: int, field: str | None, reason: str) -> None:
        where = f"{path}:{line}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {reason}")


def read_transcripts(path: Path) -> Iterator[Transcript]:
    """The transcripts of a JSON-lines file; :class:`ScanInputError` names file, line, field, reason."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScanInputError(path, number, None, f"not valid JSON: {exc.msg}") from exc
            try:
                yield parse_transcript(obj)
            except TranscriptError as exc:
                raise ScanInputError(path, number, exc.field, exc.reason) from exc


def scan_file(pack: str, transcripts: Path, out: Path) -> tuple[int, int]:
    """Scan ``transcripts`` into ``out``; the number of transcripts and of findings."""
    detector = load_detector(pack)
    partial = out.with_name(out.name + ".partial")
    count = found = 0
    with partial.open("w", encoding="utf-8") as fh:
        for transcript in read_transcripts(transcripts):
            row = detector.scan_json(transcript)
            found += len(row["findings"])
            count += 1
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")
    os.replace(partial, out)
    return count, found


@app.command("scan")
def scan(
    pack: Annotated[str, typer.Option(help="Rule pack: CN or US (or the path of a pack .toml file).")],
    transcripts: Annotated[Path, typer.Option(help="Transcripts, JSON lines.")],
    out: Annotated[Path, typer.Option(help="Findings, JSON lines (one line per transcript).")],
) -> None:
    """Find threats, abuse, impersonation, false consequences, disclosures and missing notices."""
    if not pack.endswith(".toml") and pack.upper() not in {"CN", "US"}:
        typer.echo(f"--pack: {pack!r} is not CN, US or a .toml file", err=True)
        raise typer.Exit(2)
    if not transcripts.is_file():
        typer.echo(f"--transcripts: {transcripts}: no such file", err=True)
        raise typer.Exit(2)
    try:
        count, found = scan_file(pack if pack.endswith(".toml") else pack.upper(), transcripts, out)
    except (ScanInputError, PackError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{count} transcripts, {found} findings -> {out}", file=sys.stderr)


@app.command("purge")
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be purged; delete nothing.")
    ] = False,
) -> None:
    """Delete the audio of recordings past their pack's retention and not on legal hold (each purge recorded)."""
    from fieldcollect.bootstrap import setup_django

    setup_django()
    from fieldcollect.qa.services import purge_expired

    done = purge_expired(dry_run=dry_run)
    for p in done:
        typer.echo(f"recording {p.recording_id} case {p.case_id_snapshot} sha256 {p.sha256[:16]} {p.size} bytes"
                   f"{'' if p.file_deleted or dry_run else ' (file kept: still used)'}")  # fmt: skip
    typer.echo(f"{len(done)} recordings {'would be ' if dry_run else ''}purged", err=True)


@app.command("reminders")
def reminders(
    within_days: Annotated[
        int, typer.Option(help="Remind this many days before a certificate expires.")
    ] = 30,
) -> None:
    """Mark and list the certificate renewal reminders due today (once per certificate and window)."""
    from datetime import date

    from fieldcollect.bootstrap import setup_django

    setup_django()
    from fieldcollect.qa.training import renewal_reminders_send

    for cert in renewal_reminders_send(as_of=date.today(), within_days=within_days):
        typer.echo(f"{cert.collector.agency_id}\t{cert.collector_id}\t{cert.number}\t{cert.expires_on}")
