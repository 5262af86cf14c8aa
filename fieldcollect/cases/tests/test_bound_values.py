"""The contact hot path (hand-written SQL, :mod:`fieldcollect.core.rawsql`) with values bound to their
rows (issue 17): numbers and notes are written bound, read back through the ledger, and a ciphertext
copied from another row is refused (``CryptoError``) instead of being read as that row's value."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from fieldcollect.cases import services
from fieldcollect.compliance.selectors import debtor_ledger
from fieldcollect.privacy.crypto import CryptoError
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def _raw(sql: str, params: list[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def _record(world, case):
    return services.contact_record(case=case, acting_user=world.collector_user_a1, channel="visit",
                                   outcome="not_home", number="上海市浦东新区", notes="门口无人", at=f.in_hours(),
                                   collectors=2, recording=True, appointment_confirmed=True)


def test_contact_values_are_bound_and_read_back(world) -> None:
    c = _record(world, world.case_a1)
    stored = _raw("SELECT number FROM cases_contactattempt WHERE id = %s", [c.pk])
    assert str(stored).startswith("fc2$") and "浦东" not in str(stored)
    assert [e.phone for e in debtor_ledger(customer_id=world.case_a1.customer_id)] == ["上海市浦东新区"]


def test_a_number_copied_from_another_column_fails_in_the_ledger(world) -> None:
    c = _record(world, world.case_a1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_contactattempt SET number = notes WHERE id = %s", [c.pk])
    with pytest.raises(CryptoError, match=r"cases_contactattempt\.number"):
        debtor_ledger(customer_id=world.case_a1.customer_id)


def test_a_mobile_copied_from_another_customer_stops_the_contact(world) -> None:
    other = _raw("SELECT mobile FROM portfolio_customer WHERE customer_id = %s", [world.case_b.customer_id])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portfolio_customer SET mobile = %s WHERE customer_id = %s",
                       [other, world.case_a1.customer_id])
    with pytest.raises(CryptoError, match=r"portfolio_customer\.mobile"):
        _record(world, world.case_a1)
