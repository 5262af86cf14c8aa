"""Exact repayment schedules in integer fen (1 CNY = 100 fen).

The bank's rules, which every other module (and the demo-data generator) follows:

* monthly rate ``r = annual_rate / 12``;
* interest of a period = outstanding principal × ``r``, rounded half-up to the fen;
* equal instalment (等额本息): payment ``A = P·r·(1+r)^n / ((1+r)^n − 1)`` rounded half-up to the fen
  (``P / n`` when the rate is zero); principal of a period = ``A`` − interest;
* equal principal (等额本金): principal of a period = ``P // n`` (rounded down to the fen);
* the last instalment takes whatever principal remains, so principal sums exactly to ``P``;
* due date k = start date + k calendar months, same day of month, clamped to the month's last day
  (computed from the start date for every k, never chained from the previous due date).

All arithmetic is done with :class:`fractions.Fraction` (exact rationals), so the results are the
correctly rounded values and do not depend on any Decimal context. For an annual rate with at most
four decimals (``annual_rate = rate_bp / 10000``) the interest equals the integer formula
``(outstanding_fen * rate_bp * 2 + 120000) // 240000``.

The annualised rate (APR) is disclosed as the internal rate of return of the cash flows (the advance
against the payments at their month offsets): nominal = monthly IRR × 12, effective = (1 + IRR)^12 − 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from functools import cached_property

from fieldcollect.analytics.dates import add_months

__all__ = [
    "FEN_PER_YUAN",
    "Instalment",
    "Method",
    "Schedule",
    "amortise",
    "build_schedule",
    "fen_to_yuan",
    "level_payment_fen",
    "monthly_irr",
    "months_between",
    "parse_method",
    "period_interest_fen",
    "present_value_fen",
    "round_half_up",
    "yuan_to_fen",
]

FEN_PER_YUAN = 100
_RATE_PLACES = Decimal("0.000001")


class Method(StrEnum):
    """Amortisation method."""

    EQUAL_INSTALMENT = "equal-instalment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金


def parse_method(value: str | Method) -> Method:
    """Return the :class:`Method` for ``value`` ("equal-instalment", "equal_principal", ...).

    Raises
    ------
    ValueError
        If the value names no method.
    """
    if isinstance(value, Method):
        return value
    normalised = str(value).strip().lower().replace("_", "-")
    aliases = {"equal-installment": Method.EQUAL_INSTALMENT, "annuity": Method.EQUAL_INSTALMENT}
    try:
        return Method(normalised)
    except ValueError:
        if normalised in aliases:
            return aliases[normalised]
        raise ValueError(
            f"method must be one of {', '.join(m.value for m in Method)}; got {value!r}"
        ) from None


# --------------------------------------------------------------------------------------------------
# Money and rate helpers
# --------------------------------------------------------------------------------------------------


def round_half_up(value: Fraction) -> int:
    """Round an exact rational to the nearest integer, halves away from zero."""
    if value >= 0:
        return (value.numerator * 2 + value.denominator) // (2 * value.denominator)
    return -round_half_up(-value)


def yuan_to_fen(amount: Decimal | str | int) -> int:
    """Convert a yuan amount with at most two decimals to integer fen.

    Raises
    ------
    ValueError
        If the amount is not a finite number or has more than two decimals.
    """
    try:
        d = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip().replace(",", ""))
    except ArithmeticError:
        raise ValueError(f"not an amount: {amount!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    fen = d * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"amount has more than two decimals: {amount!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen as a Decimal yuan amount with exactly two decimals (``1234`` → ``12.34``)."""
    return (Decimal(int(fen)) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def _rate_fraction(annual_rate: Decimal | Fraction | int | str, *, name: str = "annual_rate") -> Fraction:
    try:
        if isinstance(annual_rate, Fraction):
            rate = annual_rate
        else:
            d = annual_rate if isinstance(annual_rate, Decimal) else Decimal(str(annual_rate))
            if not d.is_finite():
                raise ValueError
            rate = Fraction(d)
    except (ArithmeticError, ValueError, TypeError):
        raise ValueError(f"{name} must be a finite decimal number, got {annual_rate!r}") from None
    if rate < 0:
        raise ValueError(f"{name} must not be negative, got {annual_rate!r}")
    return rate


def period_interest_fen(outstanding_fen: int, annual_rate: Decimal | Fraction) -> int:
    """Interest of one monthly period: outstanding × annual_rate / 12, rounded half-up to the fen."""
    return round_half_up(Fraction(outstanding_fen) * _rate_fraction(annual_rate) / 12)


def level_payment_fen(principal_fen: int, annual_rate: Decimal | Fraction, term_months: int) -> int:
    """Equal-instalment payment ``P·r·(1+r)^n / ((1+r)^n − 1)`` rounded half-up to the fen (exact)."""
    if term_months < 1:
        raise ValueError("term_months must be at least 1")
    r = _rate_fraction(annual_rate) / 12
    if r == 0:
        return round_half_up(Fraction(principal_fen, term_months))
    growth = (1 + r) ** term_months
    return round_half_up(principal_fen * r * growth / (growth - 1))


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start``'s month to ``end``'s month (ignores the day)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


# --------------------------------------------------------------------------------------------------
# Schedule
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instalment:
    """One instalment of a schedule. All amounts in integer fen.

    ``closing_fen = opening_fen + capitalised_fen − principal_fen`` and
    ``payment_fen = principal_fen + interest_fen``.
    ``capitalised_fen`` is interest added to the balance instead of being paid (payment holidays).
    ``period`` is the month offset of the due date from the schedule's start (0 for a payment on the
    start date itself).
    """

    seq: int
    due_date: date
    opening_fen: int
    principal_fen: int
    interest_fen: int
    payment_fen: int
    closing_fen: int
    capitalised_fen: int = 0
    period: int = 0

    def as_json(self) -> dict[str, object]:
        """Amounts as yuan decimal strings, as the CLI and API print them."""
        return {
            "seq": self.seq,
            "due_date": self.due_date.isoformat(),
            "principal": str(fen_to_yuan(self.principal_fen)),
            "interest": str(fen_to_yuan(self.interest_fen)),
            "payment": str(fen_to_yuan(self.payment_fen)),
        }


@dataclass(frozen=True)
class Schedule:
    """A repayment schedule: the advance, its terms and the instalments (immutable).

    Attributes
    ----------
    principal_fen
        Amount advanced (or re-amortised) at ``start``.
    annual_rate
        Nominal annual contract rate (monthly rate = annual / 12).
    method
        Amortisation method of the regular instalments.
    start
        Start (disbursement or restructuring) date; due date k is ``add_months(start, k)``.
    instalments
        The instalments in order.
    """

    principal_fen: int
    annual_rate: Decimal
    method: Method
    start: date
    instalments: tuple[Instalment, ...]

    @property
    def term_months(self) -> int:
        return len(self.instalments)

    @property
    def total_principal_fen(self) -> int:
        return sum(i.principal_fen for i in self.instalments)

    @property
    def total_interest_fen(self) -> int:
        """Interest paid in instalments (capitalised interest is repaid as principal)."""
        return sum(i.interest_fen for i in self.instalments)

    @property
    def total_capitalised_fen(self) -> int:
        return sum(i.capitalised_fen for i in self.instalments)

    @property
    def total_payment_fen(self) -> int:
        """What the customer pays in total (= advance + all interest charged)."""
        return sum(i.payment_fen for i in self.instalments)

    @property
    def cost_of_credit_fen(self) -> int:
        """Total paid minus the advance: all interest, paid or capitalised."""
        return self.total_payment_fen - self.principal_fen

    @property
    def max_payment_fen(self) -> int:
        return max((i.payment_fen for i in self.instalments), default=0)

    @property
    def final_balance_fen(self) -> int:
        return self.instalments[-1].closing_fen if self.instalments else self.principal_fen

    def flows(self) -> list[tuple[int, int]]:
        """Customer payments as ``(month offset, fen)`` pairs."""
        return [(i.period, i.payment_fen) for i in self.instalments]

    @cached_property
    def monthly_irr(self) -> Decimal:
        """Monthly internal rate of return of the advance against the payments."""
        return monthly_irr(advance_fen=self.principal_fen, flows=self.flows())

    @property
    def apr(self) -> Decimal:
        """Nominal annualised rate disclosed to the customer: monthly IRR × 12 (6 decimals)."""
        return (self.monthly_irr * 12).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)

    @property
    def apr_effective(self) -> Decimal:
        """Effective annual rate: (1 + monthly IRR)^12 − 1 (6 decimals)."""
        with localcontext() as ctx:
            ctx.prec = 40
            eff = (1 + self.monthly_irr) ** 12 - 1
        return eff.quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)

    def as_json(self) -> dict[str, object]:
        """The ``plan quote --json`` shape: instalments, totals and the disclosed rates."""
        return {
            "principal": str(fen_to_yuan(self.principal_fen)),
            "annual_rate": str(self.annual_rate),
            "method": self.method.value,
            "start": self.start.isoformat(),
            "instalments": [i.as_json() for i in self.instalments],
            "total_principal": str(fen_to_yuan(self.total_principal_fen)),
            "total_interest": str(fen_to_yuan(self.total_interest_fen)),
            "total_payment": str(fen_to_yuan(self.total_payment_fen)),
            "apr": str(self.apr),
            "apr_effective": str(self.apr_effective),
        }

    def summary(self) -> str:
        return (
            f"{self.method.value} {fen_to_yuan(self.principal_fen)} CNY over {self.term_months} months "
            f"at {self.annual_rate}: total interest {fen_to_yuan(self.total_interest_fen)}, "
            f"APR {self.apr}"
        )


