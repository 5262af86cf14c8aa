"""Exact schedule maths: examples, properties, numpy-financial cross-check, dates, APR."""

from __future__ import annotations

import calendar
import itertools
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcollect.analytics.dates import add_months
from fieldcollect.plans.schedule import (
    Method,
    build_schedule,
    fen_to_yuan,
    level_payment_fen,
    monthly_irr,
    parse_method,
    period_interest_fen,
    present_value_fen,
    round_half_up,
    yuan_to_fen,
)

START = date(2026, 1, 15)


def lead_interest_fen(outstanding_fen: int, rate_bp: int) -> int:
    """The demo-data generator's integer formula (annual_rate = rate_bp / 10000)."""
    return (outstanding_fen * rate_bp * 2 + 120000) // 240000


# --------------------------------------------------------------------------------------------------
# Worked examples
# --------------------------------------------------------------------------------------------------


def test_equal_instalment_12000_at_18_percent_over_12_months() -> None:
    s = build_schedule(
        principal_fen=1_200_000, annual_rate=Decimal("0.18"), term_months=12, method="equal-instalment", start=START
    )
    # P·r·(1+r)^n/((1+r)^n − 1) with r = 1.5 % = 1100.1599… → 1100.16
    assert [i.payment_fen for i in s.instalments[:-1]] == [110016] * 11
    first = s.instalments[0]
    assert (first.interest_fen, first.principal_fen, first.closing_fen) == (18000, 92016, 1_107_984)
    assert s.instalments[1].interest_fen == 16620  # 11079.84 × 1.5 % = 166.1976 → 166.20
    last = s.instalments[-1]
    assert (last.principal_fen, last.interest_fen, last.payment_fen) == (108393, 1626, 110019)
    assert s.total_interest_fen == 120195
    assert s.total_principal_fen == 1_200_000
    assert s.instalments[0].due_date == date(2026, 2, 15)
    assert s.instalments[-1].due_date == date(2027, 1, 15)


def test_equal_principal_12000_at_18_percent_over_12_months() -> None:
    s = build_schedule(
        principal_fen=1_200_000, annual_rate=Decimal("0.18"), term_months=12, method="equal-principal", start=START
    )
    assert [i.principal_fen for i in s.instalments] == [100000] * 12
    assert [i.interest_fen for i in s.instalments] == [18000 - 1500 * k for k in range(12)]
    assert s.total_interest_fen == 117000
    assert s.apr == Decimal("0.180000")


def test_equal_principal_remainder_goes_to_the_last_instalment() -> None:
    s = build_schedule(principal_fen=1_000_001, annual_rate=Decimal("0.12"), term_months=3, method="equal_principal",
                       start=START)
    assert [i.principal_fen for i in s.instalments] == [333333, 333333, 333335]


def test_zero_rate_splits_the_principal_and_charges_no_interest() -> None:
    s = build_schedule(principal_fen=1000, annual_rate=Decimal(0), term_months=3, method="equal-instalment",
                       start=START)
    assert [i.payment_fen for i in s.instalments] == [333, 333, 334]
    assert s.total_interest_fen == 0
    assert s.apr == Decimal("0.000000")
    assert s.apr_effective == Decimal("0.000000")


def test_half_fen_rounds_up() -> None:
    # 1 fen × 6 % / 12 = 0.005 fen → 0;  100 fen × 6 % / 12 = 0.5 fen → 1 (half up, not to even)
    assert period_interest_fen(100, Decimal("0.06")) == 1
    assert period_interest_fen(300, Decimal("0.06")) == 2  # 1.5 → 2
    assert period_interest_fen(99, Decimal("0.06")) == 0  # 0.495 → 0
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(-5, 2)) == -3


def test_level_payment_is_exact_not_float() -> None:
    # exact value of the formula, rounded half up
    r = Fraction(18, 1200)
    exact = 1_200_000 * r * (1 + r) ** 12 / ((1 + r) ** 12 - 1)
    assert level_payment_fen(1_200_000, Decimal("0.18"), 12) == round_half_up(exact)


