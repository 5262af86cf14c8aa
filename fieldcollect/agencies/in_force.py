"""The rule "contract in force", declared once: as a ``Q`` object for the ORM and as SQL for the statements
written by hand (:mod:`fieldcollect.core.rawsql`).

A contract is in force on ``day`` when it is active and ``starts_on <= day <= ends_on``
(:meth:`AgencyContract.in_force_on` for one row in memory). An agency *may hold cases* on ``day``
when it has a contract in force, or has never had a contract row (agencies loaded with their terms on
the agency itself). The end or termination of the contract ends the agency's access at once, before
any placement is recalled.

Each rule comes as a pair (``..._q`` / ``..._sql``); ``agencies/tests/test_in_force.py`` holds every
pair to the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q

from fieldcollect.agencies.models import AgencyContract
from fieldcollect.core.rawsql import column, table

ACTIVE = AgencyContract.Status.ACTIVE


def contract_in_force_q(*, day: date) -> Q:
    """Condition on :class:`AgencyContract` rows: in force on ``day``."""
    return Q(status=ACTIVE, starts_on__lte=day, ends_on__gte=day)


def contract_in_force_sql(*, alias: str, day: date) -> tuple[str, list[Any]]:
    """:func:`contract_in_force_q` as SQL on the contract table aliased ``alias``: ``(sql, params)``."""
    k = AgencyContract
    return (f'{column(k, "status", alias)} = %s AND {column(k, "starts_on", alias)} <= %s '
            f'AND {column(k, "ends_on", alias)} >= %s', [ACTIVE.value, day, day])


def agency_may_hold_q(*, day: date, agency_ref: str = "agency_id") -> Q:
    """Condition on rows whose column ``agency_ref`` is an agency id (e.g. cases): that agency has a
    contract in force on ``day`` or has no contract row at all."""
    of_agency = AgencyContract.objects.filter(agency_id=OuterRef(agency_ref))
    return Q(Exists(of_agency.filter(contract_in_force_q(day=day)))) | ~Q(Exists(of_agency))


def agency_may_hold_sql(*, agency_column: str, day: date, alias: str = "contract") -> tuple[str, list[Any]]:
    """:func:`agency_may_hold_q` as SQL on the rows whose (qualified, quoted) column ``agency_column``
    is an agency id; ``alias`` names the contract table in the subqueries: ``(sql, params)``."""
    in_force, params = contract_in_force_sql(alias=alias, day=day)
    contracts, agency = table(AgencyContract), column(AgencyContract, "agency", alias)
    return (f"(EXISTS (SELECT 1 FROM {contracts} {alias} WHERE {agency} = {agency_column} AND {in_force}) "
            f"OR NOT EXISTS (SELECT 1 FROM {contracts} {alias} WHERE {agency} = {agency_column}))", params)
