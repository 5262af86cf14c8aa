"""Restructuring options for a customer in hardship, priced exactly in fen.

For a case with recorded hardship (reason, declared monthly income and expenses) the module builds
the options a collector can offer on the spot:

* **term extension** (延长期限): the debt is re-amortised over a longer term;
* **lower instalment** (降低月供): the shortest term whose instalment fits within a configurable
  share of the disposable income (income − expenses);
* **payment holiday** (延期还款): a few months without principal; the interest of those months is
  capitalised, spread over the later instalments, or paid as interest-only (configurable);
* **waiver** (减免) of the arrears penalty and/or the arrears interest, the rest re-amortised;
* **settlement** (一次性结清) for a lump sum, the rest waived.

Conventions
-----------
* The restructuring date is ``case.as_of``; instalment k of a new schedule is due k months later.
* Everything still owed (outstanding principal + arrears principal, interest and penalty, less any
  waiver) is rolled into the principal of the new schedule ("capitalised arrears"), which keeps
  the contract rate.
* The bank's loss is in present value at its cost of funds (monthly compounding, annual / 12):
  PV of the original contractual flows (the arrears due now plus the remaining contractual schedule)
  minus PV of the new flows. Both PVs are exact rationals rounded once to the fen. A negative loss is
  a gain (e.g. capitalised interest at a contract rate above the cost of funds).
* Expected recovery = probability of payment × PV of the option's flows, where the probability is
  a number or a callable that receives the option (the risk model's propensity to pay per
  treatment).

No Django here: the plans app stores the chosen option and its schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from fieldcollect.analytics.dates import add_months
from fieldcollect.plans.schedule import (
    Instalment,
    Method,
    Schedule,
    amortise,
    fen_to_yuan,
    level_payment_fen,
    parse_method,
    present_value_fen,
    round_half_up,
)

__all__ = [
    "ComparisonRow",
    "HardshipCase",
    "HolidayInterest",
    "OptionKind",
    "OptionNotFeasible",
    "OptionSet",
    "Probability",
    "RestructureOption",
    "RestructurePolicy",
    "best_option",
    "compare_options",
    "current_contract",
    "lower_instalment",
    "original_flows",
    "payment_holiday",
    "restructuring_options",
    "settlement",
    "term_extension",
    "waiver",
    "with_probability",
]

_SHARE_PLACES = Decimal("0.000001")


class OptionKind(StrEnum):
    CURRENT = "current"
    TERM_EXTENSION = "term_extension"
    LOWER_INSTALMENT = "lower_instalment"
    PAYMENT_HOLIDAY = "payment_holiday"
    PENALTY_WAIVER = "penalty_waiver"
    INTEREST_WAIVER = "interest_waiver"
    SETTLEMENT = "settlement"


LABELS: dict[OptionKind, tuple[str, str]] = {
    OptionKind.CURRENT: ("维持原合同", "Current contract"),
    OptionKind.TERM_EXTENSION: ("延长期限", "Term extension"),
    OptionKind.LOWER_INSTALMENT: ("降低月供", "Lower instalment"),
    OptionKind.PAYMENT_HOLIDAY: ("延期还款", "Payment holiday"),
    OptionKind.PENALTY_WAIVER: ("减免罚息", "Penalty waiver"),
    OptionKind.INTEREST_WAIVER: ("减免利息及罚息", "Interest and penalty waiver"),
    OptionKind.SETTLEMENT: ("一次性结清", "Lump-sum settlement"),
}


class HolidayInterest(StrEnum):
    """What happens to the interest of the holiday months."""

    CAPITALISE = "capitalise"  # added to the balance each month (interest on interest)
    SPREAD = "spread"  # accrued without interest, repaid evenly with the later instalments
    INTEREST_ONLY = "interest-only"  # paid monthly during the holiday (principal deferral)


class OptionNotFeasible(ValueError):
    """The option cannot be built for this case (e.g. no term fits the affordability limit)."""

    def __init__(self, kind: OptionKind, reason: str) -> None:
        super().__init__(f"{kind.value}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class HardshipCase:
    """The financial position of a customer in hardship on the restructuring date.

    Attributes
    ----------
    reason
        Recorded hardship reason (e.g. "job_loss", "illness").
    monthly_income_fen, monthly_expenses_fen
        Declared monthly income and expenses.
    outstanding_principal_fen
        Principal not yet due.
    arrears_principal_fen, arrears_interest_fen, arrears_penalty_fen
        Overdue amounts, split.
    remaining_term_months
        Instalments of the contract not yet due.
    annual_rate
        Contract rate (monthly = annual / 12).
    as_of
        Restructuring date.
    method
        Method of the current contract.
    """

    reason: str
    monthly_income_fen: int
    monthly_expenses_fen: int
    outstanding_principal_fen: int
    arrears_principal_fen: int
    arrears_interest_fen: int
    arrears_penalty_fen: int
    remaining_term_months: int
    annual_rate: Decimal
    as_of: date
    method: Method = Method.EQUAL_INSTALMENT

    def __post_init__(self) -> None:
        for name in (
            "monthly_income_fen",
            "monthly_expenses_fen",
            "outstanding_principal_fen",
            "arrears_principal_fen",
            "arrears_interest_fen",
            "arrears_penalty_fen",
            "remaining_term_months",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if not isinstance(self.annual_rate, Decimal) or not self.annual_rate.is_finite() or self.annual_rate < 0:
            raise ValueError(f"annual_rate must be a non-negative Decimal, got {self.annual_rate!r}")
        if self.total_owed_fen <= 0:
            raise ValueError("nothing is owed")
        if self.outstanding_principal_fen > 0 and self.remaining_term_months == 0:
            raise ValueError("outstanding principal needs a remaining term of at least one month")
        object.__setattr__(self, "method", parse_method(self.method))

    @property
    def disposable_income_fen(self) -> int:
        return self.monthly_income_fen - self.monthly_expenses_fen

    @property
    def arrears_fen(self) -> int:
        return self.arrears_principal_fen + self.arrears_interest_fen + self.arrears_penalty_fen

    @property
    def total_owed_fen(self) -> int:
        """Everything the customer owes today: outstanding principal plus all arrears."""
        return self.outstanding_principal_fen + self.arrears_fen


@dataclass(frozen=True)
class RestructurePolicy:
    """Configurable limits and prices of the options (the bank's policy).

    Attributes
    ----------
    affordability_share
        Largest share of disposable income an instalment may take.
    cost_of_funds
        Annual rate at which the bank discounts flows (monthly = annual / 12).
    max_term_months
        Longest new term (including a holiday) the options may propose.
    extension_months
        Default extra months of the term-extension option.
    holiday_months
        Default length of a payment holiday.
    holiday_interest
        Default treatment of the holiday's interest.
    settlement_share
        Default lump sum of a settlement, as a share of everything owed.
    """

    affordability_share: Decimal = Decimal("0.5")
    cost_of_funds: Decimal = Decimal("0.03")
    max_term_months: int = 72
    extension_months: int = 12
    holiday_months: int = 3
    holiday_interest: HolidayInterest = HolidayInterest.CAPITALISE
    settlement_share: Decimal = Decimal("0.8")

    def __post_init__(self) -> None:
        if not Decimal(0) < self.affordability_share <= 1:
            raise ValueError("affordability_share must be in (0, 1]")
        if self.cost_of_funds < 0:
            raise ValueError("cost_of_funds must not be negative")
        if self.max_term_months < 1 or self.extension_months < 1 or self.holiday_months < 1:
            raise ValueError("terms must be at least one month")
        if not Decimal(0) < self.settlement_share <= 1:
            raise ValueError("settlement_share must be in (0, 1]")
        object.__setattr__(self, "holiday_interest", HolidayInterest(self.holiday_interest))

    @classmethod
    def from_mapping(cls, data: dict[str, object]) -> RestructurePolicy:
        """Build from a dict (e.g. a TOML table); decimals may be given as strings."""
        kwargs: dict[str, object] = {}
        for key in ("affordability_share", "cost_of_funds", "settlement_share"):
            if key in data:
                kwargs[key] = Decimal(str(data[key]))
        for key in ("max_term_months", "extension_months", "holiday_months"):
            if key in data:
                kwargs[key] = int(str(data[key]))
        if "holiday_interest" in data:
            kwargs["holiday_interest"] = HolidayInterest(str(data["holiday_interest"]))
        unknown = set(data) - {*kwargs, "holiday_interest"}
        if unknown:
            raise ValueError(f"unknown policy keys: {', '.join(sorted(unknown))}")
        return cls(**kwargs)  # type: ignore[arg-type]

    def affordable_instalment_fen(self, case: HardshipCase) -> int:
        """Largest affordable instalment: floor(share × disposable income), 0 if none is disposable."""
        disposable = case.disposable_income_fen
        if disposable <= 0:
            return 0
        return int(Fraction(self.affordability_share) * disposable)


@dataclass(frozen=True)
class RestructureOption:
    """One priced option. Amounts in fen; ``probability`` and ``expected_recovery_fen`` are set once
    a probability of payment has been applied.

    Attributes
    ----------
    kind
        What kind of option.
    schedule
        The customer's new payments (for a settlement: one payment).
    new_principal_fen
        Amount the new schedule amortises (capitalised arrears included).
    waiver_fen
        Amount forgiven.
    waiver_share
        ``waiver_fen / total owed`` (6 decimals).
    term_extension_months
        Months added to the contractual end (0 if none).
    total_cost_fen
        Everything the customer pays under the option.
    original_cost_fen
        Everything the customer would pay under the current contract.
    pv_original_fen, pv_new_fen
        Present values at the bank's cost of funds.
    bank_loss_pv_fen
        ``pv_original_fen − pv_new_fen`` (negative = gain).
    affordable
        Whether the largest instalment fits the affordability limit (None for a lump sum).
    note
        Human-readable parameters of the option.
    """

    kind: OptionKind
    schedule: Schedule
    new_principal_fen: int
    waiver_fen: int
    waiver_share: Decimal
    term_extension_months: int
    total_cost_fen: int
    original_cost_fen: int
    pv_original_fen: int
    pv_new_fen: int
    bank_loss_pv_fen: int
    affordable_instalment_fen: int
    affordable: bool | None
    note: str = ""
    probability: Decimal | None = None
    expected_recovery_fen: int | None = None

    @property
    def label_zh(self) -> str:
        return LABELS[self.kind][0]

    @property
    def label_en(self) -> str:
        return LABELS[self.kind][1]

    @property
    def max_instalment_fen(self) -> int:
        return self.schedule.max_payment_fen

    @property
    def first_instalment_fen(self) -> int:
        """First non-zero payment (after any holiday)."""
        return next((i.payment_fen for i in self.schedule.instalments if i.payment_fen), 0)

    @property
    def extra_cost_fen(self) -> int:
        """What the option costs the customer beyond the current contract (negative = saving)."""
        return self.total_cost_fen - self.original_cost_fen

    @property
    def expected_loss_fen(self) -> int | None:
        """PV of the original flows minus the expected recovery."""
        if self.expected_recovery_fen is None:
            return None
        return self.pv_original_fen - self.expected_recovery_fen


Probability = Decimal | float | int | Callable[[RestructureOption], Decimal | float | int]


@dataclass(frozen=True)
class OptionSet:
    """The options built for a case, and why the others could not be offered."""

    case: HardshipCase
    policy: RestructurePolicy
    options: tuple[RestructureOption, ...]
    infeasible: tuple[tuple[OptionKind, str], ...]

    def get(self, kind: OptionKind) -> RestructureOption | None:
        return next((o for o in self.options if o.kind is kind), None)


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------


def original_flows(case: HardshipCase) -> list[tuple[int, int]]:
    """The contractual flows as ``(month offset, fen)``: arrears now, then the remaining schedule."""
    flows: list[tuple[int, int]] = []
    if case.arrears_fen:
        flows.append((0, case.arrears_fen))
    if case.outstanding_principal_fen:
        rows = amortise(
            principal_fen=case.outstanding_principal_fen,
            annual_rate=case.annual_rate,
            term_months=case.remaining_term_months,
            method=case.method,
            start=case.as_of,
        )
        flows.extend((i.period, i.payment_fen) for i in rows)
    return flows


def _share(part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(_SHARE_PLACES, rounding=ROUND_HALF_UP)


def _base_term(case: HardshipCase) -> int:
    return max(case.remaining_term_months, 1)


def _probability_value(value: Decimal | float | int) -> Decimal:
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite() or not Decimal(0) <= d <= 1:
        raise ValueError(f"probability of payment must be in [0, 1], got {value!r}")
    return d


def _price(
    *,
    kind: OptionKind,
    case: HardshipCase,
    policy: RestructurePolicy,
    schedule: Schedule,
    waiver_fen: int,
    note: str,
    probability: Probability | None,
    lump_sum: bool = False,
) -> RestructureOption:
    base_flows = original_flows(case)
    pv_original = present_value_fen(flows=base_flows, annual_rate=policy.cost_of_funds)
    pv_new = present_value_fen(flows=schedule.flows(), annual_rate=policy.cost_of_funds)
    last_period = max((i.period for i in schedule.instalments), default=0)
    cap = policy.affordable_instalment_fen(case)
    option = RestructureOption(
        kind=kind,
        schedule=schedule,
        new_principal_fen=schedule.principal_fen,
        waiver_fen=waiver_fen,
        waiver_share=_share(waiver_fen, case.total_owed_fen),
        term_extension_months=max(last_period - case.remaining_term_months, 0),
        total_cost_fen=schedule.total_payment_fen,
        original_cost_fen=sum(c for _, c in base_flows),
        pv_original_fen=pv_original,
        pv_new_fen=pv_new,
        bank_loss_pv_fen=pv_original - pv_new,
        affordable_instalment_fen=cap,
        affordable=None if lump_sum else schedule.max_payment_fen <= cap,
        note=note,
    )
    return with_probability(option, probability) if probability is not None else option


def with_probability(option: RestructureOption, probability: Probability) -> RestructureOption:
    """Attach a probability of payment and the expected recovery (p × PV of the new flows)."""
    raw = probability(option) if callable(probability) else probability
    p = _probability_value(raw)
    expected = round_half_up(Fraction(p) * option.pv_new_fen)
    return replace(option, probability=p, expected_recovery_fen=expected)


def _reamortised(
    *, case: HardshipCase, principal_fen: int, term_months: int, method: Method | str
) -> Schedule:
    rows = amortise(
        principal_fen=principal_fen,
        annual_rate=case.annual_rate,
        term_months=term_months,
        method=method,
        start=case.as_of,
    )
    return Schedule(
        principal_fen=principal_fen,
        annual_rate=case.annual_rate,
        method=parse_method(method),
        start=case.as_of,
        instalments=tuple(rows),
    )


# --------------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------------


def current_contract(
    case: HardshipCase, *, policy: RestructurePolicy | None = None, probability: Probability | None = None
) -> RestructureOption:
    """The status quo as an option (arrears due now, the rest as contracted), for comparison."""
    policy = policy or RestructurePolicy()
    rows: list[Instalment] = []
    balance = case.outstanding_principal_fen + case.arrears_principal_fen
    if case.arrears_fen:
        rows.append(
            Instalment(
                seq=0,
                due_date=case.as_of,
                opening_fen=balance,
                principal_fen=case.arrears_principal_fen,
                interest_fen=case.arrears_interest_fen + case.arrears_penalty_fen,
                payment_fen=case.arrears_fen,
                closing_fen=case.outstanding_principal_fen,
                period=0,
            )
        )
    if case.outstanding_principal_fen:
        rows.extend(
            amortise(
                principal_fen=case.outstanding_principal_fen,
                annual_rate=case.annual_rate,
                term_months=case.remaining_term_months,
                method=case.method,
                start=case.as_of,
            )
        )
    schedule = Schedule(
        principal_fen=balance,
        annual_rate=case.annual_rate,
        method=case.method,
        start=case.as_of,
        instalments=tuple(rows),
    )
    return _price(
        kind=OptionKind.CURRENT,
        case=case,
        policy=policy,
        schedule=schedule,
        waiver_fen=0,
        note="arrears due now; remaining instalments as contracted",
        probability=probability,
    )


def term_extension(
    case: HardshipCase,
    *,
    extra_months: int | None = None,
    policy: RestructurePolicy | None = None,
    probability: Probability | None = None,
) -> RestructureOption:
    """Re-amortise everything owed (equal instalments) over the remaining term plus ``extra_months``.

    Raises
    ------
    OptionNotFeasible
        If the new term would exceed ``policy.max_term_months``.
    """
    policy = policy or RestructurePolicy()
    extra = policy.extension_months if extra_months is None else extra_months
    if extra < 1:
        raise ValueError("extra_months must be at least 1")
    term = _base_term(case) + extra
    if term > policy.max_term_months:
        raise OptionNotFeasible(
            OptionKind.TERM_EXTENSION, f"new term {term} exceeds the maximum of {policy.max_term_months} months"
        )
    schedule = _reamortised(
        case=case, principal_fen=case.total_owed_fen, term_months=term, method=Method.EQUAL_INSTALMENT
    )
    return _price(
        kind=OptionKind.TERM_EXTENSION,
        case=case,
        policy=policy,
        schedule=schedule,
        waiver_fen=0,
        note=f"term {term} months (+{extra}), arrears capitalised",
        probability=probability,
    )


def lower_instalment(
    case: HardshipCase, *, policy: RestructurePolicy | None = None, probability: Probability | None = None
) -> RestructureOption:
    """The shortest term (not shorter than the remaining term) whose every instalment is affordable.

    Affordable means at most ``policy.affordability_share`` × (income − expenses). Equal instalments.

    Raises
    ------
    OptionNotFeasible
        If there is no disposable income, or even ``policy.max_term_months`` does not fit.
    """
    policy = policy or RestructurePolicy()
    kind = OptionKind.LOWER_INSTALMENT
    cap = policy.affordable_instalment_fen(case)
    if cap <= 0:
        raise OptionNotFeasible(kind, "no disposable income (declared expenses ≥ income)")
    principal = case.total_owed_fen
    low, high = _base_term(case), policy.max_term_months
    if low > high:
        raise OptionNotFeasible(kind, f"remaining term already exceeds the maximum of {high} months")
    if level_payment_fen(principal, case.annual_rate, high) > cap:
        floor_payment = fen_to_yuan(level_payment_fen(principal, case.annual_rate, high))
        raise OptionNotFeasible(
            kind, f"even {high} months needs {floor_payment} a month, above the affordable {fen_to_yuan(cap)}"
        )
    # The level payment decreases with the term: binary search for the shortest term that fits.
    while low < high:
        mid = (low + high) // 2
        if level_payment_fen(principal, case.annual_rate, mid) <= cap:
            high = mid
        else:
            low = mid + 1
    term = low
    # The last instalment may be a few fen above the level payment: step on until all fit.
    while True:
        schedule = _reamortised(case=case, principal_fen=principal, term_months=term, method=Method.EQUAL_INSTALMENT)
        if schedule.max_payment_fen <= cap:
            break
        term += 1
        if term > policy.max_term_months:
            raise OptionNotFeasible(kind, f"no term up to {policy.max_term_months} months fits {fen_to_yuan(cap)}")
    return _price(
        kind=kind,
        case=case,
        policy=policy,
        schedule=schedule,
        waiver_fen=0,
        note=f"term {term} months so that the instalment ≤ {fen_to_yuan(cap)} "
        f"({policy.affordability_share} of disposable income)",
        probability=probability,
    )


def payment_holiday(
    case: HardshipCase,
    *,
    months: int | None = None,
    interest: HolidayInterest | str | None = None,
    policy: RestructurePolicy | None = None,
    probability: Probability | None = None,
) -> RestructureOption:
    """A holiday of ``months`` months without principal, then re-amortisation over the remaining term.

    During the holiday the interest of each month (balance × monthly rate, rounded half-up) is:
    capitalised into the balance (``capitalise``), accrued without interest and repaid in equal parts
    (floor, the last takes the remainder) with the post-holiday instalments (``spread``), or paid as an
    interest-only instalment (``interest-only``). Everything owed today is the opening balance.
    """
    policy = policy or RestructurePolicy()
    kind = OptionKind.PAYMENT_HOLIDAY
    h = policy.holiday_months if months is None else months
    if h < 1:
        raise ValueError("a holiday lasts at least one month")
    mode = HolidayInterest(interest) if interest is not None else policy.holiday_interest
    term = _base_term(case)
    if h + term > policy.max_term_months:
        raise OptionNotFeasible(kind, f"holiday plus term exceeds {policy.max_term_months} months")
    r = Fraction(case.annual_rate) / 12
    balance = case.total_owed_fen
    rows: list[Instalment] = []
    deferred = 0
    for period in range(1, h + 1):
        accrued = round_half_up(balance * r)
        due = add_months(case.as_of, period)
        if mode is HolidayInterest.CAPITALISE:
            rows.append(Instalment(period, due, balance, 0, 0, 0, balance + accrued, accrued, period))
            balance += accrued
        elif mode is HolidayInterest.SPREAD:
            rows.append(Instalment(period, due, balance, 0, 0, 0, balance, 0, period))
            deferred += accrued
        else:
            rows.append(Instalment(period, due, balance, 0, accrued, accrued, balance, 0, period))
    tail = amortise(
        principal_fen=balance,
        annual_rate=case.annual_rate,
        term_months=term,
        method=Method.EQUAL_INSTALMENT,
        start=case.as_of,
        first_period=h + 1,
        first_seq=h + 1,
    )
    if deferred:
        part = deferred // term
        spread_rows = []
        for k, row in enumerate(tail):
            extra = deferred - part * (term - 1) if k == term - 1 else part
            spread_rows.append(replace(row, interest_fen=row.interest_fen + extra, payment_fen=row.payment_fen + extra))
        tail = spread_rows
    rows.extend(tail)
    schedule = Schedule(
        principal_fen=case.total_owed_fen,
        annual_rate=case.annual_rate,
        method=Method.EQUAL_INSTALMENT,
        start=case.as_of,
        instalments=tuple(rows),
    )
    return _price(
        kind=kind,
        case=case,
        policy=policy,
        schedule=schedule,
        waiver_fen=0,
        note=f"{h}-month holiday, interest {mode.value}, then {term} instalments",
        probability=probability,
    )


def waiver(
    case: HardshipCase,
    *,
    penalty_share: Decimal = Decimal(1),
    interest_share: Decimal = Decimal(0),
    term_months: int | None = None,
    policy: RestructurePolicy | None = None,
    probability: Probability | None = None,
) -> RestructureOption:
    """Waive a share of the arrears penalty and/or arrears interest; re-amortise the rest.

    Waived amounts are ``share × amount`` rounded half-up to the fen. The remainder of everything owed
    is amortised with equal instalments over ``term_months`` (default: the remaining term).
    """
    policy = policy or RestructurePolicy()
    for name, share in (("penalty_share", penalty_share), ("interest_share", interest_share)):
        if not Decimal(0) <= Decimal(share) <= 1:
            raise ValueError(f"{name} must be in [0, 1]")
    waived_penalty = round_half_up(Fraction(Decimal(penalty_share)) * case.arrears_penalty_fen)
    waived_interest = round_half_up(Fraction(Decimal(interest_share)) * case.arrears_interest_fen)
    waived = waived_penalty + waived_interest
    kind = OptionKind.INTEREST_WAIVER if interest_share > 0 else OptionKind.PENALTY_WAIVER
    if waived == 0:
        raise OptionNotFeasible(kind, "nothing to waive")
    term = _base_term(case) if term_months is None else term_months
    if term > policy.max_term_months:
        raise OptionNotFeasible(kind, f"term exceeds {policy.max_term_months} months")
    principal = case.total_owed_fen - waived
    schedule = _reamortised(case=case, principal_fen=principal, term_months=term, method=Method.EQUAL_INSTALMENT)
    return _price(
        kind=kind,
        case=case,
        policy=policy,
        schedule=schedule,
        waiver_fen=waived,
        note=f"waive {fen_to_yuan(waived_penalty)} penalty and {fen_to_yuan(waived_interest)} interest; "
        f"rest over {term} months",
        probability=probability,
    )


def settlement(
    case: HardshipCase,
    *,
    lump_sum_fen: int | None = None,
    pay_in_months: int = 0,
    policy: RestructurePolicy | None = None,
    probability: Probability | None = None,
) -> RestructureOption:
    """Settle for a lump sum paid ``pay_in_months`` months after the restructuring date; waive the rest."""
    policy = policy or RestructurePolicy()
    owed = case.total_owed_fen
    lump = round_half_up(Fraction(policy.settlement_share) * owed) if lump_sum_fen is None else lump_sum_fen
    if isinstance(lump, bool) or not isinstance(lump, int) or not 0 < lump <= owed:
        raise ValueError(f"lump sum must be between 1 fen and everything owed ({owed} fen), got {lump!r}")
    if pay_in_months < 0:
        raise ValueError("pay_in_months must not be negative")
    row = Instalment(
        seq=1,
        due_date=add_months(case.as_of, pay_in_months),
        opening_fen=lump,
        principal_fen=lump,
        interest_fen=0,
        payment_fen=lump,
        closing_fen=0,
        period=pay_in_months,
    )
    schedule = Schedule(
        principal_fen=lump,
        annual_rate=Decimal(0),
        method=Method.EQUAL_INSTALMENT,
        start=case.as_of,
        instalments=(row,),
    )
    return _price(
        kind=OptionKind.SETTLEMENT,
        case=case,
        policy=policy,
        schedule=schedule,
        waiver_fen=owed - lump,
        note=f"pay {fen_to_yuan(lump)} by {row.due_date.isoformat()}, waive {fen_to_yuan(owed - lump)}",
        probability=probability,
        lump_sum=True,
    )


def restructuring_options(
    case: HardshipCase,
    *,
    policy: RestructurePolicy | None = None,
    probability: Probability | None = None,
    include_current: bool = True,
) -> OptionSet:
    """Build every standard option for ``case`` with the policy's defaults.

    Options that cannot be built are listed in ``OptionSet.infeasible`` with the reason.
    """
    policy = policy or RestructurePolicy()
    builders: list[tuple[OptionKind, Callable[[], RestructureOption]]] = []
    if include_current:
        builders.append((OptionKind.CURRENT, lambda: current_contract(case, policy=policy, probability=probability)))
    builders += [
        (OptionKind.TERM_EXTENSION, lambda: term_extension(case, policy=policy, probability=probability)),
        (OptionKind.LOWER_INSTALMENT, lambda: lower_instalment(case, policy=policy, probability=probability)),
        (OptionKind.PAYMENT_HOLIDAY, lambda: payment_holiday(case, policy=policy, probability=probability)),
        (OptionKind.PENALTY_WAIVER, lambda: waiver(case, policy=policy, probability=probability)),
        (
            OptionKind.INTEREST_WAIVER,
            lambda: waiver(case, interest_share=Decimal(1), policy=policy, probability=probability),
        ),
        (OptionKind.SETTLEMENT, lambda: settlement(case, policy=policy, probability=probability)),
    ]
    built: list[RestructureOption] = []
    infeasible: list[tuple[OptionKind, str]] = []
    for kind, build in builders:
        try:
            built.append(build())
        except OptionNotFeasible as exc:
            infeasible.append((kind, exc.reason))
    return OptionSet(case=case, policy=policy, options=tuple(built), infeasible=tuple(infeasible))


# --------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One row of the collector's option comparison (amounts in fen)."""

    kind: OptionKind
    label_zh: str
    label_en: str
    term_months: int
    first_instalment_fen: int
    max_instalment_fen: int
    total_cost_fen: int
    extra_cost_fen: int
    waiver_fen: int
    waiver_share: Decimal
    bank_loss_pv_fen: int
    probability: Decimal | None
    expected_recovery_fen: int | None
    affordable: bool | None
    note: str

    def as_dict(self) -> dict[str, object]:
        """Amounts as yuan strings (for JSON, templates and tables)."""

        def y(v: int | None) -> str | None:
            return None if v is None else str(fen_to_yuan(v))

        return {
            "kind": self.kind.value,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "term_months": self.term_months,
            "first_instalment": y(self.first_instalment_fen),
            "max_instalment": y(self.max_instalment_fen),
            "total_cost": y(self.total_cost_fen),
            "extra_cost": y(self.extra_cost_fen),
            "waiver": y(self.waiver_fen),
            "waiver_share": str(self.waiver_share),
            "bank_loss_pv": y(self.bank_loss_pv_fen),
            "probability": None if self.probability is None else str(self.probability),
            "expected_recovery": y(self.expected_recovery_fen),
            "affordable": self.affordable,
            "note": self.note,
        }


def compare_options(options: Iterable[RestructureOption] | OptionSet) -> list[ComparisonRow]:
    """Comparison rows, best expected recovery first (options without a probability keep their order
    after those with one)."""
    items: Sequence[RestructureOption] = options.options if isinstance(options, OptionSet) else list(options)
    rows = [
        ComparisonRow(
            kind=o.kind,
            label_zh=o.label_zh,
            label_en=o.label_en,
            term_months=max((i.period for i in o.schedule.instalments), default=0),
            first_instalment_fen=o.first_instalment_fen,
            max_instalment_fen=o.max_instalment_fen,
            total_cost_fen=o.total_cost_fen,
            extra_cost_fen=o.extra_cost_fen,
            waiver_fen=o.waiver_fen,
            waiver_share=o.waiver_share,
            bank_loss_pv_fen=o.bank_loss_pv_fen,
            probability=o.probability,
            expected_recovery_fen=o.expected_recovery_fen,
            affordable=o.affordable,
            note=o.note,
        )
        for o in items
    ]
    return sorted(rows, key=lambda r: -(r.expected_recovery_fen if r.expected_recovery_fen is not None else -1))


def best_option(options: Iterable[RestructureOption] | OptionSet) -> RestructureOption | None:
    """The option with the highest expected recovery among those not known to be unaffordable."""
    items = options.options if isinstance(options, OptionSet) else tuple(options)
    candidates = [o for o in items if o.affordable is not False and o.expected_recovery_fen is not None]
    if not candidates:
        return None
    return max(candidates, key=lambda o: (o.expected_recovery_fen or 0, -o.bank_loss_pv_fen))