def _validate_common(principal_fen: int, term_months: int) -> None:
    if isinstance(principal_fen, bool) or not isinstance(principal_fen, int):
        raise ValueError(f"principal_fen must be an integer number of fen, got {principal_fen!r}")
    if principal_fen <= 0:
        raise ValueError(f"principal must be positive, got {principal_fen} fen")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise ValueError(f"term_months must be an integer, got {term_months!r}")
    if not 1 <= term_months <= 1200:
        raise ValueError(f"term_months must be between 1 and 1200, got {term_months}")


def amortise(
    *,
    principal_fen: int,
    annual_rate: Decimal | Fraction,
    term_months: int,
    method: Method | str,
    start: date,
    first_period: int = 1,
    first_seq: int = 1,
) -> list[Instalment]:
    """Instalments that amortise ``principal_fen`` over ``term_months`` months.

    The k-th instalment (k = 0, 1, ...) is due ``first_period + k`` months after ``start``.
    Used by :func:`build_schedule` and by the restructuring options (which amortise after a holiday).
    """
    m = parse_method(method)
    _validate_common(principal_fen, term_months)
    rate = _rate_fraction(annual_rate)
    r = rate / 12
    payment = level_payment_fen(principal_fen, rate, term_months) if m is Method.EQUAL_INSTALMENT else 0
    flat = principal_fen // term_months
    out: list[Instalment] = []
    outstanding = principal_fen
    for k in range(term_months):
        interest = round_half_up(outstanding * r)
        if k == term_months - 1:
            principal = outstanding
        elif m is Method.EQUAL_INSTALMENT:
            # Never repay more than is outstanding (only in degenerate tiny-principal cases).
            principal = min(max(payment - interest, 0), outstanding)
        else:
            principal = min(flat, outstanding)
        period = first_period + k
        out.append(
            Instalment(
                seq=first_seq + k,
                due_date=add_months(start, period),
                opening_fen=outstanding,
                principal_fen=principal,
                interest_fen=interest,
                payment_fen=principal + interest,
                closing_fen=outstanding - principal,
                period=period,
            )
        )
        outstanding -= principal
    return out


