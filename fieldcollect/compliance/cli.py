"""Command group (placeholder until its feature lands)."""

import typer

app = typer.Typer(no_args_is_help=True)
