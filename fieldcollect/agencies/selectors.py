"""Reads about agencies: the contract terms in force, agency lists with their load, collectors."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from fieldcollect.agencies.in_force import contract_in_force_q, contract_in_force_sql
from fieldcollect.agencies.models import (
    Agency,
    AgencyContract,
    AgencyContractVersion,
    Collector,
    ContractTermsFields,
)
from fieldcollect.core.rawsql import RowBuilder, column, fields_of, select_list, table


@dataclass(frozen=True)
class ContractTerms:
    """What an agency may receive on a given day, from its contract in force (or, for agencies
    loaded without a contract row, from the terms recorded on the agency itself)."""

    agency_id: int
    contract_id: int | None
    regions: tuple[str, ...]
    capacity: int
    eligible_buckets: tuple[str, ...]
    placement_days: int
    max_retentions: int
    commission_tiers: dict[str, Any]
    permitted_fields: tuple[str, ...]
    dsa_valid_until: date | None
    penalty_terms: dict[str, Any] = field(default_factory=dict)
    version_id: int | None = None
    version_number: int = 1

    def dsa_valid_on(self, day: date) -> bool:
        return self.dsa_valid_until is not None and day <= self.dsa_valid_until

    def serves(self, *, city: str, bucket: str) -> bool:
        return (not self.regions or city in self.regions) and (
            not self.eligible_buckets or bucket in self.eligible_buckets
        )


DEFAULT_PERMITTED_FIELDS = ("name", "mobile", "city", "district", "address", "overdue", "dpd", "bucket")


@functools.cache
def _contract_in_force_sql() -> tuple[str, RowBuilder]:
    fields = fields_of(AgencyContract)
    k = AgencyContract
    return (f'SELECT {select_list(fields, "k")} FROM {table(k)} k WHERE {column(k, "agency", "k")} = %s AND {{in_force}} '
            f'ORDER BY {column(k, "starts_on", "k")} DESC, {column(k, "pk", "k")} DESC LIMIT 1', RowBuilder(k, fields))


def contract_in_force(*, agency: Agency, on: date) -> AgencyContract | None:
    """The agency's active contract covering ``on`` (the latest started). Every API request of an
    agency user asks (the fields its contract permits): written out, see :mod:`fieldcollect.core.rawsql`;
    :func:`contract_in_force_orm` is its twin, held equal by a test."""
    template, contracts = _contract_in_force_sql()
    in_force, params = contract_in_force_sql(alias="k", day=on)
    with connection.cursor() as cursor:
        cursor.execute(template.format(in_force=in_force), [agency.pk, *params])
        row = cursor.fetchone()
    return contracts.build(row) if row is not None else None


def contract_in_force_orm(*, agency: Agency, on: date) -> AgencyContract | None:
    """:func:`contract_in_force` through the ORM (the reference its written-out statement is held to)."""
    return (AgencyContract.objects.filter(contract_in_force_q(day=on), agency=agency)
            .order_by("-starts_on", "-id").first())


def version_in_force(*, contract: AgencyContract, on: date) -> AgencyContractVersion | None:
    """The approved version of ``contract`` in force on ``on``: the one with the latest
    ``effective_from`` on or before ``on`` (the highest number on a tie). ``None`` when the contract
    has no approved version effective yet (a contract without version rows is its own version 1)."""
    return (AgencyContractVersion.objects
            .filter(contract=contract, state=AgencyContractVersion.State.APPROVED, effective_from__lte=on)
            .order_by("-effective_from", "-number").first())


def _terms_of(*, agency: Agency, contract: AgencyContract, source: ContractTermsFields,
              version: AgencyContractVersion | None) -> ContractTerms:
    return ContractTerms(
        agency_id=agency.pk,
        contract_id=contract.pk,
        regions=tuple(source.regions or ()),
        capacity=source.capacity,
        eligible_buckets=tuple(source.eligible_buckets or ()),
        placement_days=source.placement_days,
        max_retentions=source.max_retentions,
        commission_tiers=dict(source.commission_tiers or {}),
        permitted_fields=tuple(source.permitted_fields or DEFAULT_PERMITTED_FIELDS),
        dsa_valid_until=source.dsa_valid_until,
        penalty_terms=dict(source.penalty_terms or {}),
        version_id=version.pk if version is not None else None,
        version_number=version.number if version is not None else 1,
    )


def contract_version_terms(*, contract: AgencyContract, on: date) -> ContractTerms:
    """The terms of ``contract`` as in force on ``on`` (its version in force, else as signed), whether
    or not the contract itself is in force that day (commission on a placement made under it)."""
    version = version_in_force(contract=contract, on=on)
    return _terms_of(agency=contract.agency, contract=contract, source=version or contract, version=version)


def contract_terms(*, agency: Agency, on: date) -> ContractTerms | None:
    """Terms in force on ``on``: the agency's contract in force and, within it, the version in force
    on that day; ``None`` if the agency has contracts but none is in force."""
    contract = contract_in_force(agency=agency, on=on)
    if contract is not None:
        version = version_in_force(contract=contract, on=on)
        return _terms_of(agency=agency, contract=contract, source=version or contract, version=version)
    if AgencyContract.objects.filter(agency=agency).exists():
        return None
    return ContractTerms(
        agency_id=agency.pk,
        contract_id=None,
        regions=tuple(agency.regions or ()),
        capacity=agency.capacity,
        eligible_buckets=tuple(agency.eligible_buckets or ()),
        placement_days=agency.placement_days,
        max_retentions=1,
        commission_tiers=dict(agency.commission_tiers or {}),
        permitted_fields=DEFAULT_PERMITTED_FIELDS,
        dsa_valid_until=agency.dsa_valid_until,
    )


def contracts_with_terms(*, agency: Agency, on: date) -> list[tuple[AgencyContract, ContractTerms]]:
    """The agency's contracts, each with its terms as in force on ``on`` (its version in force)."""
    return [(c, contract_version_terms(contract=c, on=on))
            for c in AgencyContract.objects.filter(agency=agency).select_related("agency").order_by("-starts_on", "-id")]


def agency_list_with_load(*, on: date) -> QuerySet[Agency]:
    """Agencies with the number of active placements (``open_cases``) and collectors."""
    return Agency.objects.annotate(
        open_cases=Count("placements", filter=Q(placements__status="active"), distinct=True),
        collector_count=Count("collectors", distinct=True),
    ).order_by("agency_id")


def collectors_of(*, agency: Agency) -> QuerySet[Collector]:
    return Collector.objects.filter(agency=agency).select_related("user").order_by("collector_id")
