"""A payment is recorded once per loan and reference: the database enforces it, and recording it again
(a retry, two requests at once) returns the payment already recorded."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from fieldcollect.audit.models import AuditEntry
from fieldcollect.cases import services
from fieldcollect.cases.models import Payment
from fieldcollect.core.errors import ConflictError
from fieldcollect.testing import factories as f
from fieldcollect.testing.concurrency import together


@pytest.mark.django_db
def test_database_refuses_a_reference_twice_on_one_loan():
    case = f.make_case()
    Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=f.today(), amount_fen=100, reference="store:7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=f.today(), amount_fen=100, reference="store:7")


@pytest.mark.django_db
def test_same_reference_twice_returns_the_first_payment_and_audits_once():
    case = f.make_case()
    first = services.payment_record(case=case, amount_fen=5_000, paid_on=f.today(), acting_user=None,
                                    reference="TX-1")
    again = services.payment_record(case=case, amount_fen=5_000, paid_on=f.today(), acting_user=None,
                                    reference="TX-1")
    assert again.pk == first.pk
    assert Payment.objects.filter(loan_id=case.loan_id).count() == 1
    assert AuditEntry.objects.filter(action="payment.record", object_id=str(case.pk)).count() == 1


@pytest.mark.django_db
def test_same_reference_with_another_amount_is_a_conflict():
    case = f.make_case()
    services.payment_record(case=case, amount_fen=5_000, paid_on=f.today(), acting_user=None, reference="TX-2")
    with pytest.raises(ConflictError) as exc:
        services.payment_record(case=case, amount_fen=6_000, paid_on=f.today(), acting_user=None, reference="TX-2")
    assert exc.value.code == "payment.reference_conflict"
    assert Payment.objects.filter(loan_id=case.loan_id).count() == 1


@pytest.mark.django_db
def test_hard_negatives_empty_reference_repeats_and_one_reference_on_two_loans():
    case, other = f.make_case(), f.make_case()
    services.payment_record(case=case, amount_fen=100, paid_on=f.today(), acting_user=None)
    services.payment_record(case=case, amount_fen=100, paid_on=f.today(), acting_user=None)
    assert Payment.objects.filter(loan_id=case.loan_id, reference="").count() == 2  # no reference: two payments
    # a transfer split over two loans carries its reference on each
    a = services.payment_record(case=case, amount_fen=300, paid_on=f.today(), acting_user=None, reference="TX-3")
    b = services.payment_record(case=other, amount_fen=200, paid_on=f.today(), acting_user=None, reference="TX-3")
    assert a.pk != b.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for two writers at once")
def test_two_simultaneous_recordings_make_one_payment():
    case = f.make_case()

    def writer(_: None) -> int:
        return services.payment_record(case=case, amount_fen=7_000, paid_on=f.today(), acting_user=None,
                                       reference="TX-RACE").pk

    outcomes = together([(lambda: None, writer)] * 2)
    assert [o.error for o in outcomes if o.error is not None] == []
    got = [o.value for o in outcomes]
    assert len(got) == 2 and got[0] == got[1]
    assert Payment.objects.filter(loan_id=case.loan_id, reference="TX-RACE").count() == 1
