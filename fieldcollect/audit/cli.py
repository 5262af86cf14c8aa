"""`fieldcollect audit ...`: check the tamper-evident audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    anchor: Annotated[list[str] | None, typer.Option(
        "--anchor", help="CHAIN:SEQ:HASH (or SEQ:HASH for chain 1) printed by an earlier verify and kept "
                         "elsewhere; the entry must still have that hash (catches a chain recomputed from "
                         "some point on); repeatable")] = None,
) -> None:
    """Recompute the hash chain of the audit log. Exit 0 when intact; otherwise exit 1 and name the
    first broken entry and how it was broken (modified, deleted, inserted or reordered)."""
    setup_django()
    migrate_quietly()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fieldcollect.audit.models import AuditEntry
    from fieldcollect.audit.verify import audit_heads, audit_verify

    total = AuditEntry.objects.count()
    console = Console(stderr=True)
    with Progress(TextColumn("verifying audit chain"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=as_json or total < 50_000) as bar:
        task = bar.add_task("verify", total=total)
        result = audit_verify(progress=lambda n: bar.update(task, completed=n))
    brk = result.first_break
    if brk is None:
        from fieldcollect.audit.verify import anchors_check

        triples = []
        for item in anchor or []:
            parts = item.split(":")
            if len(parts) == 2:
                parts = ["1", *parts]
            if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[2]) != 64:
                raise typer.BadParameter(f"--anchor must look like CHAIN:SEQ:HASH or SEQ:HASH (64 hex digits), "
                                         f"got {item!r}")
            triples.append((int(parts[0]), int(parts[1]), parts[2].lower()))
        brk = anchors_check(triples)
    heads = audit_heads()
    if as_json:
        typer.echo(json.dumps({
            "ok": brk is None, "entries": result.entries, "head_seq": result.head_seq, "head_hash": result.head_hash,
            "heads": [{"chain": c, "seq": s, "hash": h} for c, s, h in heads],
            "first_break": None if brk is None else {"kind": brk.kind, "seq": brk.seq, "entry_id": brk.entry_id,
                                                     "chain": brk.chain, "detail": brk.detail},
        }))
    elif brk is None:
        typer.echo(f"audit log intact: {result.entries} entries, head seq {result.head_seq} hash {result.head_hash}")
        if heads:
            typer.echo("anchors (keep them elsewhere; pass with --anchor): "
                       + " ".join(f"{c}:{s}:{h}" for c, s, h in heads))
    else:
        where = f"entry seq {brk.seq}" + (f" of chain {brk.chain}" if brk.chain != 1 else "") + (
            f" (id {brk.entry_id})" if brk.entry_id is not None else "")
        typer.echo(f"audit log broken at {where}: {brk.kind} ({brk.detail})")
    if brk is not None:
        raise typer.Exit(1)