def build_schedule(
    *, principal_fen: int, annual_rate: Decimal, term_months: int, method: str, start: date
) -> Schedule:
    """Build the exact monthly schedule of a loan.

    Parameters
    ----------
    principal_fen
        Amount advanced, in fen (> 0).
    annual_rate
        Nominal annual rate as a Decimal fraction (``Decimal("0.18")`` for 18 %); zero allowed.
    term_months
        Number of monthly instalments (1–1200).
    method
        ``"equal-instalment"`` (等额本息) or ``"equal-principal"`` (等额本金); underscores accepted.
    start
        Start date; the first instalment is due one month later.

    Returns
    -------
    Schedule
        Instalments whose principal sums exactly to ``principal_fen``.

    Raises
    ------
    ValueError
        On a non-positive principal, a negative or non-finite rate, a bad term or method.
    """
    m = parse_method(method)
    rate = _rate_fraction(annual_rate)
    rows = amortise(principal_fen=principal_fen, annual_rate=rate, term_months=term_months, method=m, start=start)
    return Schedule(
        principal_fen=principal_fen,
        annual_rate=annual_rate if isinstance(annual_rate, Decimal) else Decimal(str(annual_rate)),
        method=m,
        start=start,
        instalments=tuple(rows),
    )


# --------------------------------------------------------------------------------------------------
# IRR and present value
# --------------------------------------------------------------------------------------------------


