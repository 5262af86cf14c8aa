"""`fieldcollect users ...` and `fieldcollect token ...`: accounts and API tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fieldcollect.bootstrap import migrate_quietly, setup_django

users_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)


def _django() -> None:
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

    from fieldcollect.accounts.services import user_create
    from fieldcollect.core.models import AGENCY_ROLES, Role

    if role not in Role.values:
        raise typer.BadParameter(f"unknown role {role!r}")
    if (role in AGENCY_ROLES) != (agency_id is not None):
        raise typer.BadParameter("--agency-id is required for agency roles and not allowed for bank roles")
    generated = password is None
    pw = password or secrets.token_urlsafe(12)
    user_create(username=username, password=pw, role=role, agency_id=agency_id, is_superuser=superuser,
                acting_user=None)
    typer.echo(pw if generated else f"created {username}")


def _user(username: str):  # type: ignore[no-untyped-def]
    from fieldcollect.core.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        typer.echo(f"no user {username!r}", err=True)
        raise typer.Exit(1)
    return user


@users_app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Option(help="Login name")],
    role: Annotated[str, typer.Option(help="The new role")],
    agency_id: Annotated[int | None, typer.Option("--agency-id", help="Agency (agency roles only)")] = None,
) -> None:
    """Change a user's role (audited)."""
    _django()
    from fieldcollect.accounts.services import user_set_role
    from fieldcollect.core.errors import ApplicationError

    try:
        user_set_role(user=_user(username), role=role, agency_id=agency_id, acting_user=None)
    except ApplicationError as exc:
        raise typer.BadParameter(exc.message) from exc
    typer.echo(f"{username}: {role}")


@users_app.command("set-active")
def users_set_active(
    username: Annotated[str, typer.Option(help="Login name")],
    active: Annotated[bool, typer.Option("--active/--inactive", help="Enable or disable the login")],
) -> None:
    """Enable or disable a login (audited)."""
    _django()
    from fieldcollect.accounts.services import user_set_active

    user_set_active(user=_user(username), active=active, acting_user=None)
    typer.echo(f"{username}: {'active' if active else 'inactive'}")


@users_app.command("reset-2fa")
def users_reset_2fa(username: Annotated[str, typer.Option(help="Login name")]) -> None:
    """Remove a user's authenticator (lost phone): the next login asks to enrol a new one (audited)."""
    _django()
    from fieldcollect.accounts.totp import reset

    removed = reset(user=_user(username))
    typer.echo(f"{username}: {'authenticator removed' if removed else 'had no authenticator'}")


@token_app.command("create")
def token_create_cmd(
    username: Annotated[str, typer.Option(help="Whose token")],
    days: Annotated[int, typer.Option(help="Days until it expires")] = 90,
    name: Annotated[str, typer.Option(help="A label for the token")] = "",
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="Only from this network (CIDR, e.g. 203.0.113.0/24); repeatable")] = None,
) -> None:
    """Create an API token for a user and print it on one line (it is shown only once)."""
    _django()
    from fieldcollect.accounts.tokens import token_create
    from fieldcollect.core.errors import ApplicationError

    user = _user(username)
    try:
        _, secret = token_create(user=user, ttl_days=days, name=name, allowed_networks=allow or [])
    except ApplicationError as exc:
        raise typer.BadParameter(exc.message) from exc
    typer.echo(secret)


@token_app.command("agency-networks")
def token_agency_networks(
    agency_id: Annotated[int, typer.Option("--agency-id", help="The agency")],
    networks: Annotated[list[str] | None, typer.Argument(help="CIDR networks; none removes the allow-list")] = None,
) -> None:
    """Set the IP allow-list for the API tokens of an agency's users (audited)."""
    _django()
    from fieldcollect.accounts.tokens import agency_networks_set
    from fieldcollect.agencies.models import Agency
    from fieldcollect.core.errors import ApplicationError

    if not Agency.objects.filter(pk=agency_id).exists():
        typer.echo(f"no agency {agency_id}", err=True)
        raise typer.Exit(1)
    try:
        clean = agency_networks_set(agency_id=agency_id, networks=networks or [])
    except ApplicationError as exc:
        raise typer.BadParameter(exc.message) from exc
    typer.echo(f"agency {agency_id}: " + (", ".join(clean) if clean else "any address"))


@token_app.command("revoke")
def token_revoke_cmd(prefix: Annotated[str, typer.Option(help="The token's first 10 characters")]) -> None:
    """Revoke every token with this prefix."""
    _django()
    from fieldcollect.accounts.models import ApiToken
    from fieldcollect.accounts.tokens import token_revoke

    tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
    for token in tokens:
        token_revoke(token=token)
    typer.echo(f"revoked {len(tokens)}")
