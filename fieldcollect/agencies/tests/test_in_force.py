""""Contract in force" is declared once (agencies/in_force.py): its Q objects and its SQL select the
same rows, and the written-out contract fetch returns what its ORM twin returns, on any database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from fieldcollect.agencies.in_force import (
    agency_may_hold_q,
    agency_may_hold_sql,
    contract_in_force_q,
    contract_in_force_sql,
)
from fieldcollect.agencies.models import Agency, AgencyContract
from fieldcollect.agencies.selectors import contract_in_force, contract_in_force_orm, contract_terms
from fieldcollect.core.rawsql import column, table
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def agencies() -> list[Agency]:
    """Agencies with successive, overlapping, terminated, draft and no contracts."""
    t = f.today()
    successive, overlapping, terminated, draft, none = (f.make_agency() for _ in range(5))
    f.make_contract(agency=successive, starts_on=t - timedelta(days=400), ends_on=t - timedelta(days=1))
    f.make_contract(agency=successive, starts_on=t, ends_on=t + timedelta(days=30))
    f.make_contract(agency=overlapping, starts_on=t - timedelta(days=10), ends_on=t + timedelta(days=10))
    f.make_contract(agency=overlapping, starts_on=t - timedelta(days=5), ends_on=t + timedelta(days=60))
    f.make_contract(agency=terminated, status=AgencyContract.Status.TERMINATED)
    f.make_contract(agency=draft, status=AgencyContract.Status.DRAFT)
    return [successive, overlapping, terminated, draft, none]


DAYS = (-401, -400, -30, -6, -1, 0, 10, 11, 30, 31, 60, 335, 336)


def test_contract_in_force_q_and_sql_select_the_same_contracts(agencies):
    for d in DAYS:
        day = f.today() + timedelta(days=d)
        cond, params = contract_in_force_sql(alias="x", day=day)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT {column(AgencyContract, "pk", "x")} FROM {table(AgencyContract)} x WHERE {cond}',
                           params)
            by_sql = {r[0] for r in cursor.fetchall()}
        by_q = set(AgencyContract.objects.filter(contract_in_force_q(day=day)).values_list("pk", flat=True))
        assert by_sql == by_q, d
        assert by_q == {k.pk for k in AgencyContract.objects.all() if k.in_force_on(day)}, d


def test_agency_may_hold_q_and_sql_select_the_same_agencies(agencies):
    seen = set()
    for d in DAYS:
        day = f.today() + timedelta(days=d)
        cond, params = agency_may_hold_sql(agency_column=column(Agency, "pk", "a"), day=day)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT {column(Agency, "pk", "a")} FROM {table(Agency)} a WHERE {cond}', params)
            by_sql = {r[0] for r in cursor.fetchall()}
        by_q = set(Agency.objects.filter(agency_may_hold_q(day=day, agency_ref="pk")).values_list("pk", flat=True))
        assert by_sql == by_q, d
        # the terms (placement, recall on contract end, permitted fields) follow the same rule
        assert {a.pk for a in Agency.objects.all() if contract_terms(agency=a, on=day) is not None} == by_q, d
        seen.add(frozenset(by_q))
    assert len(seen) > 2  # the days do tell agencies apart
    assert agencies[-1].pk in by_q and agencies[2].pk not in by_q  # no contract rows: may hold; terminated: not


def test_written_out_contract_fetch_matches_its_orm_twin(agencies):
    found = 0
    for agency in agencies:
        for d in DAYS:
            day = f.today() + timedelta(days=d)
            raw, orm = contract_in_force(agency=agency, on=day), contract_in_force_orm(agency=agency, on=day)
            assert (raw and raw.pk) == (orm and orm.pk), (agency.pk, d)
            if raw is not None:
                found += 1
                assert raw.in_force_on(day)
                assert {fld.attname: getattr(raw, fld.attname) for fld in AgencyContract._meta.concrete_fields} == \
                    {fld.attname: getattr(orm, fld.attname) for fld in AgencyContract._meta.concrete_fields}
    assert found > 5
