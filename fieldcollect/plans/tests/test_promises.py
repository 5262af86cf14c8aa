"""Promises to pay (kept / partial / broken with grace), kept rates, and the restructured-plan watch."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from fieldcollect.plans.promises import (
    Payment,
    PlanStatus,
    Promise,
    PromiseStatus,
    evaluate_promise,
    evaluate_promises,
    kept_rate_by_agency,
    kept_rate_by_collector,
    overall_kept_rate,
    watch_plan,
)
from fieldcollect.plans.schedule import build_schedule

MADE = date(2026, 7, 1)
PROMISED = date(2026, 7, 10)


def promise(amount: int = 50_000, **kw: object) -> Promise:
    return Promise(amount_fen=amount, promised_date=kw.pop("promised", PROMISED),  # type: ignore[arg-type]
                   created_on=kw.pop("created", MADE), **kw)  # type: ignore[arg-type]


def status(p: Promise, pays: list[Payment], as_of: date, grace: int = 3) -> PromiseStatus:
    return evaluate_promise(promise=p, payments=pays, as_of=as_of, grace_days=grace).status


def test_kept_on_time() -> None:
    out = evaluate_promise(promise=promise(), payments=[Payment(date(2026, 7, 9), 50_000)], as_of=date(2026, 7, 9),
                           grace_days=3)
    assert out.status is PromiseStatus.KEPT
    assert out.kept_on == date(2026, 7, 9)
    assert out.resolved_on == date(2026, 7, 9)
    assert out.shortfall_fen == 0


def test_kept_by_instalments_within_grace() -> None:
    pays = [Payment(date(2026, 7, 2), 20_000), Payment(date(2026, 7, 13), 30_000)]
    out = evaluate_promise(promise=promise(), payments=pays, as_of=date(2026, 7, 20), grace_days=3)
    assert out.status is PromiseStatus.KEPT
    assert out.kept_on == date(2026, 7, 13)  # promised date + 3 days of grace is still in time


def test_payment_after_grace_does_not_keep_it() -> None:
    pays = [Payment(date(2026, 7, 2), 20_000), Payment(date(2026, 7, 14), 30_000)]
    out = evaluate_promise(promise=promise(), payments=pays, as_of=date(2026, 7, 20), grace_days=3)
    assert out.status is PromiseStatus.PARTIAL
    assert out.paid_fen == 20_000
    assert out.shortfall_fen == 30_000
    assert out.is_broken
    assert out.resolved_on == date(2026, 7, 14)
    # without grace, the promise was already decided the day after the promised date
    assert status(promise(), pays, date(2026, 7, 11), grace=0) is PromiseStatus.PARTIAL


def test_pending_until_the_grace_period_ends() -> None:
    pays = [Payment(date(2026, 7, 2), 20_000)]
    assert status(promise(), pays, date(2026, 7, 13)) is PromiseStatus.PENDING  # last day of grace
    assert status(promise(), pays, date(2026, 7, 14)) is PromiseStatus.PARTIAL
    assert status(promise(), [], date(2026, 7, 14)) is PromiseStatus.BROKEN
    assert status(promise(), [], date(2026, 7, 13)) is PromiseStatus.PENDING


def test_payments_before_the_promise_or_after_as_of_do_not_count() -> None:
    pays = [Payment(date(2026, 6, 30), 50_000)]  # paid the day before promising
    assert status(promise(), pays, date(2026, 7, 30)) is PromiseStatus.BROKEN
    pays = [Payment(date(2026, 7, 1), 50_000)]  # the same day counts
    assert status(promise(), pays, date(2026, 7, 30)) is PromiseStatus.KEPT
    future = [Payment(date(2026, 7, 9), 50_000)]
    assert status(promise(), future, date(2026, 7, 8)) is PromiseStatus.PENDING


def test_overpayment_keeps_the_promise() -> None:
    out = evaluate_promise(promise=promise(), payments=[Payment(date(2026, 7, 5), 80_000)], as_of=date(2026, 8, 1))
    assert out.status is PromiseStatus.KEPT and out.paid_fen == 80_000


def test_promise_validation() -> None:
    with pytest.raises(ValueError):
        promise(amount=0)
    with pytest.raises(ValueError):
        promise(promised=date(2026, 6, 1))
    with pytest.raises(ValueError):
        Payment(date(2026, 7, 1), -5)


def test_kept_rates_per_collector_and_agency() -> None:
    as_of = date(2026, 8, 1)
    pairs = [
        (promise(collector_id="c1", agency_id="A"), [Payment(date(2026, 7, 10), 50_000)]),  # kept
        (promise(collector_id="c1", agency_id="A"), [Payment(date(2026, 7, 10), 10_000)]),  # partial
        (promise(collector_id="c2", agency_id="A"), []),  # broken
        (promise(collector_id="c3", agency_id="B"), [Payment(date(2026, 7, 3), 50_000)]),  # kept
        (promise(collector_id="c3", agency_id="B", promised=date(2026, 7, 31)), []),  # pending
    ]
    outcomes = evaluate_promises(promises=pairs, as_of=as_of, grace_days=3)
    by_col = kept_rate_by_collector(outcomes)
    assert by_col["c1"].rate == Decimal("0.5000")
    assert by_col["c2"].rate == Decimal("0.0000")
    assert by_col["c3"].rate == Decimal("1.0000")
    assert by_col["c3"].pending == 1
    assert by_col["c1"].amount_rate == Decimal("0.6000")  # (50000 + 10000) / 100000
    by_agency = kept_rate_by_agency(outcomes)
    assert (by_agency["A"].kept, by_agency["A"].partial, by_agency["A"].broken) == (1, 1, 1)
    assert by_agency["A"].rate == Decimal("0.3333")
    assert by_agency["B"].resolved == 1
    overall = overall_kept_rate(outcomes)
    assert overall.rate == Decimal("0.5000")
    assert overall_kept_rate([]).rate is None


# --------------------------------------------------------------------------------------------------
# Plan watch
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def plan() -> tuple:
    s = build_schedule(principal_fen=300_000, annual_rate=Decimal("0.12"), term_months=3, method="equal-principal",
                       start=date(2026, 7, 15))
    return s.instalments  # due 8/15 (103000), 9/15 (102000), 10/15 (101000)


def test_plan_performing_when_paid_on_time(plan: tuple) -> None:
    pays = [Payment(date(2026, 8, 15), 103_000)]
    w = watch_plan(instalments=plan, payments=pays, as_of=date(2026, 9, 1), grace_days=3)
    assert w.status is PlanStatus.PERFORMING
    assert (w.next_seq, w.next_due, w.next_amount_fen) == (2, date(2026, 9, 15), 102_000)
    assert w.arrears_fen == 0


def test_first_missed_instalment_beyond_grace_breaks_the_plan(plan: tuple) -> None:
    pays = [Payment(date(2026, 8, 15), 103_000), Payment(date(2026, 9, 18), 101_999)]  # 1 fen short
    within = watch_plan(instalments=plan, payments=pays, as_of=date(2026, 9, 18), grace_days=3)
    assert within.status is PlanStatus.PERFORMING  # still the last day of grace
    w = watch_plan(instalments=plan, payments=pays, as_of=date(2026, 9, 19), grace_days=3)
    assert w.status is PlanStatus.BROKEN
    assert (w.first_missed_seq, w.first_missed_due, w.broken_on) == (2, date(2026, 9, 15), date(2026, 9, 19))


def test_late_payment_within_grace_keeps_the_plan(plan: tuple) -> None:
    pays = [Payment(date(2026, 8, 18), 103_000)]
    assert watch_plan(instalments=plan, payments=pays, as_of=date(2026, 9, 1), grace_days=3).status \
        is PlanStatus.PERFORMING
    assert watch_plan(instalments=plan, payments=pays, as_of=date(2026, 9, 1), grace_days=2).status \
        is PlanStatus.BROKEN


def test_a_catch_up_after_grace_does_not_unbreak(plan: tuple) -> None:
    pays = [Payment(date(2026, 8, 25), 103_000)]
    w = watch_plan(instalments=plan, payments=pays, as_of=date(2026, 9, 1), grace_days=3)
    assert w.status is PlanStatus.BROKEN and w.first_missed_seq == 1


def test_prepayment_covers_later_instalments_and_completes(plan: tuple) -> None:
    pays = [Payment(date(2026, 8, 1), 205_000)]
    w = watch_plan(instalments=plan, payments=pays, as_of=date(2026, 10, 1), grace_days=0)
    assert w.status is PlanStatus.PERFORMING and w.next_seq == 3 and w.next_amount_fen == 101_000
    done = watch_plan(instalments=plan, payments=[*pays, Payment(date(2026, 10, 15), 101_000)],
                      as_of=date(2026, 10, 20))
    assert done.status is PlanStatus.COMPLETED


def test_payments_before_the_plan_start_are_ignored(plan: tuple) -> None:
    pays = [Payment(date(2026, 7, 1), 103_000)]
    w = watch_plan(instalments=plan, payments=pays, as_of=date(2026, 8, 20), start=date(2026, 7, 15))
    assert w.status is PlanStatus.BROKEN
    assert watch_plan(instalments=plan, payments=pays, as_of=date(2026, 8, 20)).status is PlanStatus.PERFORMING


def test_holiday_instalments_of_zero_never_break() -> None:
    from fieldcollect.plans.options import HardshipCase, payment_holiday

    case = HardshipCase(reason="job_loss", monthly_income_fen=300_000, monthly_expenses_fen=200_000,
                        outstanding_principal_fen=300_000, arrears_principal_fen=0, arrears_interest_fen=0,
                        arrears_penalty_fen=0, remaining_term_months=3, annual_rate=Decimal("0.12"),
                        as_of=date(2026, 7, 15))
    rows = payment_holiday(case, months=2).schedule.instalments
    w = watch_plan(instalments=rows, payments=[], as_of=rows[1].due_date + timedelta(days=10))
    assert w.status is PlanStatus.PERFORMING
    assert w.next_seq == 3
    w = watch_plan(instalments=rows, payments=[], as_of=rows[2].due_date + timedelta(days=1))
    assert w.status is PlanStatus.BROKEN and w.first_missed_seq == 3
