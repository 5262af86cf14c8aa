"""Two writers on one case at the same time: one wins, the other gets a conflict (never a silent
overwrite). Real threads and real row locks, so PostgreSQL only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from fieldcollect.cases import services
from fieldcollect.cases.models import Case, PromiseToPay
from fieldcollect.core.errors import ConflictError
from fieldcollect.testing import factories as f
from fieldcollect.testing.concurrency import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_simultaneous_promises_one_conflict(world):
    case_id = world.case_a1.pk
    version = Case.objects.get(pk=case_id).version

    def writer(user, amount):
        due_on = f.today() + timedelta(days=3)
        return (lambda: Case.objects.get(pk=case_id),
                lambda case: services.promise_record(case=case, acting_user=user, amount_fen=amount,
                                                     due_on=due_on, expected_version=version))

    outcomes = at_once([writer(world.collector_user_a1, 100), writer(world.manager_a, 200)],
                       refused=ConflictError, refusal="conflict")
    assert outcomes == ["conflict", "ok"]
    assert PromiseToPay.objects.filter(case_id=case_id).count() == 1
    assert Case.objects.get(pk=case_id).version == version + 1


def test_two_loans_of_one_customer_placed_at_once_with_two_agencies_one_is_refused(world):
    from datetime import date
    from decimal import Decimal

    from fieldcollect.cases.errors import CaseErrorCode
    from fieldcollect.cases.models import Placement
    from fieldcollect.core.errors import ApplicationError
    from fieldcollect.core.models import Role
    from fieldcollect.portfolio.models import Loan

    far = {"starts_on": date(2020, 1, 1), "ends_on": date(2099, 1, 1), "dsa_valid_until": date(2099, 1, 1)}
    a, b = f.make_agency(), f.make_agency()
    for agency in (a, b):
        f.make_contract(agency=agency, regions=["上海"], eligible_buckets=["M2"], capacity=10,
                        commission_tiers={"M2": "0.10"}, **far)
    manager = f.make_user(role=Role.COLLECTIONS_MANAGER)
    first = f.make_case(bucket="M2")
    loan = Loan.objects.create(
        loan_id=990_001, customer=first.customer, product="消费贷", principal_fen=5_000_000,
        annual_rate=Decimal("0.1800"), term_months=12, method=Loan.Method.EQUAL_INSTALMENT,
        disbursed_on=f.today().replace(year=f.today().year - 1))
    second = f.make_case(loan=loan, customer=first.customer, bucket="M2")
    codes: list[str] = []

    def placer(case_id, agency):
        def write(case):
            try:
                services.case_place(case=case, agency=agency, acting_user=manager)
            except ApplicationError as e:
                codes.append(str(e.code))
                raise
        return (lambda: Case.objects.get(pk=case_id), write)

    outcomes = at_once([placer(first.pk, a), placer(second.pk, b)], refused=ApplicationError, refusal="refused")
    assert outcomes == ["ok", "refused"]
    assert codes == [str(CaseErrorCode.CUSTOMER_WITH_OTHER_AGENCY)]
    # one agency holds the customer's placed loans
    assert Placement.objects.filter(case__customer=first.customer).count() == 1
    assert len(set(Case.objects.filter(customer=first.customer, agency__isnull=False)
                   .values_list("agency_id", flat=True))) == 1
