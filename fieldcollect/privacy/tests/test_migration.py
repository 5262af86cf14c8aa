"""The data migrations: customer rows written before encryption are encrypted in place (and their
blind indexes filled), then bound to their rows (each row gets its own binding); migrating back
writes them unbound, then as plaintext again."""

from __future__ import annotations

import pytest
from django.db import connection

from fieldcollect.portfolio.models import Customer
from fieldcollect.portfolio.selectors import customer_find
from fieldcollect.testing.migrations import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("portfolio", "0001_initial")]
AFTER = [("portfolio", "0002_encrypt_customer_pii")]
BOUND = [("portfolio", "0004_bind_encrypted_values_to_rows")]


def _bindings() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_binding FROM portfolio_customer ORDER BY customer_id")
        return [r[0] for r in cursor.fetchall()]


def _raw_rows() -> list[tuple[str, str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, mobile, address FROM portfolio_customer ORDER BY customer_id")
        return [tuple(r) for r in cursor.fetchall()]


def test_migration_encrypts_existing_rows_and_back(fc_home) -> None:
    migrate(BEFORE)
    plain = [("王五", "11010519800101123X", "13512345678", "朝阳区建国路1号"),
             ("赵六", "310101199001011234", "13687654321", "浦东新区世纪大道2号")]
    with connection.cursor() as cursor:
        for i, (name, idn, mob, addr) in enumerate(plain, start=1):
            cursor.execute(
                "INSERT INTO portfolio_customer (customer_id, name, id_number, mobile, province, city, district, "
                "address, lat, lon, timezone) VALUES (%s, %s, %s, %s, '北京', '北京', '朝阳区', %s, NULL, NULL, "
                "'Asia/Shanghai')", [i, name, idn, mob, addr])
    try:
        migrate(AFTER)
        for row, original in zip(_raw_rows(), plain, strict=True):
            for stored, value in zip(row, original, strict=True):
                assert stored.startswith("fc1$") and value not in stored
        migrate(BOUND)
        for row, original in zip(_raw_rows(), plain, strict=True):
            for stored, value in zip(row, original, strict=True):
                assert stored.startswith("fc2$") and value not in stored
        bindings = _bindings()
        assert len(set(bindings)) == 2 and all(len(b) == 32 for b in bindings)  # one per row
        c = Customer.objects.get(pk=1)
        assert (c.name, c.id_number, c.mobile, c.address) == plain[0]
        assert [x.pk for x in customer_find(mobile="135 1234 5678")] == [1]
        assert [x.pk for x in customer_find(id_number="310101199001011234")] == [2]
        migrate(AFTER)
        assert all(stored.startswith("fc1$") for row in _raw_rows() for stored in row)
        migrate(BEFORE)
        assert _raw_rows() == plain
    finally:
        migrate(latest())