def test_bad_inputs_are_rejected() -> None:
    kw = {"annual_rate": Decimal("0.1"), "term_months": 12, "method": "equal-instalment", "start": START}
    with pytest.raises(ValueError, match="positive"):
        build_schedule(principal_fen=0, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        build_schedule(principal_fen=100, **{**kw, "annual_rate": Decimal("-0.01")})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="term"):
        build_schedule(principal_fen=100, **{**kw, "term_months": 0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        build_schedule(principal_fen=100, **{**kw, "method": "balloon"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        build_schedule(principal_fen=100, **{**kw, "annual_rate": Decimal("NaN")})  # type: ignore[arg-type]


def test_money_conversions() -> None:
    assert yuan_to_fen("12000.00") == 1_200_000
    assert yuan_to_fen("0.5") == 50
    assert yuan_to_fen(Decimal("1,234.56".replace(",", ""))) == 123456
    with pytest.raises(ValueError):
        yuan_to_fen("1.001")
    with pytest.raises(ValueError):
        yuan_to_fen("abc")
    assert str(fen_to_yuan(123456)) == "1234.56"
    assert str(fen_to_yuan(5)) == "0.05"
    assert parse_method("EQUAL_PRINCIPAL") is Method.EQUAL_PRINCIPAL


# --------------------------------------------------------------------------------------------------
# Due dates
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 1, 31), [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]),
        (date(2028, 1, 31), [date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30), date(2028, 5, 31)]),
        (date(2027, 11, 30), [date(2027, 12, 30), date(2028, 1, 30), date(2028, 2, 29), date(2028, 3, 30)]),
        (date(2026, 12, 15), [date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15), date(2027, 4, 15)]),
    ],
)
def test_due_dates_clamp_to_month_end_and_are_not_chained(start: date, expected: list[date]) -> None:
    s = build_schedule(principal_fen=400_000, annual_rate=Decimal("0.1"), term_months=4, method="equal-instalment",
                       start=start)
    assert [i.due_date for i in s.instalments] == expected


def test_leap_day_start() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 48) == date(2028, 2, 29)
    assert add_months(date(2024, 2, 29), 1) == date(2024, 3, 29)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2080, 12, 31)), st.integers(0, 600))
def test_add_months_property(start: date, k: int) -> None:
    due = add_months(start, k)
    assert (due.year - start.year) * 12 + due.month - start.month == k
    last = calendar.monthrange(due.year, due.month)[1]
    assert due.day == min(start.day, last)


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------


@st.composite
def loans(draw: st.DrawFn) -> tuple[int, int, int, date]:
    term = draw(st.integers(1, 360))
    principal = draw(st.integers(100 * term, 1_000_000_000))  # at least 1 CNY a month
    rate_bp = draw(st.integers(0, 3600))  # 0 % … 36 %, four decimals
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)))
    return principal, rate_bp, term, start


