"""`fieldcollect users ...` and `fieldcollect token ...`: accounts and API tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer

users_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)


def _django() -> None:
    from fieldcollect.cli import migrate_quietly, setup_django

    setup_django()
    migrate_quietly()


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """List user accounts (username, role, agency)."""
    _django()
    from fieldcollect.core.models import User

    rows = [
        {"username": u.username, "role": u.role, "agency_id": u.agency_id, "is_active": u.is_active}
        for u in User.objects.order_by("username")
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("username", "role", "agency_id", "active")
    for r in rows:
        table.add_row(str(r["username"]), str(r["role"]), "" if r["agency_id"] is None else str(r["agency_id"]),
                      "yes" if r["is_active"] else "no")
    Console().print(table)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name")],
    role: Annotated[str, typer.Option(help="collections_manager, compliance_officer, risk_analyst, auditor, "
                                           "agency_manager or field_collector")],
    agency_id: Annotated[int | None, typer.Option("--agency-id", help="Agency (agency roles only)")] = None,
    password: Annotated[str | None, typer.Option(help="Password (generated and printed when omitted)")] = None,
    superuser: Annotated[bool, typer.Option(help="Also a Django superuser (admin)")] = False,
) -> None:
    """Create a user; prints the password when it was generated."""
    _django()
    import secrets

    from fieldcollect.core.models import AGENCY_ROLES, Role
    from fieldcollect.core.services import user_create

    if role not in Role.values:
        raise typer.BadParameter(f"unknown role {role!r}")
    if (role in AGENCY_ROLES) != (agency_id is not None):
        raise typer.BadParameter("--agency-id is required for agency roles and not allowed for bank roles")
    generated = password is None
    pw = password or secrets.token_urlsafe(12)
    user_create(username=username, password=pw, role=role, agency_id=agency_id, is_superuser=superuser,
                acting_user=None)
    typer.echo(pw if generated else f"created {username}")


@token_app.command("create")
def token_create_cmd(
    username: Annotated[str, typer.Option(help="Whose token")],
    days: Annotated[int, typer.Option(help="Days until it expires")] = 90,
    name: Annotated[str, typer.Option(help="A label for the token")] = "",
) -> None:
    """Create an API token for a user and print it on one line (it is shown only once)."""
    _django()
    from fieldcollect.core.models import User
    from fieldcollect.core.tokens import token_create

    user = User.objects.filter(username=username).first()
    if user is None:
        typer.echo(f"no user {username!r}", err=True)
        raise typer.Exit(1)
    _, secret = token_create(user=user, ttl_days=days, name=name)
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke_cmd(prefix: Annotated[str, typer.Option(help="The token's first 10 characters")]) -> None:
    """Revoke every token with this prefix."""
    _django()
    from fieldcollect.core.models import ApiToken
    from fieldcollect.core.tokens import token_revoke

    tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
    for token in tokens:
        token_revoke(token=token)
    typer.echo(f"revoked {len(tokens)}")
