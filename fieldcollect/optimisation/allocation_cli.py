"""`fieldcollect allocate` (placeholder until the allocation optimiser lands)."""

import typer


def allocate() -> None:
    """Place cases with agencies (not yet available)."""
    raise typer.Exit(code=2)
