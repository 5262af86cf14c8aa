"""The migration that makes payment references unique stops, naming the duplicates, when a payment was
recorded twice before it (which copy goes is the bank's decision), and applies once they are resolved."""

from __future__ import annotations

import pytest
from django.db import connection

from fieldcollect.cases.models import Payment
from fieldcollect.testing import factories as f
from fieldcollect.testing.migrations import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cases", "0006_drop_indexes_covered")]
AFTER = [("cases", "0007_payment_reference_unique")]


def _delete(pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Payment._meta.db_table} WHERE id = %s", [pk])


def test_duplicates_stop_the_migration_with_their_ids():
    case = f.make_case()
    migrate(BEFORE)
    try:
        first = Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=f.today(), amount_fen=100,
                                       reference="store:42")
        second = Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=f.today(), amount_fen=100,
                                        reference="store:42")
        Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=f.today(), amount_fen=100, reference="")
        Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=f.today(), amount_fen=100, reference="")
        with pytest.raises(RuntimeError) as exc:
            migrate(AFTER)
        message = str(exc.value)
        assert f"loan {case.loan_id} reference 'store:42': payments [{first.pk}, {second.pk}]" in message
        assert "1 reference(s)" in message  # empty references are no duplicates
        _delete(second.pk)
    finally:
        # raw deletes: the model's delete would look for rows of tables that later migrations create
        for pk in Payment.objects.filter(reference="store:42").exclude(pk=first.pk).values_list("pk", flat=True):
            _delete(pk)
        migrate(AFTER)
        migrate(latest())
    assert Payment.objects.filter(loan_id=case.loan_id).count() == 3
