"""User and token commands (placeholder until case management lands)."""

import typer

users_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)
