"""The nightly case sync's hand-written statements (daily/services.py) held equal to their ORM twins:
cases opened, closed (only from a status the lifecycle lets close) and updated; store payments
attributed to placements by the settlement rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from fieldcollect.cases.lifecycle import CaseStatus, CloseReason, can_transition
from fieldcollect.cases.models import Case, Payment, Placement
from fieldcollect.daily.services import (
    CURED_BUCKET,
    STATUS_COLUMNS,
    cases_apply_status,
    payments_attribute_placements,
)
from fieldcollect.portfolio.models import Loan
from fieldcollect.settlement.attribution import Cover, attribute, last_covered_day
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db
S = CaseStatus


def orm_apply_status(*, rows: list[tuple[Any, ...]], as_of: date, now: datetime) -> dict[str, int]:
    """:func:`cases_apply_status` through the ORM and the lifecycle, case by case."""
    status = {r[0]: dict(zip(STATUS_COLUMNS, r, strict=True)) for r in rows}
    open_loans = set(Case.objects.filter(closed_on__isnull=True).values_list("loan_id", flat=True))
    opened = closed = updated = 0
    for loan in Loan.objects.filter(pk__in=list(status)).select_related("customer").order_by("pk"):
        s = status[loan.pk]
        if s["dpd"] >= 1 and loan.pk not in open_loans:
            case = Case.objects.create(loan=loan, customer_id=loan.customer_id, status=S.NEW, opened_on=as_of,
                                       dpd=s["dpd"], max_dpd=s["dpd"], bucket=s["bucket"],
                                       overdue_fen=s["overdue_fen"],
                                       outstanding_principal_fen=s["outstanding_principal_fen"],
                                       city=loan.customer.city, last_cycle_on=as_of)
            Case.objects.filter(pk=case.pk).update(updated_at=now)
            opened += 1
    for case in Case.objects.filter(closed_on__isnull=True, loan_id__in=[k for k, s in status.items() if s["dpd"] == 0]):
        if not can_transition(case.status, S.CLOSED):
            continue
        s = status[case.loan_id]
        Case.objects.filter(pk=case.pk).update(
            status=S.CLOSED, close_reason=CloseReason.PAID if s["settled"] else CloseReason.CURED, closed_on=as_of,
            version=case.version + 1, updated_at=now, last_cycle_on=as_of, dpd=0, bucket=CURED_BUCKET, overdue_fen=0,
            outstanding_principal_fen=s["outstanding_principal_fen"])
        closed += 1
    for case in Case.objects.filter(closed_on__isnull=True, opened_on__lt=as_of, loan_id__in=list(status)):
        s = status[case.loan_id]
        Case.objects.filter(pk=case.pk).update(
            dpd=s["dpd"], bucket=s["bucket"], overdue_fen=s["overdue_fen"],
            outstanding_principal_fen=s["outstanding_principal_fen"], max_dpd=max(case.max_dpd, s["dpd"]),
            last_cycle_on=as_of, updated_at=now)
        updated += 1
    return {"opened": opened, "closed": closed, "updated": updated}


def case_rows() -> list[tuple[Any, ...]]:
    """Every case, without its id (a case opened in a rolled-back run gets another id the second time)."""
    names = [fld.attname for fld in Case._meta.concrete_fields if fld.attname != "id"]
    return sorted(Case.objects.order_by().values_list(*names), key=repr)


def test_case_statements_match_their_orm_twin():
    as_of = f.today()
    now = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)
    agency = f.make_agency()
    kept = {name: f.make_case(status=status, agency=agency if status != S.NEW else None,
                              placed_until=as_of + timedelta(days=20) if status != S.NEW else None)
            for name, status in (("new", S.NEW), ("placed", S.PLACED), ("assigned", S.ASSIGNED),
                                 ("progress", S.IN_PROGRESS), ("promise", S.PROMISE),
                                 ("restructured", S.RESTRUCTURED), ("recalled", S.RECALLED))}
    # a case marked closed but never given its date: the lifecycle has no closed -> closed, so it stays
    stray = f.make_case(status=S.CLOSED)
    reopen = f.make_case(status=S.CLOSED, close_reason=CloseReason.CURED, closed_on=as_of - timedelta(days=5))
    fresh = f.make_case()  # a loan without a case yet: its case is deleted, the loan and customer stay
    fresh_loan = fresh.loan_id
    fresh.delete()
    today_case = f.make_case(opened_on=as_of)  # opened today: not updated again
    quiet = f.make_case()  # not in the day's status at all
    rows = [
        (kept["new"].loan_id, 0, "M0", 0, 2_000_000, True),  # repaid: paid
        (kept["placed"].loan_id, 0, "M0", 0, 2_500_000, False),  # cured
        (kept["assigned"].loan_id, 55, "M2", 150_000, 2_900_000, False),  # worse: max_dpd rises
        (kept["progress"].loan_id, 10, "M1", 30_000, 2_800_000, False),  # better: max_dpd stays
        (kept["promise"].loan_id, 0, "M0", 0, 1_000_000, False),
        (kept["restructured"].loan_id, 41, "M2", 120_000, 3_000_000, False),
        (kept["recalled"].loan_id, 0, "M0", 0, 0, True),
        (stray.loan_id, 0, "M0", 0, 100, False),
        (reopen.loan_id, 3, "M1", 9_000, 1_500_000, False),  # falls behind again: a new case
        (fresh_loan, 12, "M1", 40_000, 4_000_000, False),
        (today_case.loan_id, 70, "M3", 1, 1, False),
        (99_999_001, 5, "M1", 1, 1, False),  # no loan row: no case
    ]
    assert quiet.loan_id not in {r[0] for r in rows}
    with transaction.atomic():
        by_sql = cases_apply_status(rows=rows, as_of=as_of, now=now)
        after_sql = case_rows()
        transaction.set_rollback(True)
    by_orm = orm_apply_status(rows=rows, as_of=as_of, now=now)
    assert by_sql == by_orm == {"opened": 2, "closed": 4, "updated": 4}
    assert after_sql == case_rows()
    stray.refresh_from_db()
    assert (stray.status, stray.closed_on, stray.version, stray.dpd) == (S.CLOSED, None, 1, 0)


def test_payment_attribution_statement_matches_the_settlement_rule():
    as_of = f.today()
    agency_a, agency_b = f.make_agency(), f.make_agency()
    case = f.make_case()
    d = as_of - timedelta(days=40)
    # placed with A, recalled on day 10 and placed with B the same day; B's placement active to day 40
    first = Placement.objects.create(case=case, agency=agency_a, starts_on=d, ends_on=d + timedelta(days=30),
                                     status=Placement.Status.RECALLED, recalled_on=d + timedelta(days=10))
    second = Placement.objects.create(case=case, agency=agency_b, starts_on=d + timedelta(days=10),
                                      ends_on=d + timedelta(days=40), status=Placement.Status.ACTIVE)
    other = f.make_case()
    Placement.objects.create(case=other, agency=agency_a, starts_on=d, ends_on=d + timedelta(days=5),
                             status=Placement.Status.ENDED)
    payments = []
    for i, (c, day) in enumerate([(case, 0), (case, 9), (case, 10), (case, 11), (case, 40), (other, 3),
                                  (other, 6), (case, -1)]):
        payments.append(Payment.objects.create(loan_id=c.loan_id, case=c, paid_on=d + timedelta(days=day),
                                               amount_fen=100, reference=f"store:{i}"))
    by_hand = Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=d, amount_fen=1, reference="T-1")
    late = Payment.objects.create(loan_id=case.loan_id, case=case, paid_on=as_of + timedelta(days=1), amount_fen=1,
                                  reference="store:late")
    payments_attribute_placements(as_of=as_of)
    covers = [Cover(placement_id=p.pk, case_id=p.case_id, agency_id=p.agency_id, starts_on=p.starts_on,
                    last_day=last_covered_day(status=p.status, ends_on=p.ends_on, recalled_on=p.recalled_on,
                                              closed_on=p.case.closed_on))
              for p in Placement.objects.select_related("case")]
    expected = attribute(payments=[(p.pk, p.case_id, p.paid_on) for p in payments], covers=covers)
    got = dict(Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list("pk", "placement_id"))
    assert got == {p.pk: (expected[p.pk].placement_id if p.pk in expected else None) for p in payments}
    assert {got[payments[2].pk], got[payments[3].pk]} == {first.pk, second.pk}  # the recall day counts for A
    assert Payment.objects.get(pk=by_hand.pk).placement_id is None  # not a store payment
    assert Payment.objects.get(pk=late.pk).placement_id is None  # after the business date