def monthly_irr(*, advance_fen: int, flows: Iterable[tuple[int, int]], precision: int = 40) -> Decimal:
    """Monthly internal rate of return ``i`` with ``Σ c_k / (1+i)^t_k = advance``.

    Parameters
    ----------
    advance_fen
        Amount advanced at month 0 (> 0).
    flows
        Repayments as ``(month offset ≥ 0, fen ≥ 0)`` pairs.
    precision
        Decimal digits used in the Newton iteration.

    Returns
    -------
    Decimal
        The monthly IRR, rounded to 20 decimals (0 when the repayments equal the advance).

    Raises
    ------
    ValueError
        If the repayments are smaller than the advance (no non-negative IRR) or a flow is negative.
    """
    pairs = [(int(t), int(c)) for t, c in flows if c]
    if any(c < 0 or t < 0 for t, c in pairs):
        raise ValueError("flows must be non-negative")
    total = sum(c for _, c in pairs)
    if advance_fen <= 0:
        raise ValueError("advance must be positive")
    if total < advance_fen:
        raise ValueError("repayments are smaller than the advance; the IRR would be negative")
    if total == advance_fen:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = precision
        adv = Decimal(advance_fen)
        dec_pairs = [(t, Decimal(c)) for t, c in pairs]
        i = Decimal(0)
        tolerance = Decimal(10) ** (-(precision - 8))
        # NPV(i) = Σ c/(1+i)^t − advance is convex and decreasing for i > −1: Newton's method from
        # i = 0 (where NPV ≥ 0) increases monotonically to the root.
        for _ in range(200):
            q = 1 + i
            npv = -adv
            slope = Decimal(0)
            for t, c in dec_pairs:
                disc = c / q**t
                npv += disc
                slope -= t * disc / q
            if slope == 0:
                break
            step = npv / slope
            i -= step
            if abs(step) < tolerance:
                break
        return i.quantize(Decimal(10) ** -20, rounding=ROUND_HALF_UP)


def present_value_fen(*, flows: Sequence[tuple[int, int]], annual_rate: Decimal | Fraction) -> int:
    """Present value at month 0 of ``(month offset, fen)`` flows, discounted monthly at annual_rate / 12.

    Computed exactly with rationals and rounded half-up to the fen once at the end.
    """
    q = 1 + _rate_fraction(annual_rate, name="discount rate") / 12
    by_period: dict[int, int] = {}
    for t, c in flows:
        if t < 0:
            raise ValueError("flows must not be before the valuation date")
        by_period[int(t)] = by_period.get(int(t), 0) + int(c)
    if not by_period:
        return 0
    # Horner's scheme from the last period backwards: exact and linear in the number of periods.
    last = max(by_period)
    acc = Fraction(0)
    for t in range(last, -1, -1):
        acc = acc + by_period.get(t, 0)
        if t > 0:
            acc = acc / q
    return round_half_up(acc)
