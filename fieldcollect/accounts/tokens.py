"""API bearer tokens: create (the secret is shown once), verify, revoke."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from fieldcollect.accounts.errors import UserErrorCode
from fieldcollect.accounts.models import AgencyApiNetworks, ApiToken
from fieldcollect.agencies.models import Agency
from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.core.rawsql import RowBuilder, adapt, column, fields_of, select_list, table

TOKEN_PREFIX = "fc_"
DEFAULT_TTL_DAYS = 90


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_networks(networks: Iterable[str]) -> list[str]:
    """CIDR strings in canonical form (a bare address is a /32 or /128); invalid ones are refused."""
    out = []
    for raw in networks:
        try:
            out.append(str(ipaddress.ip_network(raw.strip(), strict=False)))
        except ValueError as exc:
            raise ApplicationError(f"Not an IP network: {raw!r}.", code=UserErrorCode.TOKEN_INVALID_NETWORK) from exc
    return sorted(set(out))


def ip_allowed(ip: str | None, networks: list[str]) -> bool:
    """True if the list is empty, else if ``ip`` lies in one of the networks (no address: refused)."""
    if not networks:
        return True
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(n, strict=False) for n in networks)


def token_create(*, user: User, acting_user: User | None = None, name: str = "",
                 ttl_days: int = DEFAULT_TTL_DAYS, allowed_networks: Iterable[str] = ()) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the secret (never stored). With
    ``allowed_networks`` (CIDR) the token works only from those addresses."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    networks = normalise_networks(allowed_networks)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:10],
            digest=_digest(secret),
            expires_at=timezone.now() + timedelta(days=ttl_days),
            allowed_networks=networks,
        )
        audit_log(actor=acting_user, action="token.create", object_type="api_token", object_id=token.pk,
                  new={"user": user.pk, "prefix": token.prefix, "expires_at": token.expires_at.isoformat(),
                       "allowed_networks": networks},
                  actor_label="" if acting_user else "cli")
    return token, secret


def agency_networks_set(*, agency_id: int, networks: Iterable[str], acting_user: User | None = None) -> list[str]:
    """Set (or, with an empty list, remove) the IP allow-list for the API tokens of an agency's users."""
    clean = normalise_networks(networks)
    with transaction.atomic():
        row = AgencyApiNetworks.objects.filter(agency_id=agency_id).first()
        old = list(row.networks) if row is not None else []
        if clean:
            AgencyApiNetworks.objects.update_or_create(agency_id=agency_id, defaults={"networks": clean})
        elif row is not None:
            row.delete()
        audit_log(actor=acting_user, action="agency.api_networks", object_type="agency", object_id=agency_id,
                  old={"networks": old}, new={"networks": clean}, actor_label="" if acting_user else "cli")
    return clean


def token_revoke(*, token: ApiToken, acting_user: User | None = None) -> ApiToken:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log(actor=acting_user, action="token.revoke", object_type="api_token", object_id=token.pk,
                  actor_label="" if acting_user else "cli")
    return token


_TOKEN_FIELDS = ("id", "prefix", "allowed_networks", "last_used_at")


@functools.cache
def _auth_query() -> tuple[str, list[RowBuilder]]:
    """The token, its user, the user's agency and the agency's allow-list in one statement (the API
    runs it on every request: written out once rather than compiled by the ORM each time)."""
    token_fields, user_fields, agency_fields = fields_of(ApiToken, _TOKEN_FIELDS), fields_of(User), fields_of(Agency)
    network_fields = fields_of(AgencyApiNetworks, ["networks"])
    t, u, n, a = (functools.partial(column, m) for m in (ApiToken, User, AgencyApiNetworks, Agency))
    sql = (f'SELECT {select_list(token_fields, "t")}, {select_list(network_fields, "n")}, '
           f'{select_list(user_fields, "u")}, {select_list(agency_fields, "a")} '
           f'FROM {table(ApiToken)} t JOIN {table(User)} u ON {u("pk", "u")} = {t("user", "t")} '
           f'LEFT JOIN {table(Agency)} a ON {a("pk", "a")} = {u("agency", "u")} '
           f'LEFT JOIN {table(AgencyApiNetworks)} n ON {n("agency", "n")} = {u("agency", "u")} '
           f'WHERE {t("digest", "t")} = %s AND {t("revoked_at", "t")} IS NULL AND {t("expires_at", "t")} > %s')
    return sql, [RowBuilder(ApiToken, token_fields), RowBuilder(AgencyApiNetworks, network_fields),
                 RowBuilder(User, user_fields), RowBuilder(Agency, agency_fields)]


def token_authenticate(secret: str, *, ip: str | None = None, check_ip: bool = False) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to, else ``None``.

    With ``check_ip`` (the API does this), the request address ``ip`` must also lie in the token's
    allow-list and in the allow-list of the user's agency, where those are set; a refusal is audited."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    sql, (tokens, networks, users, agencies) = _auth_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, adapt([_digest(secret), now]))
        row = cursor.fetchone()
    if row is None:
        return None
    token: ApiToken = tokens.build(row)
    agency_networks = list(networks.build(row, tokens.width).networks or [])
    user: User = users.build(row, tokens.width + networks.width)
    if user.agency_id is not None:
        User.agency.field.set_cached_value(user, agencies.build(row, tokens.width + networks.width + users.width))
    if not user.is_active:
        return None
    if check_ip and not (ip_allowed(ip, list(token.allowed_networks or [])) and ip_allowed(ip, agency_networks)):
        with transaction.atomic():
            audit_log(actor=user, action="token.ip_refused", object_type="api_token", object_id=token.pk,
                      new={"ip": ip, "prefix": token.prefix})
        return None
    # touch at most once a minute to keep reads cheap
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user
