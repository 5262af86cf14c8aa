"""bulk_upsert (the export's and the nightly cycle's bulk path): new rows inserted, known rows updated,
a key given twice written once with its later row, across slices; the same on SQLite (one INSERT per
row) and PostgreSQL (COPY into a temporary table, one upsert per slice)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from fieldcollect.portfolio import services
from fieldcollect.portfolio.models import Loan
from fieldcollect.portfolio.services import STAGE_TABLE, bulk_upsert
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db

COLUMNS = ("loan_id", "customer", "product", "principal_fen", "annual_rate", "term_months", "method",
           "disbursed_on", "jurisdiction")


def row(loan_id: int, customer_id: int, principal_fen: int, product: str = "消费贷") -> tuple:
    return (loan_id, customer_id, product, principal_fen, Decimal("0.1800"), 12, "equal_instalment",
            date(2026, 1, 15), "CN")


@pytest.mark.parametrize("batch", [2, 5_000])
def test_inserts_updates_and_keeps_the_later_of_a_repeated_key(monkeypatch, batch):
    monkeypatch.setattr(services, "BATCH", batch)
    known = f.make_case().loan
    customer = known.customer_id
    rows = [row(known.pk, customer, 123_45, "经营贷"), row(900_001, customer, 1_000_00),
            row(900_002, customer, 2_000_00), row(900_001, customer, 1_500_00)]
    assert bulk_upsert(model=Loan, columns=COLUMNS, rows=iter(rows)) == 4
    got = dict(Loan.objects.filter(pk__in=[known.pk, 900_001, 900_002]).values_list("pk", "principal_fen"))
    assert got == {known.pk: 123_45, 900_001: 1_500_00, 900_002: 2_000_00}
    assert Loan.objects.get(pk=known.pk).product == "经营贷"
    assert Loan.objects.get(pk=900_001).annual_rate == Decimal("0.1800")
    if connection.vendor == "postgresql":  # the staging table is gone
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [f"pg_temp.{STAGE_TABLE}"])
            assert cursor.fetchone()[0] is None