@settings(max_examples=80, deadline=None)
@given(loans(), st.sampled_from(list(Method)))
def test_schedule_invariants(loan: tuple[int, int, int, date], method: Method) -> None:
    principal, rate_bp, term, start = loan
    s = build_schedule(principal_fen=principal, annual_rate=Decimal(rate_bp) / 10000, term_months=term,
                       method=method, start=start)
    rows = s.instalments
    assert len(rows) == term
    assert sum(i.principal_fen for i in rows) == principal
    assert rows[-1].closing_fen == 0
    assert rows[0].opening_fen == principal
    for prev, cur in itertools.pairwise(rows):
        assert cur.opening_fen == prev.closing_fen
    for k, i in enumerate(rows, start=1):
        assert i.principal_fen >= 0 and i.interest_fen >= 0 and i.payment_fen >= 0 and i.closing_fen >= 0
        assert i.payment_fen == i.principal_fen + i.interest_fen
        assert i.closing_fen == i.opening_fen - i.principal_fen
        assert i.seq == k
        assert i.due_date == add_months(start, k)
        # the lead's integer formula gives the same interest for rates with ≤ 4 decimals
        assert i.interest_fen == lead_interest_fen(i.opening_fen, rate_bp)
    if method is Method.EQUAL_INSTALMENT:
        level = level_payment_fen(principal, Decimal(rate_bp) / 10000, term)
        r = Fraction(rate_bp, 120_000)
        # Rounding moves the balance by at most 1 fen a period, compounded: s_{n-1} fen in all. While
        # that is well below one payment, no early payoff can happen and all but the last are equal.
        drift = Fraction(term - 1) if r == 0 else ((1 + r) ** (term - 1) - 1) / r
        if drift < Fraction(level, 2):
            assert all(i.payment_fen == level for i in rows[:-1])
        else:  # high rate × long term × tiny payment: payments may only shrink (never overpay)
            assert all(i.payment_fen <= level for i in rows[:-1])
    else:
        assert all(i.principal_fen == principal // term for i in rows[:-1])
        assert rows[-1].principal_fen >= principal // term


@settings(max_examples=300)
@given(st.integers(0, 10**12), st.integers(0, 100_000))
def test_interest_matches_the_integer_formula(outstanding: int, rate_bp: int) -> None:
    assert period_interest_fen(outstanding, Decimal(rate_bp) / 10000) == lead_interest_fen(outstanding, rate_bp)


def test_interest_identity_on_boundary_cases() -> None:
    # exact halves: outstanding × bp / 120000 = n + 0.5
    for bp in (1, 7, 600, 1500, 1800, 2400, 3599):
        for outstanding in range(0, 240_000 * 3, 997):
            assert period_interest_fen(outstanding, Decimal(bp) / 10000) == lead_interest_fen(outstanding, bp)
    assert period_interest_fen(60000, Decimal("0.0001")) == lead_interest_fen(60000, 1) == 1  # 0.5 → 1


# --------------------------------------------------------------------------------------------------
# Cross-check against numpy-financial
# --------------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 24), st.integers(1, 1800), st.data())
def test_matches_numpy_financial_within_one_fen(term: int, rate_bp: int, data: st.DataObject) -> None:
    """pmt/ipmt on the unrounded path vs our fen-rounded path.

    Each period rounds the interest (≤ ½ fen) and the level payment (≤ ½ fen); the balance drifts by
    at most one fen a period, compounded. Interest k then differs from ipmt by at most
    ½ + ((1+r)^(k−1) − 1) fen, which stays within one fen for terms ≤ 24 months and rates ≤ 18 %.
    The last instalment absorbs the drift and is checked against that bound instead.
    """
    principal = data.draw(st.integers(100 * term, 500_000_000))
    s = build_schedule(principal_fen=principal, annual_rate=Decimal(rate_bp) / 10000, term_months=term,
                       method="equal-instalment", start=START)
    r = rate_bp / 120_000
    pmt = -float(npf.pmt(r, term, principal))
    for k, inst in enumerate(s.instalments, start=1):
        ipmt = -float(npf.ipmt(r, k, term, principal))
        assert abs(inst.interest_fen - ipmt) <= 1.0 + 1e-6
        if k < term:
            assert abs(inst.payment_fen - pmt) <= 0.5 + 1e-6
            ppmt = -float(npf.ppmt(r, k, term, principal))
            assert abs(inst.principal_fen - ppmt) <= 1.5 + 1e-6
    drift_bound = (0.5 + 1.0) * ((1 + r) ** term - 1) / r + 1
    assert abs(s.instalments[-1].payment_fen - pmt) <= drift_bound


@settings(max_examples=60, deadline=None)
@given(st.integers(25, 360), st.integers(1, 3600), st.data())
def test_interest_drift_stays_within_the_derived_bound(term: int, rate_bp: int, data: st.DataObject) -> None:
    principal = data.draw(st.integers(100 * term, 1_000_000_000))
    s = build_schedule(principal_fen=principal, annual_rate=Decimal(rate_bp) / 10000, term_months=term,
                       method="equal-instalment", start=START)
    r = rate_bp / 120_000
    for k, inst in enumerate(s.instalments, start=1):
        ipmt = -float(npf.ipmt(r, k, term, principal))
        assert abs(inst.interest_fen - ipmt) <= 0.5 + ((1 + r) ** (k - 1) - 1) + 1e-6 * max(1.0, abs(ipmt))


# --------------------------------------------------------------------------------------------------
# APR / IRR and present value
# --------------------------------------------------------------------------------------------------


def test_apr_is_the_irr_of_the_flows() -> None:
    s = build_schedule(principal_fen=1_200_000, annual_rate=Decimal("0.18"), term_months=12, method="equal-instalment",
                       start=START)
    i = s.monthly_irr
    q = 1 + Fraction(i)
    npv = sum((Fraction(c) / q**t for t, c in s.flows()), Fraction(0)) - 1_200_000
    assert abs(npv) < Fraction(1, 10**12)
    assert s.apr == Decimal("0.180004")  # the last instalment is 3 fen higher than the level payment
    assert float(npf.irr([-1_200_000, *[c for _, c in s.flows()]])) == pytest.approx(float(i), rel=1e-12)
    assert s.apr_effective == ((1 + i) ** 12 - 1).quantize(Decimal("0.000001"))


def test_monthly_irr_rejects_repayments_below_the_advance() -> None:
    with pytest.raises(ValueError, match="smaller"):
        monthly_irr(advance_fen=1000, flows=[(1, 500), (2, 400)])


def test_present_value_is_exact() -> None:
    # 10000 fen in 12 months at 12 % a year (1 % a month): 10000 / 1.01^12 = 8874.49…
    assert present_value_fen(flows=[(12, 10_000)], annual_rate=Decimal("0.12")) == 8874
    assert present_value_fen(flows=[(0, 5), (1, 101)], annual_rate=Decimal("0.12")) == 105
    s = build_schedule(principal_fen=1_000_000, annual_rate=Decimal("0.06"), term_months=24, method="equal-principal",
                       start=START)
    # discounting at the contract rate returns the principal (within the rounding of the interest)
    assert abs(present_value_fen(flows=s.flows(), annual_rate=Decimal("0.06")) - 1_000_000) <= 12


def test_json_shape() -> None:
    s = build_schedule(principal_fen=1_200_000, annual_rate=Decimal("0.18"), term_months=12, method="equal-instalment",
                       start=START)
    j = s.as_json()
    assert j["total_interest"] == "1201.95"
    assert j["apr"] == "0.180004"
    first = j["instalments"][0]  # type: ignore[index]
    assert first == {"seq": 1, "due_date": "2026-02-15", "principal": "920.16", "interest": "180.00",
                     "payment": "1100.16"}
